// The pure rtnetlink parser (native/linux/netlink_parser.cc) driven through native.parseNetlink: real
// replies captured from the kernel (fixtures/capture-netlink.py), hand-built messages, every
// malformation we can think of, and a deterministic fuzz loop. No sockets, no privileges.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { constants } from 'node:os';
import * as path from 'node:path';

import { describe, expect, it } from 'vitest';

import { linuxNative, type LinuxNative, type NativeParsedMessage } from '../../lib/binding';
import { linuxDescribe, NEEDS } from '../helpers/platform';

// parseNetlink is the Linux addon's alone: elsewhere every describe() below is skipped, saying so.
const native = (process.platform === 'linux' ? linuxNative() : undefined) as LinuxNative;

// ---- constants from linux/netlink.h, linux/rtnetlink.h, linux/if_link.h, linux/if_addr.h ----
const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;
const RTM_NEWLINK = 16;
const RTM_NEWADDR = 20;
const RTM_NEWROUTE = 24;
const NLM_F_MULTI = 0x2;
const AF_INET = 2;
const AF_INET6 = 10;
const RTA_DST = 1;
const RTA_SRC = 2;
const RTA_OIF = 4;
const RTA_GATEWAY = 5;
const RTA_PRIORITY = 6;
const RTA_PREFSRC = 7;
const RTA_METRICS = 8;
const RTA_MULTIPATH = 9;
const RTA_TABLE = 15;
const RTA_MARK = 16;
const RTA_VIA = 18;
const RTA_PREF = 20;
const RTA_UID = 25;
const RTAX_MTU = 2;
const IFLA_ADDRESS = 1;
const IFLA_IFNAME = 3;
const IFLA_MTU = 4;
const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;
const IFA_LABEL = 3;
const RTN_UNICAST = 1;
const RTN_LOCAL = 2;
const IFF_LOOPBACK = 0x8;

// ---- byte builders (little-endian, as on every machine this runs on) ----
function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function u8(...values: number[]): Uint8Array {
  return Uint8Array.from(values);
}

function u16(value: number): Uint8Array {
  const b = new Uint8Array(2);
  new DataView(b.buffer).setUint16(0, value, true);
  return b;
}

function u32(value: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, value >>> 0, true);
  return b;
}

function i32(value: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, value, true);
  return b;
}

function pad4(bytes: Uint8Array): Uint8Array {
  const padded = new Uint8Array((bytes.length + 3) & ~3);
  padded.set(bytes);
  return padded;
}

function ip(text: string): Uint8Array {
  if (isIP(text) === 4) return Uint8Array.from(text.split('.').map(Number));
  // Expand '::' and write eight big-endian groups.
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[2 * i] = v >> 8;
    out[2 * i + 1] = v & 0xff;
  });
  return out;
}

function cstr(text: string): Uint8Array {
  return concat(new TextEncoder().encode(text), u8(0));
}

/** rtattr: len u16 (header + payload, unpadded), type u16, payload padded to 4. `len` overrides. */
function rta(type: number, payload: Uint8Array, len = 4 + payload.length): Uint8Array {
  return pad4(concat(u16(len), u16(type), payload));
}

interface RtmsgFields {
  family?: number;
  dstLen?: number;
  srcLen?: number;
  tos?: number;
  table?: number;
  protocol?: number;
  scope?: number;
  type?: number;
  flags?: number;
}

/** struct rtmsg: 12 bytes. */
function rtmsg(f: RtmsgFields = {}): Uint8Array {
  const family = f.family ?? AF_INET;
  return concat(
    u8(family, f.dstLen ?? (family === AF_INET6 ? 128 : 32), f.srcLen ?? 0, f.tos ?? 0),
    u8(f.table ?? 254, f.protocol ?? 2, f.scope ?? 0, f.type ?? RTN_UNICAST),
    u32(f.flags ?? 0),
  );
}

/** struct ifinfomsg: 16 bytes. */
function ifinfomsg(index: number, flags = 0, type = 1): Uint8Array {
  return concat(u8(0, 0), u16(type), i32(index), u32(flags), u32(0));
}

/** struct ifaddrmsg: 8 bytes. */
function ifaddrmsg(family: number, prefixLength: number, scope: number, index: number): Uint8Array {
  return concat(u8(family, prefixLength, 0x80, scope), u32(index));
}

interface NlmsgOptions {
  flags?: number;
  seq?: number;
  pid?: number;
  /** nlmsg_len as written in the header; defaults to the true length. */
  len?: number;
}

