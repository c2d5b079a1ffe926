// TCP servers: `net.createServer` whose listen({ interface }) binds in the addon and pins the
// listener (and so every accepted connection) to the interface.
import * as dns from 'node:dns';
import { isIP } from 'node:net';
import * as net from 'node:net';

import { posixNative } from './binding';
import { validateRouting, type RoutingOptions } from './decide';
import { describe, setDescription } from './describe';
import { isSystemError } from './errors';
import { bindForServer, wrapStream } from './open-socket';
import { rejectMisspeltKeys } from './option-keys';
import { requireBackend } from './platform';
import { isWildcard, validateInterface } from './validate';

// Node's own, taken at load: a program may install routebind in its place (net.createServer =
// routebind.createServer), and routebind must not then call itself.
const nodeCreateServer = net.createServer;

/** What a routebind server's listen() takes: Node's listen options plus `interface`. */
export interface ListenOptions extends net.ListenOptions {
  /** Pin the listener (and so every accepted connection) to this interface. */
  interface?: string | number;
}

/** What createServer() takes: net.createServer's options plus routebind's own. */
export type ServerOptions = net.ServerOpts & RoutingOptions;

/** The listen() a routebind server adds to Node's: `interface` pins it. */
export interface RoutedListen {
  /** Listens (pinned to `interface`, when given); Node's other listen() forms work unchanged. */
  listen(options: ListenOptions, listeningListener?: () => void): this;
}

/** What createServer() returns: a real net.Server, whose listen() also takes `interface`. */
export type TcpServer = RoutedListen & net.Server;

/** Node's validatePort(): a number, or a non-blank numeric string, that is an integer 0..65535. */
function isValidPort(port: unknown): boolean {
  if (typeof port !== 'number' && typeof port !== 'string') return false;
  if (typeof port === 'string' && port.trim().length === 0) return false;
  return +port === +port >>> 0 && +port <= 0xffff;
}

/** net's rule for listen(x): a string that is not a number is a pipe path. */
function isPipeName(value: unknown): boolean {
  return typeof value === 'string' && !(Number(value) >= 0);
}

function isWorker(): boolean {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('node:cluster') as { isWorker: boolean }).isWorker;
}

/**
 * `net.createServer` whose `listen({ port, host?, interface })` binds in the addon and pins the
 * listener to the interface: connections arriving elsewhere are never accepted, and replies to
 * accepted ones leave through it.
 */
