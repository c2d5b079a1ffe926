// UDP: `dgram.createSocket` whose bind, connect and first send bind the routed source and pin
// the socket to its interface.
//
// Node's own dgram.Socket runs every step: argument checks, the bind state, the send queue,
// cluster sharing, and the errors with their codes, messages and properties. routebind steps in
// at two points only: the socket's lookup (to learn where an implicit bind will send, and to
// resolve names with the socket's own lookup) and its handle's bind (to hand libuv a socket the
// addon made, bound and pinned, instead of binding one itself). So whatever Node does, routebind
// does too, in the same order, on the same tick.
import * as dgram from 'node:dgram';
import * as dns from 'node:dns';
import { EventEmitter } from 'node:events';

import { posixNative, type NativeSocket } from './binding';
import { decide, validateRouting, type RoutingOptions, type ValidRouting } from './decide';
import { describe, record } from './describe';
import { isSystemError, type SystemError } from './errors';
import { interfaceNamed } from './interfaces';
import { BINDS_BY_ADDRESS, bindForServer, localOwner, openSocket, socketError, zoneInterface, type OpenedSocket } from './open-socket';
import { rejectMisspeltKeys } from './option-keys';
import { HOST, requireBackend, unsupportedOption } from './platform';
import { answerWhereAsked, answeringFds, reply, type AnsweringHandle, type RoutedRemoteInfo } from './udp-answer';
import { isLinkLocal6, isWildcard, parseIpLiteral, validateInterface, type IpLiteral } from './validate';

// Node's own, taken at load: a program may install routebind in its place (dgram.createSocket =
// routebind.createSocket), and routebind must not then call itself.
const nodeCreateSocket = dgram.createSocket;

// libuv's uv_udp_flags (uv.h), as Node passes them to its handle's bind(). Node 20 never sets
// REUSEPORT (its createSocket has no reusePort option); later Node does, from `reusePort: true`.
const UV_UDP_IPV6ONLY = 1;
const UV_UDP_REUSEADDR = 4;
const UV_UDP_REUSEPORT = 64;
const UV_EEXIST = -17;

/** What createSocket() takes: dgram.createSocket's options plus routebind's own. */
export type SocketOptions = dgram.SocketOptions & RoutingOptions & {
  /** Send from this address (pinned to its interface) when connect() or send() binds implicitly. */
  localAddress?: string;
};

/** What a routebind UDP socket's bind() takes: Node's bind options plus `interface`. */
export interface BindOptions extends dgram.BindOptions {
  /** Pin the socket to this interface (name or index). */
  interface?: string | number;
}

/** The bind() a routebind UDP socket adds to Node's: `interface` pins it. */
export interface RoutedBind {
  /** Binds (and pins to `interface`, when given); Node's other bind() forms work unchanged. */
  bind(options: BindOptions, callback?: () => void): this;
}

/** What a routebind UDP socket adds for servers bound to the wildcard. */
export interface RoutedServer {
  /**
   * Sends `msg` to the client `rinfo` describes, from the address that datagram was sent to
   * (rinfo.localAddress), through the interface that owns it. send(msg, rinfo.port,
   * rinfo.address) does the same with the address that client asked last.
   */
  reply(msg: string | Uint8Array | readonly (string | Uint8Array)[], rinfo: RoutedRemoteInfo, callback?: (error: Error | null, bytes: number) => void): void;
  /** rinfo also says where the datagram was sent (localAddress) and came in (interface). */
  on(event: 'message', listener: (msg: Buffer, rinfo: RoutedRemoteInfo) => void): this;
  /** As on('message'), for one datagram. */
  once(event: 'message', listener: (msg: Buffer, rinfo: RoutedRemoteInfo) => void): this;
}

/**
 * What createSocket() returns: a real dgram.Socket, whose bind() also takes `interface`. An
 * intersection, not an interface: it keeps every overload of Node's own bind() and events.
 * RoutedBind comes last so that a misspelt bind option is reported against routebind's
 * BindOptions (with its "did you mean").
 */
export type UdpSocket = dgram.Socket & RoutedServer & RoutedBind;

export type { RoutedRemoteInfo };

type LookupCallback = (error: NodeJS.ErrnoException | null, address?: string, family?: number) => void;
type Lookup = (hostname: string, family: number, callback: LookupCallback) => void;

