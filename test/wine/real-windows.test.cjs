// What only real Windows can show (Wine has no GetBestRoute2, aborts in GetIpInterfaceEntry and
// never delivers change notifications): lookups, the strong-host answer, interface settings and
// how long a route change takes to reach a watcher. Skipped, visibly, under Wine; the Windows CI
// job runs it with `node --test test/wine/` and ROUTEBIND_ROOT set to the repository. Nothing here
// sends a packet: lookups only, and the one route it adds (with netsh, when allowed) is to
// TEST-NET-2 and removed again.
'use strict';

const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { describe, it } = require('node:test');

const root = process.env.ROUTEBIND_ROOT;
const addon = require(path.join(root, 'prebuilds', 'win32-x64', 'routebind.node'));
const routebind = require(root);
const skip = addon.underWine ? 'needs real Windows (Wine lacks GetBestRoute2 and GetIpInterfaceEntry)' : false;

describe('routebind on real Windows', { skip }, () => {
  it('routeTo(127.0.0.1) and routeTo(::1) are local answers from the loopback interface', () => {
    const loopback = routebind.interfaces().find((i) => i.flags.includes('loopback'));
    assert.ok(loopback, 'a loopback interface');
    for (const destination of ['127.0.0.1', '::1']) {
      const route = routebind.routeTo(destination, { cache: false });
      assert.equal(route.type, 'local', JSON.stringify(route));
      assert.equal(route.source, destination);
      assert.equal(route.interface, loopback.name);
      assert.equal(typeof route.metric, 'number');
    }
  });

  it("each of the host's own addresses routes locally", () => {
    for (const i of routebind.interfaces()) {
      for (const a of i.addresses) {
        if (a.family !== 4) continue;
        const route = routebind.routeTo(a.address, { cache: false });
        assert.equal(route.type, 'local', `${a.address}: ${JSON.stringify(route)}`);
      }
    }
  });

  it('a lookup through the default route answers with a source owned by the interface it leaves through', (t) => {
    const defaults = routebind.routes({ family: 4 }).filter((r) => r.prefixLength === 0);
    if (defaults.length === 0) return t.skip('no IPv4 default route on this host');
    const route = routebind.routeTo('192.0.2.1', { cache: false });
    assert.ok(route.interface, JSON.stringify(route));
    const owner = routebind.interfaces().find((i) => i.name === route.interface);
    assert.ok(owner.addresses.some((a) => a.address === route.source), `${route.source} is not ${route.interface}'s`);
    assert.ok(route.gateway, 'through a gateway');
  });

  it('a lookup through an interface index that does not exist is ENODEV', () => {
    assert.throws(() => addon.routeGet('192.0.2.1', undefined, 2147483000), { code: 'ENODEV' });
  });

  it('ipInterfaceSettings() reads weak-host, forwarding and the metric', () => {
    const index = addon.dumpLinks().find((l) => l.type === 772).index;
    const settings = addon.ipInterfaceSettings(index, 4);
    assert.deepEqual(Object.keys(settings).sort(), ['forwarding', 'metric', 'weakHostReceive', 'weakHostSend']);
    assert.equal(typeof settings.weakHostSend, 'boolean');
    assert.ok(Number.isInteger(settings.metric));
    assert.throws(() => addon.ipInterfaceSettings(2147483000, 4), { code: 'ENODEV' });
  });

  it('a route change reaches a watcher; the delay is measured (needs an administrator)', async (t) => {
    const gatewayRoute = routebind.routes({ family: 4 }).find((r) => r.gateway && r.ifindex);
    if (!gatewayRoute) return t.skip('no IPv4 route through a gateway to hang the test route on');
    const args = ['prefix=198.51.100.0/24', `interface=${gatewayRoute.ifindex}`, `nexthop=${gatewayRoute.gateway}`, 'store=active'];
    const watcher = routebind.watch({ addresses: false, links: false, family: 4 });
    const seen = new Promise((resolve) => watcher.on('change', (e) => {
      if (e.kind === 'route' && e.entry && String(e.entry.destination).startsWith('198.51.100.0')) resolve(performance.now());
    }));
    const generation = addon.feedGeneration();
    const started = performance.now();
    const add = spawnSync('netsh', ['interface', 'ipv4', 'add', 'route', ...args], { encoding: 'utf8' });
    if (add.status !== 0) {
      watcher.close();
      return t.skip(`netsh could not add a route (not an administrator?): ${add.stdout}${add.stderr}`);
    }
    try {
      const arrived = await Promise.race([seen, new Promise((resolve) => setTimeout(() => resolve(undefined), 10_000))]);
      assert.ok(arrived !== undefined, 'no notification within 10 s');
      assert.ok(addon.feedGeneration() > generation);
      t.diagnostic(`route change → watcher: ${(arrived - started).toFixed(1)} ms after netsh started`);
    } finally {
      watcher.close();
      spawnSync('netsh', ['interface', 'ipv4', 'delete', 'route', ...args]);
    }
  });
});
