// Options an OS does not have (macOS and Windows: mark, uid, iif, tos, protocol, sourcePort,
// destinationPort) are refused with ERR_ROUTEBIND_UNSUPPORTED_OPTION, naming the option and the
// OS, before any call into the addon. Run in child processes whose process.platform is
// redefined (fixtures/as-platform.cjs); the addon they load is this machine's Linux build, and
// every one of its functions is wrapped to record calls, so the test sees that none was made.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

import { itOn, loopbackName, onLinux } from '../helpers/platform';

const ROOT = path.join(__dirname, '..', '..');
const PRELOAD = path.join(__dirname, 'fixtures', 'as-platform.cjs');

const SCRIPT = `
const binding = require(${JSON.stringify(path.join(ROOT, 'dist', 'binding.js'))});
const native = binding.native();
const called = [];
for (const key of Object.keys(native)) {
  const value = native[key];
  if (typeof value !== 'function' || /^[A-Z]/.test(key)) continue;
  native[key] = function (...args) { called.push(key); return value.apply(this, args); };
}
const routebind = require(${JSON.stringify(path.join(ROOT, 'dist', 'index.js'))});
const refused = {
  'routeTo mark': () => routebind.routeTo('192.0.2.1', { mark: 1 }),
  'routeTo uid': () => routebind.routeTo('192.0.2.1', { uid: 0 }),
  'routeTo iif': () => routebind.routeTo('192.0.2.1', { iif: 'lo' }),
  'routeTo tos': () => routebind.routeTo('192.0.2.1', { tos: 16 }),
  'routeTo protocol': () => routebind.routeTo('192.0.2.1', { protocol: 'udp' }),
  'routeTo sourcePort': () => routebind.routeTo('192.0.2.1', { sourcePort: 5000 }),
  'routeTo destinationPort': () => routebind.routeTo('192.0.2.1', { destinationPort: 53 }),
  // Refused before its value is judged: the option does not exist, whatever it holds.
  'routeTo mark (bad value)': () => routebind.routeTo('192.0.2.1', { mark: 'x' }),
  'connect mark': () => routebind.connect({ host: '127.0.0.1', port: 9, mark: 7 }),
  'connect mark (name)': () => routebind.connect({ host: 'localhost', port: 9, mark: 7 }),
  'createSocket mark': () => routebind.createSocket({ type: 'udp4', mark: 7 }),
  'createServer mark': () => routebind.createServer({ mark: 7 }),
  'Agent mark': () => new routebind.Agent({ mark: 7 }),
  'HttpsAgent mark': () => new routebind.HttpsAgent({ mark: 7 }),
  'connector mark': () => routebind.connector({ mark: 7 }),
};
const out = { refused: {}, calledBefore: [], accepted: {} };
for (const [name, call] of Object.entries(refused)) {
  try {
    call();
    out.refused[name] = { threw: false };
  } catch (e) {
    out.refused[name] = { code: e.code, option: e.option, platform: e.platform, message: e.message, type: e.constructor.name };
  }
}
out.calledBefore = called.splice(0);
// What every OS has still reaches the addon (this machine's: its loopback's name).
try {
  const route = routebind.routeTo('127.0.0.1', { from: '127.0.0.1', interface: ${JSON.stringify(loopbackName)}, cache: false });
  out.accepted.routeTo = { interface: route.interface, source: route.source, called: called.includes('routeGet') };
} catch (e) {
  out.accepted.routeTo = { error: e.code, message: e.message };
}
out.accepted.cacheMaxEntries = routebind.routeCacheStats().maxEntries;
console.log(JSON.stringify(out));
`;

const CASES: Array<[string, string]> = [
  ['routeTo mark', 'options.mark'],
  ['routeTo uid', 'options.uid'],
  ['routeTo iif', 'options.iif'],
  ['routeTo tos', 'options.tos'],
  ['routeTo protocol', 'options.protocol'],
  ['routeTo sourcePort', 'options.sourcePort'],
  ['routeTo destinationPort', 'options.destinationPort'],
  ['routeTo mark (bad value)', 'options.mark'],
  ['connect mark', 'options.mark'],
  ['connect mark (name)', 'options.mark'],
  ['createSocket mark', 'options.mark'],
  ['createServer mark', 'options.mark'],
  ['Agent mark', 'options.mark'],
  ['HttpsAgent mark', 'options.mark'],
  ['connector mark', 'options.mark'],
];

describe.each(['darwin', 'win32'])('on %s', (platform) => {
  let out: {
    refused: Record<string, { code?: string; option?: string; platform?: string; message?: string; type?: string; threw?: false }>;
    calledBefore: string[];
    accepted: { routeTo: { interface?: string; source?: string; called: boolean }; cacheMaxEntries: number };
  };

  beforeAll(() => {
    const r = spawnSync(process.execPath, ['-r', PRELOAD, '-e', SCRIPT], {
      cwd: ROOT,
      env: { ...process.env, ROUTEBIND_TEST_PLATFORM: platform },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    out = JSON.parse(r.stdout);
  });

  it.each(CASES)('%s: ERR_ROUTEBIND_UNSUPPORTED_OPTION naming %s and the OS', (name, option) => {
    const key = option.slice('options.'.length);
    expect(out.refused[name]).toMatchObject({ code: 'ERR_ROUTEBIND_UNSUPPORTED_OPTION', option, platform, type: 'TypeError' });
    expect(out.refused[name].message).toMatch(new RegExp(`^The option '${option}' does not exist on ${platform}: routebind offers it on linux only \\(`));
    expect(key.length).toBeGreaterThan(0);
  });

  it('refuses all of them before any call into the addon', () => {
    expect(out.calledBefore).toEqual([]);
  });

  // The refusals above are JavaScript alone; a lookup is the addon's, and one OS's lib/ over
  // another's addon (Windows' over macOS', say) is no combination anybody runs. Linux's addon
  // answers the same whoever asks, which is why the simulation runs there.
  itOn(onLinux || platform === process.platform, `simulating ${platform} over the ${process.platform} addon is no real combination`)('still takes what the OS has (from, interface) and asks the addon', () => {
    expect(out.accepted.routeTo).toEqual({ interface: loopbackName, source: '127.0.0.1', called: true });
  });

  it(`keeps the route cache ${platform === 'win32' ? 'off' : 'on'} by default`, () => {
    // Windows cannot tell with one call whether a change was announced (coherence.ts).
    expect(out.accepted.cacheMaxEntries).toBe(platform === 'win32' ? 0 : 4096);
  });
});
