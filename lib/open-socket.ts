// Socket creation shared by clients, UDP sockets and servers. On Linux and macOS the addon makes
// the socket (bind, pin, mark) and Node is handed the fd; on Windows, where Node cannot adopt a
// socket handle, Node binds the chosen source itself and the strong host model holds the socket
// to the interface that owns it (strong-host.ts).
import * as net from 'node:net';
import { constants } from 'node:os';
import { getSystemErrorMap } from 'node:util';

import { posixNative, type NativeSocket } from './binding';
import { type Decision, type ValidRouting } from './decide';
import { record } from './describe';
import { isSystemError, uvErrno, type SystemError } from './errors';
import { interfaceNamed, ownersOf, type NetworkInterface } from './interfaces';
import { HOST } from './platform';
import { bindByAddress, interfaceAddress, strongHostPin, notHeld, windowsSettings, type BoundByNode, type InterfaceSettings, type StrongHostPin } from './strong-host';
import { isLinkLocal6, isWildcard, parseIpLiteral, type IpLiteral } from './validate';

/**
 * A socket routebind opened: an fd the addon made, bound and pinned, or (Windows) the address Node is to bind.
 * @internal
 */
export type OpenedSocket = NativeSocket | BoundByNode;

/**
 * Whether sockets are bound by Node to a chosen address (Windows) rather than made by the addon.
 * @internal
 */
export const BINDS_BY_ADDRESS = HOST === 'win32';

let settings: InterfaceSettings | undefined;
/** @internal */
export function interfaceSettings(): InterfaceSettings {
  return (settings ??= windowsSettings());
}

/**
 * Replaces GetIpInterfaceEntry for the Windows socket path: the unit tests run that path on
 * Linux (process.platform overridden) with settings they choose.
 * @internal
 */
export function useInterfaceSettings(replacement: InterfaceSettings): void {
  settings = replacement;
}

/**
 * Opens the socket a decision calls for: bound to its source, pinned to its interface.
 * @internal
 */
export function openSocket(type: 'tcp' | 'udp', decision: Decision, routing: ValidRouting, extra: { port?: number; reuseAddress?: boolean; reusePort?: boolean; v6only?: boolean }): OpenedSocket {
  // Node applies the reuse and v6only flags itself when it binds.
  if (BINDS_BY_ADDRESS) return bindByAddress(decision, routing, extra.port ?? 0, interfaceSettings());
  return openFdSocket(type, decision, routing, extra);
}

/**
 * openSocket() on Linux and macOS: the addon makes the socket, bound and pinned, for Node to adopt.
 * @internal
 */
export function openFdSocket(type: 'tcp' | 'udp', decision: Decision, routing: ValidRouting, extra: { port?: number; reuseAddress?: boolean; reusePort?: boolean; v6only?: boolean }): NativeSocket {
  // Positional (createSocketFrom): a connect's socket is made on every call, and each option
  // read through N-API costs more than the rest of the argument passing together.
  const port = extra.port ?? 0;
  const flags = (routing.strict ? SOCKET_STRICT : 0) |
    (type === 'tcp' && !port ? SOCKET_BIND_ADDRESS_NO_PORT : 0) |
    (extra.reuseAddress ? SOCKET_REUSE_ADDRESS : 0) |
    (extra.reusePort ? SOCKET_REUSE_PORT : 0) |
    (extra.v6only !== undefined ? SOCKET_V6ONLY_SET | (extra.v6only ? SOCKET_V6ONLY : 0) : 0);
  return posixNative().createSocketFrom(decision.family, type, decision.source, port, decision.scopeId,
    decision.pin ? decision.ifindex : undefined, decision.pin ? decision.interface : undefined, flags, routing.mark);
}

// createSocketFrom's flags (native/posix/sockets.cc).
const SOCKET_STRICT = 1;
const SOCKET_REUSE_ADDRESS = 2;
const SOCKET_REUSE_PORT = 4;
const SOCKET_BIND_ADDRESS_NO_PORT = 8;
const SOCKET_V6ONLY_SET = 16;
const SOCKET_V6ONLY = 32;


/** Wraps an fd in a net.Socket; if Node refuses it the fd is still ours, so close it. */
export function wrapStream(fd: number, options: net.SocketConstructorOpts & { manualStart?: boolean }): net.Socket {
  try {
    return new net.Socket({ ...options, fd });
  } catch (error) {
    posixNative().closeSocket(fd);
    throw error;
  }
}


