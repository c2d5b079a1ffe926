// TCP servers: `net.createServer` whose listen({ interface }) binds in the addon and pins the
// listener (and so every accepted connection) to the interface.
import { isIP } from 'node:net';
import * as net from 'node:net';

import { native } from './binding';
import { validateRouting, type RoutingOptions } from './decide';
import { describe, setDescription } from './describe';
import { invalidArgValue, isSystemError } from './errors';
import { bindForServer } from './open-socket';
import { validateInterface } from './validate';

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
      const listening = describe(server);
      if (listening !== undefined) {
        server.prependListener('connection', (socket: net.Socket) => {
          setDescription(socket, { ...listening, source: socket.localAddress ?? listening.source, ...(socket.remoteAddress ? { destination: socket.remoteAddress } : {}) });
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

