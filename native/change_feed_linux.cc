// Linux change feed: a non-blocking NETLINK_ROUTE socket joined to the rtnetlink multicast groups
// (rtnetlink(7): RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE, RTNLGRP_IPV4_IFADDR, …, RTNLGRP_LINK).
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

#include "backend.h"
#include "netlink_parser.h"

namespace routebind {

namespace {

// Notifications arrive in bursts (a link going down withdraws all its routes at once); a large
// receive buffer makes overruns rare, and Drain() reports the ones that still happen.
constexpr int kReceiveBuffer = 4 * 1024 * 1024;

class NetlinkChangeFeed : public ChangeFeed {
 public:
  ~NetlinkChangeFeed() override {
    if (fd_ >= 0) close(fd_);
  }

  Status Open(uint32_t groups) {
    fd_ = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
    if (fd_ < 0) return Status::Fail(errno, "socket");
    int size = kReceiveBuffer;
    // FORCE needs CAP_NET_ADMIN; without it the plain option is capped by rmem_max.
    if (setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0) {
      setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    }
    struct sockaddr_nl local = {};
    local.nl_family = AF_NETLINK;
    if (bind(fd_, reinterpret_cast<struct sockaddr*>(&local), sizeof local) < 0) {
      return Status::Fail(errno, "bind");
    }
    const std::pair<uint32_t, int> memberships[] = {
        {kRoutes4, RTNLGRP_IPV4_ROUTE}, {kRoutes6, RTNLGRP_IPV6_ROUTE},
        {kAddresses4, RTNLGRP_IPV4_IFADDR}, {kAddresses6, RTNLGRP_IPV6_IFADDR},
        {kLinks, RTNLGRP_LINK}};
    for (const auto& m : memberships) {
      if ((groups & m.first) == 0) continue;
      int group = m.second;
      if (setsockopt(fd_, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof group) < 0) {
        return Status::Fail(errno, "setsockopt");
      }
    }
    buffer_.resize(64 * 1024);
    return Status::Ok();
  }

  int fd() const override { return fd_; }

  size_t Drain(const std::function<void(const ChangeEvent&)>* on_event, bool* overflowed) override {
    size_t count = 0;
    for (;;) {
      ssize_t got = recv(fd_, buffer_.data(), buffer_.size(), MSG_DONTWAIT);
      if (got < 0) {
        if (errno == EINTR) continue;
        if (errno == ENOBUFS) {  // the kernel dropped notifications: the caller must resync
          *overflowed = true;
          continue;
        }
        return count;  // EAGAIN: nothing more queued
      }
      NetlinkMessageReader reader(buffer_.data(), static_cast<size_t>(got));
      NetlinkMessage msg;
      while (reader.Next(&msg) == NetlinkMessageReader::kMessage) {
        ++count;
        if (on_event != nullptr) Deliver(msg, *on_event);
      }
    }
  }

 private:
  static void Deliver(const NetlinkMessage& msg, const std::function<void(const ChangeEvent&)>& on_event) {
    ChangeEvent event;
    event.removed = msg.type == RTM_DELROUTE || msg.type == RTM_DELADDR || msg.type == RTM_DELLINK;
    event.replaced = (msg.flags & NLM_F_REPLACE) != 0;
    if (ParseRouteMessage(msg, &event.route)) {
      event.kind = ChangeEvent::kRoute;
    } else if (ParseAddressMessage(msg, &event.address)) {
      event.kind = ChangeEvent::kAddress;
    } else if (ParseLinkMessage(msg, &event.link)) {
      event.kind = ChangeEvent::kLink;
    } else {
      return;
    }
    on_event(event);
  }

  int fd_ = -1;
  std::vector<uint8_t> buffer_;
};

}  // namespace

Status ChangeFeed::Create(uint32_t groups, std::unique_ptr<ChangeFeed>* out) {
  auto feed = std::make_unique<NetlinkChangeFeed>();
  Status s = feed->Open(groups);
  if (s.ok()) *out = std::move(feed);
  return s;
}

}  // namespace routebind
