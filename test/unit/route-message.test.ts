// The macOS PF_ROUTE parser and RTM_GET builder (native/darwin/route_message.cc), run on Linux: the
// parser is pure, so scripts/fuzz.sh builds it (with AddressSanitizer and UBSan) into
// build/fuzz/route_message_fuzz, whose --print mode says what it made of each message. The messages
// are built here byte by byte from the layout route(4) and <net/route.h> document, independently of
// the C++ constants; on a Mac, static_asserts tie those constants to the system headers.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

import { onWindows } from '../helpers/platform';

const root = path.join(__dirname, '..', '..');
const probe = path.join(root, 'build', 'fuzz', 'route_message_fuzz');
const compiler = spawnSync('sh', ['-c', 'command -v g++ || command -v clang++']).stdout?.toString().trim();

// macOS numbering (<sys/socket.h>, <net/route.h>, <net/if.h>, <net/if_types.h>).
const AF_INET = 2, AF_LINK = 18, AF_INET6 = 30;
const RTM = { ADD: 1, DELETE: 2, CHANGE: 3, GET: 4, NEWADDR: 0xc, DELADDR: 0xd, IFINFO: 0xe } as const;
const RTF = { UP: 0x1, GATEWAY: 0x2, HOST: 0x4, REJECT: 0x8, DONE: 0x40, STATIC: 0x800, BLACKHOLE: 0x1000, PRCLONING: 0x10000, LOCAL: 0x200000, IFSCOPE: 0x1000000 } as const;
const RTA = { DST: 0x1, GATEWAY: 0x2, NETMASK: 0x4, IFP: 0x10, IFA: 0x20, BRD: 0x80 } as const;
const IFF = { UP: 0x1, BROADCAST: 0x2, LOOPBACK: 0x8, RUNNING: 0x40, MULTICAST: 0x8000 } as const;
const IFT_ETHER = 6, IFT_LOOP = 0x18;

/** sockaddr_in: len 16, family, port, address at 4. `len` cuts it short, as netmasks are. */
function sin(ip: string, len = 16): Buffer {
  const b = Buffer.alloc(16);
  b[0] = len;
  b[1] = AF_INET;
  ip.split('.').forEach((o, i) => { b[4 + i] = Number(o); });
  return b.subarray(0, len);
}

function ip6Bytes(ip: string): Buffer {
  const [head, tail = ''] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), i * 2));
  return b;
}

/** sockaddr_in6: len 28, family, port, flowinfo, address at 8, scope_id at 24. */
function sin6(ip: string, { scopeId = 0, len = 28, family = AF_INET6 } = {}): Buffer {
  const b = Buffer.alloc(28);
  b[0] = len;
  b[1] = family;
  ip6Bytes(ip).copy(b, 8);
  b.writeUInt32LE(scopeId, 24);
  return b.subarray(0, len);
}

/** sockaddr_dl: len, family, index (u16), type, nlen, alen, slen, then name and address. */
function sdl({ index = 0, type = IFT_ETHER, name = '', mac = [] as number[], len }: { index?: number; type?: number; name?: string; mac?: number[]; len?: number }): Buffer {
  const data = Buffer.concat([Buffer.from(name, 'latin1'), Buffer.from(mac)]);
  const size = Math.max(20, 8 + data.length);
  const b = Buffer.alloc(size);
  b[0] = len ?? size;
  b[1] = AF_LINK;
  b.writeUInt16LE(index, 2);
  b[4] = type;
  b[5] = Buffer.byteLength(name, 'latin1');
  b[6] = mac.length;
  data.copy(b, 8);
  return b.subarray(0, len ?? size);
}

/** A sockaddr as a message carries it: rounded up to 4 bytes, an empty one taking 4. */
function padded(sa: Buffer): Buffer {
  const size = sa.length === 0 ? 4 : Math.ceil(sa.length / 4) * 4;
  const b = Buffer.alloc(size);
  sa.copy(b);
  return b;
}

