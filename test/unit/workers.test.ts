// The addon keeps its state per environment: every worker thread gets its own netlink sockets
// and caches, and a worker that exits (even with a watcher open) releases them cleanly.
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';

import { loopbackName, loopbackPinned } from '../helpers/platform';

const dist = path.join(__dirname, '..', '..', 'dist', 'index.js');

function runWorker(code: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(`const routebind = require(${JSON.stringify(dist)}); const { parentPort } = require('node:worker_threads');\n${code}`, { eval: true });
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => (code === 0 ? resolve(undefined) : reject(new Error(`worker exited ${code}`))));
  });
}

describe('worker threads', () => {
  it('route lookups work in several workers at once', async () => {
    const answers = await Promise.all(
      [1, 2, 3, 4].map(() => runWorker("parentPort.postMessage(routebind.routeTo('127.0.0.1').interface + ' ' + routebind.routeTo('127.0.0.1', { cache: false }).source)")),
    );
    expect(answers).toEqual(Array(4).fill(`${loopbackName} 127.0.0.1`));
  });

  it('a worker that exits with a watcher and a socket open is cleaned up', async () => {
    for (let i = 0; i < 5; i++) {
      const result = await runWorker(`
        const w = routebind.watch().ref();
        const server = routebind.createServer().listen({ port: 0, host: '127.0.0.1', interface: ${JSON.stringify(loopbackName)} }, () => {
          parentPort.postMessage(routebind.describe(server).pinned);
          process.exit(0);
        });`);
      expect(result).toEqual(loopbackPinned);
    }
    // The main thread's own addon state is untouched.
    const { routeTo } = await import('../../lib/index');
    expect(routeTo('127.0.0.1').interface).toBe(loopbackName);
  });
});
