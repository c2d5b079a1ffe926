// routebind on an OS it has no backend for (FreeBSD, AIX, ...): the package loads without its
// addon, and every call says ERR_ROUTEBIND_UNSUPPORTED_PLATFORM, naming the OS and the ones that
// are supported. Run for real in child processes whose process.platform is redefined before
// dist/ is required (fixtures/as-platform.cjs), from a copy of the package with no binary at all.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { DIR_LINK } from '../helpers/platform';

const ROOT = path.join(__dirname, '..', '..');
const PRELOAD = path.join(__dirname, 'fixtures', 'as-platform.cjs');

let project: string;
let bare: string;

beforeAll(() => {
  project = mkdtempSync(path.join(tmpdir(), 'routebind-unsupported-'));
  // The package as an OS without a backend installs it: dist/ and package.json, no prebuilds/
  // and no build/ (scripts/install.cjs builds nothing there).
  bare = path.join(project, 'node_modules', 'routebind');
  mkdirSync(bare, { recursive: true });
  for (const entry of ['package.json', 'dist']) cpSync(path.join(ROOT, entry), path.join(bare, entry), { recursive: true });
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(bare, 'node_modules'), DIR_LINK);
  writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
});

afterAll(() => {
  rmSync(project, { recursive: true, force: true });
});

function asPlatform(platform: string, argv: string[]): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, ['-r', PRELOAD, ...argv], {
    cwd: project,
    env: { ...process.env, ROUTEBIND_TEST_PLATFORM: platform },
    encoding: 'utf8',
    timeout: 30_000,
  });
}

// Each public function called as a program would; what it threw (nothing may be emitted later:
// the script waits a moment and reports any 'error' event too).
const SCRIPT = `
const routebind = require('routebind');
const calls = {
  routeTo: () => routebind.routeTo('192.0.2.1'),
  routeToInvalid: () => routebind.routeTo(42),
  routes: () => routebind.routes(),
  interfaces: () => routebind.interfaces(),
  watch: () => routebind.watch(),
  RouteWatcher: () => new routebind.RouteWatcher(),
  connect: () => routebind.connect({ host: '192.0.2.1', port: 80 }),
  connectName: () => routebind.connect(80, 'localhost'),
  createConnection: () => routebind.createConnection({ host: '192.0.2.1', port: 80 }),
  createSocket: () => routebind.createSocket('udp4'),
  createServer: () => routebind.createServer(),
  Agent: () => new routebind.Agent(),
  HttpsAgent: () => new routebind.HttpsAgent(),
  connector: () => routebind.connector(),
  doctor: () => routebind.doctor(),
};
const out = { exports: Object.keys(routebind).sort(), supportedPlatforms: routebind.supportedPlatforms, results: {}, emitted: [] };
for (const [name, call] of Object.entries(calls)) {
  try {
    const value = call();
    if (value && typeof value.on === 'function') value.on('error', (e) => out.emitted.push([name, e.code]));
    out.results[name] = { returned: typeof value };
  } catch (e) {
    out.results[name] = { code: e.code, platform: e.platform, message: e.message, isError: e instanceof Error };
  }
}
out.describe = routebind.describe({});
setTimeout(() => {
  out.dlopened = globalThis.__dlopened;
  console.log(JSON.stringify(out));
}, 50);
`;

describe.each(['freebsd', 'aix', 'openbsd'])('on %s', (platform) => {
  let out: {
    exports: string[];
    supportedPlatforms: string[];
    results: Record<string, { code?: string; platform?: string; message?: string; isError?: boolean; returned?: string }>;
    emitted: unknown[];
    describe: unknown;
    dlopened: string[];
  };

  beforeAll(() => {
    const r = asPlatform(platform, ['-e', SCRIPT]);
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    out = JSON.parse(r.stdout);
  });

  it('loads the package, with every export, without loading any native addon', () => {
    expect(out.dlopened).toEqual([]);
    expect(out.exports).toEqual(expect.arrayContaining(['routeTo', 'routes', 'interfaces', 'connect', 'createSocket', 'createServer', 'watch', 'Agent', 'HttpsAgent', 'connector', 'doctor', 'describe', 'supportedPlatforms', 'optionPlatforms']));
    expect(out.supportedPlatforms).toEqual(['linux', 'darwin', 'win32']);
    // describe() asks nothing of the OS: an object routebind did not make has no description.
    expect(out.describe).toBeUndefined();
  });

  it.each([
    'routeTo', 'routeToInvalid', 'routes', 'interfaces', 'watch', 'RouteWatcher', 'connect', 'connectName', 'createConnection',
    'createSocket', 'createServer', 'Agent', 'HttpsAgent', 'connector', 'doctor',
  ])('%s throws ERR_ROUTEBIND_UNSUPPORTED_PLATFORM naming the OS and the supported ones', (name) => {
    const result = out.results[name];
    expect(result).toMatchObject({ code: 'ERR_ROUTEBIND_UNSUPPORTED_PLATFORM', platform, isError: true });
    expect(result.message).toBe(
      `routebind does not support ${platform}: it has native backends for linux, darwin and win32 only, and asks nothing of this OS (no route lookup, interface list or socket)`,
    );
  });

  it('emits nothing afterwards', () => {
    expect(out.emitted).toEqual([]);
  });

  it('makes the CLI say so in one line and exit 1, and still answer --help and --version', () => {
    const r = asPlatform(platform, [path.join(bare, 'dist', 'cli.js'), 'get', '192.0.2.1']);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`routebind get: routebind does not support ${platform}: it has native backends for linux, darwin and win32 only, and asks nothing of this OS (no route lookup, interface list or socket) (ERR_ROUTEBIND_UNSUPPORTED_PLATFORM)\n`);
    for (const command of ['interfaces', 'routes', 'doctor']) {
      const c = asPlatform(platform, [path.join(bare, 'dist', 'cli.js'), command]);
      expect({ command, status: c.status, stderr: c.stderr }).toMatchObject({ status: 1, stderr: expect.stringContaining('(ERR_ROUTEBIND_UNSUPPORTED_PLATFORM)') });
    }
    const help = asPlatform(platform, [path.join(bare, 'dist', 'cli.js'), '--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('routebind');
    const version = asPlatform(platform, [path.join(bare, 'dist', 'cli.js'), '--version']);
    expect(version.status).toBe(0);
    expect(version.stdout).toMatch(/^routebind \d+\.\d+\.\d+/);
  });
});

describe('on a supported OS', () => {
  it('a missing addon is still ERR_ROUTEBIND_ADDON at require time, not an unsupported platform', () => {
    const r = asPlatform('linux', ['-e', "try { require('routebind'); console.log('loaded'); } catch (e) { console.log(e.code); }"]);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe('ERR_ROUTEBIND_ADDON');
  });
});
