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

const ROOT = path.join(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const COMMANDS = ['get', 'interfaces', 'routes', 'watch', 'connect', 'doctor'];

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

    it('no command at all prints the help and exits 64', async () => {
      const r = await cli([]);
      expect(r.status).toBe(64);
      expect(r.stdout).toContain('Commands:');
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

  describe('usage errors exit 64 with one line naming the code and the usage', () => {
    const cases: [string, string[]][] = [
      ['an unknown command', ['bogus']],
      ['an unknown option', ['get', '--bogus', '127.0.0.1']],
      ['get without a destination', ['get']],
      ['get with two destinations', ['get', '127.0.0.1', '127.0.0.2']],
      ['a --mark that is not a number', ['get', '127.0.0.1', '--mark', 'x']],
      ['routes --family 5', ['routes', '--family', '5']],
      ['watch with an argument', ['watch', 'now']],
      ['watch --family 5', ['watch', '--family', '5']],
      ['connect without a target', ['connect']],
      ['connect without a port', ['connect', '127.0.0.1']],
      ['connect with port 0', ['connect', '127.0.0.1:0']],
      ['connect with a port out of range', ['connect', '127.0.0.1:70000']],
      ['connect with an unbracketed IPv6 address', ['connect', '::1:80']],
      ['connect with brackets around IPv4', ['connect', '[127.0.0.1]:80']],
      ['connect with a bad timeout', ['connect', '127.0.0.1:80', '--timeout', 'soon']],
      ['doctor with an unknown option', ['doctor', '--verbose']],
    ];
    for (const [label, args] of cases) {
      it(label, async () => {
        const r = await cli(args);
        expect(r.status, r.stderr).toBe(64);
        const lines = r.stderr.trim().split('\n');
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(/^routebind( \w+)?: (ERR_USAGE|ERR_PARSE_ARGS_\w+): .+\(hint: .+\)$/);
      });
    }
  });

  describe('get', () => {
    it('prints the route to 127.0.0.1 as `ip route get` does', async () => {
      const r = await cli(['get', '127.0.0.1']);
      expect(r.status).toBe(0);
      expect(r.stdout.trim()).toMatch(/^local 127\.0\.0\.1 dev lo table (main|local) src 127\.0\.0\.1\b/);
    });

    it('--json prints the Route object', async () => {
      const r = await cli(['get', '127.0.0.1', '--json']);
      expect(r.status).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ destination: '127.0.0.1', family: 4, type: 'local', interface: 'lo', source: '127.0.0.1' });
    });

    it('an address that is not one exits 1 with ERR_INVALID_IP_ADDRESS and a hint, on one line', async () => {
      const r = await cli(['get', '1.2.3']);
      expect(r.status).toBe(1);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^routebind get: ERR_INVALID_IP_ADDRESS: .*"1\.2\.3".*\(hint: .+\)$/);
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

    it('a destination that is not an address exits 1 with ERR_INVALID_IP_ADDRESS', async () => {
      const r = await cli(['doctor', 'not-an-address']);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/^routebind doctor: ERR_INVALID_IP_ADDRESS: /);
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

    it('connects to a loopback server, prints route, source 127.0.0.1 and interface lo, exits 0', async () => {
      const r = await cli(['connect', `127.0.0.1:${port}`]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/route: +local 127\.0\.0\.1 dev lo/);
      expect(r.stdout).toMatch(/source: +127\.0\.0\.1$/m);
      expect(r.stdout).toMatch(/interface: +lo\b/);
      expect(r.stdout).toMatch(/pinned: +(SO_BINDTODEVICE|no)/);
      expect(r.stdout).toMatch(new RegExp(`succeeded: 127\\.0\\.0\\.1 port \\d+ -> 127\\.0\\.0\\.1 port ${port} through lo`));
      expect(seen).toContain('127.0.0.1');
    });

    it('--json gives the decision and the outcome', async () => {
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
      expect(r.stderr).toMatch(/^routebind connect: ECONNREFUSED: .*\(hint: /);
    });

    it('--udp connects a UDP socket to loopback and reports its decision', async () => {
      const r = await cli(['connect', `127.0.0.1:${port}`, '--udp', '--json']);
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, protocol: 'udp', decision: { source: '127.0.0.1', interface: 'lo' } });
    });

    it('--local-address this host does not have exits 1 with EADDRNOTAVAIL', async () => {
      const r = await cli(['connect', `127.0.0.1:${port}`, '--local-address', '192.0.2.254']);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/^routebind connect: EADDRNOTAVAIL: /);
    });

    it.skipIf(!hasLoopback6)(`accepts [v6]:port${hasLoopback6 ? '' : ' (skipped: no ::1 on this host)'}`, async () => {
      const closed = await closedPort('::1');
      const r = await cli(['connect', `[::1]:${closed}`, '--json']);
      expect(r.status).toBe(1);
      expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, host: '::1', port: closed, decision: { source: '::1', interface: 'lo' }, error: { code: 'ECONNREFUSED' } });
    });
  });
});
