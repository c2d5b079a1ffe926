// The demo's far server, run inside the far namespace: it tells every client which address it
// saw, which is the whole point of the demo (did the packet arrive from ethA's or ethB's address?).
//   TCP: answers each connection with the remote address, then closes.
//   UDP: echoes the sender's address back to the sender.
// argv[2]: JSON { addresses: string[], port: number }. Prints "ready" once every socket listens.
// It exits when its stdin closes, so it cannot outlive the demo even if the demo is killed hard.
'use strict';
const net = require('node:net');
const dgram = require('node:dgram');

const { addresses, port } = JSON.parse(process.argv[2]);

let pending = addresses.length * 2; // one TCP and one UDP socket per address
function ready() {
  if (--pending === 0) process.stdout.write('ready\n');
}

for (const address of addresses) {
  const v6 = address.includes(':');
  net
    .createServer((socket) => {
      socket.on('error', () => {}); // a client that resets must not crash the server
      socket.end(`${socket.remoteAddress}\n`);
    })
    .listen({ port, host: address, ipv6Only: v6 }, ready);

  const udp = dgram.createSocket(v6 ? 'udp6' : 'udp4');
  udp.on('message', (_msg, rinfo) => udp.send(`${rinfo.address}\n`, rinfo.port, rinfo.address));
  udp.bind(port, address, ready);
}

process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
