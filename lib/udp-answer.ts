// A UDP socket bound to the wildcard that answers every client from the address the client sent
// to, through the interface that owns that address (for a service address on a loopback device,
// through the route to the client).
//
// Linux: one socket, read with IP_PKTINFO / IPV6_RECVPKTINFO on routebind's own receive path
// (native/linux/udp_pktinfo.cc), which learns per datagram where it was sent and where it came
// in; replies go out with sendmsg() and that address and interface in IPV6_PKTINFO / IP_PKTINFO.
// Node's dgram.Socket stays in charge of everything else: routebind replaces four methods of its
// handle (recvStart/recvStop to read through the addon, send to add the source, close/ref/unref
// to carry the addon's poll along), and delivers datagrams through the handle's own onmessage,
// so 'message', 'error' and the rest are Node's.
import type * as dgram from 'node:dgram';

import { linuxNative, type NativePktinfoReader } from './binding';
import { currentGeneration } from './coherence';
import { setDescription } from './describe';
import { interfaceNamed, ownersOf } from './interfaces';
import { HOST } from './platform';
import { routeTo } from './route';
import { isLinkLocal6 } from './validate';

/** A 'message' listener's rinfo on a wildcard routebind socket. */
export interface RoutedRemoteInfo extends dgram.RemoteInfo {
  /** The address the datagram was sent to: the reply's source (Linux, wildcard sockets). */
  localAddress?: string;
  /** The interface the datagram came in through (Linux, wildcard sockets). */
  interface?: string;
}

/** The part of Node's UDP handle (udp_wrap) the receive path replaces. */
export interface AnsweringHandle {
  readonly fd: number;
  onmessage?: (nread: number, handle: AnsweringHandle, buffer?: Buffer, rinfo?: RoutedRemoteInfo) => void;
  send(...args: unknown[]): number;
  recvStart(): number;
  recvStop(): number;
  ref(): void;
  unref(): void;
  hasRef(): boolean;
  close(callback?: () => void): void;
}

/**
 * Descriptors this loop reads through the addon. libuv refuses to open a descriptor its loop
 * already watches (uv_udp_open: EEXIST); these are watched by the addon's poll, on a duplicate,
 * so libuv cannot see them: routebind's handle.open() refuses them instead.
 */
export const answeringFds = new Set<number>();

/** Where one client asked: the reply's source and the interface it came in through. */
interface Asked {
  source: string;
  ingress: number;
  scope: number;
  /** The reply's interface and source as last worked out, for cache epoch `epoch`. */
  epoch?: number;
  out?: number | null;
  sendSource?: string;
}

// Clients remembered per socket for send(msg, port, address): the address each last asked. A
// server answers within moments; the oldest are forgotten past this many (a busy DNS server
// sees millions of clients).
const MAX_CLIENTS = 65_536;

// Interface facts per (source, ingress), and index → name, for the feed's current generation.
// Checked at most every 100 ms on the hot path: an address that moves between interfaces is
// followed within that; one that is added needs no check (a miss reads the current index).
const CHECK_MS = 100;
let generation: number | undefined;
let checkedAt = 0;
const egress = new Map<string, number | null>();
const names = new Map<number, string | undefined>();

const strictSix = new Map<string, boolean>();

function fresh(): void {
  const now = Date.now();
  if (now - checkedAt < CHECK_MS) return;
  checkedAt = now;
  const g = currentGeneration();
  if (g !== generation) {
    generation = g;
    egress.clear();
    names.clear();
    strictSix.clear();
    epoch += 1;
  }
}
let epoch = 0;

/**
 * IPv6 only: whether a reply to `client` out of `out` may go with no source, letting the kernel
 * pick `source` itself. Linux holds an IPv6 datagram to the interface in its pktinfo only when
 * the source is left to the kernel (ip6_route_output: RT6_LOOKUP_F_IFACE needs a bound socket or
 * an unspecified source); with a source given, the interface is a mere preference and the best
 * route wins (out of A, when the default is via A). So where the kernel's own choice of source
 * for `client` out of `out` is the address asked, the reply names no source and is held to
 * `out`; where it is not (several addresses on that link), the source wins and the route decides.
 */
