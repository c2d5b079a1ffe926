// routeTo / interfaces / routes compared field by field with iproute2's own answers, in a real
// two-uplink host built from network namespaces. `ip` is only the reference here.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { NetworkInterface, Route, RouteEntry, RouteQuery } from '../../lib/index';
import { buildTwoUplinkHost, namespaceSupport, type Topology } from './topology';

type Outcome<T> = { ok: true; value: T } | { ok: false; error: { name: string; code?: string; errno?: number; syscall?: string; interface?: unknown; message: string } };

const unsupported = namespaceSupport();
const IP_ERRORS: Record<string, string> = {
  'No route to host': 'EHOSTUNREACH',
  'Network is unreachable': 'ENETUNREACH',
  'Invalid argument': 'EINVAL',
  'Permission denied': 'EACCES',
  'No such device': 'ENODEV',
};

function ipArgs(destination: string, q: RouteQuery = {}): string[] {
  const [address, zone] = destination.split('%');
  const args = ['-d', '-j', 'route', 'get', address];
  if (q.from) args.push('from', q.from);
  if (q.iif !== undefined) args.push('iif', String(q.iif));
  const oif = q.interface ?? zone;
  if (oif !== undefined) args.push('oif', String(oif));
  if (q.mark !== undefined) args.push('mark', `0x${q.mark.toString(16)}`);
  if (q.uid !== undefined) args.push('uid', String(q.uid));
  if (q.tos !== undefined) args.push('tos', `0x${q.tos.toString(16)}`);
  if (q.protocol !== undefined) args.push('ipproto', String(q.protocol));
  if (q.sourcePort !== undefined) args.push('sport', String(q.sourcePort));
  if (q.destinationPort !== undefined) args.push('dport', String(q.destinationPort));
  return args;
}

function tableNumber(name: string | undefined): number {
  if (name === undefined) return 0; // with -d, ip prints every table but RT_TABLE_UNSPEC
  return ({ main: 254, local: 255, default: 253 } as Record<string, number>)[name] ?? Number(name);
}

