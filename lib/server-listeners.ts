// A wildcard TCP listen, made per address: one listener for each local address, bound to it and
// pinned to the interface that owns it, so every connection is answered from the address the
// client asked, through that interface (the SYN-ACK of a plain wildcard listener is routed by
// destination and can leave through another uplink, where a strict-ingress router drops it).
// The listeners follow the host's addresses (local-addresses.ts) and all feed one net.Server:
// each listener's handle is owned by that server, so Node's own accept path (maxConnections,
// connection counting, 'connection', close() waiting for connections) runs unchanged.
import * as net from 'node:net';
import { constants } from 'node:os';

import { posixNative } from './binding';
import { setDescription, type SocketDescription } from './describe';
import { isSystemError, type SystemError } from './errors';
import { addressKey, LocalAddresses, type LocalAddress } from './local-addresses';
import { socketError, wrapStream } from './open-socket';

/** What Node's TCP handle (tcp_wrap) offers a listener: the subset used here. */
export interface TcpHandle {
  listen(backlog: number): number;
  getsockname(out: { port?: number; address?: string; family?: string }): number;
  close(callback?: () => void): void;
  ref(): void;
  unref(): void;
  onconnection: (this: TcpHandle, error: number, client: { close(): void } | undefined) => void;
  [key: symbol]: unknown;
}

/** One listener: an address of this host and the handle that listens there. */
export interface Listener {
  local: LocalAddress;
  handle: TcpHandle;
  pinned: string | null;
  pinError?: string;
}

export interface ListenerSetSpec {
  /** 0 for an ephemeral port, shared by every listener. */
  port: number;
  /** Which families to listen on. */
  v4: boolean;
  v6: boolean;
  backlog: number;
  /** SO_REUSEPORT on every listener (a cluster worker: several workers share the port). */
  reusePort: boolean;
  strict: boolean;
  mark?: number;
}

/** How a per-address server reports itself in describe(). */
export interface PerAddressListener {
  address: string;
  interface: string;
  ifindex: number;
  pinned: string | null;
  pinError?: string;
}

const MAX_EPHEMERAL_TRIES = 16;

/**
 * Whether an address's listener is pinned: to its owner, except a service address on a loopback
 * device (a VIP), which belongs to no link: it is answered through the route to the client.
 */
function pinsTo(local: LocalAddress): boolean {
  if (!local.onLoopback) return true;
  return local.address === '::1' || local.address.startsWith('127.');
}

function isLinkLocal6(address: string): boolean {
  return /^fe[89ab][0-9a-f]:/i.test(address);
}

/**
 * The listeners of one per-address server. start() opens one for every current address (all or
 * nothing: an error fails the whole listen, as a wildcard listen fails); afterwards addresses
 * that come are listened on and addresses that go are closed.
 */
export class ListenerSet {
  readonly listeners = new Map<string, Listener>();
  port = 0;
  private follower: LocalAddresses | undefined;
  private ownerSymbol: symbol | undefined;
  private closed = false;
  /** The listener whose handle is the server's own (server._handle). */
  private primary: Listener | undefined;
  /** The listener of the connection being accepted, for the 'connection' listener's describe(). */
  accepting: Listener | undefined;
  /** Addresses that appeared but could not be listened on (the port taken there, …), with why. */
  readonly skipped = new Map<string, string>();

  constructor(private readonly server: net.Server, private readonly spec: ListenerSetSpec) {}

  private wanted(local: LocalAddress): boolean {
    return local.family === 4 ? this.spec.v4 : this.spec.v6;
  }