/**
 * wrapStream(fd, { ...options, manualStart: true }) in one copy of the caller's options (no read
 * is started before connect; Node starts one itself once connected).
 */
export function wrapConnecting(fd: number, options: Record<string, unknown>): net.Socket {
  try {
    return new net.Socket({ ...options, manualStart: true, fd } as net.SocketConstructorOpts);
  } catch (error) {
    posixNative().closeSocket(fd);
    throw error;
  }
}


/** The interface a zone names (by name, alternative name or index), if any. */
export function zoneInterface(zone: string): NetworkInterface | undefined {
  return interfaceNamed(/^\d+$/.test(zone) ? Number(zone) : zone);
}

/** Addresses a zone decides between: link-local unicast, and link-local multicast (ffx2::/16). */
function isZoned6(address: string): boolean {
  return isLinkLocal6(address) || /^ff[0-9a-f]2:/i.test(address);
}

/**
 * The interface that owns a local address, as the kernel would read it: a link-local address
 * belongs to the interface its zone names (two links may both have fe80::1), any other address
 * to the interface that has it (the kernel ignores a zone there). `zoneUnknown` when the zone
 * names no interface: the kernel then sees scope 0 and refuses a link-local bind with EINVAL.
 */
export function localOwner(literal: IpLiteral): { owner?: NetworkInterface; zoneUnknown?: true } {
  const owners = ownersOf(literal.address); // indexed once per cache generation
  if (literal.zone === undefined || !isZoned6(literal.address)) return { owner: owners[0] };
  const zoned = zoneInterface(literal.zone);
  if (zoned === undefined) return { zoneUnknown: true };
  return owners.some((o) => o.ifindex === zoned.ifindex) ? { owner: zoned } : {};
}

/**
 * A socket failure shaped as Node's own for `syscall` ('bind', 'send', 'connect' as dgram words
 * them, 'listen' as net does), with routebind's reason after Node's text. Node's properties (errno, code, syscall,
 * address, port) are enumerable as in Node; routebind's (interface, detail) are not, so code that
 * compares errors with Node's sees the same keys.
 */
export function socketError(syscall: 'bind' | 'listen' | 'send' | 'connect', code: keyof typeof constants.errno, address: string, port: number, detail: string, extra: Record<string, unknown> = {}): SystemError {
  const errno = uvErrno(code);
  const where = port > 0 ? `${address}:${port}` : address;
  const text = syscall === 'listen' ? `${syscall} ${code}: ${getSystemErrorMap().get(errno)?.[1] ?? code} ${where}` : `${syscall} ${code} ${where}`;
  const error = new Error(detail ? `${text}: ${detail}` : text) as SystemError;
  // In the order Node sets them: net's listen errors (UVExceptionWithHostPort) start with code, dgram's with errno.
  if (syscall === 'listen') Object.assign(error, { code, errno, syscall, address });
  else Object.assign(error, { errno, code, syscall, address });
  if (port) error.port = port;
  for (const [key, value] of Object.entries({ ...extra, detail })) {
    Object.defineProperty(error, key, { value, enumerable: false, writable: true, configurable: true });
  }
  return error;
}

export interface ServerBind {
  /** The address to bind, possibly with a zone; undefined or a wildcard for every address. */
  address?: string;
  port: number;
  /** Pin to this interface (name or index). */
  interface?: string | number;
  reuseAddress?: boolean;
  reusePort?: boolean;
  v6only?: boolean;
}

/**
 * Bind for a listening socket: an interface (pin there; its address or the wildcard) and/or a
 * specific local address (pin to the interface that owns it). Errors are Node's for `syscall`.
 * @internal
 */
