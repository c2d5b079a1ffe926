// Windows' own exports: ipInterfaceSettings (GetIpInterfaceEntry: weak host send/receive,
// forwarding, interface metric) for `routebind doctor`, and underWine.
#include <napi.h>

#include "errors.h"
#include "iphlp.h"
#include "platform.h"

namespace routebind {

const char kPlatformName[] = "win32";

namespace {

// ipInterfaceSettings(index, version) → { weakHostSend, weakHostReceive, forwarding, metric }
Napi::Value IpInterfaceSettings(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  double index = info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : -1;
  if (!(index >= 1 && index <= 0x7fffffff) || index != static_cast<double>(static_cast<uint32_t>(index))) {
    throw TypedError(env, "RangeError", "ERR_OUT_OF_RANGE", "The \"index\" argument must be an interface index");
  }
  int version = info[1].IsNumber() ? info[1].As<Napi::Number>().Int32Value() : 0;
  if (version != 4 && version != 6) {
    throw TypedError(env, "TypeError", "ERR_INVALID_ARG_VALUE", "The \"version\" argument must be 4 or 6");
  }
  // Wine's GetIpInterfaceEntry (and InitializeIpInterfaceEntry) end the process: refuse first.
  if (win::UnderWine()) {
    Status s = win::Win32Status(ERROR_NOT_SUPPORTED, "GetIpInterfaceEntry");
    s.detail = "(Wine does not implement it)";
    throw SystemError(env, s);
  }
  MIB_IPINTERFACE_ROW row;
  InitializeIpInterfaceEntry(&row);
  row.Family = version == 4 ? AF_INET : AF_INET6;
  row.InterfaceIndex = static_cast<NET_IFINDEX>(index);
  DWORD err = GetIpInterfaceEntry(&row);
  if (err != NO_ERROR) throw SystemError(env, win::Win32Status(err, "GetIpInterfaceEntry", win::Lookup::kInterface));
  Napi::Object out = Napi::Object::New(env);
  out.Set("weakHostSend", Napi::Boolean::New(env, row.WeakHostSend != FALSE));
  out.Set("weakHostReceive", Napi::Boolean::New(env, row.WeakHostReceive != FALSE));
  out.Set("forwarding", Napi::Boolean::New(env, row.ForwardingEnabled != FALSE));
  out.Set("metric", Napi::Number::New(env, row.Metric));
  return out;
}

}  // namespace

void InitPlatform(Napi::Env env, Napi::Object exports) {
  exports.Set("ipInterfaceSettings", Napi::Function::New(env, IpInterfaceSettings, "ipInterfaceSettings"));
  exports.Set("underWine", Napi::Boolean::New(env, win::UnderWine()));
}

}  // namespace routebind
