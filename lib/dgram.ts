// UDP: `dgram.createSocket` whose bind, connect and first send bind the routed source and pin
// the socket to its interface.
import * as dgram from 'node:dgram';
import * as dns from 'node:dns';
import { isIP } from 'node:net';

import { native, type NativeSocket } from './binding';
import { decide, validateRouting, type RoutingOptions } from './decide';
import { describe, record } from './describe';
import { isSystemError, invalidArgType, systemError } from './errors';
import { bindForServer, openSocket } from './open-socket';
import { parseIpLiteral, validateInterface, type IpLiteral } from './validate';

// Node's own, taken at load: a program may install routebind in its place (dgram.createSocket =
// routebind.createSocket), and routebind must not then call itself.
const nodeCreateSocket = dgram.createSocket;

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
  const socket = callback ? nodeCreateSocket(dgramOptions, callback) : nodeCreateSocket(dgramOptions);
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
    // Node's wrap (uv_udp_open) turned on SO_REUSEADDR: any local process could then bind this
    // port and share its datagrams. Back to what was asked, as Node's own bind leaves it.
    native.setSocketReuse(made.fd, options.reuseAddr === true, (options as { reusePort?: boolean }).reusePort === true);
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
    const pinned = describe(socket);
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