const EMPTY = Buffer.alloc(0);  // a sockaddr with sa_len 0 (a /0 netmask)

/** rt_msghdr (92 bytes): msglen, version 5, type, index @4, flags @8, addrs @12, pid @16, seq @20, errno @24, rmx @36 (mtu @40). */
function rtMsg(o: { type: number; index?: number; flags: number; addrs: number; pid?: number; seq?: number; errno?: number; mtu?: number; version?: number }, sockaddrs: Buffer[]): Buffer {
  const h = Buffer.alloc(92);
  h[2] = o.version ?? 5;
  h[3] = o.type;
  h.writeUInt16LE(o.index ?? 0, 4);
  h.writeUInt32LE(o.flags >>> 0, 8);
  h.writeUInt32LE(o.addrs, 12);
  h.writeInt32LE(o.pid ?? 0, 16);
  h.writeInt32LE(o.seq ?? 0, 20);
  h.writeInt32LE(o.errno ?? 0, 24);
  h.writeUInt32LE(o.mtu ?? 0, 40);
  const msg = Buffer.concat([h, ...sockaddrs.map(padded)]);
  msg.writeUInt16LE(msg.length, 0);
  return msg;
}

/** if_msghdr (112 bytes): addrs @4, flags @8, index @12, if_data @16 (ifi_type @16, ifi_mtu @24). */
function ifMsg(o: { flags: number; index: number; ifType: number; mtu: number; addrs?: number }, sockaddrs: Buffer[] = []): Buffer {
  const h = Buffer.alloc(112);
  h[2] = 5;
  h[3] = RTM.IFINFO;
  h.writeUInt32LE(o.addrs ?? 0, 4);
  h.writeUInt32LE(o.flags, 8);
  h.writeUInt16LE(o.index, 12);
  h[16] = o.ifType;
  h.writeUInt32LE(o.mtu, 24);
  const msg = Buffer.concat([h, ...sockaddrs.map(padded)]);
  msg.writeUInt16LE(msg.length, 0);
  return msg;
}

/** ifa_msghdr (20 bytes): addrs @4, flags @8, index @12, metric @16. */
function ifaMsg(o: { type: number; index: number; addrs: number }, sockaddrs: Buffer[]): Buffer {
  const h = Buffer.alloc(20);
  h[2] = 5;
  h[3] = o.type;
  h.writeUInt32LE(o.addrs, 4);
  h.writeUInt16LE(o.index, 12);
  const msg = Buffer.concat([h, ...sockaddrs.map(padded)]);
  msg.writeUInt16LE(msg.length, 0);
  return msg;
}

type Parsed = Record<string, any>;

