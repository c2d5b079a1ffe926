// Runs inside bench/server.mjs's namespace with many addresses: what listen() costs per address
// (routebind's per-address wildcard) next to one plain wildcard listener. Prints one JSON line.
const { execFileSync } = require('node:child_process');
const { readdirSync } = require('node:fs');
const net = require('node:net');
const routebind = require('../dist/index.js');

const { count } = JSON.parse(process.argv[2]);
const fds = () => readdirSync('/proc/self/fd').length;
const rssMiB = () => process.memoryUsage().rss / 2 ** 20;
const ms = (start) => Math.round(Number(process.hrtime.bigint() - start) / 1e4) / 100;
const round = (x) => Math.round(x * 10) / 10;
const settle = () => new Promise((r) => setTimeout(r, 50));

function listen(server, port) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, resolve);
  });
}

function acceptsPerSec(server, host, port, seconds = 1) {
  return new Promise((resolve) => {
    let accepted = 0;
    let running = true;
    const onConnection = () => accepted++;
    server.on('connection', onConnection);
    const one = () => {
      if (!running) return;
      const s = net.connect({ host, port });
      s.on('error', () => undefined);
      s.once('close', one);
    };
    for (let i = 0; i < 8; i++) one();
    setTimeout(() => {
      running = false;
      server.off('connection', onConnection);
      setTimeout(() => resolve(Math.round(accepted / seconds)), 100);
    }, seconds * 1000);
  });
}

async function measure(make, port, extra) {
  global.gc?.();
  await settle();
  const fd0 = fds();
  const rss0 = rssMiB();
  const server = make();
  const start = process.hrtime.bigint();
  await listen(server, port);
  const listenMs = ms(start);
  await settle();
  const result = { listenMs, fds: fds() - fd0, rssMiB: round(rssMiB() - rss0) };
  Object.assign(result, await extra(server));
  // The last IPv4 address bench/server.mjs added (even indexes are IPv4).
  const last = count % 2 ? count - 1 : count - 2;
  result.acceptsPerSec = await acceptsPerSec(server, `10.77.${Math.floor(last / 250)}.${(last % 250) + 1}`, port);
  const closing = process.hrtime.bigint();
  await new Promise((r) => server.close(r));
  result.closeMs = ms(closing);
  return result;
}

async function main() {
  // The change feed and libuv's spare fd are opened once per process: before anything is counted.
  routebind.watch().close();
  const warm = net.createServer();
  await listen(warm, 0);
  await new Promise((r) => warm.close(r));

  const wildcard = await measure(() => net.createServer((c) => c.destroy()), 7600, async () => ({}));
  const perAddress = await measure(() => routebind.createServer((c) => c.destroy()), 7601, async (server) => {
    const listeners = routebind.describe(server).perAddress.length;
    const listed = () => routebind.describe(server).perAddress.some((l) => l.address === '10.77.99.1');
    execFileSync('ip', ['addr', 'add', '10.77.99.1/16', 'dev', 'srv0']);
    const start = process.hrtime.bigint();
    while (!listed()) await new Promise((r) => setImmediate(r));
    const addedMs = ms(start);
    execFileSync('ip', ['addr', 'del', '10.77.99.1/16', 'dev', 'srv0']);
    return { listeners, addedMs };
  });
  process.stdout.write(`${JSON.stringify({ perAddress, wildcard })}\n`);
}

main().catch((error) => {
  process.stderr.write(String(error?.stack ?? error));
  process.exit(1);
});
