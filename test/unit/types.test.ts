// The published types as a consumer meets them: a fresh project with routebind and @types/node in
// node_modules and nothing else, `tsc --strict file.ts` with no tsconfig and no `--types`, under
// TypeScript 5.9 (this repository's) and 7.x (installed from the registry once per run). The
// package holds what ships of dist/ minus the internal typings (binding.d.ts, cli.d.ts), so the
// public .d.ts files must not lean on them.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { DIR_LINK, npmArgv } from '../helpers/platform';

const ROOT = path.join(__dirname, '..', '..');
const DIST = path.join(ROOT, 'dist');
// A cold tsc over @types/node takes 10 s on an idle 2-vCPU machine and over 40 s on a busy one.
const TSC_TIMEOUT = 120_000;
const INTERNAL_TYPINGS = new Set(['binding.d.ts', 'cli.d.ts']);

const temps: string[] = [];
afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});
function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

function run(argv: string[], cwd: string, timeout = TSC_TIMEOUT - 5_000): SpawnSyncReturns<string> {
  return spawnSync(argv[0], argv.slice(1), { cwd, encoding: 'utf8', timeout, maxBuffer: 16 * 1024 * 1024 });
}

const publicTypings = () => readdirSync(DIST).filter((f) => f.endsWith('.d.ts') && !INTERNAL_TYPINGS.has(f));

let project: string;
const tsc: Record<'5.9' | '7', string> = { '5.9': path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '7': '' };

beforeAll(() => {
  project = tempDir('routebind-types-');
  const pkg = path.join(project, 'node_modules', 'routebind');
  mkdirSync(path.join(pkg, 'dist'), { recursive: true });
  copyFileSync(path.join(ROOT, 'package.json'), path.join(pkg, 'package.json'));
  for (const file of publicTypings()) copyFileSync(path.join(DIST, file), path.join(pkg, 'dist', file));
  // @types/node, as every Node TypeScript project has it.
  mkdirSync(path.join(project, 'node_modules', '@types'));
  symlinkSync(path.join(ROOT, 'node_modules', '@types', 'node'), path.join(project, 'node_modules', '@types', 'node'), DIR_LINK);
  writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
  copyFileSync(path.join(__dirname, 'fixtures', 'readme-consumer.ts'), path.join(project, 'app.ts'));
  writeFileSync(path.join(project, 'typo-connect.ts'), "import { connect } from 'routebind';\nconnect({ host: '198.19.0.1', port: 443, interfce: 'ethB' });\n");
  writeFileSync(
    path.join(project, 'typo-bind.ts'),
    "import { createSocket } from 'routebind';\ncreateSocket('udp6').bind({ port: 5353, interfce: 'ethB' });\n",
  );
  // TypeScript 7 from the registry, once per run, outside the consumer (its node_modules stays
  // what a consumer's would be).
  const ts7 = tempDir('routebind-ts7-');
  writeFileSync(path.join(ts7, 'package.json'), JSON.stringify({ name: 'ts7', private: true }));
  const install = run(npmArgv('install', '--no-audit', '--no-fund', '--no-package-lock', 'typescript@7'), ts7, 170_000);
  expect({ status: install.status, stderr: install.stderr }).toMatchObject({ status: 0 });
  tsc['7'] = path.join(ts7, 'node_modules', 'typescript', 'bin', 'tsc');
}, 180_000);

describe.each([['5.9'], ['7']] as const)('a consumer compiling with TypeScript %s', (version) => {
  const tscRun = (...args: string[]) => run([process.execPath, tsc[version], ...args], project);

  it('is that version', () => {
    expect(tscRun('--version').stdout.trim()).toMatch(new RegExp(`^Version ${version.replace('.', '\\.')}\\.`));
  }, TSC_TIMEOUT);

  // No --types, --target or --module: the .d.ts files bring in Node's types themselves, and have
  // no `#private` (which the default target rejects in a declaration).
  it("type-checks the README's examples with plain `tsc --strict`", () => {
    const r = tscRun('--noEmit', '--strict', 'app.ts');
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  }, TSC_TIMEOUT);

  it('reports a misspelt connect() option by name, not a failed port or path overload', () => {
    const r = tscRun('--noEmit', '--strict', 'typo-connect.ts');
    expect(r.status).not.toBe(0);
    expect(r.stdout.trimEnd().split('\n')).toEqual([
      'typo-connect.ts(2,42): error TS2769: No overload matches this call.',
      '  The last overload gave the following error.',
      "    Object literal may only specify known properties, but 'interfce' does not exist in type 'ConnectOptions'. Did you mean to write 'interface'?",
    ]);
  }, TSC_TIMEOUT);

  it('reports a misspelt bind() option of a UDP socket by name', () => {
    const r = tscRun('--noEmit', '--strict', 'typo-bind.ts');
    expect(r.status).not.toBe(0);
    expect(r.stdout.trimEnd().split('\n')).toEqual([
      'typo-bind.ts(2,41): error TS2769: No overload matches this call.',
      '  The last overload gave the following error.',
      "    Object literal may only specify known properties, but 'interfce' does not exist in type 'BindOptions'. Did you mean to write 'interface'?",
    ]);
  }, TSC_TIMEOUT);
});

describe('the published declarations', () => {
  it('reference Node\'s types from index.d.ts and never import the internal typings', () => {
    expect(readFileSync(path.join(DIST, 'index.d.ts'), 'utf8').split('\n')[0]).toBe('/// <reference types="node" preserve="true" />');
    const leaning = publicTypings().filter((f) => /from '\.\/(binding|cli)'|import\("\.\/(binding|cli)"\)/.test(readFileSync(path.join(DIST, f), 'utf8')));
    expect(leaning).toEqual([]);
  });

  // What an editor's hover shows: every export, and every field of an exported type that
  // routebind declares (Node's own inherited options keep Node's docs), has a doc comment.
  it('document every export and every field routebind declares', () => {
    const index = path.join(project, 'node_modules', 'routebind', 'dist', 'index.d.ts');
    const program = ts.createProgram([index], { strict: true, noEmit: true, types: [] });
    const checker = program.getTypeChecker();
    const ours = (d: ts.Declaration) => d.getSourceFile().fileName.startsWith(path.dirname(index));
    const doc = (s: ts.Symbol) => ts.displayPartsToString(s.getDocumentationComment(checker)).trim();
    const undocumented: string[] = [];
    const exported = checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(index)!)!);
    expect(exported.length).toBeGreaterThan(50);
    for (const alias of exported) {
      const name = alias.getName();
      const symbol = alias.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(alias) : alias;
      if (doc(symbol) === '') undocumented.push(name);
      if ((symbol.flags & (ts.SymbolFlags.Interface | ts.SymbolFlags.TypeAlias | ts.SymbolFlags.Class)) === 0) continue;
      const type = checker.getDeclaredTypeOfSymbol(symbol);
      for (const member of type.isUnion() ? type.types : [type]) {
        for (const property of checker.getPropertiesOfType(member)) {
          const declarations = property.getDeclarations() ?? [];
          if (!declarations.some(ours)) continue;
          if (declarations.every((d) => (ts.getCombinedModifierFlags(d) & ts.ModifierFlags.Private) !== 0)) continue;
          if (doc(property) === '') undocumented.push(`${name}.${property.getName()}`);
        }
      }
    }
    expect([...new Set(undocumented)]).toEqual([]);
  }, TSC_TIMEOUT);
});