describe.skipIf(unsupported !== undefined)(`route lookups match \`ip route get\`${unsupported ? ` (skipped: ${unsupported})` : ''}`, () => {
  let t: Topology;
  beforeAll(() => {
    t = buildTwoUplinkHost({ policyRules: true });
  });
  afterAll(() => t?.destroy());

  // [destination, options] — each must agree with iproute2 on every field it prints.
  const cases = (): [string, RouteQuery?][] => [
    [t.farV4],
    [t.farV4, { from: t.ethA.v4 }],
    [t.farV4, { from: t.ethB.v4 }], // the weak-host mismatch: ethB's address, out of ethA
    [t.farV4, { from: t.ethA.policyV4 }], // policy rule → table 100 → ethB
    [t.farV4, { interface: 'ethB' }],
    [t.farV4, { interface: 'ethA' }],
    [t.farV4, { interface: 'ethB', from: t.ethB.v4 }],
    [t.farV4, { mark: 0x42 }],
    [t.farV4, { mark: 0x43 }],
    [t.farV4, { uid: 4242 }],
    [t.farV4, { uid: 1000 }],
    [t.farV4, { tos: 0x10 }],
    [t.farV4, { protocol: 'udp', destinationPort: 5353 }],
    [t.farV4, { protocol: 'udp', destinationPort: 53 }],
    [t.farV4, { protocol: 'tcp', sourcePort: 4000 }],
    [t.farV4, { protocol: 'tcp', sourcePort: 4001 }],
    [t.ethA.gateway4],
    [t.ethB.gateway4],
    [t.ethA.v4],
    ['127.0.0.1'],
    ['198.18.1.255'],
    ['224.0.0.251'],
    ['198.19.66.1'],
    ['198.19.67.1'],
    ['198.19.68.1'],
    [t.farV4, { from: '198.18.1.50', iif: 'ethA' }],
    [t.farV6],
    [t.farV6, { from: t.ethA.v6 }],
    [t.farV6, { from: t.ethB.v6 }],
    [t.farV6, { from: t.ethA.policyV6 }],
    [t.farV6, { interface: 'ethB' }],
    [t.farV6, { interface: 'ethA' }],
    [t.farV6, { mark: 0x42 }],
    [t.farV6, { uid: 4242 }],
    [t.farV6, { protocol: 'udp', destinationPort: 5353 }],
    [t.ethA.gateway6],
    [t.ethB.gateway6, { interface: 'ethB' }],
    ['::1'],
    [t.ethB.v6],
    ['fd00:66::1'],
    ['fd00:67::1'],
    ['fd00:68::1'],
    ['fe80::1%ethB'],
    ['ff02::1', { interface: 'ethA' }],
  ];

  it('agrees with iproute2 on at least 30 lookups, field by field', () => {
    const list = cases();
    expect(list.length).toBeGreaterThanOrEqual(30);
    const ours = t.node<Outcome<Route>[]>(t.host, 'call.cjs', list.map(([d, q]) => ({ fn: 'routeTo', args: q ? [d, q] : [d] })));
    let compared = 0;
    list.forEach(([destination, query], i) => {
      const label = `${destination} ${JSON.stringify(query ?? {})}`;
      const reference = t.run(t.host, ['ip', ...ipArgs(destination, query)]);
      const mine = ours[i];
      if (reference.status !== 0) {
        const text = reference.stderr.replace(/^RTNETLINK answers: /, '').trim();
        expect(mine.ok, `${label}: ip failed with "${text}" but routeTo answered`).toBe(false);
        if (!mine.ok) {
          expect(mine.error.code, label).toBe(IP_ERRORS[text]);
          expect(mine.error.errno, label).toBeLessThan(0);
          expect(mine.error.syscall, label).toBe('RTM_GETROUTE');
        }
        compared++;
        return;
      }
      const ip = JSON.parse(reference.stdout)[0] as Record<string, unknown>;
      expect(mine.ok, `${label}: ${!mine.ok ? mine.error.message : ''}`).toBe(true);
      if (!mine.ok) return;
      const r = mine.value;
      const family = destination.includes(':') ? 6 : 4;
      // routebind names the link of a link-local address, as interfaces() does; ip does not.
      const zoned = (address: unknown) =>
        (typeof address === 'string' && /^fe[89ab]/.test(address) ? `${address}%${ip.dev as string}` : address);
      expect(r.interface, label).toBe(ip.dev);
      // source: what a socket would send from, the `from` asked for, else the preferred source.
      expect(r.source, label).toBe(zoned(query?.from ?? ip.prefsrc));
      expect(r.preferredSource, label).toBe(zoned(ip.prefsrc));
      expect(r.from, label).toBe(query?.from);
      expect(r.gateway, label).toBe(zoned(ip.gateway));
      expect(r.type, label).toBe(ip.type ?? 'unicast');
      expect(r.table, label).toBe(tableNumber(ip.table as string | undefined));
      if (family === 6) {
        expect(r.metric, label).toBe(ip.metric);
        expect(r.protocol, label).toBe(ip.protocol);
      } else {
        // An IPv4 answer has no protocol or metric of its own: both come from the table entry
        // that matched, which is what `ip route get … fibmatch` prints (a metric of 0 it omits).
        const match = t.run(t.host, ['ip', ...ipArgs(destination, query), 'fibmatch']);
        const entry = match.status === 0 ? JSON.parse(match.stdout)[0] as Record<string, unknown> : undefined;
        expect(r.metric, label).toBe(entry === undefined ? undefined : entry.metric ?? 0);
        expect(r.protocol, label).toBe(entry === undefined ? 'unspec' : entry.protocol ?? 'unspec');
      }
      // Both families say which uid the lookup was made for (this test runs as root).
      expect(r.uid, label).toBe(ip.uid ?? (query?.iif !== undefined ? undefined : query?.uid ?? 0));
      expect(r.family, label).toBe(destination.includes(':') ? 6 : 4);
      compared++;
    });
    expect(compared).toBe(list.length);
  });

  it('reports the policy decisions the rules make', () => {
    const [byMark, bySource, plain] = t.node<Outcome<Route>[]>(t.host, 'call.cjs', [
      { fn: 'routeTo', args: [t.farV4, { mark: 0x42 }] },
      { fn: 'routeTo', args: [t.farV6, { from: t.ethA.policyV6 }] },
      { fn: 'routeTo', args: [t.farV4] },
    ]);
    expect(byMark).toMatchObject({ ok: true, value: { interface: 'ethB', table: 100, gateway: t.ethB.gateway4 } });
    expect(bySource).toMatchObject({ ok: true, value: { interface: 'ethB', table: 100, gateway: t.ethB.gateway6 } });
    expect(plain).toMatchObject({ ok: true, value: { interface: 'ethA', table: 254, gateway: t.ethA.gateway4, source: t.ethA.v4 } });
  });

  it('turns the kernel\'s invented on-link answer into ENETUNREACH naming the interface', () => {
    // No route leaves through lo towards the far server: the kernel still answers (table 0).
    const reference = JSON.parse(t.exec(t.host, ['ip', '-d', '-j', 'route', 'get', t.farV4, 'oif', 'lo']))[0];
    expect(reference.table).toBeUndefined();
    const [v4, v6, unknown] = t.node<Outcome<Route>[]>(t.host, 'call.cjs', [
      { fn: 'routeTo', args: [t.farV4, { interface: 'lo' }] },
      { fn: 'routeTo', args: [t.farV6, { interface: 'lo', from: t.ethB.v6 }] },
      { fn: 'routeTo', args: [t.farV4, { interface: 'nosuch0' }] },
    ]);
    expect(v4).toMatchObject({ ok: false, error: { code: 'ENETUNREACH', errno: -101, interface: 'lo', syscall: 'RTM_GETROUTE' } });
    expect(v6).toMatchObject({ ok: false, error: { code: 'ENETUNREACH', interface: 'lo' } });
    expect(unknown).toMatchObject({ ok: false, error: { code: 'ENODEV', errno: -19 } });
  });

  it('interfaces() matches `ip -j addr`', () => {
    const [mine] = t.node<Outcome<NetworkInterface[]>[]>(t.host, 'call.cjs', [{ fn: 'interfaces' }]);
    expect(mine.ok).toBe(true);
    if (!mine.ok) return;
    const reference = JSON.parse(t.exec(t.host, ['ip', '-j', 'addr'])) as Array<Record<string, any>>;
    expect(mine.value.map((i) => i.name).sort()).toEqual(reference.map((i) => i.ifname).sort());
    for (const ref of reference) {
      const ours = mine.value.find((i) => i.name === ref.ifname)!;
      expect(ours.ifindex, ref.ifname).toBe(ref.ifindex);
      expect(ours.mtu, ref.ifname).toBe(ref.mtu);
      if (ref.link_type === 'ether') expect(ours.mac, ref.ifname).toBe(ref.address);
      const ipFlags = (ref.flags as string[]).filter((f) => f !== 'NO-CARRIER').map((f) => f.toLowerCase().replace('_', '-').replace('pointopoint', 'point-to-point'));
      expect(ours.flags.filter((f) => f !== 'running').sort(), ref.ifname).toEqual(ipFlags.sort());
      const ipAddresses = (ref.addr_info as Array<Record<string, any>>).map((a) => `${a.family === 'inet' ? 4 : 6} ${a.local}/${a.prefixlen} ${a.scope}`).sort();
      const ourAddresses = ours.addresses.map((a) => `${a.family} ${a.cidr} ${a.scope}`).sort();
      expect(ourAddresses, ref.ifname).toEqual(ipAddresses);
      for (const a of ours.addresses) {
        if (a.family === 6 && a.scope === 'link') expect(a.address).toBe(`${a.cidr.split('/')[0]}%${ref.ifname}`);
      }
    }
    const ethB = mine.value.find((i) => i.name === 'ethB')!;
    expect(ethB.flags).toEqual(expect.arrayContaining(['up', 'running', 'multicast', 'broadcast', 'lower-up']));
    expect(ethB.addresses.find((a) => a.cidr === `${t.ethB.policyV6}/64`)?.flags).toContain('deprecated');
  });

  it('routes() matches `ip -j route show table all`, both families', () => {
    const [v4, v6, main] = t.node<Outcome<RouteEntry[]>[]>(t.host, 'call.cjs', [
      { fn: 'routes', args: [{ family: 4 }] },
      { fn: 'routes', args: [{ family: 6 }] },
      { fn: 'routes', args: [{ table: 'main' }] },
    ]);
    for (const [family, mine] of [[4, v4], [6, v6]] as const) {
      expect(mine.ok).toBe(true);
      if (!mine.ok) continue;
      const reference = JSON.parse(t.exec(t.host, ['ip', `-${family}`, '-d', '-j', 'route', 'show', 'table', 'all'])) as Array<Record<string, any>>;
      const any = family === 4 ? '0.0.0.0/0' : '::/0';
      const hostLength = family === 4 ? 32 : 128;
      const key = (e: { type: string; table: number; destination: string; interface?: string; gateway?: string; preferredSource?: string; metric?: number }) =>
        [e.type, e.table, e.destination, e.interface, e.gateway, e.preferredSource, e.metric].join(' ');
      const ipKeys = reference.map((r) => key({
        type: r.type ?? 'unicast',
        table: tableNumber(r.table ?? 'main'),
        destination: r.dst === 'default' ? any : String(r.dst).includes('/') ? r.dst : `${r.dst}/${hostLength}`,
        interface: r.dev,
        gateway: r.gateway,
        preferredSource: r.prefsrc,
        metric: r.metric,
      })).sort();
      expect(mine.value.map(key).sort(), `IPv${family}`).toEqual(ipKeys);
      expect(mine.value.length).toBeGreaterThan(10);
    }
    expect(main.ok && main.value.every((e) => e.table === 254)).toBe(true);
    expect(main.ok && main.value.filter((e) => e.prefixLength === 0).map((e) => e.interface).sort()).toEqual(['ethA', 'ethA', 'ethB', 'ethB']);
  });
});
