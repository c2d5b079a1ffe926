// Connecting to a hostname: routebind resolves it as net.connect() does (the same lookup call,
// the same 'lookup' events, the same choice between taking the first address and racing the
// families), tries the addresses in Node's order with Node's connectionAttempt* events, each
// attempt routed, bound and pinned for its own family, and installs the winner under the socket
// the caller already holds.
import * as dns from 'node:dns';
import { isIP } from 'node:net';
import * as net from 'node:net';

import { posixNative, type NativeSocket } from './binding';
import { dnsOptions, nodeInvalidAddressFamily, nodeInvalidIpAddress, racesFamilies, type Listener, type ValidConnect } from './connect-options';
import type { Decision } from './decide';
import { record } from './describe';
import { isSystemError, type SystemError } from './errors';
import { wrapStream } from './open-socket';
import { addLocalDetail, asNodeError, closesLikeNode, finishConnect, followConnected as follow, internals, openClient, setConnecting, stageOf } from './stream-socket';
import { parseIpLiteral, type IpLiteral } from './validate';

type Answer = [err: NodeJS.ErrnoException | null, result?: unknown, family?: unknown];
type Lookup = (hostname: string, options: dns.LookupOptions, callback: (...answer: Answer) => void) => void;

/**
 * A hostname: the socket is returned at once around an unbound placeholder (so `_handle`,
 * setNoDelay() and the like work before 'connect', as with net.connect), and the first attempt
 * to connect is installed under the placeholder's fd. Node never resolves the name itself: it
 * would lose the pre-bound fd.
 */
export function connectToName(v: ValidConnect, options: Record<string, unknown>, listener?: Listener): net.Socket {
  const multiple = racesFamilies(options, v);
  const lookup = (options.lookup ?? dns.lookup) as Lookup;
  let socket: net.Socket | undefined;
  let early: Answer | undefined;
  let onAnswer: (...answer: Answer) => void = () => undefined;
  // Asked first, before any fd exists: dns.lookup() throws for a bad family, hints or hostname
  // exactly as inside net.connect(). A lookup that answers at once is replayed below.
  lookup(v.host, dnsOptions(options, multiple), (...answer: Answer) => {
    if (socket === undefined) early = answer;
    else onAnswer(...answer);
  });

  let placeholder: number | undefined;
  let identity: string | undefined;
  let placeholderError: SystemError | undefined;
  try {
    ({ fd: placeholder, identity } = posixNative().createSocket({ version: 4, type: 'tcp', unbound: true }));
  } catch (error) {
    // EMFILE and the like reach the caller as net.connect() delivers them: as an 'error' event
    // once an attempt fails the same way.
    if (!isSystemError(error)) throw error;
    placeholderError = error;
  }
  // manualStart: no read before connect (reading an unconnected socket fails with ENOTCONN).
  const s = placeholder !== undefined
    ? wrapStream(placeholder, { ...v.socketOptions, manualStart: true } as net.SocketConstructorOpts)
    : closesLikeNode(new net.Socket(v.socketOptions as net.SocketConstructorOpts));
  socket = s;
  setConnecting(s, true); // as in net.connect: writes queue until 'connect'
  internals(s)._host = v.host;
  if (v.timeout) s.setTimeout(v.timeout);
  if (listener) s.once('connect', listener);

  const attempt = (addresses: IpLiteral[], race: boolean) => attempts(s, placeholder === undefined ? undefined : { fd: placeholder, identity: identity! }, placeholderError, addresses, race, v, options);
  onAnswer = multiple
    ? (err, result) => onAddresses(s, v, options, err, result, attempt)
    : (err, ip, family) => onAddress(s, v, options, err, ip, family, attempt);
  if (early !== undefined) onAnswer(...early);
  return s;
}

