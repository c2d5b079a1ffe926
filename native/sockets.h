// Creating sockets whose source address and egress interface agree, handed to Node as an fd.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>

#include "route.h"

namespace routebind {

struct SocketSpec {
  uint8_t version = 4;
  bool stream = true;            // TCP, else UDP
  IpAddress address;             // the source to bind; absent = the wildcard
  uint32_t scope_id = 0;         // IPv6 link-local zone
  uint16_t port = 0;
  uint32_t ifindex = 0;          // the interface to pin to; 0 = no pinning
  std::string ifname;            // its name, for kernels without SO_BINDTOIFINDEX
  bool strict = false;           // refuse rather than fall back when pinning is not allowed
  bool has_mark = false;
  uint32_t mark = 0;
  bool reuse_address = false;
  bool reuse_port = false;
  bool bind_address_no_port = false;  // TCP clients: pick the port at connect(), not at bind()
  int v6only = -1;               // -1 = leave the kernel default
  bool bind = true;              // false: a placeholder to be replaced by adoptSocket
};

struct SocketResult {
  int fd = -1;
  bool pinned = false;
  int pin_error = 0;  // why pinning was skipped (EPERM...) when not strict
};

// Registers createSocket / closeSocket on the addon's exports.
void InitSockets(Napi::Env env, Napi::Object exports);

}  // namespace routebind
