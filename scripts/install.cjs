// npm's install step: use a prebuild (or build from source) where routebind has a backend; on
// any other OS install nothing and succeed, so that a project that depends on routebind still
// installs there (lib/binding.ts then fails each call with ERR_ROUTEBIND_UNSUPPORTED_PLATFORM).
'use strict';

const BACKENDS = ['linux', 'darwin', 'win32'];

if (BACKENDS.includes(process.platform)) {
  // node-gyp-build's own installer: load-test a prebuild, else `node-gyp rebuild`.
  require('node-gyp-build/bin.js');
} else {
  console.warn(
    `routebind: no backend for ${process.platform} (it has ${BACKENDS.join(', ')}); ` +
      'installed without its native addon: each call will throw ERR_ROUTEBIND_UNSUPPORTED_PLATFORM.',
  );
}
