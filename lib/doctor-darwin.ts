// doctor() on macOS. Its routing table keeps one unscoped default route, which serves every
// socket, and scopes the others to their interface (RTF_IFSCOPE): only a socket bound to that
// interface (IP_BOUND_IF, what routebind pins with) uses them. And IP_BOUND_IF constrains what a
// socket sends, not what it receives.
import type { DoctorContext, DoctorFinding, DoctorPlatform } from './doctor-shared';

/** `route` takes `-inet6` for IPv6. */
function route(family: 4 | 6): string {
  return family === 6 ? 'route -n add -inet6' : 'route -n add';
}

/** @internal */
export function darwinDoctor(ctx: DoctorContext): DoctorPlatform {
  const { withGlobal, defaults } = ctx;
  return {
    // One table: what the dump lists, scoped routes included, serves some socket.
    servesEverySocket: () => true,

    multipleDefaults(family, leaking, byInterface, probes) {
      const fix: string[] = [];
      for (const ifname of [...new Set(leaking.map((m) => m.iface.name))]) {
        const gw = byInterface.get(ifname)!.gateway;
        fix.push(`sudo ${route(family)} -ifscope ${ifname} default ${gw ?? `<gateway on ${ifname}>`}   (a default route scoped to ${ifname}, if it has none)`);
      }
      fix.push('then send from those addresses only through sockets bound to their interface (IP_BOUND_IF): macOS uses a scoped route for those sockets alone');
      const leaksText = leaking.map((m) => `${m.address} (${m.iface.name}) leaves through ${m.lookups[0].interface}`).join('; ');
      return {
        detail: `There is a default route through each of ${[...byInterface.keys()].join(', ')}. macOS uses one of them, unscoped, for every socket that is not bound to an interface, and keeps the others scoped to their interface (RTF_IFSCOPE) for sockets bound there with IP_BOUND_IF. So a socket that only binds the address of another uplink (a client with localAddress, a server replying from the address it was reached on) sends through the unscoped route with the wrong source: ${leaksText}. Routers that filter spoofed sources drop it, or the replies come back on the other uplink. Lookups for ${probes.join(', ')}; nothing was sent.`,
        fix,
      };
    },

    addressWithoutRoute(family, m, out) {
      return {
        detail: `No default route leaves through ${m.iface.name}, not even one scoped to it, so a socket bound to ${m.address} sends to ${m.lookups.map((l) => l.destination).join(', ')} through ${out}${m.lookups[0].gateway ? ` (via ${m.lookups[0].gateway})` : ''} with ${m.address} as its source. Routers that filter spoofed sources drop it; the replies, if any, arrive on ${m.iface.name}. Route lookups only; nothing was sent.`,
        fix: [
          `give ${m.address} a way out of ${m.iface.name}, scoped to it:`,
          `sudo ${route(family)} -ifscope ${m.iface.name} default <gateway on ${m.iface.name}>`,
        ],
      };
    },

    checks() {
      const findings: DoctorFinding[] = [];
      // IP_BOUND_IF holds what a socket sends to its interface; what it accepts is the host's
      // choice: macOS delivers a packet for any of its addresses whatever interface it came in on
      // (net.inet.ip.check_interface=0, the default). Only worth saying on a multi-homed Mac.
      if (ctx.multiHomed) {
        const uplinks = [...new Set([...withGlobal.map((i) => i.name), ...defaults.get(4)!.keys(), ...defaults.get(6)!.keys()])];
        findings.push({
          id: 'bound-if-receive',
          severity: 'low',
          title: `IP_BOUND_IF pins what a socket sends, not what it receives (${uplinks.length} uplinks: ${uplinks.join(', ')})`,
          detail: `routebind pins sockets with IP_BOUND_IF, which makes them send through their interface only. It does not stop a pinned listener from accepting a packet for its address that arrives on another interface: macOS delivers packets for any of its addresses whatever interface they came in on, and the pinned socket then answers through its own interface (an asymmetric path that strict routers or firewalls may drop).`,
          fix: [
            'sudo sysctl -w net.inet.ip.check_interface=1   (IPv4: accept packets only on the interface that owns their destination address; persist it in /etc/sysctl.conf)',
            'or filter by interface with pf: block in on <other uplink> to <address of this uplink>',
          ].join('\n'),
        });
      }
      return findings;
    },
  };
}
