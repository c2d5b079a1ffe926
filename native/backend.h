// The one interface each OS implements to answer route, link and address questions. The addon
// code above it never sees netlink, PF_ROUTE or iphlpapi.
#pragma once

#include <memory>
#include <vector>

#include "route.h"

namespace routebind {

// A failed system call: the positive errno (or the OS's code mapped to one) and what failed.
struct Status {
  int error = 0;
  const char* syscall = nullptr;

  bool ok() const { return error == 0; }
  static Status Ok() { return Status(); }
  static Status Fail(int error, const char* syscall) { return Status{error, syscall}; }
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

}  // namespace routebind
