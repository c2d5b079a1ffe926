// The backend of an OS routebind has no backend for (FreeBSD, AIX...): the addon builds and loads,
// and every lookup fails with ENOSYS. lib/binding.ts does not even load it there and throws
// ERR_ROUTEBIND_UNSUPPORTED_PLATFORM instead; this keeps `npm rebuild` from failing to link.
#include <errno.h>

#include "backend.h"
#include "platform.h"

namespace routebind {

const char kPlatformName[] = "unsupported";

Status RouteBackend::Create(std::unique_ptr<RouteBackend>* /*out*/) {
  return Status::Fail(ENOSYS, "routebind");
}

Status ChangeFeed::Create(std::unique_ptr<ChangeFeed>* /*out*/) {
  return Status::Fail(ENOSYS, "routebind");
}

void InitPlatform(Napi::Env /*env*/, Napi::Object /*exports*/) {}

}  // namespace routebind
