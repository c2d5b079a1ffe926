// A routebind UDP socket bound to the wildcard answers every client from the address it asked,
// next to Node's own socket in the same test, on loopback (no privileges: 127.0.0.2 and
// 127.0.0.3 are the host's through 127.0.0.0/8 on lo). Also: the same events, address(), errors
// and close as Node's; ref/unref hold the process as Node's do; no descriptor is left behind;
// and the pktinfo parser refuses malformed control buffers.
import { spawnSync } from 'node:child_process';
import * as dgram from 'node:dgram';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

import { linuxNative } from '../../lib/binding';
import * as routebind from '../../lib/index';

const linux = process.platform === 'linux';
type Make = (type: 'udp4' | 'udp6') => dgram.Socket;
const nodeMake: Make = (type) => dgram.createSocket(type);
const routedMake: Make = (type) => routebind.createSocket(type);
const WAIT_MS = 300;

function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

async function bound(socket: dgram.Socket, ...args: unknown[]): Promise<dgram.Socket> {
  await new Promise<void>((resolve) => (socket.bind as (...a: unknown[]) => void)(...args, resolve));
  return socket;
}

/** An echo server: answers with send(msg, rinfo.port, rinfo.address); keeps every rinfo. */
async function echoServer(make: Make, type: 'udp4' | 'udp6') {
  const server = await bound(make(type), 0);
  const seen: routebind.RoutedRemoteInfo[] = [];
  server.on('message', (msg, rinfo) => {
    seen.push(rinfo);
    server.send(msg, rinfo.port, rinfo.address);
  });
  return { server, seen, port: server.address().port };
}

/** A client connect()ed to `address` (so it discards datagrams from any other source); its answer or 'timeout'. */
async function ask(type: 'udp4' | 'udp6', address: string, port: number): Promise<{ from: string; text: string } | 'timeout'> {
  const client = dgram.createSocket(type);
  await new Promise<void>((resolve) => client.connect(port, address, resolve));
  try {
    return await new Promise((resolve) => {
      const timer = setTimeout(() => resolve('timeout'), WAIT_MS);
      client.once('message', (msg, rinfo) => {
        clearTimeout(timer);
        resolve({ from: rinfo.address, text: String(msg) });
      });
      client.send(`hello ${address}`);
    });
  } finally {
    client.close();
  }
}

