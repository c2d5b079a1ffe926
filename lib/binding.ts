// The one place the compiled addon is loaded (node-gyp-build: prebuilds/ first, then build/),
// with the exact shapes of what it takes and returns, per OS (as node-pty's IUnixNative and
// IConptyNative): what every backend exports (CommonNative), the POSIX fd hand-off (PosixNative:
// Linux and macOS), and each OS's own (LinuxNative, DarwinNative, WindowsNative), told apart by
// `platform`. A module that needs an OS's own function asks for it through posixNative(),
// linuxNative() or windowsNative(), which throw a typed error elsewhere: no module can call a
// POSIX-only function without the type system knowing.
import * as path from 'node:path';

import { hasBackend, unsupportedPlatform } from './platform';

export interface NativeRouteQuery {
  destination: string;
  from?: string;
  oif?: string | number;
  iif?: string | number;
  mark?: number;
  uid?: number;
  tos?: number;
  ipProto?: number;
  sourcePort?: number;
  destinationPort?: number;
}

/** Slot order of routeScratch (native/addon.cc RouteSlot; the addon exports it as routeSlots). */
export const enum RouteSlot {
  Version, Type, Protocol, Scope, Table, Flags, Tos, DstLen, SrcLen, Oif, Iif, Priority, Mtu, Mark, Uid, Pref, Expires, AskedOif,
}

export interface NativeNexthop {
  gateway?: string;
  ifindex: number;
  interface?: string;
  weight: number;
  flags: number;
}

/** A route as the kernel reports it, numbers unnamed (lib/route.ts names them). */
export interface NativeRoute {
  version: 4 | 6;
  type: number;
  protocol: number;
  scope: number;
  table: number;
  flags: number;
  tos: number;
  dstLen: number;
  srcLen: number;
  destination?: string;
  sourcePrefix?: string;
  gateway?: string;
  preferredSource?: string;
  oif?: number;
  oifName?: string;
  iif?: number;
  iifName?: string;
  priority?: number;
  mtu?: number;
  mark?: number;
  uid?: number;
  pref?: number;
  expires?: number;
  nexthops?: NativeNexthop[];
}

export interface NativeLink {
  index: number;
  /** Windows only: the interface's 64-bit LUID in decimal (NET_LUID), which outlives index reuse. */
  luid?: string;
  name: string;
  flags: number;
  type: number;
  mtu: number;
  operstate: number;
  master?: number;
  mac?: Buffer;
  altnames?: string[];
}

export interface NativeAddress {
  version: 4 | 6;
  prefixLength: number;
  scope: number;
  index: number;
  flags: number;
  address?: string;
  local?: string;
  broadcast?: string;
  label?: string;
  validLifetime?: number;
  preferredLifetime?: number;
}

export interface NativeSocketSpec {
  version: 4 | 6;
  type: 'tcp' | 'udp';
  address?: string;
  port?: number;
  scopeId?: number;
  ifindex?: number;
  ifname?: string;
  strict?: boolean;
  mark?: number;
  reuseAddress?: boolean;
  reusePort?: boolean;
  bindAddressNoPort?: boolean;
  v6only?: boolean;
  /** Create without binding: a placeholder that adoptSocket() later replaces. */
  unbound?: boolean;
}

export interface NativeSocket {
  fd: number;
  /** Opaque: the device and inode of the socket (fstat), so adoptSocket can tell it from a reused fd number. */
  identity?: string;
  pinned: string | null;
  pinError?: string;
}

export interface NativeParsedMessage {
  type: number;
  flags: number;
  seq: number;
  route?: NativeRoute;
  link?: NativeLink;
  address?: NativeAddress;
  error?: number;
  invalid?: true;
}

export interface NativeChangeEvent {
  kind: 'route' | 'address' | 'link';
  /** For links, 'add' means new to this namespace (the kernel sends RTM_NEWLINK for both). */
  action: 'add' | 'delete' | 'change';
  entry: NativeRoute | NativeAddress | NativeLink;
  /** An address's link, named as it was when the event was read. */
  interface?: string;
}

/** A subscription to the environment's change feed; `groups` is a bit set of ChangeGroup. */
export interface NativeChangeWatcher {
  ref(): NativeChangeWatcher;
  unref(): NativeChangeWatcher;
  close(): void;
}

/** Groups of the change feed (native/backend.h ChangeFeed::Groups; the addon exports them as changeGroups). */
export const enum ChangeGroup {
  Routes4 = 1, Routes6 = 2, Addresses4 = 4, Addresses6 = 8, Links = 16,
}