  /**
   * Opens a listener on every current address; returns them, the first to become the server's
   * own handle. Throws Node's listen error (on the wildcard address) when any address fails.
   */
  open(): Listener[] {
    const follower = new LocalAddresses();
    this.follower = follower;
    const addresses = follower.list().filter((a) => this.wanted(a));
    // IPv4 first: the primary handle is then 127.0.0.1 or another address that rarely goes.
    addresses.sort((a, b) => a.family - b.family || Number(b.onLoopback) - Number(a.onLoopback));
    let tries = 0;
    for (;;) {
      const opened: Listener[] = [];
      let port = this.spec.port;
      try {
        for (const local of addresses) {
          const listener = this.bindOne(local, port);
          if (listener === undefined) continue;
          opened.push(listener);
          if (port === 0) port = this.port = boundPort(listener.handle);
        }
        this.port = port;
        return opened;
      } catch (error) {
        for (const l of opened) l.handle.close();
        // An ephemeral port taken on a later address: try another one for all of them.
        if (this.spec.port === 0 && isSystemError(error) && error.code === 'EADDRINUSE' && ++tries < MAX_EPHEMERAL_TRIES) continue;
        follower.close();
        this.follower = undefined;
        throw error;
      }
    }
  }

  /**
   * Takes the listeners open() made: the first is the server's own handle (already listening
   * through net), the others listen here. From now on the set follows address changes.
   */
  adopt(opened: Listener[], netOnConnection: TcpHandle['onconnection'] | undefined): void {
    const primary = opened[0];
    this.primary = primary;
    this.ownerSymbol = Object.getOwnPropertySymbols(primary.handle).find((s) => s.description === 'owner_symbol');
    const onconnection = netOnConnection ?? primary.handle.onconnection;
    this.netOnConnection = onconnection;
    for (const l of opened) {
      this.listeners.set(addressKey(l.local), l);
      if (l !== primary) this.startListening(l);
      else this.wire(l);
    }
    const follower = this.follower!;
    follower.on('add', (local: LocalAddress) => this.added(local));
    follower.on('remove', (local: LocalAddress) => this.removed(local));
    // A feed that fails leaves the listeners as they are: they still answer the addresses they have.
    follower.on('error', () => undefined);
  }

  private netOnConnection: TcpHandle['onconnection'] | undefined;

  /** Makes `l`'s handle the server's: its connections go through net's own accept path. */
  private wire(l: Listener): void {
    const server = this.server;
    const set = this;
    const netOnConnection = this.netOnConnection!;
    if (this.ownerSymbol !== undefined) l.handle[this.ownerSymbol] = server;
    l.handle.onconnection = function onconnection(this: TcpHandle, error, client) {
      set.accepting = l;
      try {
        // net's accept finds its server through the handle's owner; where that symbol could
        // not be found, through the server's own handle.
        const handle = set.ownerSymbol !== undefined ? this : (server as unknown as { _handle: TcpHandle | null })._handle;
        if (handle === null) client?.close();
        else netOnConnection.call(handle, error, client);
      } finally {
        set.accepting = undefined;
      }
    };
  }

  private startListening(l: Listener): boolean {
    this.wire(l);
    const status = l.handle.listen(this.spec.backlog);
    if (status !== 0) {
      l.handle.close();
      return false;
    }
    if ((this.server as unknown as { _unref?: boolean })._unref) l.handle.unref();
    return true;
  }

  /** Binds (and pins) one address; undefined when it is gone already. Throws the wildcard's listen error. */
  private bindOne(local: LocalAddress, port: number): Listener | undefined {
    const pin = pinsTo(local);
    // A dual-stack wildcard ('::' without ipv6Only) hears IPv4 clients on an IPv6 socket, and Node
    // reports their addresses v4-mapped (::ffff:198.51.100.7): an IPv4 address is listened on the
    // same way, at its mapped form, so socket.remoteAddress reads as it would with net's listener.
    const mapped = local.family === 4 && this.spec.v6;
    let made;
    try {
      made = posixNative().createSocket({
        version: mapped ? 6 : local.family,
        type: 'tcp',
        address: mapped ? `::ffff:${local.address}` : local.address,
        port,
        ...(local.family === 6 && isLinkLocal6(local.address) ? { scopeId: local.ifindex } : {}),
        ...(pin ? { ifindex: local.ifindex, ifname: local.interface } : {}),
        strict: this.spec.strict,
        ...(this.spec.mark !== undefined ? { mark: this.spec.mark } : {}),
        reuseAddress: true,
        ...(this.spec.reusePort ? { reusePort: true } : {}),
        ...(local.family === 6 ? { v6only: true } : mapped ? { v6only: false } : {}),
      });
    } catch (error) {
      if (!isSystemError(error)) throw error;
      // The address went between the dump and the bind: nothing to listen on.
      if (error.code === 'EADDRNOTAVAIL') return undefined;
      throw this.listenError(error.code as keyof typeof constants.errno, port, local, error.syscall === 'bind' ? '' : `${error.syscall} failed`);
    }
    const carrier = wrapStream(made.fd, { manualStart: true, readable: false, writable: false } as net.SocketConstructorOpts);
    const holder = carrier as unknown as { _handle: TcpHandle | null };
    const handle = holder._handle!;
    // The handle is the listener's now: the carrier socket must never close it.
    holder._handle = null;
    carrier.destroy();
    return { local, handle, pinned: made.pinned, ...(made.pinError !== undefined ? { pinError: made.pinError } : {}) };
  }

