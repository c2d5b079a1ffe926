// Servers on a multi-homed host: a plain wildcard TCP listener never completes the handshake of a
// client that reached uplink B's address (the SYN-ACK leaves through A, whose router drops it as
// spoofed); routebind's per-address listen answers every client from the address it asked,
// through the interface that owns it. Both families, in a real two-uplink host.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildTwoUplinkHost, hasNft, lineReader, namespaceSupport, type Topology } from './topology';

interface Attempt {
  address: string;
  reply?: string;
  error?: string;
  local?: string;
  ms: number;
}

const unsupported = namespaceSupport() ?? (hasNft() ? undefined : 'nftables (`nft`) is needed for the IPv6 anti-spoofing routers');

// Service addresses (VIPs) on the host's lo, reached from the far side through router A.
const VIP4 = '198.18.9.9';
const VIP6 = 'fd00:9::9';

describe.skipIf(unsupported !== undefined)(`per-address TCP servers in namespaces${unsupported ? ` (skipped: ${unsupported})` : ''}`, () => {
  let t: Topology;
  let nextPort = 7300;
  const port = () => nextPort++;
  const clients = (targets: string[], p: number, timeoutMs = 3000) =>
    t.node<Attempt[]>(t.far, 'server-clients.cjs', { targets, port: p, timeoutMs }, { timeoutMs: timeoutMs + 10_000 });

  async function startServer(input: object) {
    const child = t.spawn(t.host, [process.execPath, 'test/netns/fixtures/server-echo.cjs', JSON.stringify(input)]);
    const reader = lineReader<Record<string, any>>(child, JSON.parse);
    const ready = await reader.waitFor((l) => l.ready === true || l.error !== undefined, 10_000);
    return { child, ...reader, ready };
  }

  beforeAll(() => {
    t = buildTwoUplinkHost({ policyRules: false });
    t.exec(t.host, ['ip', 'addr', 'add', `${VIP4}/32`, 'dev', 'lo']);
    t.exec(t.host, ['ip', 'addr', 'add', `${VIP6}/128`, 'dev', 'lo']);
    t.exec(t.routerA, ['ip', 'route', 'add', `${VIP4}/32`, 'via', t.ethA.v4]);
    t.exec(t.routerA, ['ip', '-6', 'route', 'add', `${VIP6}/128`, 'via', t.ethA.v6]);
    t.exec(t.far, ['ip', 'route', 'add', `${VIP4}/32`, 'via', '198.18.3.1']);
    t.exec(t.far, ['ip', '-6', 'route', 'add', `${VIP6}/128`, 'via', 'fd00:3::1']);
  });
  afterAll(() => t?.destroy());

  it("plain net.createServer().listen(port): a client through uplink B never completes the handshake (IPv4 and IPv6)", async () => {
    const p = port();
    const server = await startServer({ kind: 'plain', port: p });
    expect(server.ready.address).toMatchObject({ address: '::', family: 'IPv6', port: p });
    const [b4, b6, a4, a6] = clients([t.ethB.v4, t.ethB.v6, t.ethA.v4, t.ethA.v6], p, 1500);
    expect(b4).toMatchObject({ error: 'timeout' });
    expect(b6).toMatchObject({ error: 'timeout' });
    // Through A the reply's route and the client's path agree: answered.
    expect(a4.reply).toBe(`::ffff:${t.ethA.v4}`);
    expect(a6.reply).toBe(t.ethA.v6);
    server.child.kill();
  });

  it("routebind: clients asking A's, B's and a service address on lo, both families, at once: each answered from what it asked", async () => {
    const p = port();
    const server = await startServer({ kind: 'routebind', port: p });
    expect(server.ready.address).toEqual({ address: '::', family: 'IPv6', port: p });
    expect(server.ready.described).toMatchObject({ answers: 'address-asked' });
    const per = server.ready.described.perAddress as Array<{ address: string; interface: string; pinned: string | null }>;
    expect(per).toEqual(expect.arrayContaining([
      expect.objectContaining({ address: t.ethB.v4, interface: 'ethB', pinned: 'SO_BINDTODEVICE' }),
      expect.objectContaining({ address: t.ethB.v6, interface: 'ethB', pinned: 'SO_BINDTODEVICE' }),
      expect.objectContaining({ address: t.ethA.v4, interface: 'ethA', pinned: 'SO_BINDTODEVICE' }),
      expect.objectContaining({ address: VIP4, interface: 'lo', pinned: null }),
      expect.objectContaining({ address: VIP6, interface: 'lo', pinned: null }),
    ]));
    const targets = [t.ethA.v4, t.ethA.v6, t.ethB.v4, t.ethB.v6, VIP4, VIP6];
    const results = clients(targets, p);
    for (const [i, r] of results.entries()) {
      expect(r.error, JSON.stringify(r)).toBeUndefined();
      expect(r.reply).toBe(targets[i].includes(':') ? targets[i] : `::ffff:${targets[i]}`);
    }
    await new Promise((r) => setTimeout(r, 200));
    const seen = server.lines.filter((l) => l.from !== undefined);
    // The server sees each client's real address (the far end of the path it came by).
    const byTo = Object.fromEntries(seen.map((l) => [l.to, l]));
    expect(byTo[`::ffff:${t.ethB.v4}`]).toMatchObject({ from: '::ffff:198.18.4.2', described: { interface: 'ethB', pinned: 'SO_BINDTODEVICE' } });
    expect(byTo[t.ethB.v6]).toMatchObject({ from: 'fd00:4::2', described: { interface: 'ethB', pinned: 'SO_BINDTODEVICE' } });
    expect(byTo[`::ffff:${t.ethA.v4}`]).toMatchObject({ from: '::ffff:198.18.3.2', described: { interface: 'ethA' } });
    expect(byTo[`::ffff:${VIP4}`]).toMatchObject({ from: '::ffff:198.18.3.2', described: { pinned: null } });
    expect(byTo[VIP6]).toMatchObject({ from: 'fd00:3::2', described: { pinned: null } });
    server.child.kill();
  });

  it('routebind with perAddress: false is a plain wildcard listener again, with its failure', async () => {
    const p = port();
    const server = await startServer({ kind: 'routebind', port: p, perAddress: false });
    expect(server.ready.described).toEqual({ source: '::', pinned: null, answers: 'route' });
    const [b4, a4] = clients([t.ethB.v4, t.ethA.v4], p, 1500);
    expect(b4).toMatchObject({ error: 'timeout' });
    expect(a4.reply).toBe(`::ffff:${t.ethA.v4}`);
    server.child.kill();
  });

  it('an address added while the server runs is answered from the far side; removed, it is listened on no more', async () => {
    const p = port();
    const server = await startServer({ kind: 'routebind', port: p });
    t.exec(t.host, ['ip', 'addr', 'add', '198.18.2.60/24', 'dev', 'ethB']);
    t.exec(t.host, ['ip', 'addr', 'add', 'fd00:b::60/64', 'dev', 'ethB', 'nodad']);
    try {
      const [v4, v6] = clients(['198.18.2.60', 'fd00:b::60'], p);
      expect(v4.reply).toBe('::ffff:198.18.2.60');
      expect(v6.reply).toBe('fd00:b::60');
    } finally {
      t.run(t.host, ['ip', 'addr', 'del', '198.18.2.60/24', 'dev', 'ethB']);
      t.run(t.host, ['ip', 'addr', 'del', 'fd00:b::60/64', 'dev', 'ethB']);
    }
    server.child.kill();
  });

  it('churn: a new address is listened on within milliseconds, a removed one closed; no fd leak over 1,000 add/remove cycles', () => {
    const r = t.node<Record<string, any>>(t.host, 'server-host.cjs', { scenario: 'churn', port: port(), cycles: 1000 }, { timeoutMs: 120_000 });
    expect(r.addedMs).toBeGreaterThanOrEqual(0);
    expect(r.addedMs).toBeLessThan(100);
    expect(r.whileThere).toEqual({ reply: '::ffff:198.18.2.77' });
    expect(r.describedThere).toMatchObject({ interface: 'ethB', pinned: 'SO_BINDTODEVICE' });
    expect(r.fdsWhileThere).toBe(r.listeningFds + 1);
    expect(r.removedMs).toBeGreaterThanOrEqual(0);
    expect(r.removedMs).toBeLessThan(100);
    expect(r.fdsAfterRemove).toBe(r.listeningFds);
    expect(r.missed).toBe(0);
    expect(r.afterCycles).toBe(r.listeningFds);
    expect(r.stillServes).toEqual({ reply: '::ffff:198.18.2.2' });
    // The change feed the process opened before counting stays; nothing else does.
    expect(r.afterClose).toBe(r.before);
    console.log(`churn: added in ${r.addedMs.toFixed(2)} ms, removed in ${r.removedMs.toFixed(2)} ms, ${r.cycles} cycles in ${r.cyclesMs} ms; fds ${r.before} → ${r.listeningFds} listening → ${r.afterCycles} after cycles → ${r.afterClose} closed`);
  }, 130_000);

  it('the port taken on one address: EADDRINUSE for the whole listen, as plain Node reports for its wildcard', () => {
    const r = t.node<Record<string, any>>(t.host, 'server-host.cjs', { scenario: 'portTaken', port: port() });
    expect(r.plain.error.code).toBe('EADDRINUSE');
    expect(r.routed.error).toEqual(r.plain.error);
    expect(r.routed.listening).toBe(false);
    // Nothing half-open: no listener on the other addresses, no fd left behind.
    expect(r.onA).toEqual({ error: 'ECONNREFUSED' });
    expect(r.after).toBe(r.before);
  });

  it('the port taken on an address added while the server runs: a warning, no error, the other addresses still served', () => {
    const r = t.node<Record<string, any>>(t.host, 'server-host.cjs', { scenario: 'addedTaken', port: port() });
    expect(r.errors).toEqual([]);
    expect(r.listedTaken).toBe(false);
    expect(r.warnings).toEqual([expect.objectContaining({ code: 'ROUTEBIND_ADDRESS_NOT_LISTENED', message: expect.stringContaining('198.18.2.91 (ethB), added since: EADDRINUSE') })]);
    expect(r.stillServes).toEqual({ reply: '::ffff:198.18.2.2' });
  });

  it('close() with connections open: no new connection on any address, the open ones keep working, then one close', () => {
    const r = t.node<Record<string, any>>(t.host, 'server-host.cjs', { scenario: 'closeWithConnections', port: port() });
    expect(r.a).toBe(`::ffff:${t.ethA.v4}`);
    expect(r.b).toBe(`::ffff:${t.ethB.v4}`);
    expect(r.open).toBe(2);
    expect(r.afterCloseA).toEqual({ error: 'ECONNREFUSED' });
    expect(r.afterCloseB).toEqual({ error: 'ECONNREFUSED' });
    expect(r.echoed).toBe('still there\n');
    expect(r.closedEarly).toEqual([]);
    expect(r.events).toEqual(['close', 'callback']);
    expect(r.listening).toBe(false);
    expect(r.address).toBeNull();
  });

  it('in cluster workers: each worker listens per address (SO_REUSEPORT among them); a client through B is answered', async () => {
    const p = port();
    const server = await startServer({ kind: 'routebind', port: p, cluster: 2 });
    expect(server.ready).toMatchObject({ ready: true, workers: 2 });
    const targets = Array.from({ length: 8 }, (_, i) => (i % 2 ? t.ethB.v6 : t.ethB.v4));
    const results = clients(targets, p);
    for (const [i, r] of results.entries()) expect(r.reply, JSON.stringify(r)).toBe(i % 2 ? t.ethB.v6 : `::ffff:${t.ethB.v4}`);
    await new Promise((r) => setTimeout(r, 200));
    const served = server.lines.filter((l) => l.from !== undefined);
    expect(served).toHaveLength(8);
    expect(served.every((l) => l.described?.interface === 'ethB')).toBe(true);
    server.child.kill();
  });
});
