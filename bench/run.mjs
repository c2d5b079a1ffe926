// `npm run bench`: what one routeTo() costs next to the other ways a Node program can learn the
// route to a destination (spawning iproute2, the connected-UDP-socket trick, a cached answer).
// Nothing here sends a packet: routeTo asks the kernel's table, and connecting UDP only routes.
// `--json` prints the results as JSON only; either way they are written to bench/results/latest.json.
import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const routebind = require('../dist/index.js');
const { routeTo, routes } = routebind;

const jsonOnly = process.argv.includes('--json');
const log = jsonOnly ? () => {} : (...args) => console.log(...args);

const CASE_SECONDS = 1; // timed part of each case, split over ROUNDS rounds
const ROUNDS = 3;
const LOOPBACK = '127.0.0.1';
const TARGETS = { vsSpawn: 200, vsDgramFresh: 1, connectVsNet: 0.95 };

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
 * Warms every case up, then times them in ROUNDS interleaved rounds (each case gets 1/ROUNDS of
 * its budget per round) and reports each case's median round: load that comes and goes on a
 * shared machine then hits all cases alike instead of skewing whichever ran at the time.
 */
async function runCases(cases) {
  for (const c of cases) for (let i = 0; i < c.warmup; i++) c.isAsync ? await c.fn() : c.fn();
  const rounds = cases.map(() => []);
  for (let r = 0; r < ROUNDS; r++) {
    for (const [i, c] of cases.entries()) {
      rounds[i].push(await timeRound(c.fn, c.isAsync, c.seconds / ROUNDS, Math.ceil(c.maxIterations / ROUNDS)));
    }
  }
  return cases.map((c, i) => {
    const rates = rounds[i].map((t) => t.iterations / t.seconds).sort((a, b) => a - b);
    const median = rates[Math.floor(rates.length / 2)];
    const iterations = rounds[i].reduce((sum, t) => sum + t.iterations, 0);
    const seconds = rounds[i].reduce((sum, t) => sum + t.seconds, 0);
    return {
      name: c.name,
      destination: c.destination,
      opsPerSec: round(median, 0),
      usPerOp: round(1e6 / median, 3),
      iterations,
      seconds: round(seconds, 3),
      roundsOpsPerSec: rates.map((x) => round(x, 0)),
    };
  });
}

const defineCase = (name, destination, fn, { warmup, seconds = CASE_SECONDS, maxIterations = 50_000_000, isAsync = false }) =>
  ({ name, destination, fn, warmup, seconds, maxIterations, isAsync });

