// Servers: accepted TCP connections per second through routebind's per-address wildcard server
// against a plain net.Server, on loopback, in interleaved rounds (the ratio is the median of the
// per-round ratios); and what per-address listening costs on a host with 1,000 addresses (a
// network namespace this script makes and deletes): listen() start time, memory and fds, next to
// a plain wildcard listener, and how soon an address added there is listened on.
// `node bench/server.mjs [--json] [--addresses=N]`; `npm run bench` runs it as its 'server' group.
// Nothing leaves the host: clients connect to loopback or inside the namespace.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const routebind = require('../dist/index.js');

const jsonOnly = process.argv.includes('--json');
const log = jsonOnly ? () => {} : (...args) => console.log(...args);
const addressesArg = process.argv.find((a) => a.startsWith('--addresses='));
const ADDRESSES = addressesArg ? Number(addressesArg.slice('--addresses='.length)) : 1000;
const ROUNDS = 9;
const SECONDS_PER_CASE = 1; // per round
const IN_FLIGHT = 8; // connections the client keeps opening at once
const TARGET = 0.95;

const fds = () => readdirSync('/proc/self/fd').length;
const rssMiB = () => process.memoryUsage().rss / 2 ** 20;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (x, d = 3) => Math.round(x * 10 ** d) / 10 ** d;

/** Opens connections to host:port, IN_FLIGHT at a time, for `seconds`; resolves with how many were accepted. */
function hammer(server, host, port, seconds) {
  return new Promise((resolve) => {
    let accepted = 0;
    let running = true;
    const onConnection = () => accepted++;
    server.on('connection', onConnection);
    const one = () => {
      if (!running) return;
      const socket = net.connect({ host, port });
      socket.on('error', () => undefined);
      socket.once('close', one);
    };
    for (let i = 0; i < IN_FLIGHT; i++) one();
    setTimeout(() => {
      running = false;
      server.off('connection', onConnection);
      // Let the connections in flight finish before the next case starts.
      setTimeout(() => resolve(accepted), 100);
    }, seconds * 1000);
  });
}

function listen(server, ...args) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(...args, () => resolve(server.address().port));
  });
}

async function acceptRate() {
  // The server closes first, so TIME_WAIT stays on its side and client ports recycle.
  const plain = net.createServer((c) => c.destroy());
  const routed = routebind.createServer((c) => c.destroy());
  const plainPort = await listen(plain, 0);
  const routedPort = await listen(routed, 0);
  const listeners = routebind.describe(routed)?.perAddress?.length ?? 0;
  const host = '127.0.0.1';
  // Warm-up: JIT, the route cache, the listen queues.
  await hammer(plain, host, plainPort, 0.3);
  await hammer(routed, host, routedPort, 0.3);
  const rounds = [];
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 ? ['routed', 'plain'] : ['plain', 'routed'];
    const got = {};
    for (const which of order) {
      const [server, port] = which === 'plain' ? [plain, plainPort] : [routed, routedPort];
      got[which] = (await hammer(server, host, port, SECONDS_PER_CASE)) / SECONDS_PER_CASE;
    }
    rounds.push(got);
    log(`  round ${r + 1}: net.Server ${Math.round(got.plain).toLocaleString('en-US')} /s, routebind ${Math.round(got.routed).toLocaleString('en-US')} /s`);
  }
  await new Promise((r) => plain.close(r));
  await new Promise((r) => routed.close(r));
  return {
    host,
    listeners,
    plainPerSec: Math.round(median(rounds.map((r) => r.plain))),
    routebindPerSec: Math.round(median(rounds.map((r) => r.routed))),
    ratio: round(median(rounds.map((r) => r.routed / r.plain))),
    target: TARGET,
    rounds: rounds.map((r) => ({ plain: Math.round(r.plain), routebind: Math.round(r.routed) })),
  };
}

