// The change feed in a real two-uplink host: every input that can change a route lookup's answer
// (routes, addresses, links, rules, nexthop objects, per-interface settings) reaches the cache;
// a watcher survives an overrun; forged notifications are not believed; followed sockets hear
// every way their path can break; workers can be terminated mid-call. Changes are made by `ip`
// and `sysctl` in another process, as an operator would.
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { buildTwoUplinkHost, namespaceSupport, type Topology } from './topology';

const unsupported = namespaceSupport();
const PORT = 7100;

type Answer = { interface?: string; ifindex?: number; source?: string; gateway?: string; cached?: boolean; code?: string };
type Step = { exec: string[] } | { route: [string, object?] };

describe.skipIf(unsupported !== undefined)(`the change feed in namespaces${unsupported ? ` (skipped: ${unsupported})` : ''}`, () => {
  let t: Topology;

  beforeAll(async () => {
    t = buildTwoUplinkHost({ policyRules: false, spoofFilter6: false });
    const server = t.spawn(t.far, [process.execPath, 'test/netns/fixtures/far-server.cjs', JSON.stringify({ addresses: [t.farV4, t.farV6], port: PORT })]);
    await once(server.stdout!, 'data');
  });
  afterAll(() => t?.destroy());

  const steps = (list: Step[]) => t.node<Answer[]>(t.host, 'feed-steps.cjs', { steps: list });
  const ip = (...argv: string[]): Step => ({ exec: ['ip', ...argv] });
  const sysctl = (setting: string): Step => ({ exec: ['sysctl', '-qw', setting] });

  describe('the route cache hears every input of an answer', () => {
    it('an `ip rule` added after the answer was cached: the next cached lookup follows the rule', () => {
      const query: Step = { route: [t.farV4, { from: t.ethB.v4 }] };
      const answers = steps([
        ip('route', 'add', 'default', 'via', t.ethB.gateway4, 'dev', 'ethB', 'table', '100'),
        query, query, // cached: main table, out through A
        ip('rule', 'add', 'from', t.ethB.v4, 'lookup', '100', 'pref', '500'),
        query, query,
        ip('rule', 'del', 'pref', '500'),
        query,
        ip('route', 'del', 'default', 'table', '100'),
      ]);
      expect(answers.map((a) => a.interface)).toEqual(['ethA', 'ethA', 'ethB', 'ethB', 'ethA']);
      expect(answers[1].cached).toBe(true); // the first answer really was cached…
      expect(answers[2].cached).toBe(false); // …and the rule made it stale
      expect(answers[3].cached).toBe(true);
    });

    it('an IPv6 rule likewise', () => {
      const query: Step = { route: [t.farV6, { from: t.ethB.v6 }] };
      const answers = steps([
        ip('-6', 'route', 'add', 'default', 'via', t.ethB.gateway6, 'dev', 'ethB', 'table', '100'),
        query, query,
        ip('-6', 'rule', 'add', 'from', t.ethB.v6, 'lookup', '100', 'pref', '500'),
        query,
        ip('-6', 'rule', 'del', 'pref', '500'),
        ip('-6', 'route', 'del', 'default', 'table', '100'),
      ]);
      // IPv6 already prefers the route whose device owns the source when both match; the rule
      // must still be heard: the answer after it comes from table 100.
      expect(answers[1].cached).toBe(true);
      expect(answers[2]).toMatchObject({ interface: 'ethB', cached: false });
    });

    it('a nexthop object replaced under a route (no route message at all): the next lookup leaves through the new hop', () => {
      const query: Step = { route: [t.farV4] };
      const answers = steps([
        ip('nexthop', 'add', 'id', '10', 'via', t.ethA.gateway4, 'dev', 'ethA'),
        ip('route', 'add', '198.19.0.0/24', 'nhid', '10'),
        query, query,
        ip('nexthop', 'replace', 'id', '10', 'via', t.ethB.gateway4, 'dev', 'ethB'),
        query,
        ip('route', 'del', '198.19.0.0/24'),
        ip('nexthop', 'del', 'id', '10'),
      ]);
      expect(answers[0]).toMatchObject({ interface: 'ethA', gateway: t.ethA.gateway4 });
      expect(answers[1].cached).toBe(true);
      expect(answers[2]).toMatchObject({ interface: 'ethB', gateway: t.ethB.gateway4, cached: false });
    });

    it('forwarding turned off on the input interface (a netconf message, no route changed): an iif lookup stops answering', () => {
      const query: Step = { route: [t.farV4, { iif: 'ethA', from: t.ethA.gateway4 }] };
      const answers = steps([
        sysctl('net.ipv4.ip_forward=1'),
        query, query,
        sysctl('net.ipv4.conf.ethA.forwarding=0'),
        query,
        sysctl('net.ipv4.ip_forward=0'),
      ]);
      expect(answers[0]).toMatchObject({ interface: 'ethA' });
      expect(answers[1].cached).toBe(true);
      expect(answers[2].code).toBe('EHOSTUNREACH');
    });

    it('a link renamed and its name given to another: a lookup by that name answers the new link', () => {
      t.exec(t.host, ['ip', 'link', 'add', 'rn1', 'type', 'veth', 'peer', 'name', 'rn1p']);
      t.exec(t.host, ['ip', 'link', 'add', 'rn2', 'type', 'veth', 'peer', 'name', 'rn2p']);
      t.exec(t.host, ['ip', 'addr', 'add', '10.61.0.1/24', 'dev', 'rn1']);
      t.exec(t.host, ['ip', 'addr', 'add', '10.62.0.1/24', 'dev', 'rn2']);
      for (const dev of ['rn1', 'rn1p', 'rn2', 'rn2p']) t.exec(t.host, ['ip', 'link', 'set', dev, 'up']);
      try {
        // cache: false: no lookup asks the route cache, so nothing but the link view itself
        // can notice the rename.
        const answers = steps([
          { route: ['10.61.0.2', { interface: 'rn1', cache: false }] },
          ip('link', 'set', 'rn1', 'down'), ip('link', 'set', 'rn1', 'name', 'rn9'),
          ip('link', 'set', 'rn2', 'down'), ip('link', 'set', 'rn2', 'name', 'rn1'),
          ip('link', 'set', 'rn9', 'up'), ip('link', 'set', 'rn1', 'up'),
          { route: ['10.62.0.2', { interface: 'rn1', cache: false }] },
        ]);
        const index = (name: string) => JSON.parse(t.exec(t.host, ['ip', '-j', 'link', 'show', name]))[0].ifindex as number;
        expect(answers[0]).toMatchObject({ interface: 'rn1', ifindex: index('rn9') });
        expect(answers[1]).toMatchObject({ interface: 'rn1', ifindex: index('rn1') });
      } finally {
        t.run(t.host, ['ip', 'link', 'del', 'rn9']);
        t.run(t.host, ['ip', 'link', 'del', 'rn1']);
      }
    });
  });

  it("a watcher keeps hearing changes after an overrun (libuv stops the poll on POLLERR; the feed restarts it)", () => {
    const r = t.node<{ resyncs: number; after: string[]; error?: string }>(t.host, 'feed-overrun.cjs', { routes: 40_000 }, { timeoutMs: 60_000 });
    t.exec(t.host, ['ip', 'route', 'flush', 'dev', 'lo', 'table', 'main']);
    expect(r.error).toBeUndefined();
    expect(r.resyncs).toBeGreaterThanOrEqual(1);
    expect(r.after).toEqual(['add', 'delete']);
  });

  it('forged notifications from another local process are not believed: no event, the followed socket stays up', () => {
    const index = String(JSON.parse(t.exec(t.host, ['ip', '-j', 'link', 'show', 'ethB']))[0].ifindex);
    const r = t.node<{ events: unknown[]; seen: string[]; destroyed: boolean; routeToInterface: string }>(t.host, 'feed-forged.cjs', {
      far: t.farV4, port: PORT + 1, interface: 'ethB',
      forge: ['python3', 'test/netns/fixtures/forge-netlink.py', index, 'ethB', t.ethB.v4],
    });
    expect(r.events).toEqual([]);
    expect(r.seen).toEqual([]);
    expect(r.destroyed).toBe(false);
    expect(r.routeToInterface).toBe('ethB');
  });

  it("a datagram another process sends to routebind's request socket is not taken for the kernel's reply", () => {
    const r = t.node<{ before: string; after: string }>(t.host, 'feed-forged-reply.cjs', {});
    expect(r).toEqual({ before: 'lo', after: 'lo' });
  });

  describe('followed sockets', () => {
    afterEach(() => {
      t.run(t.host, ['ip', 'link', 'set', 'ethB', 'up']);
      t.run(t.host, ['ip', 'route', 'flush', 'dev', 'lo', 'table', 'main']);
      t.run(t.host, ['ip', 'addr', 'add', `${t.ethB.v4}/24`, 'dev', 'ethB']);
      t.run(t.host, ['ip', '-6', 'addr', 'add', `${t.ethB.v6}/64`, 'dev', 'ethB', 'nodad']);
      t.run(t.host, ['ip', 'route', 'del', '198.19.0.0/24']);
      t.run(t.host, ['ip', 'route', 'replace', 'default', 'via', t.ethB.gateway4, 'dev', 'ethB', 'metric', '200']);
      t.run(t.host, ['ip', '-6', 'route', 'replace', 'default', 'via', t.ethB.gateway6, 'dev', 'ethB', 'metric', '200']);
    });

    type Follow = { seen: Array<{ event: string; code: string; cause?: { kind: string; action: string } }>; destroyed: boolean; closed: boolean };
    const follow = (input: object) => t.node<Follow>(t.host, 'feed-follow.cjs', { far: t.farV4, port: PORT + 1, interface: 'ethB', mode: 'keep', ...input }, { timeoutMs: 60_000 });

    it("`ip route replace` that moves the only route through the interface elsewhere: ENETUNREACH", () => {
      t.exec(t.host, ['ip', 'route', 'del', 'default', 'via', t.ethB.gateway4, 'dev', 'ethB']);
      t.exec(t.host, ['ip', 'route', 'add', '198.19.0.0/24', 'via', t.ethB.gateway4, 'dev', 'ethB']);
      const r = follow({ breakWith: [['ip', 'route', 'replace', '198.19.0.0/24', 'via', t.ethA.gateway4, 'dev', 'ethA']] });
      expect(r.seen).toEqual([{ event: 'routeChange', code: 'ENETUNREACH', cause: { kind: 'route', action: 'change' } }]);
      expect(r.destroyed).toBe(false);
    });

    it('a replaced route elsewhere that leaves ours in place: nothing', () => {
      const r = follow({ breakWith: [['ip', 'route', 'replace', '198.19.0.0/24', 'via', t.ethA.gateway4, 'dev', 'ethA']] });
      expect(r.seen).toEqual([]);
    });

    it('the source removed, though the connection spelled it differently (FD00:B:0::2): EADDRNOTAVAIL', () => {
      const r = follow({
        far: t.farV6, localAddress: t.ethB.v6.toUpperCase().replace('::', ':0::'), mode: 'destroy',
        breakWith: [['ip', '-6', 'addr', 'del', `${t.ethB.v6}/64`, 'dev', 'ethB']],
      });
      expect(r.seen[0]).toMatchObject({ event: 'routeChange', code: 'EADDRNOTAVAIL' });
      expect(r.seen.find((s) => s.event === 'error')).toMatchObject({ code: 'EADDRNOTAVAIL' });
      expect(r.closed).toBe(true);
    });

    it("the interface went down while notifications were being lost: the re-check after 'resync' finds it", () => {
      const lines = [];
      for (let i = 0; i < 40_000; i++) lines.push(`route add 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32 dev lo`);
      lines.push('link set ethB down');
      const file = path.join(mkdtempSync(path.join(tmpdir(), 'rb-feed-')), 'batch');
      writeFileSync(file, `${lines.join('\n')}\n`);
      try {
        const r = follow({ breakWith: [['ip', '-batch', file]], waitMs: 3000 });
        expect(r.seen[0]).toMatchObject({ event: 'routeChange', code: 'ENETDOWN' });
        expect(r.seen[0].cause).toBeUndefined(); // found by the re-check, not by a notification
      } finally {
        rmSync(path.dirname(file), { recursive: true, force: true });
      }
    });
  });

  it('worker.terminate() while workers are inside routebind calls and watcher events flow: the process survives 40 terminations', () => {
    const r = t.node<{ rounds: number; terminated: number }>(t.host, 'worker-terminate.cjs', { rounds: 40, far: t.farV4 }, { timeoutMs: 120_000 });
    expect(r).toEqual({ rounds: 40, terminated: 40 });
  }, 150_000);
});
