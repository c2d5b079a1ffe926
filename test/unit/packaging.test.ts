// What `npm publish` would ship: the prebuild made by `npm run prebuild`, the tarball's file list,
// and an install of that tarball into a fresh project that must load the prebuild, not compile.
// Works on a staged copy of the package: prebuildify runs `node-gyp rebuild`, which would
// otherwise delete the working tree's build/ while other test files load the addon from it.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.join(__dirname, '..', '..');
const PLATFORM = `${process.platform}-${process.arch}`;
const NAME = 'routebind';

/** Left out of the staged copy: VCS state, installed and built things, local leftovers. */
const NOT_STAGED = new Set(['.git', 'node_modules', 'build', 'prebuilds', '.vitest-results.json']);

// Any attempt to reach the network from prebuild or pack (a header download, a registry fetch)
// goes to a closed loopback port and fails loudly instead of quietly depending on the network.
const NO_NETWORK = {
  npm_config_proxy: 'http://127.0.0.1:9',
  npm_config_https_proxy: 'http://127.0.0.1:9',
  HTTP_PROXY: 'http://127.0.0.1:9',
  HTTPS_PROXY: 'http://127.0.0.1:9',
  http_proxy: 'http://127.0.0.1:9',
  https_proxy: 'http://127.0.0.1:9',
};

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, ...extra };
  if (extra.PREBUILDS_ONLY === undefined) delete e.PREBUILDS_ONLY;
  // node-gyp finds Node's headers offline only through nodedir (npm config or this variable).
  if (!e.npm_config_nodedir && existsSync('/usr/include/node/node.h')) e.npm_config_nodedir = '/usr';
  return e;
}

function run(argv: string[], cwd: string, childEnv: NodeJS.ProcessEnv): SpawnSyncReturns<string> {
  return spawnSync(argv[0], argv.slice(1), { cwd, env: childEnv, encoding: 'utf8', timeout: 110_000, maxBuffer: 64 * 1024 * 1024 });
}

function mustRun(argv: string[], cwd: string, childEnv: NodeJS.ProcessEnv): string {
  const r = run(argv, cwd, childEnv);
  expect({ argv: argv.join(' '), status: r.status, signal: r.signal, stdout: r.stdout.slice(-4000), stderr: r.stderr.slice(-4000) }).toMatchObject({ status: 0 });
  return r.stdout;
}

interface PackResult {
  filename: string;
  files: { path: string }[];
}

