// `npm run bench`: what one routeTo() costs next to the other ways a Node program can learn the
// route to a destination (spawning iproute2, the connected-UDP-socket trick, the raw netlink round
// trip inside the addon, a cached answer), what routebind.connect() costs next to net.connect()
// (on loopback, split into Node's fd adoption, the socket options and routebind's JavaScript; and
// through an uplink of test/netns/two-uplinks.sh, bench/uplink.mjs), whether memory stays flat
// over many lookups and connects (bench/memory.mjs, fresh processes), how soon a route change
// reaches watch() (bench/latency.mjs), and whether per-call costs stay flat on a host with 2,500
// links and 3,000 addresses (bench/scale.mjs), and what routebind's per-address wildcard server
// costs: accepted connections per second next to a plain net.Server, and listen() on a host with
// 1,000 addresses (bench/server.mjs). Every figure is printed with its target and
// whether it is met. The latency, uplink and scale figures need root: they run in network
// namespaces this script makes and deletes (also on Ctrl-C).
// Nothing here sends a packet off the host: lookups only ask the kernel's table, connects go to
// loopback or between the namespaces, and route and address changes happen only inside them.
// `--json` prints the results as JSON only; either way they are written to bench/results/latest.json.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import { mkdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const routebind = require('../dist/index.js');
const native = require('../dist/binding.js').posixNative();
const { routeTo, routes } = routebind;

const jsonOnly = process.argv.includes('--json');
// `--only=scale,uplink` runs only those groups (for working on one figure); the others are
// reported as skipped, and the results go to bench/results/partial.json instead of latest.json.
const GROUPS = ['cost', 'memory', 'latency', 'scale', 'uplink', 'server'];
const onlyArg = process.argv.find((a) => a.startsWith('--only='));
const selected = new Set(onlyArg === undefined ? GROUPS : onlyArg.slice('--only='.length).split(','));
for (const g of selected) {
  if (!GROUPS.includes(g)) {
    console.error(`unknown group '${g}' in --only (groups: ${GROUPS.join(', ')})`);
    process.exit(64);
  }
}
const NOT_SELECTED = { skipped: 'not selected (--only)' };
const log = jsonOnly ? () => {} : (...args) => console.log(...args);

// Each case's timed budget is split over ROUNDS rounds; odd rounds run the cases in reverse order,
// so load that comes and goes on a shared machine hits every case alike, and a case's position in
// the round does not favour it. Ratios are taken within each round (cases measured moments apart)
// and the median round's ratio is reported.
const ROUNDS = 7;
const LOOPBACK = '127.0.0.1';
const FLOOR_BATCH = 200; // lookups per benchRouteGet() call: the call's own cost vanishes
const MEMORY_LOOKUPS = 1_000_000;
const MEMORY_CONNECTS = 100_000;
const LATENCY_ITERATIONS = 300;
// The big host of the scaling figures (a namespace): veth ends, and addresses on them.
const SCALE_LINKS = 2500;
const SCALE_ADDRESSES = 3000;
const SCALE_ROUNDS = 21;
// Seconds per burst: each case runs this long in one namespace, then in the other, every round.
const SCALE_SECONDS = { connect: 0.15, netConnect: 0.15, connectCall: 0.05, connectFromCall: 0.05, uncached: 0.05, cached: 0.03 };
const SCALE_CHANGES = 9; // address changes (one per round in each namespace), each followed by one timed call
// The connect rate through uplink A of test/netns/two-uplinks.sh (far server, host's address on ethA).
const UPLINK_SERVER = '198.19.0.1';
const UPLINK_SOURCE = '198.18.1.2';
const UPLINK_PORT = 9000;
const UPLINK_SECONDS = 10; // per case, over all rounds
const UPLINK_ROUNDS = 25;
const SCALE_DESTINATION = '198.18.0.99'; // on-link through rbs0 in both namespaces; only looked up
// The memory children run with V8's young generation pinned to two 1 MiB semi-spaces (V8 otherwise
// grows it by up to ~24 MiB in a busy loop: RSS that is reserved, not retained), the garbage
// collector on the main thread and one malloc arena (V8's helper threads otherwise leave pages in
// their own arenas and pools that come and go by ±1 MiB). A leak, of JS objects or of the addon's
// mallocs, still shows; only the noise goes.
const MEMORY_NODE_FLAGS = ['--expose-gc', '--single-threaded-gc', '--min-semi-space-size=1', '--max-semi-space-size=1'];
const MEMORY_ENV = { MALLOC_ARENA_MAX: '1' };

const TARGETS = {
  uncachedVsDgramReused: 1.5, // routeTo(d, { cache: false }) µs/op ≤ 1.5 × reused dgram-connect
  uncachedVsNetlink: 2, // ≤ 2 × the raw netlink round trip (native.benchRouteGet)
  cacheSpeedup: 8, // a coherent cache hit ≥ 8 × faster than an uncached lookup
  connectVsNet: 0.95, // routebind.connect() connections/s ≥ 95 % of net.connect()
  serverAcceptsVsNet: 0.95, // routebind per-address server accepted connections/s ≥ 95 % of a plain net.Server
  rssGrowthMiB: 1, // < 1 MiB after 1,000,000 lookups / 100,000 connects
  vsSpawn: 200, // uncached routeTo ≥ 200 × faster than spawning `ip -j route get`
  vsDgramFresh: 1, // uncached routeTo faster than the dgram trick on a fresh socket
  scale: 1.5, // per-call cost with 2,500 links and 3,000 addresses ≤ 1.5 × with 2 links
};