describe.skipIf(!linux)(`wildcard UDP servers answer from the address asked${linux ? '' : ' (skipped: Linux only)'}`, () => {
  it('IPv4: Node answers a client that asked 127.0.0.2 from 127.0.0.1 (discarded); routebind from 127.0.0.2', async () => {
    for (const [make, api] of [[nodeMake, 'node'], [routedMake, 'routebind']] as const) {
      const { server, seen, port } = await echoServer(make, 'udp4');
      const answer = await ask('udp4', '127.0.0.2', port);
      server.close();
      expect(seen, api).toHaveLength(1);
      expect(seen[0]).toMatchObject({ address: '127.0.0.1', family: 'IPv4', size: 15 });
      if (api === 'node') {
        expect(answer).toBe('timeout');
      } else {
        expect(answer).toEqual({ from: '127.0.0.2', text: 'hello 127.0.0.2' });
        expect(seen[0]).toMatchObject({ localAddress: '127.0.0.2', interface: 'lo' });
      }
    }
  });

  it('IPv4: clients asking 127.0.0.1, .2 and .3 at once are each answered from what they asked', async () => {
    const { server, seen, port } = await echoServer(routedMake, 'udp4');
    const answers = await Promise.all(['127.0.0.1', '127.0.0.2', '127.0.0.3'].map((a) => ask('udp4', a, port)));
    server.close();
    expect(answers).toEqual(['127.0.0.1', '127.0.0.2', '127.0.0.3'].map((a) => ({ from: a, text: `hello ${a}` })));
    expect(seen.map((r) => r.localAddress).sort()).toEqual(['127.0.0.1', '127.0.0.2', '127.0.0.3']);
  });

  it('IPv6 dual-stack: an IPv4 client is answered from the IPv4 address it asked; an IPv6 one from ::1', async () => {
    const { server, seen, port } = await echoServer(routedMake, 'udp6');
    const v4 = await ask('udp4', '127.0.0.2', port);
    const v6 = await ask('udp6', '::1', port);
    server.close();
    expect(v4).toEqual({ from: '127.0.0.2', text: 'hello 127.0.0.2' });
    expect(v6).toEqual({ from: '::1', text: 'hello ::1' });
    expect(seen[0]).toMatchObject({ address: '::ffff:127.0.0.1', family: 'IPv6', localAddress: '::ffff:127.0.0.2', interface: 'lo' });
    expect(seen[1]).toMatchObject({ address: '::1', family: 'IPv6', localAddress: '::1', interface: 'lo' });
  });

  it('send() answers from the address the client asked last; reply(msg, rinfo) from the one that datagram asked', async () => {
    const server = await bound(routebind.createSocket('udp4'), 0);
    const port = server.address().port;
    const client = await bound(dgram.createSocket('udp4'), 0, '127.0.0.1');
    const rinfos: routebind.RoutedRemoteInfo[] = [];
    const arrived = new Promise<void>((resolve) => server.on('message', (_m, r) => { rinfos.push(r); if (rinfos.length === 2) resolve(); }));
    client.send('first', port, '127.0.0.2');
    client.send('second', port, '127.0.0.3');
    await arrived;
    const answers: string[] = [];
    const got = new Promise<void>((resolve) => client.on('message', (m, r) => { answers.push(`${m} from ${r.address}`); if (answers.length === 2) resolve(); }));
    const sent: unknown[] = [];
    (server as routebind.UdpSocket).reply('reply', rinfos[0], (error, bytes) => sent.push([error, bytes]));
    server.send('send', rinfos[0].port, rinfos[0].address);
    await got;
    client.close();
    server.close();
    expect(answers.sort()).toEqual(['reply from 127.0.0.2', 'send from 127.0.0.3']);
    expect(sent).toEqual([[null, 5]]);
  });

  it('a cluster worker\'s wildcard socket (shared through the primary) answers from the address asked', () => {
    const dist = JSON.stringify(path.join(__dirname, '..', '..', 'dist'));
    const script = `
      const cluster = require('cluster'); const dgram = require('dgram'); const rb = require(${dist});
      if (cluster.isPrimary) {
        const w = cluster.fork();
        w.on('message', (port) => {
          const c = dgram.createSocket('udp4');
          c.connect(port, '127.0.0.2', () => {
            const t = setTimeout(() => { console.log('timeout'); w.kill(); c.close(); }, 2000);
            c.once('message', (m, r) => { console.log(String(m) + ' from ' + r.address); clearTimeout(t); c.close(); w.kill(); });
            c.send('hi');
          });
        });
      } else {
        const s = rb.createSocket('udp4');
        s.on('message', (m, r) => s.send(r.localAddress + ' ' + r.interface, r.port, r.address));
        s.bind(0, () => process.send(s.address().port));
      }`;
    // cluster.fork() runs the primary's script file again: a file, not `-e`.
    const dir = mkdtempSync(path.join(tmpdir(), 'routebind-cluster-'));
    try {
      writeFileSync(path.join(dir, 'server.js'), script);
      const r = spawnSync(process.execPath, [path.join(dir, 'server.js')], { encoding: 'utf8', timeout: 15_000 });
      expect(r.stdout.trim(), r.stderr).toBe('127.0.0.2 lo from 127.0.0.2');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('describe() says how a wildcard socket answers; a socket bound to an address is unchanged', async () => {
    const wild = await bound(routebind.createSocket('udp4'), 0);
    const concrete = await bound(routebind.createSocket('udp4'), 0, '127.0.0.1');
    expect(routebind.describe(wild)).toMatchObject({ source: '0.0.0.0', answers: 'address-asked' });
    expect(routebind.describe(concrete)?.answers).toBeUndefined();
    const seen = new Promise<routebind.RoutedRemoteInfo>((resolve) => concrete.once('message', (_m, r) => resolve(r)));
    const client = dgram.createSocket('udp4');
    client.send('x', concrete.address().port, '127.0.0.1');
    expect(Object.keys(await seen)).toEqual(['address', 'family', 'port', 'size']);
    client.close();
    wild.close();
    concrete.close();
  });
});

describe.skipIf(!linux)('a wildcard routebind socket behaves as Node\'s for everything else', () => {
  async function journey(make: Make) {
    const events: string[] = [];
    const socket = make('udp4');
    for (const e of ['listening', 'close', 'error', 'connect']) socket.on(e, () => events.push(e));
    await bound(socket, { port: 0 });
    const address = socket.address();
    const info = { family: address.family, address: address.address, portIsNumber: typeof address.port === 'number' };
    socket.setBroadcast(true);
    socket.setTTL(9);
    const sizes = [socket.getRecvBufferSize() > 0, socket.getSendBufferSize() > 0];
    const sendResult = await new Promise((resolve) => socket.send('x', address.port, '127.0.0.1', (error, bytes) => resolve([error, bytes])));
    const sendToNowhere = await new Promise((resolve) => socket.send(Buffer.alloc(70_000), address.port, '127.0.0.1', (error) => resolve((error as NodeJS.ErrnoException | null)?.code)));
    const again = await new Promise((resolve) => {
      const other = make('udp4');
      other.on('error', (error: NodeJS.ErrnoException) => {
        other.close();
        resolve({ code: error.code, syscall: error.syscall, message: error.message.replace(String(address.port), 'PORT') });
      });
      other.bind({ port: address.port, exclusive: true });
    });
    await new Promise<void>((resolve) => socket.close(resolve));
    let afterClose: unknown;
    try {
      socket.send('x', 1, '127.0.0.1');
    } catch (error) {
      afterClose = (error as NodeJS.ErrnoException).code;
    }
    return { events, info, sizes, sendResult, sendToNowhere, again, afterClose };
  }

  it('events, address(), socket options, send callbacks, EADDRINUSE, close: the same as Node\'s', async () => {
    const node = await journey(nodeMake);
    const routed = await journey(routedMake);
    expect(routed).toEqual(node);
    expect(node.events).toEqual(['listening', 'close']);
    expect(node.sendToNowhere).toBe('EMSGSIZE');
  });

  it('a \'message\' listener that throws is the program\'s uncaught exception, as with Node', () => {
    const dist = JSON.stringify(path.join(__dirname, '..', '..', 'dist'));
    const script = (api: string) => `
      const dgram = require('dgram'); const rb = require(${dist});
      const s = (${api === 'node' ? 'dgram' : 'rb'}).createSocket('udp4');
      process.on('uncaughtException', (e) => { console.log('uncaught', e.message); s.close(); });
      s.on('message', () => { throw new Error('boom'); });
      s.bind(0, () => { const c = dgram.createSocket('udp4'); c.send('x', s.address().port, '127.0.0.1', () => c.close()); });`;
    for (const api of ['node', 'routebind']) {
      const r = spawnSync(process.execPath, ['-e', script(api)], { encoding: 'utf8', timeout: 10_000 });
      expect(r.stdout.trim(), api + r.stderr).toBe('uncaught boom');
      expect(r.status).toBe(0);
    }
  });

  it('unref() lets the process exit and ref() holds it, as with Node', () => {
    const dist = JSON.stringify(path.join(__dirname, '..', '..', 'dist'));
    const script = (api: string, refAgain: boolean) => `
      const dgram = require('dgram'); const rb = require(${dist});
      const s = (${api === 'node' ? 'dgram' : 'rb'}).createSocket('udp4');
      s.bind(0, () => { s.unref(); ${refAgain ? 's.ref(); setTimeout(() => { console.log("held"); process.exit(0); }, 500);' : ''} });`;
    for (const api of ['node', 'routebind']) {
      const unrefd = spawnSync(process.execPath, ['-e', script(api, false)], { encoding: 'utf8', timeout: 5_000 });
      expect(unrefd.status, `${api} exits after unref()`).toBe(0);
      const held = spawnSync(process.execPath, ['-e', script(api, true)], { encoding: 'utf8', timeout: 5_000 });
      expect(held.stdout.trim(), api).toBe('held');
    }
  });

  it('no descriptor is left behind: 200 bind/close cycles and 10,000 datagrams answered', async () => {
    const before = openFds();
    for (let i = 0; i < 200; i++) {
      const s = await bound(routebind.createSocket(i % 2 ? 'udp4' : 'udp6'), 0);
      await new Promise<void>((resolve) => s.close(resolve));
    }
    expect(openFds()).toBe(before);

    const { server, port } = await echoServer(routedMake, 'udp4');
    const client = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => client.connect(port, '127.0.0.2', resolve));
    const during = openFds();
    let answered = 0;
    await new Promise<void>((resolve) => {
      client.on('message', () => {
        answered += 1;
        if (answered === 10_000) resolve();
        else client.send('ping');
      });
      client.send('ping');
    });
    expect(openFds()).toBe(during);
    client.close();
    await new Promise<void>((resolve) => server.close(resolve));
    expect(openFds()).toBe(before);
  });

  it('the port is free again once close() returns to the loop (the second descriptor is gone)', async () => {
    const s = await bound(routebind.createSocket('udp4'), { port: 0, exclusive: true });
    const port = s.address().port;
    await new Promise<void>((resolve) => s.close(resolve));
    const again = await bound(dgram.createSocket('udp4'), { port, exclusive: true });
    expect(again.address().port).toBe(port);
    again.close();
  });
});

describe.skipIf(!linux)('the pktinfo control-message parser', () => {
  const native = linux ? linuxNative() : undefined;
  const layout = native?.pktinfoControlLayout();

  /** One control message as this ABI lays it out: cmsghdr { len, level, type } then data. */
  function cmsg(level: number, type: number, data: Uint8Array, lengthOverride?: number): Uint8Array {
    const { header, lengthSize, align } = layout!;
    const length = header + data.length;
    const out = new Uint8Array(Math.ceil(length / align) * align);
    const view = new DataView(out.buffer);
    if (lengthSize === 8) view.setBigUint64(0, BigInt(lengthOverride ?? length), true);
    else view.setUint32(0, lengthOverride ?? length, true);
    view.setInt32(lengthSize, level, true);
    view.setInt32(lengthSize + 4, type, true);
    out.set(data, header);
    return out;
  }
  const inPktinfo = (ifindex: number, specDst: number[], addr: number[]) => {
    const data = new Uint8Array(12);
    new DataView(data.buffer).setInt32(0, ifindex, true);
    data.set(specDst, 4);
    data.set(addr, 8);
    return data;
  };
  const in6Pktinfo = (addr: number[], ifindex: number) => {
    const data = new Uint8Array(20);
    data.set(addr, 0);
    new DataView(data.buffer).setUint32(16, ifindex, true);
    return data;
  };
  const concat = (...parts: Uint8Array[]) => {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) { out.set(p, at); at += p.length; }
    return out;
  };
  const parse = (bytes: Uint8Array) => {
    try {
      return native!.parsePktinfoControl(bytes);
    } catch (error) {
      return (error as NodeJS.ErrnoException).code;
    }
  };

  it('reads IP_PKTINFO and IPV6_PKTINFO, skipping other messages', () => {
    const { solIp, solIpv6, ipPktinfo, ipv6Pktinfo } = layout!;
    expect(parse(cmsg(solIp, ipPktinfo, inPktinfo(3, [10, 0, 0, 1], [10, 0, 0, 9])))).toEqual({ version: 4, address: '10.0.0.9', local: '10.0.0.1', ifindex: 3 });
    const v6 = [0xfd, 0, 0, 0xb, ...Array(11).fill(0), 2];
    expect(parse(concat(cmsg(solIp, 2 /* IP_TTL */, new Uint8Array(4)), cmsg(solIpv6, ipv6Pktinfo, in6Pktinfo(v6, 7))))).toEqual({ version: 6, address: 'fd00:b::2', ifindex: 7 });
    expect(parse(new Uint8Array(0))).toBeNull();
    expect(parse(cmsg(solIp, 2, new Uint8Array(4)))).toBeNull();
    // Fewer bytes than a header left over: no message there.
    expect(parse(concat(cmsg(solIp, ipPktinfo, inPktinfo(1, [127, 0, 0, 1], [127, 0, 0, 1])), new Uint8Array(3)))).toMatchObject({ version: 4, ifindex: 1 });
  });

  it('refuses lengths shorter than a header, past the buffer, or shorter than the pktinfo struct', () => {
    const { solIp, solIpv6, ipPktinfo, ipv6Pktinfo, header } = layout!;
    const good = inPktinfo(3, [10, 0, 0, 1], [10, 0, 0, 9]);
    expect(parse(cmsg(solIp, ipPktinfo, good, 4))).toBe('ERR_PKTINFO_MALFORMED');
    expect(parse(cmsg(solIp, ipPktinfo, good, 0))).toBe('ERR_PKTINFO_MALFORMED');
    expect(parse(cmsg(solIp, ipPktinfo, good, header + 4096))).toBe('ERR_PKTINFO_MALFORMED');
    expect(parse(cmsg(solIp, ipPktinfo, good, 2 ** 40))).toBe('ERR_PKTINFO_MALFORMED');
    expect(parse(cmsg(solIp, ipPktinfo, good, header + 8))).toBe('ERR_PKTINFO_MALFORMED');
    expect(parse(cmsg(solIpv6, ipv6Pktinfo, new Uint8Array(16)))).toBe('ERR_PKTINFO_MALFORMED');
    // A valid message followed by one whose length runs past the end.
    expect(parse(concat(cmsg(solIp, 2, new Uint8Array(4)), cmsg(solIp, ipPktinfo, good, header + 200)))).toBe('ERR_PKTINFO_MALFORMED');
    // A buffer cut inside the pktinfo.
    expect(parse(cmsg(solIp, ipPktinfo, good).subarray(0, header + 6))).toBe('ERR_PKTINFO_MALFORMED');
    // Random bytes never crash it.
    for (let i = 0; i < 2000; i++) {
      const bytes = new Uint8Array(Math.floor(Math.random() * 96));
      for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(Math.random() * 256);
      const r = parse(bytes);
      expect(r === null || r === 'ERR_PKTINFO_MALFORMED' || typeof r === 'object').toBe(true);
    }
    expect(() => native!.parsePktinfoControl('x' as unknown as Uint8Array)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });
});
