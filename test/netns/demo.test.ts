// `npm run demo` as root, end to end: it builds its namespaces, runs every case and tears them
// down. What a reader sees: lines that fit in 100 columns, the two terms it relies on explained,
// and TCP and UDP over both families (IPv6 needs nft for the routers' spoof filter).
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

import { describe, expect, it } from 'vitest';

import { hasNft, namespaceSupport, ROOT } from './topology';

const unsupported = namespaceSupport();

describe.skipIf(unsupported !== undefined)(`npm run demo${unsupported ? ` (skipped: ${unsupported})` : ''}`, () => {
  it('runs end to end: exit 0, every line within 100 columns, both terms explained, IPv6 UDP covered', () => {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'demo.mjs')], {
      cwd: ROOT, encoding: 'utf8', timeout: 120_000, env: { ...process.env, NO_COLOR: '1' },
    });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    const lines = r.stdout.split('\n');
    for (const line of lines) expect([...line].length, line).toBeLessThanOrEqual(100);
    expect(lines.filter((l) => l.startsWith('Weak end system: '))).toHaveLength(1);
    expect(lines.filter((l) => l.startsWith('Pinning: '))).toHaveLength(1);
    const sections = lines.filter((l) => /^IPv[46] (TCP|UDP) to /.test(l));
    if (hasNft()) {
      expect(sections).toEqual(['IPv4 TCP to 198.19.0.1:7000', 'IPv6 TCP to [fd00:99::1]:7000', 'IPv4 UDP to 198.19.0.1:7000', 'IPv6 UDP to [fd00:99::1]:7000']);
      expect(r.stdout).toContain('All 16 cases as expected');
    } else {
      expect(sections).toEqual(['IPv4 TCP to 198.19.0.1:7000', 'IPv4 UDP to 198.19.0.1:7000']);
    }
    // Its namespaces are gone afterwards.
    expect(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout).not.toMatch(new RegExp(`rbdemo-\\w+-${r.pid}\\b`));
  });
});
