// HTTP and HTTPS agents and an undici connector whose every connection is a routebind socket:
// bound to the source of the interface it leaves through and pinned there. undici stays optional:
// the connector only has to be a function of the shape undici calls, so nothing here imports it.
import * as http from 'node:http';
import * as https from 'node:https';
import { isIP } from 'node:net';
import type * as net from 'node:net';
import type { Duplex } from 'node:stream';
import * as tls from 'node:tls';

import { validateRouting, type RoutingOptions } from './decide';
import { invalidArgType, invalidArgValue } from './errors';
import { validateRouteChangeMode, type RouteChangeMode } from './follow';
import { describeAsLayer } from './describe';
import { rejectMisspeltKeys } from './option-keys';
import { requireBackend } from './platform';
import { connect, type ConnectOptions } from './tcp-client';
import { rejectUnknownKeys, validateInteger, validateObject } from './validate';

/** What a `policy` is asked about: one new connection. */
export interface Destination {
  /** The host name or IP literal being connected to, as in the URL (IPv6 without brackets). Names are not resolved first. */
  host: string;
  /** The destination port (the URL's, or 80 / 443). */
  port: number;
  /** The request's protocol: 'http:' or 'https:'. */
  protocol: 'http:' | 'https:';
}

/** A policy's answer: where this connection leaves. It replaces the agent's `interface` and `localAddress` (both). */
export interface PolicyAnswer {
  /** Leave through this interface (name or index), pinned there. */
  interface?: string | number;
  /** Send from this address, pinned to the interface that owns it. */
  localAddress?: string;
}

/**
 * Chooses the uplink per destination, once for every new connection. `undefined` (or `null`)
 * keeps the agent's own `interface` / `localAddress`; an answer replaces both, so `{}` means
 * "wherever the route table sends it". A policy that throws fails that request.
 */
export type Policy = (destination: Destination) => PolicyAnswer | null | undefined;

/** What the agents and the connector take on top of their own options. */
export interface RoutedOptions extends RoutingOptions {
  /** Bind this source and pin to the interface that owns it. */
  localAddress?: string;
  /** Chooses `interface` / `localAddress` per destination, for every new connection (see Policy). */
  policy?: Policy;
}

/** What Agent takes: http.Agent's options plus routebind's (`interface`, `localAddress`, `pin`, `strict`, `mark`, `policy`). */
export type AgentOptions = Omit<http.AgentOptions, 'localAddress'> & RoutedOptions;
/** What HttpsAgent takes: https.Agent's options (TLS included) plus routebind's. */
export type HttpsAgentOptions = Omit<https.AgentOptions, 'localAddress'> & RoutedOptions;

/** What connector() takes: TLS and TCP options for the connections it makes, plus routebind's. */
export type ConnectorOptions = Omit<tls.ConnectionOptions, 'host' | 'port' | 'path' | 'socket' | 'localAddress' | 'timeout'> &
  Pick<net.TcpNetConnectOpts, 'family' | 'hints' | 'autoSelectFamily' | 'autoSelectFamilyAttemptTimeout' | 'noDelay'> &
  RoutedOptions & {
    /** Connect timeout in ms, as undici's own connector (default 10 000; 0 disables). */
    timeout?: number | null;
    /** TCP keep-alive, on by default as in undici (initial delay 60 s). */
    keepAlive?: boolean | null;
    /** Milliseconds of idleness before the first keep-alive probe (default 60 000). */
    keepAliveInitialDelay?: number | null;
    /** TLS sessions kept for resumption, per server name (default 100; 0 disables). */
    maxCachedSessions?: number | null;
    /** Follow route changes ('destroy' ends a connection whose interface or source went away). Default: not followed. */
    onRouteChange?: RouteChangeMode;
  };

/** The parameters undici hands to a `connect` function (undici's `buildConnector.Options`). */
export interface ConnectParams {
  /** The host to connect to: a name or an IP literal. */
  hostname: string;
  /** The URL's host, with the port when it has one. */
  host?: string;
  /** 'http:' or 'https:'. */
  protocol: string;
  /** The port; '' or absent means the protocol's default. */
  port: string | number;
  /** The TLS server name (SNI); null or absent for IP literals. */
  servername?: string | null;
  /** The source address undici was asked to use; a connector with its own routing ignores it. */
  localAddress?: string | null;
  /** The socket to run TLS over (a CONNECT tunnel), instead of a new connection. */
  httpSocket?: net.Socket;
}

