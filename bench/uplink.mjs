// Connect rate where real connections go, for `npm run bench`: through an uplink of the two-uplink
// topology (test/netns/two-uplinks.sh: host → router A → far server), which bench/run.mjs builds
// in namespaces of its own.
//
//   ip netns exec FAR  node bench/uplink.mjs serve <address> <port>
//       a server that closes each connection at once; prints "listening" when ready.
//   ip netns exec HOST node bench/uplink.mjs connect <address> <port> <source> <seconds> <rounds>
//       routebind.connect against net.connect from the same source (localAddress: the address
//       routebind chooses, which the run checks) and plain net.connect, one connection at a
//       time, in interleaved rounds (odd rounds reversed). Prints one JSON line:
//       { source: {…}, cases: { key: { roundsOpsPerSec, operations } } }.
import { createRequire } from 'node:module';
import net from 'node:net';

const require = createRequire(import.meta.url);
const [mode, address, portArg, source, secondsArg = '6', roundsArg = '7'] = process.argv.slice(2);
const port = Number(portArg);

if (mode === 'serve') {
  const server = net.createServer((c) => c.destroy());
  server.listen(port, address, () => console.log('listening'));
} else if (mode === 'connect') {
  const routebind = require('../dist/index.js');
  const seconds = Number(secondsArg);
  const rounds = Number(roundsArg);

  /** One connection: connect, wait for the server's close; resolves with the local address used. */
  const connectOnce = (connect) => new Promise((resolve, reject) => {
    const socket = connect();
    let local;
    socket.once('connect', () => { local = socket.localAddress; });
    socket.once('error', reject);
    socket.once('close', () => resolve(local));
    socket.resume();
  });
  const cases = {
    routebindConnect: () => routebind.connect({ host: address, port }),
    netConnectFromSource: () => net.connect({ host: address, port, localAddress: source }),
    netConnect: () => net.connect({ host: address, port }),
  };
  const sources = {};
  for (const [key, connect] of Object.entries(cases)) sources[key] = await connectOnce(connect);
  for (const connect of Object.values(cases)) for (let i = 0; i < 300; i++) await connectOnce(connect);

  const keys = Object.keys(cases);
  const results = Object.fromEntries(keys.map((k) => [k, { roundsOpsPerSec: [], operations: 0 }]));
  const budget = BigInt(Math.round((seconds / rounds) * 1e9));
  for (let r = 0; r < rounds; r++) {
    for (const key of r % 2 === 0 ? keys : [...keys].reverse()) {
      let n = 0;
      const start = process.hrtime.bigint();
      while (process.hrtime.bigint() - start < budget) {
        await connectOnce(cases[key]);
        n++;
      }
      const took = Number(process.hrtime.bigint() - start) / 1e9;
      results[key].roundsOpsPerSec.push(Math.round(n / took));
      results[key].operations += n;
    }
  }
  console.log(JSON.stringify({ sources, cases: results }));
} else {
  console.error('usage: node bench/uplink.mjs serve <address> <port> | connect <address> <port> <source> [seconds] [rounds]');
  process.exit(64);
}
