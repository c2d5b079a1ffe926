// routebind's sockets against Node's own on loopback (no privileges needed): the same events in
// the same order, the same argument errors, and the options Node takes still working.
import { once } from 'node:events';
import * as net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import * as routebind from '../../lib/index';
import { loopbackName, loopbackPinned, onLinux, onWindows, pipePath } from '../helpers/platform';

type Connect = (options: net.NetConnectOpts) => net.Socket;

function events(socket: net.Socket, until: 'close' = 'close'): Promise<string[]> {
  const seen: string[] = [];
  for (const name of ['lookup', 'connect', 'ready', 'timeout', 'error', 'end', 'close']) socket.on(name, () => seen.push(name));
  socket.on('error', () => {});
  socket.resume();
  // Not events.once(): it rejects when 'error' comes first, and errors are part of what we compare.
  return new Promise((resolve) => socket.once(until, () => resolve(seen)));
}

describe('sockets on loopback', () => {
  let server: net.Server;
  let silent: net.Server;
  let port: number;
  let silentPort: number;
  let closedPort: number;

  beforeAll(async () => {
    server = net.createServer((c) => c.on('error', () => {}).end('hello\n'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as net.AddressInfo).port;
    silent = net.createServer((c) => c.on('error', () => {})); // accepts and never speaks
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    silentPort = (silent.address() as net.AddressInfo).port;
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    closedPort = (probe.address() as net.AddressInfo).port;
    await new Promise((r) => probe.close(r));
  });
  afterAll(() => {
    server.close();
    silent.close();
  });

  const both: Array<[string, Connect]> = [['net', net.connect as Connect], ['routebind', routebind.connect as Connect]];

  it('a successful connection: the same events as net.connect, pinned to lo', async () => {
    const [plain, routed] = await Promise.all(both.map(([, c]) => events(c({ host: '127.0.0.1', port }))));
    expect(routed).toEqual(plain);
    expect(routed).toEqual(['connect', 'ready', 'end', 'close']);
  });

  it('a refused connection: the same events and a Node-shaped error', async () => {
    const errors: NodeJS.ErrnoException[] = [];
    const sockets = both.map(([, c]) => c({ host: '127.0.0.1', port: closedPort }));
    for (const s of sockets) s.on('error', (e) => errors.push(e));
    const [plain, routed] = await Promise.all(sockets.map((s) => events(s)));
    expect(routed).toEqual(plain);
    expect(errors.map((e) => [e.code, e.syscall, (e as { port?: number }).port])).toEqual([
      ['ECONNREFUSED', 'connect', closedPort],
      ['ECONNREFUSED', 'connect', closedPort],
    ]);
  });

  it("the timeout option fires 'timeout' as with net.connect", async () => {
    const [plain, routed] = await Promise.all(both.map(async ([, c]) => {
      const s = c({ host: '127.0.0.1', port: silentPort, timeout: 50 });
      s.on('timeout', () => s.destroy());
      return events(s);
    }));
    expect(routed).toEqual(plain);
    expect(routed).toContain('timeout');
  });

  it("a hostname ('localhost') is resolved by routebind and still bound and pinned", async () => {
    const s = routebind.connect({ host: 'localhost', port, family: 4 });
    const seen = events(s);
    await once(s, 'connect');
    expect(routebind.describe(s)).toMatchObject({ destination: '127.0.0.1', source: '127.0.0.1', interface: loopbackName, pinned: loopbackPinned });
    expect(s.localAddress).toBe('127.0.0.1');
    expect(await seen).toEqual(['lookup', 'connect', 'ready', 'end', 'close']);
  });

  it('a socket destroyed while its name resolves closes without an error', async () => {
    const s = routebind.connect({ host: 'localhost', port });
    s.destroy();
    expect(await events(s)).toEqual(['close']);
  });

  it('the overloads of net.connect: (port, host, listener), a pipe path', async () => {
    const connected = new Promise<void>((resolve) => {
      const s = routebind.connect(port, '127.0.0.1', () => {
        expect(routebind.describe(s)?.interface).toBe(loopbackName);
        s.destroy();
        resolve();
      });
    });
    await connected;
    const pipe = pipePath(`routebind-${process.pid}`);
    const ipc = net.createServer((c) => c.end('ipc\n'));
    await new Promise<void>((r) => ipc.listen(pipe, r));
    const s = routebind.connect(pipe);
    const [data] = await once(s, 'data');
    expect(String(data)).toBe('ipc\n');
    expect(routebind.describe(s)).toBeUndefined(); // a pipe has nothing to route
    ipc.close();
  });

  it('bad arguments throw as net.connect does, before any socket exists', () => {
    expect(() => routebind.connect({ host: '127.0.0.1', port: -1 })).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_BAD_PORT', name: 'RangeError' }));
    expect(() => routebind.connect({ host: '127.0.0.1', port: 65536 })).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_BAD_PORT' }));
    expect(() => routebind.connect({ host: '127.0.0.1' } as net.NetConnectOpts)).toThrow(expect.objectContaining({ code: 'ERR_MISSING_ARGS' }));
    // Windows takes '/' in a (friendly) interface name, never a NUL; mark exists on Linux only.
    expect(() => routebind.connect({ host: '127.0.0.1', port, interface: onWindows ? 'a\0b' : 'a/b' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => routebind.connect({ host: '127.0.0.1', port, mark: 2 ** 32 })).toThrow(expect.objectContaining({ code: onLinux ? 'ERR_OUT_OF_RANGE' : 'ERR_ROUTEBIND_UNSUPPORTED_OPTION' }));
    expect(() => routebind.connect({ host: '127.0.0.1', port, onRouteChange: 'explode' as 'keep' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => routebind.connect({ host: '127.0.0.1', port, localAddress: 'nope' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_IP_ADDRESS' }));
    expect(() => routebind.connect({ host: 42 as unknown as string, port })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });

  it('a pinned server on lo and a pinned UDP socket answer on loopback', async () => {
    let accepted: ReturnType<typeof routebind.describe>;
    const pinned = routebind.createServer((c) => {
      accepted = routebind.describe(c);
      c.end(`${c.localAddress}\n`);
    });
    await new Promise<void>((r) => pinned.listen({ port: 0, host: '127.0.0.1', interface: loopbackName }, r));
    expect(routebind.describe(pinned)).toMatchObject({ interface: loopbackName, pinned: loopbackPinned, source: '127.0.0.1' });
    const c = net.connect((pinned.address() as net.AddressInfo).port, '127.0.0.1');
    const [data] = await once(c, 'data');
    expect(String(data)).toBe('127.0.0.1\n');
    expect(accepted).toMatchObject({ interface: loopbackName, pinned: loopbackPinned, source: '127.0.0.1', destination: '127.0.0.1' });
    pinned.close();

    const udp = routebind.createSocket('udp4');
    const echo = routebind.createSocket({ type: 'udp4', interface: loopbackName });
    echo.on('message', (m, r) => echo.send(m, r.port, r.address));
    await new Promise<void>((r) => echo.bind({ port: 0, address: '127.0.0.1' }, r));
    udp.connect(echo.address().port, '127.0.0.1', () => udp.send('ping'));
    const [reply] = await once(udp, 'message');
    expect(String(reply)).toBe('ping');
    expect(routebind.describe(udp)).toMatchObject({ interface: loopbackName, source: '127.0.0.1', pinned: loopbackPinned });
    udp.close();
    echo.close();
  });

  it('UDP connect() to a name: routed and pinned once it resolves', async () => {
    const echo = routebind.createSocket('udp4');
    echo.on('message', (m, r) => echo.send(m, r.port, r.address));
    await new Promise<void>((r) => echo.bind({ port: 0, address: '127.0.0.1' }, r));
    const udp = routebind.createSocket('udp4');
    // A send() before 'connect' has no destination yet: Node's own socket throws there too
    // (test/unit/dgram-fidelity.test.ts compares the two).
    udp.connect(echo.address().port, 'localhost', () => udp.send('early'));
    const [reply] = await once(udp, 'message');
    expect(String(reply)).toBe('early');
    expect(routebind.describe(udp)).toMatchObject({ destination: '127.0.0.1', interface: loopbackName });
    udp.close();
    echo.close();
  });

  it('a server address written another way (0:0::1 for ::1) is still found on its interface', async () => {
    const server = routebind.createServer();
    await new Promise<void>((r) => server.listen({ port: 0, host: '0:0::1', interface: loopbackName }, r));
    expect(routebind.describe(server)).toMatchObject({ interface: loopbackName, pinned: loopbackPinned });
    server.close();
  });

  it("UDP bind emits 'listening' after bind() returns, as Node's own bind does", async () => {
    const s = routebind.createSocket('udp4');
    let during = false;
    s.bind({ port: 0, address: '127.0.0.1' });
    s.on('listening', () => (during = true));
    await once(s, 'listening').catch(() => {});
    expect(during).toBe(true);
    s.close();
  });
});
