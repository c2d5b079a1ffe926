// errno → Node-style error objects for Linux and macOS (libuv's names, so codes match Node's).
#include <uv.h>

#include "errors.h"

namespace routebind {

const char* ErrorCodeName(int error) {
  // On Unix libuv's error codes are the negated errno values.
  return uv_err_name(-error);
}

Napi::Error SystemError(Napi::Env env, const Status& status, const std::string& detail) {
  const char* code = ErrorCodeName(status.error);
  std::string message = std::string(status.syscall ? status.syscall : "routebind") + " " + code;
  if (!detail.empty()) message += " " + detail;
  Napi::Error error = Napi::Error::New(env, message);
  Napi::Object object = error.Value();
  object.Set("errno", Napi::Number::New(env, -status.error));
  object.Set("code", Napi::String::New(env, code));
  object.Set("syscall", Napi::String::New(env, status.syscall ? status.syscall : "routebind"));
  return error;
}

Napi::Error TypedError(Napi::Env env, const char* js_class, const char* code,
                       const std::string& message) {
  Napi::Error error = std::string(js_class) == "RangeError"
                          ? static_cast<Napi::Error>(Napi::RangeError::New(env, message))
                          : static_cast<Napi::Error>(Napi::TypeError::New(env, message));
  error.Value().Set("code", Napi::String::New(env, code));
  return error;
}

}  // namespace routebind
