// The change feed without privileges: one multicast netlink socket per environment serves the
// route cache, every watcher and the socket-following watcher; its receive buffer is what the
// measurements asked for; and the enums lib/binding.ts mirrors agree with the addon's.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import * as net from 'node:net';
import { describe, expect, it } from 'vitest';

import { ChangeGroup, native as loadNative, RouteSlot } from '../../lib/binding';
import { connect, routeTo, watch } from '../../lib/index';
import { linuxDescribe } from '../helpers/platform';

const native = loadNative();

/** This process's netlink sockets that joined a multicast group (/proc/net/netlink "Groups"). */
function multicastNetlinkSockets(): number {
  const ours = new Set<string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (m) ours.add(m[1]);
    } catch {
      // the fd readdir itself used is gone
    }
  }
  const rows = readFileSync('/proc/self/net/netlink', 'utf8').trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/));
  // sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode; Eth 0 = NETLINK_ROUTE.
  return rows.filter((r) => r[1] === '0' && r[3] !== '00000000' && ours.has(r[9])).length;
}

linuxDescribe('needs Linux netlink and /proc/self/net/netlink')('the change feed (Linux)', () => {
  it('the route cache, two watchers and a followed socket share one multicast netlink socket', async () => {
    const server = net.createServer((s) => s.on('error', () => {})).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const port = (server.address() as net.AddressInfo).port;
    routeTo('127.0.0.1');
    const all = watch();
    const routes4 = watch({ family: 4, addresses: false, links: false });
    const socket = connect({ host: '127.0.0.1', port, interface: 'lo', onRouteChange: 'keep' });
    await new Promise((resolve) => socket.once('connect', resolve));
    try {
      expect(multicastNetlinkSockets()).toBe(1);
    } finally {
      socket.destroy();
      all.close();
      routes4.close();
      server.close();
    }
  });

  it('asks for a 4 MiB receive buffer (room for ~3,200 IPv6 route notifications), forcing it only past rmem_max', () => {
    const rmemMax = Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8'));
    const granted = native.feedInfo().receiveBuffer;
    // SO_RCVBUF is doubled by the kernel and capped at twice rmem_max; only root may force more.
    if (rmemMax >= 2 * 1024 * 1024 || process.getuid?.() === 0) expect(granted).toBe(4 * 1024 * 1024);
    else expect(granted).toBe(2 * rmemMax);
  });
});

describe('enums mirrored in lib/binding.ts agree with the addon', () => {
  // vitest compiles each const enum to an object, so its members can be listed here.
  const members = (e: object) => Object.fromEntries(Object.entries(e).filter(([name]) => !/^\d+$/.test(name)));

  it('ChangeGroup', () => {
    expect(members(ChangeGroup)).toEqual(native.changeGroups);
  });

  it('RouteSlot', () => {
    expect(members(RouteSlot)).toEqual(native.routeSlots);
  });
});
