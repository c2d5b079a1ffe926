// The demo's client, run inside the multi-homed host's namespace (the only place where ethA and
// ethB exist). It carries out the steps scripts/demo.mjs sends and reports each outcome as one
// JSON line as soon as it is known, so the demo can narrate while the slow (timing out) steps run.
// argv[2]: JSON list of steps; every step has an `id` and a `kind`: 'route' | 'tcp' | 'udp'.
'use strict';
const net = require('node:net');
const dgram = require('node:dgram');
const path = require('node:path');

const routebind = require(path.join(__dirname, '..', '..', 'dist', 'index.js'));

function since(started) {
  return Number(process.hrtime.bigint() - started) / 1e6;
}

function errorInfo(error) {
  return { code: error.code, message: error.message };
}

/** The parts of describe() a person cares about: where the socket leaves and from which address. */
function summarize(description) {
  if (!description) return undefined;
  const { interface: iface, source, pinned, destination, route } = description;
  return { interface: iface, source, pinned, destination, gateway: route?.gateway };
}

/** routeTo(): which interface the kernel would send a packet from `from` to `destination` out of. */
function route(step) {
  try {
    const r = routebind.routeTo(step.destination, step.from ? { from: step.from } : undefined);
    return { ok: true, interface: r.interface, gateway: r.gateway, source: r.source };
  } catch (error) {
    return { ok: false, error: errorInfo(error) };
  }
}

/** One TCP connection with plain Node or routebind; the far server answers with the address it saw. */
function tcp(step) {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const socket = step.api === 'node' ? net.connect(step.options) : routebind.connect(step.options);
    let connectMs;
    let data = '';
    let failure;
    let done = false;
    const finish = (result) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      const local = socket.localAddress;
      socket.destroy();
      const description = step.api === 'node' ? undefined : summarize(routebind.describe(socket));
      resolve({ ...result, connectMs, local, describe: description, elapsedMs: since(started) });
    };
    const timer = setTimeout(() => finish({ ok: false, timedOut: true }), step.timeoutMs);
    socket.on('connect', () => (connectMs = since(started)));
    socket.on('data', (chunk) => (data += chunk));
    socket.on('error', (error) => (failure = errorInfo(error)));
    socket.on('close', () => finish(failure ? { ok: false, error: failure } : { ok: true, seen: data.trim() }));
  });
}

/** One UDP datagram with plain Node or routebind; the far server echoes the sender's address. */
function udp(step) {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const socket = step.api === 'node' ? dgram.createSocket(step.socketOptions) : routebind.createSocket(step.socketOptions);
    let done = false;
    const finish = (result) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      let local;
      try {
        local = socket.address().address;
      } catch {} // never bound: there is no local address to report
      const description = step.api === 'node' ? undefined : summarize(routebind.describe(socket));
      socket.close();
      resolve({ ...result, local, describe: description, elapsedMs: since(started) });
    };
    const timer = setTimeout(() => finish({ ok: false, timedOut: true }), step.timeoutMs);
    socket.on('error', (error) => finish({ ok: false, error: errorInfo(error) }));
    socket.on('message', (msg) => finish({ ok: true, seen: msg.toString().trim(), replyMs: since(started) }));
    const send = () => {
      if (step.connect) socket.connect(step.port, step.host, () => socket.send('hello'));
      else socket.send('hello', step.port, step.host);
    };
    if (step.bind) socket.bind(step.bind, send);
    else send();
  });
}

const kinds = { route, tcp, udp };

async function main() {
  const steps = JSON.parse(process.argv[2]);
  for (const step of steps) {
    const result = await kinds[step.kind](step);
    process.stdout.write(`${JSON.stringify({ id: step.id, ...result })}\n`);
  }
}

main().catch((error) => {
  process.stderr.write(`${error.stack}\n`);
  process.exit(1);
});