  /** Node's error for a wildcard listen, with the address that failed named in `detail`. */
  listenError(code: keyof typeof constants.errno, port: number, local: LocalAddress, step: string): SystemError {
    const wildcard = this.spec.v6 ? '::' : '0.0.0.0';
    const error = socketError('listen', code, wildcard, port, '');
    Object.defineProperty(error, 'detail', {
      value: `${local.address}${local.family === 6 && isLinkLocal6(local.address) ? `%${local.interface}` : ''} (${local.interface})${step ? `: ${step}` : ''}`,
      enumerable: false, writable: true, configurable: true,
    });
    Object.defineProperty(error, 'interface', { value: local.interface, enumerable: false, writable: true, configurable: true });
    return error;
  }

  private added(local: LocalAddress): void {
    if (this.closed || !this.wanted(local)) return;
    const key = addressKey(local);
    if (this.listeners.has(key)) return;
    let listener: Listener | undefined;
    try {
      listener = this.bindOne(local, this.port);
    } catch (error) {
      // The port is taken on the new address (or it cannot be bound): the others keep serving.
      // The server is listening already, so this is no 'error' (which would end a program
      // that never expected one after 'listening'): a warning names the address.
      const code = isSystemError(error) ? error.code : String(error);
      this.skipped.set(key, code);
      process.emitWarning(`routebind: a server listening on port ${this.port} per address cannot listen on ${local.address} (${local.interface}), added since: ${code}`,
        { code: 'ROUTEBIND_ADDRESS_NOT_LISTENED' });
      return;
    }
    if (listener === undefined) return;
    if (!this.startListening(listener)) {
      this.skipped.set(key, 'listen failed');
      return;
    }
    this.skipped.delete(key);
    this.listeners.set(key, listener);
    // The server's own handle may be a placeholder whose address is gone: take this one.
    if (this.primary !== undefined && !this.listeners.has(addressKey(this.primary.local))) this.promote(listener);
    this.describeServer();
  }

  private removed(local: LocalAddress): void {
    const key = addressKey(local);
    this.skipped.delete(key);
    const listener = this.listeners.get(key);
    if (this.closed || listener === undefined) return;
    this.listeners.delete(key);
    if (listener === this.primary) {
      const next = this.listeners.values().next();
      // With no other listener left, the server keeps this one (it hears nothing now) so that
      // it stays listening; the next address to come takes its place.
      if (next.done) return void this.describeServer();
      this.promote(next.value);
    } else {
      listener.handle.close();
    }
    this.describeServer();
  }

  /** Makes `l`'s handle the server's own (server._handle), closing the previous one. */
  private promote(l: Listener): void {
    const old = this.primary;
    this.primary = l;
    (this.server as unknown as { _handle: TcpHandle | null })._handle = l.handle;
    if (old !== undefined && old !== l && !this.listeners.has(addressKey(old.local))) old.handle.close();
  }

