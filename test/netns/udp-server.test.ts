// Wildcard UDP servers on a host with two uplinks (default route via A, strict-ingress routers),
// Node's next to routebind's: a client that reaches the host through uplink B, connected clients
// that discard answers from another source, clients asking A's address, B's address and a
// service address on lo at once, and addresses added and removed while the server runs. Both
// families. Clients run in the far namespace; the servers in the host.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildTwoUplinkHost, hasNft, lineReader, namespaceSupport, type Topology } from './topology';

interface Answer { ok: boolean; from?: string; via?: string; text?: string; timedOut?: boolean }
interface Seen { index: number; address: string; family: string; port: number; localAddress?: string; interface?: string }

const unsupported = namespaceSupport() ?? (hasNft() ? undefined : 'nftables (`nft`) is needed for the IPv6 anti-spoofing routers');
const VIP = { 4: '198.18.9.9', 6: 'fd00:9::9' } as const;
// Per family: Node's server (send), routebind's (send), routebind's (reply).
const PORTS = { 4: [7600, 7601, 7602], 6: [7610, 7611, 7612] } as const;
const WAIT_MS = 1500;

describe.skipIf(unsupported !== undefined)(`wildcard UDP servers on a host with two uplinks${unsupported ? ` (skipped: ${unsupported})` : ''}`, () => {
  let t: Topology;
  let seen: ReturnType<typeof lineReader<Seen | string>>;
  const ask = (clients: object[]) => t.node<Answer[]>(t.far, 'udp-server-clients.cjs', clients, { timeoutMs: 30_000 });

  beforeAll(async () => {
    t = buildTwoUplinkHost({ policyRules: false });
    // A service address on the host's lo, reached through uplink A.
    t.exec(t.host, ['ip', 'addr', 'add', `${VIP[4]}/32`, 'dev', 'lo']);
    t.exec(t.host, ['ip', '-6', 'addr', 'add', `${VIP[6]}/128`, 'dev', 'lo']);
    t.exec(t.routerA, ['ip', 'route', 'add', VIP[4], 'via', t.ethA.v4]);
    t.exec(t.routerA, ['ip', '-6', 'route', 'add', VIP[6], 'via', t.ethA.v6]);
    t.exec(t.far, ['ip', 'route', 'add', VIP[4], 'via', '198.18.3.1']);
    t.exec(t.far, ['ip', '-6', 'route', 'add', VIP[6], 'via', 'fd00:3::1']);
    const specs = ([4, 6] as const).flatMap((family) => [
      { api: 'node', type: `udp${family}`, port: PORTS[family][0], mode: 'send' },
      { api: 'routebind', type: `udp${family}`, port: PORTS[family][1], mode: 'send' },
      { api: 'routebind', type: `udp${family}`, port: PORTS[family][2], mode: 'reply' },
    ]);
    const server = t.spawn(t.host, [process.execPath, 'test/netns/fixtures/udp-server-echo.cjs', JSON.stringify(specs)]);
    seen = lineReader<Seen | string>(server, (line) => (line.startsWith('{') ? JSON.parse(line) as Seen : line));
    await seen.waitFor((line) => line === 'ready', 10_000);
  }, 60_000);
  afterAll(() => t?.destroy());

  /** The rinfo server `slot` (0 Node's, 1 routebind's send, 2 routebind's reply) of `family` saw for a datagram to `to`. */
  const rinfoFor = (family: 4 | 6, slot: number, to: string) =>
    seen.waitFor((l) => typeof l === 'object' && l.index === (family === 4 ? 0 : 3) + slot && l.localAddress === to);

  for (const family of [4, 6] as const) {
    const type = `udp${family}`;
    const b = () => (family === 4 ? t.ethB.v4 : t.ethB.v6);
    const a = () => (family === 4 ? t.ethA.v4 : t.ethA.v6);
    const farB = () => (family === 4 ? '198.18.4.2' : 'fd00:4::2');

    it(`IPv${family}: a client that came in through B gets no answer from Node's server; routebind's answers from B's address, out of B`, async () => {
      const [node, routed, replied] = await ask(PORTS[family].map((port) => ({ type, to: b(), port, timeoutMs: WAIT_MS })));
      // Node's answer is routed by destination: out of A, from A's address, and router A has no
      // way back to the client's network (or drops it as spoofed).
      expect(node).toEqual({ ok: false, timedOut: true });
      expect(routed).toEqual({ ok: true, from: b(), via: 'fromB', text: `hello ${b()}` });
      expect(replied).toEqual({ ok: true, from: b(), via: 'fromB', text: `hello ${b()}` });
      const rinfo = await rinfoFor(family, 1, b());
      expect(rinfo).toMatchObject({ address: farB(), family: `IPv${family}`, localAddress: b(), interface: 'ethB' });
    });

    it(`IPv${family}: a connected client asking the service address on lo discards Node's answer (from A's address); routebind's comes from the service address`, async () => {
      const [node, routed] = await ask(PORTS[family].slice(0, 2).map((port) => ({ type, to: VIP[family], port, connect: true, timeoutMs: WAIT_MS })));
      expect(node).toEqual({ ok: false, timedOut: true });
      expect(routed).toMatchObject({ ok: true, from: VIP[family], text: `hello ${VIP[family]}` });
      // It came in through A; lo owns the address, so the route to the client decides the way out.
      expect(await rinfoFor(family, 1, VIP[family])).toMatchObject({ localAddress: VIP[family], interface: 'ethA' });
    });

    it(`IPv${family}: connected clients asking A's, B's and the service address at once are each answered from what they asked (send and reply)`, async () => {
      const targets = [a(), b(), VIP[family]];
      const answers = await ask(PORTS[family].slice(1).flatMap((port) => targets.map((to) => ({ type, to, port, connect: true, timeoutMs: WAIT_MS }))));
      expect(answers.map((x) => [x.ok, x.from])).toEqual([...targets, ...targets].map((to) => [true, to]));
      expect(await rinfoFor(family, 2, a())).toMatchObject({ interface: 'ethA' });
      expect(await rinfoFor(family, 2, b())).toMatchObject({ interface: 'ethB' });
    });

    it(`IPv${family}: an address added to B while the server runs is answered at once, from it and out of B; once removed, it is not`, async () => {
      const added = family === 4 ? '198.18.2.7' : 'fd00:b::7';
      const prefix = family === 4 ? 24 : 64;
      t.exec(t.host, ['ip', `-${family}`, 'addr', 'add', `${added}/${prefix}`, 'dev', 'ethB', ...(family === 6 ? ['nodad'] : [])]);
      try {
        const [routed] = await ask([{ type, to: added, port: PORTS[family][1], timeoutMs: WAIT_MS }]);
        expect(routed).toEqual({ ok: true, from: added, via: 'fromB', text: `hello ${added}` });
        expect(await rinfoFor(family, 1, added)).toMatchObject({ localAddress: added, interface: 'ethB' });
      } finally {
        t.exec(t.host, ['ip', `-${family}`, 'addr', 'del', `${added}/${prefix}`, 'dev', 'ethB']);
      }
      const [gone, stillB] = await ask([
        { type, to: added, port: PORTS[family][1], timeoutMs: WAIT_MS },
        { type, to: b(), port: PORTS[family][1], timeoutMs: WAIT_MS },
      ]);
      expect(gone).toEqual({ ok: false, timedOut: true });
      expect(stillB).toMatchObject({ ok: true, from: b(), via: 'fromB' });
    });
  }
});
