// `npm install` of the packed routebind tarball into a fresh project, done by Windows node under
// Wine with npm's own CLI, then require('routebind') there: the prebuild must be used (there is no
// compiler or Python in the Wine prefix, so a fallback to `node-gyp rebuild` would fail the
// install). scripts/wine/run.mjs packs the tarball and names it in ROUTEBIND_WINE_TARBALL.
'use strict';

const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { describe, it } = require('node:test');

const tarball = process.env.ROUTEBIND_WINE_TARBALL;
const npmCli = process.env.ROUTEBIND_WINE_NPM_CLI;
const project = process.env.ROUTEBIND_WINE_PROJECT;
// routebind's dependencies as tarballs (Wine's sockets cannot reach the registry here).
const dependencies = JSON.parse(process.env.ROUTEBIND_WINE_DEPENDENCIES ?? '[]');
const skip = !tarball || !npmCli || !project ? 'no tarball packed (scripts/wine/run.mjs --no-install)' : false;

function node(args, options) {
  // npm runs the install script through cmd.exe, which finds `node` on PATH.
  // A consumer's install: node-gyp-build's default search, not the suite's PREBUILDS_ONLY.
  const env = { ...process.env, PATH: `${path.dirname(process.execPath)};${process.env.PATH ?? ''}` };
  delete env.PREBUILDS_ONLY;
  return spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 600_000, env, ...options });
}

describe('npm install of the packed tarball under Windows node', { skip }, () => {
  it('installs from the prebuild, with no compiler, and require("routebind") works', () => {
    fs.rmSync(project, { recursive: true, force: true });
    fs.mkdirSync(project, { recursive: true });
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'wine-consumer', version: '1.0.0', private: true }));
    const install = node([npmCli, 'install', tarball, ...dependencies, '--offline', '--no-audit', '--no-fund', '--foreground-scripts'], { cwd: project });
    assert.equal(install.status, 0, `npm install exited ${install.status}: ${install.error?.message ?? ''}\n${install.stdout}\n${install.stderr}`);
    const installed = path.join(project, 'node_modules', 'routebind');
    assert.ok(fs.existsSync(path.join(installed, 'prebuilds', 'win32-x64', 'routebind.node')));
    assert.ok(!fs.existsSync(path.join(installed, 'build')), 'nothing was compiled');
    assert.match(install.stdout, /node scripts\/install\.cjs/, 'the install script ran');

    const probe = node(['-e', `
      const rb = require('routebind');
      const names = rb.interfaces().map((i) => i.name).sort();
      process.stdout.write(JSON.stringify({ names, routes: rb.routes({ family: 4 }).length }));`], { cwd: project });
    assert.equal(probe.status, 0, probe.stderr);
    const result = JSON.parse(probe.stdout);
    const expected = Object.keys(require('node:os').networkInterfaces()).sort();
    for (const name of expected) assert.ok(result.names.includes(name), `${name} not in ${result.names}`);
    assert.ok(result.routes > 0);
  });
});
