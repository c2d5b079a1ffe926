// Registers the wildcard UDP server's own receive and send path (udp_pktinfo.cc).
#pragma once

#include <napi.h>

namespace routebind {

void InitUdpPktinfo(Napi::Env env, Napi::Object exports);

}  // namespace routebind
