// Pure parser for rtnetlink(7) replies: bytes in, structs out, no syscalls, so unit tests and a
// fuzzer can drive it with captured or hostile input. Every length is checked before it is read.
#pragma once

#include <cstddef>
#include <cstdint>

#include "route.h"

namespace routebind {

struct NetlinkMessage {
  uint16_t type = 0;
  uint16_t flags = 0;
  uint32_t seq = 0;
  uint32_t pid = 0;
  const uint8_t* payload = nullptr;
  size_t payload_len = 0;
};

// Walks the messages of one recv() buffer. Next() yields messages until the buffer ends; a header
// whose length is shorter than a header or runs past the buffer makes the whole buffer malformed.
class NetlinkMessageReader {
 public:
  NetlinkMessageReader(const uint8_t* data, size_t len) : data_(data), len_(len) {}

  enum Result { kMessage, kEnd, kMalformed };
  Result Next(NetlinkMessage* out);

 private:
  const uint8_t* data_;
  size_t len_;
  size_t offset_ = 0;
};

// NLMSG_ERROR: *error receives the positive errno (1..4095), or 0 for an acknowledgement; any
// other value makes the message invalid.
bool ParseErrorMessage(const NetlinkMessage& msg, int* error);
// NLMSG_DONE of a dump may carry an error of its own (negative int); 0 when it does not, EBADMSG
// when the value is no errno.
int ParseDoneError(const NetlinkMessage& msg);

bool ParseRouteMessage(const NetlinkMessage& msg, RouteInfo* out);
bool ParseLinkMessage(const NetlinkMessage& msg, LinkInfo* out);
bool ParseAddressMessage(const NetlinkMessage& msg, AddressInfo* out);

}  // namespace routebind
