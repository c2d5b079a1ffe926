// Parses a datagram's IP_PKTINFO / IPV6_PKTINFO control messages (cmsg(3), ip(7), ipv6(7)) from
// bytes alone, with its own bounds checks rather than CMSG_NXTHDR, so tests can feed it anything.
#include "pktinfo_control.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

namespace routebind {

ControlResult ParsePktinfoControl(const uint8_t* control, size_t length, PacketDestination* out) {
  *out = PacketDestination();
  const size_t header = CMSG_LEN(0);  // the aligned header; data starts here
  size_t offset = 0;
  while (length - offset >= sizeof(struct cmsghdr)) {
    struct cmsghdr h;
    std::memcpy(&h, control + offset, sizeof h);
    if (h.cmsg_len < header || h.cmsg_len > length - offset) return ControlResult::kMalformed;
    const uint8_t* data = control + offset + header;
    const size_t size = h.cmsg_len - header;
    if (h.cmsg_level == IPPROTO_IP && h.cmsg_type == IP_PKTINFO) {
      struct in_pktinfo p;
      if (size < sizeof p) return ControlResult::kMalformed;
      std::memcpy(&p, data, sizeof p);
      out->version = 4;
      std::memset(out->address, 0, sizeof out->address);
      std::memcpy(out->address, &p.ipi_addr, 4);
      std::memcpy(out->local, &p.ipi_spec_dst, 4);
      out->ifindex = p.ipi_ifindex > 0 ? static_cast<uint32_t>(p.ipi_ifindex) : 0;
    } else if (h.cmsg_level == IPPROTO_IPV6 && h.cmsg_type == IPV6_PKTINFO) {
      struct in6_pktinfo p;
      if (size < sizeof p) return ControlResult::kMalformed;
      std::memcpy(&p, data, sizeof p);
      out->version = 6;
      std::memcpy(out->address, &p.ipi6_addr, 16);
      std::memset(out->local, 0, sizeof out->local);
      out->ifindex = p.ipi6_ifindex;
    }
    const size_t step = CMSG_ALIGN(h.cmsg_len);
    if (step >= length - offset) break;  // the last message (its padding may be cut off)
    offset += step;
  }
  return ControlResult::kOk;
}

}  // namespace routebind
