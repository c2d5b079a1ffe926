// Node-shaped errors: every system failure becomes an Error with code, errno and syscall, the way
// Node's own net and fs errors look.
#pragma once

#include <napi.h>

#include <string>

#include "backend.h"

namespace routebind {

// "EADDRNOTAVAIL" for EADDRNOTAVAIL, etc. Valid until the next call on the same thread.
const char* ErrorCodeName(int error);

Napi::Error SystemError(Napi::Env env, const Status& status, const std::string& detail = "");
Napi::Error TypedError(Napi::Env env, const char* js_class, const char* code,
                       const std::string& message);

}  // namespace routebind
