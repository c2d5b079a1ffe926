// The Windows build, proven without Windows: cross-builds prebuilds/win32-x64 with mingw-w64 (when
// a source is newer than the prebuild), runs the Wine suite (scripts/wine/run.mjs: test/wine/*.test.cjs
// under the real Windows node.exe) and turns each of its tests into one test here, failures with
// the Wine side's message. Skipped visibly where wine or mingw-w64 is missing. The suite's own
// output (spec reporter, JSON lines, node.exe's stderr) stays in the directory it names.
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

interface WineTest {
  name: string;
  path: string[];
  outcome: 'passed' | 'failed' | 'skipped' | 'todo';
  skipReason?: string;
  error?: string;
}

interface WineSummary {
  unavailable?: string;
  crash?: string;
  outDir: string;
  tests: WineTest[];
  timings: Record<string, number>;
}

const ROOT = path.join(__dirname, '..', '..');
const PREBUILD = path.join(ROOT, 'prebuilds', 'win32-x64', 'routebind.node');

/** The newest modification time among the files the win32 prebuild is made from. */
function newestSource(): number {
  let newest = 0;
  const visit = (p: string) => {
    const s = statSync(p);
    if (s.isDirectory()) for (const f of readdirSync(p)) visit(path.join(p, f));
    else newest = Math.max(newest, s.mtimeMs);
  };
  for (const p of ['native', 'binding.gyp', 'scripts/cross/win32.mjs']) visit(path.join(ROOT, p));
  return newest;
}

async function prepare(): Promise<{ summary?: WineSummary; skip?: string; buildSeconds?: number }> {
  const run = (await import(path.join(ROOT, 'scripts', 'wine', 'run.mjs'))) as {
    runSuite(options: { build?: boolean; install?: boolean }): Promise<WineSummary>;
  };
  const { missingTool } = (await import(path.join(ROOT, 'scripts', 'wine', 'env.mjs'))) as { missingTool(): string | null };
  const noWine = missingTool();
  if (noWine) return { skip: noWine };
  let buildSeconds: number | undefined;
  if (!existsSync(PREBUILD) || statSync(PREBUILD).mtimeMs < newestSource()) {
    const cross = (await import(path.join(ROOT, 'scripts', 'cross', 'win32.mjs'))) as {
      build(target: string, options: { root: string }): Promise<string>;
    };
    const started = Date.now();
    try {
      await cross.build('win32-x64', { root: ROOT });
    } catch (error) {
      if ((error as { code?: string }).code === 'ENOTOOLCHAIN') return { skip: (error as Error).message };
      throw error;
    }
    buildSeconds = (Date.now() - started) / 1000;
  }
  const summary = await run.runSuite({});
  if (summary.unavailable) return { skip: summary.unavailable };
  return { summary, buildSeconds };
}

// At collection time: the Wine suite's tests become this file's tests. Wine, mingw-w64 and the
// cross build are this Linux machine's; on Windows the CI job runs test/wine with node --test itself.
const prepared = process.platform === 'linux'
  ? await prepare()
  : { skip: `needs Linux (Wine runs the Windows build there), this is ${process.platform}`, summary: undefined, buildSeconds: undefined };
const summary = prepared.summary;

// The results directory (with the packed tarball and the consumer project) is kept only when
// something failed, for the failure messages that name it.
afterAll(() => {
  if (summary && !summary.crash && summary.tests.every((t) => t.outcome !== 'failed')) {
    rmSync(summary.outDir, { recursive: true, force: true });
  }
});

describe('the win32-x64 build under Wine (Windows node.exe 20.20.2)', () => {
  it.skipIf(prepared.skip !== undefined)(
    prepared.skip ? `skipped: ${prepared.skip}` : 'the Wine suite ran to its end',
    () => {
      expect(summary?.crash, `results in ${summary?.outDir}`).toBeUndefined();
      // test/wine holds 20-odd tests: far fewer means a file did not load.
      expect(summary!.tests.length).toBeGreaterThanOrEqual(20);
      console.log(`wine suite: ${JSON.stringify({ buildSeconds: prepared.buildSeconds, ...summary!.timings })}, results in ${summary!.outDir}`);
    },
  );

  for (const t of summary?.tests ?? []) {
    const name = [...t.path, t.name].join(' > ');
    if (t.outcome === 'skipped' || t.outcome === 'todo') {
      it.skip(`${name} (skipped under Wine: ${t.skipReason ?? t.outcome})`, () => {});
      continue;
    }
    it(name, () => {
      if (t.outcome === 'failed') throw new Error(`${name} failed under Wine:\n${t.error ?? '(no message)'}\n(results in ${summary!.outDir})`);
    });
  }
});