function sixHeldToInterface(client: string, out: number, source: string): boolean {
  const key = `${client}>${out}>${source}`;
  const known = strictSix.get(key);
  if (known !== undefined) return known;
  let held = false;
  try {
    const route = routeTo(client, { interface: out, cache: false });
    held = route.ifindex === out && route.preferredSource === source;
  } catch {
    held = false;
  }
  if (strictSix.size >= MAX_CLIENTS) strictSix.delete(strictSix.keys().next().value as string);
  strictSix.set(key, held);
  return held;
}

function nameOf(ifindex: number): string | undefined {
  if (ifindex === 0) return undefined;
  if (names.has(ifindex)) return names.get(ifindex);
  const name = interfaceNamed(ifindex)?.name;
  names.set(ifindex, name);
  return name;
}

/**
 * The interface a reply from `source` leaves through: the one that owns it (the one it came in
 * on, when several do); 0 (the route to the client decides) for a service address on a
 * loopback device or an address no interface lists (127.0.0.2); null when it cannot be a source.
 */
function egressFor(source: string, ingress: number): number | null {
  const key = `${source}%${ingress}`;
  const known = egress.get(key);
  if (known !== undefined) return known;
  let out: number | null;
  if (isLinkLocal6(source)) {
    out = ingress; // the same address may be on every link: the one it came in on is its owner
  } else {
    const owners = ownersOf(source.startsWith('::ffff:') ? source.slice(7) : source);
    const owner = owners.find((o) => o.ifindex === ingress) ?? owners[0];
    out = owner === undefined || owner.flags.includes('loopback') ? 0 : owner.ifindex;
  }
  egress.set(key, out);
  return out;
}

/**
 * Makes `socket`, just bound to the wildcard, answer each client from the address it asked.
 * Linux only; elsewhere it records what applies instead (Windows is strong-host; macOS keeps
 * Node's behaviour). Throws the addon's system error when the socket options are refused.
 */
