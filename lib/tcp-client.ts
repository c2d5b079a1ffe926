// TCP clients: `net.connect` with strong end-system behaviour. An IP literal is handled here,
// synchronously; a hostname goes to happy-eyeballs.ts.
import { isIP } from 'node:net';
import * as net from 'node:net';

import type { NativeSocket } from './binding';
import { validateRouting, type Decision, type RoutingOptions, type ValidRouting } from './decide';
import { record } from './describe';
import { invalidArgType, isSystemError } from './errors';
import { validateRouteChangeMode, type RouteChangeMode } from './follow';
import { connectToName } from './happy-eyeballs';
import { wrapStream } from './open-socket';
import { afterConnectOptions, applyStreamOptions, constructorOptions, failLater, followConnected as follow, openClient, withConnectContext, type Listener } from './stream-socket';
import { parseIpLiteral, type IpLiteral } from './validate';

// Node's own, taken at load: a program may install routebind in its place (net.connect =
// routebind.connect), and routebind must not then call itself.
const nodeConnect = net.connect;

export type ConnectOptions = Omit<net.TcpNetConnectOpts, 'localAddress'> & RoutingOptions & {
  localAddress?: string;
  /**
   * 'keep' (default): emit 'routeChange' on the socket when its interface goes down, its source
   * is removed or no route leaves through its interface any more. 'destroy': also destroy it
   * with that error (ENETDOWN / EADDRNOTAVAIL / ENETUNREACH) instead of waiting for TCP.
   */
  onRouteChange?: RouteChangeMode;
};


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
  if (options.path) return nodeConnect(options as unknown as net.IpcNetConnectOpts, listener);
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

