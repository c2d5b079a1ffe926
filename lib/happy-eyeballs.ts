// Connecting to a hostname: routebind resolves it, races the addresses (RFC 8305 as Node's
// autoSelectFamily does), and installs the winner under the socket the caller already holds.
import * as dns from 'node:dns';
import { isIP } from 'node:net';
import * as net from 'node:net';

import { native, type NativeSocket } from './binding';
import type { Decision, ValidRouting } from './decide';
import { record } from './describe';
import { isSystemError, type SystemError } from './errors';
import { wrapStream } from './open-socket';
import { afterConnectOptions, applyStreamOptions, constructorOptions, followConnected as follow, openClient, setConnecting, withConnectContext, type Listener } from './stream-socket';
import { parseIpLiteral, type IpLiteral } from './validate';

type LookupAll = (hostname: string, options: dns.LookupAllOptions, callback: (err: NodeJS.ErrnoException | null, addresses: dns.LookupAddress[] | string, family?: number) => void) => void;

/**
 * A hostname: the socket is returned at once around an unbound placeholder; routebind resolves
 * the name, tries the addresses in RFC 8305 order (each attempt routed, bound and pinned for its
 * own family, the next one started after autoSelectFamilyAttemptTimeout), and the first attempt
 * to connect is installed under the returned socket's fd. Node never resolves the name itself:
 * it would lose the pre-bound fd.
 */
export function connectToName(host: string, port: number, options: Record<string, unknown>, routing: ValidRouting, listener?: Listener): net.Socket {
  const ctor = constructorOptions(options);
  const placeholder = native.createSocket({ version: 4, type: 'tcp', unbound: true });
  // manualStart: no read before connect (reading an unconnected socket fails with ENOTCONN).
  const socket = wrapStream(placeholder.fd, { ...ctor, manualStart: true } as net.SocketConstructorOpts);
  setConnecting(socket, true); // as in net.connect: writes queue until 'connect'
  if (listener) socket.once('connect', listener);
  applyStreamOptions(socket, options);

  const family = options.family === 4 || options.family === 6 ? options.family : 0;
  const lookup = (options.lookup as LookupAll | undefined) ?? (dns.lookup as unknown as LookupAll);
  const lookupOptions: dns.LookupAllOptions = { all: true, family, ...(options.hints !== undefined ? { hints: options.hints as number } : {}) };
  lookup(host, lookupOptions, (err, result, resultFamily) => {
    if (socket.destroyed) return;
    if (err) {
      socket.emit('lookup', err, undefined, undefined, host);
      socket.destroy(err);
      return;
    }
    const addresses: dns.LookupAddress[] = typeof result === 'string' ? [{ address: result, family: resultFamily ?? isIP(result) }] : result;
    const usable = addresses.filter((a) => (a.family === 4 || a.family === 6) && isIP(a.address) !== 0 && (family === 0 || a.family === family));
    for (const a of usable) socket.emit('lookup', null, a.address, a.family, host);
    if (usable.length === 0) {
      const error = Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND', errno: -3008, syscall: 'getaddrinfo', hostname: host });
      socket.destroy(error);
      return;
    }
    const autoSelect = options.autoSelectFamily !== false;
    const ordered = autoSelect ? interleaveFamilies(usable) : usable;
    const local = routing.localAddress;
    const candidates = ordered
      .filter((a) => local === undefined || a.family === local.family)
      .map((a) => parseIpLiteral('address', a.address));
    race(socket, placeholder, candidates, port, options, routing, autoSelect);
  });
  return socket;
}

/** RFC 8305 §4: alternate families, starting with the family of the first answer (as Node does). */
function interleaveFamilies(addresses: dns.LookupAddress[]): dns.LookupAddress[] {
  const first = addresses[0].family;
  const a = addresses.filter((x) => x.family === first);
  const b = addresses.filter((x) => x.family !== first);
  const out: dns.LookupAddress[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (i < a.length) out.push(a[i]);
    if (i < b.length) out.push(b[i]);
  }
  return out;
}

function race(socket: net.Socket, placeholder: NativeSocket, candidates: IpLiteral[], port: number, options: Record<string, unknown>, routing: ValidRouting, autoSelect: boolean): void {
  const errors: Error[] = [];
  const pending = new Set<net.Socket>();
  const attemptDelay = (options.autoSelectFamilyAttemptTimeout as number | undefined) ?? net.getDefaultAutoSelectFamilyAttemptTimeout();
  let next = 0;
  let timer: NodeJS.Timeout | undefined;
  let settled = false;
  const maxAttempts = autoSelect ? candidates.length : 1;

  const stopAll = () => {
    settled = true;
    clearTimeout(timer);
    for (const attempt of pending) attempt.destroy();
    pending.clear();
  };
  socket.once('close', stopAll);

  const giveUp = () => {
    if (settled || pending.size > 0 || next < maxAttempts) return;
    stopAll();
    const error = errors.length === 1 ? errors[0] : Object.assign(new AggregateError(errors, 'connect failed for every address'), { code: (errors[0] as SystemError | undefined)?.code });
    socket.destroy(error);
  };

  const start = () => {
    clearTimeout(timer);
    while (!settled && next < maxAttempts) {
      const destination = candidates[next++];
      let decision: Decision;
      let made: NativeSocket;
      try {
        ({ decision, made } = openClient(destination, routing, options));
      } catch (error) {
        if (!isSystemError(error)) {
          stopAll();
          socket.destroy(error as Error);
          return;
        }
        errors.push(withConnectContext(error, destination, port)); // no route: try the next address at once
        continue;
      }
      const attempt = wrapStream(made.fd, { manualStart: true } as net.SocketConstructorOpts);
      attempt.pause(); // nothing may be read before the winner is installed under `socket`
      pending.add(attempt);
      attempt.once('error', (error) => {
        pending.delete(attempt);
        errors.push(error);
        if (!settled && pending.size === 0) start();
        giveUp();
      });
      attempt.once('connect', () => {
        pending.delete(attempt);
        // destroy() closes the placeholder's fd number at once but emits 'close' (and so stopAll)
        // later: the number may already belong to a file by now.
        if (settled || socket.destroyed) return attempt.destroy();
        stopAll();
        try {
          native.adoptSocket(made.fd, placeholder.fd, placeholder.identity);
        } catch (error) {
          attempt.destroy();
          return socket.destroy(error as Error);
        }
        attempt.destroy(); // closes only its own fd number; the connection lives on at placeholder.fd
        record(socket, decision, { ...made, fd: placeholder.fd }, decision.source);
        follow(socket, decision, made, options);
        setConnecting(socket, false);
        afterConnectOptions(socket, options);
        if (!socket.isPaused()) socket.read(0);
        socket.emit('connect');
        socket.emit('ready');
      });
      const host = destination.zone !== undefined ? `${destination.address}%${destination.zone}` : destination.address;
      attempt.connect({ port, host, autoSelectFamily: false } as net.TcpNetConnectOpts);
      if (next < maxAttempts) timer = setTimeout(start, attemptDelay);
      return;
    }
    giveUp();
  };
  start();
}

