// doctor() on Linux: policy routing fixes (`ip rule`, a table per uplink), reverse-path
// filtering (sysctl rp_filter), IPv6 prefixes without a route, and whether SO_BINDTODEVICE is
// permitted.
import { readFileSync } from 'node:fs';

import { posixNative } from './binding';
import { isSystemError } from './errors';
import { covers, fromBigInt, globalAddresses, hops, isDefault, MAIN, network, type DoctorContext, type DoctorFinding, type DoctorPlatform } from './doctor-shared';

/** `ip` or `ip -6`. */
function ip(family: 4 | 6): string {
  return family === 6 ? 'ip -6' : 'ip';
}

/** sysctl writes an interface's dots as slashes (`eth0.100` → `eth0/100`). */
function sysctlName(ifname: string): string {
  return ifname.replace(/\./g, '/');
}

function readSysctl(path: string): number | undefined {
  try {
    const value = Number(readFileSync(path, 'utf8').trim());
    return Number.isInteger(value) ? value : undefined;
  } catch {
    return undefined; // not Linux, /proc not mounted, or the interface went away
  }
}

/** @internal */
export function linuxDoctor(ctx: DoctorContext): DoctorPlatform {
  const { list, table, candidates, defaults, withGlobal } = ctx;
  // Policy tables the fixes propose: one per interface, numbers no table uses yet.
  const usedTables = new Set(table.map((e) => e.table));
  const tableFor = new Map<string, number>();
  const policyTable = (ifname: string): number => {
    let n = tableFor.get(ifname);
    if (n === undefined) {
      n = 100;
      while (usedTables.has(n)) n++;
      usedTables.add(n);
      tableFor.set(ifname, n);
    }
    return n;
  };
  // A gateway for `ifname` known from any table's default route through it.
  const knownGateway = (family: 4 | 6, ifname: string): string | undefined =>
    table.filter((e) => e.family === family && isDefault(e)).flatMap(hops).find((h) => h.interface === ifname && h.gateway)?.gateway;

  return {
    servesEverySocket: (e) => e.table === MAIN,

    multipleDefaults(family, withDefault, byInterface, probes) {
      const fix: string[] = [];
      for (const ifname of [...new Set(withDefault.map((m) => m.iface.name))]) {
        const n = policyTable(ifname);
        for (const m of withDefault.filter((x) => x.iface.name === ifname)) fix.push(`${ip(family)} rule add from ${m.address} table ${n}`);
        const gw = byInterface.get(ifname)!.gateway;
        fix.push(`${ip(family)} route add default ${gw ? `via ${gw} ` : ''}dev ${ifname} table ${n}`);
      }
      const leaksText = withDefault.map((m) => `${m.address} (${m.iface.name}) leaves through ${m.lookups[0].interface}`).join('; ');
      return {
        detail: `The main table has a default route through each of ${[...byInterface.keys()].join(', ')} and no policy rule sends the other uplinks' addresses back out of their own interface, so a socket bound to one of them (a client with localAddress, a server replying from the address it was reached on) sends through the best route with the wrong source: ${leaksText}. Routers that filter spoofed sources (BCP 38, rp_filter) drop it, or the replies come back on the other uplink. Lookups for ${probes.join(', ')}; nothing was sent.`,
        fix,
      };
    },

    addressWithoutRoute(family, m, out) {
      const n = policyTable(m.iface.name);
      const gw = knownGateway(family, m.iface.name);
      return {
        detail: `No default route of the main table leaves through ${m.iface.name}, so a socket bound to ${m.address} sends to ${m.lookups.map((l) => l.destination).join(', ')} through ${out}${m.lookups[0].gateway ? ` (via ${m.lookups[0].gateway})` : ''} with ${m.address} as its source. Routers that filter spoofed sources drop it; the replies, if any, arrive on ${m.iface.name}. Route lookups only; nothing was sent.`,
        fix: [
          `give ${m.address} a way out of ${m.iface.name}:`,
          `${ip(family)} route add default via ${gw ?? `<gateway on ${m.iface.name}>`} dev ${m.iface.name} table ${n}`,
          `${ip(family)} rule add from ${m.address} table ${n}`,
        ],
      };
    },

    checks() {
      const findings: DoctorFinding[] = [];

      // Strict reverse-path filtering where replies may come back on another uplink.
      if (ctx.multiHomed) {
        const all = readSysctl('/proc/sys/net/ipv4/conf/all/rp_filter');
        for (const iface of candidates.filter((i) => globalAddresses(i, 4).length > 0 || defaults.get(4)!.has(i.name))) {
          if (iface.name.includes('/') || iface.name === '.' || iface.name === '..') continue;
          const own = readSysctl(`/proc/sys/net/ipv4/conf/${iface.name}/rp_filter`);
          if (own === undefined || all === undefined) continue;
          const effective = Math.max(all, own); // the kernel applies the larger of `all` and the interface's
          if (effective !== 1) continue;
          const others = withGlobal.filter((i) => i !== iface).map((i) => i.name);
          findings.push({
            id: 'strict-rp-filter',
            severity: 'high',
            title: `IPv4: strict reverse-path filtering on ${iface.name} (rp_filter ${effective}) on a host with ${Math.max(withGlobal.length, defaults.get(4)!.size)} uplinks`,
            detail: `net.ipv4.conf.all.rp_filter is ${all} and net.ipv4.conf.${sysctlName(iface.name)}.rp_filter is ${own}; the kernel applies the larger, 1 (strict): a packet arriving on ${iface.name} is dropped unless the route back to its sender leaves through ${iface.name}. On a multi-homed host replies to connections made from ${others.length > 0 ? `another uplink (${others.join(', ')})` : 'another uplink'} can arrive on ${iface.name} and are dropped silently.`,
            fix: [
              `sysctl -w net.ipv4.conf.${sysctlName(iface.name)}.rp_filter=2`,
              `(loose mode: the sender must be routable through any interface; persist it in /etc/sysctl.d/)`,
            ].join('\n'),
            family: 4,
            interface: iface.name,
          });
        }
      }

      // IPv6 addresses whose prefix has no route (added with noprefixroute, or the route was deleted).
      for (const iface of candidates) {
        for (const a of globalAddresses(iface, 6)) {
          if (a.prefixLength >= 128) continue;
          const address = a.address;
          const routed = table.some((e) => e.family === 6 && e.prefixLength > 0 && e.type === 'unicast' && e.interface === iface.name && covers(e, address, 6, a.prefixLength));
          if (routed) continue;
          const prefix = `${fromBigInt(network(address, 6, a.prefixLength), 6)}/${a.prefixLength}`;
          findings.push({
            id: 'ipv6-prefix-without-route',
            severity: 'medium',
            title: `IPv6: ${a.cidr} on ${iface.name} has no route for its prefix ${prefix}`,
            detail: `${a.cidr} is on ${iface.name}${a.flags.includes('noprefixroute') ? ' (added with noprefixroute)' : ''}, but no route for ${prefix} leaves through ${iface.name}: neighbours in ${prefix} are not reached on-link, but through whatever route covers them (a default route, possibly of another uplink), with ${address} as the source.`,
            fix: [`${ip(6)} route add ${prefix} dev ${iface.name}`, `(or re-add the address without noprefixroute: ip -6 addr replace ${a.cidr} dev ${iface.name})`].join('\n'),
            family: 6,
            interface: iface.name,
            addresses: [address],
          });
        }
      }

      // Whether this process may pin a socket at all (SO_BINDTODEVICE on a socket's first binding).
      const loopback = list.find((i) => i.flags.includes('loopback')) ?? { index: 1, name: 'lo' };
      try {
        const made = posixNative().createSocket({ version: 4, type: 'tcp', ifindex: loopback.index, ifname: loopback.name, strict: true, unbound: true });
        posixNative().closeSocket(made.fd);
      } catch (error) {
        if (!isSystemError(error) || (error.code !== 'EPERM' && error.code !== 'EACCES')) throw error;
        findings.push({
          id: 'pinning-not-permitted',
          severity: 'medium',
          title: `sockets cannot be pinned to an interface here (${posixNative().pinMechanism}: ${error.code})`,
          detail: `Pinning a socket to ${loopback.name} failed with ${error.code}. routebind then binds the source but cannot pin: describe(socket).pinError is '${error.code}', and with strict: true the socket fails instead. An unpinned socket still follows the route table, so a route change can send it through another interface.`,
          fix: [
            'use Linux ≥ 5.7, where a socket may pin its first binding without privileges,',
            'or give the process CAP_NET_RAW (systemd: AmbientCapabilities=CAP_NET_RAW; or setcap cap_net_raw+ep on the node binary)',
          ].join('\n'),
        });
      }

      return findings;
    },
  };
}
