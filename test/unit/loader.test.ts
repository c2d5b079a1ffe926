// How consumers load routebind: CommonJS require, ES module import (named and default), the
// published types under each TypeScript resolution mode, and the prebuild alone (PREBUILDS_ONLY=1).
// Every load happens in a child process so the result does not depend on vitest's module system.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { DIR_LINK, loopbackName, npmArgv } from '../helpers/platform';

const ROOT = path.join(__dirname, '..', '..');
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
// A cold tsc over @types/node takes 10 s on an idle 2-vCPU machine and over 40 s on a busy one.
const TSC_TIMEOUT = 120_000;
const PLATFORM = `${process.platform}-${process.arch}`;
/** The loopback interface's name as routebind reports it: Windows uses the friendly name. */
const LOOPBACK = loopbackName;

const temps: string[] = [];
function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

/** The environment of a child that must not inherit this run's loader switches. */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  if (extra.PREBUILDS_ONLY === undefined) delete env.PREBUILDS_ONLY;
  return env;
}

function run(argv: string[], cwd: string, env: NodeJS.ProcessEnv = childEnv(), timeout = 60_000): SpawnSyncReturns<string> {
  return spawnSync(argv[0], argv.slice(1), { cwd, env, encoding: 'utf8', timeout, maxBuffer: 16 * 1024 * 1024 });
}

/** Runs a command that must succeed; on failure the assertion shows what it printed. */
function mustRun(argv: string[], cwd: string, env?: NodeJS.ProcessEnv, timeout?: number): string {
  const r = run(argv, cwd, env, timeout);
  expect({ argv: argv.join(' '), status: r.status, signal: r.signal, stderr: r.stderr }).toMatchObject({ status: 0 });
  return r.stdout;
}

const PRINT_ROUTE = "JSON.stringify({ destination: route.destination, interface: route.interface, source: route.source, type: route.type })";

