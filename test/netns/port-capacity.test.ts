// routebind binds the source before connecting; with IP_BIND_ADDRESS_NO_PORT the kernel still
// picks the port at connect(), per destination, as it does for net.connect. Without it, bind()
// would take a port for every destination at once, and a host would run out of connections
// after ip_local_port_range of them where plain Node would not (bench/SYSCALLS.md).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { namespaceSupport, ROOT } from './topology';

const unsupported = namespaceSupport();
const PORTS = 10; // ephemeral ports in the namespace
const PER_SERVER = 8; // connections held open to each of two servers: 16 > 10 ports

describe.skipIf(unsupported !== undefined)(`ephemeral ports are shared across destinations${unsupported ? ` (skipped: ${unsupported})` : ''}`, () => {
  const made = new Set<string>();
  const ip = (...args: string[]) => {
    const r = spawnSync('ip', args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
  };
  afterAll(() => {
    for (const ns of made) spawnSync('ip', ['netns', 'del', ns]);
  });

  /** Opens the connections with one API in a namespace of its own (no TIME_WAIT from the other). */
  const openAll = (api: 'node' | 'routebind') => {
    const ns = `rbports-${process.pid.toString(36)}${randomBytes(2).toString('hex')}`;
    ip('netns', 'add', ns);
    made.add(ns);
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    ip('netns', 'exec', ns, 'sysctl', '-qw', `net.ipv4.ip_local_port_range=40000 ${40000 + PORTS - 1}`);
    const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, path.join(ROOT, 'test', 'netns', 'fixtures', 'port-capacity.cjs'),
      JSON.stringify({ api, perServer: PER_SERVER })], { encoding: 'utf8', timeout: 30_000 });
    if (r.status !== 0) throw new Error(`port-capacity.cjs (${api}) exited ${r.status}: ${r.stderr}`);
    return JSON.parse(r.stdout) as { open: number; errors: string[] };
  };

  it(`routebind.connect holds as many connections as net.connect: ${2 * PER_SERVER} to two servers over ${PORTS} ports`, () => {
    const plain = openAll('node');
    const fixed = openAll('routebind');
    expect(plain).toEqual({ open: 2 * PER_SERVER, errors: [] });
    expect(fixed).toEqual(plain);
  });
});
