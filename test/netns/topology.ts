// Builds real multi-homed test hosts out of network namespaces and veth pairs, and tears them
// down again even when a test fails. Every name carries a per-run suffix so runs never collide.
// The topology itself (addresses, routes, filters) is two-uplinks.sh, shared with `npm run demo`.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

export const ROOT = path.join(__dirname, '..', '..');

export interface Uplink {
  name: 'ethA' | 'ethB';
  v4: string;
  v6: string;
  gateway4: string;
  gateway6: string;
  /** A second (IPv4 secondary, IPv6 deprecated) address that a policy rule sends to table 100, out through B. */
  policyV4: string;
  policyV6: string;
}

export interface Topology {
  suffix: string;
  host: string;
  routerA: string;
  routerB: string;
  far: string;
  ethA: Uplink;
  ethB: Uplink;
  /** The far server's service addresses, reachable through both uplinks. */
  farV4: string;
  farV6: string;
  /** Runs a command inside a namespace, returns stdout; throws on a non-zero exit. */
  exec(ns: string, argv: string[]): string;
  /** Runs a command inside a namespace and returns status, stdout and stderr. */
  run(ns: string, argv: string[]): { status: number; stdout: string; stderr: string };
  /** Runs `node <fixture> <json>` in a namespace and parses its JSON stdout. */
  node<T = unknown>(ns: string, fixture: string, input: unknown, options?: { uid?: number; timeoutMs?: number }): T;
  /** Starts a long-running process in a namespace; it is killed at teardown. */
  spawn(ns: string, argv: string[]): ChildProcess;
  destroy(): void;
}

/** Why namespace tests cannot run here, or undefined when they can. */
export function namespaceSupport(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'building network namespaces needs root (CAP_SYS_ADMIN + CAP_NET_ADMIN)';
  const ip = spawnSync('ip', ['-V']);
  if (ip.status !== 0) return 'iproute2 (`ip`) is not installed';
  return undefined;
}

export function hasNft(): boolean {
  return spawnSync('nft', ['--version']).status === 0;
}

const trackedTopologies = new Set<Topology>();
process.once('exit', () => {
  for (const t of trackedTopologies) t.destroy();
});

const SCRIPT = path.join(__dirname, 'two-uplinks.sh');

let staged: string | undefined;
/**
 * A world-readable copy of what the fixtures load (dist/, the addon, node-gyp-build, fixtures):
 * the checkout may sit under a 0700 directory (mktemp -d) that another uid cannot enter.
 */
function stagedForOtherUsers(): string {
  if (staged !== undefined) return staged;
  const dir = mkdtempSync(path.join(tmpdir(), 'routebind-staged-'));
  chmodSync(dir, 0o755);
  for (const part of ['package.json', 'dist', 'build/Release/routebind.node', 'node_modules/node-gyp-build', 'test/netns/fixtures']) {
    if (existsSync(path.join(ROOT, part))) cpSync(path.join(ROOT, part), path.join(dir, part), { recursive: true });
  }
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  staged = dir;
  return dir;
}

export function buildTwoUplinkHost(options: { policyRules?: boolean; spoofFilter6?: boolean } = {}): Topology {
  const policyRules = options.policyRules ?? true;
  const spoofFilter6 = options.spoofFilter6 ?? hasNft();
  const suffix = `${process.pid.toString(36)}${randomBytes(2).toString('hex')}`;
  const host = `rbh-${suffix}`;
  const routerA = `rba-${suffix}`;
  const routerB = `rbb-${suffix}`;
  const far = `rbf-${suffix}`;
  const children = new Set<ChildProcess>();
  let destroyed = false;

  const ethA: Uplink = { name: 'ethA', v4: '198.18.1.2', v6: 'fd00:a::2', gateway4: '198.18.1.1', gateway6: 'fd00:a::1', policyV4: '198.18.1.3', policyV6: 'fd00:a::3' };
  const ethB: Uplink = { name: 'ethB', v4: '198.18.2.2', v6: 'fd00:b::2', gateway4: '198.18.2.1', gateway6: 'fd00:b::1', policyV4: '198.18.2.3', policyV6: 'fd00:b::3' };

  const topology: Topology = {
    suffix, host, routerA, routerB, far, ethA, ethB,
    farV4: '198.19.0.1',
    farV6: 'fd00:99::1',
    exec(ns, argv) {
      return execFileSync('ip', ['netns', 'exec', ns, ...argv], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    },
    run(ns, argv) {
      const r = spawnSync('ip', ['netns', 'exec', ns, ...argv], { encoding: 'utf8' });
      return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
    },
    node(ns, fixture, input, opts = {}) {
      const argv = ['netns', 'exec', ns];
      let fixtures = path.join(__dirname, 'fixtures');
      if (opts.uid !== undefined) {
        argv.push('setpriv', `--reuid=${opts.uid}`, `--regid=${opts.uid}`, '--clear-groups', '--inh-caps=-all');
        fixtures = path.join(stagedForOtherUsers(), 'test', 'netns', 'fixtures');
      }
      argv.push(process.execPath, path.join(fixtures, fixture), JSON.stringify(input));
      const r = spawnSync('ip', argv, { encoding: 'utf8', timeout: opts.timeoutMs ?? 30_000, cwd: ROOT });
      if (r.status !== 0) throw new Error(`fixture ${fixture} in ${ns} exited ${r.status} ${r.signal ?? ''}: ${r.stderr}`);
      return JSON.parse(r.stdout);
    },
    spawn(ns, argv) {
      const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT });
      children.add(child);
      child.once('exit', () => children.delete(child));
      return child;
    },
    destroy() {
      if (destroyed) return;
      destroyed = true;
      trackedTopologies.delete(topology);
      for (const child of children) child.kill('SIGKILL');
      spawnSync('bash', [SCRIPT, 'down'], { env: { ...process.env, HOST: host, ROUTER_A: routerA, ROUTER_B: routerB, FAR: far } });
    },
  };
  trackedTopologies.add(topology);

  try {
    const r = spawnSync('bash', [SCRIPT, 'up'], {
      encoding: 'utf8',
      env: { ...process.env, HOST: host, ROUTER_A: routerA, ROUTER_B: routerB, FAR: far, POLICY: policyRules ? '1' : '0', SPOOF6: spoofFilter6 ? '1' : '0' },
    });
    if (r.status !== 0) throw new Error(`two-uplinks.sh up failed (${r.status}): ${r.stderr}`);
  } catch (error) {
    topology.destroy();
    throw error;
  }
  return topology;
}

/** Collects a child's stdout lines (parsed by `parse`) and waits for one that matches. */
export function lineReader<T = string>(child: ChildProcess, parse: (line: string) => T = (line) => line as unknown as T) {
  const lines: T[] = [];
  let buffered = '';
  child.stdout!.on('data', (chunk) => {
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    for (const part of parts) lines.push(parse(part));
  });
  return {
    lines,
    async waitFor(predicate: (line: T) => boolean, ms = 3000): Promise<T> {
      const deadline = Date.now() + ms;
      for (;;) {
        const found = lines.find(predicate);
        if (found !== undefined) return found;
        if (Date.now() > deadline) throw new Error(`no matching line; saw ${JSON.stringify(lines)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}