/** What every backend exports (native/addon.cc). */
export interface CommonNative {
  /** The OS the addon was built for (native/platform.h kPlatformName). */
  platform: 'linux' | 'darwin' | 'win32';
  /**
   * `overflowed`: notifications were lost (resync). `error`: the feed can no longer be watched;
   * no further batch will come.
   */
  ChangeWatcher: new (groups: number, callback: (events: NativeChangeEvent[], overflowed: boolean, error: Error | undefined) => void) => NativeChangeWatcher;
  /**
   * Reads what the kernel announced (one non-blocking recv() when nothing was, on Linux and
   * macOS) and returns the generation, which moves on with every route, address, link, rule,
   * nexthop or netconf announcement and every overrun.
   */
  feedGeneration(): number;
  /** The feed's receive buffer as granted by the kernel, and the current generation. */
  feedInfo(): { generation: number; receiveBuffer: number };
  /** ChangeGroup's values as the addon defines them. */
  changeGroups: Record<string, number>;
  /** RouteSlot's values as the addon defines them. */
  routeSlots: Record<string, number>;
  /**
   * One lookup. Numbers land in `routeScratch` (see RouteSlot), strings come back as
   * [gateway, preferredSource, sourcePrefix, oifName, iifName].
   */
  routeGet(
    destination: string, from: string | undefined, oif: string | number | undefined, iif: string | number | undefined,
    mark: number | undefined, uid: number | undefined, tos: number | undefined, ipProto: number | undefined,
    sourcePort: number | undefined, destinationPort: number | undefined,
  ): [string?, string?, string?, string?, string?];
  /** Float64 slots written by routeGet, in RouteSlot order. */
  routeScratch: ArrayBuffer;
  dumpRoutes(version: 0 | 4 | 6): NativeRoute[];
  dumpLinks(): NativeLink[];
  dumpAddresses(version: 0 | 4 | 6): NativeAddress[];
  linkIndex(name: string): number;
  linkName(index: number): string | undefined;
  /** Nanoseconds for `iterations` lookups of `destination` inside the addon (bench floor). */
  benchRouteGet(destination: string, iterations: number): number;
}

/** Linux and macOS: the addon makes the socket (bind, pin, mark) and Node adopts its fd. */
export interface PosixNative extends CommonNative {
  platform: 'linux' | 'darwin';
  createSocket(spec: NativeSocketSpec): NativeSocket;
  /**
   * createSocket's spec as arguments (flags: 1 strict, 2 reuseAddress, 4 reusePort,
   * 8 bindAddressNoPort, 16 v6only given, 32 v6only), without the identity (no placeholder).
   */
  createSocketFrom(version: 4 | 6, type: 'tcp' | 'udp', address: string | undefined, port: number, scopeId: number | undefined,
    ifindex: number | undefined, ifname: string | undefined, flags: number, mark: number | undefined): NativeSocket;
  closeSocket(fd: number): void;
  /**
   * dup3(from, to) (dup2 + fcntl on macOS): the socket behind `from` now also answers at `to`.
   * `identity` is the placeholder's, from createSocket; when `to` no longer is that socket
   * (closed, or its number reused) it throws EBADF and touches nothing.
   */
  adoptSocket(from: number, to: number, identity: string): void;
  /** Sets SO_REUSEADDR and SO_REUSEPORT to exactly these values (undoes what libuv sets on UDP fds). */
  setSocketReuse(fd: number, reuseAddress: boolean, reusePort: boolean): void;
  /** Pins an already bound socket to an interface (kept if it is pinned there already). */
  pinSocket(fd: number, ifindex: number, ifname: string, strict: boolean): { pinned: string | null; pinError?: string };
  pinMechanism: 'SO_BINDTODEVICE' | 'IP_BOUND_IF';
}

/**
 * A wildcard UDP socket's own receive path (native/linux/udp_pktinfo.cc): a second descriptor of
 * the socket, polled on the loop, read with recvmsg and its IP_PKTINFO / IPV6_PKTINFO.
 */
export interface NativePktinfoReader {
  /** 0, or a negative errno from uv_poll_start. */
  start(): number;
  stop(): number;
  ref(): void;
  unref(): void;
  /** Stops and closes the second descriptor (in libuv's close callback). */
  close(): void;
}

/**
 * One datagram (nread ≥ 0) or a receive error (nread < 0, the other arguments absent).
 * `localAddress` is the address the datagram was sent to (undefined when the kernel gave no
 * pktinfo); `ifindex` the interface it came in through; `scopeId` the peer's zone (link-local).
 */
export type NativeDatagramCallback = (nread: number, buffer?: Buffer, address?: string, port?: number, scopeId?: number, localAddress?: string, ifindex?: number) => void;

/** IP_PKTINFO / IPV6_PKTINFO parsed from a control buffer (parsePktinfoControl). */
export interface NativePktinfo {
  version: 4 | 6;
  /** The datagram's destination (ipi_addr / ipi6_addr). */
  address: string;
  /** IPv4: ipi_spec_dst, the local address the kernel would answer from. */
  local?: string;
  ifindex: number;
}

