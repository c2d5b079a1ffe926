// Every bad argument to routeTo() and routes() gets its own typed, Node-shaped error: argument
// errors before any syscall, kernel refusals as system errors with code, errno and syscall.
// No privileges, no namespaces; lookups go only to 127.0.0.1, ::1 and interfaces of this host,
// and a lookup sends nothing on the wire.
// On macOS and Windows the argument checks run; the kernel's own answers (netlink's RTM_GETLINK and
// RTM_GETROUTE) and Linux's lookup inputs are skipped by name, saying why. Those OSes' lookups are
// checked against route(8) and Find-NetRoute in test/darwin and test/windows.
import { constants } from 'node:os';
import { performance } from 'node:perf_hooks';

import { describe, expect, it } from 'vitest';

import { interfaces, routes, routeTo } from '../../lib/index';
import { itOn, linuxIt, loopbackName, NEEDS, onLinux, onWindows, openFds } from '../helpers/platform';

type ErrorClass = typeof TypeError | typeof RangeError | typeof Error;

interface BadCase {
  name: string;
  call: () => unknown;
  class: ErrorClass;
  code: string;
  /** For system errors: the operation that failed. */
  syscall?: string;
  /** Extra checks on the error. */
  check?: (error: Record<string, unknown>) => void;
}

// The public signatures are typed; bad input arrives from untyped callers, so go around the types.
const routeToAny = routeTo as (destination: unknown, options?: unknown) => unknown;
const routesAny = routes as (options?: unknown) => unknown;

const HUGE = '1'.repeat(10 * 1024 * 1024);
const HUGE_ZONED = `fe80::1%${'a'.repeat(10 * 1024 * 1024)}`;
// No host has this many interfaces; the kernel answers ENODEV for it.
const MISSING_INDEX = 2147483000;

const dst = (value: unknown): BadCase['call'] => () => routeToAny(value);
const opt = (options: unknown, destination = '127.0.0.1'): BadCase['call'] => () => routeToAny(destination, options);
const tbl = (options: unknown): BadCase['call'] => () => routesAny(options);

const TYPE = TypeError;
const RANGE = RangeError;

