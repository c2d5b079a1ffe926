// `npm run demo` as root, end to end: it builds its namespaces, runs every case and tears them
// down. What a reader sees: lines that fit in 100 columns, the two terms it relies on explained,
// TCP and UDP over both families (IPv6 needs nft for the routers' spoof filter), and the server
// half: plain Node's wildcard server never answers a client that asked ethB's address,
// routebind's answers it from that address, through ethB.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

import { describe, expect, it } from 'vitest';

import { hasNft, namespaceSupport, ROOT } from './topology';

const unsupported = namespaceSupport();

describe.skipIf(unsupported !== undefined)(`npm run demo${unsupported ? ` (skipped: ${unsupported})` : ''}`, () => {
  it('runs end to end: exit 0, every line within 100 columns, both terms explained, IPv6 UDP covered, the server half', () => {
    const started = Date.now();
    const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'demo.mjs')], {
      cwd: ROOT, encoding: 'utf8', timeout: 120_000, env: { ...process.env, NO_COLOR: '1' },
    });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    const lines = r.stdout.split('\n');
    // The same output with wrapped lines joined again (continuations are indented 4 more).
    const flat = r.stdout.replace(/\n {4,}/g, ' ');
    for (const line of lines) expect([...line].length, line).toBeLessThanOrEqual(100);
    expect(lines.filter((l) => l.startsWith('Weak end system: '))).toHaveLength(1);
    expect(lines.filter((l) => l.startsWith('Pinning: '))).toHaveLength(1);
    const sections = lines.filter((l) => /^IPv[46] (TCP|UDP) to /.test(l));
    if (hasNft()) {
      expect(sections).toEqual(['IPv4 TCP to 198.19.0.1:7000', 'IPv6 TCP to [fd00:99::1]:7000', 'IPv4 UDP to 198.19.0.1:7000', 'IPv6 UDP to [fd00:99::1]:7000']);
      expect(r.stdout).toContain('All 20 cases as expected');
      expect(flat).toMatch(/^  net\.createServer\(\)\.listen\(7100\): fd00:b::2 never answered/m);
      expect(flat).toMatch(/^  routebind\.createServer\(\)\.listen\(7101\): fd00:b::2 answered in .*, from fd00:b::2; the server saw fd00:4::2 and served it on ethB/m);
    } else {
      expect(sections).toEqual(['IPv4 TCP to 198.19.0.1:7000', 'IPv4 UDP to 198.19.0.1:7000']);
    }
    // The server half, IPv4 in every case.
    expect(lines).toContain("TCP servers on the host, a far client asking ethB's address (198.18.2.2" + (hasNft() ? ', fd00:b::2)' : ')'));
    expect(flat).toMatch(/^  net\.createServer\(\)\.listen\(7100\): 198\.18\.2\.2 never answered/m);
    expect(flat).toMatch(/^  routebind\.createServer\(\)\.listen\(7101\): 198\.18\.2\.2 answered in .*, from 198\.18\.2\.2; the server saw 198\.18\.4\.2 and served it on ethB/m);
    expect(r.stdout).toMatch(/✔ IPv4 TCP {2}plain Node server, client to ethB {2}never answered/);
    expect(r.stdout).toMatch(/✔ IPv4 TCP {2}routebind server, client to ethB {3}answered from 198\.18\.2\.2/);
    // A demo someone waits for: well under 30 s.
    expect(Date.now() - started).toBeLessThan(30_000);
    // Its namespaces are gone afterwards.
    expect(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout).not.toMatch(new RegExp(`rbdemo-\\w+-${r.pid}\\b`));
  });
});
