// PF_ROUTE messages (route(4)) as bytes: the layout macOS uses, spelled out in routebind's own
// constants so the parser and the request builder compile, and are tested, on any OS. On macOS
// route_message.cc proves with static_asserts that every constant equals the system header's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "backend.h"
#include "route.h"

namespace routebind {
namespace pfroute {

// <sys/socket.h>: address families as macOS numbers them (not Linux's 10 for AF_INET6).
constexpr uint8_t kAfUnspec = 0, kAfInet = 2, kAfLink = 18, kAfInet6 = 30;

// <net/route.h>
constexpr uint8_t kRtmVersion = 5;
constexpr uint8_t kRtmAdd = 0x1, kRtmDelete = 0x2, kRtmChange = 0x3, kRtmGet = 0x4,
                  kRtmLosing = 0x5, kRtmRedirect = 0x6, kRtmMiss = 0x7, kRtmNewAddr = 0xc,
                  kRtmDelAddr = 0xd, kRtmIfInfo = 0xe, kRtmNewMaddr = 0xf, kRtmDelMaddr = 0x10;
constexpr uint32_t kRtfUp = 0x1, kRtfGateway = 0x2, kRtfHost = 0x4, kRtfReject = 0x8,
                   kRtfDynamic = 0x10, kRtfStatic = 0x800, kRtfBlackhole = 0x1000,
                   kRtfLlinfo = 0x400, kRtfWasCloned = 0x20000, kRtfLocal = 0x200000,
                   kRtfBroadcast = 0x400000, kRtfMulticast = 0x800000, kRtfIfScope = 0x1000000;
// The sockaddrs after a header come in this order, each present when its bit is set.
constexpr uint32_t kRtaDst = 0x1, kRtaGateway = 0x2, kRtaNetmask = 0x4, kRtaGenmask = 0x8,
                   kRtaIfp = 0x10, kRtaIfa = 0x20, kRtaAuthor = 0x40, kRtaBrd = 0x80;
constexpr int kRtaxDst = 0, kRtaxGateway = 1, kRtaxNetmask = 2, kRtaxGenmask = 3, kRtaxIfp = 4,
              kRtaxIfa = 5, kRtaxAuthor = 6, kRtaxBrd = 7, kRtaxMax = 8;

// struct rt_msghdr: u_short msglen; u_char version, type; u_short index; (2 bytes padding)
// int flags, addrs; pid_t pid; int seq, errno, use; u_int32_t inits; struct rt_metrics rmx
// (14 u_int32_t: locks, mtu, hopcount, expire, recvpipe, sendpipe, ssthresh, rtt, rttvar,
// pksent, state, filler[3]).
constexpr size_t kRtMsghdrSize = 92;
constexpr size_t kRtmMsglen = 0, kRtmVersionAt = 2, kRtmType = 3, kRtmIndex = 4, kRtmFlags = 8,
                 kRtmAddrs = 12, kRtmPid = 16, kRtmSeq = 20, kRtmErrno = 24, kRtmUse = 28,
                 kRtmInits = 32, kRtmRmx = 36, kRmxMtu = 4, kRmxExpire = 12;

// struct if_msghdr: u_short msglen; u_char version, type; int addrs, flags; u_short index;
// (2 bytes padding) struct if_data data (u_char type, typelen, physical, addrlen, hdrlen,
// recvquota, xmitquota, unused1; u_int32_t mtu, metric, baudrate, 13 counters; struct
// timeval32 lastchange; u_int32_t unused2, hwassist, reserved1, reserved2).
constexpr size_t kIfMsghdrSize = 112;
constexpr size_t kIfmAddrs = 4, kIfmFlags = 8, kIfmIndex = 12, kIfmData = 16;
constexpr size_t kIfDataSize = 96, kIfiType = 0, kIfiMtu = 8;

// struct ifa_msghdr: u_short msglen; u_char version, type; int addrs, flags; u_short index;
// (2 bytes padding) int metric.
constexpr size_t kIfaMsghdrSize = 20;
constexpr size_t kIfamAddrs = 4, kIfamFlags = 8, kIfamIndex = 12, kIfamMetric = 16;

// Every sockaddr opens with u_char sa_len, u_char sa_family. sockaddr_in: port at 2, address
// at 4 (16 bytes in all); sockaddr_in6: port 2, flowinfo 4, address 8, scope_id 24 (28 bytes).
constexpr size_t kSockaddrInSize = 16, kSinAddr = 4;
constexpr size_t kSockaddrIn6Size = 28, kSin6Addr = 8, kSin6ScopeId = 24;
// struct sockaddr_dl: u_char len, family; u_short index; u_char type, nlen, alen, slen;
// char data[12] (the name, nlen bytes without a NUL, then alen bytes of link address).
constexpr size_t kSockaddrDlSize = 20, kSdlIndex = 2, kSdlType = 4, kSdlNlen = 5, kSdlAlen = 6,
                 kSdlData = 8;

// <net/if.h> interface flags, <net/if_types.h> interface types.
constexpr uint32_t kIffUp = 0x1, kIffBroadcast = 0x2, kIffLoopback = 0x8,
                   kIffPointopoint = 0x10, kIffRunning = 0x40, kIffNoarp = 0x80,
                   kIffPromisc = 0x100, kIffAllmulti = 0x200, kIffMulticast = 0x8000;
constexpr uint8_t kIftOther = 0x1, kIftEther = 0x6, kIftPpp = 0x17, kIftLoop = 0x18,
                  kIftGif = 0x37, kIftStf = 0x39, kIftL2vlan = 0x87, kIftIeee8023adLag = 0x88,
                  kIftBridge = 0xd1, kIftCellular = 0xff;

// A sockaddr takes sa_len bytes rounded up to a multiple of 4 (sizeof(uint32_t) on macOS;
// FreeBSD uses sizeof(long)); one of length 0 still takes 4.
constexpr size_t RoundUp(size_t len) { return len == 0 ? 4 : (len + 3) & ~static_cast<size_t>(3); }

}  // namespace pfroute

// One message of a buffer (a read from a PF_ROUTE socket, a sysctl dump): its type and bytes.
struct PfRouteMessage {
  uint8_t type = 0;
  uint8_t version = 0;
  const uint8_t* data = nullptr;
  size_t length = 0;  // rtm_msglen, checked to lie inside the buffer
};

// Splits a buffer into messages by their length field, never reading past the buffer.
class PfRouteReader {
 public:
  enum Result { kMessage, kEnd, kMalformed };
  PfRouteReader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  Result Next(PfRouteMessage* out);

