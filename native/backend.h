// The one interface each OS implements to answer route, link and address questions. The addon
// code above it never sees netlink, PF_ROUTE or iphlpapi.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <vector>

#include "route.h"

namespace routebind {

// A failed system call: the positive errno (or the OS's code mapped to one) and what failed.
// Windows also keeps the Win32 error it mapped from (win32) and may say more (detail, a static
// string): only there, so the POSIX Status stays two registers wide on the lookup's hot path.
struct Status {
  int error = 0;
  const char* syscall = nullptr;
#ifdef _WIN32
  unsigned long win32 = 0;
  const char* detail = nullptr;
#endif

  bool ok() const { return error == 0; }
  static Status Ok() { return Status(); }
  static Status Fail(int error, const char* syscall) {
    Status s;
    s.error = error;
    s.syscall = syscall;
    return s;
  }
};

class RouteBackend {
 public:
  virtual ~RouteBackend() = default;

  // Opens what the backend needs (a netlink socket on Linux). Called once per environment.
  static Status Create(std::unique_ptr<RouteBackend>* out);

  virtual Status RouteGet(const RouteQuery& query, RouteInfo* out) = 0;
  // version 0 = every family.
  virtual Status DumpRoutes(uint8_t version, std::vector<RouteInfo>* out) = 0;
  virtual Status DumpLinks(std::vector<LinkInfo>* out) = 0;
  virtual Status DumpAddresses(uint8_t version, std::vector<AddressInfo>* out) = 0;
  // One link, by index, or by name when name is not null. ENODEV when there is none.
  virtual Status GetLink(uint32_t index, const char* name, LinkInfo* out) = 0;
};

// One notification of the kernel's: a route, address or link that appeared, changed or went.
struct ChangeEvent {
  enum Kind : uint8_t { kRoute, kAddress, kLink };
  Kind kind = kRoute;
  uint32_t group = 0;     // the ChangeFeed::Groups bit it was announced on
  bool removed = false;   // RTM_DEL*
  bool replaced = false;  // NLM_F_REPLACE: an existing entry changed
  bool created = false;   // a link new to this namespace (not a change of a known one)
  RouteInfo route;
  AddressInfo address;
  LinkInfo link;
};

// A non-blocking source of change notifications (rtnetlink multicast groups on Linux, a PF_ROUTE
// socket on macOS, iphlpapi callbacks on Windows), one per environment, joined to every group
// that can change a route lookup's answer. Drain() never blocks. The event loop learns that
// there is something to drain in one of two ways: a POSIX feed is a pollable fd (uv_poll, and
// the cache check costs one recv()); a feed whose OS calls back on threads of its own returns
// fd() == -1 and calls the wake-up it was given from those threads instead (uv_async).
class ChangeFeed {
 public:
  // What a notification is about. Rules, nexthop objects and per-interface settings (netconf)
  // change lookups' answers too; they invalidate caches but are not parsed into events.
  enum Groups : uint32_t {
    kRoutes4 = 1, kRoutes6 = 2, kAddresses4 = 4, kAddresses6 = 8, kLinks = 16,
    kRules = 32, kNexthops = 64, kNetconf = 128,
    kEvents = 31,  // the groups that Drain() can parse into ChangeEvents
    kAll = 255,
  };

  virtual ~ChangeFeed() = default;
  static Status Create(std::unique_ptr<ChangeFeed>* out);

  // The fd the loop polls, or -1 for a feed that wakes the loop itself (StartWaking).
  virtual int fd() const { return -1; }
  // For fd() == -1 feeds: `wake` may be called from any thread, any number of times, until
  // StopWaking() returns (which waits for callbacks in flight).
  virtual void StartWaking(std::function<void()> wake) { (void)wake; }
  virtual void StopWaking() {}
  // The receive buffer the kernel granted (bytes of queued notifications it holds).
  virtual int receive_buffer() const = 0;
  // Reads everything queued, accepting only messages the kernel sent. Link notifications, and
  // the others whose group is in `parse`, are parsed and passed to `on_event` in order;
  // *overflowed is set when notifications were lost (ENOBUFS). Returns how many kernel
  // messages were read, parsed or not.
  virtual size_t Drain(uint32_t parse, const std::function<void(const ChangeEvent&)>& on_event,
                       bool* overflowed) = 0;
};

}  // namespace routebind
