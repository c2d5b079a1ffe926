// TCP clients: `net.connect` with strong end-system behaviour. An IP literal is handled here,
// synchronously; a hostname goes to happy-eyeballs.ts.
import * as dns from 'node:dns';
import { isIP } from 'node:net';
import * as net from 'node:net';

import type { NativeSocket } from './binding';
import type { Decision, RoutingOptions } from './decide';
import { record } from './describe';
import { dnsOptions, nodeInvalidIpAddress, normalizeConnectArgs, validateConnect, type Listener, type ValidConnect } from './connect-options';
import { isSystemError } from './errors';
import type { RouteChangeEvents, RouteChangeMode } from './follow';
import { connectToName } from './happy-eyeballs';
import { BINDS_BY_ADDRESS, wrapConnecting } from './open-socket';
import { requireBackend } from './platform';
import { addLocalDetail, asNodeError, closesLikeNode, failLater, followConnected as follow, openClient, planClient, setConnecting, stageOf } from './stream-socket';
import type { BoundByNode } from './strong-host';
import { parseIpLiteral, type IpLiteral } from './validate';

// Node's own, taken at load: a program may install routebind in its place (net.connect =
// routebind.connect), and routebind must not then call itself.
const nodeConnect = net.connect;

/** What connect() takes: net.connect's TCP options plus routebind's own. */
export type ConnectOptions = Omit<net.TcpNetConnectOpts, 'localAddress'> & RoutingOptions & {
  /** Bind this source address and pin the socket to the interface that owns it. */
  localAddress?: string;
  /**
   * 'keep' (default): emit 'routeChange' on the socket when its interface goes down, its source
   * is removed or no route leaves through its interface any more. 'destroy': also destroy it
   * with that error (ENETDOWN / EADDRNOTAVAIL / ENETUNREACH) instead of waiting for TCP.
   */
  onRouteChange?: RouteChangeMode;
};

/**
 * What connect() returns for TCP: a real net.Socket that also emits 'routeChange'
 * (`socket.on('routeChange', (change) => …)`). An intersection keeps every event of Node's own.
 */
export type RoutedSocket = RouteChangeEvents & net.Socket;

// The options form is declared last: when no overload matches, TypeScript reports only the last
// one's error (7.x always, 5.x when there are more than three), and for an options object that
// is the one naming a misspelt key rather than "not assignable to type 'string'".
/** `net.connect(port, host)` with strong end-system behaviour (see the options form). */
export function connect(port: number, host?: string, connectionListener?: Listener): RoutedSocket;
/** `net.connect(port, listener)`: to localhost, with strong end-system behaviour. */
export function connect(port: number, connectionListener?: Listener): RoutedSocket;
/** `net.connect(path)`: a Unix socket, handed to Node unchanged. */
export function connect(path: string, connectionListener?: Listener): net.Socket;
/**
 * `net.connect` with strong end-system behaviour: the socket is bound to the source of the
 * interface it leaves through and pinned there. Every overload of `net.connect`, with its
 * argument checks, events and errors; everything is checked before the first system call.
 */
export function connect(options: ConnectOptions, connectionListener?: Listener): RoutedSocket;
export function connect(...args: unknown[]): net.Socket {
  requireBackend();
  const [options, listener] = normalizeConnectArgs(args);
  // Only a real path is a pipe: http.Agent passes `path: null` for TCP.
  if (options.path) return nodeConnect(options as unknown as net.IpcNetConnectOpts, listener);
  const v = validateConnect(options);
  if (BINDS_BY_ADDRESS) return connectByAddress(v, options, listener);
  return v.hostFamily !== 0 ? connectToAddress(v, options, listener) : connectToName(v, options, listener);
}

/** The same as connect(), as net.createConnection is net.connect. */
export const createConnection = connect;

