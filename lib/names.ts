// The kernel's numbers as the names iproute2 prints (rtnetlink(7), iproute2's rt_names).
export type RouteType =
  | 'unspec' | 'unicast' | 'local' | 'broadcast' | 'anycast' | 'multicast' | 'blackhole'
  | 'unreachable' | 'prohibit' | 'throw' | 'nat' | 'xresolve';

const ROUTE_TYPES: RouteType[] = [
  'unspec', 'unicast', 'local', 'broadcast', 'anycast', 'multicast', 'blackhole',
  'unreachable', 'prohibit', 'throw', 'nat', 'xresolve',
];

export function routeTypeName(type: number): RouteType {
  return ROUTE_TYPES[type] ?? 'unspec';
}

const PROTOCOLS: Record<number, string> = {
  0: 'unspec', 1: 'redirect', 2: 'kernel', 3: 'boot', 4: 'static', 8: 'gated', 9: 'ra', 10: 'mrt',
  11: 'zebra', 12: 'bird', 13: 'dnrouted', 14: 'xorp', 15: 'ntk', 16: 'dhcp', 17: 'mrouted',
  18: 'keepalived', 42: 'babel', 99: 'openr', 186: 'bgp', 187: 'isis', 188: 'ospf', 189: 'rip', 192: 'eigrp',
};

export function protocolName(protocol: number): string {
  return PROTOCOLS[protocol] ?? String(protocol);
}

export type Scope = 'global' | 'site' | 'link' | 'host' | 'nowhere' | number;

export function scopeName(scope: number): Scope {
  switch (scope) {
    case 0: return 'global';
    case 200: return 'site';
    case 253: return 'link';
    case 254: return 'host';
    case 255: return 'nowhere';
    default: return scope;
  }
}

export const TABLES: Record<string, number> = { default: 253, main: 254, local: 255 };

// RTNH_F_* bits of rtm_flags, as `ip route` prints them.
const NEXTHOP_FLAGS: [number, string][] = [
  [1, 'dead'], [2, 'pervasive'], [4, 'onlink'], [8, 'offload'], [16, 'linkdown'], [32, 'unresolved'], [64, 'trap'],
];

export function routeFlagNames(flags: number): string[] {
  return NEXTHOP_FLAGS.filter(([bit]) => (flags & bit) !== 0).map(([, name]) => name);
}

// IFF_* link flags.
const LINK_FLAGS: [number, string][] = [
  [0x1, 'up'], [0x2, 'broadcast'], [0x4, 'debug'], [0x8, 'loopback'], [0x10, 'point-to-point'],
  [0x20, 'notrailers'], [0x40, 'running'], [0x80, 'noarp'], [0x100, 'promisc'], [0x200, 'allmulti'],
  [0x400, 'master'], [0x800, 'slave'], [0x1000, 'multicast'], [0x2000, 'portsel'], [0x4000, 'automedia'],
  [0x8000, 'dynamic'], [0x10000, 'lower-up'], [0x20000, 'dormant'], [0x40000, 'echo'],
];

export function linkFlagNames(flags: number): string[] {
  return LINK_FLAGS.filter(([bit]) => (flags & bit) !== 0).map(([, name]) => name);
}

const OPERSTATES = ['unknown', 'notpresent', 'down', 'lowerlayerdown', 'testing', 'dormant', 'up'];

export function operstateName(state: number): string {
  return OPERSTATES[state] ?? 'unknown';
}

// IFA_F_* address flags.
const ADDRESS_FLAGS: [number, string][] = [
  [0x01, 'secondary'], [0x02, 'nodad'], [0x04, 'optimistic'], [0x08, 'dadfailed'], [0x10, 'homeaddress'],
  [0x20, 'deprecated'], [0x40, 'tentative'], [0x80, 'permanent'], [0x100, 'managetempaddr'],
  [0x200, 'noprefixroute'], [0x400, 'mcautojoin'], [0x800, 'stable-privacy'],
];

export function addressFlagNames(flags: number): string[] {
  return ADDRESS_FLAGS.filter(([bit]) => (flags & bit) !== 0).map(([, name]) => name);
}
