// Windows sockets: Node on Windows cannot adopt a socket handle made elsewhere, so routebind
// cannot hand it a bound, pinned socket as on Linux and macOS. It needs none: since Vista the
// stack is a strong host (RFC 1122's strong end system model) on every interface whose
// WeakHostSend is off, the default, and sends a packet only from the interface that owns its
// source. Binding the routed source through Node's own `localAddress` (net) or bind address
// (dgram) therefore holds the socket to the interface, and describe() says so ('strong-host'),
// or reports null with the reason where WeakHostSend is on, or where it cannot be known (Wine).
import { currentGeneration } from './coherence';
import type { Decision, ValidRouting } from './decide';
import { windowsNative, type NativeIpInterfaceSettings } from './binding';
import { isSystemError, systemError } from './errors';
import type { NetworkInterface } from './interfaces';
import { isLinkLocal6 } from './validate';

/**
 * A socket that Node binds itself, to `address` (a zoned IPv6 link-local keeps its zone as the
 * interface index, which is what libuv's uv_ip6_addr reads on Windows).
 * @internal
 */
export interface BoundByNode {
  fd?: undefined;
  address: string;
  port: number;
  pinned: 'strong-host' | null;
  /** Why the socket is not held to its interface: 'WeakHostSend', or the code of the failure to find out ('ENOSYS' under Wine). */
  pinError?: string;
}

/**
 * What describe() says about a source bound on interface `ifindex`.
 * @internal
 */
export interface StrongHostPin {
  pinned: 'strong-host' | null;
  pinError?: string;
}

/**
 * The per-interface settings the pin depends on; throws a system error when they cannot be read.
 * @internal
 */
export type InterfaceSettings = (ifindex: number, family: 4 | 6) => NativeIpInterfaceSettings;

/**
 * GetIpInterfaceEntry through the addon. Under Wine it aborts the process, so it is never called
 * there: ENOSYS, and describe() reports the socket as not held.
 * @internal
 */
export function windowsSettings(): InterfaceSettings {
  const n = windowsNative();
  if (n.underWine) {
    return () => {
      throw systemError('ENOSYS', 'GetIpInterfaceEntry', 'is not implemented by Wine: WeakHostSend cannot be read');
    };
  }
  return (ifindex, family) => n.ipInterfaceSettings(ifindex, family);
}

// GetIpInterfaceEntry costs a call into iphlpapi: once per interface and family until the change
// feed moves (NotifyIpInterfaceChange reports a changed WeakHostSend).
let settingsGeneration = Number.NaN;
const settingsCache = new Map<string, StrongHostPin>();

/**
 * Whether the strong host model holds a socket bound on `ifindex` to that interface.
 * @internal
 */
export function strongHostPin(ifindex: number, family: 4 | 6, settings: InterfaceSettings): StrongHostPin {
  const generation = currentGeneration();
  if (generation !== settingsGeneration) {
    settingsCache.clear();
    settingsGeneration = generation;
  }
  const key = `${ifindex}/${family}`;
  let pin = settingsCache.get(key);
  if (pin === undefined) {
    try {
      pin = settings(ifindex, family).weakHostSend ? { pinned: null, pinError: 'WeakHostSend' } : { pinned: 'strong-host' };
    } catch (error) {
      // Unknown (Wine, an interface gone since the decision) is reported as not held:
      // describe() must not claim what nobody checked.
      if (!isSystemError(error)) throw error;
      pin = { pinned: null, pinError: error.code };
    }
    settingsCache.set(key, pin);
  }
  return pin;
}

/** The text Node's localAddress / bind take for `source`: a link-local one with its zone index. */
function bindable(source: string, family: 4 | 6, scopeId: number | undefined): string {
  return family === 6 && scopeId !== undefined && isLinkLocal6(source) ? `${source}%${scopeId}` : source;
}

/**
 * The Windows counterpart of openSocket(): the source Node is to bind, and whether the strong
 * host model holds it to the decision's interface. `strict` fails where it does not.
 * @internal
 */
export function bindByAddress(decision: Decision, routing: ValidRouting, port: number, settings: InterfaceSettings): BoundByNode {
  const pin: StrongHostPin = decision.pin ? strongHostPin(decision.ifindex, decision.family, settings) : { pinned: null };
  if (decision.pin && routing.strict && pin.pinned === null) throw notHeld(decision.interface, decision.source, decision.family, pin);
  return { address: bindable(decision.source, decision.family, decision.scopeId), port, ...pin };
}

/**
 * strict: the socket cannot be held to its interface.
 * @internal
 */
export function notHeld(iface: string, source: string, family: 4 | 6, pin: StrongHostPin): Error {
  const why = pin.pinError === 'WeakHostSend'
    ? `${iface} has WeakHostSend on, so Windows may send from ${source} through another interface (netsh interface ipv${family} set interface "${iface}" weakhostsend=disabled)`
    : `whether ${iface} sends weak-host cannot be read here (GetIpInterfaceEntry is unavailable)`;
  return systemError('ENOTSUP', 'bind', `${source}: strict: ${why}`, { address: source, interface: iface });
}

/**
 * The address a server socket binds on Windows when it is asked for an interface but no address
 * of it: Windows holds a socket to an interface only through one of its addresses. The family
 * asked for, else (Node's default '::') IPv4 first, then a global IPv6 address, then a link-local
 * one: a listener on one address, which describe() names.
 * @internal
 */
export function interfaceAddress(owner: NetworkInterface, family: 4 | 6 | undefined): { address: string; family: 4 | 6 } | undefined {
  const usable = owner.addresses.filter((a) => !a.flags.includes('tentative') && !a.flags.includes('dadfailed') && !a.flags.includes('deprecated'));
  const order: Array<(a: NetworkInterface['addresses'][number]) => boolean> = family !== undefined
    ? [(a) => a.family === family && a.scope !== 'link', (a) => a.family === family]
    : [(a) => a.family === 4, (a) => a.family === 6 && a.scope !== 'link', (a) => a.family === 6];
  for (const test of order) {
    const found = usable.find(test);
    // interfaces() zones a link-local address by the interface's name; libuv on Windows reads
    // only an index there.
    if (found !== undefined) return { address: found.address.includes('%') ? `${found.address.split('%')[0]}%${owner.ifindex}` : found.address, family: found.family };
  }
  return undefined;
}