// Results are compared through a sink so the JIT cannot drop the work being timed.
let sink = 0;
const nsNow = () => process.hrtime.bigint();

/**
 * Times `seconds` of calls to fn (or `maxIterations` calls, whichever comes first) in batches that
 * double until one takes ≥ 10 ms, so the clock is read rarely.
 */
async function timeRound(fn, isAsync, seconds, maxIterations) {
  const budget = BigInt(Math.round(seconds * 1e9));
  let batch = 1;
  let iterations = 0;
  let elapsed = 0n;
  while (elapsed < budget && iterations < maxIterations) {
    const n = Math.min(batch, maxIterations - iterations);
    const start = nsNow();
    if (isAsync) for (let i = 0; i < n; i++) await fn();
    else for (let i = 0; i < n; i++) fn();
    const took = nsNow() - start;
    elapsed += took;
    iterations += n;
    if (took < 10_000_000n) batch *= 2;
  }
  return { iterations, seconds: Number(elapsed) / 1e9 };
}

/**
 * Warms every case up, then times them in ROUNDS interleaved rounds and reports each case's
 * median round, keeping every round's rate for the paired ratios.
 */
async function runCases(cases) {
  for (const c of cases) for (let i = 0; i < c.warmup; i++) c.isAsync ? await c.fn() : c.fn();
  const rounds = cases.map(() => []);
  for (let r = 0; r < ROUNDS; r++) {
    const order = [...cases.keys()];
    if (r % 2 === 1) order.reverse();
    for (const i of order) {
      const c = cases[i];
      rounds[i].push(await timeRound(c.fn, c.isAsync, c.seconds / ROUNDS, Math.ceil(c.maxIterations / ROUNDS)));
    }
  }
  return cases.map((c, i) => {
    const perRound = rounds[i].map((t) => (t.iterations * c.opsPerCall) / t.seconds);
    const sorted = [...perRound].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)];
    return {
      key: c.key,
      name: c.name,
      destination: c.destination,
      opsPerSec: round(median, 0),
      usPerOp: round(1e6 / median, 3),
      operations: rounds[i].reduce((sum, t) => sum + t.iterations, 0) * c.opsPerCall,
      seconds: round(rounds[i].reduce((sum, t) => sum + t.seconds, 0), 3),
      roundsOpsPerSec: perRound.map((x) => round(x, 0)),
    };
  });
}

const defineCase = (key, name, destination, fn, { warmup, seconds = 1, maxIterations = 50_000_000, isAsync = false, opsPerCall = 1 }) =>
  ({ key, name, destination, fn, warmup, seconds, maxIterations, isAsync, opsPerCall });

function round(x, digits) {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The median over rounds of a's time per operation divided by b's (the rounds are paired). */
function pairedTimeRatio(a, b) {
  if (a === undefined || b === undefined) return undefined;
  return Number(median(a.roundsOpsPerSec.map((rateA, r) => b.roundsOpsPerSec[r] / rateA)).toPrecision(3));
}

/**
 * A destination this host reaches through its default route (not through a connected prefix),
 * with the gateway that route names. Only routeTo lookups: nothing is sent.
 */
function defaultRouteDestination() {
  for (const family of [4, 6]) {
    const def = routes({ family }).find((e) => e.prefixLength === 0 && e.type === 'unicast' && e.gateway !== undefined);
    if (def === undefined) continue;
    // Documentation prefixes: never on a real network, so only the default route can match them.
    const candidates = family === 4 ? ['198.51.100.1', '203.0.113.1', '192.0.2.123'] : ['2001:db8::1', '2001:db8:ffff::1'];
    for (const destination of candidates) {
      try {
        const r = routeTo(destination);
        if (r.gateway === def.gateway) return { destination, gateway: def.gateway, interface: r.interface, via: 'default route' };
      } catch {
        // unreachable from here: try the next candidate
      }
    }
    return { destination: def.gateway, gateway: def.gateway, interface: def.interface, via: 'default route gateway (on-link)' };
  }
  return undefined;
}

function ipRouteGet(destination) {
  return JSON.parse(execFileSync('ip', ['-j', 'route', 'get', destination], { encoding: 'utf8' }))[0];
}

function dgramFresh(destination) {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(destination.includes(':') ? 'udp6' : 'udp4');
    socket.once('error', reject);
    socket.connect(9, destination, () => {
      const { address } = socket.address();
      socket.close(() => resolve(address));
    });
  });
}

function dgramReused(socket, destination) {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.connect(9, destination, () => {
      socket.off('error', reject);
      const { address } = socket.address();
      socket.disconnect();
      resolve(address);
    });
  });
}

/** One TCP connection on loopback: connect, then wait for the server's close. */
function connectOnce(connect, port) {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: LOOPBACK, port });
    socket.once('error', reject);
    socket.once('close', resolve);
    socket.resume();
  });
}

/** Runs a child process to completion (killed after options.timeout ms); resolves with its exit code, stdout and stderr. */
const children = new Set();
function run(command, args, options = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    children.add(child);
    child.once('close', () => children.delete(child));
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    child.once('error', (error) => resolve({ code: null, stdout, stderr: stderr + error.message }));
    child.once('close', (code, signal) => resolve({ code: code ?? signal, stdout, stderr }));
  });
}

/** The last line of a child's stdout as JSON, or an error naming what went wrong. */
function lastJsonLine(result, what) {
  const line = result.stdout.trim().split('\n').pop();
  if (result.code !== 0 || !line) throw new Error(`${what} failed (exit ${result.code}): ${result.stderr.trim() || result.stdout.trim()}`);
  return JSON.parse(line);
}

