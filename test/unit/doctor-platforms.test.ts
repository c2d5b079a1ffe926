// doctor()'s macOS and Windows parts, fed a made-up multi-homed host: the findings and fixes they
// give (the Linux part runs for real in test/netns/cli.test.ts). The Windows settings are what
// GetIpInterfaceEntry would answer; Wine's case is the one where it is never asked.
import { describe, expect, it } from 'vitest';

import { darwinDoctor } from '../../lib/doctor-darwin';
import type { DoctorContext, Mismatch } from '../../lib/doctor-shared';
import { windowsDoctor } from '../../lib/doctor-windows';
import type { NetworkInterface } from '../../lib/interfaces';

function iface(name: string, ifindex: number, addresses: Array<[string, 4 | 6]>): NetworkInterface {
  return {
    name, ifindex, index: ifindex, flags: ['up', 'running'], operstate: 'up', mtu: 1500, mac: null,
    addresses: addresses.map(([address, family]) => ({ address, family, prefixLength: family === 4 ? 24 : 64, cidr: `${address}/${family === 4 ? 24 : 64}`, scope: 'global', flags: [] })),
  };
}

const ethernet = iface('Ethernet', 4, [['10.1.0.2', 4], ['fd01::2', 6]]);
const wifi = iface('Wi-Fi 2', 7, [['10.2.0.2', 4]]);

function context(): DoctorContext {
  return {
    list: [ethernet, wifi], table: [], candidates: [ethernet, wifi], withGlobal: [ethernet, wifi], multiHomed: true,
    defaults: new Map([[4, new Map([['Ethernet', { gateway: '10.1.0.1' }], ['Wi-Fi 2', { gateway: '10.2.0.1' }]])], [6, new Map()]]),
  };
}

const leak: Mismatch = { iface: wifi, address: '10.2.0.2', lookups: [{ destination: '192.0.2.1', from: '10.2.0.2', interface: 'Ethernet', gateway: '10.1.0.1' }] };

describe('Windows', () => {
  const settings = (answers: Record<string, { weakHostSend?: boolean; weakHostReceive?: boolean; forwarding?: boolean }>) => {
    const asked: string[] = [];
    return {
      asked,
      underWine: false,
      ipInterfaceSettings(index: number, version: 4 | 6) {
        asked.push(`${index}/${version}`);
        const a = answers[`${index}/${version}`] ?? {};
        return { weakHostSend: a.weakHostSend ?? false, weakHostReceive: a.weakHostReceive ?? false, forwarding: a.forwarding ?? false, metric: 25 };
      },
    };
  };

  it('finds nothing on strong-host interfaces, having asked each interface for each family it has', () => {
    const s = settings({});
    expect(windowsDoctor(context(), s).checks()).toEqual([]);
    expect(s.asked).toEqual(['4/4', '4/6', '7/4']);
  });

  it('reports WeakHostSend, WeakHostReceive and forwarding, each with the netsh command that turns it off', () => {
    const findings = windowsDoctor(context(), settings({ '7/4': { weakHostSend: true, weakHostReceive: true }, '4/6': { forwarding: true } })).checks();
    expect(findings.map((f) => [f.id, f.severity, f.family, f.interface, f.fix])).toEqual([
      ['ip-forwarding', 'medium', 6, 'Ethernet', 'netsh interface ipv6 set interface "Ethernet" forwarding=disabled'],
      ['weak-host-send', 'high', 4, 'Wi-Fi 2', 'netsh interface ipv4 set interface "Wi-Fi 2" weakhostsend=disabled'],
      ['weak-host-receive', 'medium', 4, 'Wi-Fi 2', 'netsh interface ipv4 set interface "Wi-Fi 2" weakhostreceive=disabled'],
    ]);
    expect(findings[1].detail).toContain("describe() reports pinned: null (pinError 'WeakHostSend')");
  });

  it('under Wine never asks GetIpInterfaceEntry (it aborts the process there) and says the settings are unknown', () => {
    const s = { ...settings({}), underWine: true };
    const findings = windowsDoctor(context(), s).checks();
    expect(s.asked).toEqual([]);
    expect(findings).toMatchObject([{ id: 'interface-settings-unknown', severity: 'low' }]);
  });

  it('words the shared findings for Windows: a leaking address means its interface sends weak-host', () => {
    const os = windowsDoctor(context(), settings({}));
    const many = os.multipleDefaults(4, [leak], context().defaults.get(4)!, ['192.0.2.1']);
    expect(many.fix).toEqual(['netsh interface ipv4 set interface "Wi-Fi 2" weakhostsend=disabled']);
    expect(many.detail).toContain('10.2.0.2 (Wi-Fi 2) leaves through Ethernet');
    const lone = os.addressWithoutRoute(4, leak, 'Ethernet');
    expect(lone.fix).toEqual([
      'give 10.2.0.2 a way out of Wi-Fi 2:',
      'route -p add 0.0.0.0 mask 0.0.0.0 <gateway on Wi-Fi 2> if 7',
      'and keep it from sending through others: netsh interface ipv4 set interface "Wi-Fi 2" weakhostsend=disabled',
    ]);
  });
});

describe('macOS', () => {
  it('says on a multi-homed Mac that IP_BOUND_IF pins sending, not receiving, with the sysctl that fixes it', () => {
    const findings = darwinDoctor(context()).checks();
    expect(findings).toMatchObject([{ id: 'bound-if-receive', severity: 'low', title: 'IP_BOUND_IF pins what a socket sends, not what it receives (2 uplinks: Ethernet, Wi-Fi 2)' }]);
    expect(findings[0].fix).toContain('sudo sysctl -w net.inet.ip.check_interface=1');
  });

  it('says nothing of it on a Mac with one uplink', () => {
    expect(darwinDoctor({ ...context(), withGlobal: [ethernet], multiHomed: false }).checks()).toEqual([]);
  });

  it('explains several default routes by interface scoping, and fixes with a scoped default route', () => {
    const os = darwinDoctor(context());
    const many = os.multipleDefaults(4, [leak], context().defaults.get(4)!, ['192.0.2.1']);
    expect(many.detail).toContain('keeps the others scoped to their interface (RTF_IFSCOPE)');
    expect(many.fix[0]).toBe('sudo route -n add -ifscope Wi-Fi 2 default 10.2.0.1   (a default route scoped to Wi-Fi 2, if it has none)');
    expect(os.addressWithoutRoute(6, { ...leak, address: 'fd02::2' }, 'Ethernet').fix[1]).toBe('sudo route -n add -inet6 -ifscope Wi-Fi 2 default <gateway on Wi-Fi 2>');
  });
});
