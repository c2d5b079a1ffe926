// Helpers shared by the TCP client paths (an IP literal, happy eyeballs over a name): the
// connecting flag, what Node does once connected, and routebind's own failures shaped as the
// errors net.connect() would give.
import * as net from 'node:net';

import type { NativeSocket } from './binding';
import { decide, type Decision, type ValidRouting } from './decide';
import { uvErrno, type SystemError } from './errors';
import { followSocket, type RouteChangeMode } from './follow';
import { interfaceSettings, openFdSocket } from './open-socket';
import { bindByAddress, type BoundByNode } from './strong-host';
import type { IpLiteral } from './validate';

export type { Listener } from './connect-options';

/** `connecting` is a plain property Node reads to queue writes until 'connect'; typed read-only. */
export function setConnecting(socket: net.Socket, value: boolean): void {
  (socket as { connecting: boolean }).connecting = value;
}

interface SocketInternals {
  _handle: { setNoDelay?(on: boolean): void; setKeepAlive?(on: boolean, delaySeconds: number): void } | null;
  _sockname: unknown;
  _host: string | null;
}

export function internals(socket: net.Socket): SocketInternals {
  return socket as unknown as SocketInternals;
}

/**
 * What Node's afterConnect() does once a connection it did not make itself is installed under
 * `socket`: the constructor's noDelay / keepAlive (a negative initial delay counts as 0, as the
 * net.Socket constructor clamps it), then 'connect', 'ready', and the first read.
 */
export function finishConnect(socket: net.Socket, o: Record<string, unknown>): void {
  setConnecting(socket, false);
  const s = internals(socket);
  s._sockname = null;
  const handle = s._handle;
  if (handle) {
    if (o.noDelay && handle.setNoDelay) handle.setNoDelay(true);
    if (o.keepAlive && handle.setKeepAlive) {
      const delay = typeof o.keepAliveInitialDelay === 'number' ? Math.max(0, o.keepAliveInitialDelay) : Number.NaN;
      handle.setKeepAlive(true, ~~(delay / 1000));
    }
  }
  socket.emit('connect');
  socket.emit('ready');
  if (!socket.isPaused()) socket.read(0);
}

/**
 * A socket without a handle emits a bare 'close'; net.connect()'s socket always has one and
 * emits 'close' with hadError. For the sockets routebind makes without a handle (no fd could be had, or the connect failed
 * before it started).
 */
export function closesLikeNode(socket: net.Socket): net.Socket {
  const emit = socket.emit as (this: net.Socket, event: string | symbol, ...args: unknown[]) => boolean;
  socket.emit = function (this: net.Socket, event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'close' && args.length === 0) return emit.call(this, event, this.errored !== null);
    return emit.call(this, event, ...args);
  } as typeof socket.emit;
  return socket;
}

/** How Node would have met a failure: at bind() (no 'connectionAttempt'), or at connect(). */
export type FailureStage = 'bind' | 'connect';

export function stageOf(error: SystemError): FailureStage {
  return error.syscall === 'bind' ? 'bind' : 'connect';
}

// The properties Node's ExceptionWithHostPort sets, in its order; anything routebind adds stays
// readable but is not enumerable, so Node's tests (deepStrictEqual, Object.keys) see Node's shape.
const NODE_KEYS = ['errno', 'code', 'syscall', 'address', 'port'];

/**
 * routebind's own failure for one destination (no route, no such source, socket() refused) as
 * the error net.connect() would give: 'bind CODE local[:port]' or 'connect CODE address:port',
 * routebind's detail after it.
 */
// What the kernel's RTM_GETROUTE refusals mean (ip route's words for the route types).
const ROUTE_REFUSALS: Record<string, string> = {
  EHOSTUNREACH: 'an unreachable route',
  ENETUNREACH: 'no route',
  EACCES: 'a prohibit route',
  EINVAL: 'a blackhole route, or a source the lookup cannot use',
};

