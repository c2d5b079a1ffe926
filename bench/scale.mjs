// Cost that grows with the host, for `npm run bench`: per-call timings inside a network namespace
// bench/run.mjs made (`ip netns exec NS node bench/scale.mjs …`). run.mjs starts one of these in a
// namespace with 2 links and one in a namespace with ~2,500 links and ~3,000 addresses, and drives
// both in lockstep over stdin (one short burst of one case in one, then the same in the other),
// so that load on a shared machine hits both alike; it reports big ÷ small. Refuses to run in the
// host's own namespace (it adds and removes an address on lo for the after-change case).
//
//   ip netns exec NS node bench/scale.mjs <destination> <localAddress>
//
// destination: an on-link address no one answers at (only looked up; the two call cases never
// send: the socket is destroyed before Node's deferred connect() runs). localAddress: this
// namespace's address on its last link, so finding its owner walks every link before it.
// Prints a JSON line { ready, links, addresses } once warmed up, then answers each command line
// on stdin with one JSON line:
//   time <case> <seconds>  → { usPerOp, operations }   (cases: connect, netConnect, connectCall, connectFromCall,
//                                                        uncached, cached)
//   change                 → { us }: add or remove an address on lo, then time one connectFromCall
//   quit
import { spawnSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import { createInterface } from 'node:readline';

const require = createRequire(import.meta.url);
const routebind = require('../dist/index.js');

const [destination, localAddress] = process.argv.slice(2);
const LOOPBACK = '127.0.0.1';
const CHANGE_ADDRESS = '198.19.98.1/32'; // RFC 2544 benchmarking range, on lo: reaches nothing

const hostNetns = process.env.ROUTEBIND_BENCH_HOST_NETNS;
if (hostNetns === undefined || readlinkSync('/proc/self/ns/net') === hostNetns || !destination || !localAddress) {
  console.error('bench/scale.mjs changes addresses: run it through bench/run.mjs, which makes the namespaces for it');
  process.exit(2);
}

let sink = 0;
const nsNow = () => process.hrtime.bigint();

/** Calls fn for `budget` seconds in doubling batches (at least once); µs per call. */
async function time(fn, isAsync, budget) {
  const limit = BigInt(Math.round(budget * 1e9));
  let batch = 1;
  let operations = 0;
  let elapsed = 0n;
  while (operations === 0 || elapsed < limit) {
    const start = nsNow();
    if (isAsync) for (let i = 0; i < batch; i++) await fn();
    else for (let i = 0; i < batch; i++) fn();
    const took = nsNow() - start;
    elapsed += took;
    operations += batch;
    if (took < 5_000_000n) batch *= 2;
  }
  return { usPerOp: Number(elapsed) / 1e3 / operations, operations };
}

/** One TCP connection to the loopback server: connect, then wait for the server's close. */
function connectOnce(connect, port) {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: LOOPBACK, port });
    socket.once('error', reject);
    socket.once('close', resolve);
    socket.resume();
  });
}

/** One connect() call (decision from the cached route, bound pinned socket), destroyed unsent. */
function connectCall() {
  const socket = routebind.connect({ host: destination, port: 9 });
  socket.on('error', () => {});
  socket.destroy();
}

/**
 * One connect({ localAddress }) call: the decision (owner of the address, route through it) and
 * the bound, pinned socket, destroyed before Node's deferred connect() runs, so nothing is sent.
 */
function connectFromCall() {
  const socket = routebind.connect({ host: destination, port: 9, localAddress });
  socket.on('error', () => {});
  socket.destroy();
}

const server = net.createServer((c) => c.destroy());
await new Promise((resolve) => server.listen(0, LOOPBACK, resolve));
const { port } = server.address();

const cases = {
  connect: [() => connectOnce(routebind.connect, port), true],
  // The control: what the kernel's own share of a connection does with the host's size.
  netConnect: [() => connectOnce(net.connect, port), true],
  connectCall: [connectCall, false],
  connectFromCall: [connectFromCall, false],
  uncached: [() => { sink ^= routebind.routeTo(destination, { cache: false }).ifindex; }, false],
  cached: [() => { sink ^= routebind.routeTo(destination).ifindex; }, false],
};
for (const [fn, isAsync] of Object.values(cases)) await time(fn, isAsync, 0.2); // warm-up

// The first call after the kernel announces a change: the caches start again from a fresh dump
// of links and addresses, whose size is the host's.
let changes = 0;
function change() {
  const verb = changes++ % 2 === 0 ? 'add' : 'del';
  const r = spawnSync('ip', ['address', verb, CHANGE_ADDRESS, 'dev', 'lo'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip address ${verb} ${CHANGE_ADDRESS}: ${r.stderr.trim()}`);
  const start = nsNow();
  connectFromCall();
  return { us: Number(nsNow() - start) / 1e3 };
}

const links = routebind.interfaces();
console.log(JSON.stringify({ ready: true, links: links.length, addresses: links.reduce((n, l) => n + l.addresses.length, 0) }));
try {
  for await (const line of createInterface({ input: process.stdin })) {
    const [command, key, seconds] = line.trim().split(/\s+/);
    if (command === 'quit') break;
    if (command === 'change') console.log(JSON.stringify(change()));
    else if (command === 'time' && key in cases) console.log(JSON.stringify(await time(cases[key][0], cases[key][1], Number(seconds))));
    else console.log(JSON.stringify({ error: `unknown command: ${line}` }));
  }
} finally {
  if (changes % 2 === 1) spawnSync('ip', ['address', 'del', CHANGE_ADDRESS, 'dev', 'lo']);
  server.close();
}
if (sink === 0.5) console.log(sink); // never true; keeps `sink` observable
