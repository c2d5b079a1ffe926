// rtnetlink(7) reply parser. Works on copies of fixed-size headers (memcpy) because a recv() buffer
// gives no alignment guarantee a fuzzer or a test would honour.
#include "netlink_parser.h"

#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace routebind {

namespace {

constexpr size_t Align4(size_t n) { return (n + 3) & ~static_cast<size_t>(3); }

// One attribute: its type (nesting and byte-order bits stripped) and its payload.
struct Attribute {
  uint16_t type;
  const uint8_t* data;
  size_t len;
};

// Iterates rtattr/nlattr records; a record that claims more bytes than remain ends the walk and
// marks the block malformed.
class AttributeReader {
 public:
  AttributeReader(const uint8_t* data, size_t len) : data_(data), len_(len) {}

  bool Next(Attribute* out) {
    // Fewer bytes than a header can only be alignment padding.
    if (len_ - offset_ < sizeof(struct rtattr)) return false;
    struct rtattr header;
    std::memcpy(&header, data_ + offset_, sizeof header);
    if (header.rta_len < sizeof header || header.rta_len > len_ - offset_) {
      malformed_ = true;
      return false;
    }
    out->type = header.rta_type & NLA_TYPE_MASK;
    out->data = data_ + offset_ + sizeof header;
    out->len = header.rta_len - sizeof header;
    size_t step = Align4(header.rta_len);
    offset_ = step > len_ - offset_ ? len_ : offset_ + step;
    return true;
  }

  bool malformed() const { return malformed_; }

 private:
  const uint8_t* data_;
  size_t len_;
  size_t offset_ = 0;
  bool malformed_ = false;
};

// The attributes that follow a message's fixed header (rtmsg, ifinfomsg, ifaddrmsg).
AttributeReader AttributesAfter(const NetlinkMessage& msg, size_t fixed_header) {
  size_t header = NLMSG_ALIGN(fixed_header);
  if (header > msg.payload_len) header = msg.payload_len;
  return AttributeReader(msg.payload + header, msg.payload_len - header);
}

bool ReadU32(const Attribute& a, uint32_t* out) {
  if (a.len < sizeof(uint32_t)) return false;
  std::memcpy(out, a.data, sizeof(uint32_t));
  return true;
}

bool ReadU8(const Attribute& a, uint8_t* out) {
  if (a.len < 1) return false;
  *out = a.data[0];
  return true;
}

// Takes the family at its full width: RTA_VIA carries it as 16 bits, and 0x0102 is not AF_INET.
uint8_t VersionOf(unsigned family) {
  return family == AF_INET ? 4 : family == AF_INET6 ? 6 : 0;
}

// An address attribute must be exactly the size of its family; anything else is rejected rather
// than truncated or over-read.
bool ReadAddress(const Attribute& a, uint8_t version, IpAddress* out) {
  size_t want = version == 4 ? 4 : version == 6 ? 16 : 0;
  if (want == 0 || a.len != want) return false;
  out->version = version;
  std::memcpy(out->bytes, a.data, want);
  return true;
}

// RTA_VIA: a gateway of another family (IPv4 routes via an IPv6 next hop).
bool ReadVia(const Attribute& a, IpAddress* out) {
  if (a.len < sizeof(uint16_t)) return false;
  uint16_t family;
  std::memcpy(&family, a.data, sizeof family);
  Attribute inner{0, a.data + sizeof family, a.len - sizeof family};
  return ReadAddress(inner, VersionOf(family), out);
}

bool ReadMetrics(const Attribute& a, RouteInfo* out) {
  AttributeReader reader(a.data, a.len);
  Attribute m;
  while (reader.Next(&m)) {
    if (m.type == RTAX_MTU && !ReadU32(m, &out->mtu)) return false;
  }
  return !reader.malformed();
}

bool ReadMultipath(const Attribute& a, uint8_t version, RouteInfo* out) {
  size_t offset = 0;
  while (a.len - offset >= sizeof(struct rtnexthop)) {
    struct rtnexthop nh;
    std::memcpy(&nh, a.data + offset, sizeof nh);
    if (nh.rtnh_len < sizeof nh || nh.rtnh_len > a.len - offset) return false;
    Nexthop hop;
    hop.ifindex = nh.rtnh_ifindex > 0 ? static_cast<uint32_t>(nh.rtnh_ifindex) : 0;
    hop.weight = static_cast<uint8_t>(nh.rtnh_hops + 1);
    hop.flags = nh.rtnh_flags;
    AttributeReader reader(a.data + offset + sizeof nh, nh.rtnh_len - sizeof nh);
    Attribute attr;
    while (reader.Next(&attr)) {
      if (attr.type == RTA_GATEWAY && !ReadAddress(attr, version, &hop.gateway)) return false;
      if (attr.type == RTA_VIA && !ReadVia(attr, &hop.gateway)) return false;
    }
    if (reader.malformed()) return false;
    out->nexthops.push_back(hop);
    size_t step = Align4(nh.rtnh_len);
    offset = step > a.len - offset ? a.len : offset + step;
  }
  return true;
}

}  // namespace

