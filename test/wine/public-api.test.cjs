// routebind's public API (dist/ with the win32-x64 prebuild) as a Windows user's code sees it,
// run by the real Windows node.exe under Wine. Wine has no GetBestRoute2 and never delivers
// change notifications, so this proves loading, enumeration and the error paths; lookups and
// sockets are proven by the Windows CI workflow. Run by scripts/wine/run.mjs.
'use strict';

const assert = require('node:assert/strict');
const os = require('node:os');
const { describe, it } = require('node:test');

const routebind = require(process.env.ROUTEBIND_ROOT);
const wineOnly = process.env.ROUTEBIND_UNDER_WINE === '1' ? false : 'Wine only (real Windows: real-windows.test.cjs)';

function thrown(fn) {
  try {
    fn();
  } catch (error) {
    return error;
  }
  assert.fail('expected an error, got a result');
}

describe('require("routebind") under Windows node', () => {
  it('loads and exports the public API', () => {
    for (const name of ['routeTo', 'routes', 'interfaces', 'watch', 'connect', 'createSocket', 'createServer', 'describe', 'doctor']) {
      assert.equal(typeof routebind[name], 'function', name);
    }
  });

  it('interfaces() names every interface as os.networkInterfaces() does, with its addresses', () => {
    const ours = new Map(routebind.interfaces().map((i) => [i.name, i]));
    const theirs = os.networkInterfaces();
    assert.ok(Object.keys(theirs).length > 0);
    for (const [name, entries] of Object.entries(theirs)) {
      const mine = ours.get(name);
      assert.ok(mine, `${name} missing from ${[...ours.keys()]}`);
      const cidrs = new Set(mine.addresses.map((a) => a.cidr));
      for (const e of entries) assert.ok(cidrs.has(e.cidr), `${name} ${e.cidr} not in ${[...cidrs]}`);
    }
  });

  it('routes({ family: 4 }) lists IPv4 routes named by interface', () => {
    const entries = routebind.routes({ family: 4 });
    assert.ok(entries.length > 0);
    const names = new Set(routebind.interfaces().map((i) => i.name));
    for (const e of entries) {
      assert.equal(e.family, 4);
      assert.ok(names.has(e.interface), JSON.stringify(e));
    }
  });

  it('routeTo() fails with a clear ENOTSUP error (Wine has no GetBestRoute2), and the process lives', { skip: wineOnly }, () => {
    const e = thrown(() => routebind.routeTo('192.0.2.1'));
    assert.ok(e instanceof Error);
    assert.equal(e.code, 'ENOTSUP');
    assert.equal(e.syscall, 'GetBestRoute2');
    assert.match(e.message, /ENOTSUP/);
    assert.match(e.message, /192\.0\.2\.1/);
    // Twice: nothing was left half-done by the first failure.
    assert.equal(thrown(() => routebind.routeTo('192.0.2.1', { cache: false })).code, 'ENOTSUP');
  });

  it('argument errors carry the same codes as on Linux', () => {
    const cases = [
      [() => routebind.routeTo('nope'), 'ERR_INVALID_IP_ADDRESS'],
      [() => routebind.routeTo(42), 'ERR_INVALID_ARG_TYPE'],
      [() => routebind.routeTo('192.0.2.1', { from: '::1' }), 'ERR_INVALID_ARG_VALUE'],
      [() => routebind.routeTo('192.0.2.1', { bogus: 1 }), 'ERR_INVALID_ARG_VALUE'],
      [() => routebind.routes({ family: 5 }), 'ERR_INVALID_ARG_VALUE'],
      [() => routebind.watch({ routes: 'yes' }), 'ERR_INVALID_ARG_TYPE'],
    ];
    for (const [call, code] of cases) assert.equal(thrown(call).code, code);
  });

  it('options Windows lacks fail with ERR_ROUTEBIND_UNSUPPORTED_OPTION, never silently', () => {
    const options = { iif: 'lo', mark: 1, uid: 0, tos: 16, protocol: 'tcp', sourcePort: 1000, destinationPort: 443 };
    for (const [key, value] of Object.entries(options)) {
      const e = thrown(() => routebind.routeTo('192.0.2.1', { [key]: value }));
      assert.equal(e.code, 'ERR_ROUTEBIND_UNSUPPORTED_OPTION', `${key}: ${e.code} ${e.message}`);
      assert.ok(e.message.includes(key), e.message);
    }
  });

  it('doctor() returns a report (it must not reach GetIpInterfaceEntry under Wine, which would end the process)', () => {
    const report = routebind.doctor();
    assert.equal(typeof report.ok, 'boolean');
    assert.ok(Array.isArray(report.findings));
    assert.ok(Array.isArray(report.uplinks));
    for (const f of report.findings) assert.equal(typeof f.id, 'string');
  });

  it('watch() opens and closes without holding the process', async () => {
    const watcher = routebind.watch();
    const closed = new Promise((resolve) => watcher.once('close', resolve));
    await new Promise((resolve) => setTimeout(resolve, 100));
    watcher.close();
    await closed;
  });
});
