// The Windows ChangeFeed: NotifyRouteChange2, NotifyUnicastIpAddressChange and
// NotifyIpInterfaceChange (iphlpapi, MSDN) call back on the OS's thread pool; the rows wait in
// a queue until the JS thread drains them.
//
// What Windows guarantees, and what it does not: each change to the routing table, to a
// unicast address or to an interface's IP settings is reported once, after it took effect, on a
// thread-pool thread, in no promised order across the three registrations and with no bound on
// the delay. There is no call that asks "has anything changed up to now?" (Linux's feed is a
// socket whose queue is complete the moment the change is made; a non-blocking recv() answers
// that exactly). So feedGeneration() here only knows what has been delivered so far: a lookup
// right after a change can still be answered from a cache entry whose invalidation is in
// flight. That is why lib/ turns the route cache off by default on Windows.
// Nor is every change that matters announced: renaming an adapter (its friendly name) changes no
// IP setting, so no callback comes, and the link view keeps the old name until a dumpLinks().
// Under Wine 8 the registrations succeed but never call back.
#include <errno.h>

#include <mutex>
#include <utility>

#include "iphlp.h"

namespace routebind {
namespace win {

namespace {

// Rows not yet drained. Nothing bounds how long JS may leave them (a process that never makes
// another lookup): past this many, the rest are dropped and the next Drain reports an overrun.
constexpr size_t kMaxPending = 4096;

class WinChangeFeed : public ChangeFeed {
 public:
  ~WinChangeFeed() override {
    // CancelMibChangeNotify2 returns after any callback in flight has returned, so nothing
    // touches this object afterwards. It must not be called while holding mutex_: a callback
    // waiting for it would never return.
    for (HANDLE* handle : {&route_handle_, &address_handle_, &interface_handle_}) {
      if (*handle != nullptr) CancelMibChangeNotify2(*handle);
      *handle = nullptr;
    }
  }

  Status Open() {
    DWORD err = NotifyRouteChange2(AF_UNSPEC, OnRoute, this, FALSE, &route_handle_);
    if (err != NO_ERROR) return Win32Status(err, "NotifyRouteChange2");
    err = NotifyUnicastIpAddressChange(AF_UNSPEC, OnAddress, this, FALSE, &address_handle_);
    if (err != NO_ERROR) return Win32Status(err, "NotifyUnicastIpAddressChange");
    err = NotifyIpInterfaceChange(AF_UNSPEC, OnInterface, this, FALSE, &interface_handle_);
    if (err != NO_ERROR) return Win32Status(err, "NotifyIpInterfaceChange");
    return Status::Ok();
  }

  // The registrations stay for the feed's whole life, watched or not: the cache check and the
  // link view read the queue too, and a change made while nobody watched must still count.
  void StartWaking(std::function<void()> wake) override {
    std::lock_guard<std::mutex> lock(mutex_);
    wake_ = std::move(wake);
    if (!pending_.empty() || lost_) wake_();
  }

  // wake_ is only ever called with mutex_ held, so once this returns no call is in flight.
  void StopWaking() override {
    std::lock_guard<std::mutex> lock(mutex_);
    wake_ = nullptr;
  }

  // There is no kernel buffer here: what the queue holds before it reports an overrun.
  int receive_buffer() const override { return static_cast<int>(kMaxPending * sizeof(Pending)); }

