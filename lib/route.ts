// Route lookup: what `ip route get` and `ip route show table all` answer, through the addon.
import { native, RouteSlot, type NativeRoute, type NativeRouteQuery } from './binding';
import { currentGeneration } from './coherence';
import { invalidArgType, invalidArgValue, isSystemError, systemError } from './errors';
import { protocolName, routeFlagNames, routeTypeName, scopeName, TABLES, type RouteType, type Scope } from './names';
import {
  parseIpLiteral,
  rejectUnknownKeys,
  validateInteger,
  validateInterface,
  validateObject,
  validatePort,
  validateProtocol,
} from './validate';

/** The policy inputs of `ip route get`; each maps to the RTM_GETROUTE attribute iproute2 sends. */
export interface RouteQuery {
  /** Source address to route from (`from`; RTA_SRC): selects `ip rule from …` policies. */
  from?: string;
  /** Output interface, by name or index (`oif`; RTA_OIF). */
  interface?: string | number;
  /** Input interface, simulating a packet that arrived there (`iif`; RTA_IIF). */
  iif?: string | number;
  /** Firewall mark (`mark`; RTA_MARK), 0 … 2^32-1. */
  mark?: number;
  /** Socket owner uid (`uid`; RTA_UID). */
  uid?: number;
  /** Type of service byte (`tos`). */
  tos?: number;
  /** IP protocol (`ipproto`; RTA_IP_PROTO): 'tcp', 'udp', 'icmp' or a number. */
  protocol?: 'tcp' | 'udp' | 'icmp' | 'icmpv6' | 'sctp' | number;
  /** Source port (`sport`; RTA_SPORT). */
  sourcePort?: number;
  /** Destination port (`dport`; RTA_DPORT). */
  destinationPort?: number;
  /** `false` asks the kernel even when a cached answer is current. */
  cache?: boolean;
}

/** The kernel's answer for one destination (frozen: answers are shared through the cache). */
export interface Route {
  destination: string;
  family: 4 | 6;
  type: RouteType;
  /** The interface the packet leaves through. */
  interface?: string;
  ifindex?: number;
  /** The kernel's preferred source address (RTA_PREFSRC): what an unbound socket would use. */
  source?: string;
  /** The next hop; absent when the destination is on-link. */
  gateway?: string;
  table: number;
  protocol: string;
  scope: Scope;
  flags: string[];
  metric?: number;
  mtu?: number;
  /** The `from` the lookup was made with, echoed by the kernel. */
  from?: string;
  /** The input interface of an `iif` lookup. */
  iif?: string;
  mark?: number;
  uid?: number;
}

export interface Nexthop {
  gateway?: string;
  interface?: string;
  ifindex: number;
  weight: number;
  flags: string[];
}

/** One entry of a routing table, as `ip route show table all` lists it. */
export interface RouteEntry {
  /** The destination prefix in CIDR form; the default route is `0.0.0.0/0` or `::/0`. */
  destination: string;
  prefixLength: number;
  family: 4 | 6;
  type: RouteType;
  table: number;
  protocol: string;
  scope: Scope;
  flags: string[];
  interface?: string;
  ifindex?: number;
  gateway?: string;
  /** RTA_PREFSRC. */
  source?: string;
  /** Source-specific routes (IPv6 `from` prefix). */
  sourcePrefix?: string;
  metric?: number;
  mtu?: number;
  tos?: number;
  /** IPv6 router preference: 'low' | 'medium' | 'high'. */
  pref?: string;
  /** Seconds until the route expires (RA-learned routes). */
  expires?: number;
  nexthops?: Nexthop[];
}

const QUERY_KEYS = new Set(['from', 'interface', 'iif', 'mark', 'uid', 'tos', 'protocol', 'sourcePort', 'destinationPort', 'cache']);

/** Validates a RouteQuery and turns it into the addon's query; throws typed errors only. */
export function toNativeQuery(destination: unknown, options: unknown): NativeRouteQuery {
  const dst = parseIpLiteral('destination', destination);
  const query: NativeRouteQuery = { destination: dst.address };
  if (dst.zone !== undefined) query.oif = /^\d+$/.test(dst.zone) ? Number(dst.zone) : dst.zone;
  if (options === undefined) return query;
  const o = validateObject<RouteQuery>('options', options);
  rejectUnknownKeys('options', o, QUERY_KEYS);
  if (o.from !== undefined) {
    const from = parseIpLiteral('options.from', o.from, false);
    if (from.family !== dst.family) throw invalidArgValue('options.from', o.from, `is an IPv${from.family} address but the destination is IPv${dst.family}`);
    query.from = from.address;
  }
  if (o.interface !== undefined) {
    const oif = validateInterface('options.interface', o.interface);
    if (query.oif !== undefined && query.oif !== oif) {
      throw invalidArgValue('options.interface', o.interface, `disagrees with the destination's zone %${dst.zone}`);
    }
    query.oif = oif;
  }
  if (o.iif !== undefined) query.iif = validateInterface('options.iif', o.iif);
  if (o.mark !== undefined) query.mark = validateInteger('options.mark', o.mark, 0, 0xffffffff);
  if (o.uid !== undefined) query.uid = validateInteger('options.uid', o.uid, 0, 0xfffffffe);
  if (o.tos !== undefined) query.tos = validateInteger('options.tos', o.tos, 0, 255);
  if (o.protocol !== undefined) query.ipProto = validateProtocol('options.protocol', o.protocol);
  if (o.sourcePort !== undefined) query.sourcePort = validatePort('options.sourcePort', o.sourcePort);
  if (o.destinationPort !== undefined) query.destinationPort = validatePort('options.destinationPort', o.destinationPort);
  if (o.cache !== undefined && typeof o.cache !== 'boolean') throw invalidArgType('options.cache', 'of type boolean', o.cache);
  return query;
}

