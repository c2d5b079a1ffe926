// The demo's clients in the far namespace: connect to each address at once, report what answered
// (the address the server says it answered from) or that nothing did within the timeout.
// argv[2]: JSON { targets: [address], port, timeoutMs }. Prints one JSON line per target.
'use strict';
const net = require('node:net');

const { targets, port, timeoutMs } = JSON.parse(process.argv[2]);
for (const address of targets) {
  const started = process.hrtime.bigint();
  const elapsed = () => Number(process.hrtime.bigint() - started) / 1e6;
  const socket = net.connect({ host: address, port });
  let reply = '';
  let done = false;
  const finish = (result) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    socket.destroy();
    process.stdout.write(`${JSON.stringify({ address, ...result })}\n`);
  };
  const timer = setTimeout(() => finish({ ok: false, timedOut: true, elapsedMs: elapsed() }), timeoutMs);
  let connectMs;
  socket.on('connect', () => (connectMs = elapsed()));
  socket.on('data', (chunk) => (reply += chunk));
  socket.on('end', () => finish({ ok: true, seen: reply.trim().replace(/^::ffff:/, ''), connectMs }));
  socket.on('error', (error) => finish({ ok: false, error: { code: error.code, message: error.message }, elapsedMs: elapsed() }));
}
