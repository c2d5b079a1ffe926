// rtnetlink(7) request builder; mirrors iproute2's iproute_get()/iplink attribute choices.
#include "netlink_request.h"

#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <net/if.h>
#include <sys/socket.h>

#include <cstring>

namespace routebind {

namespace {

// Appends to a fixed buffer and remembers whether anything failed to fit, so callers can build
// the whole message and check once.
class MessageWriter {
 public:
  MessageWriter(uint8_t* buf, size_t capacity) : buf_(buf), capacity_(capacity) {}

  void* Reserve(size_t len) {
    size_t aligned = NLMSG_ALIGN(len);
    if (overflow_ || aligned > capacity_ - used_) {
      overflow_ = true;
      return nullptr;
    }
    void* at = buf_ + used_;
    std::memset(at, 0, aligned);
    used_ += aligned;
    return at;
  }

  void Attribute(uint16_t type, const void* data, size_t len) {
    struct rtattr header;
    header.rta_type = type;
    header.rta_len = static_cast<uint16_t>(RTA_LENGTH(len));
    uint8_t* at = static_cast<uint8_t*>(Reserve(RTA_LENGTH(len)));
    if (at == nullptr) return;
    std::memcpy(at, &header, sizeof header);
    if (len > 0) std::memcpy(at + RTA_LENGTH(0), data, len);
  }

  void U32(uint16_t type, uint32_t value) { Attribute(type, &value, sizeof value); }

  size_t Finish() {
    if (overflow_ || used_ < sizeof(struct nlmsghdr)) return 0;
    uint32_t len = static_cast<uint32_t>(used_);
    std::memcpy(buf_, &len, sizeof len);  // nlmsg_len is the first field
    return used_;
  }

 private:
  uint8_t* buf_;
  size_t capacity_;
  size_t used_ = 0;
  bool overflow_ = false;
};

// ALTIFNAMSIZ from <linux/if.h>, which cannot be included next to <net/if.h>.
constexpr size_t kAltNameSize = 128;

uint8_t FamilyOf(uint8_t version) {
  return version == 4 ? AF_INET : version == 6 ? AF_INET6 : AF_UNSPEC;
}

void WriteHeader(MessageWriter* w, uint16_t type, uint16_t flags, uint32_t seq) {
  auto* header = static_cast<struct nlmsghdr*>(w->Reserve(sizeof(struct nlmsghdr)));
  if (header == nullptr) return;
  header->nlmsg_type = type;
  header->nlmsg_flags = flags;
  header->nlmsg_seq = seq;
}

}  // namespace

size_t BuildRouteGetRequest(const RouteQuery& q, uint32_t seq, uint8_t* buf, size_t capacity,
                            bool fib_match) {
  if (!q.destination.present()) return 0;
  MessageWriter w(buf, capacity);
  WriteHeader(&w, RTM_GETROUTE, NLM_F_REQUEST, seq);
  auto* rtm = static_cast<struct rtmsg*>(w.Reserve(sizeof(struct rtmsg)));
  if (rtm != nullptr) {
    rtm->rtm_family = FamilyOf(q.destination.version);
    rtm->rtm_dst_len = q.destination.version == 4 ? 32 : 128;
    rtm->rtm_src_len = q.from.present() ? rtm->rtm_dst_len : 0;
    rtm->rtm_tos = q.tos;
    // Ask for the table the answer came from, as `ip route get` does.
    rtm->rtm_flags = RTM_F_LOOKUP_TABLE | (fib_match ? RTM_F_FIB_MATCH : 0);
  }
  w.Attribute(RTA_DST, q.destination.bytes, q.destination.size());
  if (q.from.present()) w.Attribute(RTA_SRC, q.from.bytes, q.from.size());
  if (q.iif != 0) w.U32(RTA_IIF, q.iif);
  if (q.oif != 0) w.U32(RTA_OIF, q.oif);
  if (q.has_mark) w.U32(RTA_MARK, q.mark);
  if (q.has_uid) w.U32(RTA_UID, q.uid);
  if (q.ip_proto != 0) w.Attribute(RTA_IP_PROTO, &q.ip_proto, sizeof q.ip_proto);
  if (q.source_port != 0) {
    uint16_t be = htons(q.source_port);
    w.Attribute(RTA_SPORT, &be, sizeof be);
  }
  if (q.destination_port != 0) {
    uint16_t be = htons(q.destination_port);
    w.Attribute(RTA_DPORT, &be, sizeof be);
  }
  return w.Finish();
}

size_t BuildDumpRequest(uint16_t type, uint8_t version, uint32_t seq, uint8_t* buf,
                        size_t capacity) {
  MessageWriter w(buf, capacity);
  WriteHeader(&w, type, NLM_F_REQUEST | NLM_F_DUMP, seq);
  // Each dump takes its own family header, exactly sized: a longer one would be read as attributes.
  size_t header_len = type == RTM_GETLINK  ? sizeof(struct ifinfomsg)
                      : type == RTM_GETADDR ? sizeof(struct ifaddrmsg)
                                            : sizeof(struct rtmsg);
  auto* family = static_cast<uint8_t*>(w.Reserve(header_len));
  if (family != nullptr) *family = FamilyOf(version);  // the first byte of all three headers
  if (type == RTM_GETLINK) w.U32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
  return w.Finish();
}

size_t BuildLinkGetRequest(uint32_t index, const char* name, uint32_t seq, uint8_t* buf,
                           size_t capacity) {
  MessageWriter w(buf, capacity);
  WriteHeader(&w, RTM_GETLINK, NLM_F_REQUEST, seq);
  auto* ifi = static_cast<struct ifinfomsg*>(w.Reserve(sizeof(struct ifinfomsg)));
  if (ifi != nullptr) {
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = name == nullptr ? static_cast<int>(index) : 0;
  }
  if (name != nullptr) {
    size_t len = strnlen(name, kAltNameSize);
    if (len >= kAltNameSize) return 0;
    w.Attribute(len < IFNAMSIZ ? IFLA_IFNAME : IFLA_ALT_IFNAME, name, len + 1);
  }
  // Skip per-VF statistics: the reply stays small.
  w.U32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
  return w.Finish();
}

}  // namespace routebind