const cases: BadCase[] = [
  // --- the destination ---
  { name: 'destination empty', call: dst(''), class: TYPE, code: 'ERR_INVALID_IP_ADDRESS' },
  { name: "destination '1.2.3'", call: dst('1.2.3'), class: TYPE, code: 'ERR_INVALID_IP_ADDRESS' },
  { name: "destination '::g'", call: dst('::g'), class: TYPE, code: 'ERR_INVALID_IP_ADDRESS' },
  { name: "destination '256.1.1.1'", call: dst('256.1.1.1'), class: TYPE, code: 'ERR_INVALID_IP_ADDRESS' },
  { name: "destination '1.2.3.04' (octal-looking)", call: dst('1.2.3.04'), class: TYPE, code: 'ERR_INVALID_IP_ADDRESS' },
  { name: 'destination with white space', call: dst(' 127.0.0.1'), class: TYPE, code: 'ERR_INVALID_IP_ADDRESS' },
  { name: 'destination in CIDR form', call: dst('127.0.0.1/32'), class: TYPE, code: 'ERR_INVALID_IP_ADDRESS' },
  { name: "destination hostname 'localhost'", call: dst('localhost'), class: TYPE, code: 'ERR_INVALID_IP_ADDRESS' },
  {
    name: 'destination 10 MB string',
    call: dst(HUGE),
    class: TYPE,
    code: 'ERR_INVALID_IP_ADDRESS',
    check: (e) => expect(e.destination).toBe(`${HUGE.slice(0, 253)}...`),
  },
  { name: 'destination 10 MB zone', call: dst(HUGE_ZONED), class: TYPE, code: 'ERR_INVALID_IP_ADDRESS' },
  { name: "IPv4 with a zone '1.2.3.4%eth0'", call: dst('1.2.3.4%eth0'), class: TYPE, code: 'ERR_INVALID_IP_ADDRESS' },
  { name: 'zone longer than ALTIFNAMSIZ - 1', call: dst(`fe80::1%${'a'.repeat(128)}`), class: TYPE, code: 'ERR_INVALID_IP_ADDRESS' },
  { name: 'empty zone', call: dst('fe80::1%'), class: TYPE, code: 'ERR_INVALID_IP_ADDRESS' },
  { name: 'zone with a slash', call: dst('fe80::1%a/b'), class: TYPE, code: 'ERR_INVALID_IP_ADDRESS' },
  { name: 'zone index 0 (would mean "any interface")', call: dst('fe80::1%0'), class: TYPE, code: 'ERR_INVALID_IP_ADDRESS' },
  { name: 'zone index 2^31', call: dst('fe80::1%2147483648'), class: TYPE, code: 'ERR_INVALID_IP_ADDRESS' },
  { name: 'destination number', call: dst(2130706433), class: TYPE, code: 'ERR_INVALID_ARG_TYPE' },
  { name: 'destination object', call: dst({ address: '127.0.0.1' }), class: TYPE, code: 'ERR_INVALID_ARG_TYPE' },
  { name: 'destination String object', call: dst(new String('127.0.0.1')), class: TYPE, code: 'ERR_INVALID_ARG_TYPE' },
  { name: 'destination null', call: dst(null), class: TYPE, code: 'ERR_INVALID_ARG_TYPE' },
  { name: 'destination undefined', call: dst(undefined), class: TYPE, code: 'ERR_INVALID_ARG_TYPE' },
  { name: 'destination Symbol', call: dst(Symbol('127.0.0.1')), class: TYPE, code: 'ERR_INVALID_ARG_TYPE' },

  // --- the options object ---
  { name: 'options string', call: opt('lo'), class: TYPE, code: 'ERR_INVALID_ARG_TYPE' },
  { name: 'options array', call: opt([]), class: TYPE, code: 'ERR_INVALID_ARG_TYPE' },
  { name: 'options number', call: opt(1), class: TYPE, code: 'ERR_INVALID_ARG_TYPE' },
  { name: 'options null', call: opt(null), class: TYPE, code: 'ERR_INVALID_ARG_TYPE' },
  { name: "unknown option 'interfce'", call: opt({ interfce: 'lo' }), class: TYPE, code: 'ERR_INVALID_ARG_VALUE' },

  // --- interface / iif ---
  // Names of up to ALTIFNAMSIZ - 1 bytes may be alternative names (`ip link property add … altname`).
  { name: 'interface name of 128 bytes', call: opt({ interface: 'a'.repeat(128) }), class: TYPE, code: 'ERR_INVALID_ARG_VALUE' },
  { name: 'interface name of 128 UTF-8 bytes in 64 characters', call: opt({ interface: 'é'.repeat(64) }), class: TYPE, code: 'ERR_INVALID_ARG_VALUE' },
  { name: 'interface name with NUL', call: opt({ interface: 'lo\0' }), class: TYPE, code: 'ERR_INVALID_ARG_VALUE' },
  { name: "interface name with '/'", call: opt({ interface: 'eth0/1' }), class: TYPE, code: 'ERR_INVALID_ARG_VALUE' },
  { name: 'interface name empty', call: opt({ interface: '' }), class: TYPE, code: 'ERR_INVALID_ARG_VALUE' },
  { name: "interface name '.'", call: opt({ interface: '.' }), class: TYPE, code: 'ERR_INVALID_ARG_VALUE' },
  { name: "interface name '..'", call: opt({ interface: '..' }), class: TYPE, code: 'ERR_INVALID_ARG_VALUE' },
  { name: 'interface name with a space', call: opt({ interface: 'eth 0' }), class: TYPE, code: 'ERR_INVALID_ARG_VALUE' },
  { name: 'iif name too long', call: opt({ iif: 'a'.repeat(200) }), class: TYPE, code: 'ERR_INVALID_ARG_VALUE' },
  { name: 'interface index 0', call: opt({ interface: 0 }), class: RANGE, code: 'ERR_OUT_OF_RANGE' },
  { name: 'interface index -1', call: opt({ interface: -1 }), class: RANGE, code: 'ERR_OUT_OF_RANGE' },
  { name: 'interface index 1.5', call: opt({ interface: 1.5 }), class: RANGE, code: 'ERR_OUT_OF_RANGE' },
  { name: 'interface index 2^31', call: opt({ interface: 2 ** 31 }), class: RANGE, code: 'ERR_OUT_OF_RANGE' },
  { name: 'interface index NaN', call: opt({ interface: NaN }), class: RANGE, code: 'ERR_OUT_OF_RANGE' },
  { name: 'interface boolean', call: opt({ interface: true }), class: TYPE, code: 'ERR_INVALID_ARG_TYPE' },
  { name: 'iif object', call: opt({ iif: {} }), class: TYPE, code: 'ERR_INVALID_ARG_TYPE' },
  {
    name: 'interface that disagrees with the zone',
    call: opt({ interface: MISSING_INDEX }, `::1%${loopbackName}`),
    class: TYPE,
    code: 'ERR_INVALID_ARG_VALUE',
  },

  // --- numbers ---
  { name: 'mark -1', call: opt({ mark: -1 }), class: RANGE, code: 'ERR_OUT_OF_RANGE' },
  { name: 'mark 2^32', call: opt({ mark: 2 ** 32 }), class: RANGE, code: 'ERR_OUT_OF_RANGE' },
  { name: 'mark 1.5', call: opt({ mark: 1.5 }), class: RANGE, code: 'ERR_OUT_OF_RANGE' },
  { name: "mark '5' (a number as a string)", call: opt({ mark: '5' }), class: TYPE, code: 'ERR_INVALID_ARG_TYPE' },
  { name: 'mark bigint', call: opt({ mark: 5n }), class: TYPE, code: 'ERR_INVALID_ARG_TYPE' },
  { name: 'uid -1', call: opt({ uid: -1 }), class: RANGE, code: 'ERR_OUT_OF_RANGE' },
  { name: 'uid 2^32 - 1 (the kernel\'s "no uid")', call: opt({ uid: 2 ** 32 - 1 }), class: RANGE, code: 'ERR_OUT_OF_RANGE' },
  { name: 'tos 256', call: opt({ tos: 256 }), class: RANGE, code: 'ERR_OUT_OF_RANGE' },
  { name: 'tos -1', call: opt({ tos: -1 }), class: RANGE, code: 'ERR_OUT_OF_RANGE' },
  { name: 'sourcePort -1', call: opt({ sourcePort: -1 }), class: RANGE, code: 'ERR_OUT_OF_RANGE' },
  { name: 'destinationPort -80', call: opt({ destinationPort: -80 }), class: RANGE, code: 'ERR_OUT_OF_RANGE' },
  { name: 'destinationPort 65536', call: opt({ destinationPort: 65536 }), class: RANGE, code: 'ERR_OUT_OF_RANGE' },
  { name: 'sourcePort 1.5', call: opt({ sourcePort: 1.5 }), class: RANGE, code: 'ERR_OUT_OF_RANGE' },
  { name: "destinationPort '80'", call: opt({ destinationPort: '80' }), class: TYPE, code: 'ERR_INVALID_ARG_TYPE' },
  { name: "protocol 'foo'", call: opt({ protocol: 'foo' }), class: TYPE, code: 'ERR_INVALID_ARG_VALUE' },
  { name: 'protocol 256', call: opt({ protocol: 256 }), class: RANGE, code: 'ERR_OUT_OF_RANGE' },
  { name: 'protocol null', call: opt({ protocol: null }), class: TYPE, code: 'ERR_INVALID_ARG_TYPE' },

  // --- from ---
  { name: 'from of the other family', call: opt({ from: '::1' }), class: TYPE, code: 'ERR_INVALID_ARG_VALUE' },
  { name: 'from IPv4 for an IPv6 destination', call: opt({ from: '127.0.0.1' }, '::1'), class: TYPE, code: 'ERR_INVALID_ARG_VALUE' },
  { name: 'from not an IP', call: opt({ from: 'not-an-ip' }), class: TYPE, code: 'ERR_INVALID_IP_ADDRESS' },
  { name: 'from with a zone', call: opt({ from: 'fe80::1%lo' }, '::1'), class: TYPE, code: 'ERR_INVALID_IP_ADDRESS' },
  { name: 'from 10 MB string', call: opt({ from: HUGE }), class: TYPE, code: 'ERR_INVALID_IP_ADDRESS' },
  { name: 'from number', call: opt({ from: 2130706433 }), class: TYPE, code: 'ERR_INVALID_ARG_TYPE' },

  // --- what only the kernel can say (no namespaces needed) ---
  {
    name: "unknown interface name 'nosuchif0'",
    call: opt({ interface: 'nosuchif0' }),
    class: Error,
    code: 'ENODEV',
    syscall: 'RTM_GETLINK',
    check: (e) => {
      expect(e.interface).toBe('nosuchif0');
      expect(e.destination).toBe('127.0.0.1');
      expect(e.message).toContain('nosuchif0');
    },
  },
  { name: 'unknown interface name of exactly 15 bytes', call: opt({ interface: 'a'.repeat(15) }), class: Error, code: 'ENODEV', syscall: 'RTM_GETLINK' },
  { name: 'unknown (alternative) interface name of 16 bytes', call: opt({ interface: 'a'.repeat(16) }), class: Error, code: 'ENODEV', syscall: 'RTM_GETLINK' },
  { name: 'unknown (alternative) interface name of 127 bytes', call: opt({ interface: 'a'.repeat(127) }), class: Error, code: 'ENODEV', syscall: 'RTM_GETLINK' },
  { name: 'unknown zone name', call: dst('fe80::1%nosuchif0'), class: Error, code: 'ENODEV', syscall: 'RTM_GETLINK' },
  { name: "unknown iif name 'nosuchif0'", call: opt({ iif: 'nosuchif0' }), class: Error, code: 'ENODEV', syscall: 'RTM_GETLINK' },
  {
    name: 'interface index that does not exist (IPv4)',
    call: opt({ interface: MISSING_INDEX }),
    class: Error,
    code: 'ENODEV',
    syscall: 'RTM_GETROUTE',
    check: (e) => expect(e.interface).toBe(MISSING_INDEX),
  },
  { name: 'iif index that does not exist', call: opt({ iif: MISSING_INDEX }), class: Error, code: 'ENODEV', syscall: 'RTM_GETROUTE' },
  {
    // The kernel invents an answer through another interface: a missing index is still ENODEV,
    // as a missing name is.
    name: 'interface index that does not exist (IPv6)',
    call: opt({ interface: MISSING_INDEX }, '::1'),
    class: Error,
    code: 'ENODEV',
    syscall: 'RTM_GETROUTE',
    check: (e) => expect(e.interface).toBe(MISSING_INDEX),
  },
  {
    name: 'zone index that does not exist',
    call: dst(`fe80::1%${MISSING_INDEX}`),
    class: Error,
    code: 'ENODEV',
    syscall: 'RTM_GETROUTE',
  },
  {
    name: 'from an address this host does not own',
    call: opt({ from: '198.51.100.1' }),
    class: Error,
    code: 'ENETUNREACH',
    syscall: 'RTM_GETROUTE',
  },
  // The kernel's rtm_getroute_parse_ip_proto() takes only TCP, UDP and the family's own ICMP.
  { name: 'protocol 255 (valid byte, refused by the kernel)', call: opt({ protocol: 255 }), class: Error, code: 'ENOTSUP', syscall: 'RTM_GETROUTE' },
  { name: "protocol 'icmpv6' for an IPv4 destination", call: opt({ protocol: 'icmpv6' }), class: Error, code: 'ENOTSUP', syscall: 'RTM_GETROUTE' },
  { name: "protocol 'icmp' for an IPv6 destination", call: opt({ protocol: 'icmp' }, '::1'), class: Error, code: 'ENOTSUP', syscall: 'RTM_GETROUTE' },
  { name: 'iif lo without a from (martian source)', call: opt({ iif: 'lo' }), class: Error, code: 'EINVAL', syscall: 'RTM_GETROUTE' },

  // --- routes() ---
  { name: 'routes family 5', call: tbl({ family: 5 }), class: TYPE, code: 'ERR_INVALID_ARG_VALUE' },
  { name: "routes family '4'", call: tbl({ family: '4' }), class: TYPE, code: 'ERR_INVALID_ARG_VALUE' },
  { name: "routes table 'nope'", call: tbl({ table: 'nope' }), class: TYPE, code: 'ERR_INVALID_ARG_VALUE' },
  { name: 'routes table -1', call: tbl({ table: -1 }), class: RANGE, code: 'ERR_OUT_OF_RANGE' },
  { name: 'routes table 2^32', call: tbl({ table: 2 ** 32 }), class: RANGE, code: 'ERR_OUT_OF_RANGE' },
  { name: 'routes table 1.5', call: tbl({ table: 1.5 }), class: RANGE, code: 'ERR_OUT_OF_RANGE' },
  { name: 'routes table null', call: tbl({ table: null }), class: TYPE, code: 'ERR_INVALID_ARG_TYPE' },
  { name: "routes unknown option 'famliy'", call: tbl({ famliy: 4 }), class: TYPE, code: 'ERR_INVALID_ARG_VALUE' },
  { name: 'routes options string', call: tbl('main'), class: TYPE, code: 'ERR_INVALID_ARG_TYPE' },
  { name: 'routes options array', call: tbl([4]), class: TYPE, code: 'ERR_INVALID_ARG_TYPE' },
  { name: 'routes options number', call: tbl(4), class: TYPE, code: 'ERR_INVALID_ARG_TYPE' },
  { name: 'routes options null', call: tbl(null), class: TYPE, code: 'ERR_INVALID_ARG_TYPE' },
];