/** Node's single lookup (family given, localAddress given, or autoSelectFamily off): the first address. */
function onAddress(socket: net.Socket, v: ValidConnect, options: Record<string, unknown>, err: NodeJS.ErrnoException | null, ip: unknown, family: unknown, attempt: (a: IpLiteral[], race: boolean) => void): void {
  socket.emit('lookup', err, ip, family, v.host);
  if (!socket.connecting) return;
  if (err) return fail(socket, err);
  if (typeof ip !== 'string' || !isIP(ip)) return fail(socket, nodeInvalidIpAddress(ip));
  if (family !== 4 && family !== 6) return fail(socket, nodeInvalidAddressFamily(family, options.host, options.port));
  attempt([parseIpLiteral('address', ip)], false);
}

/** Node's lookup of every address (autoSelectFamily): families alternate, starting with the first answer's. */
function onAddresses(socket: net.Socket, v: ValidConnect, options: Record<string, unknown>, err: NodeJS.ErrnoException | null, result: unknown, attempt: (a: IpLiteral[], race: boolean) => void): void {
  if (!socket.connecting) return;
  if (err) {
    socket.emit('lookup', err, undefined, undefined, v.host);
    return fail(socket, err);
  }
  // A custom lookup that ignores `all` and answers one address is taken at its word.
  const list = (typeof result === 'string' ? [{ address: result, family: isIP(result) }] : Array.isArray(result) ? result : []) as Array<{ address?: unknown; family?: unknown }>;
  const groups: [IpLiteral[], IpLiteral[]] = [[], []];
  let firstFamily: unknown;
  for (const { address, family } of list) {
    socket.emit('lookup', null, address, family, v.host);
    if (!socket.connecting) return;
    if (typeof address === 'string' && isIP(address) && (family === 4 || family === 6)) {
      firstFamily ??= family;
      const group = groups[family === firstFamily ? 0 : 1];
      if (!group.some((a) => a.address === address)) group.push(parseIpLiteral('address', address));
    }
  }
  if (groups[0].length === 0) {
    const first = list[0];
    if (first === undefined) {
      const notFound = Object.assign(new Error(`getaddrinfo ENOTFOUND ${v.host}`), { errno: -3008, code: 'ENOTFOUND', syscall: 'getaddrinfo', hostname: v.host });
      return fail(socket, notFound);
    }
    if (typeof first.address !== 'string' || !isIP(first.address)) return fail(socket, nodeInvalidIpAddress(first.address));
    return fail(socket, nodeInvalidAddressFamily(first.family, options.host, options.port));
  }
  const ordered: IpLiteral[] = [];
  for (let i = 0; i < Math.max(groups[0].length, groups[1].length); i++) {
    if (i < groups[0].length) ordered.push(groups[0][i]);
    if (i < groups[1].length) ordered.push(groups[1][i]);
  }
  attempt(ordered, ordered.length > 1);
}

function fail(socket: net.Socket, error: Error): void {
  process.nextTick(() => socket.destroy(error));
}

type Attempted = net.Socket & { autoSelectFamilyAttemptedAddresses?: string[] };

/** Node's ETIMEDOUT for an attempt abandoned after autoSelectFamilyAttemptTimeout. */
function attemptTimedOut(address: string, port: number): SystemError {
  return Object.assign(new Error(`connect ETIMEDOUT ${address}:${port}`), { errno: -110, code: 'ETIMEDOUT', syscall: 'connect', address, port }) as unknown as SystemError;
}

/**
 * Tries `addresses` one after another as Node does: with `race` (several addresses, families
 * alternating) an attempt still pending after autoSelectFamilyAttemptTimeout is abandoned
 * ('connectionAttemptTimeout') and the next one started; a failure starts the next at once;
 * when none is left the socket fails with an AggregateError of every attempt's error. Without
 * `race`, the one attempt's error is the socket's.
 */
