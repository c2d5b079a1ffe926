// File descriptors routebind hands over or replaces: a connection never lands on an fd number the
// process has since given to something else, and a UDP socket is not left open to port sharing
// the caller did not ask for. Loopback only, no privileges. The fd hand-off exists on Linux and
// macOS; on Windows Node makes every socket itself, so only the port-sharing comparison runs there.
import * as dgram from 'node:dgram';
import { once } from 'node:events';
import { closeSync, fstatSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { posixNative, type PosixNative } from '../../lib/binding';
import * as routebind from '../../lib/index';
import { describeOn, hasPosixSockets, NEEDS, onDarwin, onWindows } from '../helpers/platform';

// posixNative() throws on Windows, where the tests that use it are skipped.
const native = (hasPosixSockets ? posixNative() : undefined) as PosixNative;
// macOS has no dup3 (native/posix/sockets.cc).
const DUP_CALL = onDarwin ? 'dup2' : 'dup3';

const dir = mkdtempSync(path.join(os.tmpdir(), 'routebind-fd-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Opens until the kernel hands out fd number `wanted` (the lowest free number comes first). */
function reuseNumber(wanted: number, open: () => number, close: (fd: number) => void): number {
  const others: number[] = [];
  try {
    for (let i = 0; i < 4096; i++) {
      const fd = open();
      if (fd === wanted) return fd;
      others.push(fd);
      if (fd > wanted) break;
    }
  } finally {
    for (const fd of others) close(fd);
  }
  throw new Error(`fd ${wanted} was not handed out again`);
}

const openAt = (wanted: number, file: string) => reuseNumber(wanted, () => openSync(file, 'a+'), closeSync);

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

function fdOf(socket: net.Socket): number {
  return (socket as unknown as { _handle: { fd: number } })._handle.fd;
}

describeOn(hasPosixSockets, NEEDS.posixSockets)('a connect-by-name destroyed while an attempt completes', () => {
  let server: net.Server;
  let port: number;
  const received: Buffer[] = [];
  const peers: net.Socket[] = [];

  beforeAll(async () => {
    server = net.createServer((c) => {
      peers.push(c);
      c.on('data', (d) => received.push(d)).on('error', () => {});
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as net.AddressInfo).port;
  });
  afterAll(() => {
    for (const p of peers) p.destroy();
    server.close();
  });

  it('leaves a file that reused the fd number alone, and sends the peer nothing', async () => {
    const file = path.join(dir, 'victim');
    // A synchronous lookup starts the attempt inside connect(); its connect(2) runs on the next tick.
    const lookup = (_h: string, _o: unknown, cb: (e: null, a: Array<{ address: string; family: number }>) => void) => cb(null, [{ address: '127.0.0.1', family: 4 }]);
    let victim = -1;
    let placeholderFd = -1;
    // Inside one timer callback and its ticks, so no I/O poll runs between the attempt's connect(2)
    // and the destroy: the attempt's completion is already queued when the socket goes away, and
    // the poll that delivers it comes before the close callback that would emit 'close'.
    await new Promise<void>((resolve) => setTimeout(() => {
      const socket = routebind.connect({ host: 'race.invalid', port, lookup } as routebind.ConnectOptions);
      socket.on('error', () => {});
      placeholderFd = fdOf(socket);
      process.nextTick(() => {
        sleepSync(50); // the loopback handshake completes meanwhile
        socket.destroy(); // closes the placeholder's fd number now; 'close' comes later
        victim = openAt(placeholderFd, file);
        resolve();
      });
    }, 0));
    expect(victim).toBe(placeholderFd);
    await once(server, 'connection'); // the attempt did connect
    await delay(100); // and its completion has run
    const stillAFile = fstatSync(victim).isFile();
    writeSync(victim, 'file data\n');
    closeSync(victim);
    await delay(100);
    expect({ stillAFile, file: readFileSync(file, 'utf8'), peer: Buffer.concat(received).toString() })
      .toEqual({ stillAFile: true, file: 'file data\n', peer: '' });
  });
});

describeOn(hasPosixSockets, NEEDS.posixSockets)('native.adoptSocket checks the target is still the placeholder', () => {
  it('replaces a live placeholder: afterwards both fd numbers are the same socket', () => {
    const placeholder = native.createSocket({ version: 4, type: 'tcp', unbound: true });
    const winner = native.createSocket({ version: 4, type: 'tcp', unbound: true });
    try {
      native.adoptSocket(winner.fd, placeholder.fd, placeholder.identity);
      expect(fstatSync(placeholder.fd).ino).toBe(fstatSync(winner.fd).ino);
    } finally {
      native.closeSocket(placeholder.fd);
      native.closeSocket(winner.fd);
    }
  });

  it('refuses with EBADF when the number now belongs to a file, and leaves the file alone', () => {
    const placeholder = native.createSocket({ version: 4, type: 'tcp', unbound: true });
    const winner = native.createSocket({ version: 4, type: 'tcp', unbound: true });
    native.closeSocket(placeholder.fd);
    const file = path.join(dir, 'reused');
    const victim = openAt(placeholder.fd, file);
    try {
      expect(() => native.adoptSocket(winner.fd, victim, placeholder.identity)).toThrow(
        expect.objectContaining({ code: 'EBADF', errno: -os.constants.errno.EBADF, syscall: DUP_CALL }),
      );
      expect(fstatSync(victim).isFile()).toBe(true);
    } finally {
      closeSync(victim);
      native.closeSocket(winner.fd);
    }
  });

  it('refuses with EBADF when the number is now another socket, or closed (dup3 would open it again)', () => {
    const placeholder = native.createSocket({ version: 4, type: 'tcp', unbound: true });
    const winner = native.createSocket({ version: 4, type: 'tcp', unbound: true });
    native.closeSocket(placeholder.fd);
    expect(() => native.adoptSocket(winner.fd, placeholder.fd, placeholder.identity)).toThrow(expect.objectContaining({ code: 'EBADF' }));
    expect(() => fstatSync(placeholder.fd)).toThrow(expect.objectContaining({ code: 'EBADF' })); // still closed: nothing leaked
    const other = reuseNumber(placeholder.fd, () => native.createSocket({ version: 4, type: 'udp', unbound: true }).fd, native.closeSocket);
    try {
      expect(() => native.adoptSocket(winner.fd, other, placeholder.identity)).toThrow(expect.objectContaining({ code: 'EBADF' }));
      expect(fstatSync(other).ino).not.toBe(fstatSync(winner.fd).ino);
    } finally {
      native.closeSocket(other);
      native.closeSocket(winner.fd);
    }
  });

  it('takes (from, to, identity) and rejects anything else with a TypeError before any system call', () => {
    // Numbers no process has open, so even a regression that reached dup3 would touch nothing.
    const bad = [[1000000, 1000001], [1000000, 1000001, 7], [1000000, 1000001, ''], ['1000000', 1000001, '1:2']] as unknown as Array<[number, number, string]>;
    for (const args of bad) {
      expect(() => native.adoptSocket(...args)).toThrow(expect.objectContaining({ name: 'TypeError' }));
    }
  });
});

describe('a UDP socket routebind hands to Node shares its port only when asked', () => {
  type Create = (options: dgram.SocketOptions & { interface?: string }) => dgram.Socket;
  const both: Array<[string, Create]> = [['node', dgram.createSocket as Create], ['routebind', routebind.createSocket as Create]];

  /** Whether a second socket, one that does ask to share (reuseAddr), can bind `port` too. */
  function secondBind(port: number): Promise<string> {
    const second = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    return new Promise<string>((resolve) => {
      second.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? String(e)));
      second.bind({ port, address: '127.0.0.1' }, () => resolve('bound'));
    }).finally(() => second.close());
  }

  const ways: Record<string, (s: dgram.Socket) => Promise<void>> = {
    'bind()': (s) => new Promise<void>((r) => s.bind({ port: 0, address: '127.0.0.1' }, r)),
    'connect() binding implicitly': (s) => new Promise<void>((r) => s.connect(9, '127.0.0.1', r)),
  };

  for (const [way, open] of Object.entries(ways)) {
    it(`${way}: a second binder gets EADDRINUSE, or both bind with reuseAddr: true, as with Node's own socket`, async () => {
      for (const reuseAddr of [false, true]) {
        const outcome: Record<string, string> = {};
        for (const [name, create] of both) {
          const first = create({ type: 'udp4', reuseAddr });
          await open(first);
          outcome[name] = await secondBind(first.address().port);
          first.close();
        }
        // Windows lets a second SO_REUSEADDR binder in whatever the first asked: there only the
        // comparison with Node's own socket holds.
        expect({ reuseAddr, ...outcome }).toEqual({ reuseAddr, node: onWindows ? outcome.node : reuseAddr ? 'bound' : 'EADDRINUSE', routebind: outcome.node });
      }
    });
  }
});
