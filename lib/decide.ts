// The strong end-system decision: for one destination, which source to bind and which interface
// to pin, so that the two always agree. Pure policy over routeTo() and interfaces().
import { isSystemError, systemError } from './errors';
import { currentInterfaces, type NetworkInterface } from './interfaces';
import { routeTo, type Route, type RouteQuery } from './route';
import { parseIpLiteral, validateBoolean, validateInteger, validateInterface, type IpLiteral } from './validate';

/** Options every routebind socket takes on top of Node's own. */
export interface RoutingOptions {
  /** Pin to this interface (name or index) and send from its address. */
  interface?: string | number;
  /** Pin to the interface that owns this address (default true). `false` binds the source only. */
  pin?: boolean;
  /** Fail instead of falling back to an unpinned socket when pinning is not permitted. */
  strict?: boolean;
  /** SO_MARK for the socket, and the fwmark the route lookup is made with. */
  mark?: number;
}

export interface Decision {
  destination: string;
  family: 4 | 6;
  route: Route;
  source: string;
  interface: string;
  ifindex: number;
  /** Whether to pin: the caller's `pin` (default true). */
  pin: boolean;
  /** The IPv6 zone of a link-local source. */
  scopeId?: number;
}

export interface ValidRouting {
  interface?: string | number;
  localAddress?: IpLiteral;
  pin: boolean;
  strict: boolean;
  mark?: number;
}

export function validateRouting(o: RoutingOptions & { localAddress?: unknown }, prefix = 'options'): ValidRouting {
  const v: ValidRouting = { pin: true, strict: false };
  if (o.interface !== undefined) v.interface = validateInterface(`${prefix}.interface`, o.interface);
  if (o.localAddress !== undefined) v.localAddress = parseIpLiteral(`${prefix}.localAddress`, o.localAddress);
  if (o.pin !== undefined) v.pin = validateBoolean(`${prefix}.pin`, o.pin);
  if (o.strict !== undefined) v.strict = validateBoolean(`${prefix}.strict`, o.strict);
  if (o.mark !== undefined) v.mark = validateInteger(`${prefix}.mark`, o.mark, 0, 0xffffffff);
  return v;
}

/** Expands an IP literal to a canonical key, so `fd00:b:0::2` and `fd00:b::2` compare equal. */
export function addressKey(address: string): string {
  const plain = address.split('%')[0].toLowerCase();
  if (!plain.includes(':')) return plain;
  let text = plain;
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number);
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const headParts = head ? head.split(':') : [];
  const tailParts = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const fill = tail === undefined ? [] : new Array(8 - headParts.length - tailParts.length).fill('0');
  return [...headParts, ...fill, ...tailParts].map((p) => parseInt(p, 16).toString(16)).join(':');
}

/** The interface that has `address`, whatever way the address is written. */
export function ownerOf(address: string, list: readonly NetworkInterface[]): NetworkInterface | undefined {
  const key = addressKey(address);
  return list.find((i) => i.addresses.some((a) => addressKey(a.address) === key));
}

function firstUsableAddress(iface: NetworkInterface, family: 4 | 6, linkLocal: boolean): string | undefined {
  const candidates = iface.addresses.filter((a) => a.family === family && !a.flags.includes('tentative') && !a.flags.includes('dadfailed'));
  const ranked = [
    ...candidates.filter((a) => !a.flags.includes('deprecated') && (a.scope === 'link') === linkLocal),
    ...candidates.filter((a) => !a.flags.includes('deprecated')),
    ...candidates,
  ];
  return ranked[0]?.address.split('%')[0];
}

function isLinkLocal6(address: string): boolean {
  return /^fe[89ab]/i.test(address);
}

/**
 * Decides source and interface for `destination` following routebind's contract:
 * 1. nothing given: the route's source and interface;
 * 2. localAddress: the interface that owns it, and a route through that interface;
 * 3. interface: a route through it, its preferred source (else its first address);
 * 4. both: the address must be on that interface.
 * Throws Node-shaped errors: ENETUNREACH, EADDRNOTAVAIL, ENODEV, EINVAL.
 */
