// Argument checks shared by every public function: thrown before any system call, with Node's codes.
import { isIP } from 'node:net';

import { invalidArgType, invalidArgValue, invalidIpAddress, outOfRange } from './errors';

/** An IP literal split from its zone: `fe80::1%eth0` → address `fe80::1`, zone `eth0`. */
export interface IpLiteral {
  address: string;
  family: 4 | 6;
  zone?: string;
}

const MAX_LITERAL = 45 + 1 + 15; // the longest IPv6 text, '%', the longest interface name

export function parseIpLiteral(name: string, value: unknown, allowZone = true): IpLiteral {
  if (typeof value !== 'string') throw invalidArgType(name, 'of type string', value);
  if (value.length === 0 || value.length > MAX_LITERAL) throw invalidIpAddress(name, value);
  const percent = value.indexOf('%');
  const address = percent === -1 ? value : value.slice(0, percent);
  const zone = percent === -1 ? undefined : value.slice(percent + 1);
  const family = isIP(address);
  if (family === 0) throw invalidIpAddress(name, value);
  if (zone !== undefined) {
    if (!allowZone || family !== 6 || !isInterfaceName(zone)) throw invalidIpAddress(name, value);
    // A numeric zone is an interface index: %0 would silently mean "any interface".
    if (/^\d+$/.test(zone) && !(Number(zone) >= 1 && Number(zone) <= 0x7fffffff)) throw invalidIpAddress(name, value);
  }
  return { address, family: family as 4 | 6, zone };
}

export function isInterfaceName(name: string): boolean {
  // The kernel's dev_valid_name(): 1–15 bytes, no '/', ':' or white space, not '.' or '..'.
  return (
    name.length > 0 &&
    Buffer.byteLength(name) < 16 &&
    name !== '.' &&
    name !== '..' &&
    !/[/:\s\0]/.test(name)
  );
}

/** An interface by name or by index. */
export function validateInterface(name: string, value: unknown): string | number {
  if (typeof value === 'string') {
    if (!isInterfaceName(value)) throw invalidArgValue(name, value, 'is not a valid interface name');
    return value;
  }
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 1 || value > 0x7fffffff) {
      throw outOfRange(name, 'an integer >= 1 and <= 2147483647', value);
    }
    return value;
  }
  throw invalidArgType(name, 'of type string or number', value);
}

export function validateInteger(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw outOfRange(name, `an integer >= ${min} and <= ${max}`, value);
  }
  return value;
}

export function validatePort(name: string, value: unknown): number {
  return validateInteger(name, value, 0, 65535);
}

export function validateBoolean(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw invalidArgType(name, 'of type boolean', value);
  return value;
}

export function validateObject<T extends object>(name: string, value: unknown): T {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalidArgType(name, 'of type object', value);
  }
  return value as T;
}

/** Rejects keys a function does not take: a misspelt `interfce` must not silently route elsewhere. */
export function rejectUnknownKeys(name: string, value: object, known: ReadonlySet<string>): void {
  for (const key of Object.keys(value)) {
    if (!known.has(key)) throw invalidArgValue(`${name}.${key}`, (value as Record<string, unknown>)[key], 'is not a known option');
  }
}

const PROTOCOLS: Record<string, number> = { icmp: 1, tcp: 6, udp: 17, ipv6icmp: 58, icmpv6: 58, sctp: 132 };

export function validateProtocol(name: string, value: unknown): number {
  if (typeof value === 'string') {
    const number = PROTOCOLS[value.toLowerCase()];
    if (number === undefined) throw invalidArgValue(name, value, `must be one of ${Object.keys(PROTOCOLS).join(', ')} or a number`);
    return number;
  }
  return validateInteger(name, value, 0, 255);
}