NetlinkMessageReader::Result NetlinkMessageReader::Next(NetlinkMessage* out) {
  if (offset_ >= len_) return kEnd;
  if (len_ - offset_ < sizeof(struct nlmsghdr)) return kMalformed;
  struct nlmsghdr header;
  std::memcpy(&header, data_ + offset_, sizeof header);
  if (header.nlmsg_len < sizeof header || header.nlmsg_len > len_ - offset_) return kMalformed;
  out->type = header.nlmsg_type;
  out->flags = header.nlmsg_flags;
  out->seq = header.nlmsg_seq;
  out->pid = header.nlmsg_pid;
  out->payload = data_ + offset_ + sizeof header;
  out->payload_len = header.nlmsg_len - sizeof header;
  size_t step = Align4(header.nlmsg_len);
  offset_ = step > len_ - offset_ ? len_ : offset_ + step;
  return kMessage;
}

// The kernel reports errors as -errno, and errno values stop at 4095 (MAX_ERRNO in
// include/linux/err.h). Anything below that is not an errno, and negating INT_MIN is undefined.
constexpr int kMaxErrno = 4095;

bool ParseErrorMessage(const NetlinkMessage& msg, int* error) {
  if (msg.type != NLMSG_ERROR || msg.payload_len < sizeof(int)) return false;
  int value;
  std::memcpy(&value, msg.payload, sizeof value);
  // A positive value is nonsense and must not become a success; below -MAX_ERRNO is not an errno.
  if (value > 0 || value < -kMaxErrno) return false;
  *error = -value;
  return true;
}

int ParseDoneError(const NetlinkMessage& msg) {
  if (msg.type != NLMSG_DONE || msg.payload_len < sizeof(int)) return 0;
  int value;
  std::memcpy(&value, msg.payload, sizeof value);
  if (value >= 0) return 0;
  return value < -kMaxErrno ? EBADMSG : -value;
}

bool ParseRouteMessage(const NetlinkMessage& msg, RouteInfo* out) {
  if (msg.type != RTM_NEWROUTE && msg.type != RTM_DELROUTE) return false;
  if (msg.payload_len < sizeof(struct rtmsg)) return false;
  struct rtmsg rtm;
  std::memcpy(&rtm, msg.payload, sizeof rtm);
  uint8_t version = VersionOf(rtm.rtm_family);
  if (version == 0) return false;
  size_t max_len = version == 4 ? 32 : 128;
  if (rtm.rtm_dst_len > max_len || rtm.rtm_src_len > max_len) return false;

  *out = RouteInfo();
  out->version = version;
  out->type = rtm.rtm_type;
  out->protocol = rtm.rtm_protocol;
  out->scope = rtm.rtm_scope;
  out->dst_len = rtm.rtm_dst_len;
  out->src_len = rtm.rtm_src_len;
  out->tos = rtm.rtm_tos;
  out->flags = rtm.rtm_flags;
  out->table = rtm.rtm_table;

  AttributeReader reader = AttributesAfter(msg, sizeof(struct rtmsg));
  Attribute a;
  while (reader.Next(&a)) {
    bool ok = true;
    switch (a.type) {
      case RTA_TABLE: ok = ReadU32(a, &out->table); break;
      case RTA_DST: ok = ReadAddress(a, version, &out->destination); break;
      case RTA_SRC: ok = ReadAddress(a, version, &out->source_prefix); break;
      case RTA_GATEWAY: ok = ReadAddress(a, version, &out->gateway); break;
      case RTA_VIA: ok = ReadVia(a, &out->gateway); break;
      case RTA_PREFSRC: ok = ReadAddress(a, version, &out->preferred_source); break;
      case RTA_OIF: ok = ReadU32(a, &out->oif); break;
      case RTA_IIF: ok = ReadU32(a, &out->iif); break;
      case RTA_PRIORITY: ok = out->has_priority = ReadU32(a, &out->priority); break;
      case RTA_MARK: ok = out->has_mark = ReadU32(a, &out->mark); break;
      case RTA_UID: ok = out->has_uid = ReadU32(a, &out->uid); break;
      case RTA_METRICS: ok = ReadMetrics(a, out); break;
      case RTA_MULTIPATH: ok = ReadMultipath(a, version, out); break;
      case RTA_PREF: {
        uint8_t pref;
        ok = ReadU8(a, &pref);
        if (ok) out->pref = pref;
        break;
      }
      case RTA_CACHEINFO: {
        struct rta_cacheinfo ci;
        if (a.len < sizeof ci) { ok = false; break; }
        std::memcpy(&ci, a.data, sizeof ci);
        out->expires = ci.rta_expires > 0 ? static_cast<uint32_t>(ci.rta_expires) / 100 : 0;
        break;
      }
      default: break;  // attributes this version does not know are skipped, as the ABI intends
    }
    if (!ok) return false;
  }
  return !reader.malformed();
}