/** RSS growth in a fresh process per mode (bench/memory.mjs). */
async function measureMemory() {
  const out = {};
  for (const [mode, count] of [['lookups-uncached', MEMORY_LOOKUPS], ['lookups-cached', MEMORY_LOOKUPS], ['connects', MEMORY_CONNECTS]]) {
    log(`  memory: ${count.toLocaleString('en-US')} ${mode} in a fresh process…`);
    try {
      const args = [...MEMORY_NODE_FLAGS, path.join(here, 'memory.mjs'), mode, String(count)];
      out[mode] = lastJsonLine(await run(process.execPath, args, { env: { ...process.env, ...MEMORY_ENV }, timeout: 180_000 }), `bench/memory.mjs ${mode}`);
    } catch (error) {
      out[mode] = { skipped: error.message };
    }
  }
  return out;
}

/**
 * Network namespaces for one measurement, deleted afterwards whatever happens, also on Ctrl-C.
 * Names are `<prefix>-<pid>-<random>`. By default each is made with `ip netns add` and lo set
 * up; `up(names)` / `down(names)` replace that (a topology script). Root only. Resolves with
 * { skipped } or with what `fn(names)` resolves with.
 */
async function withNamespaces(prefixes, fn, { up = addNamespaces, down = deleteNamespaces } = {}) {
  if (process.getuid?.() !== 0) return { skipped: 'needs root (it makes temporary network namespaces with `ip netns add`)' };
  const names = prefixes.map((prefix) => `${prefix}-${process.pid}-${randomBytes(3).toString('hex')}`);
  let removed = false;
  const remove = () => {
    if (removed) return;
    removed = true;
    down(names);
  };
  const onSignal = (signal) => {
    for (const child of children) child.kill();
    remove();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('exit', remove);
  try {
    up(names);
    return await fn(names);
  } catch (error) {
    return { skipped: error.message };
  } finally {
    for (const child of children) child.kill();
    remove();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', remove);
  }
}

function addNamespaces(names) {
  for (const ns of names) {
    ipOrThrow(['netns', 'add', ns]);
    ipOrThrow(['-n', ns, 'link', 'set', 'lo', 'up']);
  }
}

function deleteNamespaces(names) {
  for (const ns of names) {
    const removed = spawnSync('ip', ['netns', 'del', ns], { encoding: 'utf8' });
    if (removed.status !== 0 && !/No such file/.test(removed.stderr)) console.error(`warning: ip netns del ${ns} failed: ${removed.stderr.trim()}`);
  }
}

/** Runs `ip args…` (with `input` as its stdin, for -batch); throws with ip's message on failure. */
function ipOrThrow(args, input) {
  const r = spawnSync('ip', args, { encoding: 'utf8', input, maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`ip ${args.slice(0, 4).join(' ')} failed: ${r.error?.message ?? r.stderr.trim().split('\n')[0]}`);
}

const hostNetnsEnv = () => ({ ...process.env, ROUTEBIND_BENCH_HOST_NETNS: readlinkSync('/proc/self/ns/net') });

/**
 * Change-to-event latency (bench/latency.mjs) inside a network namespace made for this run and
 * deleted afterwards whatever happens (also on Ctrl-C). Root only.
 */
function measureLatency() {
  return withNamespaces(['rbbench'], async ([ns]) => {
    log(`  latency: ${LATENCY_ITERATIONS} route replacements in netns ${ns}…`);
    const result = await run('ip', ['netns', 'exec', ns, process.execPath, path.join(here, 'latency.mjs'), String(LATENCY_ITERATIONS)], {
      env: hostNetnsEnv(),
      timeout: 60_000,
    });
    return { namespace: ns, ...lastJsonLine(result, 'bench/latency.mjs') };
  });
}

/** bench/server.mjs in its own process (it makes and deletes its own namespace). */
async function measureServer() {
  log('  server: accepted connections per second, and listen() with 1,000 addresses (bench/server.mjs)…');
  try {
    return lastJsonLine(await run(process.execPath, [path.join(here, 'server.mjs'), '--json'], { timeout: 300_000 }), 'bench/server.mjs');
  } catch (error) {
    return { accepts: { skipped: error.message }, scale: { skipped: error.message } };
  }
}

/**
 * A child answering one JSON line per command line (bench/scale.mjs). Resolves once it printed
 * its first line, { ready: true, … }.
 */
function startWorker(args) {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', args, { stdio: ['pipe', 'pipe', 'pipe'], env: hostNetnsEnv() });
    children.add(child);
    let stderr = '';
    let buffered = '';
    const waiting = [];
    let failed;
    const fail = (error) => {
      failed = error;
      for (const w of waiting.splice(0)) w.reject(error);
      reject(error);
    };
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    child.once('close', (code) => {
      children.delete(child);
      fail(new Error(`${args.slice(4, 6).join(' ')} exited ${code}: ${stderr.trim()}`));
    });
    child.stdout.on('data', (chunk) => {
      buffered += chunk;
      let nl;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = JSON.parse(buffered.slice(0, nl));
        buffered = buffered.slice(nl + 1);
        if (line.ready) {
          resolve({
            ready: line,
            ask(command) {
              if (failed) return Promise.reject(failed);
              return new Promise((res, rej) => { waiting.push({ resolve: res, reject: rej }); child.stdin.write(command + '\n'); });
            },
            quit() { child.stdin.end('quit\n'); },
          });
        } else {
          const w = waiting.shift();
          if (line.error) w?.reject(new Error(line.error));
          else w?.resolve(line);
        }
      }
    });
  });
}

