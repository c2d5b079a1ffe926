// errno → Node-style error objects for Linux and macOS (libuv's names, so codes match Node's).
#include <string.h>
#include <uv.h>

#include <cstdio>

#include "errors.h"

namespace routebind {

namespace {
// errno values stop at 4095 (Linux MAX_ERRNO); nothing outside 1..4095 may be negated blindly
// (INT_MIN has no negation) or handed to libuv as if it were one.
constexpr int kMaxErrno = 4095;
}  // namespace

// The name lives in a per-thread buffer until the next call on the same thread: uv_err_name()
// would strdup (and leak) a fresh string for every code libuv does not know, such as EBADMSG.
const char* ErrorCodeName(int error) {
  thread_local char name[64];
  if (error <= 0 || error > kMaxErrno) {
    std::snprintf(name, sizeof name, "Unknown system error %d", error);
    return name;
  }
  // On Unix libuv's error codes are the negated errno values.
  uv_err_name_r(-error, name, sizeof name);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  // libuv names only the errnos it uses; the C library knows the rest (EBADMSG for a malformed
  // netlink reply), which says more than "Unknown system error -74".
  if (std::strncmp(name, "Unknown", 7) == 0) {
    if (const char* known = strerrorname_np(error)) std::snprintf(name, sizeof name, "%s", known);
  }
#endif
  return name;
}

Napi::Error SystemError(Napi::Env env, const Status& status, const std::string& detail) {
  std::string code = ErrorCodeName(status.error);
  std::string message = std::string(status.syscall ? status.syscall : "routebind") + " " + code;
  if (!detail.empty()) message += " " + detail;
  Napi::Error error = Napi::Error::New(env, message);
  Napi::Object object = error.Value();
  // As a double: negating the int could overflow.
  object.Set("errno", Napi::Number::New(env, -static_cast<double>(status.error)));
  object.Set("code", Napi::String::New(env, code));
  object.Set("syscall", Napi::String::New(env, status.syscall ? status.syscall : "routebind"));
  return error;
}

}  // namespace routebind
