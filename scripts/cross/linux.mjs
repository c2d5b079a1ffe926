// linux-x64 and linux-arm64 prebuilds: the host g++ or Debian's cross g++ (g++-aarch64-linux-gnu)
// compiles the Linux sources binding.gyp lists, with node-gyp's Release flags, into one shared
// object, stripped with the target's own strip.
// A direct recipe rather than `node-gyp rebuild --arch`: node-gyp always builds into the package's
// build/, which the development tree and the test suite load from; this builds in a temp dir, so a
// cross build never replaces the host build.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { readTarget } from './gyp.mjs';

const TRIPLES = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu' };
const HOST_ARCH = { x64: 'x64', arm64: 'arm64' }[process.arch];

function noToolchain(message) {
  return Object.assign(new Error(message), { code: 'ENOTOOLCHAIN' });
}

/** The first directory on PATH that holds `name`, or undefined. */
export function which(name) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir !== '' && existsSync(path.join(dir, name))) return path.join(dir, name);
  }
  return undefined;
}

/** The compiler and strip for `arch`: the host's own for the host arch, else the Debian cross pair. */
export function toolchain(arch) {
  const triple = TRIPLES[arch];
  if (triple === undefined) throw new Error(`linux: no such arch ${arch}`);
  const prefixed = { cxx: which(`${triple}-g++`), strip: which(`${triple}-strip`) };
  if (prefixed.cxx && prefixed.strip) return prefixed;
  if (process.platform === 'linux' && arch === HOST_ARCH && which('g++') && which('strip')) return { cxx: which('g++'), strip: which('strip') };
  const native = process.platform === 'linux' && arch === HOST_ARCH;
  const pkg = native ? 'g++ and binutils' : arch === 'arm64' ? 'g++-aarch64-linux-gnu' : 'g++-x86-64-linux-gnu';
  throw noToolchain(`no ${triple}-g++ and ${triple}-strip${native ? ' (nor g++ and strip)' : ''} on PATH (Debian: ${pkg})`);
}

/** Node's headers (node_api.h): npm's nodedir, the running node's own include/, or Debian's. */
export function nodeHeaders() {
  const candidates = [
    process.env.npm_config_nodedir && path.join(process.env.npm_config_nodedir, 'include', 'node'),
    path.join(path.dirname(process.execPath), '..', 'include', 'node'),
    '/usr/include/node',
  ].filter(Boolean);
  const found = candidates.find((dir) => existsSync(path.join(dir, 'node_api.h')));
  if (!found) throw noToolchain(`no Node headers (node_api.h) in ${candidates.join(', ')}`);
  return path.resolve(found);
}

function exec(argv) {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'inherit', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (status) => {
      if (status === 0) resolve();
      else reject(new Error(`${path.basename(argv[0])} exited ${status}: ${argv.join(' ')}\n${stderr}`));
    });
  });
}

/** Runs `jobs` (functions returning promises), at most `width` at a time. */
async function pool(jobs, width) {
  const queue = [...jobs];
  const workers = Array.from({ length: Math.min(width, queue.length) }, async () => {
    while (queue.length > 0) await queue.shift()();
  });
  await Promise.all(workers);
}

export async function build(target, { root, out }) {
  const [os, arch] = target.split('-');
  if (os !== 'linux') throw new Error(`linux.mjs cannot build ${target}`);
  const { cxx, strip } = toolchain(arch);
  const headers = nodeHeaders();
  const gyp = readTarget(root, 'linux');

  // node-gyp's Release flags on Linux (common.gypi + what it adds), then binding.gyp's own; gyp's
  // `cflags!: ["-fno-exceptions"]` is honoured by never adding it. -Werror: a prebuild ships no
  // warning a from-source build would print.
  const defines = [
    `NODE_GYP_MODULE_NAME=${gyp.name}`, 'USING_UV_SHARED=1', 'USING_V8_SHARED=1', 'V8_DEPRECATION_WARNINGS=1',
    '_GLIBCXX_USE_CXX11_ABI=1', '_FILE_OFFSET_BITS=64', '_LARGEFILE_SOURCE', '__STDC_FORMAT_MACROS',
    ...gyp.defines, 'BUILDING_NODE_EXTENSION',
  ];
  const cflags = ['-fPIC', '-pthread', '-Wall', '-Wextra', '-Wno-unused-parameter', '-O3', '-fno-omit-frame-pointer', ...gyp.cflags];
  const cxxflags = ['-fno-rtti', '-std=gnu++17', ...gyp.cflagsCc, '-Werror'];
  const includes = [headers, ...gyp.includeDirs];

  const work = mkdtempSync(path.join(tmpdir(), `routebind-${target}-`));
  try {
    const objects = gyp.sources.map((src, i) => path.join(work, `${i}-${path.basename(src).replace(/\.\w+$/, '.o')}`));
    await pool(
      gyp.sources.map((src, i) => () =>
        exec([cxx, ...defines.map((d) => `-D${d}`), ...includes.map((d) => `-I${d}`), ...cflags, ...cxxflags, '-c', path.join(root, src), '-o', objects[i]]),
      ),
      availableParallelism(),
    );
    mkdirSync(path.dirname(out), { recursive: true });
    await exec([cxx, '-shared', '-pthread', '-rdynamic', `-Wl,-soname=${gyp.name}.node`, '-o', out, ...objects, ...gyp.libraries]);
    await exec([strip, '--strip-all', out]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return out;
}

/** Nothing to download for Linux targets: only says (ENOTOOLCHAIN) when the compiler is missing. */
export async function fetchToolchain(target) {
  toolchain(target.split('-')[1]);
  nodeHeaders();
}
