// vitest.config.mjs with every test worker seeing another OS in this repository's code
// (as-platform-collect.cjs, ROUTEBIND_TEST_PLATFORM=darwin|win32 in the environment): for
// collecting the suite only (list-as-platform.mjs), to see which tests each OS skips and why.
// Test bodies would meet this machine's Linux addon: run nothing with it.
import { fileURLToPath } from 'node:url';

import { defineConfig, mergeConfig } from 'vitest/config';

import base from '../../vitest.config.mjs';

export default mergeConfig(base, defineConfig({
  test: { execArgv: ['-r', fileURLToPath(new URL('./as-platform-collect.cjs', import.meta.url))] },
}));
