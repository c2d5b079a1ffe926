// The netlink parser and the macOS PF_ROUTE parser under AddressSanitizer and UBSan
// (scripts/fuzz.sh): each one's corpus (test/fuzz/corpus/: captured replies and the regression
// cases; test/fuzz/route_message_corpus/: messages built from the documented layout) and, for a few
// fixed seeds, the same mutations on every run. `npm run fuzz` is the long run with a fresh seed.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

import { onLinux, onWindows } from '../helpers/platform';

const root = path.join(__dirname, '..', '..');
const compiler = spawnSync('sh', ['-c', 'command -v g++ || command -v clang++']).stdout?.toString().trim();
const corpus = readdirSync(path.join(root, 'test', 'fuzz', 'corpus')).filter((f) => f.endsWith('.hex'));
const routeCorpus = readdirSync(path.join(root, 'test', 'fuzz', 'route_message_corpus')).filter((f) => f.endsWith('.hex'));

function fuzz(iterations: number, seed: number, env: Record<string, string> = {}) {
  return spawnSync('bash', [path.join(root, 'scripts', 'fuzz.sh'), String(iterations), String(seed)], {
    encoding: 'utf8', timeout: 240_000, env: { ...process.env, ...env },
  });
}

// scripts/fuzz.sh is bash with AddressSanitizer and UBSan: Linux (both parsers) and macOS (the
// PF_ROUTE one: the netlink parser needs Linux's headers). Windows has neither the shell nor the
// sanitizers (MinGW's g++ links no ASan runtime).
const skip = onWindows ? ' — skipped on win32: needs bash and a C++ compiler with AddressSanitizer' : compiler ? '' : ' (skipped: no C++ compiler)';
describe.skipIf(!compiler || onWindows)(`netlink and PF_ROUTE parser fuzzing${skip}`, () => {
  it('keeps the regression inputs for the INT_MIN error codes in its corpus', () => {
    expect(corpus).toEqual(expect.arrayContaining(['regression-error-int-min.hex', 'regression-done-int-min.hex']));
  });

  for (const seed of [1, 2, 3]) {
    it(`runs each parser's corpus, then 100,000 mutations from seed ${seed}, without a sanitizer report`, () => {
      const r = fuzz(100_000, seed);
      expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
      if (onLinux) expect(r.stdout).toContain(`fuzz: target netlink_parser_fuzz\nfuzz: ${corpus.length} corpus inputs, then 100000 mutated inputs from seed ${seed}`);
      else expect(r.stdout).not.toContain('netlink_parser_fuzz'); // fuzz.sh builds it only on Linux
      expect(r.stdout).toContain(`fuzz: target route_message_fuzz\nfuzz: ${routeCorpus.length} corpus inputs, then 100000 mutated inputs from seed ${seed}`);
      expect(r.stderr).not.toMatch(/runtime error|Sanitizer/);
    }, 240_000);
  }

  // UBSan on its own prints and carries on: a run that reported something must still fail.
  for (const [canary, report] of [['ub', /runtime error: negation of -2147483648/], ['asan', /ERROR: AddressSanitizer: heap-buffer-overflow/]] as const) {
    it(`fails (non-zero exit) when the sanitizer reports something: deliberate ${canary === 'ub' ? 'undefined behaviour' : 'read past a buffer'}`, () => {
      const r = fuzz(10, 1, { ROUTEBIND_FUZZ_CANARY: canary });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(report);
      expect(r.stderr).toContain('fuzz: FAILED');
    }, 240_000);
  }
});