function attempts(socket: Attempted, placeholder: { fd: number; identity: string } | undefined, placeholderError: SystemError | undefined, addresses: IpLiteral[], race: boolean, v: ValidConnect, options: Record<string, unknown>): void {
  const { port } = v;
  const errors: Error[] = [];
  let current = 0;
  let timer: NodeJS.Timeout | undefined;
  let pending: net.Socket | undefined;
  if (race) socket.autoSelectFamilyAttemptedAddresses = [];

  const abandon = () => {
    clearTimeout(timer);
    if (pending === undefined) return;
    const attempt = pending;
    pending = undefined;
    attempt.removeAllListeners();
    attempt.on('error', () => undefined);
    attempt.destroy();
  };
  socket.once('close', abandon);

  const next = (): void => {
    clearTimeout(timer);
    if (!socket.connecting) return;
    if (current === addresses.length) {
      socket.destroy(Object.assign(new AggregateError(errors), { code: (errors[0] as SystemError | undefined)?.code }));
      return;
    }
    const destination = addresses[current++];
    const { address, family } = destination;
    let decision: Decision;
    let made: NativeSocket;
    try {
      ({ decision, made } = openClient(destination, v.routing, v.localPort));
    } catch (error) {
      if (!isSystemError(error)) {
        socket.destroy(error as Error);
        return;
      }
      const shaped = asNodeError(error, destination, port, v.localPort);
      const reachedConnect = stageOf(error) === 'connect';
      if (reachedConnect) socket.emit('connectionAttempt', address, port, family);
      if (!race) {
        socket.destroy(shaped);
        return;
      }
      if (reachedConnect) socket.autoSelectFamilyAttemptedAddresses?.push(`${address}:${port}`);
      errors.push(shaped);
      if (reachedConnect) socket.emit('connectionAttemptFailed', address, port, family, shaped);
      next();
      return;
    }
    const attempt = wrapStream(made.fd, { manualStart: true } as net.SocketConstructorOpts);
    attempt.pause(); // nothing may be read before the winner is installed under `socket`
    pending = attempt;
    if (v.localPort) attempt.prependListener('connectionAttemptFailed', (_a: string, _p: number, _f: number, error: Error) => addLocalDetail(error, family, options.localAddress, v.localPort));
    if (race) {
      socket.emit('connectionAttempt', address, port, family);
      socket.autoSelectFamilyAttemptedAddresses?.push(`${address}:${port}`);
    } else {
      // The attempt is Node's own single connect: its events are the ones net.connect() gives.
      attempt.on('connectionAttempt', (...a: unknown[]) => socket.emit('connectionAttempt', ...a));
      attempt.on('connectionAttemptFailed', (...a: unknown[]) => socket.emit('connectionAttemptFailed', ...a));
    }
    attempt.once('error', (error) => {
      if (pending !== attempt) return;
      clearTimeout(timer);
      pending = undefined;
      if (!race) {
        socket.destroy(error);
        return;
      }
      errors.push(error);
      socket.emit('connectionAttemptFailed', address, port, family, error);
      next();
    });
    attempt.once('connect', () => {
      if (pending !== attempt) return attempt.destroy();
      clearTimeout(timer);
      pending = undefined;
      // destroy() closes the placeholder's fd number at once but emits 'close' (and so abandon)
      // later: the number may already belong to a file by now.
      if (!socket.connecting || socket.destroyed) return attempt.destroy();
      if (placeholder === undefined) {
        attempt.destroy();
        socket.destroy(asNodeError(placeholderError!, destination, port, v.localPort));
        return;
      }
      try {
        // The addon checks that the fd number is still the placeholder before it installs the winner.
        posixNative().adoptSocket(made.fd, placeholder.fd, placeholder.identity);
      } catch (error) {
        attempt.destroy();
        socket.destroy(error as Error);
        return;
      }
      attempt.destroy(); // closes only its own fd number; the connection lives on at placeholder.fd
      record(socket, decision, made, decision.source);
      follow(socket, decision, made, options);
      finishConnect(socket, options);
    });
    const host = destination.zone !== undefined ? `${address}%${destination.zone}` : address;
    attempt.connect({ port, host, autoSelectFamily: false } as net.TcpNetConnectOpts);
    if (race && current < addresses.length) {
      timer = setTimeout(() => {
        if (pending !== attempt) return;
        socket.emit('connectionAttemptTimeout', address, port, family);
        const timedOut = attemptTimedOut(address, port);
        addLocalDetail(timedOut, family, options.localAddress, v.localPort);
        errors.push(timedOut);
        abandon();
        next();
      }, v.autoSelectFamilyAttemptTimeout);
    }
  };
  next();
}
