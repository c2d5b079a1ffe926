// Linux route backend: rtnetlink(7) over one persistent NETLINK_ROUTE socket, the same requests
// `ip route get`, `ip route show table all`, `ip link` and `ip addr` send.
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstring>
#include <functional>

#include "backend.h"
#include "netlink_parser.h"
#include "netlink_request.h"

namespace routebind {

namespace {

// Large enough for a whole dump batch: the kernel fills at most 32 KiB (or one page) per recv.
constexpr size_t kReceiveBuffer = 64 * 1024;
constexpr int kDumpRetries = 5;

class NetlinkRouteBackend : public RouteBackend {
 public:
  ~NetlinkRouteBackend() override {
    if (fd_ >= 0) close(fd_);
  }

  Status Open() {
    fd_ = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd_ < 0) return Status::Fail(errno, "socket");
    // The kernel never stops answering a well-formed request, but a reply dropped for lack of
    // buffer space would otherwise block the event loop forever.
    struct timeval timeout = {2, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    // Extended acks would make error replies longer but tell us nothing we report.
    struct sockaddr_nl local = {};
    local.nl_family = AF_NETLINK;
    if (bind(fd_, reinterpret_cast<struct sockaddr*>(&local), sizeof local) < 0) {
      return Status::Fail(errno, "bind");
    }
    socklen_t len = sizeof local;
    if (getsockname(fd_, reinterpret_cast<struct sockaddr*>(&local), &len) < 0) {
      return Status::Fail(errno, "getsockname");
    }
    port_id_ = local.nl_pid;
    buffer_.resize(kReceiveBuffer);
    return Status::Ok();
  }

  Status RouteGet(const RouteQuery& query, RouteInfo* out) override {
    if (query.destination.version != 4) return Lookup(query, false, out);
    // An IPv4 answer (the dst cache entry) carries no protocol and no metric, an IPv6 one does:
    // take both from the table entry that matched (RTM_F_FIB_MATCH), so the two families answer
    // the same fields. Both requests go in one datagram and both replies come back in one
    // recvmmsg: the kernel answers each request of a datagram before sendto() returns.
    RouteInfo match;
    bool matched = false;
    Status s = LookupWithMatch(query, out, &match, &matched);
    if (!s.ok() || out->version != 4 || out->table == 0 || !matched) return s;
    out->protocol = match.protocol;
    out->has_priority = true;
    out->priority = match.has_priority ? match.priority : 0;  // the kernel omits a metric of 0
    return Status::Ok();
  }

  Status DumpRoutes(uint8_t version, std::vector<RouteInfo>* out) override {
    return Dump(RTM_GETROUTE, version, "RTM_GETROUTE", [&](const NetlinkMessage& msg) {
      RouteInfo route;
      if (msg.type == RTM_NEWROUTE && ParseRouteMessage(msg, &route)) {
        // Cached clones (PMTU exceptions) are not table entries; `ip route show` hides them too.
        if ((route.flags & RTM_F_CLONED) == 0) out->push_back(std::move(route));
      }
    }, [&] { out->clear(); });
  }

  Status DumpLinks(std::vector<LinkInfo>* out) override {
    return Dump(RTM_GETLINK, 0, "RTM_GETLINK", [&](const NetlinkMessage& msg) {
      LinkInfo link;
      if (ParseLinkMessage(msg, &link)) out->push_back(std::move(link));
    }, [&] { out->clear(); });
  }

  Status DumpAddresses(uint8_t version, std::vector<AddressInfo>* out) override {
    return Dump(RTM_GETADDR, version, "RTM_GETADDR", [&](const NetlinkMessage& msg) {
      AddressInfo address;
      if (ParseAddressMessage(msg, &address)) out->push_back(std::move(address));
    }, [&] { out->clear(); });
  }

  Status GetLink(uint32_t index, const char* name, LinkInfo* out) override {
    uint8_t request[256];  // room for an alternative name of ALTIFNAMSIZ bytes
    uint32_t seq = ++seq_;
    size_t len = BuildLinkGetRequest(index, name, seq, request, sizeof request);
    if (len == 0) return Status::Fail(EINVAL, "RTM_GETLINK");
    bool found = false;
    Status s = Transact(request, len, seq, "RTM_GETLINK", [&](const NetlinkMessage& msg) {
      if (msg.type != RTM_NEWLINK) return true;
      found = ParseLinkMessage(msg, out);
      return false;
    });
    if (!s.ok()) return s;
    return found ? Status::Ok() : Status::Fail(EBADMSG, "RTM_GETLINK");
  }

