// The host's links and addresses, like `ip -j addr`, from one RTM_GETLINK and one RTM_GETADDR dump.
import { native } from './binding';
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

/** Every interface with its addresses, in kernel index order. */
export function interfaces(): NetworkInterface[] {
  const links = native.dumpLinks();
  const addresses = native.dumpAddresses(0);
  const byIndex = new Map<number, NetworkInterface>();
  const result: NetworkInterface[] = [];
  for (const link of links) {
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
    byIndex.set(link.index, entry);
    result.push(entry);
  }
  for (const a of addresses) {
    const owner = byIndex.get(a.index);
    if (owner === undefined) continue; // the link went away between the two dumps
    // IFA_LOCAL is this host's address; IFA_ADDRESS is the peer on point-to-point links.
    const own = a.local ?? a.address;
    if (own === undefined) continue;
    const scope = scopeName(a.scope);
    const zoned = a.version === 6 && scope === 'link' ? `${own}%${owner.name}` : own;
    const entry: InterfaceAddress = {
      address: zoned,
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
    owner.addresses.push(entry);
  }
  return result;
}
