// The describe() registry: what routebind applied to each socket or server it made, kept in a
// WeakMap so a description lives exactly as long as its socket.
import type { Decision } from './decide';
import type { NativeSocket } from './binding';
import type { Route } from './route';

/** What routebind decided for a socket, and what the kernel accepted. */
export interface SocketDescription {
  /** The destination of a client socket (absent for servers and unconnected UDP). */
  destination?: string;
  /** The route lookup the decision was made from. */
  route?: Route;
  /** The address the socket is bound to. */
  source: string;
  /** The interface the socket leaves through: pinned there unless `pinned` is null. */
  interface?: string;
  /** The index of `interface`. */
  ifindex?: number;
  /**
   * What holds the socket to `interface`: the socket option applied (SO_BINDTODEVICE on Linux,
   * IP_BOUND_IF on macOS), or on Windows 'strong-host' (the socket is bound to an address of that
   * interface, which has WeakHostSend off, so Windows sends only through it). null when nothing
   * holds it there.
   */
  pinned: 'SO_BINDTODEVICE' | 'IP_BOUND_IF' | 'strong-host' | null;
  /**
   * Why the socket is not held there although that was asked (and `strict` was not set): the
   * errno of the refused pin ('EPERM'); on Windows 'WeakHostSend' (the interface sends weak-host),
   * or the code of the failure to read that setting ('ENOSYS' under Wine).
   */
  pinError?: string;
  /**
   * How a socket bound, or a server listening, on the wildcard answers its clients (absent for
   * every other socket): 'address-asked' (Linux): each client from the address it sent to,
   * through the interface that owns it (a service address on a loopback device: through the
   * route to the client); a TCP server does it with one listener per local address, each bound
   * and pinned there (`perAddress`), a UDP socket with IP_PKTINFO on each datagram.
   * 'strong-host' (Windows): the OS itself answers from the address asked, through the interface
   * that owns it (where WeakHostSend is off). 'route': as Node's own, from the source the route
   * to the client picks (macOS, or `perAddress: false`).
   */
  answers?: 'address-asked' | 'strong-host' | 'route';
  /** A TCP server's listeners when `answers` is 'address-asked': each address, its interface and pin. */
  perAddress?: Array<{ address: string; interface: string; ifindex: number; pinned: string | null; pinError?: string }>;
}

const descriptions = new WeakMap<object, SocketDescription>();

// A TLS socket over a routebind socket describes as the socket underneath it.
const layeredOver = new WeakMap<object, object>();

/** What routebind applied to a socket or server it made (or to a TLS socket over one); undefined for anything else. */
export function describe(socket: object): SocketDescription | undefined {
  return descriptions.get(socket) ?? descriptions.get(layeredOver.get(socket) ?? socket);
}

/** Makes describe(upper) answer for `lower`, the routebind socket it runs over. */
export function describeAsLayer(upper: object, lower: object): void {
  layeredOver.set(upper, lower);
}


/**
 * Records what was applied to `target` (a socket or server routebind made).
 * @internal
 */
export function record(target: object, decision: Decision | undefined, made: Pick<NativeSocket, 'pinned' | 'pinError'>, source: string, iface?: { name: string; index: number }): void {
  // One literal per kind (no properties added one by one): record() runs on every connect.
  const pinned = made.pinned as SocketDescription['pinned'];
  const d: SocketDescription = decision
    ? { source, pinned, destination: decision.destination, route: decision.route, interface: decision.interface, ifindex: decision.ifindex }
    : iface
      ? { source, pinned, interface: iface.name, ifindex: iface.index }
      : { source, pinned };
  if (made.pinError !== undefined) d.pinError = made.pinError;
  descriptions.set(target, d);
}

/** Replaces the description of `target` (a pinned server's accepted connection, say). */
export function setDescription(target: object, description: SocketDescription): void {
  descriptions.set(target, description);
}
