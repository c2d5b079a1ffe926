// routebind.createServer against Node's own net.createServer, side by side in the same test, on
// loopback (no privileges needed): option keys, argument errors, the overloads of listen(), and
// errors shaped as Node's.
import { spawnSync } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

import * as routebind from '../../lib/index';
import { itOn, loopbackName, loopbackPinned, onWindows, openFds, pipePath } from '../helpers/platform';

type Make = (...args: unknown[]) => net.Server;
const nodeMake = net.createServer as unknown as Make;
const routedMake = routebind.createServer as unknown as Make;

function shape(error: unknown) {
  if (!(error instanceof Error)) return { thrown: false };
  const e = error as NodeJS.ErrnoException & Record<string, unknown>;
  return { name: e.name, code: e.code, message: e.message, keys: Object.keys(e).sort(), errno: e.errno, syscall: e.syscall, address: e.address, port: e.port };
}

function thrown(fn: () => unknown) {
  try {
    fn();
    return { thrown: false };
  } catch (error) {
    return shape(error);
  }
}

/** listen(...args) on a fresh server: 'listening' (with the address) or the error, as a value. */
function listenOutcome(make: Make, serverOptions: unknown, ...args: unknown[]): Promise<unknown> {
  return new Promise((resolve) => {
    let server: net.Server;
    try {
      server = serverOptions === undefined ? make() : make(serverOptions);
    } catch (error) {
      return resolve({ threw: shape(error) });
    }
    server.on('error', (error) => resolve({ error: shape(error) }));
    try {
      (server.listen as (...all: unknown[]) => net.Server)(...args, () => {
        const address = server.address();
        const described = routebind.describe(server);
        server.close();
        resolve({ listening: typeof address === 'string' ? 'pipe' : address?.family, described: described && { interface: described.interface, pinned: described.pinned } });
      });
    } catch (error) {
      server.close();
      resolve({ threw: shape(error) });
    }
  });
}


describe('server fidelity: routebind.createServer next to net.createServer', () => {
  it('createServer: options Node refuses are refused the same way; unknown keys are ignored by both', () => {
    for (const options of [null, 1, 'x', true]) {
      expect(thrown(() => routedMake(options).close()), String(options)).toEqual(thrown(() => nodeMake(options).close()));
    }
    expect(thrown(() => routedMake({ colour: 'blue', pauseOnConnect: true }).close())).toEqual({ thrown: false });
  });

  it('near misses of routebind keys throw before any socket exists, in createServer and in listen options', () => {
    const before = openFds();
    expect(thrown(() => routedMake({ interfce: 'lo' }))).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', name: 'TypeError' });
    const server = routedMake();
    expect(thrown(() => server.listen({ port: 0, interfce: 'lo' }))).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    expect(thrown(() => server.listen({ port: 0, host: '127.0.0.1', interface: 0 }))).toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    server.close();
    expect(openFds()).toBe(before);
  });

  it('bad ports throw the errors Node throws, also with an interface, and leak no fd', async () => {
    const before = openFds();
    for (const port of [-1, 65536, 1.5, 'abc ', '']) {
      const node = await listenOutcome(nodeMake, undefined, { port, host: '127.0.0.1' });
      const routed = await listenOutcome(routedMake, undefined, { port, host: '127.0.0.1', interface: loopbackName });
      expect(routed, String(port)).toEqual(node);
    }
    expect(openFds()).toBe(before);
  });

  // Windows holds a listener to an interface only through one of that interface's addresses: a
  // wildcard listen with an interface binds its IPv4 address (strong-host.ts), where Node's binds ::.
  itOn(!onWindows, 'a wildcard listen with an interface binds one of its addresses there, not ::')('listen overloads: a callback alone, a port string, a pipe path; pinned where an interface is asked for', async () => {
    const pipe = pipePath(`rb-server-${process.pid}`);
    const cases: unknown[][] = [[(() => {}) as unknown], ['0'], [pipe], [0, '127.0.0.1'], [{ port: 0, host: '::1' }]];
    for (const args of cases) {
      const listenArgs = args.filter((a) => typeof a !== 'function');
      const node = (await listenOutcome(nodeMake, undefined, ...listenArgs)) as { listening?: string };
      const routed = (await listenOutcome(routedMake, { interface: loopbackName }, ...listenArgs)) as { listening?: string; described?: unknown };
      expect(routed.listening, JSON.stringify(args)).toBe(node.listening);
      if (node.listening !== 'pipe') expect(routed.described).toEqual({ interface: loopbackName, pinned: loopbackPinned });
    }
  });

  it("an address this host does not have: Node's code, message start and keys; routebind's reason after them", async () => {
    for (const port of [0, 4567]) {
      const node = (await listenOutcome(nodeMake, undefined, { port, host: '192.0.2.199' })) as { error: ReturnType<typeof shape> };
      const routed = (await listenOutcome(routedMake, undefined, { port, host: '192.0.2.199', interface: loopbackName })) as { error: ReturnType<typeof shape> };
      expect(node.error.code).toBe('EADDRNOTAVAIL');
      const { message: nodeMessage, ...nodeRest } = node.error;
      const { message: routedMessage, ...routedRest } = routed.error;
      expect(routedRest).toEqual(nodeRest);
      expect(String(routedMessage).startsWith(`${nodeMessage}: `)).toBe(true);
    }
  });

  it('listen on a hostname with an interface: resolved as Node resolves it, and pinned; a name that does not resolve is the same error', async () => {
    const node = (await listenOutcome(nodeMake, undefined, { port: 0, host: 'localhost' })) as { listening?: string };
    const routed = (await listenOutcome(routedMake, undefined, { port: 0, host: 'localhost', interface: loopbackName })) as { listening?: string; described?: unknown };
    expect(routed.listening).toBe(node.listening);
    expect(routed.described).toEqual({ interface: loopbackName, pinned: loopbackPinned });
    const nodeMissing = await listenOutcome(nodeMake, undefined, { port: 0, host: 'no-such-host.invalid' });
    const routedMissing = await listenOutcome(routedMake, undefined, { port: 0, host: 'no-such-host.invalid', interface: loopbackName });
    expect(routedMissing).toEqual(nodeMissing);
  });

  it('in a cluster worker: a pinned listener is the worker\'s own and accepts as Node\'s does', () => {
    const run = (api: string) => {
      const r = spawnSync(process.execPath, [path.join(__dirname, 'fixtures', 'server-cluster.cjs'), api], { encoding: 'utf8', timeout: 20_000 });
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as { received?: string; error?: string; described?: unknown };
    };
    const node = run('node');
    const { described, ...routed } = run('routebind');
    expect(routed).toEqual(node);
    expect(node).toEqual({ received: 'hi' });
    expect(described).toMatchObject({ interface: loopbackName, pinned: loopbackPinned });
  });

  it('swapped in for net.createServer (as Node\'s own test suite is run) it still makes servers', () => {
    const dist = path.join(__dirname, '..', '..', 'dist', 'index.js');
    const script = `const net = require('node:net'); const rb = require(${JSON.stringify(dist)});
      net.createServer = rb.createServer;
      const s = net.createServer(); s.listen(0, '127.0.0.1', () => { console.log(typeof s.address().port); s.close(); });`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 10_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('number');
  });
});
