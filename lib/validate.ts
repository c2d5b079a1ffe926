// Argument checks shared by every public function: thrown before any system call, with Node's codes.
import { isIP } from 'node:net';

import { invalidArgType, invalidArgValue, invalidIpAddress, outOfRange } from './errors';
import { HOST } from './platform';

/**
 * An IP literal split from its zone: `fe80::1%eth0` → address `fe80::1`, zone `eth0`. The
 * address is canonical (inet_ntop's form: lower case, the longest zero run compressed), so
 * `FD00:B:0::2` and `fd00:b::2` are the same string everywhere downstream.
 */
export interface IpLiteral {
  address: string;
  family: 4 | 6;
  zone?: string;
}

// An interface name is at most IFNAMSIZ - 1 bytes, an alternative name (`ip link property add
// … altname`) at most ALTIFNAMSIZ - 1; the kernel resolves both wherever a name is taken.
// Windows names interfaces by their friendly name ("Ethernet 2", "Wi-Fi"), at most
// IF_MAX_STRING_SIZE (256) UTF-16 units, spaces and all.
const WINDOWS = HOST === 'win32';
export const MAX_INTERFACE_NAME = WINDOWS ? 256 : 127;
const MAX_LITERAL = 45 + 1 + MAX_INTERFACE_NAME; // the longest IPv6 text, '%', the longest name

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
  // isIP() accepts only dotted quads without leading zeros: an IPv4 literal is already canonical.
  return { address: family === 4 ? address : canonicalIPv6(address), family: family as 4 | 6, zone };
}

/** inet_ntop(3)'s text for an IPv6 address that isIP() accepted (RFC 5952, with BIND's IPv4 tails). */
export function canonicalIPv6(text: string): string {
  const words = ipv6Words(text);
  // The longest run of two or more zero words (the first of equals) becomes '::'.
  let bestBase = -1;
  let bestLength = 0;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLength && j - i >= 2) {
      bestBase = i;
      bestLength = j - i;
    }
    i = j;
  }
  // inet_ntop writes IPv4-compatible (::a.b.c.d) and IPv4-mapped (::ffff:a.b.c.d) tails dotted.
  if (bestBase === 0 && (bestLength === 6 || (bestLength === 5 && words[5] === 0xffff))) {
    const head = bestLength === 6 ? '::' : '::ffff:';
    return `${head}${words[6] >> 8}.${words[6] & 0xff}.${words[7] >> 8}.${words[7] & 0xff}`;
  }
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestBase) {
      out += '::';
      i += bestLength - 1;
      continue;
    }
    if (out !== '' && !out.endsWith(':')) out += ':';
    out += words[i].toString(16);
  }
  return out;
}

/** The eight 16-bit words of an IPv6 address that isIP() accepted. */
export function ipv6Words(text: string): number[] {
  let plain = text;
  const tail: number[] = [];
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(plain);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number);
    tail.push((a << 8) | b, (c << 8) | d);
    plain = plain.slice(0, dotted.index);
    if (plain.endsWith(':') && !plain.endsWith('::')) plain = plain.slice(0, -1);
  }
  const gap = plain.indexOf('::');
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((w) => parseInt(w, 16)));
  const head = gap === -1 ? parse(plain) : parse(plain.slice(0, gap));
  const rest = gap === -1 ? [] : parse(plain.slice(gap + 2));
  const fill = 8 - head.length - rest.length - tail.length;
  return [...head, ...new Array<number>(Math.max(fill, 0)).fill(0), ...rest, ...tail];
}

/** An IPv6 link-local unicast address (fe80::/10), whose meaning depends on its zone. */
export function isLinkLocal6(address: string): boolean {
  return /^fe[89ab]/i.test(address);
}

/** The wildcard address of either family: bind to every address. */
export function isWildcard(address: string): boolean {
  return address === '0.0.0.0' || address === '::';
}

export function isInterfaceName(name: string): boolean {
  if (WINDOWS) return name.length > 0 && name.length <= MAX_INTERFACE_NAME && !name.includes('\0');
  // The kernel's dev_valid_name(): no '/', ':' or white space, not '.' or '..'; at most
  // ALTIFNAMSIZ - 1 bytes, since an alternative name is as good as the name.
  return (
    name.length > 0 &&
    name.length <= MAX_INTERFACE_NAME &&
    Buffer.byteLength(name) <= MAX_INTERFACE_NAME &&
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
