// The host's links and addresses, like `ip -j addr`, from one RTM_GETLINK and one RTM_GETADDR dump
// (on macOS getifaddrs, on Windows GetAdaptersAddresses: the addon maps them onto the same shapes).
import { native, type NativeAddress, type NativeLink } from './binding';
import { currentGeneration } from './coherence';
import { requireBackend } from './platform';
import { addressFlagNames, linkFlagNames, operstateName, scopeName, type Scope } from './names';

/** One address of an interface, as `ip -j addr` lists it. */
export interface InterfaceAddress {
  /** The address (IPv6 link-local ones carry their zone, `fe80::1%eth0`). */
  address: string;
  /** IP version: 4 or 6. */
  family: 4 | 6;
  /** Length of the on-link prefix in bits. */
  prefixLength: number;
  /** `address/prefixLength`. */
  cidr: string;
  /** The address's scope: 'global', 'link', 'host', 'site', or the number. */
  scope: Scope;
  /** The far end of a point-to-point link. */
  peer?: string;
  /** The IPv4 broadcast address (`brd`). */
  broadcast?: string;
  /** The IPv4 label (`eth0:1`), as `ip addr` shows it. */
  label?: string;
  /** Address flags as `ip addr` prints them: 'permanent', 'secondary', 'tentative', 'deprecated', 'noprefixroute', … */
  flags: string[];
  /** Seconds; absent for permanent addresses. */
  validLifetime?: number;
  /** Seconds the address remains preferred as a source; absent for permanent addresses. */
  preferredLifetime?: number;
}

/** One network interface (link) with its addresses, as `ip -j addr` lists it. */
export interface NetworkInterface {
  /** The interface name (`eth0`). */
  name: string;
  /** The interface index, named as in Route, RouteEntry, describe() and change events. */
  ifindex: number;
  /**
   * The same as `ifindex` (not enumerable: JSON and spreads show `ifindex` only).
   * @deprecated Use `ifindex`.
   */
  readonly index: number;
  /** 'up', 'running', 'loopback', 'multicast', 'broadcast', 'point-to-point', 'lower-up', … */
  flags: string[];
  /** RFC 2863 operational state, lowercase: 'up', 'down', 'lowerlayerdown', 'dormant', 'unknown', … */
  operstate: string;
  /** The link MTU in bytes. */
  mtu: number;
  /** Link-layer address as `aa:bb:cc:dd:ee:ff`; null where the link has none. */
  mac: string | null;
  /** Index of the master device (bridge, bond, VRF) when enslaved. */
  master?: number;
  /** Alternative names (`ip link property add dev X altname Y`): accepted wherever a name is. */
  altnames?: string[];
  /** Windows: the interface's LUID (NET_LUID, 64 bits, in decimal), which outlives a reused index. */
  luid?: string;
  /** IPv6 link-local addresses carry their zone: `fe80::1%eth0`. */
  addresses: InterfaceAddress[];
}

const FOREVER = 0xffffffff;

function deprecatedIndex(this: NetworkInterface): number {
  return this.ifindex;
}

/**
 * One link as routebind shows it (addresses added by the caller).
 * @internal
 */
export function toInterface(link: NativeLink): NetworkInterface {
  const entry = {
    name: link.name,
    ifindex: link.index,
    flags: linkFlagNames(link.flags),
    operstate: operstateName(link.operstate),
    mtu: link.mtu,
    mac: link.mac !== undefined && link.mac.length > 0 ? [...link.mac].map((b) => b.toString(16).padStart(2, '0')).join(':') : null,
    addresses: [],
  } as Omit<NetworkInterface, 'index'> as NetworkInterface;
  Object.defineProperty(entry, 'index', { get: deprecatedIndex, enumerable: false });
  if (link.master !== undefined) entry.master = link.master;
  if (link.altnames !== undefined) entry.altnames = link.altnames;
  if (link.luid !== undefined) entry.luid = link.luid;
  return entry;
}

/**
 * One address of interface `owner`; undefined for an entry with no address of its own.
 * @internal
 */
