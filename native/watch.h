// Change notifications for JS: the environment's one change feed (SharedFeed), which the
// route cache's coherence check, the link view and every ChangeWatcher share.
#pragma once

#include <napi.h>
#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "backend.h"

namespace routebind {

class AddonState;
class ChangeWatcher;

// One per environment. Sync() reads the feed without blocking (the cache check); while a
// watcher subscribes, the environment's loop reads it too (uv_poll on its fd, or uv_async when
// the OS signals from its own threads), and events read by
// either are queued and handed to each subscriber whose groups they match.
class SharedFeed {
 public:
  SharedFeed(napi_env env, AddonState* state, std::unique_ptr<ChangeFeed> feed)
      : env_(env), state_(state), feed_(std::move(feed)) {}
  ~SharedFeed();

  double generation() const { return generation_; }
  int receive_buffer() const { return feed_->receive_buffer(); }
  // Reads everything queued; see AddonState::Sync().
  void Sync();

  // A watcher hears what is announced from now on, in the groups it asks for.
  Status Subscribe(ChangeWatcher* watcher, uint32_t groups);
  void Unsubscribe(ChangeWatcher* watcher);
  // The loop is kept alive while any subscriber asks for it.
  void UpdateRef();

  // A parsed event, with the link names it refers to resolved when it was read (a later
  // announcement in the same batch may rename or remove those links).
  struct Queued {
    uint64_t seq = 0;
    ChangeEvent event;
    std::string oif_name;  // route: oif; address: the owning link
    std::string iif_name;
    std::vector<std::string> hop_names;
  };

 private:
  struct LoopHandles;

  void Drain();
  Status EnsureHandles();
  Status StartListening();
  void Schedule();
  void DeliverQueued();
  void RestartAfterError();
  void CloseHandles();
  static void OnReadable(uv_poll_t* handle, int status, int events);
  static void OnWoken(uv_async_t* handle);
  static void OnScheduled(uv_async_t* handle);
  static void OnTeardown(napi_async_cleanup_hook_handle hook, void* arg);

  napi_env env_;
  AddonState* state_;
  std::unique_ptr<ChangeFeed> feed_;
  double generation_ = 0;
  uint64_t next_seq_ = 0;
  uint32_t wanted_ = 0;  // union of the subscribers' groups
  std::vector<ChangeWatcher*> subscribers_;
  std::vector<Queued> queue_;
  LoopHandles* handles_ = nullptr;
  bool polling_ = false;
  bool delivering_ = false;
};

void InitWatch(Napi::Env env, Napi::Object exports);

}  // namespace routebind
