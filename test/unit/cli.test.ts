// The `routebind` command line run as a child process, the way a user runs it: help for every
// command, usage errors, `get`, `doctor` on this host and `connect` to loopback servers. No
// privileges; nothing leaves loopback (doctor only looks routes up).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as net from 'node:net';
import { networkInterfaces } from 'node:os';
import * as path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { doctor } from '../../lib/index';
import { linuxIt, NEEDS, onLinux } from '../helpers/platform';

const ROOT = path.join(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const COMMANDS = ['get', 'interfaces', 'routes', 'watch', 'connect', 'serve', 'doctor'];

interface Result { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

function cli(args: string[], timeoutMs = 15_000): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    });
  });
}

/** A port nothing listens on: bound for a moment, then closed. */
async function closedPort(host: string): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const hasLoopback6 = Object.values(networkInterfaces()).some((list) => list?.some((a) => a.address === '::1'));

describe('routebind CLI', () => {
  beforeAll(() => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`node scripts/build.mjs\` first`);
  });

  describe('help', () => {
    it('top-level --help lists every command and the exit codes', async () => {
      const r = await cli(['--help']);
      expect(r.status).toBe(0);
      for (const name of COMMANDS) expect(r.stdout).toMatch(new RegExp(`^  ${name} `, 'm'));
      expect(r.stdout).toMatch(/Exit codes: 0 .*1 .*3 .*64/);
    });

    it('no command at all prints the help on stderr and exits 64', async () => {
      const r = await cli([]);
      expect(r.status).toBe(64);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain('Commands:');
    });

    it('--version prints the version from package.json', async () => {
      const r = await cli(['--version']);
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(`routebind ${require('../../package.json').version}\n`);
    });

    it('get --help explains every flag get takes', async () => {
      const r = await cli(['get', '--help']);
      for (const flag of ['--from', '--interface', '--iif', '--mark', '--uid', '--tos', '--protocol', '--sport', '--dport', '--json']) {
        expect(r.stdout).toMatch(new RegExp(`^  ${flag}\\b|, ${flag}\\b`, 'm'));
      }
    });

    for (const name of COMMANDS) {
      it(`${name} --help prints its usage and exits 0`, async () => {
        const r = await cli([name, '--help']);
        expect(r.status).toBe(0);
        expect(r.stdout.split('\n')[0]).toMatch(new RegExp(`^routebind ${name}\\b`));
        expect(r.stderr).toBe('');
      });
    }

    it('doctor --help documents its exit codes', async () => {
      const r = await cli(['doctor', '-h']);
      expect(r.stdout).toMatch(/0 no risks, 3 risks found, 1 a system error, 64 bad usage/);
    });
  });

  describe('bad usage exits 64: the exact first line names the flag, the second is the usage', () => {
    const GET = 'usage: routebind get <destination>';
    const cases: [string[], string, string][] = [
      [['bogus'], "routebind: unknown command 'bogus'", 'commands: get, interfaces'],
      [['get', '--bogus', '127.0.0.1'], "routebind get: unknown option '--bogus'", GET],
      [['get', '127.0.0.1', '--oif', 'lo'], "routebind get: unknown option '--oif': did you mean --interface?", GET],
      [['get'], 'routebind get: get takes a destination', GET],
      [['get', '127.0.0.1', '127.0.0.2'], 'routebind get: get takes exactly one destination', GET],
      [['get', '999.1.1.1'], "routebind get: '999.1.1.1' is not an IPv4 or IPv6 address", GET],
      [['get', '1.2.3'], "routebind get: '1.2.3' is not an IPv4 or IPv6 address", GET],
      [['get', 'example.com'], "routebind get: 'example.com' is not an IP address (names are not resolved here: `getent ahosts example.com` gives its addresses)", GET],
      [['get', '127.0.0.1', '--from', 'not-an-ip'], "routebind get: --from takes an IPv4 or IPv6 address (got 'not-an-ip')", GET],
      [['get', '127.0.0.1', '--from', '::1'], 'routebind get: --from ::1 is IPv6 but 127.0.0.1 is IPv4', GET],
      [['get', '127.0.0.1', '--mark', '4294967296'], "routebind get: --mark takes an integer from 0 to 4294967295 (got '4294967296')", GET],
      [['get', '127.0.0.1', '--mark', 'x'], "routebind get: --mark takes an integer from 0 to 4294967295 (got 'x')", GET],
      [['get', '127.0.0.1', '--mark'], 'routebind get: --mark needs a value', GET],
      [['get', '127.0.0.1', '--tos', '300'], "routebind get: --tos takes an integer from 0 to 255 (got '300')", GET],
      [['get', '127.0.0.1', '--uid', '4294967295'], "routebind get: --uid takes an integer from 0 to 4294967294 (got '4294967295')", GET],
      [['get', '127.0.0.1', '--sport', '70000'], "routebind get: --sport takes an integer from 0 to 65535 (got '70000')", GET],
      [['get', '127.0.0.1', '--dport', 'http'], "routebind get: --dport takes an integer from 0 to 65535 (got 'http')", GET],
      [['get', '127.0.0.1', '--protocol', 'bogus'], "routebind get: --protocol takes tcp, udp, icmp, icmpv6, sctp or a number from 0 to 255 (got 'bogus')", GET],
      [['get', '127.0.0.1', 'oif', 'lo'], "routebind get: unexpected 'oif lo': did you mean --interface lo?", GET],
      [['get', '127.0.0.1', 'from', '127.0.0.1'], "routebind get: unexpected 'from 127.0.0.1': did you mean --from 127.0.0.1?", GET],
      [['get', '127.0.0.1', 'mark', '7'], "routebind get: unexpected 'mark 7': did you mean --mark 7?", GET],
      [['get', '127.0.0.1', 'iif', 'lo'], "routebind get: unexpected 'iif lo': did you mean --iif lo?", GET],
      [['get', '127.0.0.1', 'tos', '4'], "routebind get: unexpected 'tos 4': did you mean --tos 4?", GET],
      [['get', '127.0.0.1', 'uid', '0'], "routebind get: unexpected 'uid 0': did you mean --uid 0?", GET],
      [['routes', '--table', '99999999999'], "routebind routes: --table takes an integer from 0 to 4294967295 (got '99999999999')", 'usage: routebind routes'],
      [['routes', '--family', '5'], "routebind routes: --family takes 4 or 6 (got '5')", 'usage: routebind routes'],
      [['interfaces', 'lo', 'eth0'], 'routebind interfaces: interfaces takes at most one interface name', 'usage: routebind interfaces'],
      [['watch', 'now'], "routebind watch: watch takes no arguments (got 'now')", 'usage: routebind watch'],
      [['watch', '--family', '5'], "routebind watch: --family takes 4 or 6 (got '5')", 'usage: routebind watch'],
      [['connect'], 'routebind connect: connect takes a host:port', 'usage: routebind connect'],
      [['connect', '127.0.0.1'], "routebind connect: '127.0.0.1' is not host:port", 'usage: routebind connect'],
      [['connect', '127.0.0.1:0'], "routebind connect: '0' is not a port (1-65535)", 'usage: routebind connect'],
      [['connect', '127.0.0.1:70000'], "routebind connect: '70000' is not a port (1-65535)", 'usage: routebind connect'],
      [['connect', '::1:80'], 'routebind connect: write an IPv6 address in brackets: [::1]:80', 'usage: routebind connect'],
      [['connect', '[127.0.0.1]:80'], "routebind connect: '127.0.0.1' in brackets is not an IPv6 address", 'usage: routebind connect'],
      [['connect', '127.0.0.1:80', '--timeout', 'soon'], "routebind connect: --timeout takes an integer from 0 to 2147483647 (got 'soon')", 'usage: routebind connect'],
      [['connect', '127.0.0.1:80', '--mark', '4294967296'], "routebind connect: --mark takes an integer from 0 to 4294967295 (got '4294967296')", 'usage: routebind connect'],
      [['connect', '127.0.0.1:80', '--local-address', 'nope'], "routebind connect: --local-address takes an IPv4 or IPv6 address (got 'nope')", 'usage: routebind connect'],
      [['connect', '127.0.0.1:80', '--local-address', '::1'], 'routebind connect: --local-address ::1 is IPv6 but 127.0.0.1 is IPv4', 'usage: routebind connect'],
      [['serve'], 'routebind serve: serve needs --port N', 'usage: routebind serve'],
      [['serve', '--port', '70000'], "routebind serve: --port takes an integer from 0 to 65535 (got '70000')", 'usage: routebind serve'],
      [['serve', '--port', '0', '--count', '0'], "routebind serve: --count takes an integer from 1 to 2147483647 (got '0')", 'usage: routebind serve'],
      [['serve', '--port', '0', 'now'], "routebind serve: serve takes no arguments (got 'now')", 'usage: routebind serve'],
      [['doctor', 'example.com'], "routebind doctor: 'example.com' is not an IP address (names are not resolved here: `getent ahosts example.com` gives its addresses)", 'usage: routebind doctor'],
      [['doctor', '--verbose'], "routebind doctor: unknown option '--verbose'", 'usage: routebind doctor'],
    ];
    for (const [args, first, second] of cases) {
      it(args.join(' ') || '(none)', async () => {
        const r = await cli(args);
        expect(r.status, r.stderr).toBe(64);
        expect(r.stdout).toBe('');
        const lines = r.stderr.trim().split('\n');
        expect(lines[0]).toBe(first);
        expect(lines[1]).toMatch(new RegExp(`^${second.replace(/[[\]().*+?]/g, '\\$&')}`));
        expect(lines).toHaveLength(2);
      });
    }
  });

  describe('get', () => {
    linuxIt(NEEDS.linuxRouting)('prints the route to 127.0.0.1 as `ip route get` does', async () => {
      const r = await cli(['get', '127.0.0.1']);
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(`local 127.0.0.1 dev lo src 127.0.0.1 uid ${process.getuid!()}\n`);
    });

    linuxIt(NEEDS.lo)('--json prints the Route object', async () => {
      const r = await cli(['get', '127.0.0.1', '--json']);
      expect(r.status).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ destination: '127.0.0.1', family: 4, type: 'local', interface: 'lo', source: '127.0.0.1' });
    });

    it('a lookup the kernel refuses exits 1 with one line: what, (CODE), a hint that fits', async () => {
      const r = await cli(['get', '127.0.0.1', '--interface', 'nope0']);
      expect(r.status).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe('routebind get: no route to 127.0.0.1 through nope0 (ENODEV); hint: no interface is named nope0; `routebind interfaces` lists them\n');
    });

    linuxIt(NEEDS.lo)('interfaces NAME shows that one interface as ip addr does; an unknown name exits 1 with ENODEV', async () => {
      const r = await cli(['interfaces', 'lo']);
      expect(r.status).toBe(0);
      expect(r.stdout.split('\n').slice(0, 3)).toEqual(['1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 state UNKNOWN', '    link/loopback 00:00:00:00:00:00', '    inet 127.0.0.1/8 scope host lo']);
      const bad = await cli(['interfaces', 'nope0']);
      expect(bad.status).toBe(1);
      expect(bad.stderr).toBe('routebind interfaces: no interface named nope0 (ENODEV); hint: `routebind interfaces` lists them\n');
    });
  });

  describe('doctor', () => {
    it('--json reports on this host: exit 0 with no findings or 3 with findings that each name a fix', async () => {
      const r = await cli(['doctor', '--json']);
      const report = JSON.parse(r.stdout);
      expect(report.ok).toBe(report.findings.length === 0);
      expect(r.status).toBe(report.ok ? 0 : 3);
      for (const f of report.findings) {
        expect(f).toMatchObject({ id: expect.any(String), severity: expect.stringMatching(/^(high|medium|low)$/), title: expect.any(String), detail: expect.any(String), fix: expect.any(String) });
        expect(f.fix.length).toBeGreaterThan(0);
      }
      expect(Array.isArray(report.uplinks)).toBe(true);
    });

    it('looks up given destinations (route lookups only)', async () => {
      const r = await cli(['doctor', '127.0.0.1', '--json']);
      expect([0, 3]).toContain(r.status);
      expect(JSON.parse(r.stdout).destinations).toContain('127.0.0.1');
    });

    it('doctor() is exported and checks its argument before looking anything up', () => {
      const report = doctor();
      expect(report.ok).toBe(report.findings.length === 0);
      expect(() => doctor('127.0.0.1' as unknown as string[])).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
      expect(() => doctor(['127.0.0.1', 'nope'])).toThrow(expect.objectContaining({ code: 'ERR_INVALID_IP_ADDRESS' }));
    });

  });

  describe('connect', () => {
    let server: net.Server;
    let port: number;
    const seen: string[] = [];

    beforeAll(async () => {
      server = net.createServer((socket) => {
        seen.push(`${socket.remoteAddress}`);
        socket.on('error', () => {});
        socket.end('hello\n');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as net.AddressInfo).port;
    });
    afterAll(() => new Promise((resolve) => server.close(resolve)));

    linuxIt(NEEDS.lo)('connects to a loopback server, prints route, source 127.0.0.1 and interface lo, exits 0', async () => {
      const r = await cli(['connect', `127.0.0.1:${port}`]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/route: +local 127\.0\.0\.1 dev lo/);
      expect(r.stdout).toMatch(/source: +127\.0\.0\.1$/m);
      expect(r.stdout).toMatch(/interface: +lo\b/);
      expect(r.stdout).toMatch(/pinned: +(SO_BINDTODEVICE|no)/);
      expect(r.stdout).toMatch(new RegExp(`succeeded: 127\\.0\\.0\\.1 port \\d+ -> 127\\.0\\.0\\.1 port ${port} through lo`));
      expect(seen).toContain('127.0.0.1');
    });

    linuxIt(NEEDS.lo)('--json gives the decision and the outcome', async () => {
      const r = await cli(['connect', `127.0.0.1:${port}`, '--json']);
      expect(r.status, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out).toMatchObject({ ok: true, protocol: 'tcp', port, decision: { source: '127.0.0.1', interface: 'lo', destination: '127.0.0.1' }, local: { address: '127.0.0.1' }, remote: { address: '127.0.0.1', port } });
    });

    it('a closed port exits non-zero with ECONNREFUSED', async () => {
      const closed = await closedPort('127.0.0.1');
      const r = await cli(['connect', `127.0.0.1:${closed}`]);
      expect(r.status).toBe(1);
      expect(r.stdout).toContain('Connection failed: ECONNREFUSED');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toBe(`routebind connect: connect 127.0.0.1:${closed} (ECONNREFUSED); hint: the destination answered with a reset: nothing listens on that port\n`);
    });

    linuxIt(NEEDS.lo)('--udp connects a UDP socket to loopback and reports its decision', async () => {
      const r = await cli(['connect', `127.0.0.1:${port}`, '--udp', '--json']);
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, protocol: 'udp', decision: { source: '127.0.0.1', interface: 'lo' } });
    });

    it('--local-address this host does not have exits 1 with EADDRNOTAVAIL', async () => {
      const r = await cli(['connect', `127.0.0.1:${port}`, '--local-address', '192.0.2.254']);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/^routebind connect: .*192\.0\.2\.254.* \(EADDRNOTAVAIL\); hint: /);
    });

    it.skipIf(!hasLoopback6 || !onLinux)(`accepts [v6]:port${!onLinux ? ` — skipped on ${process.platform}: ${NEEDS.lo}` : hasLoopback6 ? '' : ' (skipped: no ::1 on this host)'}`, async () => {
      const closed = await closedPort('::1');
      const r = await cli(['connect', `[::1]:${closed}`, '--json']);
      expect(r.status).toBe(1);
      expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, host: '::1', port: closed, decision: { source: '::1', interface: 'lo' }, error: { code: 'ECONNREFUSED' } });
    });
  });
  describe('serve', () => {
    /** `serve` as a child: resolves with its port once it says it listens. */
    function serve(args: string[]) {
      const child = spawn(process.execPath, [CLI, 'serve', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk) => (stdout += chunk));
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const listening = new Promise<number>((resolve, reject) => {
        child.stderr.on('data', (chunk) => {
          stderr += chunk;
          const m = /echo on \[?[^\]]*\]?:(\d+)/.exec(stderr);
          if (m) resolve(Number(m[1]));
        });
        child.once('close', () => reject(new Error(`serve ended before listening: ${stderr}`)));
      });
      const ended = new Promise<Result>((resolve) => child.once('close', (status, signal) => {
        clearTimeout(timer);
        resolve({ status, signal, stdout, stderr });
      }));
      return { listening, ended };
    }

    it('TCP: echoes, prints each client with the address and interface that served it, ends after --count', async () => {
      const s = serve(['--port', '0', '--count', String(hasLoopback6 ? 2 : 1), '--json']);
      const port = await s.listening;
      const echo = (host: string) => new Promise<string>((resolve, reject) => {
        const c = net.connect(port, host, () => c.end('ping'));
        let got = '';
        c.on('data', (d) => (got += d));
        c.on('close', () => resolve(got));
        c.on('error', reject);
      });
      expect(await echo('127.0.0.1')).toBe('ping');
      if (hasLoopback6) expect(await echo('::1')).toBe('ping');
      const r = await s.ended;
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/answering per address: .*127\.0\.0\.1 lo/);
      const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
      expect(lines[0]).toMatchObject({ protocol: 'tcp', local: `127.0.0.1:${port}`, interface: 'lo', pinned: 'SO_BINDTODEVICE' });
      expect(lines[0].client).toMatch(/^127\.0\.0\.1:\d+$/);
      if (hasLoopback6) expect(lines[1]).toMatchObject({ protocol: 'tcp', local: `[::1]:${port}`, interface: 'lo' });
    });

    it('UDP: echoes each datagram and prints its client, ends after --count', async () => {
      const s = serve(['--port', '0', '--udp', '--count', '1']);
      const port = await s.listening;
      const dgram = await import('node:dgram');
      const client = dgram.createSocket('udp4');
      const reply = new Promise<string>((resolve) => client.once('message', (m) => resolve(String(m))));
      client.send('ping', port, '127.0.0.1');
      expect(await reply).toBe('ping');
      client.close();
      const r = await s.ended;
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^udp 127\.0\.0\.1:\d+ -> /);
    });

    it('a port taken exits 1 with EADDRINUSE', async () => {
      const blocker = net.createServer();
      await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
      const { port } = blocker.address() as net.AddressInfo;
      const r = await cli(['serve', '--port', String(port)]);
      blocker.close();
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/^routebind serve: .*EADDRINUSE/);
    });
  });
});
