// What on this host makes a socket's source and egress interface disagree, found by reading the
// tables and asking the route lookup (nothing is sent), each finding with its fix. The checks
// every OS shares are here; each OS's own checks and the wording of its fixes are in
// doctor-linux.ts, doctor-darwin.ts and doctor-windows.ts.
import { linuxDoctor } from './doctor-linux';
import { darwinDoctor } from './doctor-darwin';
import { windowsDoctor } from './doctor-windows';
import {
  bits, covers, globalAddresses, hops, isDefault, REPRESENTATIVE,
  type DoctorContext, type DoctorFinding, type DoctorLookup, type DoctorPlatform, type DoctorReport, type DoctorUplink, type Mismatch,
} from './doctor-shared';
import { invalidArgType, invalidArgValue, isSystemError } from './errors';
import { interfaces } from './interfaces';
import { HOST, requireBackend, type Backend } from './platform';
import { routes, routeTo } from './route';
import { parseIpLiteral, type IpLiteral } from './validate';

export type { DoctorFinding, DoctorFindingId, DoctorLookup, DoctorReport, DoctorUplink } from './doctor-shared';

const PLATFORMS: Record<Backend, (ctx: DoctorContext) => DoctorPlatform> = {
  linux: linuxDoctor,
  darwin: darwinDoctor,
  win32: windowsDoctor,
};

function parseDestinations(destinations: unknown): IpLiteral[] {
  if (destinations === undefined) return [];
  if (!Array.isArray(destinations)) throw invalidArgType('destinations', 'an array of IP address strings', destinations);
  if (destinations.length > 1024) throw invalidArgValue('destinations', destinations.length, 'must hold at most 1024 addresses');
  return destinations.map((d, i) => parseIpLiteral(`destinations[${i}]`, d));
}

function literalText(d: IpLiteral): string {
  return d.zone !== undefined ? `${d.address}%${d.zone}` : d.address;
}

/**
 * Examines this host's interfaces, routes and settings for what breaks strong end-system
 * behaviour on a multi-homed host: several default routes and addresses with no route of their
 * own (every OS); on Linux strict reverse-path filtering, IPv6 prefixes without a route, and
 * whether sockets may be pinned; on macOS that IP_BOUND_IF constrains sending, not receiving; on
 * Windows interfaces with WeakHostSend, WeakHostReceive or forwarding on.
 * `destinations` (IP literals) are the destinations the route lookups are made for; without them
 * a representative off-link address of each family is used. Synchronous: a few dumps and lookups.
 */