export function answerWhereAsked(socket: dgram.Socket, handle: AnsweringHandle, family: 4 | 6, wildcard: string): void {
  if (HOST !== 'linux') {
    setDescription(socket, { source: wildcard, pinned: null, answers: HOST === 'win32' ? 'strong-host' : 'route' });
    return;
  }
  const native = linuxNative();
  const clients = new Map<string, Asked>();
  // reply(): the source asked for each pending send, in send order (Node looks the address up first).
  const explicit = new Map<string, Asked[]>();
  const familyName = family === 6 ? 'IPv6' : 'IPv4';

  const reader: NativePktinfoReader = new native.PktinfoReader(handle.fd, family, (nread, buffer, address, port, scopeId, localAddress, ifindex) => {
    const deliver = handle.onmessage;
    if (deliver === undefined) return;
    if (nread < 0) return deliver(nread, handle);
    fresh();
    const ingress = ifindex ?? 0;
    const shown = scopeId ? `${address}%${nameOf(scopeId) ?? scopeId}` : (address as string);
    const rinfo: RoutedRemoteInfo = { address: shown, family: familyName, port: port as number, size: nread };
    if (localAddress !== undefined) {
      rinfo.localAddress = isLinkLocal6(localAddress) && ingress ? `${localAddress}%${nameOf(ingress) ?? ingress}` : localAddress;
      const key = `${shown} ${port}`;
      const known = clients.get(key);
      if (known === undefined || known.source !== localAddress || known.ingress !== ingress) {
        if (known === undefined && clients.size >= MAX_CLIENTS) clients.delete(clients.keys().next().value as string);
        clients.set(key, { source: localAddress, ingress, scope: scopeId ?? 0 });
      }
    }
    const arrived = nameOf(ingress);
    if (arrived !== undefined) rinfo.interface = arrived;
    deliver(nread, handle, buffer, rinfo);
  });
  if (!handle.hasRef()) reader.unref();
  const fd = handle.fd;
  answeringFds.add(fd);

  const nodeSend = handle.send;
  const nodeRef = handle.ref;
  const nodeUnref = handle.unref;
  const nodeClose = handle.close;

  handle.recvStart = () => reader.start();
  handle.recvStop = () => reader.stop();
  handle.ref = function ref(this: AnsweringHandle) {
    nodeRef.call(this);
    reader.ref();
  };
  handle.unref = function unref(this: AnsweringHandle) {
    nodeUnref.call(this);
    reader.unref();
  };
  handle.close = function close(this: AnsweringHandle, ...args: unknown[]) {
    reader.close();
    answeringFds.delete(fd);
    clients.clear();
    explicit.clear();
    return (nodeClose as (...a: unknown[]) => void).apply(this, args);
  };
  // Node's doSend: send(req, list, count, port, ip, hasCallback) unconnected, send(req, list,
  // count, hasCallback) connected (the kernel's source for the connected peer stands).
  handle.send = function send(this: AnsweringHandle, req: unknown, list: Uint8Array[], count: number, port: unknown, ip?: unknown): number {
    if (arguments.length === 6 && typeof ip === 'string' && typeof port === 'number') {
      const key = `${ip} ${port}`;
      const queued = explicit.get(key);
      const asked = queued !== undefined ? queued.shift() : clients.get(key);
      if (queued !== undefined && queued.length === 0) explicit.delete(key);
      if (asked !== undefined) {
        fresh();
        const percent = ip.indexOf('%');
        const bare = percent === -1 ? ip : ip.slice(0, percent);
        if (asked.epoch !== epoch) {
          asked.epoch = epoch;
          const out = egressFor(asked.source, asked.ingress);
          asked.out = out;
          const held = out !== null && family === 6 && out > 0 && !bare.startsWith('::ffff:') && !isLinkLocal6(asked.source) && !isLinkLocal6(bare) &&
            sixHeldToInterface(bare, out, asked.source);
          asked.sendSource = held ? '::' : asked.source;
        }
        if (asked.out !== null && asked.out !== undefined) {
          const sent = native.sendFrom(this.fd, family, list, port, bare, asked.scope, asked.sendSource as string, asked.out);
          // Anything but success is left to Node's own send, which does what it does without
          // routebind: a full send buffer is queued (from the route's source), a source the
          // kernel refuses (a broadcast or multicast group the client asked, an address removed
          // since) goes from the route's source, and a real failure is reported as Node reports it.
          if (sent > 0) return sent;
        }
      }
    }
    return nodeSend.apply(this, arguments as unknown as unknown[]);
  };

  setDescription(socket, { source: wildcard, pinned: null, answers: 'address-asked' });
  Object.defineProperty(socket, kReply, {
    value: (msg: unknown, rinfo: RoutedRemoteInfo, callback?: unknown) => {
      if (typeof rinfo.localAddress === 'string') {
        const percent = rinfo.localAddress.indexOf('%');
        const source = percent === -1 ? rinfo.localAddress : rinfo.localAddress.slice(0, percent);
        const ingress = rinfo.interface !== undefined ? interfaceNamed(rinfo.interface)?.ifindex ?? 0 : 0;
        const scopeName = rinfo.address.includes('%') ? rinfo.address.slice(rinfo.address.indexOf('%') + 1) : undefined;
        const scope = scopeName === undefined ? 0 : interfaceNamed(/^\d+$/.test(scopeName) ? Number(scopeName) : scopeName)?.ifindex ?? 0;
        const key = `${rinfo.address} ${rinfo.port}`;
        const queue = explicit.get(key);
        if (queue === undefined) explicit.set(key, [{ source, ingress, scope }]);
        else queue.push({ source, ingress, scope });
      }
      socket.send(msg as Buffer, rinfo.port, rinfo.address, callback as (error: Error | null, bytes: number) => void);
    },
    configurable: true,
  });
}

const kReply = Symbol('routebind reply');

/**
 * `socket.reply(msg, rinfo, callback?)`: sends `msg` to the client `rinfo` describes, from the
 * address that datagram was sent to (rinfo.localAddress) whatever the client asked since.
 */
export function reply(socket: dgram.Socket, msg: string | Uint8Array | readonly (string | Uint8Array)[], rinfo: RoutedRemoteInfo, callback?: (error: Error | null, bytes: number) => void): void {
  const answering = (socket as unknown as Record<symbol, typeof reply | undefined>)[kReply] as ((m: unknown, r: RoutedRemoteInfo, c?: unknown) => void) | undefined;
  if (answering !== undefined) return answering(msg, rinfo, callback);
  socket.send(msg as Buffer, rinfo.port, rinfo.address, callback);
}
