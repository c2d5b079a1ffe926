// The win32-x64 prebuild, loaded directly by the real Windows node.exe under Wine: what the addon
// exports, what it enumerates (compared with Windows node's own os.networkInterfaces()), and that
// every refusal (Wine's missing calls, bad arguments, options Windows lacks) is a typed error,
// never a crash. Run by scripts/wine/run.mjs (ROUTEBIND_ROOT is the repository, ROUTEBIND_UNDER_WINE=1);
// on real Windows (`node --test test/wine/` with ROUTEBIND_ROOT set) the Wine-only tests skip and
// real-windows.test.cjs takes over.
'use strict';

const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const os = require('node:os');
const path = require('node:path');
const { describe, it } = require('node:test');

const root = process.env.ROUTEBIND_ROOT;
const prebuild = path.join(root, 'prebuilds', 'win32-x64', 'routebind.node');
const addon = require(prebuild);
const underWine = process.env.ROUTEBIND_UNDER_WINE === '1';
const wineOnly = underWine ? false : 'Wine only (real Windows: real-windows.test.cjs)';

// libuv's numbers on Windows, which Node's own errors carry there (uv/errno.h).
const UV_ENOTSUP = -4049;
const UV_ENODEV = -4059;

function thrown(fn) {
  try {
    fn();
  } catch (error) {
    return error;
  }
  assert.fail('expected an error, got a result');
}