const scratch = new Float64Array(native.routeScratch);

function isUnspecified(address: string): boolean {
  return address === '::' || address === '0.0.0.0';
}

/** Builds the answer from the addon's scratch slots (see RouteSlot) and its five strings. */
function readRoute(strings: [string?, string?, string?, string?, string?], destination: string): Route {
  const [gateway, source, from, oifName, iifName] = strings;
  const route: Route = {
    destination,
    family: scratch[RouteSlot.Version] as 4 | 6,
    type: routeTypeName(scratch[RouteSlot.Type]),
    table: scratch[RouteSlot.Table],
    protocol: protocolName(scratch[RouteSlot.Protocol]),
    scope: scopeName(scratch[RouteSlot.Scope]),
    flags: routeFlagNames(scratch[RouteSlot.Flags]),
  };
  if (oifName !== undefined) route.interface = oifName;
  if (scratch[RouteSlot.Oif] !== 0) route.ifindex = scratch[RouteSlot.Oif];
  if (source !== undefined) route.source = source;
  if (gateway !== undefined) route.gateway = gateway;
  if (scratch[RouteSlot.Priority] >= 0) route.metric = scratch[RouteSlot.Priority];
  if (scratch[RouteSlot.Mtu] !== 0) route.mtu = scratch[RouteSlot.Mtu];
  if (from !== undefined && scratch[RouteSlot.SrcLen] > 0 && !isUnspecified(from)) route.from = from;
  if (iifName !== undefined) route.iif = iifName;
  if (scratch[RouteSlot.Mark] >= 0) route.mark = scratch[RouteSlot.Mark];
  if (scratch[RouteSlot.Uid] >= 0) route.uid = scratch[RouteSlot.Uid];
  // Answers may be shared through the cache: nobody may change one under another caller.
  Object.freeze(route.flags);
  return Object.freeze(route);
}

// The route cache: answers keyed by destination and query, dropped wholesale whenever the
// kernel announces any change (see coherence.ts), bounded with least-recently-used eviction.
const cache = new Map<string, Route>();
let cacheGeneration = -1;
let maxEntries = 4096;

function queryKey(q: NativeRouteQuery): string {
  return `${q.destination}|${q.from ?? ''}|${q.oif ?? ''}|${q.iif ?? ''}|${q.mark ?? ''}|${q.uid ?? ''}|${q.tos ?? ''}|${q.ipProto ?? ''}|${q.sourcePort ?? ''}|${q.destinationPort ?? ''}`;
}

/** Empties the route cache. */
export function clearRouteCache(): void {
  cache.clear();
}

export interface RouteCacheOptions {
  /** Most answers kept (default 4096); 0 turns the cache off. */
  maxEntries?: number;
}

/** Sets the cache's bound; the oldest-used answers beyond it are dropped at once. */
export function configureRouteCache(options: RouteCacheOptions): void {
  const o = validateObject<RouteCacheOptions>('options', options);
  rejectUnknownKeys('options', o, new Set(['maxEntries']));
  if (o.maxEntries !== undefined) maxEntries = validateInteger('options.maxEntries', o.maxEntries, 0, 2 ** 24);
  for (const key of cache.keys()) {
    if (cache.size <= maxEntries) break;
    cache.delete(key);
  }
}

/** Route cache statistics, for tests and tuning. */
export function routeCacheStats(): { size: number; maxEntries: number } {
  return { size: cache.size, maxEntries };
}

/**
 * Asks the kernel which route, interface, source and gateway it would use for `destination`
 * (an IP literal, optionally with a zone), exactly as `ip route get` does. Synchronous: one
 * netlink round trip, or a cached answer that no announced change has made stale.
 */
