// What on this host makes a socket's source and egress interface disagree, found by reading the
// tables and asking the kernel's route lookup (nothing is sent), each finding with its fix.
import { readFileSync } from 'node:fs';

import { posixNative } from './binding';
import { addressKey } from './decide';
import { invalidArgType, invalidArgValue, isSystemError } from './errors';
import { interfaces, type InterfaceAddress, type NetworkInterface } from './interfaces';
import { requireBackend } from './platform';
import { routes, routeTo, type RouteEntry } from './route';
import { parseIpLiteral, type IpLiteral } from './validate';

/** The kinds of risk doctor() looks for. */
export type DoctorFindingId =
  | 'multiple-default-routes'
  | 'address-without-route'
  | 'strict-rp-filter'
  | 'ipv6-prefix-without-route'
  | 'pinning-not-permitted';

/** One route lookup made as evidence: where a packet from `from` to `destination` would leave. */
export interface DoctorLookup {
  /** The destination looked up. */
  destination: string;
  /** The source the lookup was made from. */
  from: string;
  /** The interface the kernel would send through. */
  interface?: string;
  /** The next hop it would use; absent when on-link. */
  gateway?: string;
}

/** One risk on this host, with the evidence and the fix. */
export interface DoctorFinding {
  /** Which risk this is (stable, for programs). */
  id: DoctorFindingId;
  /** 'high': traffic is dropped or leaves with the wrong source; 'medium': it can be. */
  severity: 'high' | 'medium' | 'low';
  /** One line saying what is wrong. */
  title: string;
  /** What happens to traffic because of it, and why. */
  detail: string;
  /** Commands or routebind options that remove the risk, one per line. */
  fix: string;
  /** The IP version the finding is about, when only one. */
  family?: 4 | 6;
  /** The interface the finding is about. */
  interface?: string;
  /** The addresses the finding is about. */
  addresses?: string[];
  /** The route lookups that show it. */
  lookups?: DoctorLookup[];
}

/** An interface that can carry traffic off this host. */
export interface DoctorUplink {
  /** The interface name. */
  interface: string;
  /** Its global addresses. */
  addresses: string[];
  /** Gateways of the main table's default routes through this interface ('' when on-link). */
  defaultRoutes: Array<{ family: 4 | 6; gateway?: string; metric?: number }>;
}

/** What doctor() found on this host. */
export interface DoctorReport {
  /** True when nothing was found. */
  ok: boolean;
  /** The risks found (empty when `ok`). */
  findings: DoctorFinding[];
  /** Non-loopback interfaces with global addresses or default routes. */
  uplinks: DoctorUplink[];
  /** The destinations the lookups were made for (given, or representative off-link ones). */
  destinations: string[];
}

const MAIN = 254;

// Documentation prefixes (RFC 5737, RFC 3849): off-link on every real network, so a lookup for
// them follows the default route. Lookups only; nothing is ever sent to them.
const REPRESENTATIVE: Record<4 | 6, string[]> = {
  4: ['192.0.2.1', '198.51.100.1', '203.0.113.1'],
  6: ['2001:db8::1', '2001:db8:ffff::1', '3fff::1'],
};

function toBigInt(address: string, family: 4 | 6): bigint {
  if (family === 4) return address.split('.').reduce((n, part) => (n << 8n) | BigInt(Number(part)), 0n);
  return addressKey(address).split(':').reduce((n, part) => (n << 16n) | BigInt(parseInt(part, 16)), 0n);
}