const SYSCALLS = new Set(['RTM_GETROUTE', 'RTM_GETLINK']);

/** Runs one case and checks everything about its error; returns the error. */
function expectTypedError(c: BadCase): Record<string, unknown> {
  let thrown: unknown;
  let returned: unknown;
  try {
    returned = c.call();
  } catch (error) {
    thrown = error;
  }
  if (thrown === undefined) throw new Error(`${c.name}: expected ${c.class.name} ${c.code}, got a result: ${JSON.stringify(returned)}`);
  expect(thrown).toBeInstanceOf(Error);
  const e = thrown as Error & Record<string, unknown>;
  // The exact class: a system error is a plain Error, not a TypeError that happens to have a code.
  expect(Object.getPrototypeOf(e)).toBe(c.class.prototype);
  expect(e.code).toBe(c.code);
  expect(typeof e.message).toBe('string');
  expect(e.message.length).toBeGreaterThan(0);
  // Nothing the caller passed is echoed back at length (the 10 MB cases).
  expect(e.message.length).toBeLessThan(400);
  for (const [key, value] of Object.entries(e)) {
    if (typeof value === 'string') expect(value.length, `error.${key}`).toBeLessThan(400);
  }
  if (c.syscall !== undefined) {
    // Shaped like Node's own system errors: code, negative errno matching it, syscall.
    expect(e.errno).toBe(-constants.errno[c.code as keyof typeof constants.errno]);
    expect(e.errno as number).toBeLessThan(0);
    expect(e.syscall).toBe(c.syscall);
    expect(SYSCALLS.has(e.syscall as string)).toBe(true);
    expect(e.message).toContain(c.code);
  } else {
    // Argument errors are thrown before any system call and carry no errno.
    expect(c.code).toMatch(/^ERR_/);
    expect(e.errno).toBeUndefined();
    expect(e.syscall).toBeUndefined();
  }
  c.check?.(e);
  return e;
}

