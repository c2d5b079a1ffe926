// routebind.createSocket against Node's own dgram.createSocket, side by side in the same test, on
// loopback (no privileges needed): the same argument errors, the same error objects, the same
// events in the same order, the same lookups, and the options Node takes reaching the socket.
import { spawnSync } from 'node:child_process';
import * as dgram from 'node:dgram';
import * as dns from 'node:dns';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

import * as routebind from '../../lib/index';
import { linuxIt, NEEDS, onLinux, openFds } from '../helpers/platform';

// Root's uid without any capability (as an unprivileged service runs): the checkout stays readable,
// which a private temporary clone is not to another uid.
const NO_CAPABILITIES = ['--bounding-set=-all', '--inh-caps=-all', '--securebits', '+noroot,+noroot_locked'];

type Make = (type: unknown, listener?: unknown) => dgram.Socket;
const nodeMake = dgram.createSocket as unknown as Make;
const routedMake = routebind.createSocket as unknown as Make;

/** Runs `scenario` with Node's createSocket and with routebind's; returns both outcomes. */
async function both<T>(scenario: (make: Make, api: 'node' | 'routebind') => Promise<T> | T): Promise<{ node: T; routebind: T }> {
  return { node: await scenario(nodeMake, 'node'), routebind: await scenario(routedMake, 'routebind') };
}

/** What a test (or Node's own suite) can see of an error. */
function shape(error: unknown) {
  if (!(error instanceof Error)) return { thrown: false, value: error };
  const e = error as NodeJS.ErrnoException & Record<string, unknown>;
  return { name: e.name, class: e.constructor.name, code: e.code, message: e.message, keys: Object.keys(e).sort(), errno: e.errno, syscall: e.syscall, address: e.address, port: e.port };
}

function thrown(fn: () => unknown) {
  try {
    const value = fn();
    if (value instanceof dgram.Socket) value.close();
    return { thrown: false };
  } catch (error) {
    return shape(error);
  }
}

/** Records every event a socket emits, in order ('error' with its shape). */
function journal(socket: dgram.Socket) {
  const seen: unknown[] = [];
  const emit = socket.emit;
  socket.emit = function (this: dgram.Socket, event: string | symbol, ...args: unknown[]) {
    if (typeof event === 'string') seen.push(event === 'error' ? ['error', shape(args[0])] : event);
    return (emit as (this: dgram.Socket, ...all: unknown[]) => boolean).call(this, event, ...args);
  } as typeof socket.emit;
  return seen;
}

const tick = (ms = 50) => new Promise((r) => setTimeout(r, ms));

function linkLocal(): { name: string; address: string } | undefined {
  for (const [name, entries] of Object.entries(os.networkInterfaces())) {
    for (const e of entries ?? []) if (e.family === 'IPv6' && e.address.startsWith('fe80:')) return { name, address: e.address };
  }
  return undefined;
}