/** `npm pack --json` prints an array; lifecycle banners may precede it on stdout. */
function parsePackAll(stdout: string): PackResult[] {
  const start = stdout.search(/^\[/m);
  return JSON.parse(stdout.slice(start)) as PackResult[];
}

function parsePack(stdout: string): PackResult {
  return parsePackAll(stdout)[0];
}

let work: string;
let staged: string;
let consumer: string;
let packed: PackResult;
let tarball: string;
let dryRunFiles: string[];
let install: SpawnSyncReturns<string>;

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'routebind-pack-'));
  staged = path.join(work, NAME);
  cpSync(ROOT, staged, {
    recursive: true,
    filter: (source) => {
      const rel = path.relative(ROOT, source);
      return !NOT_STAGED.has(rel.split(path.sep)[0]) && !rel.endsWith('.tgz');
    },
  });
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(staged, 'node_modules'), 'dir');

  // Through npm, as the brief for this package's scripts says: npm hands node-gyp its nodedir.
  mustRun(['npm', 'run', 'prebuild'], staged, env(NO_NETWORK));

  // The real pack runs `prepare` (tsc), exactly as publishing would.
  const out = path.join(work, 'out');
  mkdirSync(out);
  packed = parsePack(mustRun(['npm', 'pack', '--json', '--pack-destination', out], staged, env(NO_NETWORK)));
  tarball = path.join(out, packed.filename);
  dryRunFiles = parsePack(mustRun(['npm', 'pack', '--dry-run', '--json', '--ignore-scripts'], staged, env(NO_NETWORK))).files.map((f) => f.path);

  consumer = path.join(work, 'consumer');
  mkdirSync(consumer);
  // npm ≥ 11.? runs a dependency's install script only when the project allows it; older npm
  // ignores the field. The install script must run, and must find the prebuild.
  writeFileSync(
    path.join(consumer, 'package.json'),
    JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, allowScripts: { [NAME]: true } }, null, 2),
  );
  // The runtime dependencies come as tarballs packed from this checkout's node_modules (the
  // versions the lockfile pins), and the install runs with an empty npm cache and no network:
  // nothing may depend on what a cache happens to hold (`npm ci` stores tarballs but not the
  // registry metadata an offline install of a registry range would need).
  const pkg = JSON.parse(readFileSync(path.join(staged, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  const deps = Object.keys(pkg.dependencies).map((name) => path.join(ROOT, 'node_modules', name));
  const depTarballs = parsePackAll(mustRun(['npm', 'pack', '--json', '--pack-destination', out, ...deps], work, env(NO_NETWORK))).map((r) => path.join(out, r.filename));
  const emptyCache = path.join(work, 'npm-cache');
  install = run(
    ['npm', 'install', tarball, ...depTarballs, '--offline', '--ignore-scripts=false', '--foreground-scripts', '--no-audit', '--no-fund'],
    consumer,
    env({ ...NO_NETWORK, npm_config_cache: emptyCache }),
  );
}, 240_000);

afterAll(() => {
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

describe('npm run prebuild', () => {
  it(`makes prebuilds/${PLATFORM}/${NAME}.node without network access`, () => {
    expect(readdirSync(path.join(staged, 'prebuilds', PLATFORM))).toEqual([`${NAME}.node`]);
  });
});

describe('the tarball', () => {
  it('contains the compiled JS and types, the prebuild and the sources for a build from source', () => {
    for (const file of ['package.json', 'dist/index.js', 'dist/index.d.ts', 'dist/route.js', 'dist/binding.js', 'binding.gyp', `prebuilds/${PLATFORM}/${NAME}.node`]) {
      expect(dryRunFiles).toContain(file);
    }
    expect(dryRunFiles.filter((f) => /^native\/[^/]+\.cc$/.test(f)).length).toBeGreaterThan(0);
    // The real pack (after `prepare`) ships the same files as the dry run.
    expect(packed.files.map((f) => f.path).sort()).toEqual([...dryRunFiles].sort());
  });

  it('contains every source binding.gyp compiles and every header they include', () => {
    const gyp = readFileSync(path.join(staged, 'binding.gyp'), 'utf8');
    const sources = [...gyp.matchAll(/"(native\/[^"]+\.(?:cc|cpp|c|mm))"/g)].map((m) => m[1]);
    expect(sources.length).toBeGreaterThan(0);
    const headers = new Set<string>();
    for (const file of dryRunFiles.filter((f) => f.startsWith('native/'))) {
      const text = readFileSync(path.join(staged, file), 'utf8');
      for (const m of text.matchAll(/^#include "([^"]+)"/gm)) headers.add(path.posix.join('native', m[1]));
    }
    for (const file of [...sources, ...headers]) expect(dryRunFiles).toContain(file);
  });

  it('contains the files package.json points at', () => {
    const pkg = JSON.parse(readFileSync(path.join(staged, 'package.json'), 'utf8'));
    const targets = [pkg.main, pkg.types, pkg.exports['.'].types, pkg.exports['.'].default].map((p: string) => path.posix.normalize(p));
    for (const file of targets) expect(dryRunFiles).toContain(file);
  });

  const noCli = !existsSync(path.join(ROOT, 'lib', 'cli.ts'));
  it.skipIf(noCli)(`contains the bin script${noCli ? ' (skipped: lib/cli.ts is not written yet)' : ''}`, () => {
    const pkg = JSON.parse(readFileSync(path.join(staged, 'package.json'), 'utf8'));
    for (const file of Object.values(pkg.bin as Record<string, string>)) expect(dryRunFiles).toContain(path.posix.normalize(file));
  });

  it('contains nothing from test/, bench/, lib/ sources or build output', () => {
    expect(dryRunFiles.filter((f) => /^(test|bench|build|scripts|\.ci)\//.test(f))).toEqual([]);
    expect(dryRunFiles.filter((f) => f.startsWith('lib/'))).toEqual([]);
    expect(dryRunFiles.filter((f) => f.endsWith('.tgz'))).toEqual([]);
  });
});

describe('npm install <tarball> in a fresh project', () => {
  const installed = () => path.join(consumer, 'node_modules', NAME);

  it('succeeds with no network and an empty npm cache', () => {
    expect({ status: install.status, stderr: install.stderr.slice(-4000) }).toMatchObject({ status: 0 });
  });

  it('runs the install script, which finds the prebuild instead of compiling', () => {
    expect(install.stdout).toMatch(new RegExp(`> ${NAME}@[^ ]+ install\\n> node-gyp-build`));
    expect(install.stdout + install.stderr).not.toMatch(/gyp info|node-gyp rebuild|CXX\(target\)/);
    expect(existsSync(path.join(installed(), 'build'))).toBe(false);
    expect(readdirSync(path.join(installed(), 'prebuilds', PLATFORM)).filter((f) => f.endsWith('.node'))).toEqual([`${NAME}.node`]);
  });

  it('installs only the runtime dependencies', () => {
    const deps = readdirSync(path.join(consumer, 'node_modules')).filter((d) => !d.startsWith('.')).sort();
    expect(deps).toEqual(['node-addon-api', 'node-gyp-build', NAME]);
  });

  it('loads the prebuild with PREBUILDS_ONLY=1', () => {
    const script = "const r = require('routebind').routeTo('127.0.0.1'); console.log(JSON.stringify([r.interface, r.source]));";
    const out = mustRun([process.execPath, '-e', script], consumer, env({ PREBUILDS_ONLY: '1' }));
    expect(JSON.parse(out)).toEqual(['lo', '127.0.0.1']);
  });
});
