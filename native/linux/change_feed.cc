// Linux change feed: one non-blocking NETLINK_ROUTE socket joined to every rtnetlink multicast
// group that can change a route lookup's answer (rtnetlink(7), netlink(7)).
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "backend.h"
#include "netlink_parser.h"

namespace routebind {

namespace {

// The receive buffer, from measurement (kernel 6.18): each queued notification costs its skb's
// truesize, ~830 bytes for an IPv4 route and ~1,280 for an IPv6 route, whatever its payload. A
// link with 1,000 IPv6 routes going down queues 1,008 messages, 1.29 MB (IPv4 routes go
// silently with their link: 8 messages). 4 MiB holds a burst of ~3,200 IPv6 or ~5,000 IPv4
// route notifications; a larger burst overruns, and Drain() reports that so callers resync.
// The kernel doubles what SO_RCVBUF asks for (socket(7)), so ask for half.
constexpr int kWantedReceiveBuffer = 4 * 1024 * 1024;

// The groups joined, and what each is about.
struct Membership {
  int group;
  uint32_t bit;
};
constexpr Membership kMemberships[] = {
    {RTNLGRP_IPV4_ROUTE, ChangeFeed::kRoutes4},     {RTNLGRP_IPV6_ROUTE, ChangeFeed::kRoutes6},
    {RTNLGRP_IPV4_IFADDR, ChangeFeed::kAddresses4}, {RTNLGRP_IPV6_IFADDR, ChangeFeed::kAddresses6},
    {RTNLGRP_LINK, ChangeFeed::kLinks},             {RTNLGRP_IPV4_RULE, ChangeFeed::kRules},
    {RTNLGRP_IPV6_RULE, ChangeFeed::kRules},        {RTNLGRP_NEXTHOP, ChangeFeed::kNexthops},
    {RTNLGRP_IPV4_NETCONF, ChangeFeed::kNetconf},   {RTNLGRP_IPV6_NETCONF, ChangeFeed::kNetconf},
};

// The group a notification belongs to, from its type and (for routes and addresses) the
// family byte that opens every rtmsg and ifaddrmsg; 0 for anything else.
uint32_t GroupOf(const NetlinkMessage& msg) {
  uint8_t family = msg.payload_len >= 1 ? msg.payload[0] : 0;
  switch (msg.type) {
    case RTM_NEWROUTE:
    case RTM_DELROUTE:
      if (family == AF_INET) return ChangeFeed::kRoutes4;
      return family == AF_INET6 ? ChangeFeed::kRoutes6 : 0u;
    case RTM_NEWADDR:
    case RTM_DELADDR:
      if (family == AF_INET) return ChangeFeed::kAddresses4;
      return family == AF_INET6 ? ChangeFeed::kAddresses6 : 0u;
    case RTM_NEWLINK:
    case RTM_DELLINK:
      return ChangeFeed::kLinks;
    case RTM_NEWRULE:
    case RTM_DELRULE:
      return ChangeFeed::kRules;
    case RTM_NEWNEXTHOP:
    case RTM_DELNEXTHOP:
      return ChangeFeed::kNexthops;
    case RTM_NEWNETCONF:
    case RTM_DELNETCONF:
      return ChangeFeed::kNetconf;
    default:
      return 0;
  }
}

// The kernel announces a link that is new to this namespace (registered, or moved in) with
// every bit of ifi_change set; a change to a known link sets only the bits that changed.
bool IsNewLink(const NetlinkMessage& msg) {
  if (msg.type != RTM_NEWLINK || msg.payload_len < sizeof(struct ifinfomsg)) return false;
  struct ifinfomsg header;
  memcpy(&header, msg.payload, sizeof header);
  return header.ifi_change == ~0U;
}

class NetlinkChangeFeed : public ChangeFeed {
 public:
  ~NetlinkChangeFeed() override {
    if (fd_ >= 0) close(fd_);
  }

  Status Open() {
    fd_ = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
    if (fd_ < 0) return Status::Fail(errno, "socket");
    SizeReceiveBuffer();
    struct sockaddr_nl local = {};
    local.nl_family = AF_NETLINK;
    if (bind(fd_, reinterpret_cast<struct sockaddr*>(&local), sizeof local) < 0) {
      return Status::Fail(errno, "bind");
    }
    for (const Membership& m : kMemberships) {
      int group = m.group;
      if (setsockopt(fd_, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof group) < 0) {
        // Older kernels lack some groups (nexthop objects came in 5.3): what they lack cannot
        // change an answer there.
        if (errno == EINVAL) continue;
        return Status::Fail(errno, "setsockopt");
      }
    }
    buffer_.resize(64 * 1024);
    return Status::Ok();
  }

