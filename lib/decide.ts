// The strong end-system decision: for one destination, which source to bind and which interface
// to pin, so that the two always agree. Pure policy over routeTo() and interfaces().
import { holdGeneration, releaseGeneration } from './coherence';
import { isSystemError, systemError } from './errors';
import { interfaceNamed, ownersOf, type NetworkInterface } from './interfaces';
import { MISSING_SOCKET_OPTIONS, refuseMissingOptions } from './platform';
import { routeTo, type Route, type RouteQuery } from './route';
import { ipv6Words, isLinkLocal6, parseIpLiteral, validateBoolean, validateInteger, validateInterface, type IpLiteral } from './validate';

/** Options every routebind socket takes on top of Node's own. */
export interface RoutingOptions {
  /**
   * Pin to this interface (name or index) and send from its address. On Windows, where a socket
   * is held to an interface by binding one of its addresses (strong host), that address.
   */
  interface?: string | number;
  /** Pin to the interface that owns this address (default true). `false` binds the source only. */
  pin?: boolean;
  /**
   * Fail instead of falling back to an unpinned socket when pinning is not permitted (Linux:
   * EPERM), or on Windows when the interface sends weak-host (WeakHostSend on) or that cannot be
   * read (ENOTSUP).
   */
  strict?: boolean;
  /** SO_MARK for the socket, and the fwmark the route lookup is made with. Linux only: elsewhere ERR_ROUTEBIND_UNSUPPORTED_OPTION. */
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

export function validateRouting(o: RoutingOptions & { localAddress?: unknown }, prefix = 'options', localAddress: unknown = o.localAddress): ValidRouting {
  refuseMissingOptions(prefix, o, MISSING_SOCKET_OPTIONS);
  const v: ValidRouting = { pin: true, strict: false };
  if (o.interface !== undefined) v.interface = validateInterface(`${prefix}.interface`, o.interface);
  if (localAddress !== undefined) v.localAddress = parseIpLiteral(`${prefix}.localAddress`, localAddress);
  if (o.pin !== undefined) v.pin = validateBoolean(`${prefix}.pin`, o.pin);
  if (o.strict !== undefined) v.strict = validateBoolean(`${prefix}.strict`, o.strict);
  if (o.mark !== undefined) v.mark = validateInteger(`${prefix}.mark`, o.mark, 0, 0xffffffff);
  return v;
}

/**
 * Expands an IP literal to its eight 16-bit words in hex, colon-separated (IPv4 unchanged): a
 * key for prefix arithmetic (doctor.ts). Lookups compare parseIpLiteral()'s canonical text.
 */
export function addressKey(address: string): string {
  const plain = address.split('%')[0].toLowerCase();
  return plain.includes(':') ? ipv6Words(plain).map((w) => w.toString(16)).join(':') : plain;
}

/**
 * The interface that has `address`. A zone decides between interfaces that share a link-local
 * address (fe80::1%ethB is ethB's even when ethA has fe80::1 too); a zone naming no interface
 * is ENODEV, like a missing interface name anywhere else.
 */
export function ownerOf(address: IpLiteral): NetworkInterface | undefined {
  const owners = ownersOf(address.address);
  if (address.zone === undefined) return owners[0];
  const zone = interfaceNamed(/^\d+$/.test(address.zone) ? Number(address.zone) : address.zone);
  if (zone === undefined) {
    throw systemError('ENODEV', 'bind', `${address.address}%${address.zone}: no interface ${address.zone}`, {
      address: address.address, interface: address.zone,
    });
  }
  return owners.find((o) => o.ifindex === zone.ifindex);
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

function zoned(literal: IpLiteral): string {
  return literal.zone !== undefined ? `${literal.address}%${literal.zone}` : literal.address;
}

/**
 * Decides source and interface for `destination` following routebind's contract:
 * 1. nothing given: the route's source and interface;
 * 2. localAddress: the interface that owns it, and a route through that interface; but a
 *    destination the kernel delivers locally (route type local: loopback, this host's own
 *    addresses) goes where the kernel delivers it, as a plain socket bound there would;
 * 3. interface: a route through it, its preferred source (else its first address);
 * 4. both: the address must be on that interface.
 * Throws Node-shaped errors: ENETUNREACH, EADDRNOTAVAIL, ENODEV, EINVAL.
 */
export function decide(destination: IpLiteral, routing: ValidRouting): Decision {
  const previous = holdGeneration();
  try {
    return decideOnce(destination, routing);
  } finally {
    releaseGeneration(previous);
  }
}

function decideOnce(destination: IpLiteral, routing: ValidRouting): Decision {
  // No query at all without a mark: routeTo's cheapest cache path (the destination is the key).
  const base: RouteQuery | undefined = routing.mark !== undefined ? { mark: routing.mark } : undefined;
  const target = zoned(destination);
  const local = routing.localAddress;
  let route: Route;
  let source: string | undefined;

  if (local !== undefined) {
    if (local.family !== destination.family) {
      throw systemError('EINVAL', 'bind', `${local.address}: localAddress is IPv${local.family} but ${destination.address} is IPv${destination.family}`, {
        address: local.address, destination: destination.address,
      });
    }
    const owner = ownerOf(local);
    if (owner === undefined) {
      throw systemError('EADDRNOTAVAIL', 'bind', `${zoned(local)}: no interface of this host has that address`, { address: local.address });
    }
    if (routing.interface !== undefined) {
      const asked = interfaceNamed(routing.interface);
      if (asked === undefined) throw systemError('ENODEV', 'bind', `no interface ${routing.interface}`, { interface: routing.interface });
      if (asked.ifindex !== owner.ifindex) {
        throw systemError('EADDRNOTAVAIL', 'bind', `${local.address} is on ${owner.name}, not on ${routing.interface}`, {
          address: local.address, interface: routing.interface,
        });
      }
    }
    if (destination.zone !== undefined) {
      // A link-local destination is on the link its zone names: the source must be there too.
      const link = interfaceNamed(/^\d+$/.test(destination.zone) ? Number(destination.zone) : destination.zone);
      if (link === undefined) throw systemError('ENODEV', 'connect', `no interface ${destination.zone}`, { interface: destination.zone });
      if (link.ifindex !== owner.ifindex) {
        throw systemError('EADDRNOTAVAIL', 'bind', `${zoned(local)} is on ${owner.name}, but ${target} is on ${link.name}`, {
          address: local.address, destination: destination.address,
        });
      }
    }
    source = local.address;
    const from = { ...base, from: local.address };
    // Where the kernel delivers it unpinned: a local destination stays there (lo), and an
    // address on a loopback device is a service address (anycast VIP, …), tied to no link, so
    // the route decides the interface and the source is pinned there.
    let delivered: Route | undefined;
    if (routing.interface === undefined) delivered = lookUp(target, from, destination, local, undefined);
    if (delivered !== undefined && (delivered.type === 'local' || owner.flags.includes('loopback'))) {
      route = delivered;
    } else {
      const through = routing.interface ?? owner.ifindex;
      route = lookUp(target, { ...from, interface: through }, destination, local, routing.interface !== undefined ? routing.interface : owner.name);
    }
  } else {
    route = lookUp(target, routing.interface !== undefined ? { ...base, interface: routing.interface } : base, destination, undefined, routing.interface ?? destination.zone);
  }

  if (route.interface === undefined || route.ifindex === undefined) {
    throw systemError('ENETUNREACH', 'RTM_GETROUTE', `${destination.address}: the route names no interface`, { destination: destination.address });
  }
  if (route.type !== 'unicast' && route.type !== 'local' && route.type !== 'multicast' && route.type !== 'broadcast') {
    throw systemError('ENETUNREACH', 'RTM_GETROUTE', `${destination.address}: route of type ${route.type}`, { destination: destination.address });
  }

  if (source === undefined) {
    source = unzoned(route.source);
    // With an interface asked for, the kernel's preferred source may belong to another one.
    if (source === undefined || (routing.interface !== undefined && !ownersOf(source).some((o) => o.ifindex === route.ifindex))) {
      const iface = interfaceNamed(route.ifindex);
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
    pin: routing.pin && (route.type !== 'local' || pinsLocally(source, route.ifindex)),
  };
  if (destination.family === 6 && isLinkLocal6(source)) decision.scopeId = linkOf(source, destination, route.type, decision.ifindex);
  return decision;
}

/**
 * The link a link-local source belongs to: the route's interface, except for a destination this
 * host delivers to itself (through lo), where it is the link the zone or the address names.
 */
function linkOf(source: string, destination: IpLiteral, type: Route['type'], ifindex: number): number {
  if (type !== 'local') return ifindex;
  const zone = destination.zone === undefined ? undefined : interfaceNamed(/^\d+$/.test(destination.zone) ? Number(destination.zone) : destination.zone);
  return zone?.ifindex ?? ownersOf(source)[0]?.ifindex ?? ifindex;
}

/**
 * A destination this host delivers to itself goes through lo, but a socket pinned to lo hears
 * its replies only for lo's own addresses (the kernel matches them against the device that owns
 * the address): with any other source it is left unpinned, as plain Node's would be.
 */
function pinsLocally(source: string, ifindex: number): boolean {
  // Loopback's own ranges are on lo, which is index 1 in every namespace: no lookup needed.
  if (ifindex === 1 && (source === '::1' || source.startsWith('127.'))) return true;
  return ownersOf(source).some((o) => o.ifindex === ifindex);
}

function unzoned(address: string | undefined): string | undefined {
  if (address === undefined) return undefined;
  const percent = address.indexOf('%');
  return percent === -1 ? address : address.slice(0, percent);
}

/**
 * routeTo() for a socket: its errors speak of the connect, and name an interface only as the
 * caller gave it or as the interface of the caller's localAddress.
 */
function lookUp(target: string, query: RouteQuery | undefined, destination: IpLiteral, local: IpLiteral | undefined, through: string | number | undefined): Route {
  try {
    return routeTo(target, query);
  } catch (error) {
    if (isSystemError(error)) {
      if (local !== undefined) error.address = local.address;
      if (through !== undefined) error.interface = through;
      else delete error.interface;
      if (through !== undefined && error.code === 'ENETUNREACH') {
        error.message = `connect ENETUNREACH ${destination.address}: no route leaves through ${through}` +
          (local !== undefined ? ` (the interface of ${local.address})` : '');
      } else if (error.message.startsWith('routeTo ')) {
        error.message = `connect ${error.message.slice('routeTo '.length)}`;
      }
    }
    throw error;
  }
}