/** The 1,000-address host: a namespace with one veth end carrying N addresses (IPv4 and IPv6 halves). */
function scaleHost(count) {
  if (process.getuid?.() !== 0) return { skipped: 'needs root (it makes a temporary network namespace with `ip netns add`)' };
  const ns = `rbsrv-${process.pid}-${randomBytes(3).toString('hex')}`;
  const ip = (args, input) => {
    const r = spawnSync('ip', args, { encoding: 'utf8', input, maxBuffer: 1 << 22 });
    if (r.status !== 0) throw new Error(`ip ${args.slice(0, 4).join(' ')} failed: ${r.stderr.trim().split('\n')[0]}`);
  };
  const remove = () => spawnSync('ip', ['netns', 'del', ns]);
  process.once('exit', remove);
  try {
    ip(['netns', 'add', ns]);
    ip(['-n', ns, 'link', 'set', 'lo', 'up']);
    ip(['-n', ns, 'link', 'add', 'srv0', 'type', 'veth', 'peer', 'name', 'srv1']);
    const lines = ['link set srv0 up', 'link set srv1 up'];
    for (let i = 0; i < count; i++) {
      lines.push(i % 2
        ? `addr add fd00:77::${(i + 1).toString(16)}/64 dev srv0 nodad`
        : `addr add 10.77.${Math.floor(i / 250)}.${(i % 250) + 1}/16 dev srv0`);
    }
    ip(['-n', ns, '-batch', '-'], lines.join('\n') + '\n');
    const child = spawnSync('ip', ['netns', 'exec', ns, process.execPath, path.join(here, 'server-scale.cjs'), JSON.stringify({ count })], { encoding: 'utf8', timeout: 120_000 });
    if (child.status !== 0) throw new Error(`bench/server-scale.cjs failed (${child.status}): ${child.stderr.trim()}`);
    return { namespace: ns, addresses: count, ...JSON.parse(child.stdout.trim().split('\n').pop()) };
  } catch (error) {
    return { skipped: error.message };
  } finally {
    remove();
    process.off('exit', remove);
  }
}

async function main() {
  const started = Date.now();
  if (process.platform !== 'linux') {
    const skipped = { skipped: 'per-address listening is Linux only' };
    const results = { accepts: skipped, scale: skipped };
    console.log(JSON.stringify(results));
    return;
  }
  log(`routebind server bench: accepted connections per second on loopback, ${ROUNDS} interleaved rounds of ${SECONDS_PER_CASE} s per case`);
  const accepts = await acceptRate();
  log(`accepts/s: net.Server ${accepts.plainPerSec.toLocaleString('en-US')}, routebind (${accepts.listeners} listeners) ${accepts.routebindPerSec.toLocaleString('en-US')}: ` +
    `ratio ${accepts.ratio} (target ≥ ${TARGET}: ${accepts.ratio >= TARGET ? 'met' : 'NOT met'})`);
  log(`${ADDRESSES} addresses in a namespace…`);
  const scale = scaleHost(ADDRESSES);
  if (scale.skipped) log(`  skipped: ${scale.skipped}`);
  else {
    const p = scale.perAddress;
    const w = scale.wildcard;
    log(`  routebind per-address: ${p.listeners} listeners, listen() ${p.listenMs} ms, +${p.fds} fds, +${p.rssMiB} MiB RSS, an added address listened on in ${p.addedMs} ms, close() ${p.closeMs} ms`);
    log(`  net.Server wildcard:    1 listener,  listen() ${w.listenMs} ms, +${w.fds} fds, +${w.rssMiB} MiB RSS`);
    log(`  accepts/s through one of the ${ADDRESSES} addresses: routebind ${p.acceptsPerSec.toLocaleString('en-US')}, net.Server ${w.acceptsPerSec.toLocaleString('en-US')}`);
  }
  const results = { accepts, scale, totalSeconds: round((Date.now() - started) / 1000, 1) };
  if (jsonOnly) console.log(JSON.stringify(results));
}

await main();
