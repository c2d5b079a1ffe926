// Linux's own exports: the POSIX socket hand-off (native/posix/sockets.cc) and the netlink
// parser's test and fuzz entry (parseNetlink), which runs the pure parser over bytes from JS, and
// the wildcard UDP server's pktinfo path (udp_pktinfo.cc).
#include <napi.h>

#include "errors.h"
#include "js_objects.h"
#include "netlink_parser.h"
#include "platform.h"
#include "sockets.h"
#include "udp_pktinfo.h"

namespace routebind {

const char kPlatformName[] = "linux";

namespace {

// Test and fuzz entry: runs the parser over bytes from JS, with no kernel involved.
Napi::Value ParseNetlink(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray() ||
      info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throw TypedError(env, "TypeError", "ERR_INVALID_ARG_TYPE", "expected a Uint8Array");
  }
  Napi::Uint8Array bytes = info[0].As<Napi::Uint8Array>();
  NetlinkMessageReader reader(bytes.Data(), bytes.ByteLength());
  Napi::Array out = Napi::Array::New(env);
  NetlinkMessage msg;
  uint32_t n = 0;
  for (;;) {
    NetlinkMessageReader::Result r = reader.Next(&msg);
    if (r == NetlinkMessageReader::kEnd) break;
    if (r == NetlinkMessageReader::kMalformed) {
      throw TypedError(env, "TypeError", "ERR_NETLINK_MALFORMED",
                       "netlink message header runs past the buffer");
    }
    Napi::Object o = Napi::Object::New(env);
    o.Set("type", msg.type);
    o.Set("flags", msg.flags);
    o.Set("seq", msg.seq);
    RouteInfo route;
    LinkInfo link;
    AddressInfo address;
    int error = 0;
    if (ParseRouteMessage(msg, &route)) {
      o.Set("route", RouteObject(env, nullptr, route));
    } else if (ParseLinkMessage(msg, &link)) {
      o.Set("link", LinkObject(env, link));
    } else if (ParseAddressMessage(msg, &address)) {
      o.Set("address", AddressObject(env, address));
    } else if (ParseErrorMessage(msg, &error)) {
      o.Set("error", error);
    } else {
      o.Set("invalid", true);
    }
    out.Set(n++, o);
  }
  return out;
}

}  // namespace

void InitPlatform(Napi::Env env, Napi::Object exports) {
  exports.Set("parseNetlink", Napi::Function::New(env, ParseNetlink, "parseNetlink"));
  InitSockets(env, exports);
  InitUdpPktinfo(env, exports);
}

}  // namespace routebind
