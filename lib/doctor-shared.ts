// What doctor() and its per-OS checks share: the report's types, the facts gathered once (the
// interface list, the route table, the default routes per family), and the prefix arithmetic.
// Each OS adds its own checks and words its own fixes (doctor-linux.ts, doctor-darwin.ts,
// doctor-windows.ts); doctor.ts runs the checks every OS shares.
import { addressKey } from './decide';
import type { InterfaceAddress, NetworkInterface } from './interfaces';
import type { RouteEntry } from './route';

/** The kinds of risk doctor() looks for. */
export type DoctorFindingId =
  // Every OS.
  | 'multiple-default-routes'
  | 'address-without-route'
  // Linux.
  | 'strict-rp-filter'
  | 'ipv6-prefix-without-route'
  | 'pinning-not-permitted'
  // macOS.
  | 'bound-if-receive'
  // Windows.
  | 'weak-host-send'
  | 'weak-host-receive'
  | 'ip-forwarding'
  | 'interface-settings-unknown';

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

/** @internal */
export const MAIN = 254;

// Documentation prefixes (RFC 5737, RFC 3849): off-link on every real network, so a lookup for
// them follows the default route. Lookups only; nothing is ever sent to them.
/** @internal */
export const REPRESENTATIVE: Record<4 | 6, string[]> = {
  4: ['192.0.2.1', '198.51.100.1', '203.0.113.1'],
  6: ['2001:db8::1', '2001:db8:ffff::1', '3fff::1'],
};

/** @internal */
export function toBigInt(address: string, family: 4 | 6): bigint {
  if (family === 4) return address.split('.').reduce((n, part) => (n << 8n) | BigInt(Number(part)), 0n);
  return addressKey(address).split(':').reduce((n, part) => (n << 16n) | BigInt(parseInt(part, 16)), 0n);
}

/** @internal */
export function fromBigInt(value: bigint, family: 4 | 6): string {
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

/** @internal */
export function bits(family: 4 | 6): bigint {
  return family === 4 ? 32n : 128n;
}

/** @internal */
export function network(address: string, family: 4 | 6, prefixLength: number): bigint {
  const host = bits(family) - BigInt(prefixLength);
  return (toBigInt(address, family) >> host) << host;
}

/**
 * Whether `entry` (a route) covers `address/prefixLength` entirely.
 * @internal
 */
export function covers(entry: RouteEntry, address: string, family: 4 | 6, prefixLength: number): boolean {
  if (entry.family !== family || entry.prefixLength > prefixLength) return false;
  const base = entry.destination.split('/')[0];
  return network(base, family, entry.prefixLength) === network(address, family, entry.prefixLength);
}

/** @internal */
export function isDefault(e: RouteEntry): boolean {
  return e.prefixLength === 0 && e.type === 'unicast' && e.sourcePrefix === undefined;
}

/**
 * The interfaces and gateways a (possibly multipath) route leaves through.
 * @internal
 */
export function hops(e: RouteEntry): Array<{ interface: string; gateway?: string }> {
  if (e.nexthops !== undefined && e.nexthops.length > 0) {
    return e.nexthops.filter((h) => h.interface !== undefined).map((h) => ({ interface: h.interface!, ...(h.gateway ? { gateway: h.gateway } : {}) }));
  }
  return e.interface !== undefined ? [{ interface: e.interface, ...(e.gateway ? { gateway: e.gateway } : {}) }] : [];
}

/**
 * Global addresses, the preferred ones first (deprecated ones are still bound to by some programs).
 * @internal
 */
export function globalAddresses(i: NetworkInterface, family?: 4 | 6): InterfaceAddress[] {
  const list = i.addresses.filter((a) => a.scope === 'global' && (family === undefined || a.family === family));
  return [...list.filter((a) => !a.flags.includes('deprecated')), ...list.filter((a) => a.flags.includes('deprecated'))];
}

/**
 * What doctor() gathered once, for every check.
 * @internal
 */
export interface DoctorContext {
  /** interfaces() */
  list: NetworkInterface[];
  /** routes() */
  table: RouteEntry[];
  /** The interfaces that are not loopback. */
  candidates: NetworkInterface[];
  /** Default routes every socket may use, per family, by interface. */
  defaults: Map<4 | 6, Map<string, { gateway?: string; metric?: number }>>;
  /** Non-loopback interfaces with global addresses. */
  withGlobal: NetworkInterface[];
  /** Two uplinks or more (addresses or default routes); known once the default routes are (read it in checks()). */
  multiHomed: boolean;
}

/**
 * A global address whose packets to the probe destinations leave through another interface.
 * @internal
 */
export interface Mismatch {
  iface: NetworkInterface;
  address: string;
  lookups: DoctorLookup[];
}

/**
 * A fix and the explanation that goes with it, worded for one OS.
 * @internal
 */
export interface Advice {
  detail: string;
  fix: string[];
}

/**
 * One OS's part of doctor(), made for one run (its fixes may number tables, say).
 * @internal
 */
export interface DoctorPlatform {
  /** Whether a route serves every socket (Linux: the main table; elsewhere the one table). */
  servesEverySocket(e: RouteEntry): boolean;
  /** 'multiple-default-routes': why the addresses of `leaking` leave through the best route, and the fix. */
  multipleDefaults(family: 4 | 6, leaking: Mismatch[], byInterface: Map<string, { gateway?: string }>, probes: string[]): Advice;
  /** 'address-without-route': why `m.address` leaves through `out`, and the fix. */
  addressWithoutRoute(family: 4 | 6, m: Mismatch, out: string): Advice;
  /** The OS's own checks. */
  checks(): DoctorFinding[];
}
