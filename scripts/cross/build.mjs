// `node scripts/cross/build.mjs <target>[,<target>…]|all [--prebuilds DIR] [--fetch-only]`: builds the addon
// for a target into prebuilds/<target>/routebind.node (stripped) and prints its size. Each OS's
// recipe lives in its own module (linux.mjs, win32.mjs, darwin.mjs) exporting
// build(target, { root, out }) and, when it downloads a pinned tool, fetchToolchain(target) (what
// --fetch-only runs, so a later build works offline). A missing module or compiler is a skip
// (exit 3, one line saying why), not a failure.
import { closeSync, existsSync, mkdtempSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.join(here, '..', '..');
export const TARGETS = ['linux-x64', 'linux-arm64', 'win32-x64', 'darwin-x64', 'darwin-arm64'];
export const EXIT_NO_TOOLCHAIN = 3;

/** What the file's header says it is: { format: 'elf' | 'pe' | 'macho', arch }, or undefined. */
export function binaryKind(file) {
  const fd = openSync(file, 'r');
  const head = Buffer.alloc(4096);
  const n = readSync(fd, head, 0, head.length, 0);
  closeSync(fd);
  if (n >= 20 && head.readUInt32BE(0) === 0x7f454c46) {
    const machine = head.readUInt16LE(18);
    return { format: 'elf', arch: { 0x3e: 'x64', 0xb7: 'arm64' }[machine] ?? `e_machine ${machine}` };
  }
  if (n >= 0x40 && head.toString('latin1', 0, 2) === 'MZ') {
    const pe = head.readUInt32LE(0x3c);
    if (pe + 6 <= n && head.readUInt32BE(pe) === 0x50450000) {
      const machine = head.readUInt16LE(pe + 4);
      return { format: 'pe', arch: { 0x8664: 'x64', 0xaa64: 'arm64' }[machine] ?? `machine ${machine}` };
    }
  }
  if (n >= 8 && head.readUInt32LE(0) === 0xfeedfacf) {
    const cpu = head.readUInt32LE(4);
    return { format: 'macho', arch: { 0x01000007: 'x64', 0x0100000c: 'arm64' }[cpu] ?? `cputype ${cpu}` };
  }
  return undefined;
}

const FORMAT = { linux: 'elf', win32: 'pe', darwin: 'macho' };

/**
 * Builds one target. Resolves to { target, status: 'built', file, size, seconds } or
 * { target, status: 'skipped', reason }; rejects when the toolchain is there but the build fails.
 */
export async function buildTarget(target, { root = ROOT, prebuilds = path.join(root, 'prebuilds') } = {}) {
  if (!TARGETS.includes(target)) throw new Error(`unknown target ${target} (one of ${TARGETS.join(', ')})`);
  const os = target.split('-')[0];
  const modulePath = path.join(here, `${os}.mjs`);
  if (!existsSync(modulePath)) return { target, status: 'skipped', reason: `scripts/cross/${os}.mjs is not written yet` };
  const { build } = await import(pathToFileURL(modulePath).href);
  const out = path.join(prebuilds, target, 'routebind.node');
  const started = process.hrtime.bigint();
  let file;
  try {
    file = await build(target, { root, out });
  } catch (error) {
    if (error && error.code === 'ENOTOOLCHAIN') return { target, status: 'skipped', reason: error.message };
    throw error;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  // A recipe that quietly used the host compiler would ship the wrong binary under the right name.
  const kind = binaryKind(file);
  const [, arch] = target.split('-');
  if (kind === undefined || kind.format !== FORMAT[os] || kind.arch !== arch) {
    throw new Error(`${target}: ${file} is ${kind ? `${kind.format} ${kind.arch}` : 'not a known binary format'}, not ${FORMAT[os]} ${arch}`);
  }
  return { target, status: 'built', file, size: statSync(file).size, seconds };
}

/**
 * Lets a module fetch what it downloads (a pinned compiler, headers) while the network is there,
 * so a later build can run offline: calls its optional fetchToolchain(target), or else builds once
 * into a scratch directory. Resolves to a skip reason or undefined.
 */
export async function fetchToolchain(target) {
  const os = target.split('-')[0];
  const modulePath = path.join(here, `${os}.mjs`);
  if (!existsSync(modulePath)) return `scripts/cross/${os}.mjs is not written yet`;
  const module = await import(pathToFileURL(modulePath).href);
  try {
    if (typeof module.fetchToolchain === 'function') await module.fetchToolchain(target);
    else {
      // A module without the hook fetches inside build(): build once into a scratch dir.
      const scratch = mkdtempSync(path.join(tmpdir(), `routebind-fetch-${target}-`));
      try {
        await module.build(target, { root: ROOT, out: path.join(scratch, target, 'routebind.node') });
      } finally {
        rmSync(scratch, { recursive: true, force: true });
      }
    }
  } catch (error) {
    if (error && error.code === 'ENOTOOLCHAIN') return error.message;
    throw error;
  }
  return undefined;
}

export function describeResult(r, root = ROOT) {
  if (r.status === 'skipped') return `${r.target}: skipped: ${r.reason}`;
  const rel = path.relative(root, r.file);
  const shown = rel.startsWith('..') ? r.file : rel;
  return `${r.target}: ${shown} ${r.size} bytes (${(r.size / 1024).toFixed(1)} KiB), built in ${r.seconds.toFixed(1)} s`;
}

async function main(argv) {
  const args = [...argv];
  let prebuilds;
  const at = args.indexOf('--prebuilds');
  if (at !== -1) {
    prebuilds = path.resolve(args[at + 1]);
    args.splice(at, 2);
  }
  const fetchOnly = args.includes('--fetch-only');
  if (fetchOnly) args.splice(args.indexOf('--fetch-only'), 1);
  const [which] = args;
  const targets = which === 'all' ? TARGETS : (which ?? '').split(',').filter((t) => t !== '');
  if (targets.length === 0 || targets.some((t) => !TARGETS.includes(t))) {
    console.error(`usage: node scripts/cross/build.mjs <target>[,<target>…]|all [--prebuilds DIR] [--fetch-only]  (targets: ${TARGETS.join(', ')})`);
    return 2;
  }
  let failed = 0;
  let skipped = 0;
  for (const target of targets) {
    try {
      if (fetchOnly) {
        const reason = await fetchToolchain(target);
        console.log(reason ? `${target}: skipped: ${reason}` : `${target}: toolchain ready`);
        if (reason) skipped += 1;
        continue;
      }
      const r = await buildTarget(target, { prebuilds });
      console.log(describeResult(r));
      if (r.status === 'skipped') skipped += 1;
    } catch (error) {
      console.error(`${target}: failed: ${error.message}`);
      failed += 1;
    }
  }
  if (failed > 0) return 1;
  // `all` is "whatever this machine can"; naming targets asks for each of them.
  return which !== 'all' && skipped > 0 ? EXIT_NO_TOOLCHAIN : 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
