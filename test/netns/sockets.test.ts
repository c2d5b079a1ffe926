// The weak end-system failure reproduced with plain Node and fixed with routebind, for TCP and
// UDP over IPv4 and IPv6, in a real two-uplink host whose routers drop spoofed sources.
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildTwoUplinkHost, hasNft, lineReader, namespaceSupport, type Topology } from './topology';

interface Outcome {
  ok: boolean;
  seen?: string;
  timedOut?: boolean;
  error?: { name: string; code?: string; errno?: number; syscall?: string; message: string; address?: string; interface?: unknown; errors?: string[] };
  events?: string[];
  elapsed: number;
  describe?: { source: string; interface?: string; ifindex?: number; pinned: string | null; destination?: string; pinError?: string };
  local?: string;
}

const unsupported = namespaceSupport() ?? (hasNft() ? undefined : 'nftables (`nft`) is needed for the IPv6 anti-spoofing routers');
const PORT = 7000;

describe.skipIf(unsupported !== undefined)(`strong end-system sockets in namespaces${unsupported ? ` (skipped: ${unsupported})` : ''}`, () => {
  let t: Topology;
  const run = (scenarios: object[], uid?: number) => t.node<Outcome[]>(t.host, 'sockets.cjs', scenarios, { uid, timeoutMs: 60_000 });
  const far = (family: 4 | 6) => (family === 4 ? t.farV4 : t.farV6);

  beforeAll(async () => {
    t = buildTwoUplinkHost({ policyRules: false });
    const server = t.spawn(t.far, [process.execPath, 'test/netns/fixtures/far-server.cjs', JSON.stringify({ addresses: [t.farV4, t.farV6], port: PORT })]);
    const [chunk] = await once(server.stdout!, 'data');
    expect(String(chunk)).toContain('ready');
  });
  afterAll(() => t?.destroy());

  for (const family of [4, 6] as const) {
    const addr = (uplink: 'ethA' | 'ethB') => (family === 4 ? t[uplink].v4 : t[uplink].v6);

    it(`IPv${family} TCP: plain net.connect from ethB's address is dropped; routebind.connect arrives from it`, () => {
      const [plain, fixed] = run([
        { api: 'node', options: { host: far(family), port: PORT, localAddress: addr('ethB') }, timeoutMs: 1500 },
        { api: 'routebind', options: { host: far(family), port: PORT, localAddress: addr('ethB') } },
      ]);
      expect(plain.ok).toBe(false);
      expect(plain.timedOut).toBe(true); // router A's reverse-path filter ate the SYN
      expect(fixed, JSON.stringify(fixed.error)).toMatchObject({ ok: true, seen: addr('ethB') });
      expect(fixed.describe).toMatchObject({ source: addr('ethB'), interface: 'ethB', pinned: 'SO_BINDTODEVICE', destination: far(family) });
      expect(fixed.events).toEqual(['connect', 'ready', 'end', 'close']);
    });

    it(`IPv${family} TCP: no options → ethA's address; interface ethB → ethB's address`, () => {
      const [plain, viaB, byIndex] = run([
        { api: 'routebind', options: { host: far(family), port: PORT } },
        { api: 'routebind', options: { host: far(family), port: PORT, interface: 'ethB' } },
        { api: 'routebind', options: { host: far(family), port: PORT, interface: 'ethA', pin: false } },
      ]);
      expect(plain).toMatchObject({ ok: true, seen: addr('ethA'), describe: { interface: 'ethA', pinned: 'SO_BINDTODEVICE' } });
      expect(viaB).toMatchObject({ ok: true, seen: addr('ethB'), describe: { interface: 'ethB', source: addr('ethB') } });
      expect(byIndex).toMatchObject({ ok: true, seen: addr('ethA'), describe: { pinned: null } });
    });

    it(`IPv${family} UDP: plain dgram bound to ethB's address gets no answer; routebind's does`, () => {
      const type = family === 4 ? 'udp4' : 'udp6';
      const [plain, bound, connected, viaInterface] = run([
        { kind: 'udp', api: 'node', socketOptions: { type }, bind: { address: addr('ethB') }, host: far(family), port: PORT, timeoutMs: 1500 },
        { kind: 'udp', api: 'routebind', socketOptions: { type }, bind: { address: addr('ethB') }, host: far(family), port: PORT },
        { kind: 'udp', api: 'routebind', socketOptions: { type }, connect: true, host: far(family), port: PORT },
        { kind: 'udp', api: 'routebind', socketOptions: { type, interface: 'ethB' }, connect: true, host: far(family), port: PORT },
      ]);
      expect(plain).toMatchObject({ ok: false, timedOut: true });
      expect(bound).toMatchObject({ ok: true, seen: addr('ethB'), describe: { interface: 'ethB', pinned: 'SO_BINDTODEVICE' } });
      expect(connected).toMatchObject({ ok: true, seen: addr('ethA'), local: addr('ethA') });
      expect(viaInterface).toMatchObject({ ok: true, seen: addr('ethB'), describe: { interface: 'ethB' } });
    });
  }

  it('fails at once with the contract\'s errors instead of timing out', () => {
    const results = run([
      { api: 'routebind', options: { host: t.farV4, port: PORT, localAddress: '198.18.9.9' } },
      { api: 'routebind', options: { host: t.farV4, port: PORT, interface: 'nosuch0' } },
      { api: 'routebind', options: { host: t.farV4, port: PORT, interface: 'lo' } },
      { api: 'routebind', options: { host: t.farV4, port: PORT, interface: 'ethA', localAddress: t.ethB.v4 } },
      { api: 'routebind', options: { host: '198.19.66.1', port: PORT } },
      { api: 'routebind', options: { host: t.farV6, port: PORT, localAddress: t.ethB.v4 } },
      { kind: 'udp', api: 'routebind', socketOptions: { type: 'udp4' }, bind: { address: '198.18.9.9', port: 0 }, host: t.farV4, port: PORT },
      { kind: 'udp', api: 'routebind', socketOptions: { type: 'udp4', interface: 'nosuch0' }, connect: true, host: t.farV4, port: PORT },
    ]);
    const codes = results.map((r) => r.error?.code);
    expect(codes).toEqual(['EADDRNOTAVAIL', 'ENODEV', 'ENETUNREACH', 'EADDRNOTAVAIL', 'EHOSTUNREACH', 'EINVAL', 'EADDRNOTAVAIL', 'ENODEV']);
    for (const r of results) {
      expect(r.ok).toBe(false);
      expect(r.elapsed).toBeLessThan(100);
      expect(r.error?.errno).toBeLessThan(0);
      expect(typeof r.error?.syscall).toBe('string');
    }
    expect(results[2].error?.message).toContain('lo');
    expect(results[3].error?.message).toMatch(/ethB.*ethA|ethA.*ethB/);
    expect(results[0].events).toEqual(['error', 'close']);
  });

  it('names the interface and the address when no route leaves through the address\'s interface', () => {
    t.exec(t.host, ['ip', 'route', 'del', 'default', 'via', t.ethB.gateway4, 'dev', 'ethB']);
    t.exec(t.host, ['ip', '-6', 'route', 'del', 'default', 'via', t.ethB.gateway6, 'dev', 'ethB']);
    try {
      const [v4, v6, udpBound] = run([
        { api: 'routebind', options: { host: t.farV4, port: PORT, localAddress: t.ethB.v4 } },
        { api: 'routebind', options: { host: t.farV6, port: PORT, localAddress: t.ethB.v6 } },
        { kind: 'udp', api: 'routebind', socketOptions: { type: 'udp4' }, bind: { address: t.ethB.v4 }, connect: true, host: t.farV4, port: PORT },
      ]);
      expect(udpBound.error).toMatchObject({ code: 'ENETUNREACH', interface: 'ethB' });
      for (const [r, address, destination] of [[v4, t.ethB.v4, t.farV4], [v6, t.ethB.v6, t.farV6]] as const) {
        // Node's shape for a failed connect: `address` is the destination; the source is in the message.
        expect(r.error).toMatchObject({ code: 'ENETUNREACH', syscall: 'connect', interface: 'ethB', address: destination });
        expect(r.error?.message.startsWith(`connect ENETUNREACH ${destination}:${PORT}`)).toBe(true);
        expect(r.error?.message).toContain('ethB');
        expect(r.error?.message).toContain(address);
        expect(r.elapsed).toBeLessThan(100);
      }
    } finally {
      t.exec(t.host, ['ip', 'route', 'add', 'default', 'via', t.ethB.gateway4, 'dev', 'ethB', 'metric', '200']);
      t.exec(t.host, ['ip', '-6', 'route', 'add', 'default', 'via', t.ethB.gateway6, 'dev', 'ethB', 'metric', '200']);
    }
  });

  it('happy eyeballs: an unreachable IPv6 address and a reachable IPv4 one connect over IPv4, events as Node\'s', () => {
    const lookupTable = { 'far.test': [['fd00:66::1', 6], [t.farV4, 4]] };
    const [node, routed, pinned] = run([
      { api: 'node', options: { host: 'far.test', port: PORT }, lookupTable },
      { api: 'routebind', options: { host: 'far.test', port: PORT }, lookupTable },
      { api: 'routebind', options: { host: 'far.test', port: PORT, interface: 'ethB' }, lookupTable: { 'far.test': [[t.farV6, 6], [t.farV4, 4]] } },
    ]);
    expect(node).toMatchObject({ ok: true, seen: t.ethA.v4 });
    expect(routed).toMatchObject({ ok: true, seen: t.ethA.v4, describe: { interface: 'ethA', destination: t.farV4 } });
    expect(routed.events).toEqual(node.events);
    expect(pinned).toMatchObject({ ok: true, seen: t.ethB.v6, describe: { interface: 'ethB' } });
  });

  it('a hostname connect carries writes made before it connected', () => {
    const [r] = run([{ api: 'routebind', options: { host: 'far.test', port: PORT, interface: 'ethB' }, lookupTable: { 'far.test': [[t.farV4, 4]] }, write: 'early' }]);
    expect(r).toMatchObject({ ok: true, seen: t.ethB.v4 });
    expect(r.events).toEqual(['lookup', 'connect', 'ready', 'end', 'close']);
  });

  it('pins without privileges: the fixed cases once more as uid 65534', () => {
    const scenarios: object[] = [];
    const expected: string[] = [];
    for (const family of [4, 6] as const) {
      const b = family === 4 ? t.ethB.v4 : t.ethB.v6;
      const a = family === 4 ? t.ethA.v4 : t.ethA.v6;
      const type = family === 4 ? 'udp4' : 'udp6';
      scenarios.push(
        { api: 'routebind', options: { host: far(family), port: PORT, localAddress: b } },
        { api: 'routebind', options: { host: far(family), port: PORT } },
        { api: 'routebind', options: { host: far(family), port: PORT, interface: 'ethB' } },
        { kind: 'udp', api: 'routebind', socketOptions: { type }, bind: { address: b }, host: far(family), port: PORT },
        { kind: 'udp', api: 'routebind', socketOptions: { type, interface: 'ethB' }, connect: true, host: far(family), port: PORT },
      );
      expected.push(b, a, b, b, b);
    }
    const results = run(scenarios, 65534);
    expect(results.map((r) => r.seen)).toEqual(expected);
    for (const r of results) expect(r.describe?.pinned).toBe('SO_BINDTODEVICE');
  });

  it('a service address on lo: clients send from it out of the routed uplink, a UDP server answers from it', async () => {
    const vip = '198.18.77.1';
    t.exec(t.host, ['ip', 'addr', 'add', `${vip}/32`, 'dev', 'lo']);
    t.exec(t.routerA, ['ip', 'route', 'add', `${vip}/32`, 'via', t.ethA.v4]);
    t.exec(t.far, ['ip', 'route', 'add', `${vip}/32`, 'via', '198.18.3.1']);
    const server = t.spawn(t.host, [process.execPath, '-e', `
      const rb = require('./dist/index.js');
      const udp = rb.createSocket('udp4');
      udp.on('message', (m, r) => udp.send('from-vip', r.port, r.address));
      udp.bind({ port: 7300, address: '${vip}' }, () => console.log(JSON.stringify(rb.describe(udp))));`]);
    try {
      const [described] = await once(server.stdout!, 'data');
      expect(JSON.parse(String(described))).toMatchObject({ source: vip, interface: 'lo', pinned: null });
      const [client] = run([{ api: 'routebind', options: { host: t.farV4, port: PORT, localAddress: vip } }]);
      expect(client).toMatchObject({ ok: true, seen: vip, describe: { interface: 'ethA', source: vip, pinned: 'SO_BINDTODEVICE' } });
      const [reply] = t.node<Outcome[]>(t.far, 'sockets.cjs', [{ kind: 'udp', api: 'node', socketOptions: { type: 'udp4' }, connect: true, host: vip, port: 7300 }]);
      expect(reply).toMatchObject({ ok: true, seen: 'from-vip' }); // a connected client drops replies from any other address
    } finally {
      server.kill();
      t.run(t.far, ['ip', 'route', 'del', `${vip}/32`]);
      t.run(t.routerA, ['ip', 'route', 'del', `${vip}/32`]);
      t.run(t.host, ['ip', 'addr', 'del', `${vip}/32`, 'dev', 'lo']);
    }
  });

  it('mark sets SO_MARK and routes by the same fwmark rule the packets match', () => {
    t.exec(t.host, ['ip', 'route', 'add', 'default', 'via', t.ethB.gateway4, 'dev', 'ethB', 'table', '142']);
    t.exec(t.host, ['ip', 'rule', 'add', 'fwmark', '0x42', 'lookup', '142', 'pref', '900']);
    try {
      const [marked, plain] = run([
        { api: 'routebind', options: { host: t.farV4, port: PORT, mark: 0x42 } },
        { api: 'routebind', options: { host: t.farV4, port: PORT, mark: 0x43 } },
      ]);
      expect(marked).toMatchObject({ ok: true, seen: t.ethB.v4, describe: { interface: 'ethB' } });
      expect(plain).toMatchObject({ ok: true, seen: t.ethA.v4, describe: { interface: 'ethA' } });
    } finally {
      t.run(t.host, ['ip', 'rule', 'del', 'pref', '900']);
      t.run(t.host, ['ip', 'route', 'flush', 'table', '142']);
    }
  });

  it('a server and a UDP socket pinned to ethB receive nothing sent to them through ethA', async () => {
    const server = t.spawn(t.host, [process.execPath, 'test/netns/fixtures/pinned-server.cjs', JSON.stringify({ interface: 'ethB', tcpPort: 7100, udpPort: 7101 })]);
    const { lines, waitFor } = lineReader<Record<string, any>>(server, JSON.parse);
    await waitFor((l) => l.ready === true);
    expect(lines[0]).toMatchObject({ tcp: { interface: 'ethB', pinned: 'SO_BINDTODEVICE' }, udp: { interface: 'ethB', pinned: 'SO_BINDTODEVICE' } });
    const results = t.node<Outcome[]>(t.far, 'sockets.cjs', [
      { api: 'node', options: { host: t.ethA.v4, port: 7100 }, timeoutMs: 1000 },
      { api: 'node', options: { host: t.ethA.v6, port: 7100 }, timeoutMs: 1000 },
      { kind: 'udp', api: 'node', socketOptions: { type: 'udp4' }, host: t.ethA.v4, port: 7101, timeoutMs: 1000 },
      { kind: 'udp', api: 'node', socketOptions: { type: 'udp6' }, host: t.ethA.v6, port: 7101, timeoutMs: 1000 },
      { api: 'node', options: { host: t.ethB.v4, port: 7100 } },
      { api: 'node', options: { host: t.ethB.v6, port: 7100 } },
      { kind: 'udp', api: 'node', socketOptions: { type: 'udp4' }, host: t.ethB.v4, port: 7101 },
      { kind: 'udp', api: 'node', socketOptions: { type: 'udp6' }, host: t.ethB.v6, port: 7101 },
    ]);
    await new Promise((resolve) => setTimeout(resolve, 200)); // let the server's log lines arrive
    for (const r of results.slice(0, 4)) expect(r.ok, JSON.stringify(r)).toBe(false);
    expect(results[4]).toMatchObject({ ok: true, seen: `::ffff:${t.ethB.v4}` });
    expect(results[5]).toMatchObject({ ok: true, seen: t.ethB.v6 });
    expect(results[6].ok).toBe(true);
    expect(results[7].ok).toBe(true);
    const received = lines.filter((l) => l.kind);
    expect(received.map((l) => `${l.kind} ${l.to ?? ''}`.trim()).sort()).toEqual([`tcp ::ffff:${t.ethB.v4}`, `tcp ${t.ethB.v6}`, 'udp', 'udp']);
    server.kill();
  });

  it('routes and connects an IPv6 link-local destination through its zone', async () => {
    const linkLocal = (ns: string, dev: string): string =>
      JSON.parse(t.exec(ns, ['ip', '-j', '-6', 'addr', 'show', 'dev', dev, 'scope', 'link']))[0].addr_info.find((a: { local?: string }) => a.local).local;
    const routerLinkLocal = linkLocal(t.routerB, 'down0');
    const hostLinkLocal = linkLocal(t.host, 'ethB');
    const server = t.spawn(t.routerB, [process.execPath, 'test/netns/fixtures/far-server.cjs', JSON.stringify({ addresses: [`${routerLinkLocal}%down0`], port: 7200 })]);
    await once(server.stdout!, 'data');
    const [r] = run([{ api: 'routebind', options: { host: `${routerLinkLocal}%ethB`, port: 7200 } }]);
    expect(r).toMatchObject({ ok: true, describe: { interface: 'ethB', pinned: 'SO_BINDTODEVICE' } });
    expect(r.seen?.split('%')[0]).toBe(hostLinkLocal);
    server.kill();
  });

  it('1,000 failing connects of every kind leave the fd count unchanged', () => {
    const r = t.node<{ before: number; after: number; codes: Record<string, Record<string, number>> }>(t.host, 'fd-churn.cjs', { far: t.farV4, refusedPort: 1, rounds: 1000 }, { timeoutMs: 60_000 });
    expect(r.codes).toEqual({
      'refused': { ECONNREFUSED: 200 },
      'unavailable': { EADDRNOTAVAIL: 200 },
      'no-route': { EHOSTUNREACH: 200 },
      'refused-by-name': { ECONNREFUSED: 200 },
      'destroyed-mid-lookup': { none: 200 },
    });
    expect(r.after).toBe(r.before);
  });
});