/**
 * The `ip -batch` script for the big host: SCALE_LINKS veth ends (pairs inside the namespace),
 * one IPv4 address on each and an IPv6 address on the first SCALE_ADDRESSES - SCALE_LINKS, all up.
 * Link-local addresses are not generated (addr_gen_mode=1), so the counts are exactly these.
 */
function bigHostBatch() {
  const lines = [];
  for (let p = 0; p < SCALE_LINKS / 2; p++) lines.push(`link add rbv${2 * p} type veth peer name rbv${2 * p + 1}`);
  for (let i = 0; i < SCALE_LINKS; i++) lines.push(`address add 10.${100 + (i >> 8)}.${i & 255}.1/24 dev rbv${i}`);
  for (let i = 0; i < SCALE_ADDRESSES - SCALE_LINKS; i++) lines.push(`address add fd00:${i.toString(16)}::1/64 dev rbv${i} nodad`);
  for (let i = 0; i < SCALE_LINKS; i++) lines.push(`link set rbv${i} up`);
  return lines.join('\n') + '\n';
}

/**
 * Per-call cost on a big host against a small one (bench/scale.mjs), in two namespaces made for
 * the purpose: `small` has lo and one veth end (2 links); `big` has SCALE_LINKS more veth ends and
 * SCALE_ADDRESSES more addresses. The two share the veth pair `rbs0` (small 198.18.0.1, big
 * 198.18.0.2), made last, so the big namespace's own address is on its last link. Rounds run
 * alternately in each namespace (fresh processes, order reversed every other round); each
 * figure is the median over rounds of big ÷ small.
 */
function measureScale() {
  return withNamespaces(['rbscale-small', 'rbscale-big'], async ([small, big]) => {
    const started = Date.now();
    for (const ns of [small, big]) {
      ipOrThrow(['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.addr_gen_mode=1', 'net.ipv6.conf.default.addr_gen_mode=1',
        'net.ipv6.conf.default.accept_dad=0']);
    }
    log(`  scale: ${SCALE_LINKS.toLocaleString('en-US')} links and ${SCALE_ADDRESSES.toLocaleString('en-US')} addresses in netns ${big} (ip -batch)…`);
    ipOrThrow(['-n', big, '-batch', '-'], bigHostBatch());
    ipOrThrow(['link', 'add', 'rbs0', 'netns', small, 'type', 'veth', 'peer', 'name', 'rbs0', 'netns', big]);
    const hosts = { small: { ns: small, address: '198.18.0.1' }, big: { ns: big, address: '198.18.0.2' } };
    for (const h of Object.values(hosts)) {
      ipOrThrow(['-n', h.ns, 'address', 'add', `${h.address}/24`, 'dev', 'rbs0']);
      ipOrThrow(['-n', h.ns, 'link', 'set', 'rbs0', 'up']);
    }
    const buildSeconds = (Date.now() - started) / 1000;
    const workers = {};
    for (const which of ['small', 'big']) {
      workers[which] = await startWorker(['netns', 'exec', hosts[which].ns, process.execPath, path.join(here, 'scale.mjs'), SCALE_DESTINATION, hosts[which].address]);
    }
    const keys = ['connect', 'netConnect', 'connectCall', 'connectFromCall', 'uncached', 'cached'];
    const rounds = { small: Object.fromEntries(keys.map((k) => [k, []])), big: Object.fromEntries(keys.map((k) => [k, []])) };
    const afterChange = { small: [], big: [] };
    log(`  scale: ${SCALE_ROUNDS} rounds, each case alternately in ${small} and ${big}…`);
    for (let r = 0; r < SCALE_ROUNDS; r++) {
      const order = r % 2 === 0 ? ['small', 'big'] : ['big', 'small'];
      for (const key of keys) {
        for (const which of order) rounds[which][key].push((await workers[which].ask(`time ${key} ${SCALE_SECONDS[key]}`)).usPerOp);
      }
      if (r < SCALE_CHANGES) for (const which of order) afterChange[which].push((await workers[which].ask('change')).us);
    }
    for (const w of Object.values(workers)) w.quit();
    const summary = (which) => ({
      namespace: hosts[which].ns,
      links: workers[which].ready.links,
      addresses: workers[which].ready.addresses,
      cases: Object.fromEntries(keys.map((k) => [k, { usPerOp: round(median(rounds[which][k]), 3), roundsUsPerOp: rounds[which][k].map((x) => round(x, 3)) }])),
      afterChangeUs: { median: round(median(afterChange[which]), 0), samples: afterChange[which].map((x) => round(x, 0)) },
    });
    const ratios = {};
    for (const key of keys) ratios[key] = Number(median(rounds.big[key].map((b, r) => b / rounds.small[key][r])).toPrecision(3));
    ratios.afterChange = Number(median(afterChange.big.map((b, r) => b / afterChange.small[r])).toPrecision(3));
    const s = summary('small');
    const b = summary('big');
    return { destination: SCALE_DESTINATION, rounds: SCALE_ROUNDS, buildSeconds: round(buildSeconds, 1), small: s, big: b, ratios };
  });
}

const TOPOLOGY_SCRIPT = path.join(here, '..', 'test', 'netns', 'two-uplinks.sh');

/** Environment for test/netns/two-uplinks.sh: namespace names; no policy rules, no nft needed. */
const topologyEnv = ([host, routerA, routerB, far]) => ({ ...process.env, HOST: host, ROUTER_A: routerA, ROUTER_B: routerB, FAR: far, POLICY: '0', SPOOF6: '0' });