// The lookup inputs only Linux has: elsewhere each is refused as ERR_ROUTEBIND_UNSUPPORTED_OPTION
// before its value is read (unsupported-option.test.ts).
const LINUX_ONLY_OPTION = /^(mark|uid|tos|sourcePort|destinationPort|protocol) |\biif\b/;
// Names a Windows friendly name may be ("Ethernet 2", up to 256 characters, '/' and '.' allowed).
const WINDOWS_NAMES = new Set([
  'zone longer than ALTIFNAMSIZ - 1', 'zone with a slash', 'interface name of 128 bytes', 'interface name of 128 UTF-8 bytes in 64 characters',
  "interface name with '/'", "interface name '.'", "interface name '..'", 'interface name with a space',
]);

/** Why a case does not hold on this OS, or undefined where it runs. */
function whyNotHere(c: BadCase): string | undefined {
  if (onLinux) return undefined;
  if (LINUX_ONLY_OPTION.test(c.name)) return NEEDS.linuxOptions;
  if (c.syscall !== undefined) return "the kernel's netlink answer (RTM_GETLINK, RTM_GETROUTE)";
  if (onWindows && WINDOWS_NAMES.has(c.name)) return 'a valid Windows interface (friendly) name';
  return undefined;
}
const casesHere = cases.filter((c) => whyNotHere(c) === undefined);