bool ParseLinkMessage(const NetlinkMessage& msg, LinkInfo* out) {
  if (msg.type != RTM_NEWLINK && msg.type != RTM_DELLINK) return false;
  if (msg.payload_len < sizeof(struct ifinfomsg)) return false;
  struct ifinfomsg ifi;
  std::memcpy(&ifi, msg.payload, sizeof ifi);
  if (ifi.ifi_index <= 0) return false;

  *out = LinkInfo();
  out->index = static_cast<uint32_t>(ifi.ifi_index);
  out->flags = ifi.ifi_flags;
  out->type = ifi.ifi_type;

  AttributeReader reader = AttributesAfter(msg, sizeof(struct ifinfomsg));
  Attribute a;
  while (reader.Next(&a)) {
    bool ok = true;
    switch (a.type) {
      case IFLA_IFNAME: {
        // A name is NUL-terminated inside its attribute; never trust the terminator to exist, and
        // treat a missing one as a truncated attribute.
        size_t n = strnlen(reinterpret_cast<const char*>(a.data), a.len);
        if (n == 0 || n >= 16 || n == a.len) { ok = false; break; }
        out->name.assign(reinterpret_cast<const char*>(a.data), n);
        break;
      }
      case IFLA_PROP_LIST: {
        // Alternative names (`ip link property add … altname`), each NUL-terminated like IFLA_IFNAME
        // but up to ALTIFNAMSIZ (128) bytes long.
        AttributeReader names(a.data, a.len);
        Attribute name;
        while (ok && names.Next(&name)) {
          if (name.type != IFLA_ALT_IFNAME) continue;
          size_t n = strnlen(reinterpret_cast<const char*>(name.data), name.len);
          if (n == 0 || n >= 128 || n == name.len) { ok = false; break; }
          out->altnames.emplace_back(reinterpret_cast<const char*>(name.data), n);
        }
        if (names.malformed()) ok = false;
        break;
      }
      case IFLA_MTU: ok = ReadU32(a, &out->mtu); break;
      case IFLA_MASTER: ok = ReadU32(a, &out->master); break;
      case IFLA_OPERSTATE: ok = ReadU8(a, &out->operstate); break;
      case IFLA_ADDRESS:
        if (a.len > sizeof out->mac) { ok = false; break; }
        std::memcpy(out->mac, a.data, a.len);
        out->mac_len = a.len;
        break;
      default: break;
    }
    if (!ok) return false;
  }
  return !reader.malformed() && !out->name.empty();
}

bool ParseAddressMessage(const NetlinkMessage& msg, AddressInfo* out) {
  if (msg.type != RTM_NEWADDR && msg.type != RTM_DELADDR) return false;
  if (msg.payload_len < sizeof(struct ifaddrmsg)) return false;
  struct ifaddrmsg ifa;
  std::memcpy(&ifa, msg.payload, sizeof ifa);
  uint8_t version = VersionOf(ifa.ifa_family);
  if (version == 0) return false;
  if (ifa.ifa_prefixlen > (version == 4 ? 32 : 128)) return false;

  *out = AddressInfo();
  out->version = version;
  out->prefix_len = ifa.ifa_prefixlen;
  out->scope = ifa.ifa_scope;
  out->index = ifa.ifa_index;
  out->flags = ifa.ifa_flags;

  AttributeReader reader = AttributesAfter(msg, sizeof(struct ifaddrmsg));
  Attribute a;
  while (reader.Next(&a)) {
    bool ok = true;
    switch (a.type) {
      case IFA_ADDRESS: ok = ReadAddress(a, version, &out->address); break;
      case IFA_LOCAL: ok = ReadAddress(a, version, &out->local); break;
      case IFA_BROADCAST: ok = ReadAddress(a, version, &out->broadcast); break;
      case IFA_FLAGS: ok = ReadU32(a, &out->flags); break;
      case IFA_LABEL: {
        size_t n = strnlen(reinterpret_cast<const char*>(a.data), a.len);
        out->label.assign(reinterpret_cast<const char*>(a.data), n);
        break;
      }
      case IFA_CACHEINFO: {
        struct ifa_cacheinfo ci;
        if (a.len < sizeof ci) { ok = false; break; }
        std::memcpy(&ci, a.data, sizeof ci);
        out->has_lifetimes = true;
        out->valid_lifetime = ci.ifa_valid;
        out->preferred_lifetime = ci.ifa_prefered;
        break;
      }
      default: break;
    }
    if (!ok) return false;
  }
  return !reader.malformed() && (out->address.present() || out->local.present());
}

}  // namespace routebind
