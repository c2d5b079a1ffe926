// lib/binding.ts's per-OS interfaces hold: a POSIX-only, Linux-only or Windows-only function of
// the addon cannot be called without narrowing first (posixNative(), linuxNative(),
// windowsNative(), or a test of `platform`), so no module reaches one by accident.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.join(__dirname, '..', '..');
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const FIXTURES = path.join(__dirname, 'fixtures', 'binding-types');
// A cold tsc over @types/node takes 10 s on an idle 2-vCPU machine and over 40 s on a busy one.
const TSC_TIMEOUT = 120_000;

function typeCheck(file: string) {
  return spawnSync(process.execPath, [TSC, '--noEmit', '--strict', '--target', 'es2022', '--module', 'commonjs', '--types', 'node', '--typeRoots', path.join(ROOT, 'node_modules', '@types'), path.join(FIXTURES, file)], {
    cwd: ROOT, encoding: 'utf8', timeout: TSC_TIMEOUT - 5_000,
  });
}

describe('the typed native interface', () => {
  it('refuses an OS-specific function reached without narrowing', () => {
    const r = typeCheck('misuse.ts');
    const errors = r.stdout.trimEnd().split('\n').filter((l) => l.includes('misuse.ts('));
    expect(errors.map((l) => /misuse\.ts\((\d+),\d+\): error (TS\d+): Property '(\w+)'/.exec(l)?.slice(1))).toEqual([
      ['4', 'TS2339', 'createSocket'],
      ['5', 'TS2339', 'parseNetlink'],
      ['6', 'TS2339', 'ipInterfaceSettings'],
      ['7', 'TS2339', 'parseNetlink'],
      ['8', 'TS2339', 'ipInterfaceSettings'],
    ]);
  }, TSC_TIMEOUT);

  it('accepts the narrowing helpers and a test of `platform`', () => {
    const r = typeCheck('proper.ts');
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  }, TSC_TIMEOUT);
});
