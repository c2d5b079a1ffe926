// Incremental build for development and tests: configure once, `make` what changed, emit dist/.
// Run through npm (or with --nodedir) so node-gyp finds Node's headers offline.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const nodeGyp = require.resolve('node-gyp/bin/node-gyp.js');
const nodedir = process.env.npm_config_nodedir || (existsSync('/usr/include/node/node.h') ? '/usr' : undefined);
const gypArgs = nodedir ? [`--nodedir=${nodedir}`] : [];

function run(args) {
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

if (!existsSync(path.join(root, 'build', 'Makefile')) && !existsSync(path.join(root, 'build', 'config.gypi'))) {
  run([nodeGyp, 'configure', ...gypArgs]);
}
run([nodeGyp, 'build', ...gypArgs]);
run([require.resolve('typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.json')]);