describe('the win32 addon under Wine', () => {
  it('is a Windows build that knows whether it runs under Wine', () => {
    assert.equal(process.platform, 'win32');
    assert.equal(addon.platform, 'win32');
    assert.equal(addon.underWine, underWine);
  });

  it('exports the shared and the Windows-only calls, and none of the POSIX ones', () => {
    for (const name of ['routeGet', 'dumpRoutes', 'dumpLinks', 'dumpAddresses', 'linkIndex', 'linkName',
      'ChangeWatcher', 'feedGeneration', 'feedInfo', 'benchRouteGet', 'ipInterfaceSettings']) {
      assert.equal(typeof addon[name], 'function', name);
    }
    assert.ok(addon.routeScratch instanceof ArrayBuffer);
    assert.equal(typeof addon.routeSlots.AskedOif, 'number');
    for (const name of ['createSocket', 'createSocketFrom', 'adoptSocket', 'pinSocket', 'parseNetlink', 'pinMechanism']) {
      assert.equal(addon[name], undefined, name);
    }
  });

  it('dumpLinks() names interfaces as os.networkInterfaces() does, with index and LUID', () => {
    const links = addon.dumpLinks();
    assert.ok(links.length > 0);
    const names = new Set(links.map((l) => l.name));
    for (const name of Object.keys(os.networkInterfaces())) assert.ok(names.has(name), `${name} missing from ${[...names]}`);
    for (const link of links) {
      assert.ok(Number.isInteger(link.index) && link.index > 0, link.name);
      assert.match(link.luid, /^[1-9]\d*$/);
      assert.ok(BigInt(link.luid) < 2n ** 64n);
      assert.equal(addon.linkIndex(link.name), link.index);
      // The adapter's GUID name is an alternative name, as `ip link` altnames are on Linux.
      assert.match(link.altnames[0], /^\{[0-9A-F-]{36}\}$/i);
      assert.equal(addon.linkIndex(link.altnames[0]), link.index);
      assert.equal(addon.linkName(link.index), link.name);
    }
    const loopback = links.find((l) => l.type === 772);
    assert.ok(loopback, 'a loopback link');
    assert.equal(loopback.flags & 0x8, 0x8, 'IFF_LOOPBACK');
  });

  it("dumpLinks() gives each link os.networkInterfaces()'s MAC", () => {
    const links = new Map(addon.dumpLinks().map((l) => [l.name, l]));
    for (const [name, entries] of Object.entries(os.networkInterfaces())) {
      const mac = links.get(name).mac;
      const text = mac ? [...mac].map((b) => b.toString(16).padStart(2, '0')).join(':') : '00:00:00:00:00:00';
      assert.equal(text, entries[0].mac, name);
    }
  });

  it('dumpAddresses() lists what os.networkInterfaces() lists, link-local zones included', () => {
    const links = new Map(addon.dumpLinks().map((l) => [l.index, l.name]));
    const ours = new Set(addon.dumpAddresses(0).map((a) => `${links.get(a.index)} ${a.local ?? a.address}/${a.prefixLength}`));
    let compared = 0;
    for (const [name, entries] of Object.entries(os.networkInterfaces())) {
      for (const e of entries) {
        assert.ok(ours.has(`${name} ${e.cidr}`), `${name} ${e.cidr} not in ${[...ours].join(', ')}`);
        compared += 1;
      }
    }
    assert.ok(compared > 0);
    const linkLocal = addon.dumpAddresses(6).filter((a) => a.address.startsWith('fe80:'));
    for (const a of linkLocal) {
      assert.equal(a.scope, 253, 'RT_SCOPE_LINK');
      // os.networkInterfaces() gives the zone as scopeid; ours is the owning interface's index.
      const theirs = os.networkInterfaces()[links.get(a.index)]?.find((e) => e.address === a.address);
      if (theirs) assert.equal(theirs.scopeid, a.index, a.address);
    }
    assert.ok(addon.dumpAddresses(4).every((a) => a.version === 4));
  });

  it('dumpRoutes(4) gives IPv4 routes through known interfaces', () => {
    const routes = addon.dumpRoutes(4);
    assert.ok(routes.length > 0, 'IPv4 routes are listed');
    const indexes = new Set(addon.dumpLinks().map((l) => l.index));
    for (const r of routes) {
      assert.equal(r.version, 4);
      assert.ok(r.dstLen >= 0 && r.dstLen <= 32);
      assert.ok(indexes.has(r.oif), `route to ${r.destination}/${r.dstLen} through unknown index ${r.oif}`);
      assert.equal(typeof r.priority, 'number');
    }
    assert.ok(addon.dumpRoutes(0).length >= routes.length);
  });

  it("routeGet() fails with ENOTSUP (Wine has no GetBestRoute2), a Node-shaped error, and the process lives", { skip: wineOnly }, () => {
    for (const destination of ['192.0.2.1', '127.0.0.1', '::1']) {
      const e = thrown(() => addon.routeGet(destination));
      assert.equal(e.code, 'ENOTSUP');
      assert.equal(e.errno, UV_ENOTSUP);
      assert.equal(e.syscall, 'GetBestRoute2');
      assert.match(e.message, /^GetBestRoute2 ENOTSUP \(ERROR_NOT_SUPPORTED\)/);
      assert.match(e.message, /Wine/);
    }
  });

  it('routeGet() refuses what Windows route lookups cannot take, naming it, before any call', () => {
    const cases = {
      iif: [undefined, undefined, 1], mark: [undefined, undefined, undefined, 5],
      uid: [undefined, undefined, undefined, undefined, 0], tos: [undefined, undefined, undefined, undefined, undefined, 16],
      ipProto: [undefined, undefined, undefined, undefined, undefined, undefined, 6],
      sourcePort: [undefined, undefined, undefined, undefined, undefined, undefined, undefined, 1000],
      destinationPort: [undefined, undefined, undefined, undefined, undefined, undefined, undefined, undefined, 443],
    };
    for (const [option, rest] of Object.entries(cases)) {
      const e = thrown(() => addon.routeGet('192.0.2.1', ...rest));
      assert.equal(e.code, 'ENOTSUP', option);
      assert.ok(e.message.includes(`"${option}"`), e.message);
      assert.doesNotMatch(e.message, /ERROR_/, 'no Win32 call was made');
    }
  });

  it('bad arguments get the same typed errors as on Linux', () => {
    const cases = [
      [() => addon.routeGet('nope'), TypeError, 'ERR_INVALID_IP_ADDRESS'],
      [() => addon.routeGet('256.1.1.1'), TypeError, 'ERR_INVALID_IP_ADDRESS'],
      [() => addon.routeGet('fe80::1%1'), TypeError, 'ERR_INVALID_IP_ADDRESS'],
      [() => addon.routeGet('1.2.3.4\0'), TypeError, 'ERR_INVALID_IP_ADDRESS'],
      [() => addon.routeGet('1'.repeat(1 << 20)), TypeError, 'ERR_INVALID_IP_ADDRESS'],
      [() => addon.routeGet(7), TypeError, 'ERR_INVALID_ARG_TYPE'],
      [() => addon.routeGet('192.0.2.1', '::1'), TypeError, 'ERR_INVALID_ARG_VALUE'],
      [() => addon.routeGet('192.0.2.1', undefined, -1), RangeError, 'ERR_OUT_OF_RANGE'],
      [() => addon.routeGet('192.0.2.1', undefined, 'bad\0name'), TypeError, 'ERR_INVALID_ARG_VALUE'],
      [() => addon.routeGet('192.0.2.1', undefined, undefined, undefined, 2 ** 32), RangeError, 'ERR_OUT_OF_RANGE'],
      [() => addon.linkIndex(5), TypeError, 'ERR_INVALID_ARG_TYPE'],
      [() => addon.ipInterfaceSettings(0, 4), RangeError, 'ERR_OUT_OF_RANGE'],
      [() => addon.ipInterfaceSettings(1, 5), TypeError, 'ERR_INVALID_ARG_VALUE'],
      [() => new addon.ChangeWatcher('x', () => {}), TypeError, 'ERR_INVALID_ARG_TYPE'],
    ];
    for (const [call, cls, code] of cases) {
      const e = thrown(call);
      assert.equal(Object.getPrototypeOf(e), cls.prototype, `${code}: ${e.message}`);
      assert.equal(e.code, code, e.message);
    }
  });

  it('an unknown interface name is ENODEV, with the Win32 error named', () => {
    const e = thrown(() => addon.linkIndex('no-such-interface'));
    assert.equal(e.code, 'ENODEV');
    assert.equal(e.errno, UV_ENODEV);
    assert.match(e.message, /ERROR_NOT_FOUND/);
    assert.match(e.message, /no-such-interface/);
    assert.equal(addon.linkName(2147483000), undefined);
  });

  it('ipInterfaceSettings() refuses under Wine instead of calling GetIpInterfaceEntry (which would abort)', { skip: wineOnly }, () => {
    const index = addon.dumpLinks()[0].index;
    const e = thrown(() => addon.ipInterfaceSettings(index, 4));
    assert.equal(e.code, 'ENOTSUP');
    assert.equal(e.syscall, 'GetIpInterfaceEntry');
  });

  it('the change feed opens: feedGeneration() and feedInfo() answer', () => {
    const g = addon.feedGeneration();
    assert.equal(typeof g, 'number');
    const info = addon.feedInfo();
    assert.equal(info.generation, addon.feedGeneration());
    assert.ok(info.receiveBuffer > 0);
  });

  it('a ChangeWatcher opens, holds the loop while ref()ed, and closes', async () => {
    const watcher = new addon.ChangeWatcher(31, () => {});
    watcher.ref();
    await new Promise((resolve) => setTimeout(resolve, 100));
    watcher.close();
    watcher.close();  // twice is harmless
    const again = new addon.ChangeWatcher(1, () => {});
    again.unref();
    again.close();
  });

  it('a process with an unref()ed watcher (never closed) and one closed ref()ed watcher exits by itself', () => {
    const script = `
      const addon = require(${JSON.stringify(prebuild)});
      new addon.ChangeWatcher(31, () => {}).unref();
      const w = new addon.ChangeWatcher(31, () => {}); w.ref(); setTimeout(() => w.close(), 50);
      require('node:fs').writeFileSync(process.argv[1], 'ok');`;
    const marker = path.join(os.tmpdir(), `routebind-wine-${process.pid}.txt`);
    const r = spawnSync(process.execPath, ['-e', script, marker], { timeout: 60_000, stdio: 'ignore' });
    assert.equal(r.error, undefined, `child: ${r.error?.message}`);
    assert.equal(r.status, 0);
    assert.equal(require('node:fs').readFileSync(marker, 'utf8'), 'ok');
    require('node:fs').rmSync(marker, { force: true });
  });

  it('loads in a host executable not named node.exe (Node-API resolved from the process itself)', () => {
    const dir = require('node:fs').mkdtempSync(path.join(os.tmpdir(), 'routebind-host-'));
    const host = path.join(dir, 'renamed-host.exe');
    require('node:fs').copyFileSync(process.execPath, host);
    const marker = path.join(dir, 'links.txt');
    const script = `require('node:fs').writeFileSync(process.argv[1], String(require(${JSON.stringify(prebuild)}).dumpLinks().length))`;
    const r = spawnSync(host, ['-e', script, marker], { timeout: 60_000, stdio: 'ignore' });
    assert.equal(r.status, 0, r.error?.message);
    assert.equal(Number(require('node:fs').readFileSync(marker, 'utf8')), addon.dumpLinks().length);
    require('node:fs').rmSync(dir, { recursive: true, force: true });
  });

  it('works in a worker thread too (per-environment state)', async () => {
    const { Worker } = require('node:worker_threads');
    const worker = new Worker(`
      const { parentPort } = require('node:worker_threads');
      const addon = require(${JSON.stringify(prebuild)});
      const w = new addon.ChangeWatcher(31, () => {});
      parentPort.postMessage(addon.dumpLinks().length);
      w.close();`, { eval: true });
    const count = await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    assert.equal(count, addon.dumpLinks().length);
    assert.equal(await new Promise((resolve) => worker.once('exit', resolve)), 0);
  });
});