describe('a consumer project with routebind in node_modules', () => {
  let project: string;

  beforeAll(() => {
    project = tempDir('routebind-consumer-');
    mkdirSync(path.join(project, 'node_modules'));
    symlinkSync(ROOT, path.join(project, 'node_modules', 'routebind'), DIR_LINK);
    // The published .d.ts files use Node's types (Buffer, node:os), as a Node consumer has them.
    symlinkSync(path.join(ROOT, 'node_modules', '@types'), path.join(project, 'node_modules', '@types'), DIR_LINK);
    writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
    writeFileSync(
      path.join(project, 'require.cjs'),
      `const { routeTo } = require('routebind');\nconst route = routeTo('127.0.0.1');\nconsole.log(${PRINT_ROUTE});\n`,
    );
    writeFileSync(
      path.join(project, 'named.mjs'),
      "import { routeTo, interfaces, routes } from 'routebind';\n" +
        "if (typeof interfaces !== 'function' || typeof routes !== 'function') throw new Error('missing named exports');\n" +
        `const route = routeTo('127.0.0.1');\nconsole.log(${PRINT_ROUTE});\n`,
    );
    writeFileSync(
      path.join(project, 'default.mjs'),
      "import routebind from 'routebind';\nconst route = routebind.routeTo('127.0.0.1');\n" +
        "if (typeof routebind.routes !== 'function' || typeof routebind.interfaces !== 'function') throw new Error('incomplete default export');\n" +
        `console.log(${PRINT_ROUTE});\n`,
    );
    writeFileSync(
      path.join(project, 'typed.ts'),
      "import { routeTo, type Route } from 'routebind';\n" +
        "const route: Route = routeTo('127.0.0.1', { protocol: 'udp', destinationPort: 53 });\n" +
        'const name: string | undefined = route.interface;\n' +
        'const family: 4 | 6 = route.family;\n' +
        'console.log(name, family);\n',
    );
    writeFileSync(
      path.join(project, 'typed.mts'),
      "import routebind, { routeTo, routes, type Route, type RouteEntry } from 'routebind';\n" +
        "const a: Route = routeTo('127.0.0.1');\n" +
        "const b: Route = routebind.routeTo('::1');\n" +
        "const table: RouteEntry[] = routes({ family: 4, table: 'main' });\n" +
        'console.log(a.interface, b.interface, table.length);\n',
    );
    writeFileSync(path.join(project, 'misused.ts'), "import { routeTo } from 'routebind';\nrouteTo(42);\n");
  });

  const expectLoopbackRoute = (stdout: string) => {
    expect(JSON.parse(stdout)).toEqual({ destination: '127.0.0.1', interface: LOOPBACK, source: '127.0.0.1', type: 'local' });
  };

  it('works from CommonJS require()', () => {
    expectLoopbackRoute(mustRun([process.execPath, 'require.cjs'], project));
  });

  it('works from an ES module with named imports', () => {
    expectLoopbackRoute(mustRun([process.execPath, 'named.mjs'], project));
  });

  it('works from an ES module with a default import', () => {
    expectLoopbackRoute(mustRun([process.execPath, 'default.mjs'], project));
  });

  // node10 reads "types"; nodenext and bundler read "exports" → "types".
  it.each([
    ['nodenext', ['--module', 'nodenext', '--moduleResolution', 'nodenext'], ['typed.ts', 'typed.mts']],
    ['node10', ['--module', 'commonjs', '--moduleResolution', 'node10'], ['typed.ts']],
    ['bundler', ['--module', 'preserve', '--moduleResolution', 'bundler'], ['typed.ts']],
  ])('type-checks typical use under moduleResolution %s', (_mode, flags, files) => {
    const r = run([process.execPath, TSC, '--noEmit', '--strict', '--target', 'es2022', ...flags, ...files], project);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  }, TSC_TIMEOUT);

  it('rejects a misuse at type-check time', () => {
    const r = run([process.execPath, TSC, '--noEmit', '--strict', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext', 'misused.ts'], project);
    expect(r.status).not.toBe(0);
    // It must fail for the misuse, not because the package's own types are broken.
    const errors = r.stdout.split('\n').filter((line) => line.includes('error TS'));
    expect(errors).toEqual([expect.stringMatching(/^misused\.ts\(2,9\): error TS2345: Argument of type 'number'/)]);
  }, TSC_TIMEOUT);
});

describe('the prebuild, loaded alone (PREBUILDS_ONLY=1)', () => {
  let staged: string;

  // A copy of what a from-source build needs, so prebuildify's `node-gyp rebuild` never touches
  // the working tree's build/ while other test files load it. The release workflow instead points
  // ROUTEBIND_TEST_PREBUILDS at the prebuilds/ directory a runner made, to test that binary.
  beforeAll(() => {
    staged = path.join(tempDir('routebind-prebuild-'), 'routebind');
    for (const entry of ['package.json', 'binding.gyp', 'native', 'dist']) {
      cpSync(path.join(ROOT, entry), path.join(staged, entry), { recursive: true });
    }
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(staged, 'node_modules'), DIR_LINK);
    const given = process.env.ROUTEBIND_TEST_PREBUILDS;
    if (given) {
      cpSync(path.resolve(given), path.join(staged, 'prebuilds'), { recursive: true });
      return;
    }
    // Through npm, so node-gyp gets nodedir (Node's own headers) instead of downloading them.
    const nodedir = process.env.npm_config_nodedir || (existsSync('/usr/include/node/node.h') ? '/usr' : undefined);
    mustRun(npmArgv('run', 'native:prebuild'), staged, childEnv(nodedir ? { npm_config_nodedir: nodedir } : {}), 110_000);
    // Only the prebuild is left to load.
    rmSync(path.join(staged, 'build'), { recursive: true, force: true });
  }, 120_000);

  it('finds and loads prebuilds/<platform>-<arch>/*.node', () => {
    expect(readdirSync(path.join(staged, 'prebuilds', PLATFORM)).filter((f) => f.endsWith('.node'))).toEqual(['routebind.node']);
    const script =
      "const resolved = require('node-gyp-build').resolve(process.argv[1]);\n" +
      "const route = require(process.argv[1]).routeTo('127.0.0.1');\n" +
      'console.log(JSON.stringify({ resolved, interface: route.interface }));\n';
    const out = JSON.parse(mustRun([process.execPath, '-e', script, staged], staged, childEnv({ PREBUILDS_ONLY: '1' })));
    expect(out).toEqual({ resolved: path.join(staged, 'prebuilds', PLATFORM, 'routebind.node'), interface: LOOPBACK });
  });

  /** A copy of the package with its compiled JS and no binary at all (no prebuilds/, no build/). */
  function bareCopy(): string {
    const bare = path.join(tempDir('routebind-nobinary-'), 'routebind');
    for (const entry of ['package.json', 'dist']) cpSync(path.join(ROOT, entry), path.join(bare, entry), { recursive: true });
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(bare, 'node_modules'), DIR_LINK);
    return bare;
  }

  /** Every fix the load error must name: rebuild, npm 11's script approval, a build's toolchain. */
  const expectEveryFix = (message: string) => {
    expect(message).toContain('`npm rebuild routebind`');
    expect(message).toContain('`npm install-scripts approve routebind`');
    expect(message).toContain('"allowScripts"');
    expect(message).toContain('`npm config set allow-scripts=routebind --location=user`');
    expect(message).toContain('needs python3, make and a C++17 compiler');
  };

  it('says what it tried and every fix when there is no binary', () => {
    const bare = bareCopy();
    const script =
      'try { require(process.argv[1]); console.log("loaded"); }\n' +
      'catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message, cause: e.cause && e.cause.message })); }\n';
    const out = JSON.parse(mustRun([process.execPath, '-e', script, bare], bare, childEnv({ PREBUILDS_ONLY: '1' })));
    expect(out.code).toBe('ERR_ROUTEBIND_ADDON');
    expect(out.message).not.toContain('\n');
    expect(out.message).toMatch(new RegExp(`^routebind: could not load its native addon for ${PLATFORM} \\(Node ${process.versions.node}, N-API \\d+\\): `));
    expect(out.message).toContain(path.join(bare, 'prebuilds'));
    expect(out.message).toContain(path.join(bare, 'build', 'Release'));
    expectEveryFix(out.message);
    expect(out.cause).toMatch(/No native build was found/);
  });

  it('makes the CLI print that error as one line, no stack trace, and exit 1', () => {
    const bare = bareCopy();
    const r = run([process.execPath, path.join(bare, 'dist', 'cli.js'), 'interfaces'], bare, childEnv({ PREBUILDS_ONLY: '1' }));
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    const lines = r.stderr.split('\n');
    expect(lines).toHaveLength(2); // one line and its newline
    expect(lines[1]).toBe('');
    expect(lines[0]).toMatch(new RegExp(`^routebind: ERR_ROUTEBIND_ADDON: could not load its native addon for ${PLATFORM} `));
    expectEveryFix(lines[0]);
  });
});
