// The ancillary data of one received datagram: the address it was sent to and the interface it
// came in through (IP_PKTINFO, IPV6_PKTINFO; ip(7), ipv6(7), cmsg(3)). A pure parser over bytes.
#pragma once

#include <cstddef>
#include <cstdint>

namespace routebind {

struct PacketDestination {
  uint8_t version = 0;       // 4 or 6; 0 = the control data named no destination
  uint8_t address[16] = {};  // the header's destination (4 bytes used for IPv4)
  uint8_t local[4] = {};     // IPv4 only: ipi_spec_dst, the local address the kernel would answer from
  uint32_t ifindex = 0;      // the interface it arrived through
};

enum class ControlResult { kOk, kMalformed };

// Walks the control messages in control[0, length) and keeps the last IP_PKTINFO or IPV6_PKTINFO.
// Never reads past `length`: a header that runs past it, or a pktinfo shorter than its struct,
// is kMalformed.
ControlResult ParsePktinfoControl(const uint8_t* control, size_t length, PacketDestination* out);

}  // namespace routebind
