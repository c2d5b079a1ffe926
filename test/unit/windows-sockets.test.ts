// routebind's Windows socket path (lib/strong-host.ts), run on this Linux machine: process.platform
// is 'win32' in the child (fixtures/as-platform.cjs), so routebind makes no socket in the addon
// and lets Node bind the routed source itself (localAddress, dgram bind address), as it must on
// Windows; the route lookups are this machine's. GetIpInterfaceEntry is replaced by the settings
// each case names. What Windows itself does with such a socket (strong host sends) only the
// Windows CI job can show.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

import { describeOn, onLinux } from '../helpers/platform';

const ROOT = path.join(__dirname, '..', '..');
const PRELOAD = path.join(__dirname, 'fixtures', 'as-platform.cjs');
const SCRIPT = path.join(__dirname, 'fixtures', 'windows-sockets.cjs');

type Described = { source: string; interface: string; pinned: string | null; pinError: string | null; destination: string | null };
type Tcp = { connected?: true; localAddress?: string; seen?: string; described?: Described; error?: { code: string; syscall: string; message: string }; lookups: unknown[] };
interface Out {
  literal: Tcp; localAddress: Tcp; name: Tcp; strict: Tcp; unpinned: Tcp;
  listen: { address: string; described: Described };
  udpSend: { address: string; described: Described };
  udpBind: { address: string; described: Described };
  friendlyName: string;
  cache: { size: number; maxEntries: number };
  cacheAfterLookups: { size: number; maxEntries: number };
  cacheOptedIn: { size: number; maxEntries: number; sameAnswer: boolean };
}

function run(weakHostSend: 'off' | 'on' | 'unreadable'): Out {
  const r = spawnSync(process.execPath, ['-r', PRELOAD, SCRIPT], {
    cwd: ROOT,
    env: { ...process.env, ROUTEBIND_TEST_PLATFORM: 'win32', WEAK_HOST_SEND: weakHostSend },
    encoding: 'utf8',
    timeout: 30_000,
  });
  expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
  return JSON.parse(r.stdout) as Out;
}

const held = (destination: string | null) => ({ source: '127.0.0.1', interface: 'lo', pinned: 'strong-host', pinError: null, destination });

// The simulation answers lookups with the Linux addon (its loopback is 'lo'); on Windows itself
// test/windows/windows.test.ts runs the real path.
const LINUX_SIMULATION = "simulates Windows over the Linux addon; on Windows test/windows runs the real path";

describeOn(onLinux, LINUX_SIMULATION)('WeakHostSend off (the Windows default): the strong host model holds each socket', () => {
  let out: Out;
  beforeAll(() => {
    out = run('off');
  });

  it.each(['literal', 'localAddress', 'name'] as const)('connect (%s): Node binds the routed source, the far end sees it, describe() says strong-host', (scenario) => {
    expect(out[scenario]).toMatchObject({ connected: true, localAddress: '127.0.0.1', seen: '127.0.0.1', described: held('127.0.0.1') });
  });

  it("connect to a name resolves it first and emits Node's 'lookup'", () => {
    expect(out.name.lookups).toEqual([[null, '127.0.0.1', 4, 'localhost']]);
    expect(out.literal.lookups).toEqual([]);
  });

  it('strict: true connects (nothing to refuse), pin: false reports nothing applied', () => {
    expect(out.strict).toMatchObject({ connected: true, described: held('127.0.0.1') });
    expect(out.unpinned).toMatchObject({ connected: true, localAddress: '127.0.0.1', described: { pinned: null, pinError: null } });
  });

  it("listen({ interface }) and bind({ interface }) bind one of that interface's addresses", () => {
    expect(out.listen).toEqual({ address: '127.0.0.1', described: held(null) });
    expect(out.udpBind).toEqual({ address: '127.0.0.1', described: held(null) });
  });

  it("a UDP send's implicit bind takes the routed source", () => {
    expect(out.udpSend).toEqual({ address: '127.0.0.1', described: held('127.0.0.1') });
  });

  it('takes friendly interface names with spaces as names (ENODEV here), not as bad arguments', () => {
    expect(out.friendlyName).toBe('ENODEV');
  });

  it('keeps the route cache off by default, and keeps answers once a program opts in', () => {
    expect(out.cache).toEqual({ size: 0, maxEntries: 0 });
    expect(out.cacheAfterLookups).toEqual({ size: 0, maxEntries: 0 });
    expect(out.cacheOptedIn).toEqual({ size: 1, maxEntries: 64, sameAnswer: true });
  });
});

describe.skipIf(!onLinux).each([
  ['on', 'WeakHostSend'],
  ['unreadable', 'ENOSYS'],
] as const)(`WeakHostSend %s: nothing holds the socket, and describe() says why${onLinux ? '' : ` — skipped on ${process.platform}: ${LINUX_SIMULATION}`}`, (mode, reason) => {
  let out: Out;
  beforeAll(() => {
    out = run(mode);
  });

  it('connects, bound to the routed source, with pinned null and the reason', () => {
    for (const scenario of ['literal', 'localAddress', 'name'] as const) {
      expect(out[scenario]).toMatchObject({ connected: true, seen: '127.0.0.1', described: { source: '127.0.0.1', interface: 'lo', pinned: null, pinError: reason } });
    }
    expect(out.listen.described).toMatchObject({ pinned: null, pinError: reason });
    expect(out.udpSend.described).toMatchObject({ pinned: null, pinError: reason });
  });

  it('strict: true fails the connect with ENOTSUP, saying why (and the netsh fix where it applies)', () => {
    expect(out.strict.connected).toBeUndefined();
    expect(out.strict.error).toMatchObject({ code: 'ENOTSUP', syscall: 'bind' });
    expect(out.strict.error!.message).toContain(mode === 'on'
      ? 'lo has WeakHostSend on, so Windows may send from 127.0.0.1 through another interface (netsh interface ipv4 set interface "lo" weakhostsend=disabled)'
      : 'whether lo sends weak-host cannot be read here');
  });
});
