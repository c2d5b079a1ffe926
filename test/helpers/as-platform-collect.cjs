// Preload (node -r) for list-as-platform.mjs: process.platform reads as ROUTEBIND_TEST_PLATFORM
// to this repository's test/, lib/ and scripts/ code only, and as the real OS to everything else (vitest,
// vite, Node's own modules), so that collecting the suite "as win32" tests routebind's platform
// conditions without turning vitest's path handling into Windows'. Collection only: see
// list-as-platform.mjs.
'use strict';

const path = require('node:path');

const wanted = process.env.ROUTEBIND_TEST_PLATFORM;
if (!wanted) throw new Error('as-platform-collect.cjs: set ROUTEBIND_TEST_PLATFORM');
const real = process.platform;
const root = path.resolve(__dirname, '..', '..');
const ours = ['test', 'lib', 'scripts'].map((dir) => path.join(root, dir) + path.sep);

Object.defineProperty(process, 'platform', {
  configurable: true,
  enumerable: true,
  get() {
    // Frame 0 is this getter; frame 1 is whoever read process.platform.
    const caller = (new Error().stack ?? '').split('\n')[2] ?? '';
    return ours.some((dir) => caller.includes(dir)) ? wanted : real;
  },
});
