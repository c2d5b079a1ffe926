// The demo's server on the multi-homed host: plain Node's or routebind's, listening on the wildcard.
// Answers each client with the local address it reached and reports the connection as a JSON line.
// argv[2]: JSON { kind: 'plain' | 'routebind', port }.
'use strict';
const net = require('node:net');
const path = require('node:path');

const routebind = require(path.join(__dirname, '..', '..', 'dist', 'index.js'));
const { kind, port } = JSON.parse(process.argv[2]);
const log = (entry) => process.stdout.write(`${JSON.stringify(entry)}\n`);

const server = (kind === 'plain' ? net.createServer : routebind.createServer)((socket) => {
  const d = routebind.describe(socket);
  log({ from: socket.remoteAddress, to: socket.localAddress, interface: d?.interface, pinned: d?.pinned ?? null });
  socket.on('error', () => {});
  socket.end(`${socket.localAddress}\n`);
});
server.on('error', (error) => log({ error: error.code }));
server.listen(port, () => log({ ready: true }));
// Stdin is the demo's lifeline: when it closes, the demo is gone.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
