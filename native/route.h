// OS-neutral description of what routebind asks the kernel and what it gets back: a route query,
// a route, a link and an address. Each OS backend (netlink, PF_ROUTE, iphlpapi) fills these.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace routebind {

// An IP address in network byte order. version 0 means "absent", so optional fields need no flag.
struct IpAddress {
  uint8_t version = 0;  // 0, 4 or 6
  uint8_t bytes[16] = {};

  bool present() const { return version != 0; }
  size_t size() const { return version == 4 ? 4 : version == 6 ? 16 : 0; }
};

// The inputs of `ip route get`, each optional (0 / absent means "not given").
struct RouteQuery {
  IpAddress destination;
  IpAddress from;
  uint32_t oif = 0;
  uint32_t iif = 0;
  bool has_mark = false;
  uint32_t mark = 0;
  bool has_uid = false;
  uint32_t uid = 0;
  uint8_t tos = 0;
  uint8_t ip_proto = 0;
  uint16_t source_port = 0;       // host byte order; 0 = not given
  uint16_t destination_port = 0;  // host byte order; 0 = not given
};

struct Nexthop {
  IpAddress gateway;
  uint32_t ifindex = 0;
  uint8_t weight = 1;  // the kernel's rtnh_hops + 1
  uint8_t flags = 0;
};

// One route as the kernel reports it, either as the answer to a lookup or as a table entry.
struct RouteInfo {
  uint8_t version = 0;
  uint8_t type = 0;      // RTN_* numbering (shared by Linux and the neutral API)
  uint8_t protocol = 0;  // RTPROT_*
  uint8_t scope = 0;     // RT_SCOPE_*
  uint8_t dst_len = 0;
  uint8_t src_len = 0;
  uint8_t tos = 0;
  uint32_t flags = 0;  // RTM_F_* / RTNH_F_*
  uint32_t table = 0;
  IpAddress destination;
  IpAddress source_prefix;  // RTA_SRC: source-specific routes and the "from" echoed by lookups
  IpAddress gateway;
  IpAddress preferred_source;  // RTA_PREFSRC
  uint32_t oif = 0;
  uint32_t iif = 0;
  bool has_priority = false;
  uint32_t priority = 0;  // the metric
  uint32_t mtu = 0;       // RTAX_MTU, 0 when the kernel does not say
  bool has_mark = false;
  uint32_t mark = 0;
  bool has_uid = false;
  uint32_t uid = 0;
  int pref = -1;  // IPv6 router preference (RTA_PREF), -1 when absent
  uint32_t expires = 0;  // seconds, from RTA_CACHEINFO; 0 = does not expire
  std::vector<Nexthop> nexthops;  // RTA_MULTIPATH
};

struct LinkInfo {
  uint32_t index = 0;
  uint32_t flags = 0;  // IFF_*
  uint16_t type = 0;   // ARPHRD_*
  uint32_t mtu = 0;
  uint8_t operstate = 0;
  uint32_t master = 0;
  std::string name;
  std::vector<std::string> altnames;  // IFLA_PROP_LIST / IFLA_ALT_IFNAME
  uint8_t mac[32] = {};
  size_t mac_len = 0;
  uint64_t luid = 0;  // Windows' NET_LUID of the interface; 0 elsewhere
};

struct AddressInfo {
  uint8_t version = 0;
  uint8_t prefix_len = 0;
  uint8_t scope = 0;
  uint32_t index = 0;
  uint32_t flags = 0;  // IFA_F_*, the 32-bit IFA_FLAGS when present
  IpAddress address;    // IFA_ADDRESS: the peer on point-to-point links
  IpAddress local;      // IFA_LOCAL: this host's own address (IPv4)
  IpAddress broadcast;  // IFA_BROADCAST
  std::string label;
  bool has_lifetimes = false;
  uint32_t valid_lifetime = 0;
  uint32_t preferred_lifetime = 0;
};

}  // namespace routebind