/** Linux: netlink, SO_BINDTODEVICE, the netlink parser's test entry, and the pktinfo UDP path. */
export interface LinuxNative extends PosixNative {
  platform: 'linux';
  pinMechanism: 'SO_BINDTODEVICE';
  parseNetlink(bytes: Uint8Array): NativeParsedMessage[];
  /** Turns on IP_PKTINFO (and IPV6_RECVPKTINFO for version 6) on `fd` and reads it on the loop. */
  PktinfoReader: new (fd: number, version: 4 | 6, callback: NativeDatagramCallback) => NativePktinfoReader;
  /**
   * One sendmsg() from `source` out of `ifindex` (0: wherever the route to the destination
   * goes). Node's handle.send convention: bytes + 1, or a negative errno.
   */
  sendFrom(fd: number, version: 4 | 6, list: readonly Uint8Array[], port: number, address: string, scopeId: number, source: string, ifindex: number): number;
  /** Test entry: the pure pktinfo parser over bytes; throws ERR_PKTINFO_MALFORMED. */
  parsePktinfoControl(bytes: Uint8Array): NativePktinfo | null;
  /** Test entry: this ABI's cmsg layout, to build control buffers with. */
  pktinfoControlLayout(): { header: number; lengthSize: number; align: number; solIp: number; solIpv6: number; ipPktinfo: number; ipv6Pktinfo: number };
}

/** macOS: PF_ROUTE, IP_BOUND_IF / IPV6_BOUND_IF. */
export interface DarwinNative extends PosixNative {
  platform: 'darwin';
  pinMechanism: 'IP_BOUND_IF';
}

/** GetIpInterfaceEntry's answer for one interface and family. */
export interface NativeIpInterfaceSettings {
  /** The interface may send packets whose source another interface owns (weak host send). */
  weakHostSend: boolean;
  /** The interface accepts packets for addresses another interface owns (weak host receive). */
  weakHostReceive: boolean;
  /** The interface forwards packets not addressed to this host. */
  forwarding: boolean;
  /** The interface metric, added to a route's metric. */
  metric: number;
}

/** Windows: iphlpapi. No fd hand-off: Node on Windows cannot adopt a socket handle. */
export interface WindowsNative extends CommonNative {
  platform: 'win32';
  /** GetIpInterfaceEntry. Under Wine it aborts the process: never call it when `underWine`. */
  ipInterfaceSettings(index: number, version: 4 | 6): NativeIpInterfaceSettings;
  /** ntdll exports wine_get_version: running under Wine, where several iphlpapi calls are missing. */
  underWine: boolean;
}

export type NativeBinding = LinuxNative | DarwinNative | WindowsNative;

const root = path.join(__dirname, '..');

function load(): NativeBinding {
  const nodeGypBuild = require('node-gyp-build') as (dir: string) => NativeBinding;
  try {
    return nodeGypBuild(root);
  } catch (cause) {
    const error = new Error(
      `routebind: could not load its native addon for ${process.platform}-${process.arch} ` +
        `(Node ${process.versions.node}, N-API ${process.versions.napi}): nothing in ` +
        `${path.join(root, 'prebuilds')} fits and ${path.join(root, 'build', 'Release')} holds no build. ` +
        'Fix: `npm rebuild routebind` builds it from source (needs python3, make and a C++17 compiler); ' +
        'if npm skipped its install script, approve it first with `npm install-scripts approve routebind` ' +
        '(writes "allowScripts" to package.json; for a global install `npm config set allow-scripts=routebind --location=user`).',
      { cause },
    );
    throw Object.assign(error, { code: 'ERR_ROUTEBIND_ADDON' });
  }
}

// Loaded when this module is, on an OS with a backend (a missing addon fails `require('routebind')`
// at once, as it always has); never on any other OS, where there is nothing it could load.
const loaded: NativeBinding | undefined = hasBackend ? load() : undefined;

/** The addon; on an OS without a backend, ERR_ROUTEBIND_UNSUPPORTED_PLATFORM. */
export function native(): NativeBinding {
  if (loaded === undefined) throw unsupportedPlatform();
  return loaded;
}

/** The addon of Linux or macOS, for the fd hand-off; a typed error on Windows. */
export function posixNative(): PosixNative {
  const n = native();
  if (n.platform === 'win32') throw unsupportedPlatform('the socket hand-off (an fd made by the addon, adopted by Node)', ['linux', 'darwin'], n.platform);
  return n;
}

/** The Linux addon (the netlink parser's test entry); a typed error elsewhere. */
export function linuxNative(): LinuxNative {
  const n = native();
  if (n.platform !== 'linux') throw unsupportedPlatform('the netlink parser', ['linux'], n.platform);
  return n;
}

/** The Windows addon (per-interface settings, Wine detection); a typed error elsewhere. */
export function windowsNative(): WindowsNative {
  const n = native();
  if (n.platform !== 'win32') throw unsupportedPlatform('GetIpInterfaceEntry', ['win32'], n.platform);
  return n;
}