  /** Closes every listener but the server's own handle (net's close() closes that one). */
  closeAll(): void {
    if (this.closed) return;
    this.closed = true;
    this.follower?.close();
    this.follower = undefined;
    const own = (this.server as unknown as { _handle: TcpHandle | null })._handle;
    for (const l of this.listeners.values()) if (l.handle !== own) l.handle.close();
    if (this.primary !== undefined && this.primary.handle !== own && !this.listeners.has(addressKey(this.primary.local))) this.primary.handle.close();
    this.listeners.clear();
  }

  ref(): void {
    const own = (this.server as unknown as { _handle: TcpHandle | null })._handle;
    for (const l of this.listeners.values()) if (l.handle !== own) l.handle.ref();
  }

  unref(): void {
    const own = (this.server as unknown as { _handle: TcpHandle | null })._handle;
    for (const l of this.listeners.values()) if (l.handle !== own) l.handle.unref();
  }

  /** Node's address() for the wildcard this set stands for. */
  address(): net.AddressInfo {
    return this.spec.v6 ? { address: '::', family: 'IPv6', port: this.port } : { address: '0.0.0.0', family: 'IPv4', port: this.port };
  }

  /** What describe(server) says: the wildcard, answered per address. */
  describeServer(): void {
    const perAddress: PerAddressListener[] = [...this.listeners.values()].map((l) => ({
      address: l.local.address, interface: l.local.interface, ifindex: l.local.ifindex, pinned: l.pinned,
      ...(l.pinError !== undefined ? { pinError: l.pinError } : {}),
    }));
    const description: SocketDescription = { source: this.spec.v6 ? '::' : '0.0.0.0', pinned: null, answers: 'address-asked', perAddress };
    setDescription(this.server, description);
  }

  /** describe() of a connection accepted by `l`: the address it asked, and the listener's pin. */
  describeConnection(socket: net.Socket, l: Listener): void {
    // Read when asked: the addresses cost a getsockname and a getpeername, which every accept
    // would otherwise pay whether or not the program ever calls describe().
    setDescription(socket, acceptedDescription(socket, l));
  }

}

function boundPort(handle: TcpHandle): number {
  const out: { port?: number } = {};
  handle.getsockname(out);
  return out.port ?? 0;
}

// What each lazy description is of: kept beside it, so a spread or JSON of it shows the fields only.
const acceptedBy = new WeakMap<object, { socket: net.Socket; listener: Listener; fields?: SocketDescription }>();

function fieldsOf(lazy: object): SocketDescription {
  const entry = acceptedBy.get(lazy)!;
  if (entry.fields !== undefined) return entry.fields;
  const { socket, listener: l } = entry;
  const pinned = pinsTo(l.local);
  const d: SocketDescription = {
    source: socket.localAddress ?? l.local.address,
    pinned: pinned ? (l.pinned as SocketDescription['pinned']) : null,
  };
  if (socket.remoteAddress !== undefined) d.destination = socket.remoteAddress;
  if (pinned) {
    d.interface = l.local.interface;
    d.ifindex = l.local.ifindex;
  }
  if (l.pinError !== undefined) d.pinError = l.pinError;
  entry.fields = d;
  return d;
}

// Own, enumerable accessors (a spread or JSON.stringify of the description sees every field), one
// shared set of descriptors for every accepted connection.
const accessors = (keys: ReadonlyArray<keyof SocketDescription>): PropertyDescriptorMap => Object.fromEntries(keys.map((key) => [key, {
  enumerable: true,
  get(this: object) { return fieldsOf(this)[key]; },
}]));
const PINNED_FIELDS = accessors(['destination', 'source', 'interface', 'ifindex', 'pinned']);
const UNPINNED_FIELDS = accessors(['destination', 'source', 'pinned', 'pinError']);

/** describe() of an accepted connection, its addresses read from the socket when first asked. */
function acceptedDescription(socket: net.Socket, listener: Listener): SocketDescription {
  const lazy = {};
  acceptedBy.set(lazy, { socket, listener });
  return Object.defineProperties(lazy, pinsTo(listener.local) && listener.pinError === undefined ? PINNED_FIELDS : UNPINNED_FIELDS) as SocketDescription;
}
