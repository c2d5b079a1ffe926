// The route cache's coherence costs one non-blocking recv on the change feed per connect, however
// many caches the decision consults (the route cache, the interface index): a connect with
// localAddress or interface used to read the feed two or three times.
import { once } from 'node:events';
import * as net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { native as loadNative } from '../../lib/binding';
import * as routebind from '../../lib/index';
import { describeOn, loopbackName, onWindows } from '../helpers/platform';

const native = loadNative();

// Windows trusts its change feed only once the route cache is opted in (lib/coherence.ts): until
// then a connect reads no feed at all, and every cache lives for one decision.
describeOn(!onWindows, 'Windows reads no change feed until the route cache is opted in (coherence.ts)')('change-feed reads per connect', () => {
  let server: net.Server;
  let port: number;
  const seen: string[] = [];

  beforeAll(async () => {
    server = net.createServer((c) => {
      seen.push(c.remoteAddress ?? '');
      c.on('error', () => {}).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as net.AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  async function readsDuring(options: Record<string, unknown>): Promise<number> {
    routebind.routeTo('127.0.0.1'); // warm: the count below is the steady state
    const original = native.feedGeneration;
    let reads = 0;
    native.feedGeneration = () => {
      reads += 1;
      return original.call(native);
    };
    let socket: net.Socket;
    try {
      socket = routebind.connect({ host: '127.0.0.1', port, ...options });
    } finally {
      native.feedGeneration = original;
    }
    socket.resume();
    await once(socket, 'close');
    return reads;
  }

  it.each([
    ['an IP literal', {}],
    ['localAddress', { localAddress: '127.0.0.1' }],
    ['interface', { interface: loopbackName }],
    ['localAddress and interface', { localAddress: '127.0.0.1', interface: loopbackName }],
  ])('%s: one feed read, and the far end sees the source routebind bound', async (_name, options) => {
    seen.length = 0;
    expect(await readsDuring(options)).toBe(1);
    expect(seen).toEqual(['127.0.0.1']);
  });
});
