// Helpers shared by the TCP client paths (an IP literal, happy eyeballs over a name): Node's
// constructor and stream options, the connecting flag, and errors with the connect context.
import * as net from 'node:net';

import type { NativeSocket } from './binding';
import { decide, type Decision, type ValidRouting } from './decide';
import type { SystemError } from './errors';
import { followSocket, type RouteChangeMode } from './follow';
import { openSocket } from './open-socket';
import type { IpLiteral } from './validate';

export type Listener = () => void;

const SOCKET_KEYS = ['allowHalfOpen', 'readable', 'writable', 'signal'] as const;

export function constructorOptions(o: Record<string, unknown>): net.SocketConstructorOpts {
  const out: Record<string, unknown> = {};
  for (const key of SOCKET_KEYS) if (o[key] !== undefined) out[key] = o[key];
  return out as net.SocketConstructorOpts;
}


export function applyStreamOptions(socket: net.Socket, o: Record<string, unknown>): void {
  if (o.timeout !== undefined) socket.setTimeout(o.timeout as number);
}


export function afterConnectOptions(socket: net.Socket, o: Record<string, unknown>): void {
  if (o.noDelay) socket.setNoDelay(true);
  if (o.keepAlive) socket.setKeepAlive(true, (o.keepAliveInitialDelay as number | undefined) ?? 0);
}


/** `connecting` is a plain property Node reads to queue writes until 'connect'; typed read-only. */
export function setConnecting(socket: net.Socket, value: boolean): void {
  (socket as { connecting: boolean }).connecting = value;
}


/** Emits `error` and `close` on the next tick, as Node does for a connect that fails before it starts. */
export function failLater(socket: net.Socket, error: Error): net.Socket {
  setConnecting(socket, true);
  process.nextTick(() => socket.destroy(error));
  return socket;
}


export function withConnectContext(error: SystemError, destination: IpLiteral, port: number): SystemError {
  if (error.destination === undefined) error.destination = destination.address;
  error.port = port;
  return error;
}


/** The decision for one destination and the bound, pinned TCP socket that carries it out. */
export function openClient(destination: IpLiteral, routing: ValidRouting, options: Record<string, unknown>): { decision: Decision; made: NativeSocket } {
  const decision = decide(destination, routing);
  return { decision, made: openSocket('tcp', decision, routing, { port: options.localPort as number | undefined }) };
}


/** Follows pinned connections that asked for it (see follow.ts). */
export function followConnected(socket: net.Socket, decision: Decision, made: NativeSocket, options: Record<string, unknown>): void {
  if (options.onRouteChange === undefined || made.pinned === null) return;
  followSocket(socket, options.onRouteChange as RouteChangeMode, {
    ifindex: decision.ifindex, interface: decision.interface, source: decision.source, destination: decision.destination,
  });
}

