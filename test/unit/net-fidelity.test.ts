// routebind.connect() against net.connect() in the same test, on loopback: the same argument
// errors (class, code, message), the same events in the same order with the same arguments, the
// same error shapes, the constructor's options honoured, and no file descriptor spent on a call
// that fails its checks.
import { spawnSync } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import * as routebind from '../../lib/index';
import { hasMultiLocalhost, itOn, onWindows, openFds } from '../helpers/platform';

// Node's own tests skip the same cases where these hold (common.hasMultiLocalhost, and a longer
// common.defaultAutoSelectFamilyAttemptTimeout on Windows).
const NEEDS_127_0_0_2 = "needs 127.0.0.2 on the loopback (macOS configures only 127.0.0.1 on lo0)";
const WINDOWS_SLOW_REFUSAL = 'Windows retries a refused loopback SYN for about 2 s, past autoSelectFamily\'s 250 ms attempt timeout: the events differ';
const itRefusing127_0_0_2 = itOn(hasMultiLocalhost && !onWindows, onWindows ? WINDOWS_SLOW_REFUSAL : NEEDS_127_0_0_2);

type Connect = (...args: unknown[]) => net.Socket;
const plainConnect = net.connect as unknown as Connect;
const routedConnect = routebind.connect as unknown as Connect;
const both: Array<[string, Connect]> = [['net', plainConnect], ['routebind', routedConnect]];

const root = path.join(__dirname, '..', '..');
const hasIPv6 = Object.values(require('node:os').networkInterfaces()).flat().some((a) => (a as { address: string }).address === '::1');

function thrown(fn: () => unknown): { name: string; code?: string; message: string; keys: string[] } | 'no throw' {
  try {
    const s = fn() as net.Socket | undefined;
    s?.on?.('error', () => {});
    s?.destroy?.();
    return 'no throw';
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return { name: err.constructor.name, code: err.code, message: err.message, keys: Object.keys(err) };
  }
}

/** An error as a test of Node's would look at it. */
function shape(e: unknown): unknown {
  if (!(e instanceof Error)) return e;
  const err = e as NodeJS.ErrnoException & { errors?: Error[] };
  return {
    class: err.constructor.name,
    ...Object.fromEntries(Object.keys(err).map((k) => [k, (err as unknown as Record<string, unknown>)[k]])),
    message: err.message,
    ...(err.errors ? { errors: err.errors.map(shape) } : {}),
  };
}

const EVENTS = ['lookup', 'connectionAttempt', 'connectionAttemptFailed', 'connectionAttemptTimeout', 'connect', 'ready', 'error', 'close'];

/** Every event until 'close', each with its arguments (errors by shape), and the attempted addresses. */
function record(socket: net.Socket, onConnect?: (s: net.Socket) => void): Promise<{ events: unknown[]; attempted: unknown }> {
  const events: unknown[] = [];
  for (const name of EVENTS) socket.on(name, (...args: unknown[]) => events.push([name, ...args.map(shape)]));
  socket.on('connect', () => (onConnect ? onConnect(socket) : socket.destroy()));
  return new Promise((resolve) => socket.once('close', () => resolve({ events, attempted: (socket as { autoSelectFamilyAttemptedAddresses?: unknown }).autoSelectFamilyAttemptedAddresses })));
}

/** The events with each error's message cut to its first `length` characters (routebind adds detail after Node's text). */
function cutMessages(events: unknown[], length: number): unknown[] {
  return events.map((e) => (e as unknown[]).map((x) => (x !== null && typeof x === 'object' && 'message' in x ? { ...x, message: String((x as { message: unknown }).message).slice(0, length) } : x)));
}