 private:
  const uint8_t* data_;
  size_t size_;
  size_t offset_ = 0;
};

// A route message (RTM_ADD/DELETE/CHANGE/GET...) beyond the route it describes: who sent it and
// the fields a lookup checks its answer by.
struct RouteMessageHeader {
  uint8_t type = 0;
  uint16_t index = 0;  // rtm_index: the route's interface
  uint32_t flags = 0;  // RTF_*
  uint32_t addrs = 0;  // RTA_*
  int32_t pid = 0;
  int32_t seq = 0;
  int32_t error = 0;  // rtm_errno
};

// The fields of an interface or address message that the neutral model has no place for.
struct InterfaceMessageHeader {
  uint8_t type = 0;
  uint16_t index = 0;
  uint32_t flags = 0;  // IFF_* as macOS numbers them
  uint32_t addrs = 0;
  uint32_t mtu = 0;
  uint8_t if_type = 0;  // IFT_*
};

// Each parser returns nullptr on success, else why the message was refused (for tests and
// errors; a static string). A refused message leaves *out in an unspecified state.

// rt_msghdr (RTM_ADD, RTM_DELETE, RTM_CHANGE, RTM_GET, RTM_REDIRECT, RTM_MISS, RTM_LOSING):
// the route in routebind's Linux numbering (type from RTF_REJECT/BLACKHOLE/LOCAL/..., scope,
// protocol), interface from RTA_IFP or rtm_index, source from RTA_IFA, prefix from RTA_NETMASK.
// `ifp_name` (may be null) receives the interface name RTA_IFP carried.
const char* ParseRouteMessage(const PfRouteMessage& msg, RouteMessageHeader* header,
                              RouteInfo* route, std::string* ifp_name);
// if_msghdr (RTM_IFINFO): the link, flags mapped to Linux's IFF_*, type to ARPHRD_*; the name
// only when the message carries RTA_IFP (sysctl NET_RT_IFLIST does, notifications do not).
const char* ParseInterfaceMessage(const PfRouteMessage& msg, InterfaceMessageHeader* header,
                                  LinkInfo* link);
// ifa_msghdr (RTM_NEWADDR, RTM_DELADDR): the address, its prefix from RTA_NETMASK, its
// broadcast (or the peer of a point-to-point link) from RTA_BRD, label from RTA_IFP.
const char* ParseAddressMessage(const PfRouteMessage& msg, InterfaceMessageHeader* header,
                                AddressInfo* address);

// What a change feed makes of one message. kIgnored: nothing that can change a lookup's answer
// (every process's RTM_GET answers, RTM_MISS, cloned host routes and neighbour entries, which are
// caches of an answer like Linux's RTM_F_CLONED exceptions). kCounted: a change, but unreadable,
// so caches start over without an event. kEvent: *event is filled (kind, group, removed,
// replaced); a link event's name is empty when the message carried none (RTM_IFINFO never does).
enum class ChangeParse { kIgnored, kCounted, kEvent };
ChangeParse ParseChangeMessage(const PfRouteMessage& msg, ChangeEvent* event);

// The RTM_GET a lookup sends: destination, RTA_IFP asked for (an empty sockaddr_dl) so the
// answer names the interface and its address; `ifscope` != 0 makes it a scoped lookup
// (RTF_IFSCOPE, rtm_index) that only routes through that interface may answer. A link-local
// IPv6 destination carries its zone (`ifscope`) embedded in the address, as route(8) sends it.
// Returns the length written, 0 when `capacity` is too small or the destination is absent.
size_t BuildRouteGetRequest(const IpAddress& destination, uint32_t ifscope, int32_t seq,
                            uint8_t* out, size_t capacity);

// The prefix length of a netmask's bytes (missing bytes are zeros), -1 if not contiguous.
int PrefixLength(const uint8_t* mask, size_t size);
// The prefix length of a netmask sockaddr of `len` bytes for an address of `version`. Netmasks are
// stored short (sa_len up to the last non-zero byte, 0 for /0) and their family byte is not to be
// trusted, in routing messages and in what getifaddrs(3) copies from them.
int NetmaskLength(const uint8_t* sa, size_t len, uint8_t version);

// The mappings the parsers use, shared with the getifaddrs(3) side of the backend.
// An IP address out of a sockaddr_in / sockaddr_in6 of `len` bytes (false for another family or
// one too short). A link-local address's zone, which the kernel may keep embedded in its second
// 16-bit word, is moved to *zone (when sin6_scope_id is 0) and cleared from the address.
bool IpFromSockaddr(const uint8_t* sa, size_t len, IpAddress* out, uint32_t* zone);
// macOS IFF_* → Linux IFF_* (multicast moves; IFF_LOWER_UP when up and running).
uint32_t LinuxInterfaceFlags(uint32_t bsd_flags);
// IFT_* → ARPHRD_*.
uint16_t LinuxLinkType(uint8_t if_type);
// RT_SCOPE_HOST for loopback, RT_SCOPE_LINK for link-local, RT_SCOPE_UNIVERSE otherwise.
uint8_t AddressScope(const IpAddress& address);

}  // namespace routebind
