// TCP servers: `net.createServer` whose listen({ interface }) binds in the addon and pins the
// listener (and so every accepted connection) to the interface, and whose wildcard listen (Linux)
// is made per address: every client is answered from the address it asked, through the interface
// that owns it (server-listeners.ts).
import * as dns from 'node:dns';
import { isIP } from 'node:net';
import * as net from 'node:net';

import { posixNative } from './binding';
import { validateRouting, type RoutingOptions } from './decide';
import { describe, setDescription } from './describe';
import { isSystemError } from './errors';
import { bindForServer, wrapStream } from './open-socket';
import { ROUTEBIND_KEYS, rejectMisspeltKeys } from './option-keys';
import { HOST, requireBackend } from './platform';
import { ListenerSet } from './server-listeners';
import { isWildcard, validateBoolean, validateInterface } from './validate';
import { currentInterfaces } from './interfaces';

// Node's own, taken at load: a program may install routebind in its place (net.createServer =
// routebind.createServer), and routebind must not then call itself.
const nodeCreateServer = net.createServer;

/** What a routebind server's listen() takes: Node's listen options plus `interface` and `perAddress`. */
export interface ListenOptions extends net.ListenOptions {
  /** Pin the listener (and so every accepted connection) to this interface. */
  interface?: string | number;
  /**
   * A wildcard listen (host omitted, '0.0.0.0' or '::') on Linux opens one listener per local
   * address, each pinned to the interface that owns it, and follows the addresses as they come
   * and go (default true). `false`: one plain wildcard listener, as net's, whose replies are
   * routed by destination (a client that reached another uplink's address may never be answered).
   */
  perAddress?: boolean;
}

/** What createServer() takes: net.createServer's options plus routebind's own. */
export type ServerOptions = net.ServerOpts & RoutingOptions & {
  /** The default of listen()'s `perAddress` for this server (default true). */
  perAddress?: boolean;
};