/** How a `connect` function answers undici: (null, socket) or (error, null). */
export type ConnectCallback = (...args: [null, net.Socket | tls.TLSSocket] | [Error, null]) => void;
/** An undici `connect` function: `new undici.Agent({ connect: connector(options) })`. */
export type Connector = (params: ConnectParams, callback: ConnectCallback) => void;

const ROUTING_KEYS = ['interface', 'localAddress', 'pin', 'strict', 'mark', 'policy'] as const;
const ANSWER_KEYS: ReadonlySet<string> = new Set(['interface', 'localAddress']);

interface Routed {
  interface?: string | number;
  localAddress?: string;
  pin?: boolean;
  strict?: boolean;
  mark?: number;
  policy?: Policy;
}

/** Validates the routing options (typed errors, before any socket exists) and splits them off. */
function splitOptions<T extends object>(options: T | undefined): { routed: Routed; rest: Record<string, unknown> } {
  requireBackend();
  const o = validateObject<Record<string, unknown>>('options', options === undefined ? {} : options);
  rejectMisspeltKeys('options', o);
  validateRouting(o as RoutingOptions & { localAddress?: unknown });
  if (o.policy !== undefined && typeof o.policy !== 'function') throw invalidArgType('options.policy', 'of type function', o.policy);
  const routed: Routed = {};
  const rest: Record<string, unknown> = { ...o };
  for (const key of ROUTING_KEYS) {
    if (o[key] !== undefined) (routed as Record<string, unknown>)[key] = o[key];
    delete rest[key];
  }
  return { routed, rest };
}

/** The routing for one new connection: the policy's answer, else the agent's, else the request's source. */
function routeFor(routed: Routed, destination: Destination, requestedSource: unknown): Record<string, unknown> {
  let iface = routed.interface;
  let localAddress = routed.localAddress ?? (typeof requestedSource === 'string' ? requestedSource : undefined);
  if (routed.policy !== undefined) {
    const answer: unknown = routed.policy({ ...destination });
    if (answer !== undefined && answer !== null) {
      const a = validateObject<PolicyAnswer>('policy() result', answer);
      rejectUnknownKeys('policy() result', a, ANSWER_KEYS);
      validateRouting(a, 'policy() result');
      iface = a.interface;
      localAddress = a.localAddress;
    }
  }
  return { interface: iface, localAddress, pin: routed.pin, strict: routed.strict, mark: routed.mark };
}

/** The TCP options of a request as the agent merged them, without what would confuse connect(). */
function tcpOptions(options: Record<string, unknown>): Record<string, unknown> {
  // Node's Agent sets `path: null` so net does not take the request for a pipe; the request's
  // URL path must never reach connect() either, where a non-empty path means a pipe.
  const { path: _path, socketPath: _socketPath, ...rest } = options;
  void _path;
  void _socketPath;
  return rest;
}

function portOf(value: unknown, fallback: number): number {
  const port = typeof value === 'string' && value !== '' ? Number(value) : value;
  return typeof port === 'number' && Number.isInteger(port) && port > 0 ? port : fallback;
}

/** The routing of one of an agent's new connections (the policy's answer); a failure fails that request. */
function agentRouting(routed: Routed, o: Record<string, unknown>, protocol: 'http:' | 'https:'): Record<string, unknown> {
  const host = typeof o.host === 'string' ? o.host : 'localhost';
  return routeFor(routed, { host, port: portOf(o.port, protocol === 'https:' ? 443 : 80), protocol }, o.localAddress);
}

/**
 * The routebind socket for one of an agent's new connections, followed so it can be retired.
 * Bad connect options throw here, before any socket exists, as net.createConnection() throws
 * inside Node's own Agent (http.request() then throws them to its caller).
 */
function agentSocket(o: Record<string, unknown>, routing: Record<string, unknown>): net.Socket {
  return connect({ ...tcpOptions(o), ...routing, onRouteChange: 'keep' } as ConnectOptions);
}

// ---------------------------------------------------------------------------------------------
// Pooled keep-alive sockets that lost their path

/** Sockets whose interface went down or whose source vanished: never handed to another request. */
const unusable = new WeakSet<object>();

function freeListOf(agent: http.Agent, socket: Duplex): net.Socket[] | undefined {
  for (const list of Object.values(agent.freeSockets)) {
    if (list?.includes(socket as net.Socket)) return list;
  }
  return undefined;
}

/**
 * Marks `pooled` (the socket the agent keeps: the TLS socket for HTTPS) when routebind reports
 * a route change on `raw`, and destroys it at once if it sits idle in the pool. One in use
 * finishes its request and is then refused by keepSocketAlive() and the 'free' hook.
 */
