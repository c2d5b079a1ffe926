// The `routebind` command line inside real namespaces: `doctor` finds each multi-homing risk of a
// two-uplink host once it is made present (and none on a single-homed host), `watch` prints the
// changes `ip` makes, and `connect` shows and makes routebind's decision towards the far server.
import { execFileSync, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import * as path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildTwoUplinkHost, namespaceSupport, ROOT, type Topology, lineReader } from './topology';

// Root's uid without any capability (as an unprivileged service runs): the checkout stays readable,
// which a private temporary clone is not to another uid.
const NO_CAPABILITIES = ['--bounding-set=-all', '--inh-caps=-all', '--securebits', '+noroot,+noroot_locked'];

const unsupported = namespaceSupport();
const CLI = path.join(ROOT, 'dist', 'cli.js');
const PORT = 7000;

interface Finding { id: string; severity: string; title: string; detail: string; fix: string; family?: 4 | 6; interface?: string; addresses?: string[]; lookups?: Array<{ destination: string; from: string; interface?: string; gateway?: string }> }
interface Report { ok: boolean; findings: Finding[]; uplinks: Array<{ interface: string; addresses: string[]; defaultRoutes: Array<{ family: 4 | 6; gateway?: string }> }>; destinations: string[] }

/** One namespace with one uplink to a "router" namespace: one address per family, one default route each. */
function buildSingleHomedHost(): { host: string; router: string; destroy(): void } {
  const suffix = `${process.pid.toString(36)}${randomBytes(2).toString('hex')}`;
  const host = `rbs-${suffix}`;
  const router = `rbr-${suffix}`;
  const ip = (...argv: string[]) => execFileSync('ip', argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  const destroy = () => {
    for (const ns of [host, router]) {
      for (const pid of spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout?.split('\n').filter(Boolean) ?? []) {
        spawnSync('kill', ['-9', pid]);
      }
      spawnSync('ip', ['netns', 'del', ns]);
    }
  };
  try {
    for (const ns of [host, router]) {
      ip('netns', 'add', ns);
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      ip('netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0');
    }
    ip('link', 'add', 'eth0', 'netns', host, 'type', 'veth', 'peer', 'name', 'down0', 'netns', router);
    ip('-n', host, 'addr', 'add', '198.18.9.2/24', 'dev', 'eth0');
    ip('-n', host, 'addr', 'add', 'fd00:9::2/64', 'dev', 'eth0', 'nodad');
    ip('-n', router, 'addr', 'add', '198.18.9.1/24', 'dev', 'down0');
    ip('-n', router, 'addr', 'add', 'fd00:9::1/64', 'dev', 'down0', 'nodad');
    ip('-n', host, 'link', 'set', 'eth0', 'up');
    ip('-n', router, 'link', 'set', 'down0', 'up');
    ip('-n', host, 'route', 'add', 'default', 'via', '198.18.9.1', 'dev', 'eth0');
    ip('-n', host, '-6', 'route', 'add', 'default', 'via', 'fd00:9::1', 'dev', 'eth0');
  } catch (error) {
    destroy();
    throw error;
  }
  return { host, router, destroy };
}

async function stderrSays(child: ChildProcess, text: string): Promise<void> {
  let seen = '';
  while (!seen.includes(text)) seen += String((await once(child.stderr!, 'data'))[0]);
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

describe.skipIf(unsupported !== undefined)(`routebind CLI in namespaces${unsupported ? ` (skipped: ${unsupported})` : ''}`, () => {
  let t: Topology;
  let single: ReturnType<typeof buildSingleHomedHost> | undefined;

  const routebind = (ns: string, args: string[]) => t.run(ns, [process.execPath, CLI, ...args]);
  const doctorIn = (ns: string, args: string[] = []) => {
    const r = routebind(ns, ['doctor', '--json', ...args]);
    let report: Report;
    try {
      report = JSON.parse(r.stdout);
    } catch {
      throw new Error(`doctor printed no JSON (exit ${r.status}): ${r.stdout}${r.stderr}`);
    }
    return { status: r.status, stderr: r.stderr, report };
  };
  const only = (report: Report, id: string) => report.findings.filter((f) => f.id === id);

  beforeAll(async () => {
    t = buildTwoUplinkHost({ policyRules: false });
    const server = t.spawn(t.far, [process.execPath, 'test/netns/fixtures/far-server.cjs', JSON.stringify({ addresses: [t.farV4, t.farV6], port: PORT })]);
    const [chunk] = await once(server.stdout!, 'data');
    expect(String(chunk)).toContain('ready');
  });
  afterAll(() => {
    single?.destroy();
    t?.destroy();
  });

  describe('doctor', () => {
    it('finds the two default routes of each family and names the policy rules that fix them; the fix removes the finding', () => {
      const { status, report } = doctorIn(t.host);
      expect(status).toBe(3);
      expect(report.ok).toBe(false);
      expect(report.findings.map((f) => f.id).sort()).toEqual(['multiple-default-routes', 'multiple-default-routes']);
      for (const family of [4, 6] as const) {
        const [f] = report.findings.filter((x) => x.family === family);
        const uplink = t.ethB;
        const [addr, secondary, gateway] = family === 4 ? [uplink.v4, uplink.policyV4, uplink.gateway4] : [uplink.v6, uplink.policyV6, uplink.gateway6];
        const ip = family === 4 ? 'ip' : 'ip -6';
        expect(f, `IPv${family}`).toMatchObject({ id: 'multiple-default-routes', family, interface: 'ethB', severity: 'high' });
        expect(f.addresses?.sort()).toEqual([addr, secondary].sort());
        expect(f.lookups?.every((l) => l.interface === 'ethA')).toBe(true);
        expect(f.title).toContain(addr);
        expect(f.fix).toMatch(new RegExp(`^${ip} rule add from ${addr} table \\d+$`, 'm'));
        expect(f.fix).toMatch(new RegExp(`^${ip} route add default via ${gateway} dev ethB table \\d+$`, 'm'));
        expect(f.fix).toContain(`localAddress: '`);
      }

      // Apply the commands the fixes name: the policy rules keep ethB's addresses on ethB.
      const commands = report.findings.flatMap((f) => f.fix.split('\n').filter((l) => /^ip (-6 )?(rule|route) add /.test(l)));
      try {
        for (const c of commands) t.exec(t.host, c.split(' '));
        const after = doctorIn(t.host);
        expect(after.report.findings, JSON.stringify(after.report.findings)).toEqual([]);
        expect(after.status).toBe(0);
      } finally {
        for (const c of commands) t.run(t.host, c.replace(' add ', ' del ').split(' '));
      }
      expect(only(doctorIn(t.host).report, 'multiple-default-routes')).toHaveLength(2);
    });

    it('finds an address without a route of its own, strict rp_filter and an IPv6 prefix without a route', () => {
      const extra6 = 'fd00:bb::5';
      // The topology writes rp_filter=2 to `default` after the veths exist, which the kernel
      // copies to ethA and ethB; `all`=1 alone would leave them loose (the larger value wins).
      // So: ethA strict through `all` only, ethB strict by its own setting too.
      t.exec(t.host, ['ip', 'route', 'del', 'default', 'via', t.ethB.gateway4, 'dev', 'ethB']);
      t.exec(t.host, ['sysctl', '-qw', 'net.ipv4.conf.all.rp_filter=1', 'net.ipv4.conf.ethA.rp_filter=0', 'net.ipv4.conf.ethB.rp_filter=1']);
      t.exec(t.host, ['ip', '-6', 'addr', 'add', `${extra6}/64`, 'dev', 'ethB', 'nodad', 'noprefixroute']);
      try {
        const { status, report } = doctorIn(t.host);
        expect(status).toBe(3);
        const ids = new Set(report.findings.map((f) => f.id));
        expect([...ids].sort()).toEqual(['address-without-route', 'ipv6-prefix-without-route', 'multiple-default-routes', 'strict-rp-filter']);

        // ethB's IPv4 addresses: no default route leaves through ethB, so they leave through ethA.
        const orphans = only(report, 'address-without-route');
        expect(orphans.flatMap((f) => f.addresses).sort()).toEqual([t.ethB.v4, t.ethB.policyV4].sort());
        for (const f of orphans) {
          const [address] = f.addresses!;
          expect(f).toMatchObject({ family: 4, interface: 'ethB' });
          expect(f.lookups?.[0]).toMatchObject({ from: address, interface: 'ethA', gateway: t.ethA.gateway4 });
          expect(f.title).toContain(address);
          expect(f.title).toContain('ethA');
          expect(f.fix).toMatch(new RegExp(`^ip route add default via .* dev ethB table (\\d+)$`, 'm'));
          expect(f.fix).toMatch(new RegExp(`^ip rule add from ${address.replace(/\./g, '\\.')} table \\d+$`, 'm'));
        }
        // IPv4 has one default route left; IPv6 still has two (now with the extra address too).
        const multi = only(report, 'multiple-default-routes');
        expect(multi.map((f) => f.family)).toEqual([6]);
        expect(multi[0].addresses).toContain(extra6);

        const strict = only(report, 'strict-rp-filter');
        expect(strict.map((f) => f.interface).sort()).toEqual(['ethA', 'ethB']);
        for (const f of strict) {
          expect(f.fix.split('\n')[0]).toBe(`sysctl -w net.ipv4.conf.${f.interface}.rp_filter=2`);
          expect(f.severity).toBe('high');
        }

        const prefix = only(report, 'ipv6-prefix-without-route');
        expect(prefix).toHaveLength(1);
        expect(prefix[0]).toMatchObject({ family: 6, interface: 'ethB', addresses: [extra6] });
        expect(prefix[0].fix.split('\n')[0]).toBe('ip -6 route add fd00:bb::/64 dev ethB');
        expect(prefix[0].detail).toContain('noprefixroute');

        // Given destinations are what the lookups are made for.
        const towardsFar = doctorIn(t.host, [t.farV4]).report;
        expect(towardsFar.destinations).toContain(t.farV4);
        for (const f of only(towardsFar, 'address-without-route')) {
          expect(f.lookups).toEqual([{ destination: t.farV4, from: f.addresses![0], interface: 'ethA', gateway: t.ethA.gateway4 }]);
        }

        // Plain words name the same findings and fixes.
        const plain = routebind(t.host, ['doctor']);
        expect(plain.status).toBe(3);
        expect(plain.stdout).toMatch(/^6 multi-homing risks found\./);
        expect(plain.stdout).toContain(`${t.ethB.v4} is on ethB, but its packets to off-link destinations leave through ethA`);
        expect(plain.stdout).toContain('sysctl -w net.ipv4.conf.ethB.rp_filter=2');

        // Applying the rp_filter and prefix fixes removes those findings.
        for (const f of [...strict, ...prefix]) t.exec(t.host, f.fix.split('\n')[0].split(' '));
        const fixed = doctorIn(t.host).report;
        expect(only(fixed, 'strict-rp-filter')).toEqual([]);
        expect(only(fixed, 'ipv6-prefix-without-route')).toEqual([]);
      } finally {
        t.run(t.host, ['ip', '-6', 'route', 'del', 'fd00:bb::/64', 'dev', 'ethB']);
        t.run(t.host, ['ip', '-6', 'addr', 'del', `${extra6}/64`, 'dev', 'ethB']);
        t.run(t.host, ['sysctl', '-qw', 'net.ipv4.conf.all.rp_filter=2', 'net.ipv4.conf.ethA.rp_filter=2', 'net.ipv4.conf.ethB.rp_filter=2']);
        t.run(t.host, ['ip', 'route', 'add', 'default', 'via', t.ethB.gateway4, 'dev', 'ethB', 'metric', '200']);
      }
    });

    it('finds nothing on a single-homed host and exits 0', () => {
      single = buildSingleHomedHost();
      const { status, report, stderr } = doctorIn(single.host);
      expect(report.findings, stderr).toEqual([]);
      expect(report.ok).toBe(true);
      expect(status).toBe(0);
      expect(report.uplinks).toHaveLength(1);
      expect(report.uplinks[0]).toMatchObject({ interface: 'eth0', addresses: ['198.18.9.2', 'fd00:9::2'] });
      expect(report.uplinks[0].defaultRoutes.map((d) => `${d.family} ${d.gateway}`)).toEqual(['4 198.18.9.1', '6 fd00:9::1']);
      const plain = routebind(single.host, ['doctor']);
      expect(plain.status).toBe(0);
      expect(plain.stdout).toMatch(/^No multi-homing risks found\. Uplinks: eth0 198\.18\.9\.2, fd00:9::2\./);
    });
  });

  it('watch prints route and address changes as `ip` makes them, JSON and plain, and exits 0 on SIGINT', async () => {
    const json = t.spawn(t.host, [process.execPath, CLI, 'watch', '--json']);
    const plain = t.spawn(t.host, [process.execPath, CLI, 'watch']);
    const jsonLines = lineReader(json);
    const plainLines = lineReader(plain);
    await Promise.all([stderrSays(json, 'listening'), stderrSays(plain, 'listening')]);
    try {
      t.exec(t.host, ['ip', 'route', 'add', '198.19.50.0/24', 'via', t.ethB.gateway4, 'dev', 'ethB', 'metric', '7']);
      const added = JSON.parse(await jsonLines.waitFor((l) => l.includes('"198.19.50.0/24"')));
      expect(added).toMatchObject({ kind: 'route', action: 'add', destination: '198.19.50.0/24', interface: 'ethB', gateway: t.ethB.gateway4, metric: 7, table: 254, family: 4 });
      await plainLines.waitFor((l) => l === `+ route 198.19.50.0/24 via ${t.ethB.gateway4} dev ethB metric 7`);

      t.exec(t.host, ['ip', '-6', 'addr', 'add', 'fd00:b::77/64', 'dev', 'ethB', 'nodad']);
      const address = JSON.parse(await jsonLines.waitFor((l) => l.includes('"fd00:b::77"') && l.includes('"address"')));
      expect(address).toMatchObject({ kind: 'address', action: 'add', interface: 'ethB', family: 6, prefixLength: 64 });
      await plainLines.waitFor((l) => l === '+ address fd00:b::77/64 dev ethB');

      t.exec(t.host, ['ip', '-6', 'addr', 'del', 'fd00:b::77/64', 'dev', 'ethB']);
      t.exec(t.host, ['ip', 'route', 'del', '198.19.50.0/24']);
      await plainLines.waitFor((l) => l === '- address fd00:b::77/64 dev ethB');
      await plainLines.waitFor((l) => l.startsWith('- route 198.19.50.0/24 '));
      // Every JSON line is one whole event.
      for (const line of jsonLines.lines) expect(JSON.parse(line)).toHaveProperty('kind');

      json.kill('SIGINT');
      plain.kill('SIGINT');
      expect(await exited(json)).toEqual({ code: 0, signal: null });
      expect(await exited(plain)).toEqual({ code: 0, signal: null });
    } finally {
      t.run(t.host, ['ip', 'route', 'del', '198.19.50.0/24']);
      t.run(t.host, ['ip', '-6', 'addr', 'del', 'fd00:b::77/64', 'dev', 'ethB']);
      json.kill('SIGKILL');
      plain.kill('SIGKILL');
    }
  });

  describe('output as ip prints it for the same topology', () => {
    /** ip's first line, without the trailing blank and the `from ::` ip adds to IPv6 answers. */
    const ipLine = (args: string[]) => t.exec(t.host, ['ip', ...args]).split('\n')[0].trimEnd().replace(/ from :: /, ' ');
    const ours = (args: string[]) => {
      const r = routebind(t.host, args);
      expect(r.status, r.stderr).toBe(0);
      return r.stdout.trimEnd();
    };
    const cases: Array<[string[], string[]]> = [];
    beforeAll(() => {
      cases.push(
        [['route', 'get', t.farV4], ['get', t.farV4]],
        [['route', 'get', t.farV4, 'oif', 'ethB'], ['get', t.farV4, '--interface', 'ethB']],
        [['route', 'get', t.farV4, 'from', t.ethB.v4], ['get', t.farV4, '--from', t.ethB.v4]],
        [['route', 'get', t.farV4, 'mark', '16', 'uid', '5'], ['get', t.farV4, '--mark', '16', '--uid', '5']],
        [['route', 'get', t.farV4, 'ipproto', 'tcp', 'dport', '443', 'sport', '5000'], ['get', t.farV4, '--protocol', 'tcp', '--dport', '443', '--sport', '5000']],
        [['route', 'get', t.ethA.v4], ['get', t.ethA.v4]],
        [['route', 'get', '198.18.2.7'], ['get', '198.18.2.7']],
        [['-6', 'route', 'get', t.farV6], ['get', t.farV6]],
        [['-6', 'route', 'get', t.farV6, 'oif', 'ethB'], ['get', t.farV6, '--interface', 'ethB']],
        [['-6', 'route', 'get', 'fd00:b::9'], ['get', 'fd00:b::9']],
        [['-6', 'route', 'get', t.ethA.v6], ['get', t.ethA.v6]],
      );
    });

    it('get prints what `ip route get` prints (IPv4 and IPv6: no table main, proto and pref kept)', () => {
      for (const [ip, rb] of cases) expect(ours(rb), `ip ${ip.join(' ')}`).toBe(ipLine(ip));
    });

    it('a refused lookup is one line whose hint fits the case: blackhole EINVAL, unreachable, no interface', () => {
      const cases: Array<[string[], string]> = [
        [['get', '198.19.67.1'], 'routebind get: no route to 198.19.67.1 (EINVAL); hint: a blackhole route covers 198.19.67.1; `routebind routes` shows it'],
        [['get', '198.19.66.1'], 'routebind get: no route to 198.19.66.1 (EHOSTUNREACH); hint: an unreachable route covers 198.19.66.1; `routebind routes` shows it'],
        [['get', t.farV4, '--interface', 'nope0'], `routebind get: no route to ${t.farV4} through nope0 (ENODEV); hint: no interface is named nope0; \`routebind interfaces\` lists them`],
      ];
      for (const [args, line] of cases) {
        const r = routebind(t.host, args);
        expect(r.status, args.join(' ')).toBe(1);
        expect(r.stdout).toBe('');
        expect(r.stderr).toBe(`${line}\n`);
      }
    });

    it('routes prints what `ip route show` prints: no /32 on host routes, no table main', () => {
      const ipTable = (args: string[]) => t.exec(t.host, ['ip', ...args]).split('\n').map((l) => l.trimEnd()).filter(Boolean).join('\n');
      expect(ours(['routes', '--table', 'main', '--family', '4'])).toBe(ipTable(['-4', 'route', 'show', 'table', 'main']));
      expect(ours(['routes', '--table', 'main', '--family', '6'])).toBe(ipTable(['-6', 'route', 'show', 'table', 'main']));
      expect(ours(['routes', '--table', 'local', '--family', '4'])).toBe(ipTable(['-4', 'route', 'show', 'table', 'local']));
    });

    it('interfaces NAME prints what `ip addr show NAME` prints, less qdisc, group, brd of the link and lifetimes', () => {
      for (const name of ['lo', 'ethA', 'ethB']) {
        const ip = t.exec(t.host, ['ip', 'addr', 'show', 'dev', name]).split('\n')
          .filter((l) => l.trim() !== '' && !/^\s+valid_lft/.test(l))
          .map((l) => l.trimEnd()
            .replace(/^(\d+: [^:@]+)@[^:]+:/, '$1:')
            .replace(/ qdisc \S+| group \S+| qlen \d+/g, '')
            .replace(/^(\s+link\/\S+ \S+) brd \S+.*$/, '$1'))
          .join('\n');
        expect(ours(['interfaces', name]), name).toBe(ip);
      }
    });
  });

  describe('connect', () => {
    it('--interface ethB connects to the far server from ethB\'s address, and says so', () => {
      const r = routebind(t.host, ['connect', `${t.farV4}:${PORT}`, '--interface', 'ethB']);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`route: +${t.farV4} via ${t.ethB.gateway4} dev ethB`));
      expect(r.stdout).toMatch(new RegExp(`source: +${t.ethB.v4}$`, 'm'));
      expect(r.stdout).toMatch(/interface: +ethB \(index \d+\)/);
      expect(r.stdout).toMatch(/pinned: +SO_BINDTODEVICE/);
      expect(r.stdout).toMatch(new RegExp(`Connection succeeded: ${t.ethB.v4} port \\d+ -> ${t.farV4} port ${PORT} through ethB`));
    });

    it('[v6]:port --interface ethB --json, and --local-address picks the interface that owns it', () => {
      const v6 = routebind(t.host, ['connect', `[${t.farV6}]:${PORT}`, '--interface', 'ethB', '--json']);
      expect(v6.status, v6.stderr).toBe(0);
      expect(JSON.parse(v6.stdout)).toMatchObject({ ok: true, host: t.farV6, decision: { interface: 'ethB', source: t.ethB.v6, pinned: 'SO_BINDTODEVICE' }, local: { address: t.ethB.v6 } });
      const byAddress = routebind(t.host, ['connect', `${t.farV4}:${PORT}`, '--local-address', t.ethB.v4, '--json']);
      expect(byAddress.status, byAddress.stderr).toBe(0);
      expect(JSON.parse(byAddress.stdout)).toMatchObject({ ok: true, decision: { interface: 'ethB', source: t.ethB.v4 } });
    });

    it('--udp --interface ethB binds, pins and connects a UDP socket', () => {
      const r = routebind(t.host, ['connect', `${t.farV4}:${PORT}`, '--udp', '--interface', 'ethB', '--json']);
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, protocol: 'udp', decision: { interface: 'ethB', source: t.ethB.v4, pinned: 'SO_BINDTODEVICE' }, local: { address: t.ethB.v4 } });
    });

    it('--mark without CAP_NET_ADMIN says SO_MARK needs CAP_NET_ADMIN, on one line, exit 1', () => {
      const r = t.run(t.host, ['setpriv', ...NO_CAPABILITIES, process.execPath, CLI, 'connect', `${t.farV4}:${PORT}`, '--mark', '7']);
      expect(r.status, r.stderr).toBe(1);
      expect(r.stdout).toContain('Connection failed: EPERM');
      expect(r.stderr).toBe('routebind connect: --mark 7: SO_MARK needs CAP_NET_ADMIN (EPERM); hint: run as root, or give node CAP_NET_ADMIN (systemd AmbientCapabilities=CAP_NET_ADMIN, or setcap cap_net_admin+ep)\n');
      // With the privilege, the same mark is set and the connection made.
      const root = routebind(t.host, ['connect', `${t.farV4}:${PORT}`, '--mark', '7']);
      expect(root.status, root.stderr).toBe(0);
    });

    it('a route lookup refused through connect prints one line: what, the code once, no internal names', () => {
      const r = routebind(t.host, ['connect', `${t.farV4}:${PORT}`, '--interface', 'nope0']);
      expect(r.status).toBe(1);
      expect(r.stderr).toBe(`routebind connect: connect ${t.farV4}:${PORT}: no route to ${t.farV4} through nope0 (ENODEV); hint: no such interface; \`routebind interfaces\` lists them\n`);
      const blackhole = routebind(t.host, ['connect', `198.19.67.1:${PORT}`]);
      expect(blackhole.status).toBe(1);
      const line = blackhole.stderr.trim();
      expect(line.split('\n')).toHaveLength(1);
      expect(line).toMatch(new RegExp(`^routebind connect: connect 198\\.19\\.67\\.1:${PORT}: .+ \\(EINVAL\\)`));
      expect(line.match(/EINVAL/g)).toHaveLength(1);
      expect(line).not.toMatch(/routeTo|RTM_|Received/);
    });

    it('--local-address of an address the host does not have fails at once with EADDRNOTAVAIL', () => {
      const r = routebind(t.host, ['connect', `${t.farV4}:${PORT}`, '--local-address', '198.18.9.9']);
      expect(r.status).not.toBe(0);
      expect(r.stdout).toContain('Connection failed: EADDRNOTAVAIL');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^routebind connect: .*198\.18\.9\.9.* \(EADDRNOTAVAIL\); hint: /);
    });
  });
});
