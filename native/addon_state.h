// Per-environment state of the addon: the route backend, the one view of links (index ↔ name),
// the change feed that keeps every cache coherent, and the scratch buffer routeGet writes into.
#pragma once

#include <napi.h>

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "backend.h"
#include "errors.h"

namespace routebind {

class SharedFeed;  // watch.cc: the environment's change feed and its event-loop side

// One per Node environment (main thread, each worker): its own netlink sockets and link view,
// released when the environment exits.
class AddonState {
 public:
  // Both in watch.cc, where SharedFeed is complete.
  explicit AddonState(napi_env env);
  ~AddonState();

  Status EnsureBackend() {
    if (backend_) return Status::Ok();
    return RouteBackend::Create(&backend_);
  }
  RouteBackend* backend() { return backend_.get(); }

  // The environment's one change feed, opened on first use: every cache check, link lookup
  // and watcher reads the same socket. Fails only if the socket cannot be opened.
  Status EnsureFeed();
  SharedFeed* feed() { return feed_.get(); }

  // Reads what the kernel announced since the last call (one non-blocking recv() when nothing
  // was) and returns the generation: a number that moves on with every announcement and every
  // overrun. Everything cached (route answers in lib/, the link view here) is valid for one
  // generation. Throws a Node-style error if the feed cannot be opened.
  double Sync(Napi::Env env);

  // The link view. It is kept only while the feed is open, and the feed keeps it current: link
  // announcements update it in order (a rename moves a name, a deletion drops it) and an
  // overrun empties it. Callers Sync() first; these never read the feed themselves.
  const std::string* LinkName(uint32_t index) {
    auto it = names_.find(index);
    if (it != names_.end()) return &it->second;
    LinkInfo link;
    if (!backend_->GetLink(index, nullptr, &link).ok()) return nullptr;
    if (!feed_) {  // nothing would tell us when it goes stale: do not keep it
      uncached_name_ = link.name;
      return &uncached_name_;
    }
    Remember(link.index, link.name);
    return &names_[index];
  }

  Status LinkIndex(const std::string& name, uint32_t* index) {
    auto it = indexes_.find(name);
    if (it != indexes_.end()) {
      *index = it->second;
      return Status::Ok();
    }
    LinkInfo link;
    Status s = backend_->GetLink(0, name.c_str(), &link);
    if (!s.ok()) return s;
    if (feed_) Remember(link.index, link.name);
    *index = link.index;
    return Status::Ok();
  }

  // A full dump replaces the view: linear in the number of links.
  void ReplaceLinks(const std::vector<LinkInfo>& links) {
    ForgetLinks();
    if (!feed_) return;
    names_.reserve(links.size());
    indexes_.reserve(links.size());
    for (const LinkInfo& link : links) Remember(link.index, link.name);
  }

  // A link announcement, in the order the kernel sent it.
  void ApplyLink(const LinkInfo& link, bool removed) {
    if (removed) {
      Forget(link.index);
    } else {
      Remember(link.index, link.name);
    }
  }

  void ForgetLinks() {
    names_.clear();
    indexes_.clear();
  }

  double* route_scratch() { return route_scratch_; }
  Napi::ArrayBuffer CreateRouteScratch(Napi::Env env, size_t slots) {
    Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(env, slots * sizeof(double));
    route_scratch_ = static_cast<double*>(buffer.Data());
    scratch_ref_ = Napi::Persistent(buffer);
    return buffer;
  }

 private:
  // index → name and name → index agree at all times: a renamed link keeps its index but
  // another link may take its old name, so each update drops whichever pair it contradicts.
  void Remember(uint32_t index, const std::string& name) {
    auto old = names_.find(index);
    if (old != names_.end()) {
      if (old->second == name) return;
      auto back = indexes_.find(old->second);
      if (back != indexes_.end() && back->second == index) indexes_.erase(back);
    }
    auto taken = indexes_.find(name);
    if (taken != indexes_.end() && taken->second != index) names_.erase(taken->second);
    names_[index] = name;
    indexes_[name] = index;
  }

  void Forget(uint32_t index) {
    auto it = names_.find(index);
    if (it == names_.end()) return;
    auto back = indexes_.find(it->second);
    if (back != indexes_.end() && back->second == index) indexes_.erase(back);
    names_.erase(it);
  }

  napi_env env_;
  std::unique_ptr<RouteBackend> backend_;
  std::unique_ptr<SharedFeed> feed_;
  double* route_scratch_ = nullptr;
  Napi::Reference<Napi::ArrayBuffer> scratch_ref_;
  std::unordered_map<uint32_t, std::string> names_;
  std::unordered_map<std::string, uint32_t> indexes_;
  std::string uncached_name_;
};

// The state of this environment, with its backend open; throws a Node-style error if it cannot be.
AddonState* State(Napi::Env env);

}  // namespace routebind
