// net.connect()'s arguments as Node reads them: the overloads, every check Node makes (in Node's
// order, with Node's error classes, codes and messages), then routebind's own options. All of it
// runs before routebind makes any system call, so a bad call never costs a file descriptor.
import * as dns from 'node:dns';
import { isIP } from 'node:net';
import * as net from 'node:net';
import { inspect } from 'node:util';

import { validateRouting, type ValidRouting } from './decide';
import { validateRouteChangeMode } from './follow';
import { rejectMisspeltKeys } from './option-keys';

export type Listener = () => void;

// ---------------------------------------------------------------------------------------------
// Node's argument errors, worded as Node 20 words them (internal/errors.js).

function specificType(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'function' && value.name) return `function ${value.name}`;
  if (typeof value === 'object') {
    const name = (value as { constructor?: { name?: string } }).constructor?.name;
    return name ? `an instance of ${name}` : inspect(value, { depth: -1 });
  }
  let shown = inspect(value, { colors: false });
  if (shown.length > 28) shown = `${shown.slice(0, 25)}...`;
  return `type ${typeof value} (${shown})`;
}

function coded<E extends Error>(error: E, code: string): E & { code: string } {
  return Object.assign(error, { code });
}

function kind(name: string): string {
  return name.includes('.') ? 'property' : 'argument';
}

export function nodeInvalidArgType(name: string, expected: string, actual: unknown) {
  return coded(new TypeError(`The "${name}" ${kind(name)} must be ${expected}. Received ${specificType(actual)}`), 'ERR_INVALID_ARG_TYPE');
}

export function nodeInvalidArgValue(name: string, value: unknown, reason = 'is invalid') {
  let shown = inspect(value);
  if (shown.length > 128) shown = `${shown.slice(0, 128)}...`;
  return coded(new TypeError(`The ${kind(name)} '${name}' ${reason}. Received ${shown}`), 'ERR_INVALID_ARG_VALUE');
}

function nodeOutOfRange(name: string, range: string, value: number) {
  return coded(new RangeError(`The value of "${name}" is out of range. It must be ${range}. Received ${String(value)}`), 'ERR_OUT_OF_RANGE');
}

export function nodeInvalidIpAddress(ip: unknown) {
  return coded(new TypeError(`Invalid IP address: ${String(ip)}`), 'ERR_INVALID_IP_ADDRESS');
}

export function nodeInvalidAddressFamily(family: unknown, host: unknown, port: unknown) {
  return Object.assign(new RangeError(`Invalid address family: ${String(family)} ${String(host)}:${String(port)}`), { code: 'ERR_INVALID_ADDRESS_FAMILY', host, port });
}

// ---------------------------------------------------------------------------------------------

/** Node's normalizeArgs(): (options[, cb]), (path[, cb]), ([port][, host][, cb]); the callback is the last argument. */
export function normalizeConnectArgs(args: unknown[]): [Record<string, unknown>, Listener | undefined] {
  const last = args[args.length - 1];
  const cb = typeof last === 'function' ? (last as Listener) : undefined;
  if (args.length === 0) return [{}, undefined];
  const a0 = args[0];
  if (typeof a0 === 'object' && a0 !== null) return [a0 as Record<string, unknown>, cb];
  if (typeof a0 === 'string' && !(Number(a0) >= 0)) return [{ path: a0 }, cb];
  const options: Record<string, unknown> = { port: a0 };
  if (args.length > 1 && typeof args[1] === 'string') options.host = args[1];
  return [options, cb];
}

/** Everything connect() needs, checked. */
export interface ValidConnect {
  host: string;
  port: number;
  /** The IP version of `host` when it is a literal, else 0. */
  hostFamily: 0 | 4 | 6;
  localPort?: number;
  autoSelectFamily: boolean;
  autoSelectFamilyAttemptTimeout: number;
  timeout?: number;
  routing: ValidRouting;
  /** The options for the net.Socket constructor, as net.connect() passes them. */
  socketOptions: Record<string, unknown>;
}

// Keys the net.Socket (Duplex) constructor validates: only when one is present is a probe built.
const CONSTRUCTOR_CHECKED = ['objectMode', 'readableObjectMode', 'writableObjectMode', 'keepAliveInitialDelay', 'highWaterMark', 'readableHighWaterMark', 'writableHighWaterMark'];

function checkConstructorOptions(o: Record<string, unknown>): void {
  if (CONSTRUCTOR_CHECKED.some((k) => o[k] !== undefined)) {
    // Node's own constructor is the exact reference; without fd or handle it makes no system call.
    const { fd: _fd, handle: _handle, signal: _signal, ...rest } = o;
    void _fd;
    void _handle;
    void _signal;
    new net.Socket(rest as net.SocketConstructorOpts);
  }
  const signal = o.signal;
  if (signal && (typeof signal !== 'object' || !('aborted' in signal))) throw nodeInvalidArgType('signal', 'an instance of AbortSignal', signal);
}

