// Sockets whose source address and egress interface always agree, handed to the program as
// plain net.Socket / dgram.Socket / net.Server objects. The addon makes the socket (bind, pin,
// mark); Node drives it from then on.
import * as dgram from 'node:dgram';
import * as dns from 'node:dns';
import { isIP } from 'node:net';
import * as net from 'node:net';

import { native, type NativeSocket } from './binding';
import { decide, ownerOf, validateRouting, type Decision, type RoutingOptions, type ValidRouting } from './decide';
import { followSocket, validateRouteChangeMode, type RouteChangeMode } from './follow';
import { invalidArgType, invalidArgValue, isSystemError, systemError, type SystemError } from './errors';
import { currentInterfaces } from './interfaces';
import type { Route } from './route';
import { parseIpLiteral, validateInterface, type IpLiteral } from './validate';

export type { RoutingOptions } from './decide';

/** What routebind decided for a socket, and what the kernel accepted. */
export interface SocketDescription {
  /** The destination of a client socket (absent for servers and unconnected UDP). */
  destination?: string;
  route?: Route;
  /** The address the socket is bound to. */
  source: string;
  interface?: string;
  ifindex?: number;
  /** The pinning mechanism applied, or null when the socket is not pinned. */
  pinned: 'SO_BINDTODEVICE' | 'IP_BOUND_IF' | null;
  /** Why pinning was skipped (e.g. 'EPERM'), when it was asked for and `strict` was not set. */
  pinError?: string;
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

function record(target: object, decision: Decision | undefined, made: NativeSocket, source: string, iface?: { name: string; index: number }): void {
  const d: SocketDescription = {
    source,
    pinned: made.pinned as SocketDescription['pinned'],
  };
  if (decision) {
    d.destination = decision.destination;
    d.route = decision.route;
    d.interface = decision.interface;
    d.ifindex = decision.ifindex;
  } else if (iface) {
    d.interface = iface.name;
    d.ifindex = iface.index;
  }
  if (made.pinError !== undefined) d.pinError = made.pinError;
  descriptions.set(target, d);
}

function openSocket(type: 'tcp' | 'udp', decision: Decision, routing: ValidRouting, extra: { port?: number; reuseAddress?: boolean; reusePort?: boolean; v6only?: boolean }): NativeSocket {
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
function wrapStream(fd: number, options: net.SocketConstructorOpts & { manualStart?: boolean }): net.Socket {
  try {
    return new net.Socket({ ...options, fd });
  } catch (error) {
    native.closeSocket(fd);
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// TCP clients

export type ConnectOptions = Omit<net.TcpNetConnectOpts, 'localAddress'> & RoutingOptions & {
  localAddress?: string;
  /**
   * 'keep' (default): emit 'routeChange' on the socket when its interface goes down, its source
   * is removed or no route leaves through its interface any more. 'destroy': also destroy it
   * with that error (ENETDOWN / EADDRNOTAVAIL / ENETUNREACH) instead of waiting for TCP.
   */
  onRouteChange?: RouteChangeMode;
};

type Listener = () => void;

function isPortLike(value: unknown): boolean {
  return typeof value === 'number' || (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)));
}

function normalizeConnectArgs(args: unknown[]): [Record<string, unknown>, Listener | undefined] {
  const [a0, a1, a2] = args;
  if (a0 !== null && typeof a0 === 'object') {
    return [{ ...(a0 as Record<string, unknown>) }, typeof a1 === 'function' ? (a1 as Listener) : undefined];
  }
  if (typeof a0 === 'string' && !isPortLike(a0)) {
    return [{ path: a0 }, typeof a1 === 'function' ? (a1 as Listener) : undefined];
  }
  const options: Record<string, unknown> = { port: a0 };
  if (typeof a1 === 'string') {
    options.host = a1;
    return [options, typeof a2 === 'function' ? (a2 as Listener) : undefined];
  }
  return [options, typeof a1 === 'function' ? (a1 as Listener) : undefined];
}

function validateConnectPort(value: unknown): number {
  if (value === undefined) {
    throw Object.assign(new TypeError('The "options" or "port" or "path" argument must be specified'), { code: 'ERR_MISSING_ARGS' });
  }
  if (typeof value !== 'number' && typeof value !== 'string') throw invalidArgType('options.port', 'of type number or string', value);
  const port = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw Object.assign(new RangeError(`options.port should be >= 0 and < 65536. Received ${String(value)}.`), { code: 'ERR_SOCKET_BAD_PORT' });
  }
  return port;
}

const SOCKET_KEYS = ['allowHalfOpen', 'readable', 'writable', 'signal'] as const;

function constructorOptions(o: Record<string, unknown>): net.SocketConstructorOpts {
  const out: Record<string, unknown> = {};
  for (const key of SOCKET_KEYS) if (o[key] !== undefined) out[key] = o[key];
  return out as net.SocketConstructorOpts;
}

function applyStreamOptions(socket: net.Socket, o: Record<string, unknown>): void {
  if (o.timeout !== undefined) socket.setTimeout(o.timeout as number);
}

function afterConnectOptions(socket: net.Socket, o: Record<string, unknown>): void {
  if (o.noDelay) socket.setNoDelay(true);
  if (o.keepAlive) socket.setKeepAlive(true, (o.keepAliveInitialDelay as number | undefined) ?? 0);
}

/** `connecting` is a plain property Node reads to queue writes until 'connect'; typed read-only. */
function setConnecting(socket: net.Socket, value: boolean): void {
  (socket as { connecting: boolean }).connecting = value;
}

/** Emits `error` and `close` on the next tick, as Node does for a connect that fails before it starts. */
function failLater(socket: net.Socket, error: Error): net.Socket {
  setConnecting(socket, true);
  process.nextTick(() => socket.destroy(error));
  return socket;
}

function withConnectContext(error: SystemError, destination: IpLiteral, port: number): SystemError {
  if (error.destination === undefined) error.destination = destination.address;
  error.port = port;
  return error;
}

/**
 * `net.connect` with strong end-system behaviour: the socket is bound to the source of the
 * interface it leaves through and pinned there. Every overload of `net.connect`.
 */
export function connect(options: ConnectOptions, connectionListener?: Listener): net.Socket;
export function connect(port: number, host?: string, connectionListener?: Listener): net.Socket;
export function connect(path: string, connectionListener?: Listener): net.Socket;
export function connect(...args: unknown[]): net.Socket {
  const [options, listener] = normalizeConnectArgs(args);
  // Only a real path is a pipe: http.Agent passes `path: null` for TCP.
  if (options.path) return net.connect(options as unknown as net.IpcNetConnectOpts, listener);
  const port = validateConnectPort(options.port);
  const routing = validateRouting(options as RoutingOptions & { localAddress?: unknown });
  const host = options.host === undefined ? 'localhost' : options.host;
  if (typeof host !== 'string') throw invalidArgType('options.host', 'of type string', host);
  if (options.lookup !== undefined && typeof options.lookup !== 'function') throw invalidArgType('options.lookup', 'of type function', options.lookup);
  if (options.localPort !== undefined) {
    const lp = options.localPort;
    if (typeof lp !== 'number' || !Number.isInteger(lp) || lp < 0 || lp > 65535) {
      throw Object.assign(new RangeError(`options.localPort should be >= 0 and < 65536. Received ${String(lp)}.`), { code: 'ERR_SOCKET_BAD_PORT' });
    }
  }
  validateRouteChangeMode('options.onRouteChange', options.onRouteChange);
  const hostLiteral = isIP(host.split('%')[0]) !== 0 ? parseIpLiteral('options.host', host) : undefined;
  return hostLiteral !== undefined
    ? connectToAddress(hostLiteral, port, options, routing, listener)
    : connectToName(host, port, options, routing, listener);
}

export const createConnection = connect;

/** The decision for one destination and the bound, pinned TCP socket that carries it out. */
function openClient(destination: IpLiteral, routing: ValidRouting, options: Record<string, unknown>): { decision: Decision; made: NativeSocket } {
  const decision = decide(destination, routing);
  return { decision, made: openSocket('tcp', decision, routing, { port: options.localPort as number | undefined }) };
}

/** An IP literal: everything is synchronous, and Node's own connect() drives the bound fd. */
function connectToAddress(destination: IpLiteral, port: number, options: Record<string, unknown>, routing: ValidRouting, listener?: Listener): net.Socket {
  const ctor = constructorOptions(options);
  let decision: Decision;
  let made: NativeSocket;
  try {
    ({ decision, made } = openClient(destination, routing, options));
  } catch (error) {
    if (!isSystemError(error)) throw error;
    const socket = new net.Socket(ctor);
    if (listener) socket.once('connect', listener);
    return failLater(socket, withConnectContext(error, destination, port));
  }
  // manualStart: no read is started before connect (Node starts one itself once connected).
  const socket = wrapStream(made.fd, { ...ctor, manualStart: true } as net.SocketConstructorOpts);
  record(socket, decision, made, decision.source);
  applyStreamOptions(socket, options);
  afterConnectOptions(socket, options);
  const host = destination.zone !== undefined ? `${destination.address}%${destination.zone}` : destination.address;
  socket.connect({ port, host, autoSelectFamily: false } as net.TcpNetConnectOpts, listener);
  follow(socket, decision, made, options);
  return socket;
}

/** Follows pinned connections that asked for it (see follow.ts). */
function follow(socket: net.Socket, decision: Decision, made: NativeSocket, options: Record<string, unknown>): void {
  if (options.onRouteChange === undefined || made.pinned === null) return;
  followSocket(socket, options.onRouteChange as RouteChangeMode, {
    ifindex: decision.ifindex, interface: decision.interface, source: decision.source, destination: decision.destination,
  });
}

type LookupAll = (hostname: string, options: dns.LookupAllOptions, callback: (err: NodeJS.ErrnoException | null, addresses: dns.LookupAddress[] | string, family?: number) => void) => void;

/**
 * A hostname: the socket is returned at once around an unbound placeholder; routebind resolves
 * the name, tries the addresses in RFC 8305 order (each attempt routed, bound and pinned for its
 * own family, the next one started after autoSelectFamilyAttemptTimeout), and the first attempt
 * to connect is installed under the returned socket's fd. Node never resolves the name itself:
 * it would lose the pre-bound fd.
 */
function connectToName(host: string, port: number, options: Record<string, unknown>, routing: ValidRouting, listener?: Listener): net.Socket {
  const ctor = constructorOptions(options);
  const placeholder = native.createSocket({ version: 4, type: 'tcp', unbound: true });
  // manualStart: no read before connect (reading an unconnected socket fails with ENOTCONN).
  const socket = wrapStream(placeholder.fd, { ...ctor, manualStart: true } as net.SocketConstructorOpts);
  setConnecting(socket, true); // as in net.connect: writes queue until 'connect'
  if (listener) socket.once('connect', listener);
  applyStreamOptions(socket, options);

  const family = options.family === 4 || options.family === 6 ? options.family : 0;
  const lookup = (options.lookup as LookupAll | undefined) ?? (dns.lookup as unknown as LookupAll);
  const lookupOptions: dns.LookupAllOptions = { all: true, family, ...(options.hints !== undefined ? { hints: options.hints as number } : {}) };
  lookup(host, lookupOptions, (err, result, resultFamily) => {
    if (socket.destroyed) return;
    if (err) {
      socket.emit('lookup', err, undefined, undefined, host);
      socket.destroy(err);
      return;
    }
    const addresses: dns.LookupAddress[] = typeof result === 'string' ? [{ address: result, family: resultFamily ?? isIP(result) }] : result;
    const usable = addresses.filter((a) => (a.family === 4 || a.family === 6) && isIP(a.address) !== 0 && (family === 0 || a.family === family));
    for (const a of usable) socket.emit('lookup', null, a.address, a.family, host);
    if (usable.length === 0) {
      const error = Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND', errno: -3008, syscall: 'getaddrinfo', hostname: host });
      socket.destroy(error);
      return;
    }
    const autoSelect = options.autoSelectFamily !== false;
    const ordered = autoSelect ? interleaveFamilies(usable) : usable;
    const local = routing.localAddress;
    const candidates = ordered
      .filter((a) => local === undefined || a.family === local.family)
      .map((a) => parseIpLiteral('address', a.address));
    race(socket, placeholder.fd, candidates, port, options, routing, autoSelect);
  });
  return socket;
}

/** RFC 8305 §4: alternate families, starting with the family of the first answer (as Node does). */
function interleaveFamilies(addresses: dns.LookupAddress[]): dns.LookupAddress[] {
  const first = addresses[0].family;
  const a = addresses.filter((x) => x.family === first);
  const b = addresses.filter((x) => x.family !== first);
  const out: dns.LookupAddress[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (i < a.length) out.push(a[i]);
    if (i < b.length) out.push(b[i]);
  }
  return out;
}

function race(socket: net.Socket, placeholderFd: number, candidates: IpLiteral[], port: number, options: Record<string, unknown>, routing: ValidRouting, autoSelect: boolean): void {
  const errors: Error[] = [];
  const pending = new Set<net.Socket>();
  const attemptDelay = (options.autoSelectFamilyAttemptTimeout as number | undefined) ?? net.getDefaultAutoSelectFamilyAttemptTimeout();
  let next = 0;
  let timer: NodeJS.Timeout | undefined;
  let settled = false;
  const maxAttempts = autoSelect ? candidates.length : 1;

  const stopAll = () => {
    settled = true;
    clearTimeout(timer);
    for (const attempt of pending) attempt.destroy();
    pending.clear();
  };
  socket.once('close', stopAll);

  const giveUp = () => {
    if (settled || pending.size > 0 || next < maxAttempts) return;
    stopAll();
    const error = errors.length === 1 ? errors[0] : Object.assign(new AggregateError(errors, 'connect failed for every address'), { code: (errors[0] as SystemError | undefined)?.code });
    socket.destroy(error);
  };

  const start = () => {
    clearTimeout(timer);
    while (!settled && next < maxAttempts) {
      const destination = candidates[next++];
      let decision: Decision;
      let made: NativeSocket;
      try {
        ({ decision, made } = openClient(destination, routing, options));
      } catch (error) {
        if (!isSystemError(error)) {
          stopAll();
          socket.destroy(error as Error);
          return;
        }
        errors.push(withConnectContext(error, destination, port)); // no route: try the next address at once
        continue;
      }
      const attempt = wrapStream(made.fd, { manualStart: true } as net.SocketConstructorOpts);
      attempt.pause(); // nothing may be read before the winner is installed under `socket`
      pending.add(attempt);
      attempt.once('error', (error) => {
        pending.delete(attempt);
        errors.push(error);
        if (!settled && pending.size === 0) start();
        giveUp();
      });
      attempt.once('connect', () => {
        pending.delete(attempt);
        if (settled) return attempt.destroy();
        stopAll();
        native.adoptSocket(made.fd, placeholderFd);
        attempt.destroy(); // closes only its own fd number; the connection lives on at placeholderFd
        record(socket, decision, { ...made, fd: placeholderFd }, decision.source);
        follow(socket, decision, made, options);
        setConnecting(socket, false);
        afterConnectOptions(socket, options);
        if (!socket.isPaused()) socket.read(0);
        socket.emit('connect');
        socket.emit('ready');
      });
      const host = destination.zone !== undefined ? `${destination.address}%${destination.zone}` : destination.address;
      attempt.connect({ port, host, autoSelectFamily: false } as net.TcpNetConnectOpts);
      if (next < maxAttempts) timer = setTimeout(start, attemptDelay);
      return;
    }
    giveUp();
  };
  start();
}

// ---------------------------------------------------------------------------------------------
// UDP

export type SocketOptions = dgram.SocketOptions & RoutingOptions & {
  /** Send from this address (pinned to its interface) when connect() or send() binds implicitly. */
  localAddress?: string;
};

export interface BindOptions extends dgram.BindOptions {
  /** Pin the socket to this interface (name or index). */
  interface?: string | number;
}

function listeningDeferred(socket: dgram.Socket, bind: () => void): void {
  // Node emits 'listening' synchronously inside bind({ fd }); a normal bind emits it later.
  // Defer it so listeners added right after bind() see it, as with Node's own bind.
  const emit = socket.emit as (this: dgram.Socket, event: string | symbol, ...rest: unknown[]) => boolean;
  let deferred = false;
  socket.emit = function (this: dgram.Socket, event: string | symbol, ...rest: unknown[]) {
    if (event === 'listening') {
      deferred = true;
      return true;
    }
    return emit.call(this, event, ...rest);
  } as typeof socket.emit;
  try {
    bind();
  } finally {
    socket.emit = emit as typeof socket.emit;
  }
  if (deferred) process.nextTick(() => socket.emit('listening'));
}

/**
 * `dgram.createSocket` whose `bind({ address, interface })`, `connect()` and first `send()` bind
 * the source of the routed interface and pin the socket there.
 */
export function createSocket(type: dgram.SocketType | SocketOptions, callback?: (msg: Buffer, rinfo: dgram.RemoteInfo) => void): dgram.Socket {
  const options: SocketOptions = typeof type === 'string' ? { type } : type;
  if (options === null || typeof options !== 'object') throw invalidArgType('type', 'of type string or object', type);
  const routing = validateRouting(options);
  const { interface: _i, pin: _p, strict: _s, mark: _m, localAddress: _l, ...dgramOptions } = options;
  void _i; void _p; void _s; void _m; void _l;
  const socket = callback ? dgram.createSocket(dgramOptions, callback) : dgram.createSocket(dgramOptions);
  const family: 4 | 6 = options.type === 'udp6' ? 6 : 4;
  const originalBind = socket.bind.bind(socket) as (...args: unknown[]) => dgram.Socket;
  const originalConnect = socket.connect.bind(socket) as (...args: unknown[]) => void;
  const originalSend: (...args: unknown[]) => void = socket.send.bind(socket) as (...args: unknown[]) => void;
  let bound = false;
  let queued: unknown[][] | undefined; // sends made while connect() resolves a name

  const installFd = (made: NativeSocket, callback?: () => void) => {
    bound = true;
    try {
      listeningDeferred(socket, () => originalBind({ fd: made.fd }, callback));
    } catch (error) {
      native.closeSocket(made.fd);
      throw error;
    }
  };

  const routedBind = (destination: IpLiteral): NativeSocket => {
    const decision = decide(destination, routing);
    const made = openSocket('udp', decision, routing, { reuseAddress: options.reuseAddr, v6only: options.ipv6Only });
    record(socket, decision, made, decision.source);
    return made;
  };

  socket.bind = function bind(this: dgram.Socket, ...args: unknown[]): dgram.Socket {
    const first = args[0];
    const opts: BindOptions = first !== null && typeof first === 'object' ? (first as BindOptions) : {};
    const cb = args.find((a) => typeof a === 'function') as (() => void) | undefined;
    const port = first !== null && typeof first === 'object' ? opts.port : typeof first === 'number' ? first : undefined;
    const address = first !== null && typeof first === 'object' ? opts.address : typeof args[1] === 'string' ? args[1] : undefined;
    const iface = opts.interface !== undefined ? validateInterface('options.interface', opts.interface) : routing.interface;
    const specific = address !== undefined && address !== '0.0.0.0' && address !== '::';
    if (opts.fd !== undefined || (iface === undefined && !specific) || bound) {
      bound = true;
      const { interface: _x, ...plain } = opts;
      void _x;
      return first !== null && typeof first === 'object' ? originalBind(plain, ...args.slice(1)) : originalBind(...args);
    }
    try {
      const made = bindForServer('udp', family, address, port ?? 0, iface, routing, {
        reuseAddress: options.reuseAddr,
        v6only: options.ipv6Only,
      }, socket);
      installFd(made, cb);
    } catch (error) {
      if (!isSystemError(error)) throw error;
      bound = true;
      process.nextTick(() => socket.emit('error', error));
    }
    return socket;
  };

  socket.connect = function connect(this: dgram.Socket, port: number, address?: string | (() => void), cb?: () => void): void {
    const host = typeof address === 'string' ? address : family === 6 ? '::1' : '127.0.0.1';
    const done = typeof address === 'function' ? address : cb;
    const pinned = descriptions.get(socket);
    if (bound && pinned?.pinned && pinned.interface !== undefined && isIP(host.split('%')[0]) !== 0) {
      // Bound and pinned by bind(): a connected socket must still have a route out of there.
      try {
        const wildcard = pinned.source === '0.0.0.0' || pinned.source === '::';
        decide(parseIpLiteral('address', host), { ...routing, interface: pinned.interface, ...(wildcard ? {} : { localAddress: parseIpLiteral('address', pinned.source) }) });
      } catch (error) {
        if (!isSystemError(error)) throw error;
        process.nextTick(() => socket.emit('error', error));
        return;
      }
    }
    if (bound) return originalConnect(port, host, done);
    if (isIP(host.split('%')[0]) === 0) {
      // A name: resolve it here (for this socket's family), then connect to the address.
      const lookup = (options.lookup ?? dns.lookup) as (h: string, o: dns.LookupOneOptions, cb: (e: NodeJS.ErrnoException | null, a: string) => void) => void;
      // Sends made meanwhile wait, as they would while Node's own connect() resolves.
      queued = [];
      lookup(host, { family }, (err, resolved) => {
        const waiting = queued ?? [];
        queued = undefined;
        if (err) {
          socket.emit('error', err);
          return;
        }
        socket.connect(port, resolved, () => {
          for (const args of waiting) originalSend(...args);
          done?.();
        });
      });
      return;
    }
    try {
      const destination = parseIpLiteral('address', host);
      if (destination.family !== family) throw systemError('EINVAL', 'connect', `${host} is not an IPv${family} address`, { address: host });
      installFd(routedBind(destination));
    } catch (error) {
      if (!isSystemError(error)) throw error;
      bound = true;
      process.nextTick(() => socket.emit('error', error));
      return;
    }
    originalConnect(port, host, done);
  } as typeof socket.connect;

  socket.send = function send(this: dgram.Socket, ...args: unknown[]): void {
    if (queued !== undefined) {
      queued.push(args);
      return;
    }
    if (!bound) {
      // send(msg, port, address) or send(msg, offset, length, port, address)
      const address = typeof args[2] === 'number' ? args[4] : args[2];
      if (typeof address === 'string' && isIP(address.split('%')[0]) !== 0) {
        const destination = parseIpLiteral('address', address);
        if (destination.family === family) {
          try {
            installFd(routedBind(destination));
          } catch (error) {
            if (!isSystemError(error)) throw error;
            const cb = args.find((a) => typeof a === 'function') as ((e: Error) => void) | undefined;
            process.nextTick(() => (cb ? cb(error) : socket.emit('error', error)));
            return;
          }
        }
      }
    }
    (originalSend as (...a: unknown[]) => void)(...args);
  } as typeof socket.send;

  return socket;
}

/**
 * Bind for a listening socket: an interface (pin there; its address or the wildcard) and/or a
 * specific local address (pin to the interface that owns it).
 */
function bindForServer(type: 'tcp' | 'udp', family: 4 | 6, address: string | undefined, port: number, iface: string | number | undefined, routing: ValidRouting, extra: { reuseAddress?: boolean; reusePort?: boolean; v6only?: boolean }, target: object): NativeSocket {
  const wildcard = address === undefined || address === '0.0.0.0' || address === '::';
  const literal = wildcard ? undefined : parseIpLiteral('address', address);
  const list = currentInterfaces();
  let owner = iface === undefined ? undefined : list.find((i) => i.name === iface || i.index === iface);
  if (iface !== undefined && owner === undefined) {
    throw systemError('ENODEV', 'bind', `no interface ${iface}`, { interface: iface });
  }
  if (literal !== undefined) {
    const key = literal.address;
    const holder = ownerOf(key, list);
    if (holder === undefined) throw systemError('EADDRNOTAVAIL', 'bind', `${key}: no interface of this host has that address`, { address: key, port });
    if (owner !== undefined && holder !== owner) {
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
    ...(literal?.zone !== undefined && owner ? { scopeId: owner.index } : {}),
    ...(pin && owner ? { ifindex: owner.index, ifname: owner.name } : {}),
    strict: routing.strict,
    ...(routing.mark !== undefined ? { mark: routing.mark } : {}),
    ...(extra.reuseAddress ? { reuseAddress: true } : {}),
    ...(extra.reusePort ? { reusePort: true } : {}),
    ...(extra.v6only !== undefined && version === 6 ? { v6only: extra.v6only } : {}),
  });
  record(target, undefined, made, literal?.address ?? (version === 6 ? '::' : '0.0.0.0'), owner ? { name: owner.name, index: owner.index } : undefined);
  return made;
}

// ---------------------------------------------------------------------------------------------
// TCP servers

export interface ListenOptions extends net.ListenOptions {
  /** Pin the listener (and so every accepted connection) to this interface. */
  interface?: string | number;
}

/**
 * `net.createServer` whose `listen({ port, host?, interface })` binds in the addon and pins the
 * listener to the interface: connections arriving elsewhere are never accepted, and replies to
 * accepted ones leave through it.
 */
export function createServer(options?: net.ServerOpts & RoutingOptions | ((socket: net.Socket) => void), connectionListener?: (socket: net.Socket) => void): net.Server {
  const serverOptions = typeof options === 'function' || options === undefined ? {} : options;
  const listener = typeof options === 'function' ? options : connectionListener;
  const routing = validateRouting(serverOptions);
  const { interface: _i, pin: _p, strict: _s, mark: _m, ...netOptions } = serverOptions;
  void _i; void _p; void _s; void _m;
  const server = net.createServer(netOptions, listener);
  const originalListen = server.listen.bind(server) as (...args: unknown[]) => net.Server;

  server.listen = function listen(this: net.Server, ...args: unknown[]): net.Server {
    const first = args[0];
    const opts = first !== null && typeof first === 'object' ? (first as ListenOptions) : undefined;
    const iface = opts?.interface !== undefined ? validateInterface('options.interface', opts.interface) : routing.interface;
    if (iface === undefined || opts?.path !== undefined || (opts as { fd?: number } | undefined)?.fd !== undefined || (opts === undefined && typeof first !== 'number' && typeof first !== 'string' && first !== undefined)) {
      if (opts?.interface !== undefined) {
        const { interface: _x, ...plain } = opts;
        void _x;
        return originalListen(plain, ...args.slice(1));
      }
      return originalListen(...args);
    }
    const cb = args.find((a) => typeof a === 'function') as (() => void) | undefined;
    const port = opts ? opts.port : Number(first);
    const host = opts ? opts.host : typeof args[1] === 'string' ? args[1] : undefined;
    const backlog = opts ? opts.backlog : typeof args[1] === 'number' ? args[1] : typeof args[2] === 'number' ? args[2] : undefined;
    if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
      throw Object.assign(new RangeError(`options.port should be >= 0 and < 65536. Received ${String(port)}.`), { code: 'ERR_SOCKET_BAD_PORT' });
    }
    if (host !== undefined && host !== '0.0.0.0' && host !== '::' && isIP(host.split('%')[0]) === 0) {
      throw invalidArgValue('options.host', host, 'must be an IP address when an interface is given');
    }
    try {
      const made = bindForServer('tcp', 6, host ?? '::', port ?? 0, iface, routing, { reuseAddress: true, v6only: opts?.ipv6Only ?? false }, server);
      // Accepted connections inherit the listener's pin: describe them as pinned there too.
      const listening = descriptions.get(server);
      if (listening !== undefined) {
        server.prependListener('connection', (socket: net.Socket) => {
          descriptions.set(socket, { ...listening, source: socket.localAddress ?? listening.source, ...(socket.remoteAddress ? { destination: socket.remoteAddress } : {}) });
        });
      }
      try {
        originalListen({ fd: made.fd, ...(backlog !== undefined ? { backlog } : {}) }, cb);
      } catch (error) {
        native.closeSocket(made.fd);
        throw error;
      }
    } catch (error) {
      if (!isSystemError(error)) throw error;
      process.nextTick(() => server.emit('error', error));
    }
    return server;
  } as typeof server.listen;
  return server;
}