function parse(...messages: Buffer[]): Parsed[] {
  const r = spawnSync(probe, ['--print', Buffer.concat(messages).toString('hex')], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  expect(r.stderr).toBe('');
  return r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

function buildGet(ip: string, scope: number, seq: number): Buffer {
  const r = spawnSync(probe, ['--build-get', ip, String(scope), String(seq)], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return Buffer.from(r.stdout.trim(), 'hex');
}

const EN0 = { index: 4, name: 'en0', mac: [0x3c, 0x22, 0xfb, 0x01, 0x02, 0x03] };

// Built by scripts/fuzz.sh (bash, AddressSanitizer): on Linux with g++, on a Mac with Xcode's clang++,
// where the static_asserts check the layout against the system's own headers. Not on Windows.
const skip = onWindows ? ' — skipped on win32: needs bash and a C++ compiler with AddressSanitizer' : compiler ? '' : ' (skipped: no C++ compiler)';
describe.skipIf(!compiler || onWindows)(`the PF_ROUTE message parser${skip}`, () => {
  beforeAll(() => {
    const r = spawnSync('bash', [path.join(root, 'scripts', 'fuzz.sh')], { encoding: 'utf8', env: { ...process.env, ROUTEBIND_FUZZ_BUILD_ONLY: '1' }, timeout: 240_000 });
    expect(r.status, r.stderr).toBe(0);
  }, 240_000);

  it('reads a lookup answer: default route with gateway, netmask of sa_len 0, interface and its address', () => {
    const msg = rtMsg({ type: RTM.GET, index: 4, flags: RTF.UP | RTF.GATEWAY | RTF.DONE | RTF.STATIC | RTF.PRCLONING, addrs: RTA.DST | RTA.GATEWAY | RTA.NETMASK | RTA.IFP | RTA.IFA, pid: 4242, seq: 7, mtu: 1500 },
      [sin('0.0.0.0'), sin('192.168.1.1'), EMPTY, sdl({ ...EN0 }), sin('192.168.1.23')]);
    expect(msg.length).toBe(92 + 16 + 16 + 4 + 20 + 16);
    const [m] = parse(msg);
    expect(m.header).toEqual({ index: 4, flags: RTF.UP | RTF.GATEWAY | RTF.DONE | RTF.STATIC | RTF.PRCLONING, addrs: 0x37, pid: 4242, seq: 7, errno: 0 });
    expect(m.route).toEqual({
      version: 4, type: 1 /* RTN_UNICAST */, protocol: 4 /* RTPROT_STATIC */, scope: 0, table: 254,
      destination: '0.0.0.0', dstLen: 0, gateway: '192.168.1.1', preferredSource: '192.168.1.23', oif: 4, mtu: 1500, ifp: 'en0',
    });
  });

  it('reads an IPv6 gateway route: short netmask of family 0, link-local gateway with the zone embedded in the address', () => {
    const gateway = sin6('fe80:4::1');  // the kernel's KAME form: the zone in the second 16-bit word
    const mask = sin6('ffff:ffff::', { len: 12, family: 0 });
    const [m] = parse(rtMsg({ type: RTM.ADD, index: 4, flags: RTF.UP | RTF.GATEWAY | RTF.STATIC, addrs: RTA.DST | RTA.GATEWAY | RTA.NETMASK }, [sin6('2001:db8::'), gateway, mask]));
    expect(m.route).toMatchObject({ version: 6, destination: '2001:db8::', dstLen: 32, gateway: 'fe80::1', oif: 4, type: 1, scope: 0, protocol: 4 });
  });

  it('reads a scoped answer: RTF_IFSCOPE, on-link (the gateway is the interface\'s sockaddr_dl), netmask cut after 3 bytes', () => {
    const [m] = parse(rtMsg({ type: RTM.GET, index: 5, flags: RTF.UP | RTF.DONE | RTF.IFSCOPE, addrs: RTA.DST | RTA.GATEWAY | RTA.NETMASK | RTA.IFP | RTA.IFA, seq: 9 },
      [sin('10.0.0.0'), sdl({ index: 5 }), sin('255.255.255.0', 7), sdl({ index: 5, name: 'en1' }), sin('10.0.0.2')]));
    expect(m.header.flags & RTF.IFSCOPE).toBe(RTF.IFSCOPE);
    expect(m.route).toMatchObject({ destination: '10.0.0.0', dstLen: 24, gateway: null, oif: 5, ifp: 'en1', preferredSource: '10.0.0.2', scope: 253 /* link */, protocol: 2 /* kernel */ });
  });

  it('maps RTF_BLACKHOLE, RTF_REJECT and RTF_LOCAL to the Linux route types; a route without netmask is a host route', () => {
    const types = [RTF.BLACKHOLE, RTF.REJECT, RTF.LOCAL | RTF.HOST].map((flag) =>
      parse(rtMsg({ type: RTM.ADD, flags: RTF.UP | flag, addrs: RTA.DST }, [sin('198.51.100.7')]))[0].route);
    expect(types.map((r) => r.type)).toEqual([6 /* RTN_BLACKHOLE */, 7 /* RTN_UNREACHABLE */, 2 /* RTN_LOCAL */]);
    expect(types.map((r) => r.scope)).toEqual([0, 0, 254]);
    expect(types.every((r) => r.dstLen === 32)).toBe(true);
  });

  it('reads RTM_IFINFO: flags in Linux numbering, ARPHRD type, MTU; the name only when RTA_IFP is there', () => {
    const flags = IFF.UP | IFF.BROADCAST | IFF.RUNNING | IFF.MULTICAST;
    const [bare, named, loop] = parse(
      ifMsg({ flags, index: 4, ifType: IFT_ETHER, mtu: 1500 }),
      ifMsg({ flags, index: 4, ifType: IFT_ETHER, mtu: 1500, addrs: RTA.IFP }, [sdl(EN0)]),
      ifMsg({ flags: IFF.UP | IFF.LOOPBACK | IFF.RUNNING | IFF.MULTICAST, index: 1, ifType: IFT_LOOP, mtu: 16384, addrs: RTA.IFP }, [sdl({ index: 1, type: IFT_LOOP, name: 'lo0' })]));
    // IFF_UP|BROADCAST|RUNNING stay, MULTICAST 0x8000 → 0x1000, LOWER_UP 0x10000 for up and running.
    expect(bare.link).toEqual({ index: 4, name: '', flags: 0x1 | 0x2 | 0x40 | 0x1000 | 0x10000, type: 1, mtu: 1500, operstate: 6, mac: '' });
    expect(named.link).toMatchObject({ index: 4, name: 'en0', mac: '3c:22:fb:01:02:03' });
    expect(loop.link).toMatchObject({ index: 1, name: 'lo0', type: 772 /* ARPHRD_LOOPBACK */, mtu: 16384, flags: 0x1 | 0x8 | 0x40 | 0x1000 | 0x10000 });
  });

  it('reads RTM_NEWADDR and RTM_DELADDR: address, prefix from a short netmask, broadcast, label; IPv6 link-local loses its embedded zone', () => {
    const [v4, v6] = parse(
      ifaMsg({ type: RTM.NEWADDR, index: 4, addrs: RTA.NETMASK | RTA.IFP | RTA.IFA | RTA.BRD }, [sin('255.255.255.0', 7), sdl(EN0), sin('192.168.1.23'), sin('192.168.1.255')]),
      ifaMsg({ type: RTM.DELADDR, index: 4, addrs: RTA.NETMASK | RTA.IFA }, [sin6('ffff:ffff:ffff:ffff::', { len: 16, family: 0 }), sin6('fe80:4::aa:bb', { scopeId: 0 })]));
    expect(v4.type).toBe(RTM.NEWADDR);
    expect(v4.address).toEqual({ version: 4, index: 4, address: '192.168.1.23', local: '192.168.1.23', prefixLen: 24, broadcast: '192.168.1.255', label: 'en0', scope: 0 });
    expect(v6.type).toBe(RTM.DELADDR);
    expect(v6.address).toMatchObject({ version: 6, index: 4, address: 'fe80::aa:bb', prefixLen: 64, scope: 253 });
  });

  it('takes 4 bytes for a sockaddr with sa_len 0 and reads what follows it in place', () => {
    // NETMASK (sa_len 0) between GATEWAY and IFP: were it skipped by 0 bytes, IFP would be read from the padding.
    const [m] = parse(rtMsg({ type: RTM.GET, flags: RTF.UP | RTF.GATEWAY, addrs: RTA.DST | RTA.GATEWAY | RTA.NETMASK | RTA.IFP | RTA.IFA }, [sin('0.0.0.0'), sin('10.1.1.1'), EMPTY, sdl({ index: 7, name: 'utun3', type: 0xff }), sin('10.1.1.9')]));
    expect(m.route).toMatchObject({ dstLen: 0, oif: 7, ifp: 'utun3', preferredSource: '10.1.1.9' });
  });

  it('reads two messages of one buffer (a sysctl dump) in order', () => {
    const out = parse(
      rtMsg({ type: RTM.GET, flags: RTF.UP | RTF.HOST | RTF.LOCAL, index: 1, addrs: RTA.DST | RTA.GATEWAY }, [sin('127.0.0.1'), sdl({ index: 1 })]),
      rtMsg({ type: RTM.GET, flags: RTF.UP | RTF.GATEWAY, index: 4, addrs: RTA.DST | RTA.GATEWAY | RTA.NETMASK }, [sin6('::'), sin6('fe80:4::1'), EMPTY]));
    expect(out.map((m) => [m.route.destination, m.route.dstLen, m.route.oif])).toEqual([['127.0.0.1', 32, 1], ['::', 0, 4]]);
  });

  describe('refuses what is not a well-formed message, without reading past it', () => {
    const answer = () => rtMsg({ type: RTM.GET, index: 4, flags: RTF.UP | RTF.GATEWAY, addrs: RTA.DST | RTA.GATEWAY | RTA.NETMASK | RTA.IFP | RTA.IFA }, [sin('0.0.0.0'), sin('192.168.1.1'), EMPTY, sdl(EN0), sin('192.168.1.23')]);

    it('a buffer cut short of the message length it announces', () => {
      const msg = answer();
      for (const cut of [1, 3, 4, 40, 91, 92, 100, msg.length - 1]) {
        expect(parse(msg.subarray(0, cut)), `cut at ${cut}`).toEqual([{ malformed: true }]);
      }
    });

    it('a message length under 4 (it could never advance) or past the buffer', () => {
      const zero = answer();
      zero.writeUInt16LE(0, 0);
      expect(parse(zero)).toEqual([{ malformed: true }]);
      const long = answer();
      long.writeUInt16LE(long.length + 4, 0);
      expect(parse(long)).toEqual([{ malformed: true }]);
    });

    it('a message whose length stops inside its header or its sockaddrs', () => {
      const msg = answer();
      const short = Buffer.from(msg.subarray(0, 60));
      short.writeUInt16LE(60, 0);
      expect(parse(short)[0].refused).toBe('route message shorter than rt_msghdr');
      const cut = Buffer.from(msg.subarray(0, msg.length - 16));  // IFA announced, not there
      cut.writeUInt16LE(cut.length, 0);
      expect(parse(cut)[0].refused).toBe('a sockaddr the address bits announce is missing');
      const over = Buffer.from(msg.subarray(0, msg.length - 8));  // IFA's sa_len 16, 8 bytes left
      over.writeUInt16LE(over.length, 0);
      expect(parse(over)[0].refused).toBe('a sockaddr runs past the end of the message');
    });

    it('a sockaddr_dl whose name is longer than the sockaddr', () => {
      const liar = sdl({ index: 4, name: 'en0' });
      liar[5] = 200;  // sdl_nlen
      const [m] = parse(rtMsg({ type: RTM.GET, flags: RTF.UP, addrs: RTA.DST | RTA.IFP }, [sin('10.0.0.1'), liar]));
      expect(m.refused).toBe('sockaddr_dl name and address run past its length');
      const [ifinfo] = parse(ifMsg({ flags: 1, index: 4, ifType: IFT_ETHER, mtu: 1500, addrs: RTA.IFP }, [liar]));
      expect(ifinfo.refused).toBe('sockaddr_dl name and address run past its length');
    });

    it('another version, a destination of no IP family, a netmask with holes, a gateway of the other family', () => {
      expect(parse(rtMsg({ type: RTM.GET, flags: 1, addrs: RTA.DST, version: 4 }, [sin('10.0.0.1')]))[0].refused).toBe('not an RTM_VERSION 5 message');
      expect(parse(rtMsg({ type: RTM.GET, flags: 1, addrs: RTA.DST }, [sdl({ index: 1 })]))[0].refused).toBe('destination is not an IPv4 or IPv6 sockaddr');
      expect(parse(rtMsg({ type: RTM.GET, flags: 1, addrs: RTA.DST | RTA.NETMASK }, [sin('10.0.0.0'), sin('255.0.255.0', 8)]))[0].refused).toBe('netmask is not contiguous');
      expect(parse(rtMsg({ type: RTM.GET, flags: 1, addrs: RTA.DST | RTA.GATEWAY }, [sin('10.0.0.0'), sin6('2001:db8::1')]))[0].refused).toBe('gateway of another IP version');
      expect(parse(rtMsg({ type: RTM.GET, flags: 1, addrs: RTA.DST }, []))[0].refused).toBe('a sockaddr the address bits announce is missing');
      expect(parse(ifaMsg({ type: RTM.NEWADDR, index: 4, addrs: RTA.NETMASK }, [sin('255.0.0.0', 5)]))[0].refused).toBe('address message without RTA_IFA');
    });

    it('a sockaddr_in6 too short for its address', () => {
      expect(parse(rtMsg({ type: RTM.GET, flags: 1, addrs: RTA.DST }, [sin6('2001:db8::1', { len: 20 })]))[0].refused).toBe('destination is not an IPv4 or IPv6 sockaddr');
    });
  });

  describe('tells the change feed what counts as a change (the route cache starts over on each)', () => {
    // ChangeFeed groups (native/backend.h): routes4 1, routes6 2, addresses4 4, addresses6 8, links 16.
    it('route additions, deletions and changes are events of their family\'s group', () => {
      const [add, del, change] = parse(
        rtMsg({ type: RTM.ADD, flags: RTF.UP | RTF.HOST | RTF.STATIC, index: 1, addrs: RTA.DST | RTA.GATEWAY }, [sin('192.0.2.77'), sdl({ index: 1 })]),
        rtMsg({ type: RTM.DELETE, flags: RTF.UP | RTF.GATEWAY, index: 4, addrs: RTA.DST | RTA.GATEWAY | RTA.NETMASK }, [sin6('2001:db8::'), sin6('fe80:4::1'), sin6('ffff:ffff::', { len: 12, family: 0 })]),
        rtMsg({ type: RTM.CHANGE, flags: RTF.UP | RTF.GATEWAY, index: 4, addrs: RTA.DST | RTA.GATEWAY | RTA.NETMASK }, [sin('0.0.0.0'), sin('10.0.0.1'), EMPTY]));
      expect(add.change).toEqual({ group: 1, removed: false, replaced: false });
      expect(add.route).toMatchObject({ destination: '192.0.2.77', dstLen: 32, oif: 1 });
      expect(del.change).toEqual({ group: 2, removed: true, replaced: false });
      expect(change.change).toEqual({ group: 1, removed: false, replaced: true });
    });

    it('address and interface messages are events of the address and link groups', () => {
      const [added, removed, link] = parse(
        ifaMsg({ type: RTM.NEWADDR, index: 4, addrs: RTA.NETMASK | RTA.IFA }, [sin('255.255.255.0', 7), sin('192.168.1.23')]),
        ifaMsg({ type: RTM.DELADDR, index: 4, addrs: RTA.NETMASK | RTA.IFA }, [sin6('ffff:ffff:ffff:ffff::', { len: 16, family: 0 }), sin6('2001:db8::23')]),
        ifMsg({ flags: IFF.UP, index: 4, ifType: IFT_ETHER, mtu: 1500 }));
      expect(added.change).toEqual({ group: 4, removed: false, replaced: false });
      expect(removed.change).toEqual({ group: 8, removed: true, replaced: false });
      expect(link.change).toEqual({ group: 16, removed: false, replaced: false });
    });

    it('every process\'s lookups (RTM_GET), RTM_MISS, cloned host routes and neighbour entries do not count', () => {
      const WASCLONED = 0x20000, LLINFO = 0x400, RTM_MISS = 7;
      const out = parse(
        rtMsg({ type: RTM.GET, flags: RTF.UP | RTF.GATEWAY, index: 4, addrs: RTA.DST | RTA.GATEWAY }, [sin('0.0.0.0'), sin('10.0.0.1')]),
        rtMsg({ type: RTM_MISS, flags: 0, addrs: RTA.DST }, [sin('198.51.100.1')]),
        rtMsg({ type: RTM.ADD, flags: RTF.UP | RTF.HOST | WASCLONED, index: 4, addrs: RTA.DST | RTA.GATEWAY }, [sin('93.184.216.34'), sin('10.0.0.1')]),
        rtMsg({ type: RTM.DELETE, flags: RTF.UP | RTF.HOST | LLINFO, index: 4, addrs: RTA.DST | RTA.GATEWAY }, [sin('10.0.0.1'), sdl({ index: 4, mac: [1, 2, 3, 4, 5, 6] })]));
      expect(out.map((m) => m.change)).toEqual(['ignored', 'ignored', 'ignored', 'ignored']);
    });

    it('a route or address message it cannot read still counts (no event): what it changed is unknown', () => {
      const liar = sdl({ index: 4, name: 'en0' });
      liar[5] = 200;
      const out = parse(
        rtMsg({ type: RTM.ADD, flags: RTF.UP, addrs: RTA.DST | RTA.IFP }, [sin('10.0.0.1'), liar]),
        ifaMsg({ type: RTM.NEWADDR, index: 4, addrs: RTA.NETMASK }, [sin('255.0.0.0', 5)]));
      expect(out.map((m) => m.change)).toEqual(['counted', 'counted']);
    });
  });

  describe('builds the RTM_GET request a lookup sends', () => {
    it('IPv4: rt_msghdr version 5, RTF_UP|RTF_HOST, RTA_DST|RTA_IFP, the sequence number, then sockaddr_in and an empty sockaddr_dl', () => {
      const req = buildGet('192.0.2.1', 0, 77);
      expect(req.length).toBe(92 + 16 + 20);
      expect(req.readUInt16LE(0)).toBe(req.length);
      expect([req[2], req[3]]).toEqual([5, RTM.GET]);
      expect(req.readUInt16LE(4)).toBe(0);
      expect(req.readUInt32LE(8)).toBe(RTF.UP | RTF.HOST);
      expect(req.readUInt32LE(12)).toBe(RTA.DST | RTA.IFP);
      expect(req.readInt32LE(20)).toBe(77);
      expect(req.subarray(92, 108)).toEqual(sin('192.0.2.1'));
      expect([...req.subarray(108, 128)]).toEqual([20, AF_LINK, ...Array(18).fill(0)]);
    });

    it('scoped IPv6 link-local: RTF_IFSCOPE with rtm_index, the zone embedded in the address (sin6_scope_id 0, as route(8) sends it); it reads back', () => {
      const req = buildGet('fe80::1', 4, 3);
      expect(req.length).toBe(92 + 28 + 20);
      expect(req.readUInt16LE(4)).toBe(4);
      expect(req.readUInt32LE(8)).toBe(RTF.UP | RTF.HOST | RTF.IFSCOPE);
      expect(req.subarray(92, 120)).toEqual(sin6('fe80:4::1', { scopeId: 0 }));
      const [m] = parse(req);
      expect(m.header).toMatchObject({ index: 4, seq: 3, addrs: RTA.DST | RTA.IFP });
      expect(m.route).toMatchObject({ destination: 'fe80::1', dstLen: 128, oif: 4, ifp: '' });
    });

    it('a global IPv6 destination keeps its bytes when scoped', () => {
      const req = buildGet('2001:db8::5', 9, 1);
      expect(req.subarray(92 + 8, 92 + 24)).toEqual(ip6Bytes('2001:db8::5'));
      expect(req.readUInt16LE(4)).toBe(9);
    });
  });
});
