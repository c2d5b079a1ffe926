// The netlink parser under AddressSanitizer/UBSan (or libFuzzer with clang): any read past a
// buffer it did not size itself aborts the fuzz binary, and this test with it.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.join(__dirname, '..', '..');
const compiler = spawnSync('sh', ['-c', 'command -v clang++ || command -v g++']).stdout?.toString().trim();

describe.skipIf(!compiler)(`netlink parser fuzzing${compiler ? '' : ' (skipped: no C++ compiler)'}`, () => {
  it('survives 200,000 random and mutated buffers with sanitizers on', () => {
    const r = spawnSync('bash', [path.join(root, 'scripts', 'fuzz.sh'), compiler!.endsWith('clang++') ? '10' : '200000'], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stderr).not.toMatch(/ERROR: AddressSanitizer|runtime error/);
  }, 120_000);
});