/** Starts `node bench/uplink.mjs serve …` in a namespace; resolves once it listens. */
function startServer(ns, address, port) {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, path.join(here, 'uplink.mjs'), 'serve', address, String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    child.once('close', () => children.delete(child));
    let stderr = '';
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    child.stdout.once('data', () => resolve(child));
    child.once('close', (code) => reject(new Error(`uplink server exited ${code}: ${stderr.trim()}`)));
  });
}

/**
 * Connections per second through uplink A of the two-uplink topology (host → router A → far
 * server), routebind.connect against net.connect from the same source, in namespaces built by
 * test/netns/two-uplinks.sh for this run and torn down afterwards. Root only.
 */
function measureUplink() {
  return withNamespaces(['rbup-host', 'rbup-ra', 'rbup-rb', 'rbup-far'], async ([host, , , far]) => {
    log(`  uplink: ${UPLINK_ROUNDS} rounds of connects through router A to ${UPLINK_SERVER} (netns ${host})…`);
    const server = await startServer(far, UPLINK_SERVER, UPLINK_PORT);
    try {
      const args = ['netns', 'exec', host, process.execPath, path.join(here, 'uplink.mjs'), 'connect',
        UPLINK_SERVER, String(UPLINK_PORT), UPLINK_SOURCE, String(UPLINK_SECONDS), String(UPLINK_ROUNDS)];
      const result = lastJsonLine(await run('ip', args, { timeout: 180_000 }), 'bench/uplink.mjs connect');
      const summary = {};
      for (const [key, c] of Object.entries(result.cases)) summary[key] = { opsPerSec: median(c.roundsOpsPerSec), ...c };
      const ratio = (a, b) => Number(median(a.roundsOpsPerSec.map((x, r) => x / b.roundsOpsPerSec[r])).toPrecision(3));
      return {
        namespaces: { host, far },
        server: UPLINK_SERVER,
        sources: result.sources,
        cases: summary,
        vsNetFromSource: ratio(result.cases.routebindConnect, result.cases.netConnectFromSource),
        vsNet: ratio(result.cases.routebindConnect, result.cases.netConnect),
      };
    } finally {
      server.kill();
    }
  }, {
    up: (names) => {
      const r = spawnSync('bash', [TOPOLOGY_SCRIPT, 'up'], { encoding: 'utf8', env: topologyEnv(names) });
      if (r.status !== 0) throw new Error(`two-uplinks.sh up failed (${r.status ?? r.error?.message}): ${(r.stderr ?? '').trim()}`);
    },
    down: (names) => { spawnSync('bash', [TOPOLOGY_SCRIPT, 'down'], { env: topologyEnv(names) }); },
  });
}