  int fd() const override { return fd_; }
  int receive_buffer() const override { return receive_buffer_; }

  size_t Drain(uint32_t parse, const std::function<void(const ChangeEvent&)>& on_event,
               bool* overflowed) override {
    size_t count = 0;
    for (;;) {
      // recvfrom, not recvmsg: the check that finds nothing queued is the route cache's whole
      // cost, and recvfrom is the cheaper call. MSG_TRUNC makes it return a datagram's full
      // length, so a truncated one shows as got > size.
      struct sockaddr_nl from = {};
      socklen_t from_len = sizeof from;
      ssize_t got = recvfrom(fd_, buffer_.data(), buffer_.size(), MSG_DONTWAIT | MSG_TRUNC,
                             reinterpret_cast<struct sockaddr*>(&from), &from_len);
      if (got < 0) {
        if (errno == EINTR) continue;
        if (errno == ENOBUFS) {  // the kernel dropped notifications: the caller must resync
          *overflowed = true;
          continue;
        }
        return count;  // EAGAIN: nothing more queued
      }
      // Another process with CAP_NET_ADMIN may send to a multicast group too: only the
      // kernel's own announcements (port 0) are believed.
      if (from_len < sizeof from || from.nl_family != AF_NETLINK || from.nl_pid != 0) continue;
      // A notification larger than the buffer lost its tail: as good as dropped.
      if (static_cast<size_t>(got) > buffer_.size()) {
        *overflowed = true;
        continue;
      }
      NetlinkMessageReader reader(buffer_.data(), static_cast<size_t>(got));
      NetlinkMessage msg;
      while (reader.Next(&msg) == NetlinkMessageReader::kMessage) {
        ++count;
        uint32_t group = GroupOf(msg);
        if (group == 0 || (group & (parse | kLinks)) == 0) continue;
        Deliver(msg, group, on_event);
      }
    }
  }

 private:
  void SizeReceiveBuffer() {
    // Ask without privilege first; FORCE (CAP_NET_ADMIN) only when rmem_max capped the answer.
    int half = kWantedReceiveBuffer / 2;
    setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &half, sizeof half);
    receive_buffer_ = CurrentReceiveBuffer();
    if (receive_buffer_ < kWantedReceiveBuffer &&
        setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &half, sizeof half) == 0) {
      receive_buffer_ = CurrentReceiveBuffer();
    }
  }

  int CurrentReceiveBuffer() const {
    int size = 0;
    socklen_t len = sizeof size;
    if (getsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &size, &len) < 0) return 0;
    return size;
  }

  static void Deliver(const NetlinkMessage& msg, uint32_t group,
                      const std::function<void(const ChangeEvent&)>& on_event) {
    ChangeEvent event;
    event.group = group;
    event.removed = msg.type == RTM_DELROUTE || msg.type == RTM_DELADDR || msg.type == RTM_DELLINK;
    event.replaced = (msg.flags & NLM_F_REPLACE) != 0;
    if (group & (kRoutes4 | kRoutes6)) {
      if (!ParseRouteMessage(msg, &event.route)) return;
      event.kind = ChangeEvent::kRoute;
    } else if (group & (kAddresses4 | kAddresses6)) {
      if (!ParseAddressMessage(msg, &event.address)) return;
      event.kind = ChangeEvent::kAddress;
    } else if (group == kLinks) {
      if (!ParseLinkMessage(msg, &event.link)) return;
      event.kind = ChangeEvent::kLink;
      event.created = IsNewLink(msg);
    } else {
      return;
    }
    on_event(event);
  }

  int fd_ = -1;
  int receive_buffer_ = 0;
  std::vector<uint8_t> buffer_;
};

}  // namespace

Status ChangeFeed::Create(std::unique_ptr<ChangeFeed>* out) {
  auto feed = std::make_unique<NetlinkChangeFeed>();
  Status s = feed->Open();
  if (s.ok()) *out = std::move(feed);
  return s;
}

}  // namespace routebind
