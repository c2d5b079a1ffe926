// Socket creation shared by clients, UDP sockets and servers: the addon makes the socket (bind,
// pin, mark), and Node is handed the fd.
import * as net from 'node:net';

import { native, type NativeSocket } from './binding';
import { ownerOf, type Decision, type ValidRouting } from './decide';
import { record } from './describe';
import { systemError } from './errors';
import { interfaceNamed } from './interfaces';
import { parseIpLiteral } from './validate';

/** Opens the socket a decision calls for: bound to its source, pinned to its interface. */
export function openSocket(type: 'tcp' | 'udp', decision: Decision, routing: ValidRouting, extra: { port?: number; reuseAddress?: boolean; reusePort?: boolean; v6only?: boolean }): NativeSocket {
  return native.createSocket({
    version: decision.family,
    type,
    address: decision.source,
    port: extra.port ?? 0,
    ...(decision.scopeId !== undefined ? { scopeId: decision.scopeId } : {}),
    ...(decision.pin ? { ifindex: decision.ifindex, ifname: decision.interface } : {}),
    strict: routing.strict,
    ...(routing.mark !== undefined ? { mark: routing.mark } : {}),
    bindAddressNoPort: type === 'tcp' && !extra.port,
    ...(extra.reuseAddress ? { reuseAddress: true } : {}),
    ...(extra.reusePort ? { reusePort: true } : {}),
    ...(extra.v6only !== undefined ? { v6only: extra.v6only } : {}),
  });
}


/** Wraps an fd in a net.Socket; if Node refuses it the fd is still ours, so close it. */
export function wrapStream(fd: number, options: net.SocketConstructorOpts & { manualStart?: boolean }): net.Socket {
  try {
    return new net.Socket({ ...options, fd });
  } catch (error) {
    native.closeSocket(fd);
    throw error;
  }
}


/**
 * Bind for a listening socket: an interface (pin there; its address or the wildcard) and/or a
 * specific local address (pin to the interface that owns it).
 */
export function bindForServer(type: 'tcp' | 'udp', family: 4 | 6, address: string | undefined, port: number, iface: string | number | undefined, routing: ValidRouting, extra: { reuseAddress?: boolean; reusePort?: boolean; v6only?: boolean }, target: object): NativeSocket {
  const wildcard = address === undefined || address === '0.0.0.0' || address === '::';
  const literal = wildcard ? undefined : parseIpLiteral('address', address);
  let owner = iface === undefined ? undefined : interfaceNamed(iface);
  if (iface !== undefined && owner === undefined) {
    throw systemError('ENODEV', 'bind', `no interface ${iface}`, { interface: iface });
  }
  if (literal !== undefined) {
    const key = literal.address;
    const holder = ownerOf(literal);
    if (holder === undefined) throw systemError('EADDRNOTAVAIL', 'bind', `${key}: no interface of this host has that address`, { address: key, port });
    if (owner !== undefined && holder.ifindex !== owner.ifindex) {
      throw systemError('EADDRNOTAVAIL', 'bind', `${key} is on ${holder.name}, not on ${owner.name}`, { address: key, interface: owner.name, port });
    }
    owner = holder;
  }
  const version = literal?.family ?? (address === '0.0.0.0' ? 4 : address === '::' ? 6 : family);
  // A service address on a loopback device (an anycast VIP, …) belongs to no link: pinning to lo
  // would keep every reply on the host. Such a socket is bound, not pinned, unless an interface
  // was asked for; loopback's own addresses (127/8, ::1) are pinned as any other.
  const serviceAddress = literal !== undefined && iface === undefined && owner?.flags.includes('loopback') === true &&
    !/^127\./.test(literal.address) && literal.address !== '::1';
  const pin = routing.pin && owner !== undefined && !serviceAddress;
  const made = native.createSocket({
    version,
    type,
    ...(literal ? { address: literal.address } : {}),
    port,
    ...(literal?.zone !== undefined && owner ? { scopeId: owner.ifindex } : {}),
    ...(pin && owner ? { ifindex: owner.ifindex, ifname: owner.name } : {}),
    strict: routing.strict,
    ...(routing.mark !== undefined ? { mark: routing.mark } : {}),
    ...(extra.reuseAddress ? { reuseAddress: true } : {}),
    ...(extra.reusePort ? { reusePort: true } : {}),
    ...(extra.v6only !== undefined && version === 6 ? { v6only: extra.v6only } : {}),
  });
  record(target, undefined, made, literal?.address ?? (version === 6 ? '::' : '0.0.0.0'), owner ? { name: owner.name, index: owner.ifindex } : undefined);
  return made;
}