function round(x, digits) {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
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

async function main() {
  const started = Date.now();
  const plan = [];
  const notes = [];

  // What each method answers for the loopback destination, checked once before timing.
  const reference = routeTo(LOOPBACK);
  const agreement = { routeTo: { interface: reference.interface, source: reference.source } };

  plan.push(defineCase('routeTo', LOOPBACK, () => { sink ^= routeTo(LOOPBACK).ifindex ?? 0; }, { warmup: 2000 }));

  const far = defaultRouteDestination();
  if (far !== undefined) {
    plan.push(defineCase('routeTo', far.destination, () => { sink ^= routeTo(far.destination).ifindex ?? 0; }, { warmup: 2000 }));
  } else {
    notes.push('no default route with a gateway: the second routeTo case was skipped');
  }

  let haveIp = true;
  try {
    agreement.ip = { interface: ipRouteGet(LOOPBACK).dev, source: ipRouteGet(LOOPBACK).prefsrc };
  } catch (error) {
    haveIp = false;
    notes.push(`ip -j route get unavailable (${error.code ?? error.message}): spawn case skipped`);
  }
  if (haveIp) {
    // A few milliseconds per spawn: 200 calls, or fewer if they take longer than 2 s in all.
    plan.push(defineCase('ip -j route get (spawn)', LOOPBACK, () => { sink ^= ipRouteGet(LOOPBACK).dev.length; }, { warmup: 5, seconds: 2, maxIterations: 200 }));
  }

  agreement.dgram = { source: await dgramFresh(LOOPBACK) };
  plan.push(defineCase('dgram connect (fresh socket)', LOOPBACK, async () => { sink ^= (await dgramFresh(LOOPBACK)).length; }, { warmup: 200, isAsync: true }));

  // One socket for the whole run, connected and disconnected again on every call.
  const socket = dgram.createSocket('udp4');
  try {
    await dgramReused(socket, LOOPBACK);
    plan.push(defineCase('dgram connect/disconnect (reused)', LOOPBACK, async () => { sink ^= (await dgramReused(socket, LOOPBACK)).length; }, { warmup: 200, isAsync: true }));
  } catch (error) {
    notes.push(`reused dgram socket failed (${error.code ?? error.message}): case skipped`);
  }

  // Connections per second on loopback: routebind.connect against net.connect, same server.
  // The server closes first, so TIME_WAIT stays on its side and client ports recycle.
  const server = net.createServer((c) => c.destroy());
  await new Promise((resolve) => server.listen(0, LOOPBACK, resolve));
  const port = server.address().port;
  plan.push(defineCase('net.connect (loopback)', LOOPBACK, () => connectOnce(net.connect, port), { warmup: 200, isAsync: true, maxIterations: 4000 }));
  plan.push(defineCase('routebind.connect (loopback)', LOOPBACK, () => connectOnce(routebind.connect, port), { warmup: 200, isAsync: true, maxIterations: 4000 }));

  const cache = new Map([[LOOPBACK, reference]]);
  plan.push(defineCase('Map.get (cached Route)', LOOPBACK, () => { sink ^= cache.get(LOOPBACK).ifindex; }, { warmup: 100_000 }));

  let cases;
  try {
    cases = await runCases(plan);
  } finally {
    socket.close();
    server.close();
  }

  const find = (name) => cases.find((c) => c.name === name && c.destination === LOOPBACK);
  const base = find('routeTo');
  // Three significant figures: the Map.get ratio is far below 1.
  const ratio = (other) => (other === undefined ? undefined : Number((base.opsPerSec / other.opsPerSec).toPrecision(3)));
  const spawn = find('ip -j route get (spawn)');
  const fresh = find('dgram connect (fresh socket)');
  const map = find('Map.get (cached Route)');
  const netConnect = find('net.connect (loopback)');
  const routedConnect = find('routebind.connect (loopback)');
  const connectRatio = netConnect && routedConnect ? Number((routedConnect.opsPerSec / netConnect.opsPerSec).toPrecision(3)) : undefined;
  const ratios = [
    { name: 'routeTo vs ip spawn', value: ratio(spawn), target: TARGETS.vsSpawn },
    { name: 'routeTo vs fresh dgram-connect', value: ratio(fresh), target: TARGETS.vsDgramFresh },
    { name: 'routeTo vs Map.get', value: ratio(map), target: null },
    { name: 'routebind.connect vs net.connect', value: connectRatio, target: TARGETS.connectVsNet },
  ].map((r) => ({ ...r, met: r.target === null || r.value === undefined ? null : r.value >= r.target }));

  const results = {
    date: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    kernel: os.release(),
    cpu: os.cpus()[0]?.model ?? 'unknown',
    destinations: { loopback: LOOPBACK, defaultRoute: far ?? null },
    agreement,
    cases,
    ratios,
    notes,
    totalSeconds: round((Date.now() - started) / 1000, 1),
  };

  mkdirSync(path.join(here, 'results'), { recursive: true });
  writeFileSync(path.join(here, 'results', 'latest.json'), JSON.stringify(results, null, 2) + '\n');

  if (jsonOnly) {
    console.log(JSON.stringify(results, null, 2));
    return;
  }
  log(`routebind bench: ${results.node} ${results.platform}, kernel ${results.kernel}, ${results.cpu}`);
  if (far !== undefined) log(`default-route destination: ${far.destination} (${far.via}, gateway ${far.gateway} dev ${far.interface})`);
  log(`answers for ${LOOPBACK}: routeTo ${reference.interface}/${reference.source}` +
    (agreement.ip ? `, ip ${agreement.ip.interface}/${agreement.ip.source}` : '') + `, dgram source ${agreement.dgram.source}`);
  log('');
  const rows = cases.map((c) => [c.name, c.destination, c.opsPerSec.toLocaleString('en-US'), c.usPerOp.toFixed(3), String(c.iterations)]);
  const header = ['case', 'destination', 'ops/s', 'µs/op', 'iterations'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  log(line(header));
  log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) log(line(r));
  log('');
  for (const r of ratios) {
    const value = r.value === undefined ? 'n/a' : `${r.value}×`;
    const verdict = r.target === null ? (r.value === undefined ? '' : `(for reference: the cached answer is ${Math.round(1 / r.value)}× faster)`) : r.met === null ? '(not measured)' : `target ≥ ${r.target}×: ${r.met ? 'met' : 'NOT met'}`;
    log(`${r.name.padEnd(32)} ${value.padStart(10)}  ${verdict}`);
  }
  for (const n of notes) log(`note: ${n}`);
  log(`\n${results.totalSeconds} s; written to ${path.relative(process.cwd(), path.join(here, 'results', 'latest.json'))}`);
}

await main();
if (sink === 0.5) console.log(sink); // never true; keeps `sink` observable
