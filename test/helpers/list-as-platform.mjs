// Which unit tests run, and which are skipped and why, on another OS, worked out on this Linux
// machine: vitest collects test/unit with process.platform redefined in its test workers
// (as-platform.config.mts, test/unit/fixtures/as-platform.cjs). Collection only, no test body runs
// (they would meet this machine's Linux addon): `vitest list` names the tests that would run, and a
// run whose name filter matches nothing names every test, the skipped ones with their reason.
//
// usage: node test/helpers/list-as-platform.mjs <linux|darwin|win32> [test files...]
// Prints one line per file (runs / skipped / total) and each skipped test's name, then the totals.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const [platform, ...files] = process.argv.slice(2);
if (!['linux', 'darwin', 'win32'].includes(platform)) {
  console.error('usage: node test/helpers/list-as-platform.mjs <linux|darwin|win32> [test files...]');
  process.exit(64);
}
const targets = files.length > 0 ? files : ['test/unit'];
const vitest = path.join(root, 'node_modules', 'vitest', 'vitest.mjs');
const config = path.join(root, 'test', 'helpers', 'as-platform.config.mts');
const env = { ...process.env, ROUTEBIND_TEST_PLATFORM: platform, VITE_CONFIG_NATIVE_IGNORE_WARNING: 'true' };
const out = mkdtempSync(path.join(tmpdir(), 'routebind-list-'));

function vitestRun(args, file) {
  const r = spawnSync(process.execPath, [vitest, ...args, '--config', config, ...targets], { cwd: root, env, encoding: 'utf8', timeout: 600_000 });
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    console.error(`vitest ${args[0]} wrote no JSON (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
    process.exit(1);
  }
}

try {
  // The tests that would run there.
  const runs = new Set(vitestRun(['list', `--json=${path.join(out, 'list.json')}`], path.join(out, 'list.json')).map((t) => `${t.file}\0${t.name}`));
  // Every test, by its name there (a skipped one carries its reason); none runs: nothing matches.
  const all = vitestRun(['run', '--reporter=json', `--outputFile=${path.join(out, 'all.json')}`, '--testNamePattern', '^ no test is named this $', '--passWithNoTests'], path.join(out, 'all.json'));
  let total = 0;
  let running = 0;
  const errors = [];
  for (const file of all.testResults.sort((a, b) => a.name.localeCompare(b.name))) {
    if (file.status === 'failed' && file.assertionResults.length === 0) errors.push(`${path.relative(root, file.name)}: ${file.message}`);
    const tests = file.assertionResults.map((t) => [...t.ancestorTitles, t.title].join(' > '));
    const skipped = tests.filter((name) => !runs.has(`${file.name}\0${name}`));
    total += tests.length;
    running += tests.length - skipped.length;
    console.log(`${path.relative(root, file.name)}: runs ${tests.length - skipped.length}, skipped ${skipped.length}, of ${tests.length}`);
    for (const name of skipped) console.log(`  skipped: ${name}`);
  }
  console.log(`as ${platform}: ${running} run, ${total - running} skipped, of ${total}`);
  for (const e of errors) console.log(`COLLECTION ERROR ${e}`);
  process.exit(errors.length > 0 ? 1 : 0);
} finally {
  rmSync(out, { recursive: true, force: true });
}