function retireOnRouteChange(agent: http.Agent, pooled: Duplex, raw: net.Socket): void {
  raw.on('routeChange', () => {
    unusable.add(pooled);
    const free = freeListOf(agent, pooled);
    if (free === undefined) return;
    // Node only drops it from the free list on 'close', a tick later; a request made before
    // then would be handed a destroyed socket.
    free.splice(free.indexOf(pooled as net.Socket), 1);
    pooled.destroy();
  });
}

/**
 * Node's 'free' handler gives a socket that finished a request straight to the next queued
 * request, without asking keepSocketAlive(); destroying a marked one first makes that handler
 * drop it (it checks `writable`), and the queued request gets a new connection on 'close'.
 */
function refuseMarkedOnFree(agent: http.Agent): void {
  agent.prependListener('free', (socket: Duplex) => {
    if (unusable.has(socket)) socket.destroy();
  });
}

// @types/node declares keepSocketAlive() as returning void; Node returns whether to keep it.
const nodeKeepSocketAlive = http.Agent.prototype.keepSocketAlive as unknown as (this: http.Agent, socket: Duplex) => boolean;

function failed(callback: ((err: Error | null, stream: Duplex) => void) | undefined, error: unknown): undefined {
  // Through the callback, so the request emits 'error': createConnection() also runs from a
  // socket's 'close' handler (a queued request getting its socket), where a throw would be uncaught.
  if (callback === undefined) throw error;
  (callback as (err: Error) => void)(error as Error);
  return undefined;
}

/**
 * `http.Agent` whose connections are made by routebind.connect(): the agent's own options
 * (keepAlive, maxSockets, timeout, …) plus `interface`, `localAddress`, `pin`, `strict`, `mark`
 * and `policy`. A pooled keep-alive socket whose interface went down, whose source was removed
 * or whose route vanished is not reused.
 */
export class Agent extends http.Agent {
  private readonly routed: Routed;

  constructor(options?: AgentOptions) {
    const { routed, rest } = splitOptions(options);
    super(rest as http.AgentOptions);
    this.routed = routed;
    refuseMarkedOnFree(this);
  }

  override createConnection(options: http.ClientRequestArgs, callback?: (err: Error | null, stream: Duplex) => void): Duplex | undefined {
    // A Unix socket crosses no interface: nothing to route, so it is Node's own connection.
    if (options.socketPath) return super.createConnection(options, callback) ?? undefined;
    let routing: Record<string, unknown>;
    try {
      routing = agentRouting(this.routed, options as Record<string, unknown>, 'http:');
    } catch (error) {
      return failed(callback, error);
    }
    const socket = agentSocket(options as Record<string, unknown>, routing);
    retireOnRouteChange(this, socket, socket);
    return socket;
  }

  override keepSocketAlive(socket: Duplex): boolean {
    return !unusable.has(socket) && nodeKeepSocketAlive.call(this, socket);
  }
}

/**
 * `https.Agent` whose TLS runs over a routebind socket: servername, ALPNProtocols, ca,
 * rejectUnauthorized and the rest go to tls.connect() as with Node's agent, and TLS sessions
 * are cached and resumed the same way.
 */
export class HttpsAgent extends https.Agent {
  private readonly routed: Routed;

  constructor(options?: HttpsAgentOptions) {
    const { routed, rest } = splitOptions(options);
    super(rest as https.AgentOptions);
    this.routed = routed;
    refuseMarkedOnFree(this);
  }

  override createConnection(options: https.RequestOptions, callback?: (err: Error | null, stream: Duplex) => void): Duplex | undefined {
    const o = options as Record<string, unknown>;
    // A Unix socket crosses no interface: nothing to route, so it is Node's own connection.
    if (o.socketPath) return super.createConnection(options, callback) ?? undefined;
    let routing: Record<string, unknown>;
    try {
      routing = agentRouting(this.routed, o, 'https:');
    } catch (error) {
      return failed(callback, error);
    }
    const raw = agentSocket(o, routing);
    let secure: tls.TLSSocket;
    try {
      // https.Agent's own createConnection: tls.connect() plus its session cache.
      secure = super.createConnection({ ...tcpOptions(o), socket: raw } as https.RequestOptions) as tls.TLSSocket;
    } catch (error) {
      raw.destroy(); // tls.connect() refused its options: the TCP socket must not outlive the throw
      throw error;
    }
    retireOnRouteChange(this, secure, raw);
    describeAsLayer(secure, raw);
    return secure;
  }

  override keepSocketAlive(socket: Duplex): boolean {
    return !unusable.has(socket) && nodeKeepSocketAlive.call(this, socket);
  }
}