export function decide(destination: IpLiteral, routing: ValidRouting): Decision {
  const query: RouteQuery = {};
  if (routing.mark !== undefined) query.mark = routing.mark;
  const target = destination.zone !== undefined ? `${destination.address}%${destination.zone}` : destination.address;
  const pin = routing.pin;
  let source: string | undefined;
  const local = routing.localAddress;

  if (local !== undefined) {
    if (local.family !== destination.family) {
      throw systemError('EINVAL', 'bind', `${local.address}: localAddress is IPv${local.family} but ${destination.address} is IPv${destination.family}`, {
        address: local.address, destination: destination.address,
      });
    }
    const list = currentInterfaces();
    const owner = ownerOf(local.address, list);
    if (owner === undefined) {
      throw systemError('EADDRNOTAVAIL', 'bind', `${local.address}: no interface of this host has that address`, { address: local.address });
    }
    if (routing.interface !== undefined && routing.interface !== owner.name && routing.interface !== owner.index) {
      throw systemError('EADDRNOTAVAIL', 'bind', `${local.address} is on ${owner.name}, not on ${routing.interface}`, {
        address: local.address, interface: routing.interface,
      });
    }
    source = local.address;
    query.from = local.address;
    // An address on a loopback device is a service address (anycast VIP, …): it is not tied to
    // a link, so the route decides the interface and the source is pinned there.
    if (!owner.flags.includes('loopback') || destination.address === local.address) query.interface = owner.name;
  } else if (routing.interface !== undefined) {
    query.interface = routing.interface;
  }

  let route: Route;
  try {
    route = lookUp(target, query, destination.family);
  } catch (error) {
    if (isSystemError(error)) {
      if (local !== undefined) error.address = local.address;
      if (query.interface !== undefined && error.code === 'ENETUNREACH') {
        error.message = `connect ENETUNREACH ${destination.address}: no route leaves through ${query.interface}` +
          (local !== undefined ? ` (the interface of ${local.address})` : '');
      }
    }
    throw error;
  }
  if (route.interface === undefined || route.ifindex === undefined) {
    throw systemError('ENETUNREACH', 'RTM_GETROUTE', `${destination.address}: the route names no interface`, { destination: destination.address });
  }
  if (route.type !== 'unicast' && route.type !== 'local' && route.type !== 'multicast' && route.type !== 'broadcast') {
    throw systemError('ENETUNREACH', 'RTM_GETROUTE', `${destination.address}: route of type ${route.type}`, { destination: destination.address });
  }

  if (source === undefined) {
    source = route.source;
    // With an interface asked for, the kernel's preferred source may belong to another one.
    if (source === undefined || (routing.interface !== undefined && ownerOf(source, currentInterfaces())?.name !== route.interface)) {
      const iface = currentInterfaces().find((i) => i.name === route.interface);
      source = iface && firstUsableAddress(iface, destination.family, isLinkLocal6(destination.address));
    }
    if (source === undefined) {
      throw systemError('EADDRNOTAVAIL', 'bind', `${route.interface} has no IPv${destination.family} address to send from`, {
        interface: route.interface, destination: destination.address,
      });
    }
  }
  const decision: Decision = {
    destination: destination.address,
    family: destination.family,
    route,
    source,
    interface: route.interface,
    ifindex: route.ifindex,
    pin,
  };
  if (destination.family === 6 && isLinkLocal6(source)) decision.scopeId = route.ifindex;
  return decision;
}

/**
 * RTM_GETROUTE cannot say "as a socket pinned to this interface would": for IPv6 with a source
 * given, the kernel takes the interface only as a preference and may answer through a better
 * route elsewhere, although a pinned socket (strict interface lookup) would use the route that
 * does leave there. So ask IPv6 the strict way, without the source, when the first answer
 * leaves elsewhere; IPv4 is strict either way.
 */
function lookUp(target: string, query: RouteQuery, family: 4 | 6): Route {
  try {
    // An empty query takes routeTo's cheapest cache path (the destination string is the key).
    return routeTo(target, Object.keys(query).length === 0 ? undefined : query);
  } catch (error) {
    const retry = family === 6 && query.from !== undefined && query.interface !== undefined &&
      isSystemError(error) && error.code === 'ENETUNREACH' && error.syscall === 'RTM_GETROUTE';
    if (!retry) throw error;
    const { from: _from, ...strict } = query;
    void _from;
    return routeTo(target, strict);
  }
}
