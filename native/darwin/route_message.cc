// Pure parser and request builder for PF_ROUTE messages (route(4), <net/route.h>): bytes in,
// routebind's RouteInfo / LinkInfo / AddressInfo out, no system calls, so Linux tests and the
// fuzzer drive it. On macOS the static_asserts below tie every layout constant to the SDK.
#include "route_message.h"

#include <cstring>

#if defined(__APPLE__)
#include <net/if.h>
#include <net/if_dl.h>
#include <net/route.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#endif

namespace routebind {

#if defined(__APPLE__)
namespace pf = pfroute;
static_assert(pf::kAfUnspec == AF_UNSPEC && pf::kAfInet == AF_INET && pf::kAfLink == AF_LINK &&
              pf::kAfInet6 == AF_INET6, "address families");
static_assert(pf::kRtmVersion == RTM_VERSION, "RTM_VERSION");
static_assert(pf::kRtmAdd == RTM_ADD && pf::kRtmDelete == RTM_DELETE &&
              pf::kRtmChange == RTM_CHANGE && pf::kRtmGet == RTM_GET &&
              pf::kRtmLosing == RTM_LOSING && pf::kRtmRedirect == RTM_REDIRECT &&
              pf::kRtmMiss == RTM_MISS && pf::kRtmNewAddr == RTM_NEWADDR &&
              pf::kRtmDelAddr == RTM_DELADDR && pf::kRtmIfInfo == RTM_IFINFO &&
              pf::kRtmNewMaddr == RTM_NEWMADDR && pf::kRtmDelMaddr == RTM_DELMADDR,
              "RTM_* message types");
static_assert(pf::kRtfUp == RTF_UP && pf::kRtfGateway == RTF_GATEWAY && pf::kRtfHost == RTF_HOST &&
              pf::kRtfReject == RTF_REJECT && pf::kRtfDynamic == RTF_DYNAMIC &&
              pf::kRtfStatic == RTF_STATIC && pf::kRtfBlackhole == RTF_BLACKHOLE &&
              pf::kRtfLlinfo == RTF_LLINFO && pf::kRtfWasCloned == RTF_WASCLONED &&
              pf::kRtfLocal == RTF_LOCAL && pf::kRtfBroadcast == RTF_BROADCAST &&
              pf::kRtfMulticast == RTF_MULTICAST && pf::kRtfIfScope == RTF_IFSCOPE,
              "RTF_* route flags");
static_assert(pf::kRtaDst == RTA_DST && pf::kRtaGateway == RTA_GATEWAY &&
              pf::kRtaNetmask == RTA_NETMASK && pf::kRtaGenmask == RTA_GENMASK &&
              pf::kRtaIfp == RTA_IFP && pf::kRtaIfa == RTA_IFA && pf::kRtaAuthor == RTA_AUTHOR &&
              pf::kRtaBrd == RTA_BRD, "RTA_* address bits");
static_assert(pf::kRtaxDst == RTAX_DST && pf::kRtaxGateway == RTAX_GATEWAY &&
              pf::kRtaxNetmask == RTAX_NETMASK && pf::kRtaxGenmask == RTAX_GENMASK &&
              pf::kRtaxIfp == RTAX_IFP && pf::kRtaxIfa == RTAX_IFA &&
              pf::kRtaxAuthor == RTAX_AUTHOR && pf::kRtaxBrd == RTAX_BRD &&
              pf::kRtaxMax == RTAX_MAX, "RTAX_* slots");
static_assert(pf::kRtMsghdrSize == sizeof(struct rt_msghdr) &&
              pf::kRtmMsglen == offsetof(struct rt_msghdr, rtm_msglen) &&
              pf::kRtmVersionAt == offsetof(struct rt_msghdr, rtm_version) &&
              pf::kRtmType == offsetof(struct rt_msghdr, rtm_type) &&
              pf::kRtmIndex == offsetof(struct rt_msghdr, rtm_index) &&
              pf::kRtmFlags == offsetof(struct rt_msghdr, rtm_flags) &&
              pf::kRtmAddrs == offsetof(struct rt_msghdr, rtm_addrs) &&
              pf::kRtmPid == offsetof(struct rt_msghdr, rtm_pid) &&
              pf::kRtmSeq == offsetof(struct rt_msghdr, rtm_seq) &&
              pf::kRtmErrno == offsetof(struct rt_msghdr, rtm_errno) &&
              pf::kRtmUse == offsetof(struct rt_msghdr, rtm_use) &&
              pf::kRtmInits == offsetof(struct rt_msghdr, rtm_inits) &&
              pf::kRtmRmx == offsetof(struct rt_msghdr, rtm_rmx) &&
              pf::kRmxMtu == offsetof(struct rt_metrics, rmx_mtu) &&
              pf::kRmxExpire == offsetof(struct rt_metrics, rmx_expire),
              "struct rt_msghdr layout");
static_assert(pf::kIfMsghdrSize == sizeof(struct if_msghdr) &&
              pf::kIfmAddrs == offsetof(struct if_msghdr, ifm_addrs) &&
              pf::kIfmFlags == offsetof(struct if_msghdr, ifm_flags) &&
              pf::kIfmIndex == offsetof(struct if_msghdr, ifm_index) &&
              pf::kIfmData == offsetof(struct if_msghdr, ifm_data) &&
              pf::kIfDataSize == sizeof(struct if_data) &&
              pf::kIfiType == offsetof(struct if_data, ifi_type) &&
              pf::kIfiMtu == offsetof(struct if_data, ifi_mtu), "struct if_msghdr layout");
static_assert(pf::kIfaMsghdrSize == sizeof(struct ifa_msghdr) &&
              pf::kIfamAddrs == offsetof(struct ifa_msghdr, ifam_addrs) &&
              pf::kIfamFlags == offsetof(struct ifa_msghdr, ifam_flags) &&
              pf::kIfamIndex == offsetof(struct ifa_msghdr, ifam_index) &&
              pf::kIfamMetric == offsetof(struct ifa_msghdr, ifam_metric),
              "struct ifa_msghdr layout");
static_assert(pf::kSockaddrInSize == sizeof(struct sockaddr_in) &&
              pf::kSinAddr == offsetof(struct sockaddr_in, sin_addr) &&
              pf::kSockaddrIn6Size == sizeof(struct sockaddr_in6) &&
              pf::kSin6Addr == offsetof(struct sockaddr_in6, sin6_addr) &&
              pf::kSin6ScopeId == offsetof(struct sockaddr_in6, sin6_scope_id),
              "sockaddr_in / sockaddr_in6 layout");
static_assert(pf::kSockaddrDlSize == sizeof(struct sockaddr_dl) &&
              pf::kSdlIndex == offsetof(struct sockaddr_dl, sdl_index) &&
              pf::kSdlType == offsetof(struct sockaddr_dl, sdl_type) &&
              pf::kSdlNlen == offsetof(struct sockaddr_dl, sdl_nlen) &&
              pf::kSdlAlen == offsetof(struct sockaddr_dl, sdl_alen) &&
              pf::kSdlData == offsetof(struct sockaddr_dl, sdl_data), "sockaddr_dl layout");
static_assert(pf::kIffUp == IFF_UP && pf::kIffBroadcast == IFF_BROADCAST &&
              pf::kIffLoopback == IFF_LOOPBACK && pf::kIffPointopoint == IFF_POINTOPOINT &&
              pf::kIffRunning == IFF_RUNNING && pf::kIffNoarp == IFF_NOARP &&
              pf::kIffPromisc == IFF_PROMISC && pf::kIffAllmulti == IFF_ALLMULTI &&
              pf::kIffMulticast == IFF_MULTICAST, "IFF_* interface flags");
// zig's SDK lacks <net/if_types.h>; Xcode's has it, so a build on a Mac checks these too.
#if __has_include(<net/if_types.h>)
#include <net/if_types.h>
static_assert(pf::kIftOther == IFT_OTHER && pf::kIftEther == IFT_ETHER && pf::kIftPpp == IFT_PPP &&
              pf::kIftLoop == IFT_LOOP && pf::kIftGif == IFT_GIF && pf::kIftStf == IFT_STF &&
              pf::kIftL2vlan == IFT_L2VLAN && pf::kIftIeee8023adLag == IFT_IEEE8023ADLAG &&
              pf::kIftBridge == IFT_BRIDGE && pf::kIftCellular == IFT_CELLULAR,
              "IFT_* interface types");
#endif  // <net/if_types.h>
#endif  // __APPLE__

namespace {

using namespace pfroute;

// The Linux numbering routebind's model speaks (RTN_*, RTPROT_*, RT_SCOPE_*, IFF_*, ARPHRD_*).
constexpr uint8_t kRtnUnicast = 1, kRtnLocal = 2, kRtnBroadcast = 3, kRtnMulticast = 5,
                  kRtnBlackhole = 6, kRtnUnreachable = 7;
constexpr uint8_t kRtprotRedirect = 1, kRtprotKernel = 2, kRtprotStatic = 4;
constexpr uint8_t kScopeUniverse = 0, kScopeLink = 253, kScopeHost = 254;
constexpr uint32_t kRtTableMain = 254;
constexpr uint32_t kLinuxIffMulticast = 0x1000, kLinuxIffLowerUp = 0x10000;
constexpr uint16_t kArphrdEther = 1, kArphrdPpp = 512, kArphrdTunnel = 768,
                   kArphrdLoopback = 772, kArphrdSit = 776, kArphrdNone = 0xfffe;
constexpr uint8_t kOperDown = 2, kOperUp = 6;

uint16_t Read16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

uint32_t Read32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// One sockaddr of a message: its bytes as far as sa_len says (0 for an empty one).
struct SockaddrView {
  const uint8_t* data = nullptr;
  size_t len = 0;
  uint8_t family = kAfUnspec;
  bool present = false;
};

// Walks the sockaddrs after a header, one per set bit of `addrs`, in RTAX order.
const char* SplitSockaddrs(const uint8_t* p, size_t size, uint32_t addrs,
                           SockaddrView (&out)[kRtaxMax]) {
  size_t at = 0;
  for (int i = 0; i < kRtaxMax; ++i) {
    if ((addrs & (1u << i)) == 0) continue;
    if (at >= size) return "a sockaddr the address bits announce is missing";
    size_t len = p[at];
    size_t step = RoundUp(len);
    if (step > size - at) return "a sockaddr runs past the end of the message";
    out[i].present = true;
    out[i].data = p + at;
    out[i].len = len;
    out[i].family = len >= 2 ? p[at + 1] : kAfUnspec;
    at += step;
  }
  return nullptr;
}

bool IsLinkLocalScoped6(const uint8_t* a) {
  return (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) ||
         (a[0] == 0xff && ((a[1] & 0x0f) == 0x01 || (a[1] & 0x0f) == 0x02));
}

// An IP address out of a sockaddr_in / sockaddr_in6; false for another family or one too short.
// The kernel keeps a link-local address's zone in its second 16-bit word (the KAME embedding):
// it is moved to *zone and cleared, so the address reads as users write it.
bool IpOf(const SockaddrView& sa, IpAddress* out, uint32_t* zone = nullptr) {
  return IpFromSockaddr(sa.data, sa.len, out, zone);
}

// A netmask is stored short: sa_len covers only up to its last non-zero byte (0 for /0), and
// its family byte is not to be trusted; the address family is the route's.
int MaskLength(const SockaddrView& sa, uint8_t version) { return NetmaskLength(sa.data, sa.len, version); }

struct LinkAddress {
  uint16_t index = 0;
  uint8_t type = 0;
  std::string name;
  const uint8_t* mac = nullptr;
  size_t mac_len = 0;
};

const char* LinkOf(const SockaddrView& sa, LinkAddress* out) {
  if (sa.family != kAfLink) return "the interface sockaddr is not a sockaddr_dl";
  if (sa.len < kSdlData) return "sockaddr_dl shorter than its header";
  size_t nlen = sa.data[kSdlNlen];
  size_t alen = sa.data[kSdlAlen];
  if (nlen + alen > sa.len - kSdlData) return "sockaddr_dl name and address run past its length";
  out->index = Read16(sa.data + kSdlIndex);
  out->type = sa.data[kSdlType];
  out->name.assign(reinterpret_cast<const char*>(sa.data + kSdlData), nlen);
  // A name with a NUL inside is no interface name; an address too long for the model is cut.
  if (out->name.find('\0') != std::string::npos) return "sockaddr_dl name holds a NUL byte";
  out->mac = sa.data + kSdlData + nlen;
  out->mac_len = alen;
  return nullptr;
}

}  // namespace

bool IpFromSockaddr(const uint8_t* sa, size_t len, IpAddress* out, uint32_t* zone) {
  uint8_t family = len >= 2 ? sa[1] : kAfUnspec;
  if (family == kAfInet && len >= kSinAddr + 4) {
    out->version = 4;
    std::memcpy(out->bytes, sa + kSinAddr, 4);
    if (zone != nullptr) *zone = 0;
    return true;
  }
  if (family == kAfInet6 && len >= kSin6Addr + 16) {
    out->version = 6;
    std::memcpy(out->bytes, sa + kSin6Addr, 16);
    uint32_t embedded = 0;
    if (IsLinkLocalScoped6(out->bytes)) {
      embedded = static_cast<uint32_t>(out->bytes[2]) << 8 | out->bytes[3];
      out->bytes[2] = out->bytes[3] = 0;
    }
    if (zone != nullptr) {
      *zone = len >= kSin6ScopeId + 4 ? Read32(sa + kSin6ScopeId) : 0;
      if (*zone == 0) *zone = embedded;
    }
    return true;
  }
  return false;
}

uint32_t LinuxInterfaceFlags(uint32_t bsd) {
  // IFF_UP through IFF_ALLMULTI (0x1..0x200) share their values; multicast moved.
  uint32_t flags = bsd & 0x3ff;
  if (bsd & kIffMulticast) flags |= kLinuxIffMulticast;
  // macOS has no carrier flag of its own here: a running interface has its link.
  if ((bsd & kIffUp) && (bsd & kIffRunning)) flags |= kLinuxIffLowerUp;
  return flags;
}

uint16_t LinuxLinkType(uint8_t ift) {
  switch (ift) {
    case kIftEther:
    case kIftL2vlan:
    case kIftIeee8023adLag:
    case kIftBridge:
      return kArphrdEther;
    case kIftLoop: return kArphrdLoopback;
    case kIftPpp: return kArphrdPpp;
    case kIftGif: return kArphrdTunnel;
    case kIftStf: return kArphrdSit;
    default: return kArphrdNone;  // utun, cellular and the rest have no ARPHRD_ twin
  }
}

uint8_t AddressScope(const IpAddress& a) {
  if (a.version == 4) return a.bytes[0] == 127 ? kScopeHost : (a.bytes[0] == 169 && a.bytes[1] == 254) ? kScopeLink : kScopeUniverse;
  static const uint8_t kLoopback6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  if (std::memcmp(a.bytes, kLoopback6, 16) == 0) return kScopeHost;
  return a.bytes[0] == 0xfe && (a.bytes[1] & 0xc0) == 0x80 ? kScopeLink : kScopeUniverse;
}

PfRouteReader::Result PfRouteReader::Next(PfRouteMessage* out) {
  if (offset_ >= size_) return kEnd;
  size_t left = size_ - offset_;
  if (left < 4) return kMalformed;
  const uint8_t* p = data_ + offset_;
  size_t len = Read16(p + kRtmMsglen);
  // Four bytes is the common prefix (msglen, version, type): anything shorter cannot advance.
  if (len < 4 || len > left) return kMalformed;
  out->data = p;
  out->length = len;
  out->version = p[kRtmVersionAt];
  out->type = p[kRtmType];
  offset_ += len;
  return kMessage;
}

int PrefixLength(const uint8_t* mask, size_t size) {
  int bits = 0;
  size_t i = 0;
  for (; i < size && mask[i] == 0xff; ++i) bits += 8;
  if (i < size) {
    uint8_t b = mask[i];
    while (b & 0x80) {
      ++bits;
      b = static_cast<uint8_t>(b << 1);
    }
    if (b != 0) return -1;
    for (++i; i < size; ++i) {
      if (mask[i] != 0) return -1;
    }
  }
  return bits;
}

int NetmaskLength(const uint8_t* sa, size_t len, uint8_t version) {
  size_t offset = version == 4 ? kSinAddr : kSin6Addr;
  size_t width = version == 4 ? 4 : 16;
  if (len <= offset) return 0;
  size_t have = len - offset;
  return PrefixLength(sa + offset, have < width ? have : width);
}

const char* ParseRouteMessage(const PfRouteMessage& msg, RouteMessageHeader* header,
                              RouteInfo* route, std::string* ifp_name) {
  if (msg.version != kRtmVersion) return "not an RTM_VERSION 5 message";
  switch (msg.type) {
    case kRtmAdd: case kRtmDelete: case kRtmChange: case kRtmGet:
    case kRtmLosing: case kRtmRedirect: case kRtmMiss:
      break;
    default:
      return "not a route message";
  }
  if (msg.length < kRtMsghdrSize) return "route message shorter than rt_msghdr";
  const uint8_t* p = msg.data;
  header->type = msg.type;
  header->index = Read16(p + kRtmIndex);
  header->flags = Read32(p + kRtmFlags);
  header->addrs = Read32(p + kRtmAddrs);
  header->pid = static_cast<int32_t>(Read32(p + kRtmPid));
  header->seq = static_cast<int32_t>(Read32(p + kRtmSeq));
  header->error = static_cast<int32_t>(Read32(p + kRtmErrno));

  SockaddrView sa[kRtaxMax];
  if (const char* why = SplitSockaddrs(p + kRtMsghdrSize, msg.length - kRtMsghdrSize,
                                       header->addrs, sa)) {
    return why;
  }
  *route = RouteInfo();
  if (!sa[kRtaxDst].present) return "route message without a destination";
  uint32_t zone = 0;
  if (!IpOf(sa[kRtaxDst], &route->destination, &zone)) return "destination is not an IPv4 or IPv6 sockaddr";
  route->version = route->destination.version;
  const uint8_t full = route->version == 4 ? 32 : 128;

  uint32_t flags = header->flags;
  if (sa[kRtaxNetmask].present) {
    int len = MaskLength(sa[kRtaxNetmask], route->version);
    if (len < 0) return "netmask is not contiguous";
    route->dst_len = static_cast<uint8_t>(len);
  } else {
    route->dst_len = full;  // no netmask: a host route, whether RTF_HOST says so or not
  }

  route->oif = header->index;
  if (sa[kRtaxGateway].present) {
    const SockaddrView& gw = sa[kRtaxGateway];
    if (gw.family == kAfLink) {
      // An on-link route names its interface as the "gateway" (sockaddr_dl, no address).
      LinkAddress link;
      if (const char* why = LinkOf(gw, &link)) return why;
      if (route->oif == 0) route->oif = link.index;
    } else if (gw.family == kAfInet || gw.family == kAfInet6) {
      if (!IpOf(gw, &route->gateway)) return "gateway sockaddr too short for its family";
      if (route->gateway.version != route->version) return "gateway of another IP version";
    } else if (gw.len != 0) {
      return "gateway is of an unknown address family";
    }
  }
  if (sa[kRtaxIfp].present && sa[kRtaxIfp].len != 0) {
    LinkAddress link;
    if (const char* why = LinkOf(sa[kRtaxIfp], &link)) return why;
    if (link.index != 0) route->oif = link.index;
    if (ifp_name != nullptr) *ifp_name = link.name;
  }
  if (sa[kRtaxIfa].present && sa[kRtaxIfa].len != 0) {
    IpAddress ifa;
    if (!IpOf(sa[kRtaxIfa], &ifa)) return "interface address is not an IPv4 or IPv6 sockaddr";
    if (ifa.version == route->version) route->preferred_source = ifa;
  }

  if (flags & kRtfBlackhole) {
    route->type = kRtnBlackhole;
  } else if (flags & kRtfReject) {
    route->type = kRtnUnreachable;
  } else if (flags & kRtfLocal) {
    route->type = kRtnLocal;
  } else if (flags & kRtfBroadcast) {
    route->type = kRtnBroadcast;
  } else if (flags & kRtfMulticast) {
    route->type = kRtnMulticast;
  } else {
    route->type = kRtnUnicast;
  }
  route->scope = route->type == kRtnLocal   ? kScopeHost
                 : (flags & kRtfGateway) || route->type == kRtnBlackhole ||
                         route->type == kRtnUnreachable
                     ? kScopeUniverse
                     : kScopeLink;
  route->protocol = (flags & kRtfStatic) ? kRtprotStatic : (flags & kRtfDynamic) ? kRtprotRedirect : kRtprotKernel;
  // macOS has one table per family; scoped routes live in it too, keyed by interface.
  route->table = kRtTableMain;
  route->mtu = Read32(p + kRtmRmx + kRmxMtu);
  return nullptr;
}

const char* ParseInterfaceMessage(const PfRouteMessage& msg, InterfaceMessageHeader* header,
                                  LinkInfo* link) {
  if (msg.version != kRtmVersion) return "not an RTM_VERSION 5 message";
  if (msg.type != kRtmIfInfo) return "not an RTM_IFINFO message";
  if (msg.length < kIfMsghdrSize) return "RTM_IFINFO shorter than if_msghdr";
  const uint8_t* p = msg.data;
  header->type = msg.type;
  header->addrs = Read32(p + kIfmAddrs);
  header->flags = Read32(p + kIfmFlags);
  header->index = Read16(p + kIfmIndex);
  header->if_type = p[kIfmData + kIfiType];
  header->mtu = Read32(p + kIfmData + kIfiMtu);

  SockaddrView sa[kRtaxMax];
  if (const char* why = SplitSockaddrs(p + kIfMsghdrSize, msg.length - kIfMsghdrSize,
                                       header->addrs, sa)) {
    return why;
  }
  *link = LinkInfo();
  link->index = header->index;
  link->flags = LinuxInterfaceFlags(header->flags);
  link->mtu = header->mtu;
  link->type = LinuxLinkType(header->if_type);
  link->operstate = (link->flags & kLinuxIffLowerUp) ? kOperUp : kOperDown;
  if (sa[kRtaxIfp].present && sa[kRtaxIfp].len != 0) {
    LinkAddress dl;
    if (const char* why = LinkOf(sa[kRtaxIfp], &dl)) return why;
    if (dl.index != 0 && dl.index != header->index) return "sockaddr_dl names another interface";
    link->name = dl.name;
    link->mac_len = dl.mac_len < sizeof link->mac ? dl.mac_len : sizeof link->mac;
    std::memcpy(link->mac, dl.mac, link->mac_len);
  }
  return nullptr;
}

const char* ParseAddressMessage(const PfRouteMessage& msg, InterfaceMessageHeader* header,
                                AddressInfo* address) {
  if (msg.version != kRtmVersion) return "not an RTM_VERSION 5 message";
  if (msg.type != kRtmNewAddr && msg.type != kRtmDelAddr) return "not an address message";
  if (msg.length < kIfaMsghdrSize) return "address message shorter than ifa_msghdr";
  const uint8_t* p = msg.data;
  header->type = msg.type;
  header->addrs = Read32(p + kIfamAddrs);
  header->flags = Read32(p + kIfamFlags);
  header->index = Read16(p + kIfamIndex);

  SockaddrView sa[kRtaxMax];
  if (const char* why = SplitSockaddrs(p + kIfaMsghdrSize, msg.length - kIfaMsghdrSize,
                                       header->addrs, sa)) {
    return why;
  }
  *address = AddressInfo();
  address->index = header->index;
  if (!sa[kRtaxIfa].present) return "address message without RTA_IFA";
  if (!IpOf(sa[kRtaxIfa], &address->address)) return "RTA_IFA is not an IPv4 or IPv6 sockaddr";
  address->version = address->address.version;
  if (address->version == 4) address->local = address->address;
  const uint8_t full = address->version == 4 ? 32 : 128;
  if (sa[kRtaxNetmask].present) {
    int len = MaskLength(sa[kRtaxNetmask], address->version);
    if (len < 0) return "netmask is not contiguous";
    address->prefix_len = static_cast<uint8_t>(len);
  } else {
    address->prefix_len = full;
  }
  if (sa[kRtaxBrd].present && sa[kRtaxBrd].len != 0) {
    IpAddress brd;
    if (!IpOf(sa[kRtaxBrd], &brd)) return "RTA_BRD is not an IPv4 or IPv6 sockaddr";
    if (brd.version == address->version) address->broadcast = brd;
  }
  if (sa[kRtaxIfp].present && sa[kRtaxIfp].len != 0) {
    LinkAddress dl;
    if (const char* why = LinkOf(sa[kRtaxIfp], &dl)) return why;
    address->label = dl.name;
  }
  address->scope = AddressScope(address->address);
  return nullptr;
}

ChangeParse ParseChangeMessage(const PfRouteMessage& msg, ChangeEvent* event) {
  *event = ChangeEvent();
  switch (msg.type) {
    case kRtmAdd:
    case kRtmDelete:
    case kRtmChange:
    case kRtmRedirect: {
      RouteMessageHeader header;
      if (ParseRouteMessage(msg, &header, &event->route, nullptr) != nullptr) {
        return ChangeParse::kCounted;
      }
      if (header.flags & (kRtfWasCloned | kRtfLlinfo)) return ChangeParse::kIgnored;
      event->kind = ChangeEvent::kRoute;
      event->group = event->route.version == 4 ? ChangeFeed::kRoutes4 : ChangeFeed::kRoutes6;
      event->removed = msg.type == kRtmDelete;
      event->replaced = msg.type == kRtmChange;
      return ChangeParse::kEvent;
    }
    case kRtmNewAddr:
    case kRtmDelAddr: {
      InterfaceMessageHeader header;
      if (ParseAddressMessage(msg, &header, &event->address) != nullptr) return ChangeParse::kCounted;
      event->kind = ChangeEvent::kAddress;
      event->group = event->address.version == 4 ? ChangeFeed::kAddresses4 : ChangeFeed::kAddresses6;
      event->removed = msg.type == kRtmDelAddr;
      return ChangeParse::kEvent;
    }
    case kRtmIfInfo: {
      InterfaceMessageHeader header;
      if (ParseInterfaceMessage(msg, &header, &event->link) != nullptr) return ChangeParse::kCounted;
      event->kind = ChangeEvent::kLink;
      event->group = ChangeFeed::kLinks;
      return ChangeParse::kEvent;
    }
    default:
      return ChangeParse::kIgnored;
  }
}

size_t BuildRouteGetRequest(const IpAddress& destination, uint32_t ifscope, int32_t seq,
                            uint8_t* out, size_t capacity) {
  if (!destination.present() || ifscope > 0xffff) return 0;
  const size_t dst_len = destination.version == 4 ? kSockaddrInSize : kSockaddrIn6Size;
  const size_t total = kRtMsghdrSize + RoundUp(dst_len) + RoundUp(kSockaddrDlSize);
  if (capacity < total || total > 0xffff) return 0;
  std::memset(out, 0, total);

  auto put16 = [&](size_t at, uint16_t v) { std::memcpy(out + at, &v, sizeof v); };
  auto put32 = [&](size_t at, uint32_t v) { std::memcpy(out + at, &v, sizeof v); };
  put16(kRtmMsglen, static_cast<uint16_t>(total));
  out[kRtmVersionAt] = kRtmVersion;
  out[kRtmType] = kRtmGet;
  uint32_t flags = kRtfUp | kRtfHost;
  if (ifscope != 0) {
    flags |= kRtfIfScope;
    put16(kRtmIndex, static_cast<uint16_t>(ifscope));
  }
  put32(kRtmFlags, flags);
  put32(kRtmAddrs, kRtaDst | kRtaIfp);
  put32(kRtmSeq, static_cast<uint32_t>(seq));

  uint8_t* sa = out + kRtMsghdrSize;
  sa[0] = static_cast<uint8_t>(dst_len);
  if (destination.version == 4) {
    sa[1] = kAfInet;
    std::memcpy(sa + kSinAddr, destination.bytes, 4);
  } else {
    sa[1] = kAfInet6;
    std::memcpy(sa + kSin6Addr, destination.bytes, 16);
    if (ifscope != 0 && IsLinkLocalScoped6(destination.bytes)) {
      // The zone embedded in the address with sin6_scope_id 0, as route(8) sends it: older
      // kernels key link-local routes by that form, newer ones move it to sin6_scope_id.
      sa[kSin6Addr + 2] = static_cast<uint8_t>(ifscope >> 8);
      sa[kSin6Addr + 3] = static_cast<uint8_t>(ifscope);
    }
  }
  // An empty sockaddr_dl in the RTA_IFP slot asks the kernel to add the route's interface
  // (RTA_IFP) and its address (RTA_IFA) to the answer, as route(8)'s `get` does.
  uint8_t* dl = sa + RoundUp(dst_len);
  dl[0] = static_cast<uint8_t>(kSockaddrDlSize);
  dl[1] = kAfLink;
  return total;
}

}  // namespace routebind
