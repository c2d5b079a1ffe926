// Runs Node's own tests for the modules routebind replaces (test-net-*, test-dgram-*,
// test-http-agent*) twice: with plain Node and with routebind swapped in (preload.cjs), and lists
// every test whose outcome differs. Node's tests are not part of this repository: point it at a
// checkout of Node's test/ directory (e.g. denoland/node_test at v20.11.1).
// usage: node scripts/node-suite/run.mjs <node-test-dir> [filter-regexp] [--jobs N]
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const jobsAt = args.indexOf('--jobs');
const jobs = jobsAt >= 0 ? Number(args.splice(jobsAt, 2)[1]) : 2;
const [testDir, filter] = args;
if (!testDir) {
  console.error('usage: node scripts/node-suite/run.mjs <node-test-dir> [filter-regexp] [--jobs N]');
  process.exit(64);
}
const parallel = path.join(path.resolve(testDir), 'parallel');
const pattern = new RegExp(filter ?? '^test-(net|dgram|http-agent).*\\.js$');
const files = readdirSync(parallel).filter((f) => pattern.test(f)).sort();

function runOne(file, preload) {
  return new Promise((resolve) => {
    const argv = [...(preload ? ['-r', path.join(here, 'preload.cjs')] : []), path.join(parallel, file)];
    // Node's tests read their flags from a `// Flags:` comment; honour it as Node's runner does.
    const child = spawn(process.execPath, argv, { cwd: parallel, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_TEST_DIR: path.resolve(testDir) } });
    let output = '';
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output });
    });
  });
}

import { readFileSync } from 'node:fs';
function flagsOf(file) {
  const m = /^\/\/ Flags: (.*)$/m.exec(readFileSync(path.join(parallel, file), 'utf8'));
  return m ? m[1].trim().split(/\s+/) : [];
}

const results = [];
let index = 0;
async function worker() {
  while (index < files.length) {
    const file = files[index++];
    const flags = flagsOf(file);
    const wrap = (preload) => new Promise((resolve) => {
      const argv = [...flags, ...(preload ? ['-r', path.join(here, 'preload.cjs')] : []), path.join(parallel, file)];
      const child = spawn(process.execPath, argv, { cwd: parallel, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (d) => { output += d; });
      child.stderr.on('data', (d) => { output += d; });
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.on('close', (code, signal) => { clearTimeout(timer); resolve({ code, signal, output }); });
    });
    const plain = await wrap(false);
    const routed = await wrap(true);
    results.push({ file, plain, routed });
    const mark = plain.code === 0 && routed.code !== 0 ? 'DIFF' : plain.code !== 0 ? 'skip' : 'ok';
    process.stderr.write(`${mark.padEnd(4)} ${file}\n`);
  }
}
void runOne;
await Promise.all(Array.from({ length: jobs }, worker));
const differ = results.filter((r) => r.plain.code === 0 && r.routed.code !== 0).sort((a, b) => a.file.localeCompare(b.file));
const plainFail = results.filter((r) => r.plain.code !== 0);
for (const r of differ) {
  console.log(`\n=== ${r.file} (routebind exit ${r.routed.code ?? r.routed.signal})`);
  console.log(r.routed.output.split('\n').slice(0, 25).join('\n'));
}
console.log(`\n${results.length} tests: ${results.length - differ.length - plainFail.length} pass with routebind, ${differ.length} pass with plain Node only, ${plainFail.length} fail with plain Node too (not counted)`);
if (differ.length) console.log(`differ: ${differ.map((r) => r.file).join(' ')}`);
process.exit(differ.length ? 1 : 0);
