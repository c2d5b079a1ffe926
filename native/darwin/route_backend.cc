// macOS route backend: one RTM_GET per lookup on a PF_ROUTE socket (route(4)), the table from
// sysctl(3) NET_RT_DUMP, links and addresses from getifaddrs(3) (+ struct if_data).
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <net/if_dl.h>
#include <net/route.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/sysctl.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

#include "backend.h"
#include "route_message.h"

namespace routebind {

namespace {

constexpr int kDumpRetries = 5;
// Larger than any one answer: a header, eight sockaddrs, a sockaddr_dl with a long name.
constexpr size_t kReceiveBuffer = 2048;
constexpr uint8_t kRtnLocal = 2, kRtnBlackhole = 6, kRtnUnreachable = 7;

// Options macOS routing has no notion of: refused, never silently ignored.
bool AsksUnsupported(const RouteQuery& q) {
  return q.has_mark || q.has_uid || q.iif != 0 || q.tos != 0 || q.ip_proto != 0 ||
         q.source_port != 0 || q.destination_port != 0;
}

// Runs `visit` over the getifaddrs list; the list is freed whatever visit does.
template <typename Visit>
Status ForEachInterfaceAddress(Visit visit) {
  struct ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return Status::Fail(errno, "getifaddrs");
  for (struct ifaddrs* ifa = list; ifa != nullptr; ifa = ifa->ifa_next) {
    if (ifa->ifa_name != nullptr) visit(*ifa);
  }
  freeifaddrs(list);
  return Status::Ok();
}

bool IpOfSockaddr(const struct sockaddr* sa, IpAddress* out, uint32_t* zone) {
  if (sa == nullptr) return false;
  // getifaddrs' sockaddrs carry sa_len; the parser's conversion reads no more than that.
  return IpFromSockaddr(reinterpret_cast<const uint8_t*>(sa), sa->sa_len, out, zone);
}

bool LinkOfIfaddr(const struct ifaddrs& ifa, LinkInfo* out) {
  if (ifa.ifa_addr == nullptr || ifa.ifa_addr->sa_family != AF_LINK) return false;
  const auto* dl = reinterpret_cast<const struct sockaddr_dl*>(ifa.ifa_addr);
  *out = LinkInfo();
  out->index = dl->sdl_index;
  out->name = ifa.ifa_name;
  out->flags = LinuxInterfaceFlags(ifa.ifa_flags);
  out->operstate = (out->flags & 0x10000) ? 6 : 2;  // IF_OPER_UP : IF_OPER_DOWN
  if (ifa.ifa_data != nullptr) {
    const auto* data = static_cast<const struct if_data*>(ifa.ifa_data);
    out->mtu = data->ifi_mtu;
    out->type = LinuxLinkType(data->ifi_type);
  }
  size_t alen = dl->sdl_alen;
  // sdl_data holds the name then the address; sdl_len bounds both.
  if (alen > 0 && dl->sdl_nlen + alen + offsetof(struct sockaddr_dl, sdl_data) <= dl->sdl_len) {
    out->mac_len = alen < sizeof out->mac ? alen : sizeof out->mac;
    std::memcpy(out->mac, LLADDR(dl), out->mac_len);
  }
  return true;
}

class PfRouteBackend : public RouteBackend {
 public:
  ~PfRouteBackend() override {
    if (fd_ >= 0) close(fd_);
  }

