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

// An argument error (TypeError or RangeError) with Node's `code`: the same on every OS, so it
// lives here rather than in each OS's errors.cc.
inline Napi::Error TypedError(Napi::Env env, const char* js_class, const char* code,
                              const std::string& message) {
  Napi::Error error = std::string(js_class) == "RangeError"
                          ? static_cast<Napi::Error>(Napi::RangeError::New(env, message))
                          : static_cast<Napi::Error>(Napi::TypeError::New(env, message));
  error.Value().Set("code", Napi::String::New(env, code));
  return error;
}

}  // namespace routebind
