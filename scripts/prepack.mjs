// `prepack` (npm pack, npm publish) makes everything the tarball ships from a clean slate, so it
// never carries leftovers of a development build (source maps, internal typings, an old prebuild):
// - prebuilds/<platform>-<arch>/routebind.node, by prebuildify run through npm
//   (`npm run native:prebuild`): npm hands node-gyp its nodedir, so Node's headers come from this
//   installation instead of a download;
// - dist/, by tsc, keeping only the typings the public entry point needs. A declaration file that
//   dist/index.d.ts does not reach, directly or through the files it imports, describes an internal
//   module (the CLI, the addon binding) and is removed.
// There is deliberately no `prepare` script: npm 11 lists it among the install scripts a consumer
// is asked to approve, although it never runs for a registry install.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const require = createRequire(import.meta.url);

function run(argv) {
  const r = spawnSync(argv[0], argv.slice(1), { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

for (const dir of [dist, path.join(root, 'prebuilds')]) rmSync(dir, { recursive: true, force: true });

const npm = process.env.npm_execpath;
run([...(npm ? [process.execPath, npm] : ['npm']), 'run', 'native:prebuild']);
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