export function asNodeError(error: SystemError, destination: IpLiteral, port: number, localPort: number | undefined): SystemError {
  const stage = stageOf(error);
  const address = stage === 'bind' ? (typeof error.address === 'string' ? error.address : undefined) : destination.address;
  const shownPort = stage === 'bind' ? localPort : port;
  const head = `${stage} ${error.code}${address !== undefined ? ` ${address}` : ''}${shownPort ? `:${shownPort}` : ''}`;
  let message = error.message;
  // EMFILE and friends: the same text Node gives when libuv's socket() fails inside connect().
  if (error.syscall === 'socket') message = `${head} - Local (undefined:undefined)`;
  else if (!message.startsWith(head)) {
    let detail = message.replace(/^\S+ [A-Z0-9_]+ /, '');
    for (const said of [destination.address, address]) {
      if (said !== undefined && detail.startsWith(`${said}: `)) detail = detail.slice(said.length + 2);
    }
    // routeTo's own wording ("198.19.0.1 via nope0 (RTM_GETLINK)") names internals: say it plainly.
    detail = detail.replace(/\s*\((?:RTM_[A-Z]+|SIOC[A-Z]+)\)/g, '').replace(/^(\S+) via (\S+)$/, 'no route to $1 through $2');
    // A bare kernel refusal of the route lookup says only the destination: say what it means.
    if (detail === '' || detail === destination.address || detail.startsWith(`${destination.address}%`)) {
      const from = typeof error.address === 'string' && error.address !== destination.address ? ` from ${error.address}` : '';
      detail = `the kernel has no usable route to ${destination.address}${from} (${ROUTE_REFUSALS[error.code] ?? error.code})`;
    }
    message = `${head} - ${detail}`;
  }
  const shaped = new Error(message) as SystemError;
  shaped.errno = typeof error.errno === 'number' ? error.errno : uvErrno(error.code);
  shaped.code = error.code;
  shaped.syscall = stage;
  if (address !== undefined) shaped.address = address;
  if (shownPort) shaped.port = shownPort;
  for (const key of Object.keys(error)) {
    if (NODE_KEYS.includes(key) || key === 'message' || key === 'stack') continue;
    Object.defineProperty(shaped, key, { value: error[key], enumerable: false, writable: true, configurable: true });
  }
  if (stage === 'connect' && typeof error.address === 'string' && error.address !== destination.address) {
    Object.defineProperty(shaped, 'localAddress', { value: error.address, enumerable: false, writable: true, configurable: true });
  }
  if (error.syscall !== stage) Object.defineProperty(shaped, 'cause', { value: error, enumerable: false, writable: true, configurable: true });
  return shaped;
}

/**
 * Node's " - Local (address:port)" on a connect error when a local port was asked for, with
 * localAddress / localPort: what Node would have bound (the given address, else the wildcard).
 */
export function addLocalDetail(error: Error, family: 4 | 6, localAddress: unknown, localPort: number | undefined): void {
  const e = error as Partial<SystemError> & Error;
  if (!localPort || e.syscall !== 'connect' || e.localPort !== undefined) return;
  const local = typeof localAddress === 'string' && localAddress ? localAddress : family === 6 ? '::' : '0.0.0.0';
  e.message += ` - Local (${local}:${localPort})`;
  e.localAddress = local;
  e.localPort = localPort;
}

/**
 * A failure before the connect started, delivered as net.connect() delivers it: on the next
 * tick, after 'connectionAttempt' when Node would have reached connect().
 */
export function failLater(socket: net.Socket, error: SystemError, stage: FailureStage, destination: IpLiteral, port: number): net.Socket {
  setConnecting(socket, true);
  process.nextTick(() => {
    if (!socket.connecting) return;
    if (stage === 'connect') socket.emit('connectionAttempt', destination.address, port, destination.family);
    socket.destroy(error);
  });
  return socket;
}

/**
 * The decision for one destination and the bound, pinned TCP socket that carries it out.
 * @internal
 */
export function openClient(destination: IpLiteral, routing: ValidRouting, localPort: number | undefined): { decision: Decision; made: NativeSocket } {
  const decision = decide(destination, routing);
  return { decision, made: openFdSocket('tcp', decision, routing, { port: localPort }) };
}

/**
 * openClient() on Windows: the decision and the source Node is to bind (strong-host.ts).
 * @internal
 */
export function planClient(destination: IpLiteral, routing: ValidRouting, localPort: number | undefined): { decision: Decision; made: BoundByNode } {
  const decision = decide(destination, routing);
  return { decision, made: bindByAddress(decision, routing, localPort ?? 0, interfaceSettings()) };
}

/**
 * Follows pinned connections that asked for it (see follow.ts).
 * @internal
 */
export function followConnected(socket: net.Socket, decision: Decision, made: NativeSocket | BoundByNode, options: Record<string, unknown>): void {
  if (options.onRouteChange === undefined || made.pinned === null) return;
  followSocket(socket, options.onRouteChange as RouteChangeMode, {
    ifindex: decision.ifindex, interface: decision.interface, source: decision.source, destination: decision.destination,
  });
}