/** nlmsghdr (16 bytes) + body. The body is not padded here: callers pad when they want to. */
function nlmsg(type: number, body: Uint8Array, o: NlmsgOptions = {}): Uint8Array {
  return concat(u32(o.len ?? 16 + body.length), u16(type), u16(o.flags ?? 0), u32(o.seq ?? 1), u32(o.pid ?? 0), body);
}

function routeMessage(fields: RtmsgFields, ...attrs: Uint8Array[]): Uint8Array {
  return nlmsg(RTM_NEWROUTE, concat(rtmsg(fields), ...attrs));
}

// ---- running the parser ----
function isMalformed(error: unknown): boolean {
  return error instanceof TypeError && (error as TypeError & { code?: string }).code === 'ERR_NETLINK_MALFORMED';
}

function parse(bytes: Uint8Array): NativeParsedMessage[] {
  return native.parseNetlink(bytes);
}

/** Parses and expects exactly one message; returns it. */
function one(bytes: Uint8Array): NativeParsedMessage {
  const messages = parse(bytes);
  expect(messages).toHaveLength(1);
  return messages[0];
}

function expectMalformed(bytes: Uint8Array): void {
  let thrown: unknown;
  try {
    parse(bytes);
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(TypeError);
  expect((thrown as { code?: string }).code).toBe('ERR_NETLINK_MALFORMED');
}

function expectInvalid(bytes: Uint8Array): void {
  const m = one(bytes);
  expect(m.invalid).toBe(true);
  expect(m.route).toBeUndefined();
  expect(m.link).toBeUndefined();
  expect(m.address).toBeUndefined();
  expect(m.error).toBeUndefined();
}

/** Structural invariants of anything the parser hands back, however hostile its input. Plain
 * checks rather than expect(): the fuzz loop calls this for every message it gets. */
function checkShape(messages: NativeParsedMessage[]): void {
  const check = (ok: boolean, what: string, m: unknown) => {
    if (!ok) throw new Error(`parser output breaks "${what}": ${JSON.stringify(m)}`);
  };
  const isIpOf = (a: string | undefined, version: number) => a === undefined || isIP(a) === version;
  check(Array.isArray(messages), 'returns an array', messages);
  for (const m of messages) {
    check(Number.isInteger(m.type) && m.type >= 0 && m.type <= 0xffff, 'type is u16', m);
    check(Number.isInteger(m.flags) && m.flags >= 0 && m.flags <= 0xffff, 'flags is u16', m);
    check(Number.isInteger(m.seq) && m.seq >= 0 && m.seq <= 0xffffffff, 'seq is u32', m);
    const kinds = [m.route, m.link, m.address, m.error, m.invalid].filter((k) => k !== undefined);
    check(kinds.length === 1, 'exactly one of route/link/address/error/invalid', m);
    check(m.invalid === undefined || m.invalid === true, 'invalid is true when present', m);
    if (m.route !== undefined) {
      const r = m.route;
      check(m.type === 24 || m.type === 25, 'routes come from RTM_NEWROUTE/RTM_DELROUTE', m);
      check(r.version === 4 || r.version === 6, 'route version 4 or 6', m);
      const bits = r.version === 4 ? 32 : 128;
      check(r.dstLen <= bits && r.srcLen <= bits, 'prefix lengths fit the family', m);
      check([r.destination, r.sourcePrefix, r.preferredSource].every((a) => isIpOf(a, r.version)), 'addresses of the route family', m);
      check(r.gateway === undefined || isIP(r.gateway) !== 0, 'gateway is an address (RTA_VIA may cross families)', m);
      for (const h of r.nexthops ?? []) {
        check(h.weight >= 1 && h.weight <= 256, 'next hop weight is hops + 1', m);
        check(h.gateway === undefined || isIP(h.gateway) !== 0, 'next hop gateway is an address', m);
      }
      check(r.oifName === undefined && r.iifName === undefined, 'the pure parser names no links', m);
    }
    if (m.link !== undefined) {
      const l = m.link;
      check(m.type === 16 || m.type === 17, 'links come from RTM_NEWLINK/RTM_DELLINK', m);
      check(l.index > 0, 'link index > 0', m);
      // Bytes that are not UTF-8 arrive as U+FFFD, one unit each: never more units than bytes.
      check(l.name.length > 0 && l.name.length <= 15 && !l.name.includes('\0'), 'link name 1-15 bytes without NUL', m);
      check(l.mac === undefined || l.mac.length <= 32, 'MAC fits its buffer', m);
    }
    if (m.address !== undefined) {
      const a = m.address;
      check(m.type === 20 || m.type === 21, 'addresses come from RTM_NEWADDR/RTM_DELADDR', m);
      check(a.version === 4 || a.version === 6, 'address version 4 or 6', m);
      check(a.prefixLength <= (a.version === 4 ? 32 : 128), 'prefix length fits the family', m);
      check(a.address !== undefined || a.local !== undefined, 'an address message has an address', m);
      check([a.address, a.local, a.broadcast].every((x) => isIpOf(x, a.version)), 'addresses of the message family', m);
    }
    if (m.error !== undefined) {
      check(m.type === NLMSG_ERROR, 'errors come from NLMSG_ERROR', m);
      check(Number.isInteger(m.error) && m.error >= 0, 'error is a positive errno or 0', m);
    }
  }
}

/** Parses hostile bytes: either a typed malformed error or well-shaped messages, nothing else. */
function parseHostile(bytes: Uint8Array): 'malformed' | NativeParsedMessage[] {
  let messages: NativeParsedMessage[];
  try {
    messages = parse(bytes);
  } catch (error) {
    if (isMalformed(error)) return 'malformed';
    throw error;
  }
  checkShape(messages);
  return messages;
}

// ---- captured replies ----
interface Captures {
  kernel: string;
  missingIfindex: number;
  captures: Record<'routeV4Loopback' | 'routeV6Loopback' | 'routeV4MissingOif' | 'linkDump' | 'addressDump', string>;
}

const capturesFile = path.join(__dirname, 'fixtures', 'netlink-captures.json');
const captured = JSON.parse(readFileSync(capturesFile, 'utf8')) as Captures;
const capture = (name: keyof Captures['captures']): Uint8Array => new Uint8Array(Buffer.from(captured.captures[name], 'hex'));

linuxDescribe(NEEDS.netlink)('captured kernel replies', () => {
  it('are small enough to keep in the repository', () => {
    expect(readFileSync(capturesFile).length).toBeLessThan(50 * 1024);
  });

  it('route to 127.0.0.1: local, through lo, from 127.0.0.1', () => {
    const m = one(capture('routeV4Loopback'));
    expect(m.type).toBe(RTM_NEWROUTE);
    expect(m.seq).toBe(1);
    const r = m.route!;
    expect(r).toBeDefined();
    expect(r.version).toBe(4);
    expect(r.type).toBe(RTN_LOCAL);
    expect([254, 255]).toContain(r.table);
    expect(r.destination).toBe('127.0.0.1');
    expect(r.dstLen).toBe(32);
    expect(r.oif).toBe(1);
    expect(r.preferredSource).toBe('127.0.0.1');
    expect(r.gateway).toBeUndefined();
    // The parser is pure: it never asks the kernel for a name.
    expect(r.oifName).toBeUndefined();
  });

  it('route to ::1: local, through lo, in the local table', () => {
    const r = one(capture('routeV6Loopback')).route!;
    expect(r.version).toBe(6);
    expect(r.type).toBe(RTN_LOCAL);
    expect(r.table).toBe(255);
    expect(r.destination).toBe('::1');
    expect(r.dstLen).toBe(128);
    expect(r.oif).toBe(1);
  });

  it('a lookup through a missing interface is an NLMSG_ERROR carrying ENODEV', () => {
    const m = one(capture('routeV4MissingOif'));
    expect(m.type).toBe(NLMSG_ERROR);
    expect(m.seq).toBe(3);
    expect(m.error).toBe(constants.errno.ENODEV);
  });

  it('the link dump holds lo at index 1, a loopback', () => {
    const messages = parse(capture('linkDump'));
    expect(messages.length).toBeGreaterThan(0);
    for (const m of messages) {
      expect(m.invalid).toBeUndefined();
      expect(m.seq).toBe(4);
      expect(m.flags & NLM_F_MULTI).toBe(NLM_F_MULTI);
    }
    checkShape(messages);
    const lo = messages.map((m) => m.link).find((l) => l?.name === 'lo');
    expect(lo).toBeDefined();
    expect(lo!.index).toBe(1);
    expect(lo!.flags & IFF_LOOPBACK).toBe(IFF_LOOPBACK);
  });

  it('the address dump holds 127.0.0.1/8 on lo', () => {
    const messages = parse(capture('addressDump'));
    checkShape(messages);
    for (const m of messages) expect(m.invalid).toBeUndefined();
    const loopback = messages.map((m) => m.address).find((a) => a?.local === '127.0.0.1');
    expect(loopback).toMatchObject({ version: 4, prefixLength: 8, index: 1, scope: 254 });
  });

  it('a Uint8Array view at an offset into a larger buffer parses the view, not the buffer', () => {
    const bytes = capture('routeV4Loopback');
    const backing = new Uint8Array(bytes.length + 11);
    backing.fill(0xff);
    backing.set(bytes, 7);
    const view = backing.subarray(7, 7 + bytes.length);
    expect(parse(view)).toEqual(parse(bytes));
    // A Buffer is a Uint8Array too.
    expect(parse(Buffer.from(bytes))).toEqual(parse(bytes));
  });
});

linuxDescribe(NEEDS.netlink)('hand-built messages', () => {
  it('parses every route attribute routebind reads', () => {
    const metrics = rta(RTAX_MTU, u32(1400));
    const m = one(
      routeMessage(
        { family: AF_INET, dstLen: 24, table: 254, protocol: 4, scope: 0, type: RTN_UNICAST, tos: 0x10 },
        rta(RTA_TABLE, u32(1000)),
        rta(RTA_DST, ip('198.51.100.0')),
        rta(RTA_GATEWAY, ip('192.0.2.1')),
        rta(RTA_PREFSRC, ip('192.0.2.2')),
        rta(RTA_OIF, u32(4)),
        rta(RTA_PRIORITY, u32(100)),
        rta(RTA_METRICS, metrics),
        rta(RTA_MARK, u32(0xdeadbeef)),
        rta(RTA_UID, u32(1000)),
        rta(999, u8(1, 2, 3)), // unknown attributes are skipped
      ),
    );
    expect(m.route).toEqual({
      version: 4,
      type: RTN_UNICAST,
      protocol: 4,
      scope: 0,
      table: 1000, // RTA_TABLE wins over the 8-bit rtm_table
      flags: 0,
      tos: 0x10,
      dstLen: 24,
      srcLen: 0,
      destination: '198.51.100.0',
      gateway: '192.0.2.1',
      preferredSource: '192.0.2.2',
      oif: 4,
      priority: 100,
      mtu: 1400,
      mark: 0xdeadbeef,
      uid: 1000,
    });
  });

  it('parses an IPv6 route with a source prefix and router preference', () => {
    const r = one(
      routeMessage(
        { family: AF_INET6, dstLen: 64, srcLen: 56 },
        rta(RTA_DST, ip('2001:db8:1::')),
        rta(RTA_SRC, ip('2001:db8:ff::')),
        rta(RTA_PREF, u8(1)),
      ),
    ).route!;
    expect(r).toMatchObject({ version: 6, dstLen: 64, srcLen: 56, destination: '2001:db8:1::', sourcePrefix: '2001:db8:ff::', pref: 1 });
  });

  it('parses RTA_VIA: an IPv4 route through an IPv6 next hop', () => {
    const via = concat(u16(AF_INET6), ip('fe80::1'));
    const r = one(routeMessage({ family: AF_INET, dstLen: 0 }, rta(RTA_VIA, via), rta(RTA_OIF, u32(4)))).route!;
    expect(r.gateway).toBe('fe80::1');
    expect(r.oif).toBe(4);
  });

  it('parses a multipath route into its next hops', () => {
    const hop = (ifindex: number, hops: number, gateway: string) => {
      const attrs = rta(RTA_GATEWAY, ip(gateway));
      return concat(u16(8 + attrs.length), u8(0x4, hops), i32(ifindex), attrs);
    };
    const r = one(routeMessage({ family: AF_INET, dstLen: 0 }, rta(RTA_MULTIPATH, concat(hop(2, 0, '192.0.2.1'), hop(3, 4, '198.51.100.1'))))).route!;
    expect(r.nexthops).toEqual([
      { gateway: '192.0.2.1', ifindex: 2, weight: 1, flags: 0x4 },
      { gateway: '198.51.100.1', ifindex: 3, weight: 5, flags: 0x4 },
    ]);
  });

  it('parses a link and an address message', () => {
    const link = one(
      nlmsg(RTM_NEWLINK, concat(ifinfomsg(7, 0x1043), rta(IFLA_IFNAME, cstr('uplink0')), rta(IFLA_MTU, u32(9000)), rta(IFLA_ADDRESS, u8(2, 0, 0, 0, 0, 9)))),
    ).link!;
    expect(link).toMatchObject({ index: 7, name: 'uplink0', flags: 0x1043, mtu: 9000 });
    expect([...link.mac!]).toEqual([2, 0, 0, 0, 0, 9]);

    const address = one(
      nlmsg(
        RTM_NEWADDR,
        concat(ifaddrmsg(AF_INET, 24, 0, 7), rta(IFA_ADDRESS, ip('192.0.2.9')), rta(IFA_LOCAL, ip('192.0.2.9')), rta(IFA_LABEL, cstr('uplink0'))),
      ),
    ).address!;
    expect(address).toMatchObject({ version: 4, prefixLength: 24, index: 7, address: '192.0.2.9', local: '192.0.2.9', label: 'uplink0' });
  });

  it('accepts two route messages back to back, the first with a length that needs alignment padding', () => {
    // RTA_PREF has a 1-byte payload: rta_len 5, so nlmsg_len is 16 + 12 + 20 + 5 = 53, padded to 56.
    const first = routeMessage({ family: AF_INET6, dstLen: 128 }, rta(RTA_DST, ip('2001:db8::1')).subarray(0, 20), rta(RTA_PREF, u8(3), 5).subarray(0, 5));
    expect(first.length).toBe(16 + 12 + 20 + 5);
    const second = nlmsg(RTM_NEWROUTE, concat(rtmsg({ family: AF_INET }), rta(RTA_DST, ip('192.0.2.7'))), { seq: 2 });
    const messages = parse(concat(pad4(first), second));
    expect(messages).toHaveLength(2);
    expect(messages[0].route).toMatchObject({ version: 6, destination: '2001:db8::1', pref: 3 });
    expect(messages[1].seq).toBe(2);
    expect(messages[1].route).toMatchObject({ version: 4, destination: '192.0.2.7' });
    // The same pair with the final message unpadded at the very end of the buffer.
    expect(parse(concat(second, pad4(first)))[1].route?.pref).toBe(3);
    expect(parse(concat(second, first))[1].route?.pref).toBe(3);
  });

  it('reads a whole dump batch: messages then NLMSG_DONE', () => {
    const route = (dst: string) => nlmsg(RTM_NEWROUTE, concat(rtmsg({ dstLen: 32 }), rta(RTA_DST, ip(dst))), { flags: NLM_F_MULTI, seq: 9 });
    const messages = parse(concat(route('192.0.2.1'), route('192.0.2.2'), nlmsg(NLMSG_DONE, u32(0), { flags: NLM_F_MULTI, seq: 9 })));
    expect(messages.map((m) => m.route?.destination)).toEqual(['192.0.2.1', '192.0.2.2', undefined]);
    expect(messages[2].type).toBe(NLMSG_DONE);
  });
});

linuxDescribe(NEEDS.netlink)('malformed input', () => {
  it('rejects anything but a Uint8Array with ERR_INVALID_ARG_TYPE', () => {
    for (const value of [undefined, null, 'abcd', 16, {}, [1, 2, 3], new ArrayBuffer(16), new Uint16Array(8), new Int8Array(16)]) {
      let thrown: unknown;
      try {
        (native.parseNetlink as (v: unknown) => unknown)(value);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(TypeError);
      expect((thrown as { code?: string }).code).toBe('ERR_INVALID_ARG_TYPE');
    }
  });

  it('an empty buffer holds no messages', () => {
    expect(parse(new Uint8Array(0))).toEqual([]);
  });

  it('1 to 15 bytes is less than a header', () => {
    const full = capture('routeV4Loopback');
    for (let n = 1; n < 16; n++) {
      expectMalformed(full.subarray(0, n));
      expectMalformed(new Uint8Array(n));
    }
  });

  it('nlmsg_len smaller than the header (0 would loop forever if trusted)', () => {
    for (const len of [0, 1, 4, 15]) expectMalformed(nlmsg(RTM_NEWROUTE, rtmsg(), { len }));
  });

  it('nlmsg_len larger than the buffer', () => {
    const body = concat(rtmsg(), rta(RTA_DST, ip('192.0.2.1')));
    for (const extra of [1, 4, 1000, 0xffffffff - 16 - body.length]) {
      expectMalformed(nlmsg(RTM_NEWROUTE, body, { len: 16 + body.length + extra }));
    }
  });

  it('a good message followed by a bad header makes the whole buffer malformed', () => {
    expectMalformed(concat(capture('routeV4Loopback'), u8(1, 2, 3)));
    expectMalformed(concat(capture('routeV4Loopback'), nlmsg(RTM_NEWROUTE, rtmsg(), { len: 8 })));
  });

  it('every truncation point of a captured route reply', () => {
    const full = capture('routeV6Loopback');
    expect(parse(full.subarray(0, 0))).toEqual([]);
    for (let n = 1; n < full.length; n++) expectMalformed(full.slice(0, n));
    // The same cuts with nlmsg_len rewritten to match: the attribute walker meets cut attributes.
    let routes = 0;
    let invalid = 0;
    for (let n = 16; n <= full.length; n++) {
      const cut = full.slice(0, n);
      new DataView(cut.buffer).setUint32(0, n, true);
      const m = one(cut);
      checkShape([m]);
      if (m.route !== undefined) {
        routes++;
        if (m.route.destination !== undefined) expect(m.route.destination).toBe('::1');
        if (m.route.oif !== undefined) expect(m.route.oif).toBe(1);
      } else {
        expect(m.invalid).toBe(true);
        invalid++;
      }
    }
    // A cut inside the rtmsg or inside an attribute's payload is invalid; cuts at attribute
    // boundaries (and within the 1-3 trailing bytes that can only be padding) leave a shorter route.
    expect(invalid).toBeGreaterThan(0);
    expect(routes).toBeGreaterThan(0);
    expect(one(full).route?.destination).toBe('::1');
  });

  it('a message too short for its family header is invalid', () => {
    expectInvalid(nlmsg(RTM_NEWROUTE, rtmsg().subarray(0, 11)));
    expectInvalid(nlmsg(RTM_NEWLINK, ifinfomsg(1).subarray(0, 15)));
    expectInvalid(nlmsg(RTM_NEWADDR, ifaddrmsg(AF_INET, 8, 254, 1).subarray(0, 7)));
  });

  it('an rtattr with rta_len < 4', () => {
    for (const len of [0, 1, 3]) {
      expectInvalid(routeMessage({}, rta(RTA_DST, ip('192.0.2.1')), concat(u16(len), u16(RTA_OIF), u32(1))));
    }
  });

  it('an rtattr whose rta_len runs past the end of the message', () => {
    expectInvalid(routeMessage({}, rta(RTA_OIF, u32(1), 12)));
    expectInvalid(routeMessage({}, rta(RTA_OIF, u32(1), 0xffff)));
    // Past the message but inside the buffer (the next message) is still past the end.
    const first = routeMessage({}, rta(RTA_OIF, u32(1), 16));
    const messages = parse(concat(first, routeMessage({}, rta(RTA_OIF, u32(2)))));
    expect(messages[0].invalid).toBe(true);
    expect(messages[1].route?.oif).toBe(2);
  });

  it('RTA_DST of the wrong size for the family', () => {
    expectInvalid(routeMessage({ family: AF_INET }, rta(RTA_DST, u8(192, 0, 2))));
    expectInvalid(routeMessage({ family: AF_INET }, rta(RTA_DST, u8(192, 0, 2, 1, 0))));
    expectInvalid(routeMessage({ family: AF_INET }, rta(RTA_DST, ip('2001:db8::1'))));
    expectInvalid(routeMessage({ family: AF_INET6 }, rta(RTA_DST, ip('192.0.2.1'))));
    expectInvalid(routeMessage({ family: AF_INET }, rta(RTA_GATEWAY, u8(192, 0, 2, 1, 0))));
    expectInvalid(routeMessage({ family: AF_INET }, rta(RTA_PREFSRC, u8())));
    // The exact size is accepted, so the rejections above are about size.
    expect(one(routeMessage({ family: AF_INET }, rta(RTA_DST, u8(192, 0, 2, 1)))).route?.destination).toBe('192.0.2.1');
  });

  it('RTA_OIF of 2 bytes', () => {
    expectInvalid(routeMessage({}, rta(RTA_OIF, u16(1))));
    expectInvalid(routeMessage({}, rta(RTA_TABLE, u16(1))));
  });

  it('RTA_VIA too short for its family field or of an unknown family', () => {
    expectInvalid(routeMessage({}, rta(RTA_VIA, u8(10))));
    expectInvalid(routeMessage({}, rta(RTA_VIA, concat(u16(99), ip('192.0.2.1')))));
    expectInvalid(routeMessage({}, rta(RTA_VIA, concat(u16(AF_INET6), ip('192.0.2.1')))));
  });

  it('RTA_METRICS with a malformed nested attribute', () => {
    expectInvalid(routeMessage({}, rta(RTA_METRICS, concat(u16(40), u16(RTAX_MTU), u32(1400)))));
    expectInvalid(routeMessage({}, rta(RTA_METRICS, rta(RTAX_MTU, u16(1400)))));
  });

  it('IFLA_IFNAME without a NUL terminator', () => {
    const link = (name: Uint8Array) => nlmsg(RTM_NEWLINK, concat(ifinfomsg(3), rta(IFLA_IFNAME, name)));
    expect(one(link(cstr('eth0'))).link?.name).toBe('eth0');
    expectInvalid(link(new TextEncoder().encode('eth0')));
    // The padding after an unterminated name is not part of the attribute, even though it is 0.
    expectInvalid(link(new TextEncoder().encode('eth')));
  });

  it('IFLA_IFNAME of 16 or more bytes, or empty', () => {
    const link = (name: Uint8Array) => nlmsg(RTM_NEWLINK, concat(ifinfomsg(3), rta(IFLA_IFNAME, name)));
    expect(one(link(cstr('a'.repeat(15)))).link?.name).toBe('a'.repeat(15));
    expectInvalid(link(cstr('a'.repeat(16))));
    expectInvalid(link(cstr('a'.repeat(300))));
    expectInvalid(link(cstr('')));
    // A link without any name is not a link routebind can use.
    expectInvalid(nlmsg(RTM_NEWLINK, concat(ifinfomsg(3), rta(IFLA_MTU, u32(1500)))));
  });

  it('a link with index 0 or negative, or a MAC longer than 32 bytes', () => {
    expectInvalid(nlmsg(RTM_NEWLINK, concat(ifinfomsg(0), rta(IFLA_IFNAME, cstr('x')))));
    expectInvalid(nlmsg(RTM_NEWLINK, concat(ifinfomsg(-5), rta(IFLA_IFNAME, cstr('x')))));
    expectInvalid(nlmsg(RTM_NEWLINK, concat(ifinfomsg(3), rta(IFLA_IFNAME, cstr('x')), rta(IFLA_ADDRESS, new Uint8Array(33)))));
  });

  it('RTA_MULTIPATH with rtnh_len overrunning or too short', () => {
    const hop = (len: number) => concat(u16(len), u8(0, 0), i32(2), rta(RTA_GATEWAY, ip('192.0.2.1')));
    expect(one(routeMessage({}, rta(RTA_MULTIPATH, hop(16)))).route?.nexthops).toHaveLength(1);
    expectInvalid(routeMessage({}, rta(RTA_MULTIPATH, hop(17))));
    expectInvalid(routeMessage({}, rta(RTA_MULTIPATH, hop(0xffff))));
    expectInvalid(routeMessage({}, rta(RTA_MULTIPATH, hop(7))));
    expectInvalid(routeMessage({}, rta(RTA_MULTIPATH, hop(0))));
    // The next hop's own attributes are checked as well.
    expectInvalid(routeMessage({}, rta(RTA_MULTIPATH, concat(u16(16), u8(0, 0), i32(2), rta(RTA_GATEWAY, u16(1))))));
  });

  it('a prefix length longer than the family allows', () => {
    expectInvalid(routeMessage({ family: AF_INET, dstLen: 33 }));
    expectInvalid(routeMessage({ family: AF_INET, srcLen: 33 }));
    expectInvalid(routeMessage({ family: AF_INET6, dstLen: 129 }));
    expectInvalid(nlmsg(RTM_NEWADDR, concat(ifaddrmsg(AF_INET, 33, 0, 1), rta(IFA_LOCAL, ip('192.0.2.1')))));
    expect(one(routeMessage({ family: AF_INET, dstLen: 32 })).route?.dstLen).toBe(32);
    expect(one(routeMessage({ family: AF_INET6, dstLen: 128 })).route?.dstLen).toBe(128);
  });

  it('an unknown address family', () => {
    expectInvalid(routeMessage({ family: 99, dstLen: 0 }));
    expectInvalid(routeMessage({ family: 0, dstLen: 0 }));
    expectInvalid(nlmsg(RTM_NEWADDR, concat(ifaddrmsg(99, 8, 0, 1), rta(IFA_LOCAL, ip('192.0.2.1')))));
  });

  it('an address message with no address at all', () => {
    expectInvalid(nlmsg(RTM_NEWADDR, concat(ifaddrmsg(AF_INET, 8, 0, 1), rta(IFA_LABEL, cstr('lo')))));
  });

  it('NLMSG_ERROR: 0 is an ack, -errno an error, anything positive or short is invalid', () => {
    expect(one(nlmsg(NLMSG_ERROR, concat(i32(0), new Uint8Array(16)))).error).toBe(0);
    expect(one(nlmsg(NLMSG_ERROR, concat(i32(-constants.errno.EACCES), new Uint8Array(16)))).error).toBe(constants.errno.EACCES);
    expectInvalid(nlmsg(NLMSG_ERROR, concat(i32(13), new Uint8Array(16))));
    expectInvalid(nlmsg(NLMSG_ERROR, concat(i32(0x7fffffff), new Uint8Array(16))));
    expectInvalid(nlmsg(NLMSG_ERROR, u8(0, 0, 0)));
    expectInvalid(nlmsg(NLMSG_ERROR, u8()));
  });

  it('NLMSG_ERROR: only -1..-4095 are errnos; INT_MIN (whose negation was undefined) and anything below -4095 is invalid', () => {
    expect(one(nlmsg(NLMSG_ERROR, concat(i32(-4095), new Uint8Array(16)))).error).toBe(4095);
    expectInvalid(nlmsg(NLMSG_ERROR, concat(i32(-4096), new Uint8Array(16))));
    expectInvalid(nlmsg(NLMSG_ERROR, concat(i32(-0x80000000), new Uint8Array(16))));
    expectInvalid(nlmsg(NLMSG_ERROR, i32(-0x80000000))); // test/fuzz/corpus/regression-error-int-min.hex
  });

  it('RTA_VIA reads its 16-bit family whole: 0x0102 is not AF_INET (2)', () => {
    expect(one(routeMessage({}, rta(RTA_VIA, concat(u16(AF_INET), ip('192.0.2.1'))))).route?.gateway).toBe('192.0.2.1');
    expectInvalid(routeMessage({}, rta(RTA_VIA, concat(u16(0x0100 | AF_INET), ip('192.0.2.1')))));
  });

  it('types the parser does not know are flagged invalid, not guessed at', () => {
    expectInvalid(nlmsg(NLMSG_DONE, u32(0)));
    expectInvalid(nlmsg(0x4242, concat(rtmsg(), rta(RTA_DST, ip('192.0.2.1')))));
  });
});

linuxDescribe(NEEDS.netlink)('fuzz', () => {
  // mulberry32: small, fast, and the same sequence on every run.
  function prng(seed: number): () => number {
    let a = seed >>> 0;
    return () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  const seeds = (['routeV4Loopback', 'routeV6Loopback', 'routeV4MissingOif', 'linkDump', 'addressDump'] as const).map(capture);
  const TYPES = [NLMSG_ERROR, NLMSG_DONE, RTM_NEWLINK, RTM_NEWADDR, RTM_NEWROUTE, 17, 21, 25];
  const ITERATIONS = 20_000;

  it(`${ITERATIONS} random and mutated buffers give typed errors or well-shaped messages`, () => {
    const random = prng(0x5eed);
    const int = (n: number) => Math.floor(random() * n);
    const counts = { malformed: 0, messages: 0, route: 0, link: 0, address: 0, error: 0, invalid: 0 };
    for (let i = 0; i < ITERATIONS; i++) {
      let bytes: Uint8Array;
      switch (i % 5) {
        case 0: {
          // Pure noise.
          bytes = new Uint8Array(int(300));
          for (let j = 0; j < bytes.length; j++) bytes[j] = int(256);
          break;
        }
        case 1: {
          // A valid header over a noisy body, so the family and attribute parsers see the noise.
          const body = new Uint8Array(int(200));
          for (let j = 0; j < body.length; j++) body[j] = int(256);
          if (body.length > 0 && random() < 0.7) body[0] = [AF_INET, AF_INET6][int(2)];
          bytes = nlmsg(TYPES[int(TYPES.length)], body);
          break;
        }
        case 2:
        case 3: {
          // One byte of a captured reply replaced.
          const seed = seeds[int(seeds.length)];
          bytes = seed.slice();
          bytes[int(bytes.length)] = int(256);
          break;
        }
        default: {
          // Several bytes replaced, and sometimes cut short.
          const seed = seeds[int(seeds.length)];
          bytes = seed.slice(0, random() < 0.3 ? int(seed.length + 1) : seed.length);
          for (let k = 1 + int(8); k > 0 && bytes.length > 0; k--) bytes[int(bytes.length)] = int(256);
          break;
        }
      }
      const result = parseHostile(bytes);
      if (result === 'malformed') {
        counts.malformed++;
        continue;
      }
      counts.messages += result.length;
      for (const m of result) {
        if (m.route) counts.route++;
        else if (m.link) counts.link++;
        else if (m.address) counts.address++;
        else if (m.error !== undefined) counts.error++;
        else counts.invalid++;
      }
    }
    // The loop reached every branch of the parser, not just its first length check.
    expect(counts.malformed).toBeGreaterThan(1000);
    for (const kind of ['route', 'link', 'address', 'error', 'invalid'] as const) expect(counts[kind]).toBeGreaterThan(100);
  });
});
