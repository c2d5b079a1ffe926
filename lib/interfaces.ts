// The host's links and addresses, like `ip -j addr`, from one RTM_GETLINK and one RTM_GETADDR dump.
import { native, type NativeAddress, type NativeLink } from './binding';
import { currentGeneration } from './coherence';
import { addressFlagNames, linkFlagNames, operstateName, scopeName, type Scope } from './names';

export interface InterfaceAddress {
  address: string;
  family: 4 | 6;
  prefixLength: number;
  /** `address/prefixLength`. */
  cidr: string;
  scope: Scope;
  /** The far end of a point-to-point link. */
  peer?: string;
  broadcast?: string;
  label?: string;
  flags: string[];
  /** Seconds; absent for permanent addresses. */
  validLifetime?: number;
  preferredLifetime?: number;
}

export interface NetworkInterface {
  name: string;
  index: number;
  /** 'up', 'running', 'loopback', 'multicast', 'broadcast', 'point-to-point', 'lower-up', … */
  flags: string[];
  operstate: string;
  mtu: number;
  /** Link-layer address as `aa:bb:cc:dd:ee:ff`; null where the link has none. */
  mac: string | null;
  /** Index of the master device (bridge, bond, VRF) when enslaved. */
  master?: number;
  /** IPv6 link-local addresses carry their zone: `fe80::1%eth0`. */
  addresses: InterfaceAddress[];
}

const FOREVER = 0xffffffff;

/** One link as routebind shows it (addresses added by the caller). */
export function toInterface(link: NativeLink): NetworkInterface {
  const entry: NetworkInterface = {
    name: link.name,
    index: link.index,
    flags: linkFlagNames(link.flags),
    operstate: operstateName(link.operstate),
    mtu: link.mtu,
    mac: link.mac !== undefined && link.mac.length > 0 ? [...link.mac].map((b) => b.toString(16).padStart(2, '0')).join(':') : null,
    addresses: [],
  };
  if (link.master !== undefined) entry.master = link.master;
  return entry;
}

/** One address of interface `owner`; undefined for an entry with no address of its own. */
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
  const byIndex = new Map<number, NetworkInterface>();
  const result = native.dumpLinks().map((link) => {
    const entry = toInterface(link);
    byIndex.set(link.index, entry);
    return entry;
  });
  for (const a of native.dumpAddresses(0)) {
    const owner = byIndex.get(a.index);
    if (owner === undefined) continue; // the link went away between the two dumps
    const entry = toInterfaceAddress(a, owner.name);
    if (entry !== undefined) owner.addresses.push(entry);
  }
  return result;
}

let cached: { generation: number; list: readonly NetworkInterface[] } | undefined;

/**
 * interfaces(), kept until the kernel announces a change: what the socket code consults on
 * every connect. Callers must not modify the result.
 */
export function currentInterfaces(): readonly NetworkInterface[] {
  const generation = currentGeneration();
  if (cached === undefined || cached.generation !== generation) cached = { generation, list: interfaces() };
  return cached.list;
}
