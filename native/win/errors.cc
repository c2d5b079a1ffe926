// Win32 errors → Node-style error objects on Windows: the code and errno Node itself would give
// (libuv's UV_E* numbers, as in Node's own errors there), the Win32 name in the message.
#include <errno.h>
#include <uv.h>

#include <cstdio>
#include <string>

#include "errors.h"
#include "iphlp.h"

namespace routebind {

namespace {

// Status.error holds the C runtime's errno value (so OS-neutral code can compare it with
// ENODEV, EINVAL...); JS gets libuv's number for the same name, which is what `errno` holds in
// Node's own errors on Windows (ENETUNREACH is -4062 there, not -118).
struct ErrnoName {
  int error;
  int uv;
  const char* name;
};

constexpr ErrnoName kErrnos[] = {
    {EACCES, UV_EACCES, "EACCES"},
    {EADDRINUSE, UV_EADDRINUSE, "EADDRINUSE"},
    {EADDRNOTAVAIL, UV_EADDRNOTAVAIL, "EADDRNOTAVAIL"},
    {EAFNOSUPPORT, UV_EAFNOSUPPORT, "EAFNOSUPPORT"},
    {EAGAIN, UV_EAGAIN, "EAGAIN"},
    {EBADF, UV_EBADF, "EBADF"},
    {EEXIST, UV_EEXIST, "EEXIST"},
    {EHOSTUNREACH, UV_EHOSTUNREACH, "EHOSTUNREACH"},
    {EINVAL, UV_EINVAL, "EINVAL"},
    {EINTR, UV_EINTR, "EINTR"},
    {EIO, UV_EIO, "EIO"},
    {ENETUNREACH, UV_ENETUNREACH, "ENETUNREACH"},
    {ENOBUFS, UV_ENOBUFS, "ENOBUFS"},
    {ENODATA, UV_ENODATA, "ENODATA"},
    {ENODEV, UV_ENODEV, "ENODEV"},
    {ENOENT, UV_ENOENT, "ENOENT"},
    {ENOMEM, UV_ENOMEM, "ENOMEM"},
    {ENOSYS, UV_ENOSYS, "ENOSYS"},
    {ENOTSUP, UV_ENOTSUP, "ENOTSUP"},
    {EPERM, UV_EPERM, "EPERM"},
    {ETIMEDOUT, UV_ETIMEDOUT, "ETIMEDOUT"},
};

// watch.cc reports libuv failures as Status::Fail(-uv_error): on Windows those are -4095..-3000,
// far from any errno value.
const ErrnoName* Find(int error) {
  for (const ErrnoName& e : kErrnos) {
    if (e.error == error || -e.uv == error) return &e;
  }
  return nullptr;
}

struct Win32Name {
  unsigned long code;
  const char* name;
};

constexpr Win32Name kWin32Names[] = {
    {ERROR_INVALID_FUNCTION, "ERROR_INVALID_FUNCTION"},
    {ERROR_FILE_NOT_FOUND, "ERROR_FILE_NOT_FOUND"},
    {ERROR_ACCESS_DENIED, "ERROR_ACCESS_DENIED"},
    {ERROR_INVALID_HANDLE, "ERROR_INVALID_HANDLE"},
    {ERROR_NOT_ENOUGH_MEMORY, "ERROR_NOT_ENOUGH_MEMORY"},
    {ERROR_OUTOFMEMORY, "ERROR_OUTOFMEMORY"},
    {ERROR_NOT_SUPPORTED, "ERROR_NOT_SUPPORTED"},
    {ERROR_INVALID_PARAMETER, "ERROR_INVALID_PARAMETER"},
    {ERROR_BUFFER_OVERFLOW, "ERROR_BUFFER_OVERFLOW"},
    {ERROR_CALL_NOT_IMPLEMENTED, "ERROR_CALL_NOT_IMPLEMENTED"},
    {ERROR_INSUFFICIENT_BUFFER, "ERROR_INSUFFICIENT_BUFFER"},
    {ERROR_NO_DATA, "ERROR_NO_DATA"},
    {ERROR_CANCELLED, "ERROR_CANCELLED"},
    {ERROR_ADDRESS_NOT_ASSOCIATED, "ERROR_ADDRESS_NOT_ASSOCIATED"},
    {ERROR_NETWORK_UNREACHABLE, "ERROR_NETWORK_UNREACHABLE"},
    {ERROR_HOST_UNREACHABLE, "ERROR_HOST_UNREACHABLE"},
    {ERROR_NOT_FOUND, "ERROR_NOT_FOUND"},
};

int ErrnoFromWin32(unsigned long code, win::Lookup what) {
  switch (code) {
    case ERROR_NOT_FOUND:
      return what == win::Lookup::kRoute ? ENETUNREACH : what == win::Lookup::kInterface ? ENODEV : ENOENT;
    case ERROR_FILE_NOT_FOUND:
      return what == win::Lookup::kInterface ? ENODEV : ENOENT;
    case ERROR_NETWORK_UNREACHABLE: return ENETUNREACH;
    case ERROR_HOST_UNREACHABLE: return EHOSTUNREACH;
    case ERROR_NOT_SUPPORTED:
    case ERROR_CALL_NOT_IMPLEMENTED:
    case ERROR_INVALID_FUNCTION: return ENOTSUP;
    case ERROR_INVALID_PARAMETER: return EINVAL;
    case ERROR_ACCESS_DENIED: return EACCES;
    case ERROR_NO_DATA: return ENODATA;
    case ERROR_BUFFER_OVERFLOW:
    case ERROR_INSUFFICIENT_BUFFER:
    case ERROR_NOT_ENOUGH_MEMORY:
    case ERROR_OUTOFMEMORY: return ENOMEM;
    case ERROR_ADDRESS_NOT_ASSOCIATED: return EADDRNOTAVAIL;
    case ERROR_INVALID_HANDLE: return EBADF;
    case ERROR_CANCELLED: return EINTR;
    default: return EIO;
  }
}

}  // namespace

namespace win {

const char* Win32ErrorName(unsigned long code) {
  for (const Win32Name& w : kWin32Names) {
    if (w.code == code) return w.name;
  }
  return nullptr;
}

Status Win32Status(unsigned long code, const char* syscall, Lookup what, const char* detail) {
  Status s = Status::Fail(ErrnoFromWin32(code, what), syscall);
  s.win32 = code;
  s.detail = detail;
  return s;
}

}  // namespace win

const char* ErrorCodeName(int error) {
  if (const ErrnoName* known = Find(error)) return known->name;
  thread_local char name[64];
  std::snprintf(name, sizeof name, "Unknown system error %d", error);
  return name;
}

// "GetBestRoute2 ENETUNREACH (ERROR_NOT_FOUND) <detail>": the Node-style code first, so the
// message reads like Node's own, then the Win32 error it came from, for a search or a bug report.
Napi::Error SystemError(Napi::Env env, const Status& status, const std::string& detail) {
  std::string code = ErrorCodeName(status.error);
  const char* syscall = status.syscall ? status.syscall : "routebind";
  std::string message = std::string(syscall) + " " + code;
  if (status.win32 != 0) {
    const char* win32 = win::Win32ErrorName(status.win32);
    message += win32 ? std::string(" (") + win32 + ")"
                     : " (Win32 error " + std::to_string(status.win32) + ")";
  }
  if (status.detail != nullptr) message += std::string(" ") + status.detail;
  if (!detail.empty()) message += " " + detail;
  Napi::Error error = Napi::Error::New(env, message);
  Napi::Object object = error.Value();
  const ErrnoName* known = Find(status.error);
  object.Set("errno", Napi::Number::New(env, known ? known->uv : -static_cast<double>(status.error)));
  object.Set("code", Napi::String::New(env, code));
  object.Set("syscall", Napi::String::New(env, syscall));
  return error;
}

}  // namespace routebind