// ---------------------------------------------------------------------------------------------
// undici

function connectTimeoutError(host: string, port: number, timeout: number): Error {
  // Shaped like undici's ConnectTimeoutError, which callers of undici already handle.
  return Object.assign(new Error(`Connect Timeout Error (attempted address: ${host}:${port}, timeout: ${timeout}ms)`), {
    name: 'ConnectTimeoutError',
    code: 'UND_ERR_CONNECT_TIMEOUT',
  });
}

/**
 * An undici `connect` function whose connections are routebind sockets:
 * `new undici.Agent({ connect: connector({ interface: 'ethB' }) })`, usable as a `dispatcher`
 * of undici's fetch/request and of Node's global fetch. Over https it runs tls.connect() with
 * the servername (none for IP literals), `ALPNProtocols: ['http/1.1']` unless given, and the
 * TLS options passed here (ca, cert, rejectUnauthorized, …).
 */
export function connector(options?: ConnectorOptions): Connector {
  const { routed, rest } = splitOptions(options);
  const { timeout: t, keepAlive, keepAliveInitialDelay, maxCachedSessions: m, onRouteChange, ...common } = rest;
  const timeout = t === undefined || t === null ? 10_000 : validateInteger('options.timeout', t, 0, 2 ** 31 - 1);
  const maxCachedSessions = m === undefined || m === null ? 100 : validateInteger('options.maxCachedSessions', m, 0, 2 ** 31 - 1);
  validateRouteChangeMode('options.onRouteChange', onRouteChange);
  const tcp: Record<string, unknown> = {
    noDelay: true,
    ...common,
    ...(keepAlive !== false ? { keepAlive: true, keepAliveInitialDelay: keepAliveInitialDelay ?? 60_000 } : {}),
    ...(onRouteChange !== undefined ? { onRouteChange } : {}),
  };
  const sessions = new Map<string, Buffer>();
  const remember = (key: string, session: Buffer) => {
    if (maxCachedSessions === 0) return;
    sessions.delete(key);
    if (sessions.size >= maxCachedSessions) sessions.delete(sessions.keys().next().value as string);
    sessions.set(key, session);
  };

  return function connectRouted(params: ConnectParams, callback: ConnectCallback): void {
    let done = false;
    const finish = (error: Error | null, socket?: net.Socket | tls.TLSSocket) => {
      if (done) return;
      done = true;
      if (error) callback(error, null);
      else callback(null, socket!);
    };
    let socket: net.Socket | tls.TLSSocket;
    let raw: net.Socket | undefined;
    try {
      const secure = params.protocol === 'https:';
      const host = params.hostname;
      const port = portOf(params.port, secure ? 443 : 80);
      if (params.httpSocket !== undefined) {
        // A tunnel (CONNECT through a proxy): the TCP connection exists already.
        if (!secure) throw invalidArgValue('params.httpSocket', '[socket]', 'is only used to upgrade to TLS');
      } else {
        const routing = routeFor(routed, { host, port, protocol: secure ? 'https:' : 'http:' }, params.localAddress);
        raw = connect({ ...tcp, ...routing, host, port } as ConnectOptions);
      }
      if (secure) {
        const given = params.servername || (common.servername as string | undefined);
        const servername = given || (isIP(host) === 0 ? host : undefined);
        const sessionKey = servername ?? host;
        const session = sessions.get(sessionKey);
        const tlsSocket = tls.connect({
          ...(common as tls.ConnectionOptions),
          ALPNProtocols: (common.ALPNProtocols as tls.ConnectionOptions['ALPNProtocols']) ?? ['http/1.1'],
          ...(servername !== undefined ? { servername } : {}),
          ...(session !== undefined ? { session } : {}),
          socket: raw ?? params.httpSocket,
          host,
          port,
        });
        if (raw !== undefined) describeAsLayer(tlsSocket, raw);
        tlsSocket.on('session', (s: Buffer) => remember(sessionKey, s));
        tlsSocket.once('close', (hadError: boolean) => {
          if (hadError) sessions.delete(sessionKey);
        });
        socket = tlsSocket;
      } else {
        socket = raw!;
      }
    } catch (error) {
      raw?.destroy(); // tls.connect() refused its options after the TCP socket was made
      process.nextTick(finish, error as Error);
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    if (timeout > 0) {
      timer = setTimeout(() => socket.destroy(connectTimeoutError(params.hostname, portOf(params.port, 0), timeout)), timeout);
      timer.unref();
    }
    socket.once(socket instanceof tls.TLSSocket ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      finish(null, socket);
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      finish(error);
    });
  };
}
