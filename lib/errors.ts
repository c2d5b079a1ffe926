// Errors shaped like Node's own: argument errors carry Node's ERR_* codes and are thrown before
// any system call; system errors carry code, errno and syscall like `net` errors do.
import { constants } from 'node:os';
import { getSystemErrorMap, inspect } from 'node:util';

type Extra = Record<string, unknown>;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'function') return `function ${value.name || '<anonymous>'}`;
  if (typeof value === 'object') return `an instance of ${value.constructor?.name ?? 'Object'}`;
  let shown = inspect(value, { maxStringLength: 40 });
  if (shown.length > 60) shown = `${shown.slice(0, 57)}...`;
  return `type ${typeof value} (${shown})`;
}

function withCode<E extends Error>(error: E, code: string, extra?: Extra): E & { code: string } {
  return Object.assign(error, { code }, extra);
}

export function invalidArgType(name: string, expected: string, actual: unknown) {
  return withCode(
    new TypeError(`The "${name}" argument must be ${expected}. Received ${describe(actual)}`),
    'ERR_INVALID_ARG_TYPE',
  );
}

export function invalidArgValue(name: string, value: unknown, reason: string) {
  let shown = inspect(value, { maxStringLength: 40 });
  if (shown.length > 60) shown = `${shown.slice(0, 57)}...`;
  return withCode(
    new TypeError(`The argument '${name}' ${reason}. Received ${shown}`),
    'ERR_INVALID_ARG_VALUE',
  );
}

export function outOfRange(name: string, range: string, value: unknown) {
  return withCode(
    new RangeError(`The value of "${name}" is out of range. It must be ${range}. Received ${inspect(value)}`),
    'ERR_OUT_OF_RANGE',
  );
}

export function invalidIpAddress(name: string, value: string) {
  let shown = value.length > 45 ? `${value.slice(0, 42)}...` : value;
  shown = JSON.stringify(shown);
  return withCode(
    new TypeError(`Invalid IP address in "${name}": ${shown} is not an IPv4 or IPv6 literal`),
    'ERR_INVALID_IP_ADDRESS',
    { [name]: value.length > 256 ? `${value.slice(0, 253)}...` : value },
  );
}

/** A system call's failure, shaped like Node's own (`code`, `errno`, `syscall`, and `address`, `port`, `interface` … where they help). */
export interface SystemError extends Error {
  /** The errno name, as Node's errors carry it: 'ENETUNREACH', 'EADDRNOTAVAIL', 'ENODEV', … */
  code: string;
  /** The negative errno number (-101 for ENETUNREACH), as in Node. */
  errno: number;
  /** What failed: 'connect', 'bind', 'setsockopt', 'RTM_GETROUTE', … */
  syscall: string;
  [key: string]: unknown;
}

/** An errno-style error made in JS, for decisions routebind takes itself (e.g. a route that leaves through the wrong interface). */
let uvNumbers: Map<string, number> | undefined;

/**
 * The errno Node's own error for `code` carries: libuv's number. That is -errno on Linux and
 * macOS, but libuv's own on Windows (EADDRNOTAVAIL is -4090 there, where os.constants.errno
 * holds the C runtime's 101), so an error routebind makes compares equal to Node's everywhere.
 */
export function uvErrno(code: string): number {
  uvNumbers ??= new Map([...getSystemErrorMap()].map(([errno, [name]]) => [name, errno]));
  return uvNumbers.get(code) ?? -(constants.errno as Record<string, number>)[code];
}

export function systemError(code: keyof typeof constants.errno, syscall: string, detail: string, extra?: Extra): SystemError {
  const error = new Error(`${syscall} ${code} ${detail}`) as SystemError;
  return Object.assign(error, { errno: uvErrno(code), code, syscall }, extra);
}

export function isSystemError(error: unknown): error is SystemError {
  return error instanceof Error && typeof (error as SystemError).code === 'string' && typeof (error as SystemError).errno === 'number';
}