export function routeTo(destination: string, options?: RouteQuery): Route {
  const useCache = maxEntries > 0 && options?.cache !== false;
  // The fast path: a plain destination string is its own key, and only valid input is cached.
  let key = useCache && options === undefined && typeof destination === 'string' ? destination : undefined;
  if (useCache) {
    const generation = currentGeneration();
    if (generation !== cacheGeneration) {
      cache.clear();
      cacheGeneration = generation;
    }
    if (key !== undefined) {
      const hit = cache.get(key);
      if (hit !== undefined) return touch(key, hit);
    }
  }
  const q = toNativeQuery(destination, options);
  if (useCache && key === undefined) {
    key = queryKey(q);
    const hit = cache.get(key);
    if (hit !== undefined) return touch(key, hit);
  }
  const route = lookUp(q);
  if (key !== undefined) {
    if (cache.size >= maxEntries) cache.delete(cache.keys().next().value as string);
    cache.set(key, route);
  }
  return route;
}

function touch(key: string, route: Route): Route {
  cache.delete(key);
  cache.set(key, route);
  return route;
}

function lookUp(q: NativeRouteQuery): Route {
  let strings: [string?, string?, string?, string?, string?];
  try {
    strings = native.routeGet(q.destination, q.from, q.oif, q.iif, q.mark, q.uid, q.tos, q.ipProto, q.sourcePort, q.destinationPort);
  } catch (error) {
    if (isSystemError(error)) {
      error.destination = q.destination;
      if (q.oif !== undefined) error.interface = q.oif;
      error.message = `routeTo ${error.code} ${q.destination}` + (q.oif !== undefined ? ` via ${q.oif}` : '') +
        (error.syscall === 'RTM_GETROUTE' ? '' : ` (${error.syscall})`);
    }
    throw error;
  }
  if (q.oif !== undefined) {
    const answered = typeof q.oif === 'number' ? scratch[RouteSlot.Oif] : strings[3];
    // The kernel's two ways of saying "no route leaves there": an invented on-link answer from
    // no table at all (IPv4), or an answer through some other interface (IPv6 with a source).
    if (scratch[RouteSlot.Table] === 0 || answered !== q.oif) {
      throw systemError('ENETUNREACH', 'RTM_GETROUTE', `${q.destination}: no route leaves through ${q.oif}`, {
        destination: q.destination,
        interface: q.oif,
      });
    }
  }
  return readRoute(strings, q.destination);
}

export function toEntry(r: NativeRoute): RouteEntry {
  const any = r.version === 4 ? '0.0.0.0' : '::';
  const entry: RouteEntry = {
    destination: `${r.destination ?? any}/${r.dstLen}`,
    prefixLength: r.dstLen,
    family: r.version,
    type: routeTypeName(r.type),
    table: r.table,
    protocol: protocolName(r.protocol),
    scope: scopeName(r.scope),
    flags: routeFlagNames(r.flags),
  };
  if (r.oifName !== undefined) entry.interface = r.oifName;
  if (r.oif !== undefined) entry.ifindex = r.oif;
  if (r.gateway !== undefined) entry.gateway = r.gateway;
  if (r.preferredSource !== undefined) entry.source = r.preferredSource;
  if (r.sourcePrefix !== undefined && r.srcLen > 0) entry.sourcePrefix = `${r.sourcePrefix}/${r.srcLen}`;
  if (r.priority !== undefined) entry.metric = r.priority;
  if (r.mtu !== undefined) entry.mtu = r.mtu;
  if (r.tos !== 0) entry.tos = r.tos;
  if (r.pref !== undefined) entry.pref = r.pref === 3 ? 'low' : r.pref === 1 ? 'high' : 'medium';
  if (r.expires !== undefined) entry.expires = r.expires;
  if (r.nexthops !== undefined) {
    entry.nexthops = r.nexthops.map((h) => ({
      ...(h.gateway !== undefined ? { gateway: h.gateway } : {}),
      ...(h.interface !== undefined ? { interface: h.interface } : {}),
      ifindex: h.ifindex,
      weight: h.weight,
      flags: routeFlagNames(h.flags),
    }));
  }
  return entry;
}

export interface RoutesOptions {
  family?: 4 | 6;
  /** A table number, 'main', 'local', 'default', or 'all' (the default). */
  table?: number | 'all' | 'main' | 'local' | 'default';
}

/** The routing tables, like `ip -j route show table all` (both families unless `family` is set). */
export function routes(options?: RoutesOptions): RouteEntry[] {
  let version: 0 | 4 | 6 = 0;
  let table: number | undefined;
  if (options !== undefined) {
    const o = validateObject<RoutesOptions>('options', options);
    rejectUnknownKeys('options', o, new Set(['family', 'table']));
    if (o.family !== undefined) {
      if (o.family !== 4 && o.family !== 6) throw invalidArgValue('options.family', o.family, 'must be 4 or 6');
      version = o.family;
    }
    if (o.table !== undefined && o.table !== 'all') {
      if (typeof o.table === 'string') {
        table = TABLES[o.table];
        if (table === undefined) throw invalidArgValue('options.table', o.table, "must be a number, 'main', 'local', 'default' or 'all'");
      } else {
        table = validateInteger('options.table', o.table, 0, 0xffffffff);
      }
    }
  }
  const entries = native.dumpRoutes(version).map(toEntry);
  return table === undefined ? entries : entries.filter((e) => e.table === table);
}
