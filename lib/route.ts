// Route lookup: what `ip route get` and `ip route show table all` answer, through the addon.
import { native, RouteSlot, type NativeRoute, type NativeRouteQuery } from './binding';
import { currentGeneration, trustFeed } from './coherence';
import { invalidArgType, invalidArgValue, isSystemError, systemError } from './errors';
import { HOST, MISSING_QUERY_OPTIONS, refuseMissingOptions, requireBackend } from './platform';
import { protocolName, routeFlagNames, routeTypeName, scopeName, TABLES, type RouteType, type Scope } from './names';
import { isLinkLocal6, parseIpLiteral, rejectUnknownKeys, validateInteger, validateInterface, validateObject, validatePort, validateProtocol } from './validate';

/** The policy inputs of `ip route get`; each maps to the RTM_GETROUTE attribute iproute2 sends. */
export interface RouteQuery {
  /** Source address to route from (`from`; RTA_SRC): selects `ip rule from …` policies. */
  from?: string;
  /** Output interface, by name or index (`oif`; RTA_OIF). */
  interface?: string | number;
  /** Input interface, simulating a packet that arrived there (`iif`; RTA_IIF). Linux only: elsewhere ERR_ROUTEBIND_UNSUPPORTED_OPTION. */
  iif?: string | number;
  /** Firewall mark (`mark`; RTA_MARK), 0 … 2^32-1. Linux only: elsewhere ERR_ROUTEBIND_UNSUPPORTED_OPTION. */
  mark?: number;
  /** Socket owner uid (`uid`; RTA_UID). Linux only: elsewhere ERR_ROUTEBIND_UNSUPPORTED_OPTION. */
  uid?: number;
  /** Type of service byte (`tos`). Linux only: elsewhere ERR_ROUTEBIND_UNSUPPORTED_OPTION. */
  tos?: number;
  /** IP protocol (`ipproto`; RTA_IP_PROTO): 'tcp', 'udp', 'icmp' or a number. Linux only: elsewhere ERR_ROUTEBIND_UNSUPPORTED_OPTION. */
  protocol?: 'tcp' | 'udp' | 'icmp' | 'icmpv6' | 'sctp' | number;
  /** Source port (`sport`; RTA_SPORT). Linux only: elsewhere ERR_ROUTEBIND_UNSUPPORTED_OPTION. */
  sourcePort?: number;
  /** Destination port (`dport`; RTA_DPORT). Linux only: elsewhere ERR_ROUTEBIND_UNSUPPORTED_OPTION. */
  destinationPort?: number;
  /** `false` asks the kernel even when a cached answer is current. */
  cache?: boolean;
}

/** The kernel's answer for one destination (frozen: answers are shared through the cache). */
export interface Route {
  /** The destination asked about, as an IP literal (without its zone). */
  destination: string;
  /** IP version of the destination: 4 or 6. */
  family: 4 | 6;
  /** The route's type: 'unicast', 'local' (delivered to this host), 'blackhole', 'unreachable', … as `ip route` names it. */
  type: RouteType;
  /** The interface the packet leaves through. */
  interface?: string;
  /** The index of `interface`. */
  ifindex?: number;
  /**
   * The source a socket would send from: the query's `from` when one was given, otherwise the
   * kernel's preferred source. IPv6 link-local addresses carry their zone (`fe80::2%ethB`).
   */
  source?: string;
  /** The kernel's preferred source for this route (RTA_PREFSRC), whatever `from` was asked. */
  preferredSource?: string;
  /** The next hop; absent when the destination is on-link. A link-local one carries its zone. */
  gateway?: string;
  /** The routing table the answer came from (254 main, 255 local, or the number an `ip rule` chose). */
  table: number;
  /** Who installed the route, as `ip route` prints `proto`: 'kernel', 'boot', 'static', 'dhcp', 'ra', … or the number. */
  protocol: string;
  /** How far the destination is: 'global', 'link' (on-link), 'host' (this host), 'site', 'nowhere', or the number. */
  scope: Scope;
  /** Next-hop flags as `ip route` prints them: 'onlink', 'linkdown', 'dead', 'pervasive', 'offload', … */
  flags: string[];
  /** The route's metric (IPv4 as well: taken from the table entry that matched). */
  metric?: number;
  /** The route's MTU (RTAX_MTU), when the route sets one. */
  mtu?: number;
  /** The `from` the lookup was made with. */
  from?: string;
  /** The input interface of an `iif` lookup. */
  iif?: string;
  /** The firewall mark the lookup was made with. */
  mark?: number;
  /** The uid the lookup was made for (the caller's own unless `uid` was given; absent for `iif`). */
  uid?: number;
  /** IPv6 router preference of the route that matched (`pref` in `ip route get`). */
  pref?: 'low' | 'medium' | 'high';
}

