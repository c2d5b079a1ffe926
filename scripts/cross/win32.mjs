// win32-x64 builds on Linux: mingw-w64's g++ (Debian g++-mingw-w64-x86-64-posix) compiles
// binding.gyp's common and OS=='win' sources and links a DLL against an import library for the
// functions node.exe exports (Node-API from node-api-headers' def/node_api.def, plus the few
// libuv calls the change feed makes), made with dlltool. -static folds libstdc++, libgcc and
// winpthread in, so the .node needs nothing beyond Windows' own DLLs.
// node-api-headers is fetched with `npm pack` into a cache outside the repository, checked
// against the integrity pinned below; it is never a dependency of the package.
//
// `node scripts/cross/win32.mjs [--out FILE]` builds it (default out:
// prebuilds/win32-x64/routebind.node). scripts/cross/build.mjs calls build().
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.join(here, '..', '..');

export const HEADERS_VERSION = '1.8.0';
export const HEADERS_INTEGRITY = 'sha512-jfnmiKWjRAGbdD1yQS28bknFM1tbHC1oucyuMPjmkEs+kpiu76aRs40WlTmBmyEgzDM76ge1DQ7XJ3R5deiVjQ==';
const PREFIX = 'x86_64-w64-mingw32-';
const CXX = `${PREFIX}g++-posix`;

// libuv functions the addon calls (native/watch.cc); node.exe exports all of libuv's API.
export const UV_IMPORTS = [
  'uv_async_init', 'uv_async_send', 'uv_close', 'uv_err_name_r', 'uv_poll_init', 'uv_poll_start',
  'uv_poll_stop', 'uv_ref', 'uv_unref',
];

export function cacheDir() {
  return process.env.ROUTEBIND_CROSS_CACHE ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'routebind-cross');
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

function runSync(argv, options = {}) {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', ...options });
  if (r.status !== 0) {
    throw new Error(`${path.basename(argv[0])} failed (${r.error?.message ?? `exit ${r.status}`}):\n${r.stdout ?? ''}${r.stderr ?? ''}`);
  }
  return r;
}

function run(argv) {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(output);
      else reject(new Error(`${path.basename(argv[0])} exited ${code}:\n${argv.join(' ')}\n${output}`));
    });
  });
}

/** node-api-headers' def/node_api.def, fetched once into the cache and checked. */
function nodeApiDef(cache) {
  const home = path.join(cache, `node-api-headers-${HEADERS_VERSION}`);
  const def = path.join(home, 'def', 'node_api.def');
  if (existsSync(def)) return def;
  mkdirSync(cache, { recursive: true });
  const tarball = path.join(cache, `node-api-headers-${HEADERS_VERSION}.tgz`);
  if (!existsSync(tarball)) {
    runSync(['npm', 'pack', `node-api-headers@${HEADERS_VERSION}`, '--silent', '--pack-destination', cache], { cwd: cache });
  }
  const digest = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
  if (digest !== HEADERS_INTEGRITY) {
    rmSync(tarball, { force: true });
    throw new Error(`${tarball}: integrity ${digest} is not the pinned ${HEADERS_INTEGRITY}`);
  }
  const staging = `${home}.${process.pid}.tmp`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  runSync(['tar', 'xzf', tarball, '-C', staging, '--strip-components=1']);
  rmSync(home, { recursive: true, force: true });
  renameSync(staging, home);
  return def;
}

/** An import library for node.exe: Node-API and the libuv calls, in one .def. */
function importLibrary(cache) {
  const lib = path.join(cache, `libnode-delay-${HEADERS_VERSION}.a`);
  if (existsSync(lib)) return lib;
  const napi = readFileSync(nodeApiDef(cache), 'utf8')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => /^napi_\w+$|^node_api_\w+$/.test(line));
  const def = path.join(cache, `node-${HEADERS_VERSION}.def`);
  writeFileSync(def, ['LIBRARY node.exe', 'EXPORTS', ...napi, ...UV_IMPORTS, ''].join('\n'));
  const partial = `${lib}.${process.pid}.tmp`;
  // A delay-import library: native/win/delay_load_hook.cc points "node.exe" at the host process.
  runSync([`${PREFIX}dlltool`, '-d', def, '-y', partial, '-D', 'node.exe']);
  renameSync(partial, lib);
  return lib;
}

/** binding.gyp is a Python literal: JSON plus `#` comments, single quotes and trailing commas. */
function parseGyp(text) {
  return new Function(`return (${text.replace(/^\s*#.*$/gm, '')});`)();
}

