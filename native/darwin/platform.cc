// macOS's own exports: the POSIX socket hand-off (native/posix/sockets.cc, pinning with
// IP_BOUND_IF / IPV6_BOUND_IF). The PF_ROUTE parser is tested on Linux through a test build.
#include <napi.h>

#include "platform.h"
#include "sockets.h"

namespace routebind {

const char kPlatformName[] = "darwin";

void InitPlatform(Napi::Env env, Napi::Object exports) { InitSockets(env, exports); }

}  // namespace routebind