export function createServer(options?: ServerOptions | ((socket: net.Socket) => void), connectionListener?: (socket: net.Socket) => void): TcpServer {
  // Anything but an options object (a listener, nothing, or a value Node refuses) is Node's to judge.
  requireBackend();
  const serverOptions = options !== null && typeof options === 'object' ? options : {};
  rejectMisspeltKeys('options', serverOptions);
  const routing = validateRouting(serverOptions);
  const { interface: _i, pin: _p, strict: _s, mark: _m, ...netOptions } = serverOptions;
  void _i; void _p; void _s; void _m;
  const server = options !== null && typeof options === 'object'
    ? nodeCreateServer(netOptions, connectionListener)
    : nodeCreateServer(options as undefined, connectionListener);
  const originalListen = server.listen.bind(server) as (...args: unknown[]) => net.Server;

  server.listen = function listen(this: net.Server, ...args: unknown[]): net.Server {
    const first = args[0];
    const opts = first !== null && typeof first === 'object' ? (first as ListenOptions & { fd?: unknown; handle?: unknown; _handle?: unknown }) : undefined;
    if (opts !== undefined) rejectMisspeltKeys('options', opts);
    const iface = opts?.interface !== undefined ? validateInterface('options.interface', opts.interface) : routing.interface;
    let plainArgs = args;
    if (opts?.interface !== undefined) {
      const { interface: _x, ...plain } = opts;
      void _x;
      plainArgs = [plain, ...args.slice(1)];
    }
    // Pipes, handles and fds are Node's: there is no interface to pin them to.
    const notIp = opts !== undefined
      ? opts.path !== undefined || opts.fd !== undefined || opts.handle !== undefined || opts._handle !== undefined || typeof (first as { listen?: unknown }).listen === 'function'
      : isPipeName(first);
    if (iface === undefined || notIp) return originalListen(...plainArgs);
    const cb = args.find((a) => typeof a === 'function') as (() => void) | undefined;
    const positional = opts === undefined && typeof first !== 'function' ? first : undefined;
    const port = opts !== undefined ? opts.port : positional;
    const host = opts !== undefined ? opts.host : typeof args[1] === 'string' ? args[1] : undefined;
    const backlog = opts !== undefined ? opts.backlog : typeof args[1] === 'number' ? args[1] : typeof args[2] === 'number' ? args[2] : undefined;
    // A port or host Node would refuse: Node throws its own error, before any system call.
    if (port !== undefined && port !== null && !isValidPort(port)) return originalListen(...plainArgs);
    if (host !== undefined && host !== null && typeof host !== 'string') return originalListen(...plainArgs);
    const portNumber = port === undefined || port === null ? 0 : +port;
    const bindAndListen = (address: string) => {
      try {
        const made = bindForServer('tcp', 6, 'listen', { address, port: portNumber, interface: iface, reuseAddress: true, v6only: opts?.ipv6Only ?? false }, routing, server);
        // Accepted connections inherit the listener's pin: describe them as pinned there too.
        const listening = describe(server);
        if (listening !== undefined) {
          server.prependListener('connection', (socket: net.Socket) => {
            setDescription(socket, { ...listening, source: socket.localAddress ?? listening.source, ...(socket.remoteAddress ? { destination: socket.remoteAddress } : {}) });
          });
        }
        if (made.fd === undefined) {
          // Windows: Node listens on the address routebind chose (strong-host.ts), with the
          // caller's other listen options.
          const base = opts !== undefined ? (plainArgs[0] as Record<string, unknown>) : {};
          originalListen({ ...base, host: made.address, port: made.port, ...(backlog !== undefined ? { backlog } : {}) }, ...(cb ? [cb] : []));
          return;
        }
        // Node reads the backlog of an fd or handle listen from its arguments, not from options.
        const rest = [...(backlog !== undefined ? [backlog] : []), ...(cb ? [cb] : [])];
        if (isWorker()) {
          // A cluster worker sends an fd listen to the primary, which would open the fd of that
          // number in its own table. A handle is listened on where it is (Node's listen of a
          // handle is always exclusive), so the pinned listener stays this worker's own.
          const carrier = wrapStream(made.fd, { manualStart: true, readable: false, writable: false });
          try {
            originalListen({ _handle: (carrier as unknown as { _handle: object })._handle }, ...rest);
          } catch (error) {
            carrier.destroy();
            throw error;
          }
        } else {
          try {
            originalListen({ fd: made.fd, ...(opts?.signal !== undefined ? { signal: opts.signal } : {}) }, ...rest);
          } catch (error) {
            posixNative().closeSocket(made.fd);
            throw error;
          }
        }
      } catch (error) {
        if (!isSystemError(error)) throw error;
        process.nextTick(() => server.emit('error', error));
      }
    };
    if (typeof host === 'string' && host !== '' && !isWildcard(host) && isIP(host.split('%')[0]) === 0) {
      // A name: resolved with dns.lookup as Node's listen() does; its error is the server's 'error'.
      let closed = false;
      server.once('close', () => (closed = true));
      dns.lookup(host, (error, address) => {
        if (closed) return;
        if (error) server.emit('error', error);
        else bindAndListen(address);
      });
      return server;
    }
    bindAndListen(typeof host === 'string' && host !== '' ? host : '::');
    return server;
  } as typeof server.listen;
  return server as TcpServer;
}