  Status Open() {
    fd_ = socket(PF_ROUTE, SOCK_RAW, AF_UNSPEC);
    if (fd_ < 0) return Status::Fail(errno, "socket");
    if (fcntl(fd_, F_SETFD, FD_CLOEXEC) < 0) return Status::Fail(errno, "fcntl");
    // The kernel always answers an RTM_GET, but a reply lost to a full buffer would otherwise
    // block the event loop forever.
    struct timeval timeout = {2, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    pid_ = getpid();
    buffer_.resize(kReceiveBuffer);
    return Status::Ok();
  }

  Status RouteGet(const RouteQuery& query, RouteInfo* out) override {
    if (AsksUnsupported(query)) return Status::Fail(ENOTSUP, "RTM_GET");
    // A socket bound to a local address sends through that address's interface when a route
    // scoped to it exists (net.inet.ip.select_srcif): ask the same scoped question. The kernel
    // ignores RTA_IFA in an RTM_GET, so the source itself cannot be sent. Without such a route
    // the answer is the unscoped one, and its interface shows the mismatch to the caller.
    if (query.oif == 0 && query.from.present()) {
      uint32_t owner = OwnerOf(query.from);
      if (owner != 0) {
        Status s = Lookup(query, owner, out);
        if (s.error != ENETUNREACH) return s;
      }
    }
    return Lookup(query, query.oif, out);
  }

  Status DumpRoutes(uint8_t version, std::vector<RouteInfo>* out) override {
    out->clear();
    if (version == 0 || version == 4) {
      Status s = Dump(AF_INET, out);
      if (!s.ok()) return s;
    }
    if (version == 0 || version == 6) return Dump(AF_INET6, out);
    return Status::Ok();
  }

  Status DumpLinks(std::vector<LinkInfo>* out) override {
    out->clear();
    return ForEachInterfaceAddress([&](const struct ifaddrs& ifa) {
      LinkInfo link;
      if (LinkOfIfaddr(ifa, &link)) out->push_back(std::move(link));
    });
  }

  Status DumpAddresses(uint8_t version, std::vector<AddressInfo>* out) override {
    out->clear();
    // Each name's index from its AF_LINK entry, which getifaddrs lists with the rest.
    std::unordered_map<std::string, uint32_t> indexes;
    Status s = ForEachInterfaceAddress([&](const struct ifaddrs& ifa) {
      if (ifa.ifa_addr != nullptr && ifa.ifa_addr->sa_family == AF_LINK) {
        indexes[ifa.ifa_name] = reinterpret_cast<const struct sockaddr_dl*>(ifa.ifa_addr)->sdl_index;
      }
    });
    if (!s.ok()) return s;
    return ForEachInterfaceAddress([&](const struct ifaddrs& ifa) {
      AddressInfo a;
      uint32_t zone = 0;
      if (!IpOfSockaddr(ifa.ifa_addr, &a.address, &zone)) return;
      if (version != 0 && a.address.version != version) return;
      a.version = a.address.version;
      auto it = indexes.find(ifa.ifa_name);
      a.index = it != indexes.end() ? it->second : zone;
      a.label = ifa.ifa_name;
      a.scope = AddressScope(a.address);
      const uint8_t full = a.version == 4 ? 32 : 128;
      int len = ifa.ifa_netmask == nullptr
                    ? full
                    : NetmaskLength(reinterpret_cast<const uint8_t*>(ifa.ifa_netmask),
                                    ifa.ifa_netmask->sa_len, a.version);
      a.prefix_len = static_cast<uint8_t>(len < 0 ? full : len);
      if (a.version == 4) {
        a.local = a.address;
        IpAddress other;
        // ifa_dstaddr and ifa_broadaddr share one field: the peer of a point-to-point link
        // (Linux's IFA_ADDRESS) or the broadcast address.
        if (IpOfSockaddr(ifa.ifa_dstaddr, &other, nullptr) && other.version == 4) {
          if (ifa.ifa_flags & IFF_POINTOPOINT) {
            a.address = other;
          } else if (ifa.ifa_flags & IFF_BROADCAST) {
            a.broadcast = other;
          }
        }
      }
      out->push_back(std::move(a));
    });
  }

  Status GetLink(uint32_t index, const char* name, LinkInfo* out) override {
    bool found = false;
    Status s = ForEachInterfaceAddress([&](const struct ifaddrs& ifa) {
      LinkInfo link;
      if (found || !LinkOfIfaddr(ifa, &link)) return;
      if (name != nullptr ? link.name == name : link.index == index) {
        *out = std::move(link);
        found = true;
      }
    });
    if (!s.ok()) return s;
    return found ? Status::Ok() : Status::Fail(ENODEV, "getifaddrs");
  }

 private:
  // One RTM_GET, scoped to `scope` when it is not 0.
  Status Lookup(const RouteQuery& query, uint32_t scope, RouteInfo* out) {
    static const char* const what = "RTM_GET";
    uint8_t request[256];
    int32_t seq = NextSequence();
    size_t len = BuildRouteGetRequest(query.destination, scope, seq, request, sizeof request);
    if (len == 0) return Status::Fail(EINVAL, what);
    ssize_t sent;
    do {
      sent = write(fd_, request, len);
    } while (sent < 0 && errno == EINTR);
    // ESRCH: no route at all, or (scoped) none through that interface: Linux's ENETUNREACH.
    if (sent < 0) return Status::Fail(errno == ESRCH ? ENETUNREACH : errno, what);

    RouteMessageHeader header;
    for (;;) {
      ssize_t got = read(fd_, buffer_.data(), buffer_.size());
      if (got < 0) {
        if (errno == EINTR) continue;
        return Status::Fail(errno == EAGAIN ? ETIMEDOUT : errno, what);
      }
      // Every routing socket sees every process's messages: only the answer to this request
      // (our pid, our sequence number) counts; older answers that timed out are skipped.
      PfRouteReader reader(buffer_.data(), static_cast<size_t>(got));
      PfRouteMessage msg;
      bool answered = false;
      while (reader.Next(&msg) == PfRouteReader::kMessage) {
        if (msg.type != pfroute::kRtmGet || msg.length < pfroute::kRtMsghdrSize) continue;
        int32_t pid, msg_seq, error;
        std::memcpy(&pid, msg.data + pfroute::kRtmPid, sizeof pid);
        std::memcpy(&msg_seq, msg.data + pfroute::kRtmSeq, sizeof msg_seq);
        if (pid != pid_ || msg_seq != seq) continue;
        // A failed lookup's echo carries only what was asked: its errno is the answer.
        std::memcpy(&error, msg.data + pfroute::kRtmErrno, sizeof error);
        if (error > 0) return Status::Fail(error == ESRCH ? ENETUNREACH : error, what);
        if (ParseRouteMessage(msg, &header, out, nullptr) != nullptr) {
          return Status::Fail(EBADMSG, what);
        }
        answered = true;
        break;
      }
      if (answered) break;
    }
    // The errors `ip route get` reports for these route types on Linux.
    if (out->type == kRtnBlackhole) return Status::Fail(EINVAL, what);
    if (out->type == kRtnUnreachable) {
      return Status::Fail((header.flags & pfroute::kRtfHost) ? EHOSTUNREACH : ENETUNREACH, what);
    }
    // A scoped lookup answers only through its interface; a destination this host owns is
    // delivered locally whatever the scope, as on Linux.
    if (scope != 0 && out->oif != scope && out->type != kRtnLocal) {
      return Status::Fail(ENETUNREACH, what);
    }
    if (query.from.present()) {
      out->source_prefix = query.from;
      out->src_len = query.from.version == 4 ? 32 : 128;
      out->preferred_source = query.from;
    } else if (out->version == 6) {
      // An IPv6 route's RTA_IFA is whichever address the route was made with (often the
      // link-local one of the gateway's link), not what source selection picks for this
      // destination: ask the kernel's source selection itself.
      IpAddress source;
      if (SelectSource6(query.destination, scope != 0 ? scope : out->oif, &source)) {
        out->preferred_source = source;
      }
    }
    return Status::Ok();
  }

  // The interface that owns a local address, 0 when none does.
  static uint32_t OwnerOf(const IpAddress& address) {
    std::string owner;
    ForEachInterfaceAddress([&](const struct ifaddrs& ifa) {
      IpAddress a;
      if (owner.empty() && IpOfSockaddr(ifa.ifa_addr, &a, nullptr) &&
          a.version == address.version && std::memcmp(a.bytes, address.bytes, a.size()) == 0) {
        owner = ifa.ifa_name;
      }
    });
    return owner.empty() ? 0 : if_nametoindex(owner.c_str());
  }

  // in6_selectsrc's answer, as a socket would get it: connect a UDP socket (no packet is sent)
  // through the route's interface and read its local address.
  static bool SelectSource6(const IpAddress& destination, uint32_t ifindex, IpAddress* out) {
    int fd = socket(AF_INET6, SOCK_DGRAM, 0);
    if (fd < 0) return false;
    fcntl(fd, F_SETFD, FD_CLOEXEC);  // a fork in another thread must not inherit it
    if (ifindex != 0) {
      int index = static_cast<int>(ifindex);
      setsockopt(fd, IPPROTO_IPV6, IPV6_BOUND_IF, &index, sizeof index);
    }
    struct sockaddr_in6 to = {};
    to.sin6_len = sizeof to;
    to.sin6_family = AF_INET6;
    to.sin6_port = htons(9);  // discard; connect() on UDP only picks the route and source
    std::memcpy(&to.sin6_addr, destination.bytes, 16);
    if (destination.bytes[0] == 0xfe && (destination.bytes[1] & 0xc0) == 0x80) to.sin6_scope_id = ifindex;
    struct sockaddr_in6 local = {};
    socklen_t len = sizeof local;
    bool ok = connect(fd, reinterpret_cast<struct sockaddr*>(&to), sizeof to) == 0 &&
              getsockname(fd, reinterpret_cast<struct sockaddr*>(&local), &len) == 0 &&
              IpOfSockaddr(reinterpret_cast<struct sockaddr*>(&local), out, nullptr);
    close(fd);
    return ok;
  }

  // One family's table through sysctl NET_RT_DUMP: the size asked first, then the table; a
  // table that grew in between (ENOMEM) is asked again.
  Status Dump(int family, std::vector<RouteInfo>* out) {
    int mib[6] = {CTL_NET, PF_ROUTE, 0, family, NET_RT_DUMP, 0};
    std::vector<uint8_t> table;
    size_t size = 0;
    for (int attempt = 0;; ++attempt) {
      if (attempt == kDumpRetries) return Status::Fail(EAGAIN, "sysctl");
      if (sysctl(mib, 6, nullptr, &size, nullptr, 0) < 0) return Status::Fail(errno, "sysctl");
      size += size / 8 + 1024;  // room for routes added before the second call
      table.resize(size);
      if (sysctl(mib, 6, table.data(), &size, nullptr, 0) == 0) break;
      if (errno != ENOMEM) return Status::Fail(errno, "sysctl");
    }
    PfRouteReader reader(table.data(), size);
    PfRouteMessage msg;
    for (;;) {
      PfRouteReader::Result r = reader.Next(&msg);
      if (r == PfRouteReader::kEnd) break;
      if (r == PfRouteReader::kMalformed) return Status::Fail(EBADMSG, "sysctl");
      RouteMessageHeader header;
      RouteInfo route;
      if (ParseRouteMessage(msg, &header, &route, nullptr) != nullptr) continue;
      // Cloned host routes and neighbour entries are caches of lookups, as Linux's cloned
      // exceptions are; `ip route show` would not list them.
      if (header.flags & (pfroute::kRtfWasCloned | pfroute::kRtfLlinfo)) continue;
      out->push_back(std::move(route));
    }
    return Status::Ok();
  }

  // Every routing socket of the process sees every answer, and all carry this process's pid:
  // the sequence numbers of all backends (one per worker thread) must differ. Kept positive,
  // as rtm_seq is an int.
  static int32_t NextSequence() {
    static std::atomic<uint32_t> next{0};
    return static_cast<int32_t>((next.fetch_add(1, std::memory_order_relaxed) + 1) & 0x7fffffff);
  }

  int fd_ = -1;
  int32_t pid_ = 0;
  std::vector<uint8_t> buffer_;
};

}  // namespace

Status RouteBackend::Create(std::unique_ptr<RouteBackend>* out) {
  auto backend = std::make_unique<PfRouteBackend>();
  Status s = backend->Open();
  if (s.ok()) *out = std::move(backend);
  return s;
}

}  // namespace routebind