const SERVER_KEYS = [...ROUTEBIND_KEYS, 'perAddress'];

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
  rejectMisspeltKeys('options', serverOptions, SERVER_KEYS);
  const routing = validateRouting(serverOptions);
  const serverPerAddress = serverOptions.perAddress === undefined ? true : validateBoolean('options.perAddress', serverOptions.perAddress);
  const { interface: _i, pin: _p, strict: _s, mark: _m, perAddress: _pa, ...netOptions } = serverOptions;
  void _i; void _p; void _s; void _m; void _pa;
  const server = options !== null && typeof options === 'object'
    ? nodeCreateServer(netOptions, connectionListener)
    : nodeCreateServer(options as undefined, connectionListener);
  const originalListen = server.listen.bind(server) as (...args: unknown[]) => net.Server;
  // The listeners of a per-address listen, while it lasts.
  let listeners: ListenerSet | undefined;
  let describesConnections = false;
  const proto = net.Server.prototype;
  server.address = function address(this: net.Server) {
    return listeners !== undefined && this.listening ? listeners.address() : proto.address.call(this);
  };
  server.close = function close(this: net.Server, callback?: (error?: Error) => void) {
    const closing = listeners;
    listeners = undefined;
    closing?.closeAll();
    return proto.close.call(this, callback);
  };
  server.ref = function ref(this: net.Server) {
    proto.ref.call(this);
    listeners?.ref();
    return this;
  };
  server.unref = function unref(this: net.Server) {
    proto.unref.call(this);
    listeners?.unref();
    return this;
  };

  server.listen = function listen(this: net.Server, ...args: unknown[]): net.Server {
    const first = args[0];
    const opts = first !== null && typeof first === 'object' ? (first as ListenOptions & { fd?: unknown; handle?: unknown; _handle?: unknown }) : undefined;
    if (opts !== undefined) rejectMisspeltKeys('options', opts, SERVER_KEYS);
    const iface = opts?.interface !== undefined ? validateInterface('options.interface', opts.interface) : routing.interface;
    const perAddress = opts?.perAddress !== undefined ? validateBoolean('options.perAddress', opts.perAddress) : serverPerAddress;
    let plainArgs = args;
    if (opts?.interface !== undefined || opts?.perAddress !== undefined) {
      const { interface: _x, perAddress: _y, ...plain } = opts;
      void _x; void _y;
      plainArgs = [plain, ...args.slice(1)];
    }
    // Pipes, handles and fds are Node's: there is no interface to pin them to.
    const notIp = opts !== undefined
      ? opts.path !== undefined || opts.fd !== undefined || opts.handle !== undefined || opts._handle !== undefined || typeof (first as { listen?: unknown }).listen === 'function'
      : isPipeName(first);
    if (notIp) return originalListen(...plainArgs);
    const cb = args.find((a) => typeof a === 'function') as (() => void) | undefined;
    const positional = opts === undefined && typeof first !== 'function' ? first : undefined;
    const port = opts !== undefined ? opts.port : positional;
    const host = opts !== undefined ? opts.host : typeof args[1] === 'string' ? args[1] : undefined;
    const backlog = opts !== undefined ? opts.backlog : typeof args[1] === 'number' ? args[1] : typeof args[2] === 'number' ? args[2] : undefined;
    if (iface === undefined) {
      const wildcard = host === undefined || host === null || host === '' || (typeof host === 'string' && isWildcard(host));
      if (!wildcard || this.listening) return originalListen(...plainArgs);
      if (!perAddress || !routing.pin || HOST !== 'linux') {
        // One listener, as net's: describe() says how it answers.
        const answers = HOST === 'win32' ? 'strong-host' : 'route';
        // (No 'error' listener to undo this after a failed listen: one would swallow the error.
        // A later listen elsewhere is told apart by its address.)
        this.once('listening', () => {
          const a = this.address();
          if (a !== null && typeof a === 'object' && isWildcard(a.address)) setDescription(this, { source: a.address, pinned: null, answers });
        });
        return originalListen(...plainArgs);
      }
      // Anything Node would refuse (a missing or bad port, a bad backlog or signal) is refused
      // by Node, with its words. Node takes a port given as undefined or null as 0, but an
      // options object must name it.
      if (opts !== undefined && !('port' in opts)) return originalListen(...plainArgs);
      if (port !== undefined && port !== null && ((typeof port !== 'number' && typeof port !== 'string') || !isValidPort(port))) return originalListen(...plainArgs);
      if (backlog !== undefined && backlog !== null && !(typeof backlog === 'number' && Number.isInteger(backlog) && backlog >= 0)) return originalListen(...plainArgs);
      if (opts?.signal !== undefined && !(opts.signal instanceof AbortSignal)) return originalListen(...plainArgs);
      return listenPerAddress(this, { port: port === undefined || port === null ? 0 : +port, host: typeof host === 'string' ? host : '', backlog, ipv6Only: opts?.ipv6Only === true, exclusive: opts?.exclusive === true, signal: opts?.signal, cb });
    }
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

  /**
   * The wildcard listen, per address: every listener opened (or Node's error for the wildcard,
   * on the next tick, as net reports a failed listen), then the first handed to net as the
   * server's own handle and the others made the server's too.
   */
  function listenPerAddress(self: net.Server, o: { port: number; host: string; backlog?: number; ipv6Only: boolean; exclusive: boolean; signal?: AbortSignal; cb?: () => void }): net.Server {
    const hasV6 = ownsAnyIPv6();
    const v6 = o.host !== '0.0.0.0' && hasV6;
    // '::' takes IPv4 too unless ipv6Only, as a dual-stack socket does.
    const v4 = !v6 || !o.ipv6Only;
    const set = new ListenerSet(self, {
      port: o.port,
      v4,
      v6,
      backlog: o.backlog ?? 511,
      // Workers each listen on their own set (Node's primary cannot share pinned listeners): the
      // kernel spreads connections among them, unless each asked for the port to itself.
      reusePort: isWorker() && !o.exclusive,
      strict: routing.strict,
      ...(routing.mark !== undefined ? { mark: routing.mark } : {}),
    });
    let opened;
    try {
      opened = set.open();
    } catch (error) {
      if (!isSystemError(error)) throw error;
      process.nextTick(() => self.emit('error', error));
      return self;
    }
    if (opened.length === 0) return originalListen({ port: o.port, host: o.host || undefined, ipv6Only: o.ipv6Only }, ...(o.cb ? [o.cb] : []));
    const primary = opened[0].handle;
    try {
      originalListen({ _handle: primary }, ...(o.backlog !== undefined ? [o.backlog] : []), ...(o.cb ? [o.cb] : []));
    } catch (error) {
      for (const l of opened) l.handle.close();
      set.closeAll();
      throw error;
    }
    const own = (self as unknown as { _handle: unknown })._handle;
    if (own !== (primary as unknown)) {
      // net could not listen on it: it reports the error itself on the next tick.
      for (const l of opened.slice(1)) l.handle.close();
      set.closeAll();
      return self;
    }
    listeners = set;
    set.adopt(opened, primary.onconnection);
    set.describeServer();
    if (!describesConnections) {
      // Once per server, whatever number of times it listens: describe() of each connection.
      describesConnections = true;
      self.prependListener('connection', (socket: net.Socket) => {
        const from = listeners?.accepting;
        if (from !== undefined) listeners!.describeConnection(socket, from);
      });
    }
    if (o.signal !== undefined) {
      const signal = o.signal;
      const abort = () => self.close();
      if (signal.aborted) process.nextTick(abort);
      else {
        signal.addEventListener('abort', abort, { once: true });
        self.once('close', () => signal.removeEventListener('abort', abort));
      }
    }
    return self;
  }
  return server as TcpServer;
}

/** Whether this host has any IPv6 address (else a wildcard listen is IPv4's, as net falls back to). */
function ownsAnyIPv6(): boolean {
  return currentInterfaces().some((i) => i.addresses.some((a) => a.family === 6));
}