export function doctor(destinations?: string[]): DoctorReport {
  requireBackend();
  const wanted = parseDestinations(destinations);
  const list = interfaces();
  const table = routes();
  const candidates = list.filter((i) => !i.flags.includes('loopback'));
  const defaults: DoctorContext['defaults'] = new Map([[4, new Map()], [6, new Map()]]);
  const withGlobal = candidates.filter((i) => globalAddresses(i).length > 0);
  const ctx: DoctorContext = { list, table, candidates, defaults, withGlobal, multiHomed: false };
  const os = PLATFORMS[HOST as Backend](ctx);
  const findings: DoctorFinding[] = [];

  // Default routes every socket may use, per family and interface.
  for (const e of table.filter((r) => isDefault(r) && os.servesEverySocket(r))) {
    for (const hop of hops(e)) {
      const byInterface = defaults.get(e.family)!;
      if (!byInterface.has(hop.interface)) byInterface.set(hop.interface, { ...(hop.gateway ? { gateway: hop.gateway } : {}), ...(e.metric !== undefined ? { metric: e.metric } : {}) });
    }
  }
  ctx.multiHomed = withGlobal.length >= 2 || defaults.get(4)!.size >= 2 || defaults.get(6)!.size >= 2;

  const uplinks: DoctorUplink[] = candidates
    .filter((i) => globalAddresses(i).length > 0 || defaults.get(4)!.has(i.name) || defaults.get(6)!.has(i.name))
    .map((i) => ({
      interface: i.name,
      addresses: globalAddresses(i).map((a) => a.address),
      defaultRoutes: ([4, 6] as const).flatMap((family) => {
        const d = defaults.get(family)!.get(i.name);
        return d ? [{ family, ...d }] : [];
      }),
    }));

  const probeDestinations: string[] = [];
  for (const family of [4, 6] as const) {
    const byInterface = defaults.get(family)!;
    let probes = wanted.filter((d) => d.family === family).map(literalText);
    if (probes.length === 0 && byInterface.size > 0) {
      const uncovered = REPRESENTATIVE[family].find((d) => !table.some((e) => e.prefixLength > 0 && e.table !== 255 && covers(e, d, family, Number(bits(family)))));
      probes = [uncovered ?? REPRESENTATIVE[family][0]];
    }
    if (probes.length === 0) continue;
    probeDestinations.push(...probes);

    // Where each global address's packets leave, for each probe destination.
    const mismatched: Mismatch[] = [];
    for (const iface of candidates) {
      for (const a of globalAddresses(iface, family)) {
        const lookups: DoctorLookup[] = [];
        for (const destination of probes) {
          try {
            const r = routeTo(destination, { from: a.address });
            lookups.push({ destination, from: a.address, ...(r.interface ? { interface: r.interface } : {}), ...(r.gateway ? { gateway: r.gateway } : {}) });
          } catch (error) {
            // No route at all from this address: sockets bound to it fail, which is not a leak.
            if (!isSystemError(error)) throw error;
          }
        }
        const leaks = lookups.filter((l) => l.interface !== undefined && l.interface !== iface.name);
        if (leaks.length > 0) mismatched.push({ iface, address: a.address, lookups: leaks });
      }
    }

    // Several default routes: addresses of the worse uplinks leave through the best one.
    const withDefault = mismatched.filter((m) => byInterface.has(m.iface.name));
    if (byInterface.size >= 2 && withDefault.length > 0) {
      const advice = os.multipleDefaults(family, withDefault, byInterface, probes);
      const first = withDefault[0];
      advice.fix.push(`or open the sockets with routebind: connect({ host, port, localAddress: '${first.address}' }) or { interface: '${first.iface.name}' } binds the source and pins the socket to its interface`);
      findings.push({
        id: 'multiple-default-routes',
        severity: 'high',
        title: `IPv${family}: ${byInterface.size} default routes (${[...byInterface.keys()].join(', ')}), and a socket bound to ${first.address} sends through ${first.lookups[0].interface}`,
        detail: advice.detail,
        fix: advice.fix.join('\n'),
        family,
        interface: first.iface.name,
        addresses: withDefault.map((m) => m.address),
        lookups: withDefault.flatMap((m) => m.lookups),
      });
    }

    // Addresses on interfaces with no default route of their own.
    for (const m of mismatched.filter((x) => !byInterface.has(x.iface.name))) {
      const out = m.lookups[0].interface!;
      const advice = os.addressWithoutRoute(family, m, out);
      advice.fix.push(`or do not send from ${m.address} off-link: routebind refuses such a socket (connect({ localAddress: '${m.address}' }) fails with ENETUNREACH) instead of sending it through ${out}, and { interface: '${out}' } picks a source that belongs there`);
      findings.push({
        id: 'address-without-route',
        severity: 'medium',
        title: `IPv${family}: ${m.address} is on ${m.iface.name}, but its packets to off-link destinations leave through ${out}`,
        detail: advice.detail,
        fix: advice.fix.join('\n'),
        family,
        interface: m.iface.name,
        addresses: [m.address],
        lookups: m.lookups,
      });
    }
  }

  findings.push(...os.checks());
  return { ok: findings.length === 0, findings, uplinks, destinations: probeDestinations };
}
