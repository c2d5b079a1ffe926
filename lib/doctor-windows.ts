// doctor() on Windows. Since Vista each interface is a strong host unless WeakHostSend or
// WeakHostReceive is on (or it forwards): then a socket bound to an address of one interface may
// send through another, or a packet for one interface's address is accepted on another. Those
// settings (GetIpInterfaceEntry, per interface and family) are what this checks, each with the
// netsh command that turns it off. Under Wine they cannot be read (the call aborts the process
// there), and doctor says so instead of guessing.
import { windowsNative, type WindowsNative } from './binding';
import type { DoctorContext, DoctorFinding, DoctorPlatform } from './doctor-shared';
import { isSystemError } from './errors';

function netsh(family: 4 | 6, ifname: string, setting: string): string {
  return `netsh interface ipv${family} set interface "${ifname}" ${setting}=disabled`;
}

/**
 * `settings`: the addon's, unless a test gives others.
 * @internal
 */
export function windowsDoctor(ctx: DoctorContext, settings?: Pick<WindowsNative, 'underWine' | 'ipInterfaceSettings'>): DoctorPlatform {
  const { candidates } = ctx;
  return {
    servesEverySocket: () => true,

    multipleDefaults(family, leaking, byInterface, probes) {
      const leaksText = leaking.map((m) => `${m.address} (${m.iface.name}) leaves through ${m.lookups[0].interface}`).join('; ');
      return {
        detail: `There is a default route through each of ${[...byInterface.keys()].join(', ')}, and the route lookup from the addresses of ${[...new Set(leaking.map((m) => m.iface.name))].join(', ')} answers through another interface: ${leaksText}. A strong host (the Windows default) sends from an address only through the interface that owns it; this one does not, so those interfaces send weak-host (WeakHostSend on) and a socket bound to their address leaves with the wrong source. Routers that filter spoofed sources drop it, or the replies come back on the other uplink. Lookups for ${probes.join(', ')}; nothing was sent.`,
        fix: [...new Set(leaking.map((m) => m.iface.name))].map((ifname) => netsh(family, ifname, 'weakhostsend')),
      };
    },

    addressWithoutRoute(family, m, out) {
      return {
        detail: `No default route leaves through ${m.iface.name}, and the route lookup from ${m.address} answers through ${out}${m.lookups[0].gateway ? ` (via ${m.lookups[0].gateway})` : ''}: ${m.iface.name} sends weak-host, so a socket bound to ${m.address} sends to ${m.lookups.map((l) => l.destination).join(', ')} through ${out} with ${m.address} as its source. Routers that filter spoofed sources drop it; the replies, if any, arrive on ${m.iface.name}. Route lookups only; nothing was sent.`,
        fix: [
          `give ${m.address} a way out of ${m.iface.name}:`,
          family === 4
            ? `route -p add 0.0.0.0 mask 0.0.0.0 <gateway on ${m.iface.name}> if ${m.iface.ifindex}`
            : `netsh interface ipv6 add route ::/0 "${m.iface.name}" <gateway on ${m.iface.name}>`,
          `and keep it from sending through others: ${netsh(family, m.iface.name, 'weakhostsend')}`,
        ],
      };
    },

    checks() {
      const findings: DoctorFinding[] = [];
      const n = settings ?? windowsNative();
      const families = (i: (typeof candidates)[number]) => ([4, 6] as const).filter((f) => i.addresses.some((a) => a.family === f));
      const watched = candidates.filter((i) => i.addresses.length > 0);
      if (n.underWine) {
        if (watched.length > 0) {
          findings.push({
            id: 'interface-settings-unknown',
            severity: 'low',
            title: 'WeakHostSend, WeakHostReceive and forwarding cannot be read under Wine',
            detail: 'Wine does not implement GetIpInterfaceEntry, so whether these interfaces are strong hosts is unknown here; describe() reports their sockets as not pinned (pinError ENOSYS). On Windows itself this check reads them.',
            fix: 'run `routebind doctor` on Windows',
          });
        }
        return findings;
      }
      for (const iface of watched) {
        for (const family of families(iface)) {
          let s: ReturnType<typeof n.ipInterfaceSettings>;
          try {
            s = n.ipInterfaceSettings(iface.ifindex, family);
          } catch (error) {
            if (!isSystemError(error)) throw error;
            continue; // gone since the list was read, or that family is not bound to it
          }
          if (s.weakHostSend) {
            findings.push({
              id: 'weak-host-send',
              severity: ctx.multiHomed ? 'high' : 'medium',
              title: `IPv${family}: ${iface.name} sends weak-host (WeakHostSend on)`,
              detail: `With WeakHostSend on, Windows may send a packet whose source is ${iface.name}'s address through another interface, wherever the route table points. A socket bound to ${iface.name}'s address is then not held to ${iface.name}: routebind binds the source but describe() reports pinned: null (pinError 'WeakHostSend'), and strict: true refuses such a socket.`,
              fix: netsh(family, iface.name, 'weakhostsend'),
              family,
              interface: iface.name,
            });
          }
          if (s.weakHostReceive) {
            findings.push({
              id: 'weak-host-receive',
              severity: ctx.multiHomed ? 'medium' : 'low',
              title: `IPv${family}: ${iface.name} receives weak-host (WeakHostReceive on)`,
              detail: `With WeakHostReceive on, ${iface.name} accepts packets addressed to any of this host's addresses, not only its own: a server bound to another interface's address accepts a connection that arrived here and answers through its own interface, an asymmetric path that strict routers and firewalls drop.`,
              fix: netsh(family, iface.name, 'weakhostreceive'),
              family,
              interface: iface.name,
            });
          }
          if (s.forwarding) {
            findings.push({
              id: 'ip-forwarding',
              severity: 'medium',
              title: `IPv${family}: ${iface.name} forwards packets`,
              detail: `${iface.name} forwards packets not addressed to this host: an interface that forwards behaves as a weak host for them, and packets with this host's addresses as their source may leave through it whatever interface owns them. Unless this host is meant to route, turn it off.`,
              fix: netsh(family, iface.name, 'forwarding'),
              family,
              interface: iface.name,
            });
          }
        }
      }
      return findings;
    },
  };
}