describe('dgram fidelity: routebind.createSocket next to dgram.createSocket', () => {
  it('bad socket types, lookups and buffer sizes throw the same errors', () => {
    const cases: unknown[][] = [
      [1], ['udp5'], [undefined], [{ type: 'tcp' }], [{}], [null],
      [{ type: 'udp4', lookup: null }], [{ type: 'udp4', lookup: 'dns' }],
      [{ type: 'udp4', recvBufferSize: -1 }], [{ type: 'udp4', sendBufferSize: 'x' }],
      [{ type: 'udp4', signal: {} }],
    ];
    for (const args of cases) {
      const node = thrown(() => nodeMake(...(args as [unknown])));
      const routed = thrown(() => routedMake(...(args as [unknown])));
      expect(routed, JSON.stringify(args)).toEqual(node);
    }
    expect(thrown(() => routedMake(1))).toMatchObject({ code: 'ERR_SOCKET_BAD_TYPE', message: 'Bad socket type specified. Valid types are: udp4, udp6' });
  });

  it('bind to an address this host does not have: the very error object Node emits', async () => {
    const outcome = await both(async (make) => {
      const errors = [];
      for (const [type, address] of [['udp4', '1.1.1.1'], ['udp6', '111::1']]) {
        const s = make(type);
        const listening: string[] = [];
        s.on('listening', () => listening.push('listening'));
        s.bind(0, address);
        const [error] = (await new Promise((r) => s.once('error', (e) => r([e])))) as [Error];
        errors.push({ ...shape(error), listening });
        s.close();
      }
      return errors;
    });
    expect(outcome.routebind).toEqual(outcome.node);
    expect(outcome.routebind[0]).toMatchObject({ message: 'bind EADDRNOTAVAIL 1.1.1.1', keys: ['address', 'code', 'errno', 'syscall'] });
  });

  it("an error routebind decides starts as Node's, has Node's keys, and says why after them", async () => {
    const s = routedMake('udp4');
    s.bind({ port: 4321, address: '127.0.0.1', interface: 'nosuch0' } as dgram.BindOptions);
    const [error] = (await new Promise((r) => s.once('error', (e) => r([e])))) as [NodeJS.ErrnoException & { interface?: unknown }];
    expect(error.message).toMatch(/^bind ENODEV 127\.0\.0\.1:4321: /);
    expect(Object.keys(error).sort()).toEqual(['address', 'code', 'errno', 'port', 'syscall']);
    expect(error).toMatchObject({ code: 'ENODEV', syscall: 'bind', address: '127.0.0.1', port: 4321 });
    expect(error.interface).toBe('nosuch0');
    s.close();
  });

  linuxIt(NEEDS.lo)('bind(port, hostname) and bind({ address: hostname }) resolve the name with the socket\'s lookup', async () => {
    const outcome = await both(async (make, api) => {
      const asked: unknown[] = [];
      const lookup = (host: string, family: unknown, cb: (e: Error | null, a?: string, f?: number) => void) => {
        asked.push([host, family]);
        dns.lookup(host === 'here.test' ? '127.0.0.1' : host, family as 4, cb);
      };
      const results = [];
      for (const form of ['positional', 'object'] as const) {
        const s = make({ type: 'udp4', lookup });
        const events = journal(s);
        await new Promise<void>((r) => (form === 'positional' ? s.bind(0, 'here.test', () => r()) : s.bind({ port: 0, address: 'here.test' }, () => r())));
        results.push({ address: s.address().address, events: [...events], described: api === 'routebind' ? routebind.describe(s) : undefined });
        s.close();
      }
      return { asked, results };
    });
    expect(outcome.routebind.asked).toEqual(outcome.node.asked);
    expect(outcome.routebind.results.map((r) => [r.address, r.events])).toEqual(outcome.node.results.map((r) => [r.address, r.events]));
    for (const r of outcome.routebind.results) expect(r.described).toMatchObject({ source: '127.0.0.1', interface: 'lo', pinned: 'SO_BINDTODEVICE' });
  });

  linuxIt(NEEDS.lo)('send() to a hostname on an unbound socket: delivered, the same lookups, routed and pinned', async () => {
    const receiver = dgram.createSocket('udp4');
    await new Promise<void>((r) => receiver.bind(0, '127.0.0.1', () => r()));
    const port = receiver.address().port;
    const outcome = await both(async (make, api) => {
      const asked: unknown[] = [];
      const lookup = (host: string, family: unknown, cb: (e: Error | null, a?: string, f?: number) => void) => {
        asked.push([host, family]);
        dns.lookup(host === 'there.test' ? '127.0.0.1' : host, family as 4, cb);
      };
      const s = make({ type: 'udp4', lookup });
      const events = journal(s);
      const got = new Promise((r) => receiver.once('message', (m, rinfo) => r([String(m), rinfo.address])));
      const sent = await new Promise((r) => s.send(api, port, 'there.test', (e, n) => r([e, n])));
      const received = await got;
      const out = { asked, sent, received, events: [...events], described: api === 'routebind' ? routebind.describe(s) : undefined };
      s.close();
      return out;
    });
    receiver.close();
    expect(outcome.routebind.asked).toEqual(outcome.node.asked);
    expect(outcome.routebind.events).toEqual(outcome.node.events);
    expect(outcome.routebind.sent).toEqual([null, 9]);
    expect(outcome.node.received).toEqual(['node', '127.0.0.1']);
    expect(outcome.routebind.received).toEqual(['routebind', '127.0.0.1']);
    expect(outcome.routebind.described).toMatchObject({ destination: '127.0.0.1', source: '127.0.0.1', interface: 'lo', pinned: 'SO_BINDTODEVICE' });
  });

  it('connect(name) then close() at once: no crash, the same events', async () => {
    const outcome = await both(async (make) => {
      const s = make('udp4');
      const events = journal(s);
      let called = false;
      s.connect(9, 'localhost', () => (called = true));
      s.close();
      await tick(100);
      return { events, called };
    });
    expect(outcome.routebind).toEqual(outcome.node);
    expect(outcome.node.events).toContain('close');
  });

  it("errors go where Node sends them: a callback when given, else 'error'", async () => {
    const failing = (host: string, family: unknown, cb: (e: Error | null) => void) => {
      void family;
      process.nextTick(() => cb(Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND', errno: -3008, syscall: 'getaddrinfo', hostname: host })));
    };
    const outcome = await both(async (make) => {
      const runs: unknown[] = [];
      for (const op of ['connect+cb', 'connect', 'send+cb', 'send'] as const) {
        const s = make({ type: 'udp4', lookup: failing });
        const events = journal(s);
        s.on('error', () => {});
        const calls: unknown[] = [];
        if (op === 'connect+cb') s.connect(9, 'nowhere.test', (e?: Error) => calls.push(shape(e)));
        if (op === 'connect') s.connect(9, 'nowhere.test');
        if (op === 'send+cb') s.send('x', 9, 'nowhere.test', (e) => calls.push(shape(e)));
        if (op === 'send') s.send('x', 9, 'nowhere.test');
        await tick();
        s.close();
        await tick(10);
        runs.push({ op, events, calls });
      }
      return runs;
    });
    expect(outcome.routebind).toEqual(outcome.node);
  });

  it('send() before connect() has finished throws as in Node', async () => {
    const outcome = await both(async (make) => {
      const s = make('udp4');
      s.connect(9, 'localhost');
      const result = thrown(() => s.send('early'));
      s.close();
      await tick(10);
      return result;
    });
    expect(outcome.routebind).toEqual(outcome.node);
  });

  it('bind state errors: bound twice, closed, as Node throws them', async () => {
    const outcome = await both(async (make) => {
      const s = make('udp4');
      s.bind(0, '127.0.0.1');
      const twice = thrown(() => s.bind(0, '127.0.0.1'));
      await new Promise((r) => s.once('listening', r));
      s.close();
      const closed = thrown(() => s.bind(0));
      return { twice, closed };
    });
    expect(outcome.routebind).toEqual(outcome.node);
    expect(outcome.node.twice).toMatchObject({ code: 'ERR_SOCKET_ALREADY_BOUND' });
  });

  it('option keys: near misses of routebind keys throw before any socket exists; others pass as in Node', async () => {
    const before = openFds();
    for (const bad of [{ type: 'udp4', interfce: 'lo' }, { type: 'udp4', localAdress: '127.0.0.1' }]) {
      expect(thrown(() => routedMake(bad))).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', class: 'TypeError' });
    }
    const s = routedMake('udp4');
    expect(thrown(() => s.bind({ port: 0, address: '127.0.0.1', interfce: 'lo' } as dgram.BindOptions))).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    expect(thrown(() => s.bind({ port: 0, interface: -1 } as dgram.BindOptions))).toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    s.close();
    expect(openFds()).toBe(before);
    // Keys neither knows are ignored by both; Node's own keys reach Node.
    const outcome = await both(async (make) => {
      const u = make({ type: 'udp4', colour: 'blue', reuseAddr: true });
      await new Promise<void>((r) => u.bind({ port: 0, address: '127.0.0.1', flavour: 1 } as dgram.BindOptions, () => r()));
      const address = u.address().address;
      u.close();
      return address;
    });
    expect(outcome.routebind).toBe(outcome.node);
  });

  it('bad options leak no fd: every refused call leaves /proc/self/fd as it was', () => {
    const before = openFds();
    for (let i = 0; i < 50; i++) {
      thrown(() => routedMake({ type: 'udp4', interface: '' }));
      thrown(() => routedMake({ type: 'udp4', mark: 2 ** 32 }));
      thrown(() => routedMake({ type: 'udp4', localAddress: 'not-an-ip' }));
      thrown(() => routedMake({ type: 'udp9' }));
      thrown(() => routedMake({ type: 'udp4', lookup: 1 }));
      thrown(() => routedMake({ type: 'udp4', recvBufferSize: -5 }));
    }
    expect(openFds()).toBe(before);
  });

  linuxIt(NEEDS.lo)('Node\'s socket options reach the routed socket: buffer sizes, reuseAddr, ipv6Only, signal', async () => {
    const outcome = await both(async (make, api) => {
      const s = make({ type: 'udp4', recvBufferSize: 65536, sendBufferSize: 32768 });
      await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
      const sizes = [s.getRecvBufferSize(), s.getSendBufferSize()];
      // reuseAddr: a second socket may share the port.
      const port = s.address().port;
      const reusers = [make({ type: 'udp4', reuseAddr: true }), make({ type: 'udp4', reuseAddr: true })];
      const shared = [];
      for (const r of reusers) {
        shared.push(await new Promise((done) => {
          r.once('error', (e) => done(e.message.split(' ').slice(0, 2).join(' ')));
          r.bind(port + 1 > 65535 ? port - 1 : port + 1, '127.0.0.1', () => done('bound'));
        }));
      }
      // ipv6Only: a udp6 socket on the wildcard leaves the IPv4 port free (routebind's pinned to
      // lo, so that its own socket carries the flag).
      const six = make({ type: 'udp6', ipv6Only: true, ...(api === 'routebind' ? { interface: 'lo' } : {}) });
      await new Promise<void>((r) => six.bind(0, () => r()));
      const four = make('udp4');
      const v4 = await new Promise((done) => {
        four.once('error', (e: NodeJS.ErrnoException) => done(e.code));
        four.bind(six.address().port, '0.0.0.0', () => done('bound'));
      });
      // signal: aborting closes the socket.
      const controller = new AbortController();
      const withSignal = make({ type: 'udp4', signal: controller.signal });
      const closed = new Promise((r) => withSignal.once('close', () => r('closed')));
      withSignal.bind(0, '127.0.0.1');
      controller.abort();
      const aborted = await closed;
      for (const x of [s, ...reusers, six, four]) x.close();
      return { sizes, shared, v4, aborted };
    });
    expect(outcome.routebind).toEqual(outcome.node);
    expect(outcome.node.shared).toEqual(['bound', 'bound']);
  });

  linuxIt(NEEDS.lo)('an interface-pinned bind is described, and the IPv6 default host is used as Node uses it', async () => {
    const s = routedMake({ type: 'udp4', interface: 'lo' });
    await new Promise<void>((r) => s.bind(0, () => r()));
    expect(routebind.describe(s)).toMatchObject({ interface: 'lo', pinned: 'SO_BINDTODEVICE', source: '0.0.0.0' });
    s.close();
  });

  const ll = linkLocal();
  it.skipIf(ll === undefined || !onLinux)(`a link-local zone naming no interface, or a missing index: the same EINVAL as Node (needs an interface with an IPv6 link-local address)${onLinux ? '' : ` — skipped on ${process.platform}: ${NEEDS.linuxErrors}`}`, async () => {
    const { address } = ll!;
    const outcome = await both(async (make) => {
      const errors = [];
      for (const zone of ['nosuch0', '999999']) {
        const s = make('udp6');
        s.bind(0, `${address}%${zone}`);
        errors.push(await new Promise((r) => s.once('error', (e) => r(shape(e)))));
        s.close();
      }
      return errors;
    });
    expect(outcome.routebind).toEqual(outcome.node);
    expect(outcome.node.map((e) => (e as { code: string }).code)).toEqual(['EINVAL', 'EINVAL']);
  });

  it.skipIf(ll === undefined || !onLinux)(`a link-local bind with its zone is pinned to that interface, and address() shows the zone as in Node${!onLinux ? ` — skipped on ${process.platform}: ${NEEDS.bindToDevice}` : ll === undefined ? ' (skipped: no interface with an IPv6 link-local address)' : ''}`, async () => {
    if (ll === undefined) return expect(ll).toBeUndefined();
    const { name, address } = ll;
    const outcome = await both(async (make, api) => {
      const s = make('udp6');
      await new Promise<void>((r) => s.bind({ port: 0, address: `${address}%${name}` }, () => r()));
      const out = { address: s.address().address, described: api === 'routebind' ? routebind.describe(s) : undefined };
      s.close();
      return out;
    });
    expect(outcome.routebind.address).toBe(outcome.node.address);
    expect(outcome.routebind.described).toMatchObject({ interface: name, pinned: 'SO_BINDTODEVICE' });
  });

  linuxIt(NEEDS.lo)('cluster workers: implicit binds work, shared binds are shared and pinned, exclusive binds follow Node', () => {
    const run = (api: 'node' | 'routebind') => {
      const r = spawnSync(process.execPath, [path.join(__dirname, 'fixtures', 'dgram-cluster.cjs'), api], { encoding: 'utf8', timeout: 20_000 });
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as Record<string, unknown>;
    };
    const node = run('node');
    const routed = run('routebind');
    const { described, ...comparable } = routed;
    expect(comparable).toEqual(node);
    expect(node).toMatchObject({ implicit: ['ok', 'ok'], shared: ['bound', 'bound'], exclusive: ['bound', 'EADDRINUSE'] });
    expect(described).toEqual([
      expect.objectContaining({ interface: 'lo', pinned: 'SO_BINDTODEVICE' }),
      expect.objectContaining({ interface: 'lo', pinned: 'SO_BINDTODEVICE' }),
    ]);
  });


  const root = onLinux && process.getuid?.() === 0 && spawnSync('setpriv', ['--version']).status === 0;
  it.skipIf(!root)(`a mark the kernel refuses (no CAP_NET_ADMIN) fails the implicit bind\'s send(), never sends unmarked${root ? '' : ' (skipped: needs Linux, root and setpriv)'}`, () => {
    const script = `
      const rb = require(${JSON.stringify(path.join(__dirname, '..', '..', 'dist'))});
      const dgram = require('node:dgram');
      const server = dgram.createSocket('udp4');
      server.bind(0, '127.0.0.1', () => {
        const got = [];
        server.on('message', (m) => got.push(String(m)));
        const u = rb.createSocket({ type: 'udp4', mark: 7 });
        u.on('error', (e) => { console.log(JSON.stringify({ event: e.code })); process.exit(0); });
        u.send('x', server.address().port, '127.0.0.1', (err) => {
          setTimeout(() => { console.log(JSON.stringify({ callback: err && err.code, syscall: err && err.syscall, received: got })); process.exit(0); }, 100);
        });
      });`;
    const unprivileged = spawnSync('setpriv', [...NO_CAPABILITIES, process.execPath, '-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(JSON.parse(unprivileged.stdout)).toEqual({ callback: 'EPERM', syscall: 'send', received: [] });
    const privileged = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(JSON.parse(privileged.stdout)).toEqual({ callback: null, syscall: null, received: ['x'] });
  });
});