 private:
  Status Lookup(const RouteQuery& query, bool fib_match, RouteInfo* out) {
    uint8_t request[256];
    uint32_t seq = ++seq_;
    size_t len = BuildRouteGetRequest(query, seq, request, sizeof request, fib_match);
    if (len == 0) return Status::Fail(EINVAL, "RTM_GETROUTE");
    bool found = false;
    Status s = Transact(request, len, seq, "RTM_GETROUTE", [&](const NetlinkMessage& msg) {
      if (msg.type != RTM_NEWROUTE) return true;
      found = ParseRouteMessage(msg, out);
      return false;  // a lookup has exactly one answer
    });
    if (!s.ok()) return s;
    return found ? Status::Ok() : Status::Fail(EBADMSG, "RTM_GETROUTE");
  }

  // One reply slot of LookupWithMatch: the answer to one of the two requests.
  struct PendingLookup {
    uint32_t seq = 0;
    RouteInfo* out = nullptr;
    bool answered = false;
    bool found = false;
    int error = 0;
  };

  // Accepts one message for `pending` (already matched by sequence number and port): a route,
  // an error, or the end of the answer. Returns false when the message is malformed.
  static bool AcceptLookupReply(const NetlinkMessage& msg, PendingLookup* pending) {
    if (msg.type == NLMSG_ERROR) {
      int error = 0;
      if (!ParseErrorMessage(msg, &error)) return false;
      pending->error = error;
      pending->answered = true;
    } else if (msg.type == NLMSG_DONE) {
      int error = ParseDoneError(msg);
      pending->error = error;
      pending->answered = true;
    } else if (msg.type == RTM_NEWROUTE) {
      pending->found = ParseRouteMessage(msg, pending->out);
      pending->answered = true;  // a lookup has exactly one answer
    }
    return true;
  }

  // The lookup and its RTM_F_FIB_MATCH twin, sent in one datagram (two netlink messages with
  // their own sequence numbers), their replies read together. The checks are Transact's: only
  // the kernel may answer (sender nl_pid 0), no truncated datagram, every message well formed,
  // our sequence numbers and port only. *matched says whether the twin found a table entry; its
  // failure is no failure of the lookup.
  Status LookupWithMatch(const RouteQuery& query, RouteInfo* out, RouteInfo* match,
                         bool* matched) {
    static const char* const what = "RTM_GETROUTE";
    uint8_t request[512];
    PendingLookup lookup, twin;
    lookup.seq = ++seq_;
    lookup.out = out;
    twin.seq = ++seq_;
    twin.out = match;
    size_t len = BuildRouteGetRequest(query, lookup.seq, request, sizeof request / 2, false);
    if (len == 0) return Status::Fail(EINVAL, what);
    size_t twin_len =
        BuildRouteGetRequest(query, twin.seq, request + len, sizeof request - len, true);
    if (twin_len == 0) return Status::Fail(EINVAL, what);

    struct sockaddr_nl kernel = {};
    kernel.nl_family = AF_NETLINK;
    ssize_t sent;
    do {
      sent = sendto(fd_, request, len + twin_len, 0, reinterpret_cast<struct sockaddr*>(&kernel),
                    sizeof kernel);
    } while (sent < 0 && errno == EINTR);
    if (sent < 0) return Status::Fail(errno, what);

    // Each reply is a datagram of its own; the receive buffer is split between the two.
    const size_t half = buffer_.size() / 2;
    while (!lookup.answered || !twin.answered) {
      struct sockaddr_nl from[2] = {};
      struct iovec iov[2] = {{buffer_.data(), half}, {buffer_.data() + half, half}};
      struct mmsghdr mh[2] = {};
      for (int i = 0; i < 2; ++i) {
        mh[i].msg_hdr.msg_name = &from[i];
        mh[i].msg_hdr.msg_namelen = sizeof from[i];
        mh[i].msg_hdr.msg_iov = &iov[i];
        mh[i].msg_hdr.msg_iovlen = 1;
      }
      // MSG_WAITFORONE: block for the first datagram only, then take what is already queued.
      int got = recvmmsg(fd_, mh, 2, MSG_WAITFORONE, nullptr);
      if (got < 0) {
        if (errno == EINTR) continue;
        // The lookup's own answer is all a caller needs; a twin that never came is no error.
        if (lookup.answered) break;
        return Status::Fail(errno == EAGAIN ? ETIMEDOUT : errno, what);
      }
      for (int i = 0; i < got; ++i) {
        const struct msghdr& h = mh[i].msg_hdr;
        // Only the kernel may answer: another process (with CAP_NET_ADMIN) can send to our port.
        if (h.msg_namelen < sizeof from[i] || from[i].nl_family != AF_NETLINK ||
            from[i].nl_pid != 0) {
          continue;
        }
        if (h.msg_flags & MSG_TRUNC) return Status::Fail(EMSGSIZE, what);
        NetlinkMessageReader reader(static_cast<const uint8_t*>(iov[i].iov_base), mh[i].msg_len);
        NetlinkMessage msg;
        for (;;) {
          NetlinkMessageReader::Result r = reader.Next(&msg);
          if (r == NetlinkMessageReader::kEnd) break;
          if (r == NetlinkMessageReader::kMalformed) return Status::Fail(EBADMSG, what);
          if (msg.pid != 0 && msg.pid != port_id_) continue;
          // Replies to an earlier request that timed out may still be queued: skip them.
          PendingLookup* pending = msg.seq == lookup.seq ? &lookup
                                   : msg.seq == twin.seq ? &twin
                                                         : nullptr;
          if (pending == nullptr || pending->answered) continue;
          if (!AcceptLookupReply(msg, pending)) return Status::Fail(EBADMSG, what);
        }
      }
    }
    if (lookup.error != 0) return Status::Fail(lookup.error, what);
    if (!lookup.found) return Status::Fail(EBADMSG, what);
    *matched = twin.answered && twin.error == 0 && twin.found;
    return Status::Ok();
  }