/** One path of a multipath route. */
export interface Nexthop {
  /** The next hop of this path; a link-local one carries its zone. */
  gateway?: string;
  /** The interface this path leaves through. */
  interface?: string;
  /** The index of that interface. */
  ifindex: number;
  /** Relative weight for load sharing (`ip route`'s `weight`, 1 … 256). */
  weight: number;
  /** Next-hop flags: 'onlink', 'linkdown', 'dead', … */
  flags: string[];
}

/** One entry of a routing table, as `ip route show table all` lists it. */
export interface RouteEntry {
  /** The destination prefix in CIDR form; the default route is `0.0.0.0/0` or `::/0`. */
  destination: string;
  /** Length of the destination prefix in bits (0 for the default route). */
  prefixLength: number;
  /** IP version: 4 or 6. */
  family: 4 | 6;
  /** The route's type: 'unicast', 'local', 'broadcast', 'blackhole', 'unreachable', 'prohibit', … */
  type: RouteType;
  /** The routing table number (253 default, 254 main, 255 local). */
  table: number;
  /** Who installed the route (`proto`): 'kernel', 'boot', 'static', 'dhcp', 'ra', … or the number. */
  protocol: string;
  /** The route's scope: 'global', 'link', 'host', 'site', 'nowhere', or the number. */
  scope: Scope;
  /** Next-hop flags as `ip route` prints them: 'onlink', 'linkdown', 'dead', … */
  flags: string[];
  /** The interface the route leaves through (absent for multipath routes: see `nexthops`). */
  interface?: string;
  /** The index of `interface`. */
  ifindex?: number;
  /** The next hop; a link-local one carries its zone (`fe80::1%ethB`). */
  gateway?: string;
  /** The preferred source (RTA_PREFSRC, `src` in `ip route`), as in Route. */
  preferredSource?: string;
  /** Source-specific routes (IPv6 `from` prefix). */
  sourcePrefix?: string;
  /** The route's metric (`metric`, RTA_PRIORITY): lower wins. */
  metric?: number;
  /** The route's MTU (RTAX_MTU), when the route sets one. */
  mtu?: number;
  /** The type-of-service selector (`tos`); absent when 0. */
  tos?: number;
  /** IPv6 router preference: 'low' | 'medium' | 'high'. */
  pref?: string;
  /** Seconds until the route expires (RA-learned routes). */
  expires?: number;
  /** The paths of a multipath route (`nexthop via … dev … weight …`). */
  nexthops?: Nexthop[];
}

const QUERY_KEYS = new Set(['from', 'interface', 'iif', 'mark', 'uid', 'tos', 'protocol', 'sourcePort', 'destinationPort', 'cache']);

/**
 * Validates a RouteQuery and turns it into the addon's query; throws typed errors only.
 * @internal
 */
