// Per-environment state of the addon: the route backend, the link name cache, the change feed
// that keeps caches coherent, and the scratch buffer routeGet writes its numbers into.
#pragma once

#include <napi.h>

#include <memory>
#include <string>
#include <unordered_map>

#include "backend.h"
#include "errors.h"

namespace routebind {

// One per Node environment (main thread, each worker): its own netlink socket and name cache,
// released by the environment's cleanup when it exits.
class AddonState {
 public:
  Status EnsureBackend() {
    if (backend_) return Status::Ok();
    return RouteBackend::Create(&backend_);
  }
  RouteBackend* backend() { return backend_.get(); }

  // Index → name, asking the kernel only on a miss: if_indextoname costs a socket and an ioctl.
  const std::string* LinkName(uint32_t index) {
    auto it = names_.find(index);
    if (it != names_.end()) return &it->second;
    LinkInfo link;
    if (!backend_->GetLink(index, nullptr, &link).ok()) return nullptr;
    Remember(link.index, link.name);
    return &names_[index];
  }

  Status LinkIndex(const std::string& name, uint32_t* index) {
    for (const auto& entry : names_) {
      if (entry.second == name) {
        *index = entry.first;
        return Status::Ok();
      }
    }
    LinkInfo link;
    Status s = backend_->GetLink(0, name.c_str(), &link);
    if (!s.ok()) return s;
    Remember(link.index, link.name);
    *index = link.index;
    return Status::Ok();
  }

  void Remember(uint32_t index, const std::string& name) {
    // A renamed link keeps its index but a new link may take an old name: drop both stale pairs.
    for (auto it = names_.begin(); it != names_.end();) {
      it = (it->second == name && it->first != index) ? names_.erase(it) : std::next(it);
    }
    names_[index] = name;
  }

  void ForgetLinks() { names_.clear(); }

  // A change feed subscribed to every route, address and link group. Something pending on it
  // means a cached answer may be stale.
  Status EnsureChangeFeed() {
    if (feed_) return Status::Ok();
    return ChangeFeed::Create(ChangeFeed::kAll, &feed_);
  }
  ChangeFeed* feed() { return feed_.get(); }

  double* route_scratch() { return route_scratch_; }
  Napi::ArrayBuffer CreateRouteScratch(Napi::Env env, size_t slots) {
    Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(env, slots * sizeof(double));
    route_scratch_ = static_cast<double*>(buffer.Data());
    scratch_ref_ = Napi::Persistent(buffer);
    return buffer;
  }

 private:
  std::unique_ptr<RouteBackend> backend_;
  std::unique_ptr<ChangeFeed> feed_;
  double* route_scratch_ = nullptr;
  Napi::Reference<Napi::ArrayBuffer> scratch_ref_;
  std::unordered_map<uint32_t, std::string> names_;
};

// The state of this environment, with its backend open; throws a Node-style error if it cannot be.
AddonState* State(Napi::Env env);

}  // namespace routebind