  size_t Drain(uint32_t parse, const std::function<void(const ChangeEvent&)>& on_event,
               bool* overflowed) override {
    std::vector<Pending> batch;
    bool lost = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      batch.swap(pending_);
      lost = lost_;
      lost_ = false;
    }
    if (lost) *overflowed = true;
    for (const Pending& p : batch) {
      if (!p.has_row) {
        // A notification without its row says only that something changed: resync.
        *overflowed = true;
        continue;
      }
      ChangeEvent e;
      e.kind = p.kind;
      e.removed = p.type == MibDeleteInstance;
      e.replaced = p.type == MibParameterNotification;
      e.created = p.type == MibAddInstance;
      switch (p.kind) {
        case ChangeEvent::kRoute: {
          ADDRESS_FAMILY family = p.route.DestinationPrefix.Prefix.si_family;
          e.group = family == AF_INET6 ? ChangeFeed::kRoutes6 : ChangeFeed::kRoutes4;
          if ((parse & e.group) == 0) continue;
          uint32_t metric = 0;
          if (!e.removed) InterfaceMetric(family, p.route.InterfaceIndex, &metric);
          e.route = RouteFromRow(p.route, metric);
          break;
        }
        case ChangeEvent::kAddress: {
          e.group = p.address.Address.si_family == AF_INET6 ? ChangeFeed::kAddresses6 : ChangeFeed::kAddresses4;
          if ((parse & e.group) == 0) continue;
          e.address = AddressFromRow(p.address);
          break;
        }
        case ChangeEvent::kLink: {
          // Always parsed: the link view (index ↔ name) follows these. The row has no name;
          // the adapter list has, unless the interface went in the meantime.
          e.group = ChangeFeed::kLinks;
          uint32_t index = p.link.InterfaceIndex;
          if (e.removed || !FindLink(index, nullptr, &e.link).ok()) {
            e.link = LinkInfo();
            e.link.index = index;
            e.link.luid = p.link.InterfaceLuid.Value;
            e.removed = true;
            e.replaced = false;
            e.created = false;
          }
          break;
        }
      }
      on_event(e);
    }
    return batch.size();
  }

 private:
  struct Pending {
    ChangeEvent::Kind kind = ChangeEvent::kRoute;
    MIB_NOTIFICATION_TYPE type = MibParameterNotification;
    bool has_row = false;
    MIB_IPFORWARD_ROW2 route;
    MIB_UNICASTIPADDRESS_ROW address;
    MIB_IPINTERFACE_ROW link;
  };

  // Runs on an OS thread: copy the row, queue it, wake the loop. Nothing here may throw.
  template <typename Row>
  void Push(ChangeEvent::Kind kind, const Row* row, MIB_NOTIFICATION_TYPE type, Row Pending::*slot) {
    if (type == MibInitialNotification) return;
    std::lock_guard<std::mutex> lock(mutex_);
    if (pending_.size() >= kMaxPending) {
      lost_ = true;
    } else {
      try {
        pending_.emplace_back();
        Pending& p = pending_.back();
        p.kind = kind;
        p.type = type;
        p.has_row = row != nullptr;
        if (row != nullptr) p.*slot = *row;
      } catch (...) {  // out of memory: as good as lost
        lost_ = true;
      }
    }
    if (wake_) wake_();
  }

  static void WINAPI OnRoute(PVOID context, PMIB_IPFORWARD_ROW2 row, MIB_NOTIFICATION_TYPE type) {
    static_cast<WinChangeFeed*>(context)->Push(ChangeEvent::kRoute, row, type, &Pending::route);
  }
  static void WINAPI OnAddress(PVOID context, PMIB_UNICASTIPADDRESS_ROW row, MIB_NOTIFICATION_TYPE type) {
    static_cast<WinChangeFeed*>(context)->Push(ChangeEvent::kAddress, row, type, &Pending::address);
  }
  static void WINAPI OnInterface(PVOID context, PMIB_IPINTERFACE_ROW row, MIB_NOTIFICATION_TYPE type) {
    static_cast<WinChangeFeed*>(context)->Push(ChangeEvent::kLink, row, type, &Pending::link);
  }

  std::mutex mutex_;
  std::vector<Pending> pending_;
  bool lost_ = false;
  std::function<void()> wake_;
  HANDLE route_handle_ = nullptr;
  HANDLE address_handle_ = nullptr;
  HANDLE interface_handle_ = nullptr;
};

}  // namespace

}  // namespace win

Status ChangeFeed::Create(std::unique_ptr<ChangeFeed>* out) {
  auto feed = std::make_unique<win::WinChangeFeed>();
  Status s = feed->Open();  // a failure part-way cancels what was registered (destructor)
  if (!s.ok()) return s;
  *out = std::move(feed);
  return Status::Ok();
}

}  // namespace routebind
