// Change-to-event latency, for `npm run bench`: how long after `ip route replace` returns the
// watcher's 'change' event for that route runs. bench/run.mjs starts this inside a network
// namespace it made for the purpose (`ip netns exec NS node bench/latency.mjs`): the route
// changes here touch only that namespace. Refuses to run in the host's own namespace.
//
// Each iteration replaces 198.19.99.0/24 dev lo, alternating `proto static` and `proto boot`:
// a replace that changes nothing is silent, one that changes the protocol is announced once.
// The clock starts when spawnSync() returns (the event loop was blocked until then, so the
// event cannot have been handled earlier) and stops in the 'change' listener.
//
//   ip netns exec NS node bench/latency.mjs [iterations]
//
// Prints one JSON line: { iterations, medianUs, p99Us, minUs, maxUs, missed, extraEvents, ... }.
import { spawnSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const routebind = require('../dist/index.js');

const PREFIX = '198.19.99.0/24'; // RFC 2544 benchmarking range: never a real network
const WARMUP = 20;
const TIMEOUT_MS = 1000; // per change; after MAX_MISSED changes without an event, give up
const MAX_MISSED = 5;
const iterations = Number(process.argv[2] ?? 300);

// bench/run.mjs passes the network namespace it runs in (ROUTEBIND_BENCH_HOST_NETNS, as
// /proc/self/ns/net reads there): the namespace we change routes in must be another one.
const hostNetns = process.env.ROUTEBIND_BENCH_HOST_NETNS;
if (hostNetns === undefined || readlinkSync('/proc/self/ns/net') === hostNetns) {
  console.error('bench/latency.mjs changes routes: run it through bench/run.mjs, which makes a network namespace for it');
  process.exit(2);
}

const watcher = routebind.watch({ addresses: false, links: false, family: 4 });
watcher.ref();

let expected; // { protocol, resolve }: the event the current iteration waits for
let extraEvents = 0;
watcher.on('change', (event) => {
  const at = process.hrtime.bigint();
  if (expected !== undefined && event.kind === 'route' && event.destination === PREFIX && event.protocol === expected.protocol) {
    const { resolve } = expected;
    expected = undefined;
    resolve(at);
  } else {
    extraEvents++;
  }
});

function replace(protocol) {
  const r = spawnSync('ip', ['route', 'replace', PREFIX, 'dev', 'lo', 'proto', protocol], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip route replace failed: ${r.error?.message ?? r.stderr.trim()}`);
}

const samples = [];
let missed = 0;
try {
  for (let i = 0; i < WARMUP + iterations; i++) {
    const protocol = i % 2 === 0 ? 'static' : 'boot';
    let timer;
    const arrived = new Promise((resolve) => {
      expected = { protocol, resolve };
      timer = setTimeout(() => { expected = undefined; resolve(undefined); }, TIMEOUT_MS);
    });
    replace(protocol);
    const returned = process.hrtime.bigint();
    const at = await arrived;
    clearTimeout(timer);
    if (i < WARMUP) continue;
    if (at === undefined) {
      if (++missed >= MAX_MISSED) throw new Error(`no 'change' event for ${missed} route replacements`);
    } else {
      samples.push(Number(at - returned) / 1000);
    }
  }
} finally {
  watcher.close();
  spawnSync('ip', ['route', 'del', PREFIX, 'dev', 'lo']);
}

const sorted = [...samples].sort((a, b) => a - b);
// Nearest-rank quantile: the smallest sample with at least q of all samples at or below it.
const quantile = (q) => (sorted.length === 0 ? null : round(sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]));
function round(x) {
  return Math.round(x * 10) / 10;
}
console.log(JSON.stringify({
  iterations,
  warmup: WARMUP,
  samples: samples.length,
  medianUs: quantile(0.5),
  p99Us: quantile(0.99),
  minUs: quantile(0),
  maxUs: quantile(1),
  missed,
  extraEvents,
}));
