// Change events, the coherent route cache, and sockets that follow changes, in a real
// two-uplink host: the changes are made by `ip` in another process, as an operator would.
import { once } from 'node:events';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { buildTwoUplinkHost, lineReader, namespaceSupport, type Topology } from './topology';

const unsupported = namespaceSupport();
const PORT = 7000;

interface Line { ready?: boolean; resync?: boolean; at?: number; event?: Record<string, any> }

describe.skipIf(unsupported !== undefined)(`change events and the route cache in namespaces${unsupported ? ` (skipped: ${unsupported})` : ''}`, () => {
  let t: Topology;

  beforeAll(async () => {
    t = buildTwoUplinkHost({ policyRules: false, spoofFilter6: false });
    const server = t.spawn(t.far, [process.execPath, 'test/netns/fixtures/far-server.cjs', JSON.stringify({ addresses: [t.farV4], port: PORT })]);
    await once(server.stdout!, 'data');
  });
  afterAll(() => t?.destroy());

  async function startWatcher(options: object) {
    const child = t.spawn(t.host, [process.execPath, 'test/netns/fixtures/watch-events.cjs', JSON.stringify(options)]);
    const reader = lineReader<Line>(child, JSON.parse);
    await reader.waitFor((l) => l.ready === true);
    const waitFor = (predicate: (e: Record<string, any>) => boolean, ms = 2000) => reader.waitFor((l) => l.event !== undefined && predicate(l.event), ms);
    return { child, lines: reader.lines, waitFor };
  }

  it('emits route, address and link events as `ip` makes the changes', async () => {
    const w = await startWatcher({});
    t.exec(t.host, ['ip', 'route', 'add', '198.19.50.0/24', 'via', t.ethB.gateway4, 'dev', 'ethB', 'metric', '7']);
    const added = await w.waitFor((e) => e.kind === 'route' && e.destination === '198.19.50.0/24');
    expect(added.event).toMatchObject({ action: 'add', interface: 'ethB', gateway: t.ethB.gateway4, metric: 7, table: 254, family: 4 });
    t.exec(t.host, ['ip', 'route', 'replace', '198.19.50.0/24', 'via', t.ethA.gateway4, 'dev', 'ethA', 'metric', '7']);
    expect((await w.waitFor((e) => e.kind === 'route' && e.destination === '198.19.50.0/24' && e.action === 'change')).event).toMatchObject({ interface: 'ethA' });
    t.exec(t.host, ['ip', 'route', 'del', '198.19.50.0/24']);
    await w.waitFor((e) => e.kind === 'route' && e.destination === '198.19.50.0/24' && e.action === 'delete');
    t.exec(t.host, ['ip', '-6', 'addr', 'add', 'fd00:b::77/64', 'dev', 'ethB', 'nodad']);
    expect((await w.waitFor((e) => e.kind === 'address' && e.address === 'fd00:b::77')).event).toMatchObject({ action: 'add', interface: 'ethB', family: 6, prefixLength: 64 });
    t.exec(t.host, ['ip', '-6', 'addr', 'del', 'fd00:b::77/64', 'dev', 'ethB']);
    await w.waitFor((e) => e.kind === 'address' && e.address === 'fd00:b::77' && e.action === 'delete');
    t.exec(t.host, ['ip', 'link', 'add', 'extra0', 'type', 'veth', 'peer', 'name', 'extra1']);
    expect((await w.waitFor((e) => e.kind === 'link' && e.name === 'extra0')).event).toMatchObject({ action: 'add' });
    t.exec(t.host, ['ip', 'link', 'set', 'extra0', 'up']);
    expect((await w.waitFor((e) => e.kind === 'link' && e.name === 'extra0' && e.flags.includes('up'))).event).toMatchObject({ action: 'change' });
    t.exec(t.host, ['ip', 'link', 'del', 'extra0']);
    await w.waitFor((e) => e.kind === 'link' && e.name === 'extra0' && e.action === 'delete');
    w.child.kill();
  });

  it('filters by family and kind', async () => {
    const w = await startWatcher({ family: 6, links: false, addresses: false });
    t.exec(t.host, ['ip', 'route', 'add', '198.19.51.0/24', 'via', t.ethB.gateway4]);
    t.exec(t.host, ['ip', '-6', 'route', 'add', 'fd00:51::/64', 'via', t.ethB.gateway6]);
    await w.waitFor((e) => e.destination === 'fd00:51::/64');
    t.exec(t.host, ['ip', 'route', 'del', '198.19.51.0/24']);
    t.exec(t.host, ['ip', '-6', 'route', 'del', 'fd00:51::/64']);
    await w.waitFor((e) => e.destination === 'fd00:51::/64' && e.action === 'delete');
    expect(w.lines.filter((l) => l.event).every((l) => l.event!.kind === 'route' && l.event!.family === 6)).toBe(true);
    w.child.kill();
  });

  it('a watcher does not keep the process alive unless ref()\'d', () => {
    const script = "const w = require('./dist/index.js').watch(); setTimeout(() => {}, 10);";
    const quick = t.run(t.host, [process.execPath, '-e', script]);
    expect(quick.status).toBe(0);
    const held = t.run(t.host, ['timeout', '0.5', process.execPath, '-e', "require('./dist/index.js').watch().ref()"]);
    expect(held.status).toBe(124); // still running when timeout(1) ended it
  });

  it('async iteration yields events; break closes the watcher', () => {
    const script = `
      const { watch } = require('./dist/index.js');
      const { execFileSync } = require('node:child_process');
      (async () => {
        const w = watch({ links: false, addresses: false, family: 4 });
        setTimeout(() => execFileSync('ip', ['route', 'add', 'blackhole', '198.19.52.0/24']), 20);
        for await (const event of w) {
          if (event.destination === '198.19.52.0/24') { console.log(JSON.stringify(event)); break; }
        }
        console.log(w.closed);
      })();`;
    const r = t.run(t.host, [process.execPath, '-e', script]);
    expect(r.status, r.stderr).toBe(0);
    const [event, closed] = r.stdout.trim().split('\n');
    expect(JSON.parse(event)).toMatchObject({ kind: 'route', action: 'add', type: 'blackhole' });
    expect(closed).toBe('true');
  });

  it("an overrun of the watcher's socket (ENOBUFS) is not swallowed: 'resync' carries the whole table again", () => {
    const r = t.node<{ resync: boolean; changes: number; routesInResync?: number }>(t.host, 'overrun.cjs', { routes: 40_000 }, { timeoutMs: 60_000 });
    expect(r.resync).toBe(true);
    expect(r.changes).toBeLessThan(40_000); // some notifications really were lost…
    expect(r.routesInResync).toBe(40_000); // …and the re-dump has every route
    t.exec(t.host, ['ip', 'route', 'flush', 'dev', 'lo', 'table', 'main']);
  });

  it('the route cache is coherent: 1,000 default-route flips by another process, zero stale answers', () => {
    const r = t.node<{ flips: number; stale: number; cachedAgreed: number; stats: { size: number } }>(t.host, 'coherence.cjs', {
      far: t.farV4,
      flips: 1000,
      uplinks: [{ dev: 'ethB', gateway: t.ethB.gateway4 }, { dev: 'ethA', gateway: t.ethA.gateway4 }],
    }, { timeoutMs: 120_000 });
    expect(r.stale).toBe(0);
    expect(r.cachedAgreed).toBe(1000); // and between flips the answer really came from the cache
    t.exec(t.host, ['ip', 'route', 'replace', 'default', 'via', t.ethA.gateway4, 'dev', 'ethA', 'metric', '100']);
  });

  describe('sockets that follow changes', () => {
    afterEach(() => {
      t.run(t.host, ['ip', 'link', 'set', 'ethB', 'up']);
      t.run(t.host, ['ip', 'addr', 'add', `${t.ethB.v4}/24`, 'dev', 'ethB']);
      t.run(t.host, ['ip', 'route', 'replace', 'default', 'via', t.ethB.gateway4, 'dev', 'ethB', 'metric', '200']);
    });

    type Follow = { seen: Array<{ event: string; code: string; ms: number; interface?: string }>; destroyed: boolean; closed: boolean };
    const follow = (mode: string, breakWith: string[]) =>
      t.node<Follow>(t.host, 'follow.cjs', { far: t.farV4, port: PORT + 1, interface: 'ethB', mode, breakWith });

    it("'destroy': the interface going down destroys the connection with ENETDOWN within 100 ms", () => {
      const r = follow('destroy', ['ip', 'link', 'set', 'ethB', 'down']);
      expect(r.closed).toBe(true);
      const error = r.seen.find((s) => s.event === 'error');
      expect(error).toMatchObject({ code: 'ENETDOWN', interface: 'ethB' });
      expect(error!.ms).toBeLessThan(100);
    });

    it("'destroy': the source address being removed destroys it with EADDRNOTAVAIL within 100 ms", () => {
      const r = follow('destroy', ['ip', 'addr', 'del', `${t.ethB.v4}/24`, 'dev', 'ethB']);
      const error = r.seen.find((s) => s.event === 'error');
      expect(error).toMatchObject({ code: 'EADDRNOTAVAIL' });
      expect(error!.ms).toBeLessThan(100);
    });

    it("'keep': the socket hears 'routeChange' and stays open", () => {
      const r = follow('keep', ['ip', 'link', 'set', 'ethB', 'down']);
      expect(r.seen[0]).toMatchObject({ event: 'routeChange', code: 'ENETDOWN' });
      expect(r.seen.every((s) => s.event === 'routeChange')).toBe(true);
      expect(r.closed).toBe(false);
      expect(r.destroyed).toBe(false);
    });
  });
});
