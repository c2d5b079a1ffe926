// `prepack` (npm pack, npm publish) makes everything the tarball ships from a clean slate, so it
// never carries leftovers of a development build (source maps, internal typings, an old prebuild):
// - prebuilds/<target>/routebind.node for every target this machine can build
//   (scripts/cross/build.mjs): by default linux-x64 (required: the pack fails without it),
//   linux-arm64 and win32-x64 (each skipped, with the reason printed, when its cross compiler is
//   missing). darwin-x64/darwin-arm64 are left to the release workflow's macOS runners: a
//   zig-built darwin binary has never been loaded on a Mac, so it is not shipped by default.
//   ROUTEBIND_PREBUILDS=<target>,<target>… builds exactly those, each one required;
//   ROUTEBIND_PREBUILDS=keep ships prebuilds/ as it is (the release workflow fills it from its
//   runners) and only checks it is not empty;
// - dist/, by tsc, keeping only the typings the public entry point needs. A declaration file that
//   dist/index.d.ts does not reach, directly or through the files it imports, describes an internal
//   module (the CLI, the addon binding) and is removed.
// There is deliberately no `prepare` script: npm 11 lists it among the install scripts a consumer
// is asked to approve, although it never runs for a registry install.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { TARGETS, binaryKind, buildTarget, describeResult } from './cross/build.mjs';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const prebuilds = path.join(root, 'prebuilds');
const require = createRequire(import.meta.url);

const DEFAULT_TARGETS = ['linux-x64', 'linux-arm64', 'win32-x64'];
const REQUIRED_BY_DEFAULT = ['linux-x64'];

function run(argv) {
  const r = spawnSync(argv[0], argv.slice(1), { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

function fail(message) {
  console.error(`prepack: ${message}`);
  process.exit(1);
}

const setting = (process.env.ROUTEBIND_PREBUILDS ?? '').trim();
rmSync(dist, { recursive: true, force: true });

if (setting === 'keep') {
  const shipped = existsSync(prebuilds) ? readdirSync(prebuilds).filter((t) => existsSync(path.join(prebuilds, t, 'routebind.node'))) : [];
  if (shipped.length === 0) fail('ROUTEBIND_PREBUILDS=keep but prebuilds/ holds no <target>/routebind.node');
  for (const target of shipped) {
    const file = path.join(prebuilds, target, 'routebind.node');
    const kind = binaryKind(file);
    console.log(`${target}: kept ${path.relative(root, file)} ${statSync(file).size} bytes (${kind ? `${kind.format} ${kind.arch}` : 'unknown format'})`);
  }
} else {
  const targets = setting === '' ? DEFAULT_TARGETS : setting.split(',').map((t) => t.trim()).filter((t) => t !== '');
  const unknown = targets.filter((t) => !TARGETS.includes(t));
  if (unknown.length > 0) fail(`ROUTEBIND_PREBUILDS names ${unknown.join(', ')}; targets are ${TARGETS.join(', ')} (or keep)`);
  const required = setting === '' ? REQUIRED_BY_DEFAULT : targets;
  rmSync(prebuilds, { recursive: true, force: true });
  for (const target of targets) {
    let result;
    try {
      result = await buildTarget(target, { root, prebuilds });
    } catch (error) {
      // A compiler that is there but fails must not quietly ship a package without its prebuild.
      fail(`${target} failed to build: ${error.message}`);
    }
    console.log(describeResult(result, root));
    if (result.status === 'skipped' && required.includes(target)) fail(`${target} is required and could not be built`);
  }
}

run([process.execPath, require.resolve('typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.json')]);

/** Relative modules a declaration file imports or re-exports (`from './x'`, `import('./x')`). */
function imports(file) {
  const text = readFileSync(path.join(dist, file), 'utf8');
  return [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*)['"](\.\/[^'"]+)['"]/g)].map((m) => `${path.posix.normalize(m[1])}.d.ts`);
}

const reached = new Set();
const queue = ['index.d.ts'];
while (queue.length > 0) {
  const file = queue.pop();
  if (reached.has(file)) continue;
  reached.add(file);
  queue.push(...imports(file));
}
for (const file of readdirSync(dist)) {
  if (file.endsWith('.d.ts') && !reached.has(file)) rmSync(path.join(dist, file));
}