export function toInterfaceAddress(a: NativeAddress, owner: string): InterfaceAddress | undefined {
  // IFA_LOCAL is this host's address; IFA_ADDRESS is the peer on point-to-point links.
  const own = a.local ?? a.address;
  if (own === undefined) return undefined;
  const scope = scopeName(a.scope);
  const entry: InterfaceAddress = {
    address: a.version === 6 && scope === 'link' ? `${own}%${owner}` : own,
    family: a.version,
    prefixLength: a.prefixLength,
    cidr: `${own}/${a.prefixLength}`,
    scope,
    flags: addressFlagNames(a.flags),
  };
  if (a.local !== undefined && a.address !== undefined && a.address !== a.local) entry.peer = a.address;
  if (a.broadcast !== undefined) entry.broadcast = a.broadcast;
  if (a.label !== undefined) entry.label = a.label;
  if (a.validLifetime !== undefined && a.validLifetime !== FOREVER) entry.validLifetime = a.validLifetime;
  if (a.preferredLifetime !== undefined && a.preferredLifetime !== FOREVER) entry.preferredLifetime = a.preferredLifetime;
  return entry;
}

/** Every interface with its addresses, in kernel index order: a fresh dump each call. */
export function interfaces(): NetworkInterface[] {
  requireBackend();
  const byIndex = new Map<number, NetworkInterface>();
  const result = native().dumpLinks().map((link) => {
    const entry = toInterface(link);
    byIndex.set(link.index, entry);
    return entry;
  });
  for (const a of native().dumpAddresses(0)) {
    const owner = byIndex.get(a.index);
    if (owner === undefined) continue; // the link went away between the two dumps
    const entry = toInterfaceAddress(a, owner.name);
    if (entry !== undefined) owner.addresses.push(entry);
  }
  return result;
}

/**
 * The host's interfaces indexed for the socket code, built once per cache generation (see
 * coherence.ts): each question a connect() asks is then one map lookup, however many links and
 * addresses the host has.
 */
interface InterfaceIndex {
  generation: number;
  list: readonly NetworkInterface[];
  byIndex: Map<number, NetworkInterface>;
  /** Names, and the alternative names asked for so far this generation. */
  byName: Map<string, NetworkInterface | null>;
  /** Address (canonical, without its zone) → the interfaces that have it. */
  byAddress: Map<string, NetworkInterface[]>;
}

let current: InterfaceIndex | undefined;

function currentIndex(): InterfaceIndex {
  const generation = currentGeneration();
  if (current !== undefined && current.generation === generation) return current;
  const list = interfaces();
  const byIndex = new Map<number, NetworkInterface>();
  const byName = new Map<string, NetworkInterface | null>();
  const byAddress = new Map<string, NetworkInterface[]>();
  for (const i of list) {
    byIndex.set(i.ifindex, i);
    byName.set(i.name, i);
    for (const altname of i.altnames ?? []) byName.set(altname, i);
    for (const a of i.addresses) {
      // The kernel's text is inet_ntop's, the same canonical form parseIpLiteral() gives.
      const percent = a.address.indexOf('%');
      const key = percent === -1 ? a.address : a.address.slice(0, percent);
      const owners = byAddress.get(key);
      if (owners === undefined) byAddress.set(key, [i]);
      else if (!owners.includes(i)) owners.push(i);
    }
  }
  current = { generation, list, byIndex, byName, byAddress };
  return current;
}

/**
 * interfaces(), kept until the kernel announces a change: what the socket code consults on
 * every connect. Callers must not modify the result.
 */
export function currentInterfaces(): readonly NetworkInterface[] {
  return currentIndex().list;
}

/**
 * The interface with this index, name or alternative name (`ip link property add … altname`,
 * which the kernel accepts wherever a name is taken); undefined when there is none.
 */
export function interfaceNamed(nameOrIndex: string | number): NetworkInterface | undefined {
  const index = currentIndex();
  if (typeof nameOrIndex === 'number') return index.byIndex.get(nameOrIndex);
  const known = index.byName.get(nameOrIndex);
  if (known !== undefined) return known ?? undefined;
  // Not a name: ask the kernel once this generation whether it is an alternative name.
  let found: NetworkInterface | undefined;
  try {
    found = index.byIndex.get(native().linkIndex(nameOrIndex));
  } catch {
    found = undefined; // ENODEV: no such link
  }
  index.byName.set(nameOrIndex, found ?? null);
  return found;
}

/** The interfaces that have `address` (canonical, as parseIpLiteral() gives it, without a zone). */
export function ownersOf(address: string): readonly NetworkInterface[] {
  return currentIndex().byAddress.get(address) ?? NO_OWNERS;
}

const NO_OWNERS: readonly NetworkInterface[] = Object.freeze([]);