/** An IP literal: everything is synchronous, and Node's own connect() drives the bound fd. */
function connectToAddress(v: ValidConnect, options: Record<string, unknown>, listener?: Listener): net.Socket {
  const destination = parseIpLiteral('options.host', v.host);
  let decision: Decision;
  let made: NativeSocket;
  try {
    ({ decision, made } = openClient(destination, v.routing, v.localPort));
  } catch (error) {
    if (!isSystemError(error)) throw error;
    const socket = closesLikeNode(new net.Socket(v.socketOptions as net.SocketConstructorOpts));
    if (v.timeout) socket.setTimeout(v.timeout);
    if (listener) socket.once('connect', listener);
    return failLater(socket, asNodeError(error, destination, v.port, v.localPort), stageOf(error), destination, v.port);
  }
  // manualStart: no read is started before connect (Node starts one itself once connected).
  // noDelay, keepAlive and the rest of the constructor's options are Node's to apply.
  const socket = wrapConnecting(made.fd, v.socketOptions);
  record(socket, decision, made, decision.source);
  if (v.timeout) socket.setTimeout(v.timeout);
  if (v.localPort) socket.prependListener('connectionAttemptFailed', (_a: string, _p: number, _f: number, error: Error) => addLocalDetail(error, destination.family, options.localAddress, v.localPort));
  socket.connect({ port: v.port, host: v.host, autoSelectFamily: false } as net.TcpNetConnectOpts, listener);
  follow(socket, decision, made, options);
  return socket;
}

/**
 * Windows, where Node cannot adopt a socket made elsewhere: Node's own connect() with the routed
 * source as its localAddress, which the strong host model holds to the interface that owns it
 * (strong-host.ts). A name is resolved first, as net.connect() resolves one when given a
 * localAddress: its first address, without racing the families (a bound source has one family).
 */
function connectByAddress(v: ValidConnect, options: Record<string, unknown>, listener?: Listener): net.Socket {
  const socket = closesLikeNode(new net.Socket(v.socketOptions as net.SocketConstructorOpts));
  if (v.timeout) socket.setTimeout(v.timeout);
  if (listener) socket.once('connect', listener);
  const attempt = (destination: IpLiteral): void => {
    let decision: Decision;
    let made: BoundByNode;
    try {
      ({ decision, made } = planClient(destination, v.routing, v.localPort));
    } catch (error) {
      if (!isSystemError(error)) throw error;
      failLater(socket, asNodeError(error, destination, v.port, v.localPort), stageOf(error), destination, v.port);
      return;
    }
    record(socket, decision, made, decision.source);
    // libuv on Windows reads a zone as a number (atoi): a link-local destination's zone by name
    // becomes the index of the interface it names, which the decision routed through.
    const zone = destination.zone === undefined ? undefined : /^\d+$/.test(destination.zone) ? destination.zone : String(decision.ifindex);
    const host = zone !== undefined ? `${destination.address}%${zone}` : destination.address;
    socket.connect({ port: v.port, host, localAddress: made.address, ...(made.port ? { localPort: made.port } : {}), autoSelectFamily: false } as net.TcpNetConnectOpts);
    follow(socket, decision, made, options);
  };
  if (v.hostFamily !== 0) {
    attempt(parseIpLiteral('options.host', v.host));
    return socket;
  }
  const lookup = (options.lookup ?? dns.lookup) as (host: string, o: dns.LookupOptions, cb: (err: NodeJS.ErrnoException | null, address: unknown, family: unknown) => void) => void;
  setConnecting(socket, true); // as in net.connect: writes queue until 'connect'
  lookup(v.host, dnsOptions(options, false), (err, address, family) => {
    socket.emit('lookup', err, address, family, v.host);
    if (!socket.connecting || socket.destroyed) return;
    if (err) return void socket.destroy(err);
    if (typeof address !== 'string' || isIP(address) === 0) return void socket.destroy(nodeInvalidIpAddress(address));
    attempt(parseIpLiteral('address', address));
  });
  return socket;
}