describe('routebind.connect() and net.connect() side by side', () => {
  let server: net.Server;
  let port: number;
  let closedPort: number;
  let server6: net.Server | undefined;

  beforeAll(async () => {
    server = net.createServer((c) => c.on('error', () => {}).end('hello world'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as net.AddressInfo).port;
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    closedPort = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    if (hasIPv6) {
      server6 = net.createServer((c) => c.on('error', () => {}).end('six'));
      await new Promise<void>((r) => server6!.listen(port, '::1', r));
    }
  });
  afterAll(() => {
    server.close();
    server6?.close();
  });

  describe('argument errors: the same class, code and message, thrown before any fd is made', () => {
    const cases: Array<[string, () => unknown[]]> = [
      ['non-numeric localPort (name)', () => [{ host: 'localhost', port: 0, localPort: 'foobar' }]],
      ['non-numeric localPort (literal)', () => [{ host: '127.0.0.1', port: 1, localPort: 'foobar' }]],
      ['invalid localAddress', () => [{ host: 'localhost', port: 0, localAddress: 'foobar' }]],
      ['objectMode', () => [{ port: 8080, objectMode: true }]],
      ['readableObjectMode', () => [{ port: 8080, readableObjectMode: true }]],
      ['writableObjectMode', () => [{ port: 8080, writableObjectMode: true }]],
      ['autoSelectFamily of the wrong type', () => [{ port: 8080, autoSelectFamily: 'INVALID' }]],
      ['autoSelectFamilyAttemptTimeout 0', () => [{ port: 8080, autoSelectFamily: true, autoSelectFamilyAttemptTimeout: 0 }]],
      ['autoSelectFamilyAttemptTimeout -10', () => [{ port: 8080, autoSelectFamily: true, autoSelectFamilyAttemptTimeout: -10 }]],
      ['autoSelectFamilyAttemptTimeout 1.5', () => [{ port: 8080, autoSelectFamilyAttemptTimeout: 1.5 }]],
      ['timeout not a number', () => [{ host: '127.0.0.1', port: 1, timeout: 'x' }]],
      ['timeout negative', () => [{ host: 'localhost', port: 1, timeout: -1 }]],
      ['port 65536', () => [{ host: '127.0.0.1', port: 65536 }]],
      ['port of type boolean', () => [{ host: '127.0.0.1', port: true }]],
      ['port as an empty string', () => [{ port: '' }]],
      ['no port and no path', () => [{ host: '127.0.0.1' }]],
      ['lookup not a function', () => [{ host: 'localhost', port: 0, lookup: 'foobar' }]],
      ['keepAliveInitialDelay not a number', () => [{ host: '127.0.0.1', port: 1, keepAliveInitialDelay: 'x' }]],
      ['negative highWaterMark', () => [{ host: '127.0.0.1', port: 1, highWaterMark: -1 }]],
      ['signal not an AbortSignal', () => [{ host: '127.0.0.1', port: 1, signal: 'x' }]],
      ['family 5 for a name', () => [{ host: 'localhost', port: 1, family: 5 }]],
      ['hints out of range for a name', () => [{ host: 'localhost', port: 1, hints: -1 }]],
      ['a host that is not a string', () => [{ host: 5, port: 1 }]],
    ];
    for (const [name, args] of cases) {
      it(name, () => {
        const plain = thrown(() => plainConnect(...args()));
        const routed = thrown(() => routedConnect(...args()));
        expect(plain).not.toBe('no throw');
        expect(routed).toEqual(plain);
      });
    }

    it('invalid lookup is ignored for an IP literal, as Node ignores it', () => {
      expect(thrown(() => routedConnect({ host: '127.0.0.1', port: closedPort, lookup: 'x' }))).toBe(thrown(() => plainConnect({ host: '127.0.0.1', port: closedPort, lookup: 'x' })));
    });

    it('200 bad calls each (literal and name) leave the number of open fds unchanged', () => {
      const bad = [
        { host: '127.0.0.1', port, timeout: 'x' },
        { host: 'localhost', port, timeout: 'x' },
        { host: '127.0.0.1', port, objectMode: true },
        { host: 'localhost', port, keepAliveInitialDelay: 'x' },
        { host: '127.0.0.1', port, autoSelectFamilyAttemptTimeout: 0 },
        { host: 'localhost', port, family: 5 },
      ];
      const before = openFds();
      for (let i = 0; i < 200; i++) {
        for (const o of bad) {
          const routed = thrown(() => routedConnect(o));
          if (i === 0) expect(routed).toEqual(thrown(() => plainConnect(o)));
        }
      }
      expect(openFds()).toBe(before);
    });
  });

  describe('errors and events', () => {
    async function compare(args: () => unknown[], onConnect?: (s: net.Socket) => void) {
      const [plain, routed] = await Promise.all(both.map(([, c]) => record(c(...args()), onConnect)));
      return { plain, routed };
    }

    it('a refused connection to a literal: connectionAttempt, connectionAttemptFailed, error, close with identical errors', async () => {
      const { plain, routed } = await compare(() => [{ host: '127.0.0.1', port: closedPort }]);
      expect(routed).toEqual(plain);
      expect((plain.events[2] as [string, { message: string }])[1].message).toBe(`connect ECONNREFUSED 127.0.0.1:${closedPort}`);
    });

    itRefusing127_0_0_2('a local port asked for: connect errors carry " - Local (address:port)", localAddress and localPort as in Node', async () => {
      const one = (_h: string, o: { all?: boolean }, cb: (...a: unknown[]) => void) => setImmediate(() => (o.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4)));
      const two = (_h: string, _o: unknown, cb: (...a: unknown[]) => void) => setImmediate(() => cb(null, [{ address: '127.0.0.1', family: 4 }, { address: '127.0.0.2', family: 4 }]));
      const cases: Array<Record<string, unknown>> = [
        { host: '127.0.0.1', localAddress: '127.0.0.1' },
        { host: '127.0.0.1' },
        { host: 'one.test', lookup: one },
        { host: 'two.test', lookup: two },
      ];
      let localPort = 20000 + (process.pid % 20000);
      for (const extra of cases) {
        const [plain, routed] = await Promise.all(both.map(([, c]) => {
          const lp = ++localPort;
          return record(c({ port: closedPort, localPort: lp, ...extra })).then((r) => JSON.parse(JSON.stringify(r), (_k, v: unknown) => (v === lp ? 'LOCALPORT' : typeof v === 'string' ? v.split(String(lp)).join('LOCALPORT') : v)) as unknown);
        }));
        expect(routed, JSON.stringify(extra)).toEqual(plain);
        expect(JSON.stringify(plain)).toContain(':LOCALPORT)');
      }
    });

    it('a custom lookup answering family 100: ERR_INVALID_ADDRESS_FAMILY with host and port, as a lookup event then an error', async () => {
      const lookup = (_h: string, o: { all?: boolean }, cb: (...a: unknown[]) => void) => setImmediate(() => (o.all ? cb(null, [{ address: '127.0.0.1', family: 100 }]) : cb(null, '127.0.0.1', 100)));
      const { plain, routed } = await compare(() => [{ host: 'localhost', port: 0, lookup }]);
      expect(routed).toEqual(plain);
      expect(plain.events[1]).toEqual(['error', expect.objectContaining({ class: 'RangeError', code: 'ERR_INVALID_ADDRESS_FAMILY', host: 'localhost', port: 0, message: 'Invalid address family: 100 localhost:0' })]);
    });

    it('a custom lookup answering an undefined address: ERR_INVALID_IP_ADDRESS', async () => {
      const lookup = (_h: string, o: { all?: boolean }, cb: (...a: unknown[]) => void) => setImmediate(() => (o.all ? cb(null, [{ address: undefined, family: 4 }]) : cb(null, undefined, 4)));
      for (const extra of [{}, { family: 4 }]) {
        const { plain, routed } = await compare(() => [{ host: 'localhost', port: 80, lookup, ...extra }]);
        expect(routed).toEqual(plain);
        expect(plain.events).toContainEqual(['error', expect.objectContaining({ code: 'ERR_INVALID_IP_ADDRESS', message: 'Invalid IP address: undefined' })]);
      }
    });

    it('a lookup error: the lookup event carries it, then error and close', async () => {
      const lookup = (_h: string, _o: unknown, cb: (...a: unknown[]) => void) => setImmediate(() => cb(Object.assign(new Error('getaddrinfo ENOTFOUND nowhere'), { code: 'ENOTFOUND' })));
      const { plain, routed } = await compare(() => [{ host: 'nowhere', port: 80, lookup }]);
      expect(routed).toEqual(plain);
    });

    it('lookup is called with the options net.connect() passes (family, hints, all)', async () => {
      const seen: Record<string, unknown[]> = { net: [], routebind: [] };
      await Promise.all(both.map(([name, c]) => {
        const lookup = (h: string, o: unknown, cb: (...a: unknown[]) => void) => {
          seen[name].push([h, { ...(o as object) }]);
          setImmediate(() => cb(null, [{ address: '127.0.0.1', family: 4 }]));
        };
        return Promise.all([
          record(c({ host: 'a.test', port, lookup })),
          record(c({ host: 'b.test', port, lookup, family: 4 })),
          record(c({ host: 'c.test', port, lookup, autoSelectFamily: false, hints: 0 })),
          record(c({ host: 'd.test', port, lookup, localAddress: '127.0.0.1' })),
        ]);
      }).map((p) => p.catch(() => undefined)));
      expect(seen.routebind).toEqual(seen.net);
    });

    it('a bind failure: bind EADDRNOTAVAIL 1.1.1.1 with the properties Node gives, routebind detail after', async () => {
      const { plain, routed } = await compare(() => [{ host: '127.0.0.1', port: closedPort, localAddress: '1.1.1.1' }]);
      const [pe, re] = [plain.events[0] as [string, Record<string, unknown>], routed.events[0] as [string, Record<string, unknown>]];
      expect(pe[1].message).toBe('bind EADDRNOTAVAIL 1.1.1.1');
      expect(String(re[1].message).startsWith('bind EADDRNOTAVAIL 1.1.1.1')).toBe(true);
      expect(cutMessages(routed.events, String(pe[1].message).length)).toEqual(plain.events);
    });

    it('IPv4 localAddress to a name that resolves only to IPv6: the error Node gives (bind EINVAL), not an empty AggregateError', async () => {
      const lookup = (_h: string, o: { all?: boolean }, cb: (...a: unknown[]) => void) => setImmediate(() => (o.all ? cb(null, [{ address: '::1', family: 6 }]) : cb(null, '::1', 6)));
      const { plain, routed } = await compare(() => [{ host: 'six.test', port, localAddress: '127.0.0.1', lookup }]);
      const pe = plain.events.find((e) => (e as string[])[0] === 'error') as [string, Record<string, unknown>];
      const re = routed.events.find((e) => (e as string[])[0] === 'error') as [string, Record<string, unknown>];
      expect(pe[1]).toMatchObject({ class: 'Error', code: 'EINVAL', syscall: 'bind', address: '127.0.0.1', message: 'bind EINVAL 127.0.0.1' });
      expect(String(re[1].message).startsWith(String(pe[1].message))).toBe(true);
      expect(cutMessages(routed.events, String(pe[1].message).length)).toEqual(plain.events);
    });
  });

  describe('autoSelectFamily', () => {
    const twoFamilies = (_h: string, o: { all?: boolean }, cb: (...a: unknown[]) => void) =>
      setImmediate(() => (o.all ? cb(null, [{ address: '127.0.0.1', family: 4 }, { address: '::1', family: 6 }]) : cb(null, '127.0.0.1', 4)));
    const refusedFirst = (_h: string, o: { all?: boolean }, cb: (...a: unknown[]) => void) =>
      setImmediate(() => (o.all ? cb(null, [{ address: '127.0.0.2', family: 4 }, { address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.2', 4)));

    it.skipIf(!hasIPv6)(`racing two families: events, their arguments and autoSelectFamilyAttemptedAddresses as Node${hasIPv6 ? '' : ' (skipped: no ::1 on this host)'}`, async () => {
      const [plain, routed] = await Promise.all(both.map(([, c]) => record(c({ host: 'two.test', port, lookup: twoFamilies }))));
      expect(routed).toEqual(plain);
      expect(plain.attempted).toEqual([`127.0.0.1:${port}`]);
    });

    itRefusing127_0_0_2('a refused first address: connectionAttemptFailed, then the next address', async () => {
      const [plain, routed] = await Promise.all(both.map(([, c]) => record(c({ host: 'two.test', port, lookup: refusedFirst }))));
      expect(routed).toEqual(plain);
      expect(plain.attempted).toEqual([`127.0.0.2:${port}`, `127.0.0.1:${port}`]);
      expect(plain.events.map((e) => (e as string[])[0])).toEqual(['lookup', 'lookup', 'connectionAttempt', 'connectionAttemptFailed', 'connectionAttempt', 'connect', 'ready', 'close']);
    });

    itRefusing127_0_0_2('every address refused: an AggregateError with code and every attempt\'s error', async () => {
      const lookup = (_h: string, _o: unknown, cb: (...a: unknown[]) => void) => setImmediate(() => cb(null, [{ address: '127.0.0.1', family: 4 }, { address: '127.0.0.2', family: 4 }]));
      const [plain, routed] = await Promise.all(both.map(([, c]) => record(c({ host: 'none.test', port: closedPort, lookup }))));
      expect(routed).toEqual(plain);
      expect(plain.events).toContainEqual(['error', expect.objectContaining({ class: 'AggregateError', code: 'ECONNREFUSED', message: '' })]);
    });

    itOn(hasMultiLocalhost, NEEDS_127_0_0_2)('net.setDefaultAutoSelectFamily(false) is read at connect time: one address, no race', async () => {
      const before = net.getDefaultAutoSelectFamily();
      net.setDefaultAutoSelectFamily(false);
      try {
        const [plain, routed] = await Promise.all(both.map(([, c]) => record(c({ host: 'two.test', port: closedPort, lookup: refusedFirst }))));
        expect(routed).toEqual(plain);
        expect(plain.attempted).toBeUndefined();
      } finally {
        net.setDefaultAutoSelectFamily(before);
      }
    });

    itOn(hasMultiLocalhost, NEEDS_127_0_0_2)('--no-network-family-autoselection is honoured', () => {
      const script = `
        const net = require('node:net');
        const connect = process.argv[1] === 'routebind' ? require(${JSON.stringify(root)}).connect : net.connect;
        const server = net.createServer((c) => c.end()).listen(0, '127.0.0.1', () => {
          const port = server.address().port;
          const events = [];
          const s = connect({ host: 'two.test', port, lookup: (h, o, cb) => setImmediate(() => o.all ? cb(null, [{ address: '127.0.0.2', family: 4 }, { address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.2', 4)) });
          for (const e of ['connectionAttempt', 'connectionAttemptFailed', 'connect', 'error', 'close']) s.on(e, (...a) => events.push(e));
          s.on('close', () => { console.log(JSON.stringify({ events, attempted: s.autoSelectFamilyAttemptedAddresses ?? null })); server.close(); });
        });`;
      const run = (which: string) => {
        const r = spawnSync(process.execPath, ['--no-network-family-autoselection', '-e', script, which], { encoding: 'utf8', timeout: 20_000 });
        return JSON.parse(r.stdout.trim().split('\n').pop() as string);
      };
      const plain = run('net');
      expect(plain).toEqual({ events: ['connectionAttempt', 'connectionAttemptFailed', 'error', 'close'], attempted: null });
      expect(run('routebind')).toEqual(plain);
    });
  });

  describe("the net.Socket constructor's options", () => {
    it('onread: the callback gets the bytes in the caller\'s buffer and no data event fires', async () => {
      const results = await Promise.all(both.map(([, c]) => Promise.all(['127.0.0.1', 'localhost'].map((host) => new Promise((resolve) => {
        const buffer = Buffer.alloc(4);
        const chunks: string[] = [];
        const s = c({ host, family: 4, port, onread: { buffer, callback: (n: number, b: Buffer) => { chunks.push(`${b === buffer}:${b.subarray(0, n).toString()}`); } } });
        let data = 0;
        s.on('data', () => data++);
        s.on('end', () => resolve({ chunks, data }));
      })))));
      expect(results[1]).toEqual(results[0]);
      expect(results[0][0]).toEqual({ chunks: ['true:hell', 'true:o wo', 'true:rld'], data: 0 });
    });

    it('allowHalfOpen, highWaterMark, readable/writable flags and a signal reach the socket', async () => {
      const look = (s: net.Socket) => ({ allowHalfOpen: s.allowHalfOpen, readableHighWaterMark: s.readableHighWaterMark, writableHighWaterMark: s.writableHighWaterMark });
      for (const host of ['127.0.0.1', 'localhost']) {
        const [plain, routed] = both.map(([, c]) => {
          const s = c({ host, family: 4, port, allowHalfOpen: true, highWaterMark: 1234 });
          const seen = look(s);
          s.on('error', () => {});
          s.destroy();
          return seen;
        });
        expect(routed).toEqual(plain);
        expect(plain).toEqual({ allowHalfOpen: true, readableHighWaterMark: 1234, writableHighWaterMark: 1234 });
      }
      for (const host of ['127.0.0.1', 'localhost']) {
        const [plain, routed] = await Promise.all(both.map(([, c]) => {
          const s = c({ host, family: 4, port, readable: false, writable: false });
          const atStart = [s.readable, s.writable, s.readableEnded, s.writableEnded];
          return record(s, () => setTimeout(() => s.destroy(), 50)).then((r) => ({ atStart, events: r.events }));
        }));
        expect(routed).toEqual(plain);
        expect(plain.atStart).toEqual([false, false, true, true]);
      }
      const aborted = await Promise.all(both.map(([, c]) => {
        const controller = new AbortController();
        const s = c({ host: 'localhost', family: 4, port, signal: controller.signal });
        const p = record(s, () => undefined);
        controller.abort();
        return p;
      }));
      // Whether the name's 'lookup' event lands before 'close' is a race in Node too (the lookup
      // runs on the thread pool, the abort closes at once): compare everything else.
      const settledEvents = (r: { events: unknown[] }) => r.events.filter((e) => (e as unknown[])[0] !== 'lookup');
      expect(settledEvents(aborted[1])).toEqual(settledEvents(aborted[0]));
      expect(aborted[0].events).toContainEqual(['error', expect.objectContaining({ class: 'AbortError', code: 'ABORT_ERR' })]);
    });

    it('keepAlive, keepAliveInitialDelay (negative clamps to 0) and noDelay: the same handle calls, literal and name', async () => {
      const cases = [
        { keepAlive: true, keepAliveInitialDelay: 456123 },
        { keepAlive: 'true', keepAliveInitialDelay: -123000 },
        { keepAlive: 1 },
        { keepAlive: false, keepAliveInitialDelay: 5000 },
        { noDelay: true },
        { noDelay: 0 },
      ];
      for (const host of ['127.0.0.1', 'localhost']) {
        for (const extra of cases) {
          const calls = await Promise.all(both.map(([, c]) => new Promise<unknown[]>((resolve) => {
            const seen: unknown[] = [];
            const s = c({ host, family: 4, port, ...extra });
            const handle = (s as unknown as { _handle: Record<string, (...a: unknown[]) => unknown> })._handle;
            handle.setKeepAlive = (...a: unknown[]) => { seen.push(['setKeepAlive', ...a]); return 0; };
            handle.setNoDelay = (...a: unknown[]) => { seen.push(['setNoDelay', ...a]); return 0; };
            s.on('connect', () => { resolve(seen); s.destroy(); });
          })));
          expect(calls[1], `${host} ${JSON.stringify(extra)}`).toEqual(calls[0]);
        }
      }
    });
  });

  describe('EMFILE (RLIMIT_NOFILE lowered in a child process)', () => {
    itOn(!onWindows, 'needs ulimit -n (RLIMIT_NOFILE): Windows has no descriptor limit to lower')('a literal and a name fail as net.connect() fails: an error event, never a throw', () => {
      const script = `
        const net = require('node:net');
        const fs = require('node:fs');
        const connect = process.argv[1] === 'routebind' ? require(${JSON.stringify(root)}).connect : net.connect;
        const server = net.createServer((c) => c.end()).listen(0, '127.0.0.1', () => {
          const port = server.address().port;
          const hold = [];
          try { for (;;) hold.push(fs.openSync('/dev/null', 'r')); } catch {}
          const out = [];
          const norm = (x) => x === port ? 'PORT' : typeof x === 'string' ? x.split(String(port)).join('PORT') : x;
          const shape = (x) => x instanceof Error
            ? Object.fromEntries(Object.entries({ class: x.constructor.name, message: x.message, ...x }).map(([k, v]) => [k, norm(v)]))
            : norm(x);
          const run = (label, options, done) => {
            const events = [];
            let s;
            try { s = connect(options); } catch (e) { out.push([label, 'throw', e.code]); return done(); }
            for (const e of ['lookup', 'connectionAttempt', 'connectionAttemptFailed', 'connect', 'error', 'close']) s.on(e, (...a) => events.push([e, ...a.map(shape)]));
            s.on('close', () => { out.push([label, events]); done(); });
          };
          const one = (h, o, cb) => setImmediate(() => o.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4));
          const two = (h, o, cb) => setImmediate(() => cb(null, [{ address: '127.0.0.1', family: 4 }, { address: '127.0.0.2', family: 4 }]));
          run('literal', { host: '127.0.0.1', port }, () =>
            run('name', { host: 'one.test', port, lookup: one }, () =>
              run('name, two addresses', { host: 'two.test', port, lookup: two }, () => {
                for (const fd of hold) fs.closeSync(fd);
                console.log(JSON.stringify(out));
                server.close();
              })));
        });`;
      const run = (which: string) => {
        const r = spawnSync('bash', ['-c', 'ulimit -n 64; exec "$0" -e "$1" "$2"', process.execPath, script, which], { encoding: 'utf8', timeout: 20_000 });
        expect(r.status, r.stderr).toBe(0);
        return JSON.parse(r.stdout.trim().split('\n').pop() as string);
      };
      const plain = run('net');
      expect(JSON.stringify(plain)).toContain('connect EMFILE 127.0.0.1:');
      expect(run('routebind')).toEqual(plain);
    });
  });
});