function checkTimeout(value: unknown): number | undefined {
  if (!value) return undefined;
  if (typeof value !== 'number') throw nodeInvalidArgType('msecs', 'of type number', value);
  if (value < 0 || !Number.isFinite(value)) throw nodeOutOfRange('msecs', 'a non-negative finite number', value);
  return value;
}

function checkPort(value: unknown): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' && typeof value !== 'string') throw nodeInvalidArgType('options.port', 'one of type number or string', value);
  const n = +value;
  if ((typeof value === 'string' && value.trim().length === 0) || n !== n >>> 0 || n > 0xffff) {
    throw coded(new RangeError(`Port should be >= 0 and < 65536. Received ${specificType(value)}.`), 'ERR_SOCKET_BAD_PORT');
  }
  return n | 0;
}

function checkInt32(name: string, value: unknown, min: number): number {
  if (typeof value !== 'number') throw nodeInvalidArgType(name, 'of type number', value);
  if (!Number.isInteger(value)) throw nodeOutOfRange(name, 'an integer', value);
  if (value < min || value > 2147483647) throw nodeOutOfRange(name, `>= ${min} && <= 2147483647`, value);
  return value;
}

/**
 * Checks a TCP connect's options exactly as net.connect() does, then routebind's own. `options`
 * is the caller's object (never changed).
 */
export function validateConnect(options: Record<string, unknown>): ValidConnect {
  checkConstructorOptions(options);
  const timeout = checkTimeout(options.timeout);
  if (options.port === undefined && options.path == null) {
    throw coded(new TypeError('The "options" or "port" or "path" argument must be specified'), 'ERR_MISSING_ARGS');
  }
  const { localAddress, localPort } = options;
  if (localAddress && !isIP(localAddress as string)) throw nodeInvalidIpAddress(localAddress);
  if (localPort && typeof localPort !== 'number') throw nodeInvalidArgType('options.localPort', 'of type number', localPort);
  const port = checkPort(options.port);
  let autoSelectFamily = net.getDefaultAutoSelectFamily();
  if (options.autoSelectFamily != null) {
    if (typeof options.autoSelectFamily !== 'boolean') throw nodeInvalidArgType('options.autoSelectFamily', 'of type boolean', options.autoSelectFamily);
    autoSelectFamily = options.autoSelectFamily;
  }
  let autoSelectFamilyAttemptTimeout = net.getDefaultAutoSelectFamilyAttemptTimeout();
  if (options.autoSelectFamilyAttemptTimeout != null) {
    autoSelectFamilyAttemptTimeout = Math.max(10, checkInt32('options.autoSelectFamilyAttemptTimeout', options.autoSelectFamilyAttemptTimeout, 1));
  }
  const host = (options.host || 'localhost') as string;
  const hostFamily = isIP(host) as 0 | 4 | 6;
  if (hostFamily === 0) {
    if (options.lookup != null && typeof options.lookup !== 'function') throw nodeInvalidArgType('options.lookup', 'of type function', options.lookup);
  }
  // A local port Node would take but the kernel cannot (NaN, 1.5, 70000).
  if (localPort && (!Number.isInteger(localPort) || (localPort as number) < 0 || (localPort as number) > 65535)) {
    throw coded(new RangeError(`options.localPort should be >= 0 and < 65536. Received ${specificType(localPort)}.`), 'ERR_SOCKET_BAD_PORT');
  }

  // routebind's own options.
  rejectMisspeltKeys('options', options);
  // An empty localAddress is none (Node ignores it); no copy of the caller's options for that.
  const routing = validateRouting(options as Parameters<typeof validateRouting>[0], 'options', localAddress || undefined);
  validateRouteChangeMode('options.onRouteChange', options.onRouteChange);

  // Copied without fd and handle only when they are there: the constructor gets its own copy.
  let socketOptions = options;
  if (options.fd !== undefined || options.handle !== undefined) {
    const { fd: _fd, handle: _handle, ...rest } = options;
    void _fd;
    void _handle;
    socketOptions = rest;
  }
  return {
    host, port, hostFamily, localPort: (localPort as number) || undefined, autoSelectFamily, autoSelectFamilyAttemptTimeout, timeout, routing, socketOptions,
  };
}

/** The options net.connect() hands to dns.lookup (or options.lookup) for a name. */
export function dnsOptions(options: Record<string, unknown>, all: boolean): dns.LookupOptions {
  const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : options.family;
  const out: Record<string, unknown> = { family, hints: options.hints || 0 };
  if (family !== 4 && family !== 6 && out.hints === 0) out.hints = dns.ADDRCONFIG;
  if (all) out.all = true;
  return out as dns.LookupOptions;
}

/** Whether net.connect() races the addresses of a name (autoSelectFamily) or takes the first. */
export function racesFamilies(options: Record<string, unknown>, v: ValidConnect): boolean {
  const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : options.family;
  return family !== 4 && family !== 6 && !options.localAddress && v.autoSelectFamily;
}
