// UDP echo through a wildcard server on loopback: routebind's createSocket (which reads with
// IP_PKTINFO on its own receive path and answers with sendmsg from the address asked) against
// Node's dgram.createSocket, request/response, 1 client and 16 clients. Both servers run at once,
// each in its own process; the clients (connect()ed, each with one datagram in flight) run here
// and hit one server at a time, alternating every round so load that comes and goes hits both
// alike. The ratio is taken within each round and the median round's is reported. Target ≥ 0.90.
// Also: what one wildcard socket costs (descriptors, bind time), which does not grow with the
// number of addresses the host has.
// usage: node bench/udp-server.mjs [--json] [--seconds S] [--control]
// --control makes both servers Node's: the ratio it prints is this method's own bias on this machine.
// `npm run bench` should run it after bench/run.mjs (package.json: "bench": "node bench/run.mjs && node bench/udp-server.mjs").
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

const require = createRequire(import.meta.url);
const ROUNDS = 7;
const TARGET = 0.9;
const secondsAt = process.argv.indexOf('--seconds');
const SECONDS = secondsAt > 0 ? Number(process.argv[secondsAt + 1]) : 1;
const jsonOnly = process.argv.includes('--json');
const log = jsonOnly ? () => {} : (...a) => console.log(...a);

function startServer(api, type) {
  const child = spawn(process.execPath, [new URL(import.meta.url).pathname, '--serve', api, type, ...(process.argv.includes('--control') ? ['--control'] : [])], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.stdout.once('data', (d) => resolve({ child, port: Number(String(d).trim()) }));
  });
}

async function clients(count, type, address, port) {
  const list = [];
  for (let i = 0; i < count; i++) {
    const c = dgram.createSocket(type);
    await new Promise((resolve) => c.connect(port, address, resolve));
    list.push(c);
  }
  return list;
}

/** Request/response for `seconds`: each client keeps one datagram in flight. Answers per second. */
function run(list, seconds) {
  const payload = Buffer.alloc(64, 7);
  return new Promise((resolve) => {
    let answered = 0;
    let running = true;
    const start = performance.now();
    for (const c of list) {
      c.removeAllListeners('message');
      c.on('message', () => {
        answered += 1;
        if (running) c.send(payload);
      });
      c.send(payload);
    }
    setTimeout(() => {
      running = false;
      const elapsed = (performance.now() - start) / 1000;
      // Let the datagrams still in flight land before the next round.
      setTimeout(() => resolve(answered / elapsed), 50);
    }, seconds * 1000);
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function pair(type, address, count) {
  const node = await startServer('node', type);
  const routed = await startServer('routebind', type);
  const toNode = await clients(count, type, address, node.port);
  const toRouted = await clients(count, type, address, routed.port);
  await run(toNode, 0.2); // warm-up
  await run(toRouted, 0.2);
  const rounds = [];
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 ? [['routebind', toRouted], ['node', toNode]] : [['node', toNode], ['routebind', toRouted]];
    const got = {};
    for (const [name, list] of order) got[name] = await run(list, SECONDS / 2);
    rounds.push({ node: got.node, routebind: got.routebind, ratio: got.routebind / got.node });
  }
  for (const c of [...toNode, ...toRouted]) c.close();
  node.child.kill();
  routed.child.kill();
  const ratio = median(rounds.map((x) => x.ratio));
  return { clients: count, type, nodePps: Math.round(median(rounds.map((x) => x.node))), routebindPps: Math.round(median(rounds.map((x) => x.routebind))), ratio: Number(ratio.toFixed(3)), target: TARGET, met: ratio >= TARGET };
}

/** Descriptors and bind time of one wildcard socket, routebind's and Node's. */
async function footprint() {
  const { createSocket } = require('../dist/index.js');
  const fds = () => readdirSync('/proc/self/fd').length;
  const out = {};
  for (const [name, make] of [['node', dgram.createSocket], ['routebind', createSocket]]) {
    const times = [];
    let extraFds = 0;
    for (let i = 0; i < 200; i++) {
      const before = fds();
      const s = make('udp4');
      const t0 = performance.now();
      await new Promise((resolve) => s.bind(0, resolve));
      times.push((performance.now() - t0) * 1000);
      extraFds = fds() - before;
      s.close();
    }
    out[name] = { fds: extraFds, bindMicros: Math.round(median(times)) };
  }
  return out;
}

async function main() {
  const results = { udpEcho: [], footprint: await footprint() };
  log(`one wildcard socket: Node ${results.footprint.node.fds} fd, bind ${results.footprint.node.bindMicros} µs; routebind ${results.footprint.routebind.fds} fds, bind ${results.footprint.routebind.bindMicros} µs (the same for any number of host addresses)`);
  for (const [type, address] of [['udp4', '127.0.0.1'], ['udp6', '::1']]) {
    for (const count of [1, 16]) {
      const r = await pair(type, address, count);
      results.udpEcho.push(r);
      log(`UDP echo ${type}, ${String(count).padStart(2)} client${count > 1 ? 's' : ' '}: Node ${r.nodePps} /s, routebind ${r.routebindPps} /s, ratio ${r.ratio} (target ≥ ${TARGET}) ${r.met ? 'met' : 'NOT met'}`);
    }
  }
  if (jsonOnly) console.log(JSON.stringify(results, null, 2));
}

if (process.argv[2] === '--serve') {
  // A server process: bind the wildcard, echo, print the port.
  const api = process.argv[3];
  // --control: both servers are Node's, to show what the method itself reads as a difference.
  const make = api === 'routebind' && !process.argv.includes('--control') ? require('../dist/index.js').createSocket : dgram.createSocket;
  const server = make(process.argv[4]);
  server.on('message', (msg, rinfo) => server.send(msg, rinfo.port, rinfo.address));
  server.bind(0, () => process.stdout.write(`${server.address().port}\n`));
} else {
  await main();
}
