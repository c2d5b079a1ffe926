// routebind's per-address wildcard listen next to net.createServer's wildcard listener, side by
// side in the same test on loopback (no privileges needed): what a program sees (address(),
// event order, connection counts, errors, ref/unref, AbortSignal) must be the same.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

import * as routebind from '../../lib/index';

type Make = (listener?: (socket: net.Socket) => void) => net.Server;
const makers: Array<[string, Make]> = [
  ['net', (l) => net.createServer(l)],
  ['routebind', (l) => routebind.createServer(l) as net.Server],
];
const linux = process.platform === 'linux';
const hasIPv6Loopback = Object.values(os.networkInterfaces()).flat().some((a) => a?.address === '::1');
const openFds = () => readdirSync('/proc/self/fd').length;

function listen(server: net.Server, ...args: unknown[]): Promise<net.AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    (server.listen as (...a: unknown[]) => net.Server)(...args, () => {
      server.off('error', reject);
      resolve(server.address() as net.AddressInfo);
    });
  });
}

function errorOf(server: net.Server, ...args: unknown[]): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    server.once('error', (e: NodeJS.ErrnoException) => resolve({ name: e.name, code: e.code, errno: e.errno, syscall: e.syscall, address: (e as { address?: string }).address, port: (e as { port?: number }).port, message: e.message, keys: Object.keys(e).sort(), listening: server.listening }));
    (server.listen as (...a: unknown[]) => net.Server)(...args, () => resolve({ listening: true }));
  });
}

function ask(port: number, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, host);
    let reply = '';
    socket.on('data', (d) => (reply += d));
    socket.on('end', () => resolve(reply));
    socket.on('error', reject);
  });
}

const close = (server: net.Server) => new Promise<void>((resolve) => server.close(() => resolve()));