describe('bad input gives typed errors', () => {
  it('the table is big enough to mean something', () => {
    expect(cases.length).toBeGreaterThanOrEqual(35);
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
  });

  for (const c of cases) {
    const why = whyNotHere(c);
    itOn(why === undefined, why ?? '')(c.name, () => {
      expectTypedError(c);
    });
  }

  it('a 10 MB destination fails fast', () => {
    const start = performance.now();
    for (let i = 0; i < 10; i++) expectTypedError(cases.find((c) => c.name === 'destination 10 MB string')!);
    expect((performance.now() - start) / 10).toBeLessThan(50);
  });

  it('the whole table, twice, leaks no file descriptors', () => {
    // The first lookup opens the addon's one persistent netlink socket; measure after it.
    routeTo('127.0.0.1');
    const before = openFds();
    for (let round = 0; round < 2; round++) {
      for (const c of casesHere) expectTypedError(c);
    }
    // Still alive and still answering after every error path.
    expect(routeTo('127.0.0.1').type).toBe('local');
    expect(openFds()).toBe(before);
  });
});

describe('absent options are absent', () => {
  linuxIt(NEEDS.lo)('{ from: undefined } and other undefined options are treated as not given', () => {
    const route = routeTo('127.0.0.1', { from: undefined, interface: undefined, mark: undefined, protocol: undefined });
    expect(route.type).toBe('local');
    expect(route.from).toBeUndefined();
    expect(routeTo('127.0.0.1', undefined).interface).toBe('lo');
    expect(routes(undefined).length).toBeGreaterThan(0);
    expect(routes({ family: undefined, table: undefined }).length).toBeGreaterThan(0);
  });

  linuxIt(NEEDS.linuxOptions)('the edges of each range are accepted', () => {
    const edges = { mark: 0xffffffff, uid: 0xfffffffe, tos: 255, protocol: 'udp' as const, sourcePort: 65535, destinationPort: 0 };
    expect(routeTo('127.0.0.1', edges).interface).toBe('lo');
    expect(routeTo('127.0.0.1', { interface: 'lo', protocol: 'TCP' as 'tcp', tos: 0 }).ifindex).toBe(1);
    expect(routeTo('::1', { protocol: 'icmpv6', sourcePort: 0 }).interface).toBe('lo');
    expect(routeTo('::1%1').interface).toBe('lo');
    expect(routes({ table: 0xffffffff })).toEqual([]);
  });
});