async function main() {
  const started = Date.now();
  const plan = [];
  const notes = [];

  // What each method answers for the loopback destination, checked once before timing.
  const reference = routeTo(LOOPBACK);
  const agreement = { routeTo: { interface: reference.interface, source: reference.source } };

  // The cost figures: uncached lookup, the addon's raw round trip, the reused dgram trick and a
  // cache hit, side by side in every round.
  plan.push(defineCase('uncached', 'routeTo (uncached)', LOOPBACK, () => { sink ^= routeTo(LOOPBACK, { cache: false }).ifindex ?? 0; }, { warmup: 5000, seconds: 3.5 }));
  plan.push(defineCase('netlink', 'raw netlink round trip (addon)', LOOPBACK, () => { sink += native.benchRouteGet(LOOPBACK, FLOOR_BATCH); }, { warmup: 25, seconds: 3.5, opsPerCall: FLOOR_BATCH }));

  // One socket for the whole run, connected and disconnected again on every call.
  const socket = dgram.createSocket('udp4');
  try {
    await dgramReused(socket, LOOPBACK);
    plan.push(defineCase('dgramReused', 'dgram connect/disconnect (reused)', LOOPBACK, async () => { sink ^= (await dgramReused(socket, LOOPBACK)).length; }, { warmup: 2000, isAsync: true, seconds: 3.5 }));
  } catch (error) {
    notes.push(`reused dgram socket failed (${error.code ?? error.message}): case skipped`);
  }
  plan.push(defineCase('cached', 'routeTo (cache hit)', LOOPBACK, () => { sink ^= routeTo(LOOPBACK).ifindex ?? 0; }, { warmup: 20_000, seconds: 2 }));

  const far = defaultRouteDestination();
  if (far !== undefined) {
    plan.push(defineCase('uncachedFar', 'routeTo (uncached)', far.destination, () => { sink ^= routeTo(far.destination, { cache: false }).ifindex ?? 0; }, { warmup: 2000, seconds: 1.4 }));
  } else {
    notes.push('no default route with a gateway: the default-route routeTo case was skipped');
  }

  let haveIp = true;
  try {
    agreement.ip = { interface: ipRouteGet(LOOPBACK).dev, source: ipRouteGet(LOOPBACK).prefsrc };
  } catch (error) {
    haveIp = false;
    notes.push(`ip -j route get unavailable (${error.code ?? error.message}): spawn case skipped`);
  }
  if (haveIp) {
    // A few milliseconds per spawn: 210 calls, or fewer if they take longer than 2 s in all.
    plan.push(defineCase('spawn', 'ip -j route get (spawn)', LOOPBACK, () => { sink ^= ipRouteGet(LOOPBACK).dev.length; }, { warmup: 5, seconds: 2, maxIterations: 210 }));
  }

  agreement.dgram = { source: await dgramFresh(LOOPBACK) };
  plan.push(defineCase('dgramFresh', 'dgram connect (fresh socket)', LOOPBACK, async () => { sink ^= (await dgramFresh(LOOPBACK)).length; }, { warmup: 500, isAsync: true, seconds: 2 }));

  // Connections per second on loopback: routebind.connect against net.connect, same server, the
  // route cache warm (the warm-up connects fill it). The server closes first, so TIME_WAIT stays
  // on its side and client ports recycle.
  const server = net.createServer((c) => c.destroy());
  await new Promise((resolve) => server.listen(0, LOOPBACK, resolve));
  const port = server.address().port;
  plan.push(defineCase('netConnect', 'net.connect (loopback)', LOOPBACK, () => connectOnce(net.connect, port), { warmup: 1000, isAsync: true, seconds: 7, maxIterations: 42_000 }));
  plan.push(defineCase('routebindConnect', 'routebind.connect (loopback)', LOOPBACK, () => connectOnce(routebind.connect, port), { warmup: 1000, isAsync: true, seconds: 7, maxIterations: 42_000 }));
  // Where the difference goes: the same connection on an fd handed to Node without routebind's
  // JavaScript, first a plain socket (Node's adoption calls only), then one bound to the source,
  // NO_PORT and pinned as routebind makes it (every system call routebind adds but the coherence
  // recv). See bench/SYSCALLS.md.
  const viaFd = (spec) => (options) => new net.Socket({ fd: native.createSocket(spec).fd, manualStart: true }).connect({ ...options, autoSelectFamily: false });
  const plainFd = viaFd({ version: 4, type: 'tcp', unbound: true });
  const boundFd = viaFd({ version: 4, type: 'tcp', address: LOOPBACK, port: 0, bindAddressNoPort: true, ifindex: reference.ifindex, ifname: reference.interface });
  plan.push(defineCase('fdConnect', 'net.Socket({ fd }) of a plain socket (loopback)', LOOPBACK, () => connectOnce(plainFd, port), { warmup: 500, isAsync: true, seconds: 5, maxIterations: 30_000 }));
  plan.push(defineCase('boundFdConnect', 'net.Socket({ fd }) bound + pinned, no routebind JS (loopback)', LOOPBACK, () => connectOnce(boundFd, port), { warmup: 500, isAsync: true, seconds: 5, maxIterations: 30_000 }));

  const cache = new Map([[LOOPBACK, reference]]);
  plan.push(defineCase('mapGet', 'Map.get (cached Route)', LOOPBACK, () => { sink ^= cache.get(LOOPBACK).ifindex; }, { warmup: 100_000, seconds: 0.7 }));

  log(`routebind bench: ${process.version} ${process.platform}-${process.arch}, kernel ${os.release()}, ${os.cpus()[0]?.model ?? 'unknown'}, ${os.cpus().length} CPUs`);
  log(`  timing ${plan.length} cases in ${ROUNDS} interleaved rounds…`);
  let cases;
  try {
    cases = selected.has('cost') ? await runCases(plan) : [];
  } finally {
    socket.close();
    server.close();
  }
  const memory = selected.has('memory') ? await measureMemory()
    : Object.fromEntries(['lookups-uncached', 'lookups-cached', 'connects'].map((mode) => [mode, NOT_SELECTED]));
  const latency = selected.has('latency') ? await measureLatency() : NOT_SELECTED;
  const uplink = selected.has('uplink') ? await measureUplink() : NOT_SELECTED;
  const scale = selected.has('scale') ? await measureScale() : NOT_SELECTED;
  const serverBench = selected.has('server') ? await measureServer() : { accepts: NOT_SELECTED, scale: NOT_SELECTED };

  const byKey = (key) => cases.find((c) => c.key === key);
  const uncached = byKey('uncached');
  const us = (c) => (c === undefined ? 'n/a' : `${c.usPerOp.toFixed(c.usPerOp < 0.1 ? 3 : 2)} µs`);

  const figures = [];
  // kind 'max': value ≤ target; 'min': value ≥ target; 'below': value < target; 'report': no target.
  const figure = (id, name, value, unit, kind, target, detail, skipped) => {
    const met = value === undefined || kind === 'report' ? null
      : kind === 'max' ? value <= target : kind === 'min' ? value >= target : value < target;
    figures.push({
      id, figure: name, value: value ?? null, unit, target: kind === 'report' ? null : target, targetKind: kind,
      met, status: value === undefined ? 'skipped' : kind === 'report' ? 'reported' : met ? 'met' : 'not met',
      detail: detail ?? null, ...(skipped ? { skipped } : {}),
    });
  };

  const dgramReusedCase = byKey('dgramReused');
  figure('uncachedVsDgramReused', 'uncached routeTo ÷ reused dgram-connect (time per op)', pairedTimeRatio(uncached, dgramReusedCase), '×', 'max',
    TARGETS.uncachedVsDgramReused, `${us(uncached)} vs ${us(dgramReusedCase)}`);
  const netlink = byKey('netlink');
  figure('uncachedVsNetlink', 'uncached routeTo ÷ raw netlink round trip (time per op)', pairedTimeRatio(uncached, netlink), '×', 'max',
    TARGETS.uncachedVsNetlink, `${us(uncached)} vs ${us(netlink)}`);
  const cached = byKey('cached');
  figure('cacheSpeedup', 'cache hit speed-up (uncached ÷ cached time per op)', pairedTimeRatio(uncached, cached), '×', 'min',
    TARGETS.cacheSpeedup, `${us(uncached)} vs ${us(cached)}`);
  const netConnect = byKey('netConnect');
  const rbConnect = byKey('routebindConnect');
  figure('connectVsNet', 'routebind.connect ÷ net.connect (connections/s)', pairedTimeRatio(netConnect, rbConnect), '×', 'min',
    TARGETS.connectVsNet, netConnect && rbConnect ? `${rbConnect.opsPerSec.toLocaleString('en-US')} vs ${netConnect.opsPerSec.toLocaleString('en-US')} /s` : undefined);
  const fdConnect = byKey('fdConnect');
  const boundFdConnect = byKey('boundFdConnect');
  const perConnection = (c) => (c === undefined ? 'n/a' : `${c.usPerOp.toFixed(0)} µs a connection`);
  figure('connectAdoption', 'net.Socket({ fd }) of a plain socket ÷ net.connect (connections/s): Node\'s adoption calls', pairedTimeRatio(netConnect, fdConnect), '×', 'report', null,
    `${perConnection(fdConnect)} vs ${perConnection(netConnect)}`);
  figure('connectSocketCalls', 'bound + pinned fd ÷ net.connect (connections/s): every call routebind adds but one recv', pairedTimeRatio(netConnect, boundFdConnect), '×', 'report', null,
    `${perConnection(boundFdConnect)} vs ${perConnection(netConnect)}`);
  figure('connectJavaScript', 'routebind.connect ÷ bound + pinned fd (connections/s): routebind\'s JavaScript and the coherence recv', pairedTimeRatio(boundFdConnect, rbConnect), '×', 'report', null,
    `${perConnection(rbConnect)} vs ${perConnection(boundFdConnect)}`);
  for (const [mode, name] of [
    ['lookups-uncached', `RSS growth, ${MEMORY_LOOKUPS.toLocaleString('en-US')} uncached lookups`],
    ['lookups-cached', `RSS growth, ${MEMORY_LOOKUPS.toLocaleString('en-US')} cached lookups`],
    ['connects', `RSS growth, ${MEMORY_CONNECTS.toLocaleString('en-US')} routebind.connect`],
  ]) {
    const m = memory[mode];
    figure(`rss:${mode}`, name, m.growthMiB, 'MiB', 'below', TARGETS.rssGrowthMiB,
      m.skipped ? undefined : `${m.rssBeforeMiB.toFixed(1)} → ${m.rssAfterMiB.toFixed(1)} MiB in ${m.seconds.toFixed(1)} s`, m.skipped);
  }
  const latencyDetail = latency.skipped ? undefined : `${latency.samples} changes, min ${latency.minUs} µs, max ${latency.maxUs} µs, ${latency.missed} missed`;
  figure('latencyMedian', 'route change → watch() event, median', latency.medianUs ?? undefined, 'µs', 'report', null, latencyDetail, latency.skipped);
  figure('latencyP99', 'route change → watch() event, p99', latency.p99Us ?? undefined, 'µs', 'report', null, latencyDetail, latency.skipped);
  const spawnCase = byKey('spawn');
  figure('vsSpawn', 'uncached routeTo speed-up over spawning ip -j route get', pairedTimeRatio(spawnCase, uncached), '×', 'min',
    TARGETS.vsSpawn, `${us(uncached)} vs ${us(spawnCase)}`);
  const fresh = byKey('dgramFresh');
  figure('vsDgramFresh', 'uncached routeTo speed-up over fresh-socket dgram-connect', pairedTimeRatio(fresh, uncached), '×', 'min',
    TARGETS.vsDgramFresh, `${us(uncached)} vs ${us(fresh)}`);
  const map = byKey('mapGet');
  figure('cachedVsMapGet', 'cache hit ÷ plain Map.get (time per op)', pairedTimeRatio(cached, map), '×', 'report', null,
    `${us(cached)} vs ${us(map)}: the cost of coherence (one non-blocking recv per hit)`);

  // Where real connections go: through an uplink and a router (bench/uplink.mjs).
  const up = uplink.skipped ? undefined : uplink.cases;
  const rate = (c) => `${c.opsPerSec.toLocaleString('en-US')} /s`;
  figure('uplinkConnectVsNet', 'routebind.connect ÷ net.connect from the same source, through an uplink (connections/s)', uplink.vsNetFromSource,
    '×', 'min', TARGETS.connectVsNet,
    up && `${rate(up.routebindConnect)} vs ${rate(up.netConnectFromSource)} (net.connect with localAddress ${UPLINK_SOURCE}); plain net.connect ${rate(up.netConnect)}`,
    uplink.skipped);
  if (up && uplink.sources.routebindConnect !== uplink.sources.netConnectFromSource) {
    notes.push(`uplink: routebind.connect used source ${uplink.sources.routebindConnect}, net.connect ${uplink.sources.netConnectFromSource}: not the same source`);
  }
  // Cost that grows with the host (bench/scale.mjs): big namespace ÷ small one, per call.
  const scaleDetail = (key) => {
    if (scale.skipped) return undefined;
    const [b, sm] = [scale.big, scale.small];
    const v = (h) => (key === 'afterChange' ? h.afterChangeUs.median : h.cases[key].usPerOp);
    return `${v(b).toFixed(1)} µs with ${b.links.toLocaleString('en-US')} links / ${b.addresses.toLocaleString('en-US')} addresses vs ` +
      `${v(sm).toFixed(1)} µs with ${sm.links} links / ${sm.addresses} addresses`;
  };
  for (const [key, name] of [
    ['connect', 'routebind.connect, loopback (time per connection)'],
    ['connectCall', 'routebind.connect() call (socket made, destroyed unsent)'],
    ['connectFromCall', 'routebind.connect({ localAddress }) call'],
    ['uncached', 'uncached routeTo'],
    ['cached', 'cached routeTo'],
  ]) {
    figure(`scale:${key}`, `big host ÷ small host: ${name}`, scale.ratios?.[key], '×', 'max', TARGETS.scale, scaleDetail(key), scale.skipped);
  }
  figure('scale:netConnect', 'big host ÷ small host: net.connect, loopback (the kernel\'s share; control)', scale.ratios?.netConnect, '×', 'report', null,
    scaleDetail('netConnect'), scale.skipped);
  figure('scale:afterChange', 'big host ÷ small host: first connect({ localAddress }) after an address change', scale.ratios?.afterChange, '×', 'report', null,
    scaleDetail('afterChange'), scale.skipped);

  // Servers (bench/server.mjs): routebind's per-address wildcard listen against net's one listener.
  const acc = serverBench.accepts;
  figure('serverAcceptsVsNet', 'routebind per-address server ÷ net.Server, accepted connections/s (loopback)', acc.ratio, '×', 'min', TARGETS.serverAcceptsVsNet,
    acc.skipped ? undefined : `${acc.routebindPerSec.toLocaleString('en-US')} vs ${acc.plainPerSec.toLocaleString('en-US')} /s, ${acc.listeners} listeners`, acc.skipped);
  const big = serverBench.scale;
  const bigDetail = big.skipped ? undefined
    : `${big.addresses} addresses: per-address ${big.perAddress.listeners} listeners, +${big.perAddress.fds} fds, +${big.perAddress.rssMiB} MiB; ` +
      `net.Server wildcard listen() ${big.wildcard.listenMs} ms, +${big.wildcard.fds} fd`;
  figure('server1000:listenMs', 'listen() on the wildcard with 1,000 addresses, per address', big.perAddress?.listenMs, 'ms', 'report', null, bigDetail, big.skipped);
  figure('server1000:fds', 'fds of that listen (one listener per address)', big.perAddress?.fds, 'fds', 'report', null, bigDetail, big.skipped);
  figure('server1000:rssMiB', 'RSS growth of that listen', big.perAddress?.rssMiB, 'MiB', 'report', null, bigDetail, big.skipped);
  figure('server1000:addedMs', 'address added → listened on, with 1,000 listeners open', big.perAddress?.addedMs, 'ms', 'report', null, bigDetail, big.skipped);

  for (const f of figures) if (f.skipped) notes.push(`${f.figure}: skipped (${f.skipped})`);

  const results = {
    date: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    kernel: os.release(),
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cpus: os.cpus().length,
    rounds: ROUNDS,
    destinations: { loopback: LOOPBACK, defaultRoute: far ?? null },
    agreement,
    figures,
    cases: cases.map(({ key: _key, ...c }) => c),
    memory: { nodeFlags: MEMORY_NODE_FLAGS, env: MEMORY_ENV, ...memory },
    latency,
    uplink,
    scale,
    server: serverBench,
    notes,
    totalSeconds: round((Date.now() - started) / 1000, 1),
  };

  const resultsFile = path.join(here, 'results', onlyArg === undefined ? 'latest.json' : 'partial.json');
  mkdirSync(path.join(here, 'results'), { recursive: true });
  writeFileSync(resultsFile, JSON.stringify(results, null, 2) + '\n');

  if (jsonOnly) {
    console.log(JSON.stringify(results, null, 2));
    return;
  }
  log('');
  if (far !== undefined) log(`default-route destination: ${far.destination} (${far.via}, gateway ${far.gateway} dev ${far.interface})`);
  log(`answers for ${LOOPBACK}: routeTo ${reference.interface}/${reference.source}` +
    (agreement.ip ? `, ip ${agreement.ip.interface}/${agreement.ip.source}` : '') + `, dgram source ${agreement.dgram.source}`);
  log('');
  table(['case', 'destination', 'ops/s', 'µs/op', 'operations'],
    cases.map((c) => [c.name, c.destination, c.opsPerSec.toLocaleString('en-US'), c.usPerOp.toFixed(3), c.operations.toLocaleString('en-US')]), 'llrrr');
  log('');
  const targetText = (f) => (f.targetKind === 'report' ? 'report only'
    : `${f.targetKind === 'max' ? '≤' : f.targetKind === 'min' ? '≥' : '<'} ${f.target}${f.unit === '×' ? '×' : ` ${f.unit}`}`);
  const valueText = (f) => (f.value === null ? 'n/a' : f.unit === '×' ? `${f.value}×` : `${f.value} ${f.unit}`);
  const metText = (f) => ({ met: 'yes', 'not met': 'NO', reported: 'reported', skipped: 'skipped' })[f.status];
  // What each figure was computed from (case medians; the ratios themselves are paired per round).
  figures.forEach((f, i) => {
    if (f.detail !== null && f.detail !== figures[i - 1]?.detail) log(`${f.figure}: ${f.detail}`);
  });
  for (const n of notes) log(`note: ${n}`);
  log('');
  table(['figure', 'value', 'target', 'met'], figures.map((f) => [f.figure, valueText(f), targetText(f), metText(f)]), 'lrll', ' | ');
  const missed = figures.filter((f) => f.status === 'not met');
  log(`\n${missed.length === 0 ? 'every target met' : `${missed.length} target(s) NOT met: ${missed.map((f) => f.id).join(', ')}`}; ` +
    `${results.totalSeconds} s; written to ${path.relative(process.cwd(), resultsFile)}`);
}

/** Prints rows as aligned columns; `align` has one letter per column, 'l' or 'r'. */
function table(header, rows, align, separator = '  ') {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => (align[i] === 'l' ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(separator).trimEnd();
  log(line(header));
  log(widths.map((w) => '-'.repeat(w)).join(separator.replace(/ /g, '-')));
  for (const r of rows) log(line(r));
}

await main();
if (sink === 0.5) console.log(sink); // never true; keeps `sink` observable