/** The target's settings for OS=='win': the common lists plus the win condition's. */
function gypSettings(root) {
  const [target] = parseGyp(readFileSync(path.join(root, 'binding.gyp'), 'utf8')).targets;
  const settings = { sources: [...target.sources], defines: [...(target.defines ?? [])], cflags_cc: [...(target.cflags_cc ?? [])], libraries: [] };
  for (const [condition, then] of target.conditions ?? []) {
    if (condition.replace(/\s/g, '') !== "OS=='win'") continue;
    settings.sources.push(...(then.sources ?? []));
    settings.defines.push(...(then.defines ?? []));
    settings.libraries.push(...(then.libraries ?? []));
  }
  return settings;
}

/** Builds prebuilds/win32-x64/routebind.node (or `out`); resolves to its path. */
export async function build(target = 'win32-x64', { root = ROOT, out } = {}) {
  if (target !== 'win32-x64') throw new Error(`win32.mjs builds win32-x64, not ${target}`);
  for (const tool of [CXX, `${PREFIX}dlltool`, `${PREFIX}strip`]) {
    if (!which(tool)) throw noToolchain(`${tool} not found (Debian: apt-get install g++-mingw-w64-x86-64-posix)`);
  }
  out ??= path.join(root, 'prebuilds', target, 'routebind.node');
  const cache = cacheDir();
  const importLib = importLibrary(cache);
  const require = createRequire(path.join(root, 'package.json'));
  // Its include_dir is relative to the working directory; the package's own directory is not.
  const addonApi = path.dirname(require.resolve('node-addon-api/package.json'));
  // Node's own headers (node_api.h, uv.h with uv/win.h), from the Node running this script.
  const nodeInclude = path.join(path.dirname(process.execPath), '..', 'include', 'node');
  if (!existsSync(path.join(nodeInclude, 'uv', 'win.h'))) {
    throw noToolchain(`${nodeInclude} has no uv/win.h (Node's headers; Debian's nodejs package ships them)`);
  }

  const gyp = gypSettings(root);
  // A directory of this run's own: two builds at once (build.mjs all and the Wine test) must not
  // link each other's half-written objects.
  // Outside the tree: a pack must leave nothing but dist/ and prebuilds/ behind.
  const objects = mkdtempSync(path.join(tmpdir(), 'routebind-win32-x64-'));
  const flags = [
    '-std=c++17', '-O2', '-Wall', '-Wextra', '-Werror',
    ...gyp.cflags_cc.filter((f) => !f.startsWith('-std=') && f !== '-Wall' && f !== '-Wextra'),
    ...gyp.defines.map((d) => `-D${d}`),
    '-DNODE_GYP_MODULE_NAME=routebind', '-DBUILDING_NODE_EXTENSION',
    `-I${addonApi}`, `-I${path.join(root, 'native')}`, `-I${nodeInclude}`,
  ];
  // The delay-load hook is this recipe's own (binding.gyp's MSVC build gets node-gyp's).
  const jobs = [...gyp.sources, 'native/win/delay_load_hook.cc'].map((source) => {
    const object = path.join(objects, `${source.replace(/[\\/]/g, '_').replace(/\.cc$/, '')}.o`);
    return { source: path.join(root, source), object };
  });
  try {
    // As many compilers at once as there are cores; each file is independent.
    const queue = [...jobs];
    const workers = Array.from({ length: Math.max(1, Math.min(availableParallelism(), jobs.length)) }, async () => {
      for (let job = queue.shift(); job !== undefined; job = queue.shift()) {
        await run([CXX, ...flags, '-c', job.source, '-o', job.object]);
      }
    });
    await Promise.all(workers);

    mkdirSync(path.dirname(out), { recursive: true });
    const linked = path.join(objects, 'routebind.node');
    await run([
      CXX, '-shared', '-static', '-o', linked, ...jobs.map((j) => j.object), importLib,
      ...gyp.libraries, '-fstack-protector-strong',
    ]);
    const staged = `${out}.${process.pid}.tmp`;
    runSync([`${PREFIX}strip`, '--strip-all', '-o', staged, linked]);
    renameSync(staged, out);
    return out;
  } finally {
    rmSync(objects, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf('--out');
  try {
    const file = await build('win32-x64', { out: at === -1 ? undefined : path.resolve(process.argv[at + 1]) });
    console.log(`win32-x64: ${path.relative(process.cwd(), file) || file} ${statSync(file).size} bytes`);
  } catch (error) {
    if (error.code === 'ENOTOOLCHAIN') {
      console.error(`win32-x64: skipped: ${error.message}`);
      process.exit(3);
    }
    throw error;
  }
}