describe('sanity: the loopback answers', () => {
  linuxIt(NEEDS.linuxRouting)("routeTo('127.0.0.1') is local, through lo, from 127.0.0.1", () => {
    const route = routeTo('127.0.0.1');
    expect(route).toMatchObject({ destination: '127.0.0.1', family: 4, type: 'local', interface: 'lo', ifindex: 1, source: '127.0.0.1' });
    expect(route.gateway).toBeUndefined();
    expect([254, 255]).toContain(route.table);
  });

  linuxIt(NEEDS.linuxRouting)("routeTo('::1') is IPv6 through lo", () => {
    const route = routeTo('::1');
    expect(route).toMatchObject({ destination: '::1', family: 6, type: 'local', interface: 'lo', table: 255 });
  });

  linuxIt(NEEDS.lo)('routeTo through lo by name and by index', () => {
    expect(routeTo('127.0.0.1', { interface: 'lo' }).interface).toBe('lo');
    expect(routeTo('127.0.0.1', { interface: 1 }).interface).toBe('lo');
  });

  linuxIt(NEEDS.lo)("interfaces() has lo: up, loopback, 127.0.0.1/8 with host scope", () => {
    const lo = interfaces().find((i) => i.name === 'lo');
    expect(lo).toBeDefined();
    expect(lo!.ifindex).toBe(1);
    expect(lo!.index).toBe(1); // the deprecated alias
    expect(lo!.flags).toEqual(expect.arrayContaining(['loopback', 'up']));
    expect(lo!.addresses).toContainEqual(
      expect.objectContaining({ address: '127.0.0.1', family: 4, prefixLength: 8, cidr: '127.0.0.1/8', scope: 'host' }),
    );
  });

  linuxIt(NEEDS.linuxRouting)("routes() lists lo's local route", () => {
    const local = routes({ family: 4, table: 'local' });
    expect(local).toContainEqual(expect.objectContaining({ destination: '127.0.0.1/32', type: 'local', table: 255, interface: 'lo' }));
    for (const entry of local) {
      expect(entry.table).toBe(255);
      expect(entry.family).toBe(4);
    }
  });
});