export function toNativeQuery(destination: unknown, options: unknown): NativeRouteQuery {
  const dst = parseIpLiteral('destination', destination);
  const query: NativeRouteQuery = { destination: dst.address };
  if (dst.zone !== undefined) query.oif = /^\d+$/.test(dst.zone) ? Number(dst.zone) : dst.zone;
  if (options === undefined) return query;
  const o = validateObject<RouteQuery>('options', options);
  rejectUnknownKeys('options', o, QUERY_KEYS);
  refuseMissingOptions('options', o, MISSING_QUERY_OPTIONS);
  if (o.from !== undefined) {
    const from = parseIpLiteral('options.from', o.from, false);
    if (from.family !== dst.family) throw invalidArgValue('options.from', o.from, `is an IPv${from.family} address but the destination is IPv${dst.family}`);
    query.from = from.address;
  }
  if (o.interface !== undefined) {
    const oif = validateInterface('options.interface', o.interface);
    if (query.oif !== undefined && query.oif !== oif && !sameInterface(query.oif, oif)) {
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

/** Whether two spellings (name, alternative name, index) name one interface: asks the kernel. */
function sameInterface(a: string | number, b: string | number): boolean {
  const index = (x: string | number) => (typeof x === 'number' ? x : native().linkIndex(x));
  return index(a) === index(b);
}

// The addon's scratch slots, viewed once the first lookup has the addon in hand (on an OS
// without a backend there is none, and the module must still load).
let scratch = new Float64Array(0);

/** Builds the answer to `q` from the addon's scratch slots (see RouteSlot) and its five strings. */
function readRoute(strings: [string?, string?, string?, string?, string?], q: NativeRouteQuery): Route {
  const [gateway, preferred, , oifName, iifName] = strings;
  const family = scratch[RouteSlot.Version] as 4 | 6;
  const ifindex = scratch[RouteSlot.Oif];
  // A link-local address means nothing without its link: name it as interfaces() does. Local
  // delivery goes through lo, but the addresses are still those of the link that was asked.
  const local = scratch[RouteSlot.Type] === RTN_LOCAL && q.oif !== undefined;
  const zone = local ? String(q.oif) : oifName ?? (ifindex !== 0 ? String(ifindex) : undefined);
  const zoned = (address: string) => (family === 6 && zone !== undefined && isLinkLocal6(address) ? `${address}%${zone}` : address);
  const route: Route = {
    destination: q.destination,
    family,
    type: routeTypeName(scratch[RouteSlot.Type]),
    table: scratch[RouteSlot.Table],
    protocol: protocolName(scratch[RouteSlot.Protocol]),
    scope: scopeName(scratch[RouteSlot.Scope]),
    flags: routeFlagNames(scratch[RouteSlot.Flags]),
  };
  if (oifName !== undefined) route.interface = oifName;
  if (ifindex !== 0) route.ifindex = ifindex;
  // A socket bound to `from` sends from it; an unbound one from the preferred source.
  const source = q.from ?? preferred;
  if (source !== undefined) route.source = zoned(source);
  if (preferred !== undefined) route.preferredSource = zoned(preferred);
  if (gateway !== undefined) route.gateway = zoned(gateway);
  if (scratch[RouteSlot.Priority] >= 0) route.metric = scratch[RouteSlot.Priority];
  if (scratch[RouteSlot.Mtu] !== 0) route.mtu = scratch[RouteSlot.Mtu];
  if (q.from !== undefined) route.from = zoned(q.from);
  if (iifName !== undefined) route.iif = iifName;
  if (scratch[RouteSlot.Mark] >= 0) route.mark = scratch[RouteSlot.Mark];
  // IPv4 answers say which uid the lookup was made for, IPv6 ones do not: the kernel takes the
  // caller's (real) uid unless one is given, and none for an input lookup. Only Linux routes by
  // uid at all.
  if (scratch[RouteSlot.Uid] >= 0) route.uid = scratch[RouteSlot.Uid];
  else if (q.uid !== undefined) route.uid = q.uid;
  else if (q.iif === undefined && LINUX && process.getuid !== undefined) route.uid = process.getuid();
  const pref = scratch[RouteSlot.Pref];
  if (family === 6 && pref >= 0) route.pref = pref === 3 ? 'low' : pref === 1 ? 'high' : 'medium';
  // Answers may be shared through the cache: nobody may change one under another caller.
  Object.freeze(route.flags);
  return Object.freeze(route);
}

// The route cache: answers keyed by destination and query, dropped wholesale whenever the
// kernel announces any change (see coherence.ts), bounded with least-recently-used eviction.
// Off by default on Windows, where no single call can tell that a change has been announced:
// notifications arrive later, on the thread pool (coherence.ts). Correct first.
const cache = new Map<string, Route>();
let cacheGeneration = Number.NaN;
let maxEntries = HOST === 'win32' ? 0 : 4096;

function queryKey(q: NativeRouteQuery): string {
  return `${q.destination}|${q.from ?? ''}|${q.oif ?? ''}|${q.iif ?? ''}|${q.mark ?? ''}|${q.uid ?? ''}|${q.tos ?? ''}|${q.ipProto ?? ''}|${q.sourcePort ?? ''}|${q.destinationPort ?? ''}`;
}

/** Empties the route cache. */
export function clearRouteCache(): void {
  cache.clear();
}

/** configureRouteCache()'s settings. */
export interface RouteCacheOptions {
  /**
   * Most answers kept (default 4096; on Windows 0); 0 turns the cache off. On Windows a cached
   * answer can be up to one change-notification delay old (notifications arrive on the thread
   * pool after the change), so the cache is off there until a program sets this above 0.
   */
  maxEntries?: number;
}

/** Sets the cache's bound; the oldest-used answers beyond it are dropped at once. */
export function configureRouteCache(options: RouteCacheOptions): void {
  const o = validateObject<RouteCacheOptions>('options', options);
  rejectUnknownKeys('options', o, new Set(['maxEntries']));
  if (o.maxEntries !== undefined) {
    maxEntries = validateInteger('options.maxEntries', o.maxEntries, 0, 2 ** 24);
    trustFeed(maxEntries > 0);
  }
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
  requireBackend();
  const useCache = maxEntries > 0 && options?.cache !== false;
  // The fast path: a plain destination string is its own key, and only valid input is cached.
  let key = useCache && options === undefined && typeof destination === 'string' ? destination : undefined;
  if (key !== undefined) {
    syncCache();
    const hit = cache.get(key);
    if (hit !== undefined) return touch(key, hit);
  }
  // Options are checked before the cache reads the feed: an option this OS lacks is refused
  // before any system call.
  const q = toNativeQuery(destination, options);
  if (useCache && key === undefined) {
    syncCache();
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

/** Drops every answer when the kernel has announced a change since they were cached. */
function syncCache(): void {
  const generation = currentGeneration();
  if (generation !== cacheGeneration) {
    cache.clear();
    cacheGeneration = generation;
  }
}

function touch(key: string, route: Route): Route {
  cache.delete(key);
  cache.set(key, route);
  return route;
}

function ask(q: NativeRouteQuery): [string?, string?, string?, string?, string?] {
  const n = native();
  if (scratch.length === 0) scratch = new Float64Array(n.routeScratch);
  try {
    return n.routeGet(q.destination, q.from, q.oif, q.iif, q.mark, q.uid, q.tos, q.ipProto, q.sourcePort, q.destinationPort);
  } catch (error) {
    // IPv6 may refuse an index naming no interface as unreachable: it is ENODEV, as a name is.
    if (isSystemError(error) && error.code === 'ENETUNREACH' && typeof q.oif === 'number' && native().linkName(q.oif) === undefined) {
      throw noInterface(q);
    }
    if (isSystemError(error)) {
      error.destination = q.destination;
      if (q.oif !== undefined) error.interface = q.oif;
      // What the OS added after "<syscall> <code>" (Windows: the Win32 name, and why) stays.
      const prefix = `${error.syscall} ${error.code}`;
      let osDetail = error.message.startsWith(prefix) ? error.message.slice(prefix.length).trim() : '';
      if (osDetail === String(q.oif)) osDetail = ''; // the interface name again: said once already
      const origin = error.syscall === 'RTM_GETROUTE' ? '' : String(error.syscall);
      error.message = `routeTo ${error.code} ${q.destination}` + (q.oif !== undefined ? ` via ${q.oif}` : '') +
        (origin || osDetail ? ` (${[origin, osDetail].filter(Boolean).join(' ')})` : '');
    }
    throw error;
  }
}

function noInterface(q: NativeRouteQuery): Error {
  return systemError('ENODEV', 'RTM_GETROUTE', `${q.destination}: no interface ${q.oif}`, { destination: q.destination, interface: q.oif });
}

const RTN_LOCAL = 2;
const LINUX = HOST === 'linux';

/** Whether the last answer really leaves through the interface the query asked for. */
function leavesThroughAsked(): boolean {
  // The kernel's two ways of saying "no route leaves there": an invented on-link answer from no
  // table at all (IPv4), or an answer through some other interface (IPv6). Indexes, not names,
  // are compared: the query may have named the interface by an alternative name.
  return scratch[RouteSlot.Table] !== 0 && scratch[RouteSlot.Oif] === scratch[RouteSlot.AskedOif];
}

/**
 * One lookup as a socket would see it. An interface in the query is a constraint, as it is for
 * a socket pinned there. IPv6 RTM_GETROUTE with both a source and an oif takes the oif only as a
 * preference and may answer through a better route elsewhere, although a route does leave
 * through the oif and a pinned socket (strict interface lookup) would use it: asked again without
 * the source, the kernel gives that route. IPv4 is strict either way.
 */
function lookUp(q: NativeRouteQuery): Route {
  let strings = ask(q);
  // A destination this host owns is delivered locally (through lo) whatever the oif, as it is
  // for a socket pinned there: the kernel's answer says so (type local).
  if (q.oif === undefined || leavesThroughAsked() || scratch[RouteSlot.Type] === RTN_LOCAL) return readRoute(strings, q);
  const asked = scratch[RouteSlot.AskedOif];
  if (scratch[RouteSlot.Version] === 6 && q.from !== undefined) {
    strings = ask({ ...q, from: undefined });
    if (leavesThroughAsked()) return readRoute(strings, q);
  }
  // An index (or zone) naming no interface is ENODEV, as a name naming none is.
  if (native().linkName(asked) === undefined) throw noInterface(q);
  throw systemError('ENETUNREACH', 'RTM_GETROUTE', `${q.destination}: no route leaves through ${q.oif}`, {
    destination: q.destination,
    interface: q.oif,
  });
}

/** @internal */
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
  const zoned = (address: string, name: string | undefined, index: number | undefined) =>
    (r.version === 6 && isLinkLocal6(address) && (name ?? index) !== undefined ? `${address}%${name ?? index}` : address);
  if (r.gateway !== undefined) entry.gateway = zoned(r.gateway, r.oifName, r.oif);
  if (r.preferredSource !== undefined) entry.preferredSource = zoned(r.preferredSource, r.oifName, r.oif);
  if (r.sourcePrefix !== undefined && r.srcLen > 0) entry.sourcePrefix = `${r.sourcePrefix}/${r.srcLen}`;
  if (r.priority !== undefined) entry.metric = r.priority;
  if (r.mtu !== undefined) entry.mtu = r.mtu;
  if (r.tos !== 0) entry.tos = r.tos;
  if (r.pref !== undefined) entry.pref = r.pref === 3 ? 'low' : r.pref === 1 ? 'high' : 'medium';
  if (r.expires !== undefined) entry.expires = r.expires;
  if (r.nexthops !== undefined) {
    entry.nexthops = r.nexthops.map((h) => ({
      ...(h.gateway !== undefined ? { gateway: zoned(h.gateway, h.interface, h.ifindex) } : {}),
      ...(h.interface !== undefined ? { interface: h.interface } : {}),
      ifindex: h.ifindex,
      weight: h.weight,
      flags: routeFlagNames(h.flags),
    }));
  }
  return entry;
}

/** What routes() lists. */
export interface RoutesOptions {
  /** Only IPv4 (4) or IPv6 (6) routes; both by default. */
  family?: 4 | 6;
  /** A table number, 'main', 'local', 'default', or 'all' (the default). */
  table?: number | 'all' | 'main' | 'local' | 'default';
}

/** The routing tables, like `ip -j route show table all` (both families unless `family` is set). */
export function routes(options?: RoutesOptions): RouteEntry[] {
  requireBackend();
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
  const entries = native().dumpRoutes(version).map(toEntry);
  return table === undefined ? entries : entries.filter((e) => e.table === table);
}
