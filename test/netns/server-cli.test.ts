// `routebind serve` on the multi-homed host, as an operator would run it to prove the fix: a client
// in the far namespace that reached uplink B's address is answered, and the line printed for it
// names B's address and ethB.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildTwoUplinkHost, hasNft, lineReader, namespaceSupport, type Topology } from './topology';

const unsupported = namespaceSupport() ?? (hasNft() ? undefined : 'nftables (`nft`) is needed for the IPv6 anti-spoofing routers');

describe.skipIf(unsupported !== undefined)(`routebind serve in namespaces${unsupported ? ` (skipped: ${unsupported})` : ''}`, () => {
  let t: Topology;
  beforeAll(() => {
    t = buildTwoUplinkHost({ policyRules: false });
  });
  afterAll(() => t?.destroy());

  it('answers clients through B (IPv4 and IPv6) and prints the address and interface that served each', async () => {
    const child = t.spawn(t.host, [process.execPath, 'dist/cli.js', 'serve', '--port', '7400', '--count', '2', '--json']);
    let stderr = '';
    await new Promise<void>((resolve, reject) => {
      child.stderr!.on('data', (chunk) => {
        stderr += chunk;
        if (stderr.includes('echo on')) resolve();
      });
      child.once('exit', () => reject(new Error(stderr)));
    });
    const { lines, waitFor } = lineReader<Record<string, string>>(child, JSON.parse);
    const results = t.node<Array<{ reply?: string; error?: string }>>(t.far, 'server-clients.cjs', { targets: [t.ethB.v4, t.ethB.v6], port: 7400, timeoutMs: 3000, send: 'ping' });
    for (const r of results) expect(r, JSON.stringify(r)).toMatchObject({ reply: 'ping' });
    await waitFor(() => lines.length === 2);
    expect(lines).toEqual(expect.arrayContaining([
      expect.objectContaining({ protocol: 'tcp', local: `${t.ethB.v4}:7400`, interface: 'ethB', pinned: 'SO_BINDTODEVICE' }),
      expect.objectContaining({ protocol: 'tcp', local: `[${t.ethB.v6}]:7400`, interface: 'ethB', pinned: 'SO_BINDTODEVICE' }),
    ]));
    expect(lines.some((l) => l.client.startsWith('198.18.4.2:'))).toBe(true);
    expect(lines.some((l) => l.client.startsWith('[fd00:4::2]:'))).toBe(true);
  });
});