describe.skipIf(!linux)(`per-address wildcard listen next to net's${linux ? '' : ' (skipped: per-address listening is Linux only)'}`, () => {
  it('address() is the wildcard, as Node reports it, for every listen() form', async () => {
    const forms: unknown[][] = [[], [0], ['0'], [{ port: 0 }], [{ port: 0, host: '::' }], [{ port: 0, host: '0.0.0.0' }], [{ port: 0, ipv6Only: true }], [0, '0.0.0.0'], [{ port: null }], [{ port: undefined }], [null]];
    for (const form of forms) {
      const shapes = [];
      for (const [, make] of makers) {
        const server = make();
        const { address, family } = await listen(server, ...form);
        shapes.push({ address, family });
        await close(server);
      }
      expect(shapes[1], JSON.stringify(form)).toEqual(shapes[0]);
    }
    const server = routebind.createServer();
    await listen(server, 0);
    expect(routebind.describe(server)).toMatchObject({ answers: 'address-asked', source: '::' });
    expect(routebind.describe(server)?.perAddress).toEqual(expect.arrayContaining([expect.objectContaining({ address: '127.0.0.1', interface: 'lo', pinned: 'SO_BINDTODEVICE' })]));
    await close(server);
    expect(server.address()).toBeNull();
  });

  it("'listening', the callbacks and 'close' come in Node's order, once each", async () => {
    const orders = [];
    for (const [, make] of makers) {
      const events: string[] = [];
      const server = make();
      server.on('listening', () => events.push('listening'));
      server.on('close', () => events.push('close'));
      await listen(server, 0);
      events.push('listen callback');
      await new Promise<void>((resolve) => server.close(() => { events.push('close callback'); resolve(); }));
      await new Promise<void>((resolve) => server.close((error) => { events.push(`second close: ${(error as NodeJS.ErrnoException).code}`); resolve(); }));
      orders.push(events);
    }
    expect(orders[1]).toEqual(orders[0]);
    // Node emits 'close' again for a second close() of a closed server: so does routebind.
    expect(orders[0]).toEqual(['listening', 'listen callback', 'close', 'close callback', 'close', 'second close: ERR_SERVER_NOT_RUNNING']);
  });

  it('connections: the same addresses, getConnections() and maxConnections as net', async () => {
    const seen = [];
    for (const [, make] of makers) {
      const held: net.Socket[] = [];
      const server = make((socket) => {
        held.push(socket);
        socket.write(`${socket.localAddress} ${socket.remoteAddress} ${socket.remoteFamily}\n`);
      });
      server.maxConnections = 2;
      const drops: string[] = [];
      server.on('drop', (d) => drops.push(d?.localAddress ?? 'drop'));
      const { port } = await listen(server, 0);
      const first = await new Promise<string>((resolve) => net.connect(port, '127.0.0.1').once('data', (d) => resolve(String(d).trim())));
      const second = hasIPv6Loopback ? await new Promise<string>((resolve) => net.connect(port, '::1').once('data', (d) => resolve(String(d).trim()))) : 'no ::1';
      const count = await new Promise<number>((resolve) => server.getConnections((_e, n) => resolve(n)));
      // A third is over maxConnections: accepted by the kernel, then closed by net.
      const third = await new Promise<string>((resolve) => {
        const s = net.connect(port, '127.0.0.1');
        s.on('close', () => resolve('closed'));
        s.on('error', () => undefined);
      });
      await new Promise((r) => setTimeout(r, 20));
      seen.push({ first, second, count, third, drops, sockets: held.map((s) => s.server === server) });
      for (const s of held) s.destroy();
      await close(server);
    }
    expect(seen[1]).toEqual(seen[0]);
    expect(seen[0].first).toBe('::ffff:127.0.0.1 ::ffff:127.0.0.1 IPv6');
  });

  it('EADDRINUSE when the port is taken on one address: the same error as net, and nothing left open', async () => {
    const blocker = net.createServer();
    const { port } = await listen(blocker, 0, '127.0.0.1');
    const plain = await errorOf(net.createServer(), port);
    // The change feed, opened by the first routebind call, stays open: open it before counting.
    routebind.interfaces();
    await new Promise((r) => setTimeout(r, 20));
    const before = openFds();
    const routed = routebind.createServer();
    const error = await errorOf(routed, port);
    expect(error).toEqual(plain);
    expect(plain).toMatchObject({ code: 'EADDRINUSE', syscall: 'listen', address: '::', port, listening: false });
    await new Promise((r) => setTimeout(r, 20));
    expect(openFds()).toBe(before);
    await close(blocker);
  });

  it('listen() twice, bad ports and options without a port: Node throws its own errors', async () => {
    const thrown = (fn: () => unknown) => {
      try { fn(); return undefined; } catch (e) { return { code: (e as NodeJS.ErrnoException).code, message: (e as Error).message }; }
    };
    for (const args of [[{}], [{ host: '::' }], [-1], [65536], [{ port: true }], [{ port: 0, backlog: 'x' }]]) {
      const a = net.createServer();
      const b = routebind.createServer();
      const left = thrown(() => (a.listen as (...x: unknown[]) => void)(...args));
      const right = thrown(() => (b.listen as (...x: unknown[]) => void)(...args));
      expect(right, JSON.stringify(args)).toEqual(left);
      if (a.listening) a.close();
      if (b.listening) b.close();
    }
    const server = routebind.createServer();
    await listen(server, 0);
    const again = thrown(() => server.listen(0));
    const plain = net.createServer();
    await listen(plain, 0);
    expect(again).toEqual(thrown(() => plain.listen(0)));
    await close(server);
    await close(plain);
  });

  it('an AbortSignal closes it, as it closes net', async () => {
    for (const [, make] of makers) {
      const controller = new AbortController();
      const server = make();
      await listen(server, { port: 0, signal: controller.signal });
      const closed = new Promise((r) => server.once('close', r));
      controller.abort();
      await closed;
      expect(server.listening).toBe(false);
    }
  });

  it('unref() lets the process exit; ref() keeps it alive, as with net', () => {
    const dist = path.join(__dirname, '..', '..', 'dist', 'index.js');
    const run = (code: string) => spawnSync(process.execPath, ['-e', `const rb = require(${JSON.stringify(dist)}); ${code}`], { timeout: 3000 });
    expect(run('rb.createServer().listen(0, function () { this.unref(); })').status).toBe(0);
    const kept = run('rb.createServer().listen(0, function () { this.unref(); this.ref(); })');
    expect(kept.signal).toBe('SIGTERM'); // still alive when the timeout ended it
  });

  it('one port for every address, and a listen/close loop leaks no fd', async () => {
    const server = routebind.createServer((s) => s.end(`${s.localAddress}\n`));
    const { port } = await listen(server, 0);
    expect((await ask(port, '127.0.0.1')).trim()).toBe('::ffff:127.0.0.1');
    if (hasIPv6Loopback) expect((await ask(port, '::1')).trim()).toBe('::1');
    await close(server);
    const before = openFds();
    for (let i = 0; i < 50; i++) {
      const s = routebind.createServer();
      await listen(s, 0);
      await close(s);
    }
    await new Promise((r) => setTimeout(r, 20));
    expect(openFds()).toBe(before);
  });

  it('listens again after close(), as net does, with one connection listener and describe() of each connection', async () => {
    const server = routebind.createServer((s) => s.end(`${s.localAddress}\n`));
    const listenersBefore = server.listenerCount('connection');
    for (let i = 0; i < 3; i++) {
      const { port } = await listen(server, 0);
      const seen = new Promise<unknown>((resolve) => server.once('connection', (socket) => resolve(routebind.describe(socket))));
      expect((await ask(port, '127.0.0.1')).trim()).toBe('::ffff:127.0.0.1');
      expect(await seen).toMatchObject({ source: '::ffff:127.0.0.1', interface: 'lo', pinned: 'SO_BINDTODEVICE' });
      await close(server);
    }
    expect(server.listenerCount('connection')).toBe(listenersBefore + 1);
  });

  it('perAddress: false (listen option or createServer option) is one plain wildcard listener', async () => {
    const a = routebind.createServer();
    await listen(a, { port: 0, perAddress: false });
    expect(routebind.describe(a)).toEqual({ source: '::', pinned: null, answers: 'route' });
    await close(a);
    const b = routebind.createServer({ perAddress: false });
    await listen(b, 0);
    expect(routebind.describe(b)).toEqual({ source: '::', pinned: null, answers: 'route' });
    await close(b);
    expect(() => routebind.createServer({ perAddress: 'no' as unknown as boolean })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });
});