/** The part of Node's UDP handle (udp_wrap) routebind uses. */
interface UdpHandle {
  bind(ip: string, port: number, flags: number): number;
  open(fd: number): number;
  readonly fd: number;
}

/** What a bind() in progress is for; taken by the lookup Node makes inside bind(). */
interface BindIntent {
  /** An implicit bind (send() or connect() on an unbound socket): where the datagrams go. */
  implicit?: { host: string; port: unknown; syscall: 'send' | 'connect' };
  /** The implicit bind's destination, resolved. */
  target?: string;
  /** Pin to this interface (bind's `interface`, else the socket's). */
  iface?: string | number;
  exclusive: boolean;
}

/**
 * Node's dgram.Socket keeps its handle under a private symbol (lib/internal/dgram kStateSymbol);
 * null once the socket is closed (an already aborted `signal` closes it at birth).
 */
function handleOf(socket: dgram.Socket): UdpHandle | null {
  const key = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'state symbol');
  const state = key === undefined ? undefined : (socket as unknown as Record<symbol, { handle?: UdpHandle | null } | undefined>)[key];
  if (state === undefined || state.handle === undefined || (state.handle !== null && typeof state.handle.open !== 'function')) {
    throw new Error(`routebind: Node ${process.versions.node}'s dgram.Socket has no handle routebind can reach`);
  }
  return state.handle;
}

/** The text after routebind's own "syscall CODE subject: " prefix: the reason alone. */
function reasonOf(error: Error): string {
  const at = error.message.indexOf(': ');
  return at === -1 ? error.message : error.message.slice(at + 2);
}

/**
 * A link-local destination's zone names the link it is on; a socket sending from another
 * interface cannot reach it (the kernel answers EINVAL). Says so in the socket's own terms rather
 * than in routeTo()'s, whose `options.interface` the caller never passed.
 */
function zoneConflict(destination: IpLiteral, iface: string | number, why: string): SystemError | undefined {
  if (destination.zone === undefined || !isLinkLocal6(destination.address)) return undefined;
  const zoned = zoneInterface(destination.zone);
  if (zoned !== undefined && zoned.ifindex === interfaceNamed(iface)?.ifindex) return undefined;
  return socketError('connect', 'EINVAL', `${destination.address}%${destination.zone}`, 0, `the zone %${destination.zone} names ${zoned ? zoned.name : 'no interface'}, but ${why}`);
}

/** Routing decisions are system errors; anything else thrown on the way is reported as EINVAL, never thrown into Node's callbacks. */
function asSystemError(error: unknown, syscall: 'send' | 'connect', host: string): SystemError {
  if (isSystemError(error)) return error;
  return socketError(syscall, 'EINVAL', host, 0, error instanceof Error ? error.message : String(error));
}

function isWorker(): boolean {
  // Node's dgram loads cluster lazily too; it is only ever asked during a bind.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('node:cluster') as { isWorker: boolean }).isWorker;
}

/**
 * `dgram.createSocket` whose `bind({ address, interface })`, `connect()` and first `send()` bind
 * the source of the routed interface and pin the socket there.
 */
export function createSocket(type: dgram.SocketType | SocketOptions, callback?: (msg: Buffer, rinfo: dgram.RemoteInfo) => void): UdpSocket {
  requireBackend();
  const options: Partial<SocketOptions> = type !== null && typeof type === 'object' ? type : {};
  rejectMisspeltKeys('options', options);
  const routing = validateRouting(options);
  // Node checks its own options (type, lookup, buffer sizes, signal) as it builds the socket;
  // a lookup it would refuse is handed to it unchanged so that it throws its own error.
  if (options.lookup !== undefined && typeof options.lookup !== 'function') return nodeCreateSocket(options as SocketOptions, callback) as UdpSocket;
  const { interface: _i, pin: _p, strict: _s, mark: _m, localAddress: _l, ...nodeOptions } = options;
  void _i; void _p; void _s; void _m; void _l;
  // Node reads dns.lookup when the socket is made; so does routebind.
  const userLookup = (options.lookup ?? dns.lookup) as unknown as Lookup;
  const hook: { lookup: Lookup } = { lookup: userLookup };
  const lookup = (hostname: string, family: number, cb: LookupCallback) => hook.lookup(hostname, family, cb);
  const socketType = type !== null && typeof type === 'object' ? options.type : type;
  const socket = nodeCreateSocket({ ...nodeOptions, type: socketType, lookup } as unknown as dgram.SocketOptions, callback);
  return routeSocket(socket, socketType === 'udp6' ? 6 : 4, routing, userLookup, hook) as UdpSocket;
}