export function bindForServer(type: 'tcp' | 'udp', family: 4 | 6, syscall: 'bind' | 'listen', spec: ServerBind, routing: ValidRouting, target: object): OpenedSocket {
  const { address, port } = spec;
  const iface = spec.interface;
  const wildcard = address === undefined || isWildcard(address);
  const literal = wildcard ? undefined : parseIpLiteral('address', address);
  const shown = address ?? (family === 6 ? '::' : '0.0.0.0');
  let owner = iface === undefined ? undefined : interfaceNamed(iface);
  if (iface !== undefined && owner === undefined) {
    throw socketError(syscall, 'ENODEV', shown, port, `no interface ${iface}`, { interface: iface });
  }
  if (literal !== undefined) {
    const found = localOwner(literal);
    if (found.zoneUnknown) {
      throw socketError(syscall, 'EINVAL', shown, port, `the zone %${literal.zone} names no interface of this host`);
    }
    const holder = found.owner;
    if (holder === undefined) {
      throw socketError(syscall, 'EADDRNOTAVAIL', shown, port, literal.zone !== undefined && isZoned6(literal.address)
        ? `${literal.zone} has no address ${literal.address}`
        : `no interface of this host has ${literal.address}`);
    }
    if (owner !== undefined && holder !== owner) {
      throw socketError(syscall, 'EADDRNOTAVAIL', shown, port, `${literal.address} is on ${holder.name}, not on ${owner.name} (the interface asked for)`, { interface: owner.name });
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
  if (BINDS_BY_ADDRESS) return serverByAddress(type, syscall, spec, routing, target, { literal, owner, version, pin, shown });
  let made: NativeSocket;
  try {
    made = posixNative().createSocket({
      version,
      type,
      ...(literal ? { address: literal.address } : {}),
      port,
      ...(literal?.zone !== undefined && owner && isZoned6(literal.address) ? { scopeId: owner.ifindex } : {}),
      ...(pin && owner ? { ifindex: owner.ifindex, ifname: owner.name } : {}),
      strict: routing.strict,
      ...(routing.mark !== undefined ? { mark: routing.mark } : {}),
      ...(spec.reuseAddress ? { reuseAddress: true } : {}),
      ...(spec.reusePort ? { reusePort: true } : {}),
      ...(spec.v6only !== undefined && version === 6 ? { v6only: spec.v6only } : {}),
    });
  } catch (error) {
    // The addon words its errors its own way: give them Node's shape for this syscall.
    if (!isSystemError(error)) throw error;
    const step = error.syscall === 'bind' ? '' : `${error.syscall} failed`;
    throw socketError(syscall, error.code as keyof typeof constants.errno, shown, port, step, owner ? { interface: owner.name } : {});
  }
  record(target, undefined, made, literal?.address ?? (version === 6 ? '::' : '0.0.0.0'), owner ? { name: owner.name, index: owner.ifindex } : undefined);
  return made;
}

/**
 * bindForServer() on Windows: the address Node is to bind. An interface without an address
 * (listen({ interface }), bind({ interface })) becomes one of its addresses: Windows holds a
 * socket to an interface only through an address the interface owns.
 */
function serverByAddress(type: 'tcp' | 'udp', syscall: 'bind' | 'listen', spec: ServerBind, routing: ValidRouting, target: object,
  d: { literal?: IpLiteral; owner?: NetworkInterface; version: 4 | 6; pin: boolean; shown: string }): BoundByNode {
  const { literal, owner, shown } = d;
  const port = spec.port;
  let address: string;
  let version = d.version;
  if (literal !== undefined) {
    address = literal.zone !== undefined && owner !== undefined && isZoned6(literal.address) ? `${literal.address}%${owner.ifindex}` : literal.address;
  } else if (owner !== undefined) {
    // A TCP listener's '::' (Node's default) takes both families; a UDP socket has one.
    const wanted = type === 'udp' || spec.address === '0.0.0.0' ? version : undefined;
    const chosen = interfaceAddress(owner, wanted);
    if (chosen === undefined) {
      throw socketError(syscall, 'EADDRNOTAVAIL', shown, port,
        `${owner.name} has no ${wanted !== undefined ? `IPv${wanted} ` : ''}address; on Windows a socket is held to an interface by binding one of its addresses`, { interface: owner.name });
    }
    address = chosen.address;
    version = chosen.family;
  } else {
    address = shown;
  }
  const pin: StrongHostPin = d.pin && owner !== undefined ? strongHostPin(owner.ifindex, version, interfaceSettings()) : { pinned: null };
  if (d.pin && owner !== undefined && routing.strict && pin.pinned === null) {
    const error = notHeld(owner.name, address, version, pin) as SystemError;
    throw socketError(syscall, 'ENOTSUP', shown, port, error.message.replace(/^bind ENOTSUP /, ''), { interface: owner.name });
  }
  const plain = address.split('%')[0];
  record(target, undefined, pin, plain, owner ? { name: owner.name, index: owner.ifindex } : undefined);
  return { address, port, ...pin };
}
