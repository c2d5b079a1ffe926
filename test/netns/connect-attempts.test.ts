// Happy eyeballs against Node's own in a network namespace where SYNs to 127.0.0.2 are dropped
// (nftables), so an attempt really hangs: routebind.connect() and net.connect() must give the
// same connectionAttempt / connectionAttemptTimeout / connectionAttemptFailed events with the
// same arguments, the same autoSelectFamilyAttemptedAddresses, and the same AggregateError.
// Each run is a child in its own anonymous namespace (unshare -n): loopback only, gone with it.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

import { hasNft, namespaceSupport, ROOT } from './topology';

const unsupported = namespaceSupport() ?? (hasNft() ? undefined : 'nftables (`nft`) is needed to drop SYNs')
  ?? (spawnSync('unshare', ['--version']).status === 0 ? undefined : 'unshare(1) is needed');

const RULES = 'table ip blackhole { chain input { type filter hook input priority 0; ip daddr 127.0.0.2 tcp flags syn drop; }; }';

const SCRIPT = `
const net = require('node:net');
const [which, addressesJson] = process.argv.slice(1);
const connect = which === 'routebind' ? require(${JSON.stringify(ROOT)}).connect : net.connect;
const addresses = JSON.parse(addressesJson);
const server = net.createServer((c) => c.end()).listen(0, '127.0.0.1', () => {
  const port = server.address().port;
  const norm = (x) => x === port ? 'PORT' : typeof x === 'string' ? x.split(String(port)).join('PORT') : x;
  const shape = (x) => x instanceof Error
    ? { class: x.constructor.name, message: norm(x.message), code: x.code, keys: Object.keys(x), errors: x.errors?.map(shape) }
    : norm(x);
  const events = [];
  const s = connect({ host: 'race.test', port, autoSelectFamilyAttemptTimeout: 100,
    lookup: (h, o, cb) => setImmediate(() => cb(null, addresses.map((address) => ({ address, family: 4 })))) });
  for (const e of ['lookup', 'connectionAttempt', 'connectionAttemptFailed', 'connectionAttemptTimeout', 'connect', 'ready', 'error', 'close'])
    s.on(e, (...a) => events.push([e, ...a.map(shape)]));
  s.on('connect', () => s.end());
  s.on('close', () => {
    console.log(JSON.stringify({ events, attempted: (s.autoSelectFamilyAttemptedAddresses ?? null)?.map(norm) ?? null }));
    server.close();
  });
});`;

function run(which: 'net' | 'routebind', addresses: string[]): unknown {
  const r = spawnSync('unshare', ['-n', 'bash', '-c', 'ip link set lo up && nft -f - <<<"$0" && exec "$1" -e "$2" "$3" "$4"', RULES, process.execPath, SCRIPT, which, JSON.stringify(addresses)], { encoding: 'utf8', timeout: 30_000 });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').pop() as string);
}

describe.skipIf(unsupported !== undefined)(`happy eyeballs events against net.connect()${unsupported ? ` (skipped: ${unsupported})` : ''}`, () => {
  it('an attempt that hangs is abandoned after autoSelectFamilyAttemptTimeout (connectionAttemptTimeout), the next one connects', () => {
    const plain = run('net', ['127.0.0.2', '127.0.0.1']) as { events: unknown[][]; attempted: string[] };
    expect(plain.events.map((e) => e[0])).toEqual(['lookup', 'lookup', 'connectionAttempt', 'connectionAttemptTimeout', 'connectionAttempt', 'connect', 'ready', 'close']);
    expect(plain.events[3]).toEqual(['connectionAttemptTimeout', '127.0.0.2', 'PORT', 4]);
    expect(plain.attempted).toEqual(['127.0.0.2:PORT', '127.0.0.1:PORT']);
    expect(run('routebind', ['127.0.0.2', '127.0.0.1'])).toEqual(plain);
  });

  it('a timeout, then a refusal: an AggregateError of ETIMEDOUT and ECONNREFUSED, as Node builds it', () => {
    const plain = run('net', ['127.0.0.2', '127.0.0.3']) as { events: unknown[][] };
    expect(plain.events.map((e) => e[0])).toEqual(['lookup', 'lookup', 'connectionAttempt', 'connectionAttemptTimeout', 'connectionAttempt', 'connectionAttemptFailed', 'error', 'close']);
    expect(plain.events[6]).toEqual(['error', expect.objectContaining({ class: 'AggregateError', code: 'ETIMEDOUT' })]);
    expect(run('routebind', ['127.0.0.2', '127.0.0.3'])).toEqual(plain);
  });

  it('two attempts that hang, then one that connects', () => {
    const plain = run('net', ['127.0.0.2', '127.0.0.2', '127.0.0.1']);
    expect(run('routebind', ['127.0.0.2', '127.0.0.2', '127.0.0.1'])).toEqual(plain);
  });
});
