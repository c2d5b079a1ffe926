// What only some OSes offer JS, registered by that OS's directory behind this one declaration:
// the POSIX fd hand-off (native/posix/sockets.cc), the netlink parser's test entry, Windows'
// per-interface settings. lib/binding.ts types each OS's set (LinuxNative, WindowsNative...).
#pragma once

#include <napi.h>

namespace routebind {

// process.platform's name for the OS this addon was built for.
extern const char kPlatformName[];

void InitPlatform(Napi::Env env, Napi::Object exports);

}  // namespace routebind
