// routebind's Agent / HttpsAgent / connector against Node's http.Agent / https.Agent in the same
// test: bad options fail the same way (thrown or as the request's 'error', same class, code and
// message), connection errors carry Node's shape, and no failure leaves a file descriptor behind.
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import * as routebind from '../../lib/index';
import { itOn, loopbackName, onWindows, openFds } from '../helpers/platform';

async function settled(): Promise<void> {
  // A destroyed socket's fd is closed by libuv on a later loop turn.
  await new Promise((r) => setTimeout(r, 50));
}

type Outcome = { how: 'throw' | 'event' | 'response'; class?: string; code?: string; message?: string; keys?: string[] };

function outcome(make: () => http.ClientRequest): Promise<Outcome> {
  let req: http.ClientRequest;
  try {
    req = make();
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return Promise.resolve({ how: 'throw', class: err.constructor.name, code: err.code, message: err.message, keys: Object.keys(err) });
  }
  return new Promise((resolve) => {
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ how: 'event', class: err.constructor.name, code: err.code, message: err.message, keys: Object.keys(err) }));
    req.on('response', (res) => {
      res.resume();
      resolve({ how: 'response' });
    });
  });
}

describe("routebind's agents and Node's side by side", () => {
  let server: net.Server;
  let port: number;
  let closedPort: number;
  beforeAll(async () => {
    server = net.createServer((c) => c.on('error', () => {}).destroy());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as net.AddressInfo).port;
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    closedPort = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
  });
  afterAll(() => server.close());

  const badRequests: Array<[string, Record<string, unknown>]> = [
    ['localAddress not an IP', { localAddress: 'foobar' }],
    ['localPort not a number', { localPort: 'x' }],
    ['timeout not a number', { timeout: 'x' }],
    ['family 5 with a name', { host: 'localhost', family: 5 }],
    ['keepAliveInitialDelay not a number', { keepAliveInitialDelay: 'x' }],
  ];
  for (const [name, extra] of badRequests) {
    it(`http: ${name} fails the same way, and leaves no fd`, async () => {
      const plainAgent = new http.Agent();
      const routedAgent = new routebind.Agent();
      const plain = await outcome(() => http.get({ host: '127.0.0.1', port: closedPort, agent: plainAgent, ...extra }));
      await settled();
      const before = openFds();
      const routed = await outcome(() => http.get({ host: '127.0.0.1', port: closedPort, agent: routedAgent, ...extra }));
      await settled();
      expect(openFds()).toBe(before);
      expect(routed).toEqual(plain);
      plainAgent.destroy();
      routedAgent.destroy();
    });
  }

  it('http: a refused connection reaches the request as the same error', async () => {
    const plain = await outcome(() => http.get({ host: '127.0.0.1', port: closedPort, agent: new http.Agent() }));
    const routed = await outcome(() => http.get({ host: '127.0.0.1', port: closedPort, agent: new routebind.Agent() }));
    expect(plain).toMatchObject({ how: 'event', code: 'ECONNREFUSED', message: `connect ECONNREFUSED 127.0.0.1:${closedPort}` });
    expect(routed).toEqual(plain);
  });

  it('http: a source no interface has: bind EADDRNOTAVAIL with Node\'s properties, routebind detail after', async () => {
    const plain = await outcome(() => http.get({ host: '127.0.0.1', port: closedPort, agent: new http.Agent(), localAddress: '1.1.1.1' }));
    const routed = await outcome(() => http.get({ host: '127.0.0.1', port: closedPort, agent: new routebind.Agent(), localAddress: '1.1.1.1' }));
    expect(plain).toMatchObject({ how: 'event', code: 'EADDRNOTAVAIL', message: 'bind EADDRNOTAVAIL 1.1.1.1' });
    expect({ ...routed, message: routed.message?.slice(0, plain.message!.length) }).toEqual(plain);
  });

  it('https: a TLS option tls.connect() refuses throws as with https.Agent, and the TCP socket made first is closed', async () => {
    const plain = await outcome(() => https.get({ host: '127.0.0.1', port, agent: new https.Agent(), minVersion: 'bogus' as 'TLSv1.2' }));
    const agent = new routebind.HttpsAgent();
    await outcome(() => https.get({ host: '127.0.0.1', port, agent, minVersion: 'bogus' as 'TLSv1.2' }));
    await settled();
    const before = openFds();
    let routed: Outcome | undefined;
    for (let i = 0; i < 30; i++) routed = await outcome(() => https.get({ host: '127.0.0.1', port, agent, minVersion: 'bogus' as 'TLSv1.2' }));
    await settled();
    expect(openFds()).toBe(before);
    expect(plain).toMatchObject({ how: 'throw', code: 'ERR_TLS_INVALID_PROTOCOL_VERSION' });
    expect(routed).toEqual(plain);
  });

  it('connector(): bad options throw at creation, before any socket', () => {
    const before = openFds();
    expect(() => routebind.connector({ timeout: 'soon' as unknown as number })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => routebind.connector({ keepAliveInitialDelay: 'x' as unknown as number })).not.toThrow(); // Node's net checks it per connection
    expect(openFds()).toBe(before);
  });

  it('connector(): per-connection failures reach the callback with net.connect()\'s errors, and leave no fd', async () => {
    const call = (connect: routebind.Connector, params: routebind.ConnectParams) => new Promise<Outcome>((resolve) => connect(params, (err, socket) => {
      if (err) resolve({ how: 'event', class: err.constructor.name, code: (err as NodeJS.ErrnoException).code, message: err.message, keys: Object.keys(err) });
      else {
        socket!.destroy();
        resolve({ how: 'response' });
      }
    }));
    const tlsRefused = routebind.connector({ minVersion: 'bogus' as 'TLSv1.2' });
    const delayRefused = routebind.connector({ keepAliveInitialDelay: 'x' as unknown as number });
    await call(tlsRefused, { protocol: 'https:', hostname: '127.0.0.1', port });
    await settled();
    const before = openFds();
    for (let i = 0; i < 30; i++) {
      expect(await call(tlsRefused, { protocol: 'https:', hostname: '127.0.0.1', port })).toMatchObject({ code: 'ERR_TLS_INVALID_PROTOCOL_VERSION' });
      expect(await call(delayRefused, { protocol: 'http:', hostname: '127.0.0.1', port })).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    }
    await settled();
    expect(openFds()).toBe(before);
    const refused = await call(routebind.connector(), { protocol: 'http:', hostname: '127.0.0.1', port: closedPort });
    const plain = await new Promise<Outcome>((resolve) => net.connect({ host: '127.0.0.1', port: closedPort }).on('error', (err: NodeJS.ErrnoException) => resolve({ how: 'event', class: err.constructor.name, code: err.code, message: err.message, keys: Object.keys(err) })));
    expect(refused).toEqual(plain);
  });
});

describe('requests over a Unix socket (socketPath)', () => {
  itOn(!onWindows, 'a Unix socket is a file path; Windows local sockets are named pipes')('reach the server through routebind.Agent as through http.Agent: a Unix socket crosses no interface', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const dir = mkdtempSync(path.join(tmpdir(), 'routebind-unix-'));
    const socketPath = path.join(dir, 'http.sock');
    const server = http.createServer((req, res) => res.end(`${req.url}`));
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    const get = (agent: http.Agent) => new Promise<{ status?: number; body: string }>((resolve, reject) => {
      const req = http.get({ socketPath, path: '/hello', agent }, (res) => {
        let body = '';
        res.on('data', (d) => { body += d; });
        res.on('end', () => resolve({ status: res.statusCode, body }));
      });
      req.on('error', reject);
    });
    try {
      const plain = await get(new http.Agent());
      const routed = await get(new routebind.Agent({ interface: loopbackName }));
      expect(routed).toEqual(plain);
      expect(plain).toEqual({ status: 200, body: '/hello' });
    } finally {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