  // Sends one request and feeds each reply message with our sequence number to `on_message`
  // until it returns false, NLMSG_DONE arrives, or the kernel answers with an error.
  Status Transact(const uint8_t* request, size_t len, uint32_t seq, const char* what,
                  const std::function<bool(const NetlinkMessage&)>& on_message,
                  bool* interrupted = nullptr) {
    struct sockaddr_nl kernel = {};
    kernel.nl_family = AF_NETLINK;
    ssize_t sent;
    do {
      sent = sendto(fd_, request, len, 0, reinterpret_cast<struct sockaddr*>(&kernel),
                    sizeof kernel);
    } while (sent < 0 && errno == EINTR);
    if (sent < 0) return Status::Fail(errno, what);

    for (;;) {
      struct sockaddr_nl from = {};
      struct iovec iov = {buffer_.data(), buffer_.size()};
      struct msghdr mh = {};
      mh.msg_name = &from;
      mh.msg_namelen = sizeof from;
      mh.msg_iov = &iov;
      mh.msg_iovlen = 1;
      ssize_t got = recvmsg(fd_, &mh, 0);
      if (got < 0) {
        if (errno == EINTR) continue;
        return Status::Fail(errno == EAGAIN ? ETIMEDOUT : errno, what);
      }
      // Only the kernel may answer: another process (with CAP_NET_ADMIN) can send to our port,
      // and its datagram must not count, even as a truncated one.
      if (mh.msg_namelen < sizeof from || from.nl_family != AF_NETLINK || from.nl_pid != 0) continue;
      if (mh.msg_flags & MSG_TRUNC) return Status::Fail(EMSGSIZE, what);

      NetlinkMessageReader reader(buffer_.data(), static_cast<size_t>(got));
      NetlinkMessage msg;
      for (;;) {
        NetlinkMessageReader::Result r = reader.Next(&msg);
        if (r == NetlinkMessageReader::kEnd) break;
        if (r == NetlinkMessageReader::kMalformed) return Status::Fail(EBADMSG, what);
        // Replies to an earlier request that timed out may still be queued: skip them.
        if (msg.seq != seq || (msg.pid != 0 && msg.pid != port_id_)) continue;
        if (interrupted != nullptr && (msg.flags & NLM_F_DUMP_INTR)) *interrupted = true;
        if (msg.type == NLMSG_ERROR) {
          int error = 0;
          if (!ParseErrorMessage(msg, &error)) return Status::Fail(EBADMSG, what);
          return error == 0 ? Status::Ok() : Status::Fail(error, what);
        }
        if (msg.type == NLMSG_DONE) {
          int error = ParseDoneError(msg);
          return error == 0 ? Status::Ok() : Status::Fail(error, what);
        }
        if (!on_message(msg)) return Status::Ok();
      }
    }
  }

  // A dump the kernel marks as interrupted (the table changed under it) is retried from scratch,
  // so callers never see half of an old table and half of a new one.
  Status Dump(uint16_t type, uint8_t version, const char* what,
              const std::function<void(const NetlinkMessage&)>& on_message,
              const std::function<void()>& reset) {
    for (int attempt = 0; attempt < kDumpRetries; ++attempt) {
      uint8_t request[64];
      uint32_t seq = ++seq_;
      size_t len = BuildDumpRequest(type, version, seq, request, sizeof request);
      if (len == 0) return Status::Fail(EINVAL, what);
      bool interrupted = false;
      Status s = Transact(request, len, seq, what, [&](const NetlinkMessage& msg) {
        on_message(msg);
        return true;
      }, &interrupted);
      if (!s.ok() || !interrupted) return s;
      reset();
    }
    return Status::Fail(EAGAIN, what);
  }

  int fd_ = -1;
  uint32_t port_id_ = 0;
  uint32_t seq_ = 0;
  std::vector<uint8_t> buffer_;
};

}  // namespace

Status RouteBackend::Create(std::unique_ptr<RouteBackend>* out) {
  auto backend = std::make_unique<NetlinkRouteBackend>();
  Status s = backend->Open();
  if (s.ok()) *out = std::move(backend);
  return s;
}

}  // namespace routebind
