// RSS growth over many operations, for `npm run bench` (bench/run.mjs starts one fresh process per
// mode). Warm up, gc(), read RSS, do the work, gc(), read RSS again: what stays is what the
// operations leak. RSS is also read at three checkpoints on the way: a leak climbs steadily, a
// heap settling into its working size steps once.
//
//   MALLOC_ARENA_MAX=1 node --expose-gc --single-threaded-gc --min-semi-space-size=1 \
//     --max-semi-space-size=1 bench/memory.mjs lookups-uncached|lookups-cached|connects|connects-net [count [warmup]]
//
// (Only --expose-gc is required; the rest take V8's and malloc's own ±1 MiB and young-generation
// resizing out of the figure, see bench/run.mjs.) Prints one JSON line: { mode, count, warmup,
// rssBeforeMiB, rssAfterMiB, growthMiB, checkpoints, spaceGrowthMiB, ... }.
import { spawn } from 'node:child_process';
import net from 'node:net';
import v8 from 'node:v8';
import { createRequire } from 'node:module';
import { setImmediate as tick } from 'node:timers/promises';

const require = createRequire(import.meta.url);
const routebind = require('../dist/index.js');

const MiB = 1024 * 1024;
const LOOPBACK = '127.0.0.1';
const IN_FLIGHT = 16; // connections open at once in 'connects' mode

if (typeof globalThis.gc !== 'function') {
  console.error('bench/memory.mjs needs --expose-gc');
  process.exit(2);
}

let sink = 0;

async function settle() {
  // Two ticks let closed handles and their weak callbacks finish before the collection.
  await tick();
  await tick();
  globalThis.gc();
  globalThis.gc();
}

/** Runs `work(n)` for warmup, then for count, returning RSS before and after (MiB) and checkpoints. */
async function measure(work, count, warmup, checkpoints = 4) {
  await work(warmup);
  await settle();
  const before = process.memoryUsage();
  const spacesBefore = spaces();
  const started = process.hrtime.bigint();
  const steps = [];
  const step = Math.ceil(count / checkpoints);
  for (let done = 0; done < count;) {
    const n = Math.min(step, count - done);
    await work(n);
    done += n;
    if (done < count) {
      await settle();
      steps.push({ done, rssMiB: round(process.memoryUsage.rss() / MiB) });
    }
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await settle();
  const after = process.memoryUsage();
  const spacesAfter = spaces();
  steps.push({ done: count, rssMiB: round(after.rss / MiB) });
  return {
    count,
    warmup,
    seconds: round(seconds),
    rssBeforeMiB: round(before.rss / MiB),
    rssAfterMiB: round(after.rss / MiB),
    growthMiB: round((after.rss - before.rss) / MiB),
    heapUsedGrowthMiB: round((after.heapUsed - before.heapUsed) / MiB),
    externalGrowthMiB: round((after.external - before.external) / MiB),
    checkpoints: steps,
    // V8 spaces whose committed size changed (MiB): growth there is the heap resizing itself.
    spaceGrowthMiB: Object.fromEntries(Object.keys(spacesAfter)
      .filter((k) => spacesAfter[k] !== spacesBefore[k])
      .map((k) => [k, round(spacesAfter[k] - (spacesBefore[k] ?? 0))])),
  };
}

function spaces() {
  return Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, s.physical_space_size / MiB]));
}

function round(x) {
  return Math.round(x * 1000) / 1000;
}

function lookups(options) {
  return async (n) => {
    for (let i = 0; i < n; i++) sink ^= routebind.routeTo(LOOPBACK, options).ifindex ?? 0;
  };
}

/**
 * A loopback server in its own process (the other core), so that this process holds only the
 * client side being measured. It destroys every connection at once: TIME_WAIT stays over there.
 */
async function startServer() {
  const child = spawn(process.execPath, ['-e', `
    const server = require('node:net').createServer((c) => c.destroy());
    server.listen(0, '${LOOPBACK}', () => process.stdout.write(server.address().port + '\\n'));
    process.stdin.on('end', () => process.exit(0)).resume();
  `], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise((resolve, reject) => {
    let text = '';
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`loopback server exited (${code})`)));
    child.stdout.on('data', (chunk) => {
      text += chunk;
      if (text.includes('\n')) resolve(Number(text.trim()));
    });
  });
  return { port, stop: () => child.stdin.end() };
}

async function connects(connect, count, warmup) {
  const server = await startServer();
  const one = () => new Promise((resolve, reject) => {
    const socket = connect({ host: LOOPBACK, port: server.port });
    socket.once('error', reject);
    socket.once('close', resolve);
    socket.resume();
  });
  const work = async (n) => {
    let next = 0;
    const worker = async () => {
      while (next < n) {
        next++;
        await one();
      }
    };
    await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, n) }, worker));
  };
  try {
    return { ...(await measure(work, count, warmup)), inFlight: IN_FLIGHT };
  } finally {
    server.stop();
  }
}

const mode = process.argv[2];
const countArg = process.argv[3] !== undefined ? Number(process.argv[3]) : undefined;
const warmupArg = process.argv[4] !== undefined ? Number(process.argv[4]) : undefined;
let result;
switch (mode) {
  case 'lookups-uncached':
    result = await measure(lookups({ cache: false }), countArg ?? 1_000_000, warmupArg ?? 10_000);
    break;
  case 'lookups-cached':
    result = await measure(lookups(undefined), countArg ?? 1_000_000, warmupArg ?? 10_000);
    break;
  case 'connects':
    result = await connects(routebind.connect, countArg ?? 100_000, warmupArg ?? 2_000);
    break;
  case 'connects-net': // the same with net.connect, for comparison
    result = await connects(net.connect, countArg ?? 100_000, warmupArg ?? 2_000);
    break;
  default:
    console.error('usage: node --expose-gc bench/memory.mjs lookups-uncached|lookups-cached|connects|connects-net [count [warmup]]');
    process.exit(2);
}
console.log(JSON.stringify({ mode, ...result }));
if (sink === 0.5) console.log(sink); // never true; keeps `sink` observable
