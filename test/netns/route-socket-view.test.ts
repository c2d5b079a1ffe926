// routeTo() and connect() answer as a socket would see the host: IPv6 lookups from a source
// through an interface, local destinations, alternative interface names, zones on link-local
// owners, and addresses however they are written. Each compared with iproute2 or plain Node.
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Route } from '../../lib/index';
import { buildTwoUplinkHost, hasNft, namespaceSupport, type Topology } from './topology';

type Outcome<T> = { ok: true; value: T } | { ok: false; error: { name: string; code?: string; errno?: number; syscall?: string; interface?: unknown; destination?: string; message: string } };

interface Connected {
  ok: boolean;
  seen?: string;
  timedOut?: boolean;
  error?: { code?: string; message: string; interface?: unknown; address?: string };
  describe?: { source: string; interface?: string; ifindex?: number; pinned: string | null; destination?: string };
  local?: string;
}

const unsupported = namespaceSupport() ?? (hasNft() ? undefined : 'nftables (`nft`) is needed for the IPv6 anti-spoofing routers');
const PORT = 7400;
const LOCAL_PORT = 7500;

describe.skipIf(unsupported !== undefined)(`route lookups as a socket sees them${unsupported ? ` (skipped: ${unsupported})` : ''}`, () => {
  let t: Topology;
  const call = <T>(calls: { fn: string; args: unknown[] }[]) => t.node<Outcome<T>[]>(t.host, 'call.cjs', calls);
  const connect = (scenarios: object[]) => t.node<Connected[]>(t.host, 'sockets.cjs', scenarios, { timeoutMs: 60_000 });
  const ipRoute = (args: string[]) => JSON.parse(t.exec(t.host, ['ip', '-j', ...args]))[0] as Record<string, unknown>;

  beforeAll(async () => {
    t = buildTwoUplinkHost({ policyRules: false });
    const far = t.spawn(t.far, [process.execPath, 'test/netns/fixtures/far-server.cjs', JSON.stringify({ addresses: [t.farV4, t.farV6], port: PORT })]);
    // A server on the multi-homed host itself, on loopback and on each uplink's addresses.
    const local = t.spawn(t.host, [process.execPath, 'test/netns/fixtures/far-server.cjs', JSON.stringify({
      addresses: ['127.0.0.1', '::1', t.ethA.v4, t.ethB.v4, t.ethA.v6, t.ethB.v6], port: LOCAL_PORT,
    })]);
    for (const server of [far, local]) {
      const [chunk] = await once(server.stdout!, 'data');
      expect(String(chunk)).toContain('ready');
    }
    // Alternative names for ethB: a short one and one longer than IFNAMSIZ - 1.
    t.exec(t.host, ['ip', 'link', 'property', 'add', 'dev', 'ethB', 'altname', 'uplinkb']);
    t.exec(t.host, ['ip', 'link', 'property', 'add', 'dev', 'ethB', 'altname', 'uplink-b-through-router-b']);
  });
  afterAll(() => t?.destroy());

  it('IPv6 from one uplink\'s address through the other: the route a socket pinned there uses, as `ip route get … oif` gives it, cached', () => {
    // The kernel itself answers through ethA when asked with both a source and oif ethB.
    const preference = ipRoute(['-6', 'route', 'get', t.farV6, 'from', t.ethA.v6, 'oif', 'ethB']);
    expect(preference.dev).toBe('ethA');
    const strict = ipRoute(['-6', 'route', 'get', t.farV6, 'oif', 'ethB']);
    expect(strict.dev).toBe('ethB');
    const query = { from: t.ethA.v6, interface: 'ethB' };
    const [first, again, stats] = t.node<Outcome<unknown>[]>(t.host, 'call.cjs', [
      { fn: 'routeTo', args: [t.farV6, query] },
      { fn: 'routeTo', args: [t.farV6, query] },
      { fn: 'routeCacheStats', args: [] },
    ]);
    expect(first, JSON.stringify(first)).toMatchObject({
      ok: true,
      value: { interface: 'ethB', gateway: strict.gateway, metric: strict.metric, source: t.ethA.v6, preferredSource: strict.prefsrc, from: t.ethA.v6 },
    });
    expect(again).toEqual(first);
    // One answer cached for the query (the second call was a hit, not a second entry).
    expect(stats).toMatchObject({ ok: true, value: { size: 1 } });
    // The same lookup through an interface with no route out stays an error.
    t.exec(t.host, ['ip', '-6', 'route', 'del', 'default', 'via', t.ethB.gateway6, 'dev', 'ethB']);
    try {
      const [none] = call<Route>([{ fn: 'routeTo', args: [t.farV6, query] }]);
      expect(none).toMatchObject({ ok: false, error: { code: 'ENETUNREACH', interface: 'ethB', syscall: 'RTM_GETROUTE' } });
    } finally {
      t.exec(t.host, ['ip', '-6', 'route', 'add', 'default', 'via', t.ethB.gateway6, 'dev', 'ethB', 'metric', '200']);
    }
  });

  it('route.source is the source a socket uses: `from` when given (IPv4 too), the preferred source kept apart', () => {
    const [v4, v6, plain] = call<Route>([
      { fn: 'routeTo', args: [t.farV4, { from: t.ethB.v4 }] },
      { fn: 'routeTo', args: [t.farV6, { from: t.ethB.v6 }] },
      { fn: 'routeTo', args: [t.farV4] },
    ]);
    expect(v4).toMatchObject({ ok: true, value: { interface: 'ethA', source: t.ethB.v4, from: t.ethB.v4, protocol: 'boot', metric: 100, uid: 0 } });
    expect(v6).toMatchObject({ ok: true, value: { interface: 'ethA', source: t.ethB.v6, preferredSource: t.ethA.v6, protocol: 'boot', metric: 100, uid: 0 } });
    expect(plain).toMatchObject({ ok: true, value: { source: t.ethA.v4, preferredSource: t.ethA.v4 } });
    // The same fields in both families, but `pref`: an IPv6 router preference only.
    if (v6.ok) expect(v6.value.pref).toBe('medium');
    if (v4.ok && v6.ok) {
      const fields = (r: Route) => Object.keys(r).filter((k) => k !== 'preferredSource' && k !== 'pref').sort();
      expect(fields(v4.value)).toEqual(fields(v6.value));
    }
  });

  for (const family of [4, 6] as const) {
    const loopback = family === 4 ? '127.0.0.1' : '::1';
    const addr = (uplink: 'ethA' | 'ethB') => (family === 4 ? t[uplink].v4 : t[uplink].v6);

    it(`IPv${family}: loopback and this host's own addresses connect from another interface's address, as with plain Node`, () => {
      const scenarios = [
        { host: loopback, port: LOCAL_PORT, localAddress: addr('ethB') },
        { host: addr('ethA'), port: LOCAL_PORT, localAddress: addr('ethB') },
        { host: addr('ethB'), port: LOCAL_PORT, localAddress: addr('ethB') },
      ];
      const results = connect(scenarios.flatMap((options) => [{ api: 'node', options }, { api: 'routebind', options }]));
      for (let i = 0; i < scenarios.length; i++) {
        const [node, routed] = [results[2 * i], results[2 * i + 1]];
        const label = JSON.stringify(scenarios[i]);
        expect(node, label).toMatchObject({ ok: true });
        expect(routed, `${label}: ${JSON.stringify(routed.error)}`).toMatchObject({ ok: true, seen: node.seen });
        // Never pinned away from where the kernel delivers it (lo); and not pinned to lo either,
        // which hears replies only for lo's own addresses.
        expect(routed.describe, label).toMatchObject({ source: addr('ethB'), interface: 'lo', pinned: null });
      }
      expect(results[1].seen?.replace(/^::ffff:/, '')).toBe(addr('ethB'));
      // Loopback from loopback stays pinned to lo.
      const [own] = connect([{ api: 'routebind', options: { host: loopback, port: LOCAL_PORT } }]);
      expect(own).toMatchObject({ ok: true, seen: family === 4 ? '127.0.0.1' : '::1', describe: { interface: 'lo', pinned: 'SO_BINDTODEVICE' } });
    });
  }

  it('this host\'s own link-local address, zoned: delivered through lo as `ip route get` says, reached as with plain Node', async () => {
    const own = (JSON.parse(t.exec(t.host, ['ip', '-j', '-6', 'addr', 'show', 'dev', 'ethB', 'scope', 'link']))[0].addr_info as { local?: string }[])
      .find((a) => a.local)!.local!;
    const reference = ipRoute(['-6', 'route', 'get', own, 'oif', 'ethB']);
    expect(reference).toMatchObject({ type: 'local', dev: 'lo' });
    const [route] = call<Route>([{ fn: 'routeTo', args: [`${own}%ethB`] }]);
    expect(route).toMatchObject({ ok: true, value: { type: 'local', interface: 'lo', source: `${own}%ethB` } });
    const server = t.spawn(t.host, [process.execPath, 'test/netns/fixtures/far-server.cjs', JSON.stringify({ addresses: [`${own}%ethB`], port: 7420 })]);
    try {
      await once(server.stdout!, 'data');
      const target = `${own}%ethB`;
      const [nodeUdp, routedUdp, nodeTcp, routedTcp] = connect([
        { kind: 'udp', api: 'node', socketOptions: { type: 'udp6' }, host: target, port: 7420 },
        { kind: 'udp', api: 'routebind', socketOptions: { type: 'udp6' }, host: target, port: 7420 },
        { api: 'node', options: { host: target, port: 7420 } },
        { api: 'routebind', options: { host: target, port: 7420 } },
      ]);
      expect(nodeUdp).toMatchObject({ ok: true, seen: target });
      expect(routedUdp, JSON.stringify(routedUdp.error)).toMatchObject({ ok: true, seen: nodeUdp.seen });
      expect(nodeTcp).toMatchObject({ ok: true, seen: target });
      expect(routedTcp, JSON.stringify(routedTcp.error)).toMatchObject({ ok: true, seen: nodeTcp.seen, describe: { interface: 'lo', pinned: null } });
    } finally {
      server.kill();
    }
  });

  it('alternative interface names work wherever a name is taken, long ones too', () => {
    const reference = ipRoute(['route', 'get', t.farV4, 'oif', 'uplinkb']);
    expect(reference.dev).toBe('ethB');
    const [short, long, v6] = call<Route>([
      { fn: 'routeTo', args: [t.farV4, { interface: 'uplinkb' }] },
      { fn: 'routeTo', args: [t.farV4, { interface: 'uplink-b-through-router-b' }] },
      { fn: 'routeTo', args: [t.farV6, { interface: 'uplinkb', from: t.ethB.v6 }] },
    ]);
    expect(short).toMatchObject({ ok: true, value: { interface: 'ethB', gateway: reference.gateway, source: reference.prefsrc } });
    expect(long).toMatchObject({ ok: true, value: { interface: 'ethB' } });
    expect(v6).toMatchObject({ ok: true, value: { interface: 'ethB', source: t.ethB.v6 } });
    // interfaces() lists them as `ip link` does.
    const [listed] = call<{ name: string; altnames?: string[] }[]>([{ fn: 'interfaces', args: [] }]);
    const ipLink = JSON.parse(t.exec(t.host, ['ip', '-j', 'link', 'show', 'dev', 'ethB']))[0] as { altnames: string[] };
    expect(listed.ok && listed.value.find((i) => i.name === 'ethB')?.altnames).toEqual(ipLink.altnames);
    expect(ipLink.altnames).toEqual(['uplinkb', 'uplink-b-through-router-b']);
    const [viaAlt, withAddress, udp] = connect([
      { api: 'routebind', options: { host: t.farV4, port: PORT, interface: 'uplinkb' } },
      { api: 'routebind', options: { host: t.farV6, port: PORT, interface: 'uplink-b-through-router-b', localAddress: t.ethB.v6 } },
      { kind: 'udp', api: 'routebind', socketOptions: { type: 'udp4' }, bind: { port: 0, interface: 'uplinkb' }, host: t.farV4, port: PORT },
    ]);
    expect(viaAlt, JSON.stringify(viaAlt.error)).toMatchObject({ ok: true, seen: t.ethB.v4, describe: { interface: 'ethB', pinned: 'SO_BINDTODEVICE' } });
    expect(withAddress, JSON.stringify(withAddress.error)).toMatchObject({ ok: true, seen: t.ethB.v6, describe: { interface: 'ethB' } });
    expect(udp, JSON.stringify(udp.error)).toMatchObject({ ok: true, seen: t.ethB.v4, describe: { interface: 'ethB' } });
  });

  it('a zone naming a missing interface is ENODEV, by name or by index', () => {
    const [byName, byIndex, connected] = [
      ...call<Route>([
        { fn: 'routeTo', args: ['fe80::1%nosuch0'] },
        { fn: 'routeTo', args: ['fe80::1%4000000'] },
      ]),
      ...connect([{ api: 'routebind', options: { host: 'fe80::1%4000000', port: PORT } }]).map((r) => ({ ok: r.ok, error: r.error })),
    ];
    expect(byName).toMatchObject({ ok: false, error: { code: 'ENODEV' } });
    expect(byIndex).toMatchObject({ ok: false, error: { code: 'ENODEV', interface: 4000000 } });
    expect(connected).toMatchObject({ ok: false, error: { code: 'ENODEV' } });
  });

  it('a link-local localAddress belongs to the interface its zone names, though another has it too', async () => {
    for (const dev of ['ethA', 'ethB']) t.exec(t.host, ['ip', '-6', 'addr', 'add', 'fe80::1/64', 'dev', dev, 'nodad']);
    const routerLinkLocal = (JSON.parse(t.exec(t.routerB, ['ip', '-j', '-6', 'addr', 'show', 'dev', 'down0', 'scope', 'link']))[0].addr_info as { local?: string }[])
      .find((a) => a.local)!.local!;
    const server = t.spawn(t.routerB, [process.execPath, 'test/netns/fixtures/far-server.cjs', JSON.stringify({ addresses: [`${routerLinkLocal}%down0`], port: 7410 })]);
    try {
      await once(server.stdout!, 'data');
      const ethBIndex = JSON.parse(t.exec(t.host, ['ip', '-j', 'link', 'show', 'ethB']))[0].ifindex as number;
      const [viaB, viaBIndex] = connect([
        { api: 'routebind', options: { host: `${routerLinkLocal}%ethB`, port: 7410, localAddress: 'fe80::1%ethB' } },
        { api: 'routebind', options: { host: `${routerLinkLocal}%ethB`, port: 7410, localAddress: `fe80::1%${ethBIndex}` } },
      ]);
      for (const r of [viaB, viaBIndex]) {
        expect(r, JSON.stringify(r.error)).toMatchObject({ ok: true, describe: { interface: 'ethB', source: 'fe80::1' } });
        expect(r.seen?.split('%')[0]).toBe('fe80::1');
      }
      // The zone of the other interface: the address is there, but the destination is not.
      const [wrong] = connect([{ api: 'routebind', options: { host: `${routerLinkLocal}%ethB`, port: 7410, localAddress: 'fe80::1%ethA' } }]);
      expect(wrong).toMatchObject({ ok: false, error: { code: 'EADDRNOTAVAIL', address: 'fe80::1' } });
      expect(wrong.error?.message).toMatch(/ethA.*ethB/);
    } finally {
      server.kill();
      for (const dev of ['ethA', 'ethB']) t.exec(t.host, ['ip', '-6', 'addr', 'del', 'fe80::1/64', 'dev', dev]);
    }
  });

  it('an address is the same however it is written: canonical everywhere downstream', () => {
    const [route, fromUpper] = call<Route>([
      { fn: 'routeTo', args: ['FD00:99:0:0::1'] },
      { fn: 'routeTo', args: [t.farV6, { from: 'FD00:B:0::2', interface: 'ethB' }] },
    ]);
    expect(route).toMatchObject({ ok: true, value: { destination: 'fd00:99::1', interface: 'ethA' } });
    expect(fromUpper).toMatchObject({ ok: true, value: { source: 'fd00:b::2', from: 'fd00:b::2', interface: 'ethB' } });
    const [upper] = connect([{ api: 'routebind', options: { host: 'FD00:99:0::1', port: PORT, localAddress: 'FD00:B:0::2' } }]);
    expect(upper, JSON.stringify(upper.error)).toMatchObject({ ok: true, seen: t.ethB.v6, describe: { source: t.ethB.v6, interface: 'ethB', destination: t.farV6 } });
  });

  it('errors name no interface the caller did not give', () => {
    const [unreachable, fromB] = connect([
      { api: 'routebind', options: { host: '198.19.66.1', port: PORT } },
      { api: 'routebind', options: { host: '198.19.66.1', port: PORT, localAddress: t.ethB.v4 } },
    ]);
    expect(unreachable.error).toMatchObject({ code: 'EHOSTUNREACH' });
    expect(unreachable.error?.interface).toBeUndefined();
    expect(unreachable.error?.message).not.toMatch(/routeTo|via/);
    // As net.connect's errors: `address` is the destination; the source is in the message.
    expect(fromB.error).toMatchObject({ code: 'EHOSTUNREACH', address: '198.19.66.1' });
    expect(fromB.error?.message).toContain(t.ethB.v4);
    expect(fromB.error?.message).not.toMatch(/routeTo/);
  });
});