/** Installs routebind's two hooks on a socket Node made: its lookup and its handle's bind. */
function routeSocket(socket: dgram.Socket, family: 4 | 6, routing: ValidRouting, userLookup: Lookup, hook: { lookup: Lookup }): dgram.Socket {
  const defaultHost = family === 6 ? '::1' : '127.0.0.1';
  Object.defineProperty(socket, 'reply', {
    value: function replyTo(this: dgram.Socket, msg: Parameters<typeof reply>[1], rinfo: RoutedRemoteInfo, callback?: Parameters<typeof reply>[3]) {
      reply(this, msg, rinfo, callback);
    },
    writable: true,
    configurable: true,
  });
  const handle = handleOf(socket);
  if (handle === null) return socket; // closed already: nothing will ever bind
  const nodeBind = handle.bind;
  const nodeOpen = handle.open;
  // bind({ fd }) of a socket this process already serves: libuv's EEXIST, as without routebind.
  handle.open = function open(this: UdpHandle, fd: number): number {
    return answeringFds.has(fd) ? UV_EEXIST : nodeOpen.call(this, fd);
  };
  const originalBind = socket.bind as (...args: unknown[]) => dgram.Socket;
  const originalConnect = socket.connect as (...args: unknown[]) => void;
  const originalSend = socket.send as (...args: unknown[]) => void;

  let implicitFor: BindIntent['implicit']; // the send()/connect() now calling bind()
  let binding: BindIntent | undefined; // set while Node's bind() runs; its lookup takes it
  let bindingNow: BindIntent | undefined; // set while Node's bind callback runs; handle.bind takes it
  let connectCheck: { port: unknown } | undefined; // connect() on a pinned socket: its lookup checks the route
  // The implicit bind resolved its destination already: the send()/connect() lookup that follows
  // gets the same answer (or routebind's reason not to route there) without asking twice.
  let answered: { host: string; args: Parameters<LookupCallback> } | undefined;
  let failure: SystemError | undefined; // why routebind refused a bind: detail for Node's error

  const routedLookup: Lookup = (hostname, lookupFamily, callback) => {
    const intent = binding;
    binding = undefined;
    const check = connectCheck;
    connectCheck = undefined;
    if (intent === undefined) {
      const ready = answered;
      if (ready !== undefined && ready.host === hostname) {
        answered = undefined;
        process.nextTick(() => callback(...ready.args));
        return;
      }
      if (check === undefined) return userLookup(hostname, lookupFamily, callback);
      return userLookup(hostname, lookupFamily, (error, address, ...rest) => {
        const refused = error || typeof address !== 'string' ? undefined : routeOutOfPin(address);
        if (refused !== undefined) return callback(operationError('connect', refused, hostname, check.port));
        callback(error, address, ...rest);
      });
    }
    userLookup(hostname, lookupFamily, (...args) => {
      const proceed = () => {
        bindingNow = intent;
        try {
          callback(...args);
        } finally {
          if (bindingNow === intent && !args[0] && typeof args[1] === 'string') pinShared(intent, args[1]);
          bindingNow = undefined;
        }
      };
      const implicit = intent.implicit;
      if (implicit === undefined || args[0]) return proceed();
      // An implicit bind: where the first datagram goes decides the source.
      const settle: LookupCallback = (...destination) => {
        answered = { host: implicit.host, args: destination };
        if (!destination[0] && typeof destination[1] === 'string') intent.target = destination[1];
        proceed();
      };
      try {
        userLookup(implicit.host, lookupFamily, settle);
      } catch {
        // The send()'s own lookup will meet the same refusal and report it as Node would.
        proceed();
      }
    });
  };
  hook.lookup = routedLookup;

  /** A connect() on a pinned socket must still find a route out of its interface. */
  const routeOutOfPin = (address: string): SystemError | undefined => {
    const pinned = describe(socket);
    if (!pinned?.pinned || pinned.interface === undefined) return undefined;
    try {
      const destination = parseIpLiteral('address', address);
      const conflict = zoneConflict(destination, pinned.interface, `the socket is pinned to ${pinned.interface}`);
      if (conflict !== undefined) return conflict;
      // A link-local source is the pinned interface's own (another link may have the same address).
      const local = isWildcard(pinned.source) || isLinkLocal6(pinned.source) ? undefined : parseIpLiteral('address', pinned.source);
      decide(destination, { ...routing, interface: pinned.interface, ...(local ? { localAddress: local } : {}) });
      return undefined;
    } catch (error) {
      return asSystemError(error, 'connect', address);
    }
  };

  /** Errors of send()/connect() that routebind decided, shaped as Node's for that call. */
  const operationError = (syscall: 'send' | 'connect', cause: SystemError, host: string, port: unknown): SystemError =>
    socketError(syscall, cause.code as Parameters<typeof socketError>[1], host, typeof port === 'number' ? port : 0, reasonOf(cause), {
      ...(cause.interface !== undefined ? { interface: cause.interface } : {}),
      ...(cause.destination !== undefined ? { destination: cause.destination } : {}),
    });

  const flagsOf = (flags: number) => ({
    reuseAddress: (flags & UV_UDP_REUSEADDR) !== 0,
    reusePort: (flags & UV_UDP_REUSEPORT) !== 0,
    ...((flags & UV_UDP_IPV6ONLY) !== 0 ? { v6only: true } : {}),
  });

  /** A bind() with an address or an interface: the addon binds and pins; undefined leaves it to the kernel. */
  const explicitSocket = (ip: string, port: number, flags: number, intent: BindIntent): OpenedSocket | undefined => {
    if (isWildcard(ip) && intent.iface === undefined) return undefined;
    let literal: IpLiteral;
    try {
      literal = parseIpLiteral('address', ip);
    } catch {
      return undefined; // a lookup answer only the kernel can judge
    }
    // An address no interface has (or a zone naming none): Node's bind, and the kernel's answer.
    if (!isWildcard(ip) && intent.iface === undefined && localOwner(literal).owner === undefined) return undefined;
    return bindForServer('udp', family, 'bind', { address: ip, port, interface: intent.iface, ...flagsOf(flags) }, routing, socket);
  };

  /** The bind a socket's own options call for, with no destination to route to. */
  const unroutedSocket = (flags: number): OpenedSocket | undefined => {
    if (routing.interface === undefined && routing.localAddress === undefined) return undefined;
    const local = routing.localAddress;
    const address = local === undefined ? undefined : local.zone !== undefined ? `${local.address}%${local.zone}` : local.address;
    return bindForServer('udp', family, 'bind', { address, port: 0, interface: routing.interface, ...flagsOf(flags) }, routing, socket);
  };

  /** An implicit bind: route to the destination, bind its source, pin to its interface. */
  const implicitSocket = (intent: BindIntent, flags: number): OpenedSocket | undefined => {
    const implicit = intent.implicit as NonNullable<BindIntent['implicit']>;
    let destination: IpLiteral | undefined;
    try {
      destination = intent.target === undefined ? undefined : parseIpLiteral('address', intent.target);
    } catch {
      destination = undefined;
    }
    if (destination === undefined || destination.family !== family) return unroutedSocket(flags);
    try {
      const local = routing.localAddress === undefined ? undefined : localOwner(routing.localAddress).owner;
      const conflict = routing.interface !== undefined
        ? zoneConflict(destination, routing.interface, `the socket's interface is ${routing.interface}`)
        : local !== undefined && routing.localAddress !== undefined && !local.flags.includes('loopback')
          ? zoneConflict(destination, local.name, `${routing.localAddress.address} is on ${local.name}`)
          : undefined;
      if (conflict !== undefined) throw conflict;
      const decision = decide(destination, routing);
      const { reuseAddress, reusePort, v6only } = flagsOf(flags);
      const made = openSocket('udp', decision, routing, { reuseAddress, reusePort, ...(v6only !== undefined ? { v6only } : {}) });
      record(socket, decision, made, decision.source);
      return made;
    } catch (thrown) {
      const error = asSystemError(thrown, implicit.syscall, implicit.host);
      // Asked for nothing in particular: where routebind finds no route the kernel decides, as
      // for Node's own socket. Asked for an interface or address: the send()/connect() fails
      // with routebind's reason, where Node reports its lookup errors (callback, else 'error').
      // A mark, strict, or a socket option the kernel refused is never dropped silently.
      const refusedOption = isSystemError(thrown) && thrown.syscall === 'setsockopt';
      const askedNothing = routing.interface === undefined && routing.localAddress === undefined && routing.mark === undefined && !routing.strict;
      if (askedNothing && !refusedOption) return undefined;
      answered = { host: implicit.host, args: [operationError(implicit.syscall, error, implicit.host, implicit.port)] };
      return unroutedSocket(flags);
    }
  };

  /** Node adopts the addon's socket in place of binding its own, with the reuse options it asked for. */
  const installFd = (target: UdpHandle, made: NativeSocket, flags: number): number => {
    const err = target.open(made.fd);
    if (err !== 0) {
      posixNative().closeSocket(made.fd); // libuv did not take it: still ours
      return err;
    }
    // libuv's uv_udp_open turned on SO_REUSEADDR: any local process could then bind this port
    // and share its datagrams. Back to what was asked, as Node's own bind leaves it.
    const { reuseAddress, reusePort } = flagsOf(flags);
    posixNative().setSocketReuse(made.fd, reuseAddress, reusePort);
    return 0;
  };

  handle.bind = function routedBind(this: UdpHandle, ip: string, port: number, flags: number): number {
    const intent = bindingNow;
    bindingNow = undefined;
    if (intent === undefined) return nodeBind.call(this, ip, port, flags);
    try {
      const made = intent.implicit !== undefined ? implicitSocket(intent, flags) : explicitSocket(ip, port, flags, intent);
      if (made === undefined) {
        const err = nodeBind.call(this, ip, port, flags);
        // A server on the wildcard: each client is answered from the address it asked.
        if (err === 0 && intent.implicit === undefined && intent.iface === undefined && isWildcard(ip)) {
          answerWhereAsked(socket, this as unknown as AnsweringHandle, family, ip);
        }
        return err;
      }
      // Windows: Node binds the address routebind chose, with the flags it was given.
      if (made.fd === undefined) return nodeBind.call(this, made.address, made.port, flags);
      return installFd(this, made, flags);
    } catch (error) {
      if (!isSystemError(error)) throw error;
      // Node turns the errno into its own error ("bind EADDRNOTAVAIL 10.2.0.2") and emits it;
      // routebind's reason joins it there.
      failure = error;
      EventEmitter.prototype.once.call(socket, EventEmitter.errorMonitor, explainFailure);
      return error.errno;
    }
  };

  function explainFailure(error: NodeJS.ErrnoException): void {
    const reason = failure;
    failure = undefined;
    if (reason === undefined || error.errno !== reason.errno || error.syscall !== 'bind') return;
    const detail = reason.detail as string | undefined;
    if (detail) {
      const first = error.message;
      error.message = `${first}: ${detail}`;
      if (typeof error.stack === 'string') error.stack = error.stack.replace(first, error.message);
    }
    for (const key of ['interface', 'detail'] as const) {
      if (reason[key] !== undefined) Object.defineProperty(error, key, { value: reason[key], enumerable: false, writable: true, configurable: true });
    }
  }

  /**
   * A worker's bind() that Node shared through the cluster primary (not `exclusive`): the primary
   * bound the socket, every worker holds it. Pin it where it stands once it arrives.
   */
  const pinShared = (intent: BindIntent, ip: string) => {
    if (intent.implicit !== undefined || intent.exclusive || !isWorker()) return;
    if (isWildcard(ip) && intent.iface === undefined) return answerShared(ip);
    if (BINDS_BY_ADDRESS) return describeShared(intent, ip);
    socket.prependOnceListener('listening', () => {
      const shared = handleOf(socket);
      if (shared === null) return;
      let literal: IpLiteral | undefined;
      try {
        literal = isWildcard(ip) ? undefined : parseIpLiteral('address', ip);
      } catch {
        return;
      }
      const owner = intent.iface !== undefined
        ? interfaceNamed(intent.iface)
        : literal !== undefined ? localOwner(literal).owner : undefined;
      if (owner === undefined || !routing.pin) return;
      try {
        const pinned = posixNative().pinSocket(shared.fd, owner.ifindex, owner.name, routing.strict);
        record(socket, undefined, pinned, literal?.address ?? ip, { name: owner.name, index: owner.ifindex });
      } catch (error) {
        if (!isSystemError(error)) throw error;
        process.nextTick(() => socket.emit('error', error));
      }
    });
  };

  /**
   * A worker's wildcard socket, shared through the primary: its datagrams are read through the
   * addon too (every worker reads the same socket, as with Node, each through its own descriptor).
   */
  const answerShared = (ip: string) => {
    if (HOST !== 'linux') return;
    socket.prependOnceListener('listening', () => {
      const shared = handleOf(socket) as (UdpHandle & AnsweringHandle) | null;
      if (shared === null) return;
      shared.recvStop();
      try {
        answerWhereAsked(socket, shared, family, ip);
      } catch (error) {
        if (!isSystemError(error)) throw error;
        process.nextTick(() => socket.emit('error', error));
      }
      shared.recvStart();
    });
  };

  /**
   * pinShared() on Windows, where nothing can be pinned after the bind: the primary bound `ip`,
   * which holds the socket to its interface if it is an address (strong host); a wildcard with
   * an interface cannot be honoured.
   */
  const describeShared = (intent: BindIntent, ip: string) => {
    try {
      if (isWildcard(ip)) {
        throw unsupportedOption('options.interface', 'interface', 'win32',
          "a cluster worker's bind is made by the primary on the wildcard address, and Windows holds a socket to an interface only through one of its addresses: bind that address, or bind with exclusive: true");
      }
      bindForServer('udp', family, 'bind', { address: ip, port: 0, interface: intent.iface }, routing, socket);
    } catch (error) {
      process.nextTick(() => socket.emit('error', error));
    }
  };

  socket.bind = function bind(this: dgram.Socket, ...args: unknown[]): dgram.Socket {
    const implicit = implicitFor;
    implicitFor = undefined;
    const first = args[0] as (BindOptions & { recvStart?: unknown }) | number | null | undefined;
    let intent: BindIntent | undefined;
    if (implicit !== undefined && args.length === 2 && args[1] === null && typeof first === 'object' && first?.exclusive === true) {
      intent = { implicit, exclusive: true };
    } else if (first !== null && typeof first === 'object') {
      if (typeof first.recvStart !== 'function') {
        rejectMisspeltKeys('options', first);
        const iface = first.interface !== undefined ? validateInterface('options.interface', first.interface) : routing.interface;
        const fd = first.fd;
        // bind({ fd }): Node opens that fd (in a cluster worker, the primary's fd of that number).
        if (!(Number.isInteger(fd) && (fd as number) > 0 && (fd as number) <= 0x7fffffff)) intent = { iface, exclusive: first.exclusive === true };
      }
    } else {
      intent = { iface: routing.interface, exclusive: false };
    }
    binding = intent;
    try {
      return originalBind.apply(this, args);
    } finally {
      binding = undefined;
    }
  } as typeof socket.bind;

  socket.connect = function connect(this: dgram.Socket, ...args: unknown[]): void {
    const [port, address] = args;
    const host = typeof address === 'string' && address !== '' ? address : defaultHost;
    implicitFor = { host, port, syscall: 'connect' };
    if (describe(socket)?.pinned) connectCheck = { port };
    try {
      return originalConnect.apply(this, args);
    } finally {
      implicitFor = undefined;
      connectCheck = undefined;
    }
  } as typeof socket.connect;

  socket.send = function send(this: dgram.Socket, ...args: unknown[]): void {
    // Where Node's send() will look: send(msg, offset, length, port, address) or send(msg, port, address).
    const [, offset, length, port, address] = args;
    const long = Boolean(address) || (Boolean(port) && typeof port !== 'function');
    const to = long ? address : length;
    implicitFor = { host: typeof to === 'string' && to !== '' ? to : defaultHost, port: long ? port : offset, syscall: 'send' };
    try {
      return originalSend.apply(this, args);
    } finally {
      implicitFor = undefined;
    }
  } as typeof socket.send;

  return socket;
}
