// macOS change feed: a non-blocking PF_ROUTE socket (route(4)), which receives every routing
// message the kernel sends: route, address and interface changes, and every process's lookups.
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/route.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

#include "backend.h"
#include "route_message.h"

namespace routebind {

namespace {

// Room for a burst of a few thousand notifications. Unlike Linux, xnu drops a message that does
// not fit without telling the reader (raw_input ignores sbappendaddr's ENOBUFS), so this buffer
// is the only guard: a larger burst between two drains goes unnoticed. macOS caps it at
// kern.ipc.maxsockbuf.
constexpr int kWantedReceiveBuffer = 4 * 1024 * 1024;

class PfRouteChangeFeed : public ChangeFeed {
 public:
  ~PfRouteChangeFeed() override {
    if (fd_ >= 0) close(fd_);
  }

  Status Open() {
    fd_ = socket(PF_ROUTE, SOCK_RAW, AF_UNSPEC);
    if (fd_ < 0) return Status::Fail(errno, "socket");
    // No SOCK_CLOEXEC / SOCK_NONBLOCK on macOS.
    if (fcntl(fd_, F_SETFD, FD_CLOEXEC) < 0) return Status::Fail(errno, "fcntl");
    int fl = fcntl(fd_, F_GETFL);
    if (fl < 0 || fcntl(fd_, F_SETFL, fl | O_NONBLOCK) < 0) return Status::Fail(errno, "fcntl");
    // Ask for less when the cap refuses the whole: any buffer is better than the default 8 KiB.
    for (int size = kWantedReceiveBuffer; size >= 64 * 1024; size /= 2) {
      if (setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &size, sizeof size) == 0) break;
    }
    int size = 0;
    socklen_t len = sizeof size;
    if (getsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &size, &len) == 0) receive_buffer_ = size;
    buffer_.resize(64 * 1024);
    return Status::Ok();
  }

  int fd() const override { return fd_; }
  int receive_buffer() const override { return receive_buffer_; }

  size_t Drain(uint32_t parse, const std::function<void(const ChangeEvent&)>& on_event,
               bool* overflowed) override {
    size_t count = 0;
    for (;;) {
      ssize_t got = recv(fd_, buffer_.data(), buffer_.size(), MSG_DONTWAIT);
      if (got < 0) {
        if (errno == EINTR) continue;
        if (errno == ENOBUFS) {  // should a kernel ever say it dropped messages: resync
          *overflowed = true;
          continue;
        }
        return count;  // EAGAIN: nothing more queued
      }
      if (got == 0) return count;
      PfRouteReader reader(buffer_.data(), static_cast<size_t>(got));
      PfRouteMessage msg;
      for (;;) {
        PfRouteReader::Result r = reader.Next(&msg);
        if (r == PfRouteReader::kEnd) break;
        if (r == PfRouteReader::kMalformed) {  // cannot tell what it announced: resync
          *overflowed = true;
          break;
        }
        count += Handle(msg, parse, on_event);
      }
    }
  }

 private:
  // One message: 1 when it may change a lookup's answer (it counts for the cache), else 0.
  static size_t Handle(const PfRouteMessage& msg, uint32_t parse,
                       const std::function<void(const ChangeEvent&)>& on_event) {
    ChangeEvent event;
    ChangeParse r = ParseChangeMessage(msg, &event);
    if (r != ChangeParse::kEvent) return r == ChangeParse::kCounted ? 1 : 0;
    if (event.kind == ChangeEvent::kLink && event.link.name.empty()) {
      // RTM_IFINFO carries no name; an index the kernel no longer knows has gone (macOS
      // announces departures through kernel events, not the routing socket).
      char name[IF_NAMESIZE];
      if (if_indextoname(event.link.index, name) != nullptr) {
        event.link.name = name;
      } else {
        event.removed = true;
      }
    }
    if ((event.group & (parse | kLinks)) != 0) on_event(event);
    return 1;
  }

  int fd_ = -1;
  int receive_buffer_ = 0;
  std::vector<uint8_t> buffer_;
};

}  // namespace

Status ChangeFeed::Create(std::unique_ptr<ChangeFeed>* out) {
  auto feed = std::make_unique<PfRouteChangeFeed>();
  Status s = feed->Open();
  if (s.ok()) *out = std::move(feed);
  return s;
}

}  // namespace routebind
