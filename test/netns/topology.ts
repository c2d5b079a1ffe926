// Builds real multi-homed test hosts out of network namespaces and veth pairs, and tears them
// down again even when a test fails. Every name carries a per-run suffix so runs never collide.
//
//            ethA 198.18.1.2 / fd00:a::2          198.18.3.0/24
//   host ─── veth ─── routerA (rp_filter=1, nft) ─── far (198.19.0.1 / fd00:99::1 on lo)
//        └── veth ─── routerB (rp_filter=1, nft) ───┘
//            ethB 198.18.2.2 / fd00:b::2          198.18.4.0/24
//
// The host's default route goes via A (metric 100) and a worse one via B (metric 200).
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
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

function sh(script: string): void {
  const r = spawnSync('bash', ['-euo', 'pipefail', '-c', script], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`topology script failed (${r.status}): ${r.stderr}\n${script}`);
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
      if (opts.uid !== undefined) argv.push('setpriv', `--reuid=${opts.uid}`, `--regid=${opts.uid}`, '--clear-groups', '--inh-caps=-all');
      argv.push(process.execPath, path.join(__dirname, 'fixtures', fixture), JSON.stringify(input));
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
      // Processes left inside a namespace would keep it alive: kill them before deleting it.
      for (const ns of [host, routerA, routerB, far]) {
        spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout?.split('\n').filter(Boolean).forEach((pid) => {
          try { process.kill(Number(pid), 'SIGKILL'); } catch { /* already gone */ }
        });
        spawnSync('ip', ['netns', 'del', ns]);
      }
    },
  };
  trackedTopologies.add(topology);

  const nftRouter = (ns: string) => `
    ip netns exec ${ns} nft -f - <<'NFT'
table inet antispoof {
  chain forward {
    type filter hook forward priority 0; policy accept;
    meta nfproto ipv6 fib saddr . iif oif missing drop
  }
}
NFT`;

  try {
    sh(`
      for ns in ${host} ${routerA} ${routerB} ${far}; do
        ip netns add $ns
        ip -n $ns link set lo up
        # No duplicate address detection: addresses are usable at once, link-local ones too.
        ip netns exec $ns sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
      done
      ip link add ethA netns ${host} type veth peer name down0 netns ${routerA}
      ip link add ethB netns ${host} type veth peer name down0 netns ${routerB}
      ip link add up0 netns ${routerA} type veth peer name fromA netns ${far}
      ip link add up0 netns ${routerB} type veth peer name fromB netns ${far}

      # Routers forward, and drop what a strong end system would never send (reverse-path filter).
      for r in ${routerA} ${routerB}; do
        ip netns exec $r sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
          net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.default.rp_filter=1
        ip netns exec $r sysctl -qw net.ipv4.conf.down0.rp_filter=1 net.ipv4.conf.up0.rp_filter=1
      done
      # The multi-homed host: loose rp_filter so replies may come back on either uplink, and ARP
      # from the address of the asking interface so one test's mismatch cannot poison the next.
      ip netns exec ${host} sysctl -qw net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.default.rp_filter=2 \
        net.ipv4.conf.all.arp_announce=2

      ip -n ${host} addr add ${ethA.v4}/24 dev ethA
      ip -n ${host} addr add ${ethA.policyV4}/24 dev ethA
      ip -n ${host} addr add ${ethA.v6}/64 dev ethA nodad
      ip -n ${host} addr add ${ethA.policyV6}/64 dev ethA nodad preferred_lft 0
      ip -n ${host} addr add ${ethB.v4}/24 dev ethB
      ip -n ${host} addr add ${ethB.policyV4}/24 dev ethB
      ip -n ${host} addr add ${ethB.v6}/64 dev ethB nodad
      ip -n ${host} addr add ${ethB.policyV6}/64 dev ethB nodad preferred_lft 0
      ip -n ${routerA} addr add ${ethA.gateway4}/24 dev down0
      ip -n ${routerA} addr add ${ethA.gateway6}/64 dev down0 nodad
      ip -n ${routerB} addr add ${ethB.gateway4}/24 dev down0
      ip -n ${routerB} addr add ${ethB.gateway6}/64 dev down0 nodad
      ip -n ${routerA} addr add 198.18.3.1/24 dev up0
      ip -n ${routerA} addr add fd00:3::1/64 dev up0 nodad
      ip -n ${routerB} addr add 198.18.4.1/24 dev up0
      ip -n ${routerB} addr add fd00:4::1/64 dev up0 nodad
      ip -n ${far} addr add 198.18.3.2/24 dev fromA
      ip -n ${far} addr add fd00:3::2/64 dev fromA nodad
      ip -n ${far} addr add 198.18.4.2/24 dev fromB
      ip -n ${far} addr add fd00:4::2/64 dev fromB nodad
      ip -n ${far} addr add 198.19.0.1/32 dev lo
      ip -n ${far} addr add fd00:99::1/128 dev lo

      for ns in ${host} ${routerA} ${routerB} ${far}; do
        for dev in $(ip -n $ns -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | grep -v '^lo$'); do
          ip -n $ns link set $dev up
        done
      done

      # Host: a default route via A and a worse one via B, both families.
      ip -n ${host} route add default via ${ethA.gateway4} dev ethA metric 100
      ip -n ${host} route add default via ${ethB.gateway4} dev ethB metric 200
      ip -n ${host} -6 route add default via ${ethA.gateway6} dev ethA metric 100
      ip -n ${host} -6 route add default via ${ethB.gateway6} dev ethB metric 200
      # Routers know the far server and the far server answers each subnet through its router.
      ip -n ${routerA} route add 198.19.0.1/32 via 198.18.3.2
      ip -n ${routerA} -6 route add fd00:99::1/128 via fd00:3::2
      ip -n ${routerB} route add 198.19.0.1/32 via 198.18.4.2
      ip -n ${routerB} -6 route add fd00:99::1/128 via fd00:4::2
      ip -n ${far} route add 198.18.1.0/24 via 198.18.3.1
      ip -n ${far} -6 route add fd00:a::/64 via fd00:3::1
      ip -n ${far} route add 198.18.2.0/24 via 198.18.4.1
      ip -n ${far} -6 route add fd00:b::/64 via fd00:4::1

      # Routes that answer with an error instead of an interface.
      ip -n ${host} route add unreachable 198.19.66.0/24
      ip -n ${host} route add blackhole 198.19.67.0/24
      ip -n ${host} route add prohibit 198.19.68.0/24
      ip -n ${host} -6 route add unreachable fd00:66::/64
      ip -n ${host} -6 route add blackhole fd00:67::/64
      ip -n ${host} -6 route add prohibit fd00:68::/64
      ${spoofFilter6 ? nftRouter(routerA) : ''}
      ${spoofFilter6 ? nftRouter(routerB) : ''}
      ${policyRules ? `
      # Policy: table 100 leaves through B; chosen by source, mark, uid, tos and port.
      ip -n ${host} route add default via ${ethB.gateway4} dev ethB table 100
      ip -n ${host} -6 route add default via ${ethB.gateway6} dev ethB metric 100 table 100
      ip -n ${host} rule add from ${ethA.policyV4} lookup 100 pref 1000
      ip -n ${host} rule add fwmark 0x42 lookup 100 pref 1001
      ip -n ${host} rule add uidrange 4242-4242 lookup 100 pref 1002
      ip -n ${host} rule add tos 0x10 lookup 100 pref 1003
      ip -n ${host} rule add ipproto udp dport 5353 lookup 100 pref 1004
      ip -n ${host} rule add ipproto tcp sport 4000 lookup 100 pref 1005
      ip -n ${host} -6 rule add from ${ethA.policyV6} lookup 100 pref 1000
      ip -n ${host} -6 rule add fwmark 0x42 lookup 100 pref 1001
      ip -n ${host} -6 rule add uidrange 4242-4242 lookup 100 pref 1002
      ip -n ${host} -6 rule add ipproto udp dport 5353 lookup 100 pref 1004
      ` : ''}
    `);
  } catch (error) {
    topology.destroy();
    throw error;
  }
  return topology;
}