function fromBigInt(value: bigint, family: 4 | 6): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join('.');
  const groups = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(((value >> shift) & 0xffffn).toString(16));
  // Compress the longest run of zero groups, as `ip` prints addresses.
  let best = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== '0') { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLength) { best = i; bestLength = j - i; }
    i = j;
  }
  if (best === -1) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLength).join(':')}`;
}

function bits(family: 4 | 6): bigint {
  return family === 4 ? 32n : 128n;
}

function network(address: string, family: 4 | 6, prefixLength: number): bigint {
  const host = bits(family) - BigInt(prefixLength);
  return (toBigInt(address, family) >> host) << host;
}

/** Whether `entry` (a route) covers `address/prefixLength` entirely. */
function covers(entry: RouteEntry, address: string, family: 4 | 6, prefixLength: number): boolean {
  if (entry.family !== family || entry.prefixLength > prefixLength) return false;
  const base = entry.destination.split('/')[0];
  return network(base, family, entry.prefixLength) === network(address, family, entry.prefixLength);
}

function isDefault(e: RouteEntry): boolean {
  return e.prefixLength === 0 && e.type === 'unicast' && e.sourcePrefix === undefined;
}

/** The interfaces and gateways a (possibly multipath) route leaves through. */
function hops(e: RouteEntry): Array<{ interface: string; gateway?: string }> {
  if (e.nexthops !== undefined && e.nexthops.length > 0) {
    return e.nexthops.filter((h) => h.interface !== undefined).map((h) => ({ interface: h.interface!, ...(h.gateway ? { gateway: h.gateway } : {}) }));
  }
  return e.interface !== undefined ? [{ interface: e.interface, ...(e.gateway ? { gateway: e.gateway } : {}) }] : [];
}

/** Global addresses, the preferred ones first (deprecated ones are still bound to by some programs). */
function globalAddresses(i: NetworkInterface, family?: 4 | 6): InterfaceAddress[] {
  const list = i.addresses.filter((a) => a.scope === 'global' && (family === undefined || a.family === family));
  return [...list.filter((a) => !a.flags.includes('deprecated')), ...list.filter((a) => a.flags.includes('deprecated'))];
}

/** `ip` or `ip -6`. */
function ip(family: 4 | 6): string {
  return family === 6 ? 'ip -6' : 'ip';
}

/** sysctl writes an interface's dots as slashes (`eth0.100` → `eth0/100`). */
function sysctlName(ifname: string): string {
  return ifname.replace(/\./g, '/');
}

function readSysctl(path: string): number | undefined {
  try {
    const value = Number(readFileSync(path, 'utf8').trim());
    return Number.isInteger(value) ? value : undefined;
  } catch {
    return undefined; // not Linux, /proc not mounted, or the interface went away
  }
}

function parseDestinations(destinations: unknown): IpLiteral[] {
  if (destinations === undefined) return [];
  if (!Array.isArray(destinations)) throw invalidArgType('destinations', 'an array of IP address strings', destinations);
  if (destinations.length > 1024) throw invalidArgValue('destinations', destinations.length, 'must hold at most 1024 addresses');
  return destinations.map((d, i) => parseIpLiteral(`destinations[${i}]`, d));
}

function literalText(d: IpLiteral): string {
  return d.zone !== undefined ? `${d.address}%${d.zone}` : d.address;
}

/**
 * Examines this host's interfaces, routes and sysctls for what breaks strong end-system
 * behaviour on a multi-homed host: several default routes, addresses with no route of their own,
 * strict reverse-path filtering, IPv6 prefixes without a route, and whether sockets may be pinned.
 * `destinations` (IP literals) are the destinations the route lookups are made for; without them
 * a representative off-link address of each family is used. Synchronous: a few dumps and lookups.
 */
export function doctor(destinations?: string[]): DoctorReport {
  requireBackend();
  const wanted = parseDestinations(destinations);
  const list = interfaces();
  const table = routes();
  const main = table.filter((e) => e.table === MAIN);
  const findings: DoctorFinding[] = [];

  // Default routes of the main table, per family and interface.
  const defaults = new Map<4 | 6, Map<string, { gateway?: string; metric?: number }>>([[4, new Map()], [6, new Map()]]);
  for (const e of main.filter(isDefault)) {
    for (const hop of hops(e)) {
      const byInterface = defaults.get(e.family)!;
      if (!byInterface.has(hop.interface)) byInterface.set(hop.interface, { ...(hop.gateway ? { gateway: hop.gateway } : {}), ...(e.metric !== undefined ? { metric: e.metric } : {}) });
    }
  }

  const candidates = list.filter((i) => !i.flags.includes('loopback'));
  const uplinks: DoctorUplink[] = candidates
    .filter((i) => globalAddresses(i).length > 0 || defaults.get(4)!.has(i.name) || defaults.get(6)!.has(i.name))
    .map((i) => ({
      interface: i.name,
      addresses: globalAddresses(i).map((a) => a.address),
      defaultRoutes: ([4, 6] as const).flatMap((family) => {
        const d = defaults.get(family)!.get(i.name);
        return d ? [{ family, ...d }] : [];
      }),
    }));

  // Policy tables the fixes propose: one per interface, numbers no table uses yet.
  const usedTables = new Set(table.map((e) => e.table));
  const tableFor = new Map<string, number>();
  const policyTable = (ifname: string): number => {
    let n = tableFor.get(ifname);
    if (n === undefined) {
      n = 100;
      while (usedTables.has(n)) n++;
      usedTables.add(n);
      tableFor.set(ifname, n);
    }
    return n;
  };
  // A gateway for `ifname` known from any table's default route through it.
  const knownGateway = (family: 4 | 6, ifname: string): string | undefined =>
    table.filter((e) => e.family === family && isDefault(e)).flatMap(hops).find((h) => h.interface === ifname && h.gateway)?.gateway;

  const probeDestinations: string[] = [];
  for (const family of [4, 6] as const) {
    const byInterface = defaults.get(family)!;
    let probes = wanted.filter((d) => d.family === family).map(literalText);
    if (probes.length === 0 && byInterface.size > 0) {
      const uncovered = REPRESENTATIVE[family].find((d) => !table.some((e) => e.prefixLength > 0 && e.table !== 255 && covers(e, d, family, Number(bits(family)))));
      probes = [uncovered ?? REPRESENTATIVE[family][0]];
    }
    if (probes.length === 0) continue;
    probeDestinations.push(...probes);

    // Where each global address's packets leave, for each probe destination.
    const mismatched: Array<{ iface: NetworkInterface; address: string; lookups: DoctorLookup[] }> = [];
    for (const iface of candidates) {
      for (const a of globalAddresses(iface, family)) {
        const lookups: DoctorLookup[] = [];
        for (const destination of probes) {
          try {
            const r = routeTo(destination, { from: a.address });
            lookups.push({ destination, from: a.address, ...(r.interface ? { interface: r.interface } : {}), ...(r.gateway ? { gateway: r.gateway } : {}) });
          } catch (error) {
            // No route at all from this address: sockets bound to it fail, which is not a leak.
            if (!isSystemError(error)) throw error;
          }
        }
        const leaks = lookups.filter((l) => l.interface !== undefined && l.interface !== iface.name);
        if (leaks.length > 0) mismatched.push({ iface, address: a.address, lookups: leaks });
      }
    }

    // Several default routes: addresses of the worse uplinks leave through the best one.
    const withDefault = mismatched.filter((m) => byInterface.has(m.iface.name));
    if (byInterface.size >= 2 && withDefault.length > 0) {
      const fix: string[] = [];
      for (const ifname of [...new Set(withDefault.map((m) => m.iface.name))]) {
        const n = policyTable(ifname);
        for (const m of withDefault.filter((x) => x.iface.name === ifname)) fix.push(`${ip(family)} rule add from ${m.address} table ${n}`);
        const gw = byInterface.get(ifname)!.gateway;
        fix.push(`${ip(family)} route add default ${gw ? `via ${gw} ` : ''}dev ${ifname} table ${n}`);
      }
      const first = withDefault[0];
      fix.push(`or open the sockets with routebind: connect({ host, port, localAddress: '${first.address}' }) or { interface: '${first.iface.name}' } binds the source and pins the socket to its interface`);
      const leaksText = withDefault.map((m) => `${m.address} (${m.iface.name}) leaves through ${m.lookups[0].interface}`).join('; ');
      findings.push({
        id: 'multiple-default-routes',
        severity: 'high',
        title: `IPv${family}: ${byInterface.size} default routes (${[...byInterface.keys()].join(', ')}), and a socket bound to ${first.address} sends through ${first.lookups[0].interface}`,
        detail: `The main table has a default route through each of ${[...byInterface.keys()].join(', ')} and no policy rule sends the other uplinks' addresses back out of their own interface, so a socket bound to one of them (a client with localAddress, a server replying from the address it was reached on) sends through the best route with the wrong source: ${leaksText}. Routers that filter spoofed sources (BCP 38, rp_filter) drop it, or the replies come back on the other uplink. Lookups for ${probes.join(', ')}; nothing was sent.`,
        fix: fix.join('\n'),
        family,
        interface: first.iface.name,
        addresses: withDefault.map((m) => m.address),
        lookups: withDefault.flatMap((m) => m.lookups),
      });
    }

    // Addresses on interfaces with no default route of their own.
    for (const m of mismatched.filter((x) => !byInterface.has(x.iface.name))) {
      const out = m.lookups[0].interface!;
      const n = policyTable(m.iface.name);
      const gw = knownGateway(family, m.iface.name);
      findings.push({
        id: 'address-without-route',
        severity: 'medium',
        title: `IPv${family}: ${m.address} is on ${m.iface.name}, but its packets to off-link destinations leave through ${out}`,
        detail: `No default route of the main table leaves through ${m.iface.name}, so a socket bound to ${m.address} sends to ${m.lookups.map((l) => l.destination).join(', ')} through ${out}${m.lookups[0].gateway ? ` (via ${m.lookups[0].gateway})` : ''} with ${m.address} as its source. Routers that filter spoofed sources drop it; the replies, if any, arrive on ${m.iface.name}. Route lookups only; nothing was sent.`,
        fix: [
          `give ${m.address} a way out of ${m.iface.name}:`,
          `${ip(family)} route add default via ${gw ?? `<gateway on ${m.iface.name}>`} dev ${m.iface.name} table ${n}`,
          `${ip(family)} rule add from ${m.address} table ${n}`,
          `or do not send from ${m.address} off-link: routebind refuses such a socket (connect({ localAddress: '${m.address}' }) fails with ENETUNREACH) instead of sending it through ${out}, and { interface: '${out}' } picks a source that belongs there`,
        ].join('\n'),
        family,
        interface: m.iface.name,
        addresses: [m.address],
        lookups: m.lookups,
      });
    }
  }

  // Strict reverse-path filtering where replies may come back on another uplink.
  const withGlobal = candidates.filter((i) => globalAddresses(i).length > 0);
  const multiHomed = withGlobal.length >= 2 || defaults.get(4)!.size >= 2 || defaults.get(6)!.size >= 2;
  if (multiHomed) {
    const all = readSysctl('/proc/sys/net/ipv4/conf/all/rp_filter');
    for (const iface of candidates.filter((i) => globalAddresses(i, 4).length > 0 || defaults.get(4)!.has(i.name))) {
      if (iface.name.includes('/') || iface.name === '.' || iface.name === '..') continue;
      const own = readSysctl(`/proc/sys/net/ipv4/conf/${iface.name}/rp_filter`);
      if (own === undefined || all === undefined) continue;
      const effective = Math.max(all, own); // the kernel applies the larger of `all` and the interface's
      if (effective !== 1) continue;
      const others = withGlobal.filter((i) => i !== iface).map((i) => i.name);
      findings.push({
        id: 'strict-rp-filter',
        severity: 'high',
        title: `IPv4: strict reverse-path filtering on ${iface.name} (rp_filter ${effective}) on a host with ${Math.max(withGlobal.length, defaults.get(4)!.size)} uplinks`,
        detail: `net.ipv4.conf.all.rp_filter is ${all} and net.ipv4.conf.${sysctlName(iface.name)}.rp_filter is ${own}; the kernel applies the larger, 1 (strict): a packet arriving on ${iface.name} is dropped unless the route back to its sender leaves through ${iface.name}. On a multi-homed host replies to connections made from ${others.length > 0 ? `another uplink (${others.join(', ')})` : 'another uplink'} can arrive on ${iface.name} and are dropped silently.`,
        fix: [
          `sysctl -w net.ipv4.conf.${sysctlName(iface.name)}.rp_filter=2`,
          `(loose mode: the sender must be routable through any interface; persist it in /etc/sysctl.d/)`,
        ].join('\n'),
        family: 4,
        interface: iface.name,
      });
    }
  }

  // IPv6 addresses whose prefix has no route (added with noprefixroute, or the route was deleted).
  for (const iface of candidates) {
    for (const a of globalAddresses(iface, 6)) {
      if (a.prefixLength >= 128) continue;
      const address = a.address;
      const routed = table.some((e) => e.family === 6 && e.prefixLength > 0 && e.type === 'unicast' && e.interface === iface.name && covers(e, address, 6, a.prefixLength));
      if (routed) continue;
      const prefix = `${fromBigInt(network(address, 6, a.prefixLength), 6)}/${a.prefixLength}`;
      findings.push({
        id: 'ipv6-prefix-without-route',
        severity: 'medium',
        title: `IPv6: ${a.cidr} on ${iface.name} has no route for its prefix ${prefix}`,
        detail: `${a.cidr} is on ${iface.name}${a.flags.includes('noprefixroute') ? ' (added with noprefixroute)' : ''}, but no route for ${prefix} leaves through ${iface.name}: neighbours in ${prefix} are not reached on-link, but through whatever route covers them (a default route, possibly of another uplink), with ${address} as the source.`,
        fix: [`${ip(6)} route add ${prefix} dev ${iface.name}`, `(or re-add the address without noprefixroute: ip -6 addr replace ${a.cidr} dev ${iface.name})`].join('\n'),
        family: 6,
        interface: iface.name,
        addresses: [address],
      });
    }
  }

  // Whether this process may pin a socket at all (SO_BINDTODEVICE on a socket's first binding).
  const loopback = list.find((i) => i.flags.includes('loopback')) ?? { index: 1, name: 'lo' };
  try {
    const made = posixNative().createSocket({ version: 4, type: 'tcp', ifindex: loopback.index, ifname: loopback.name, strict: true, unbound: true });
    posixNative().closeSocket(made.fd);
  } catch (error) {
    if (!isSystemError(error) || (error.code !== 'EPERM' && error.code !== 'EACCES')) throw error;
    findings.push({
      id: 'pinning-not-permitted',
      severity: 'medium',
      title: `sockets cannot be pinned to an interface here (${posixNative().pinMechanism}: ${error.code})`,
      detail: `Pinning a socket to ${loopback.name} failed with ${error.code}. routebind then binds the source but cannot pin: describe(socket).pinError is '${error.code}', and with strict: true the socket fails instead. An unpinned socket still follows the route table, so a route change can send it through another interface.`,
      fix: [
        'use Linux ≥ 5.7, where a socket may pin its first binding without privileges,',
        'or give the process CAP_NET_RAW (systemd: AmbientCapabilities=CAP_NET_RAW; or setcap cap_net_raw+ep on the node binary)',
      ].join('\n'),
    });
  }

  return { ok: findings.length === 0, findings, uplinks, destinations: probeDestinations };
}
