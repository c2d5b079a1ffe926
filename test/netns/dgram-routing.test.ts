// routebind.createSocket next to dgram.createSocket in a real two-uplink host: names resolved for
// bind() and send() are routed, bound and pinned (the far end sees the routed source), IPv6 zones
// pick the interface when two links share a link-local address, and zones naming nothing fail as
// the kernel makes Node fail.
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildTwoUplinkHost, hasNft, namespaceSupport, type Topology } from './topology';

interface Outcome {
  ok: boolean;
  seen?: string;
  timedOut?: boolean;
  address?: string;
  local?: string;
  error?: { name: string; code?: string; errno?: number; syscall?: string; message: string; address?: string; port?: number; keys: string[] };
  describe?: { source: string; interface?: string; ifindex?: number; pinned: string | null; destination?: string };
}

const unsupported = namespaceSupport() ?? (hasNft() ? undefined : 'nftables (`nft`) is needed for the IPv6 anti-spoofing routers');
const PORT = 7400;
const SHARED_LINK_LOCAL = 'fe80::1234';

describe.skipIf(unsupported !== undefined)(`dgram routing in namespaces${unsupported ? ` (skipped: ${unsupported})` : ''}`, () => {
  let t: Topology;
  const run = (scenarios: object[]) => t.node<Outcome[]>(t.host, 'dgram-scenarios.cjs', scenarios, { timeoutMs: 60_000 });

  beforeAll(async () => {
    t = buildTwoUplinkHost({ policyRules: false });
    const server = t.spawn(t.far, [process.execPath, 'test/netns/fixtures/far-server.cjs', JSON.stringify({ addresses: [t.farV4, t.farV6], port: PORT })]);
    const [chunk] = await once(server.stdout!, 'data');
    expect(String(chunk)).toContain('ready');
    // Two links with the same link-local address: only a zone tells them apart.
    for (const link of ['ethA', 'ethB']) t.exec(t.host, ['ip', '-6', 'addr', 'add', `${SHARED_LINK_LOCAL}/64`, 'dev', link, 'nodad']);
  });
  afterAll(() => t?.destroy());

  for (const family of [4, 6] as const) {
    const type = family === 4 ? 'udp4' : 'udp6';
    const far = () => (family === 4 ? t.farV4 : t.farV6);
    const addr = (uplink: 'ethA' | 'ethB') => (family === 4 ? t[uplink].v4 : t[uplink].v6);

    it(`IPv${family}: send() to a hostname is routed, bound and pinned like connect(); the far end sees the routed source`, () => {
      const table = { 'far.test': [[far(), family]] };
      const [plain, routed, viaB] = run([
        { op: 'send', api: 'node', socketOptions: { type }, table, host: 'far.test', port: PORT },
        { op: 'send', api: 'routebind', socketOptions: { type }, table, host: 'far.test', port: PORT },
        { op: 'send', api: 'routebind', socketOptions: { type, interface: 'ethB' }, table, host: 'far.test', port: PORT },
      ]);
      // Both leave by the default route (uplink A); routebind's is bound there and pinned.
      expect(plain, JSON.stringify(plain)).toMatchObject({ ok: true, seen: addr('ethA') });
      expect(routed).toMatchObject({ ok: true, seen: addr('ethA'), local: addr('ethA') });
      expect(routed.describe).toMatchObject({ destination: far(), source: addr('ethA'), interface: 'ethA', pinned: 'SO_BINDTODEVICE' });
      expect(viaB).toMatchObject({ ok: true, seen: addr('ethB'), local: addr('ethB') });
      expect(viaB.describe).toMatchObject({ destination: far(), source: addr('ethB'), interface: 'ethB', pinned: 'SO_BINDTODEVICE' });
    });

    it(`IPv${family}: bind(port, hostname) resolves with the socket's lookup and pins to the address's interface`, () => {
      const table = { 'b.test': [[addr('ethB'), family]] };
      const [plain, routed] = run([
        { op: 'send', api: 'node', socketOptions: { type }, table, bind: { address: 'b.test' }, host: far(), port: PORT, timeoutMs: 1500 },
        { op: 'send', api: 'routebind', socketOptions: { type }, table, bind: { address: 'b.test' }, host: far(), port: PORT },
      ]);
      // Plain Node binds B's address but leaves through A: router A drops it as spoofed.
      expect(plain, JSON.stringify(plain)).toMatchObject({ ok: false, timedOut: true, local: addr('ethB') });
      expect(routed).toMatchObject({ ok: true, seen: addr('ethB'), local: addr('ethB') });
      expect(routed.describe).toMatchObject({ source: addr('ethB'), interface: 'ethB', pinned: 'SO_BINDTODEVICE' });
    });
  }

  it('a link-local address on two links: the zone picks the interface, as the kernel binds it', () => {
    const outcomes = run(['ethA', 'ethB'].flatMap((zone) => ['node', 'routebind'].map((api) => (
      { op: 'bind', api, type: 'udp6', bind: { port: 0, address: `${SHARED_LINK_LOCAL}%${zone}` } }))));
    const [nodeA, routedA, nodeB, routedB] = outcomes;
    expect(routedA.address).toBe(nodeA.address);
    expect(routedB.address).toBe(nodeB.address);
    expect(nodeB.address).toBe(`${SHARED_LINK_LOCAL}%ethB`);
    expect(routedA.describe).toMatchObject({ interface: 'ethA', pinned: 'SO_BINDTODEVICE' });
    expect(routedB.describe).toMatchObject({ interface: 'ethB', pinned: 'SO_BINDTODEVICE' });
  });

  it("a link-local zone on another link than the socket's: EINVAL in the socket's terms, naming no option the caller did not pass", () => {
    const [viaAddress, viaPin] = run([
      { op: 'send', api: 'routebind', socketOptions: { type: 'udp6', localAddress: t.ethA.v6 }, host: `${SHARED_LINK_LOCAL}%ethB`, port: PORT },
      { op: 'send', api: 'routebind', socketOptions: { type: 'udp6' }, bind: { address: t.ethA.v6 }, connect: true, host: `${SHARED_LINK_LOCAL}%ethB`, port: PORT },
    ]);
    for (const [outcome, syscall] of [[viaAddress, 'send'], [viaPin, 'connect']] as const) {
      expect(outcome.error).toMatchObject({ code: 'EINVAL', syscall, address: `${SHARED_LINK_LOCAL}%ethB`, port: PORT, keys: ['address', 'code', 'errno', 'port', 'syscall'] });
      expect(outcome.error!.message).toMatch(new RegExp(`^${syscall} EINVAL ${SHARED_LINK_LOCAL}%ethB:${PORT}: .*ethB.*ethA`));
      expect(outcome.error!.message).not.toContain('options.interface');
    }
  });

  it('a zone naming no interface (by name or by index) fails as Node fails: bind and listen, with or without an interface', () => {
    const cases = ['nosuch0', '99999'].flatMap((zone) => {
      const address = `${SHARED_LINK_LOCAL}%${zone}`;
      return [
        { op: 'bind', api: 'node', type: 'udp6', bind: { port: 0, address } },
        { op: 'bind', api: 'routebind', type: 'udp6', bind: { port: 0, address } },
        { op: 'bind', api: 'routebind', type: 'udp6', bind: { port: 0, address, interface: 'ethB' } },
        { op: 'listen', api: 'node', listen: { port: 0, host: address } },
        { op: 'listen', api: 'routebind', listen: { port: 0, host: address } },
        { op: 'listen', api: 'routebind', listen: { port: 0, host: address, interface: 'ethB' } },
      ];
    });
    const outcomes = run(cases);
    for (let i = 0; i < outcomes.length; i += 3) {
      const [node, routed, pinned] = outcomes.slice(i, i + 3);
      expect(node.error?.code).toBe('EINVAL');
      expect(routed.error).toEqual(node.error);
      // routebind's own decision: Node's code, Node's message first, Node's keys, then the reason.
      expect(pinned.error).toMatchObject({ code: node.error!.code, errno: node.error!.errno, syscall: node.error!.syscall, address: node.error!.address, keys: node.error!.keys });
      expect(pinned.error!.message.startsWith(node.error!.message)).toBe(true);
    }
  });
});
