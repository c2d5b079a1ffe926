// The environment's one change feed (SharedFeed) and the ChangeWatcher class that subscribes to
// it: while anyone watches, the environment's own loop reads the feed (no thread of ours, no
// thread-pool slot), through a uv_poll_t on its fd (Linux, macOS) or a uv_async_t the OS's
// notification threads signal (Windows); feedGeneration() reads it without blocking for the
// route cache.
// Nothing here lets a C++ exception reach libuv, a cleanup hook or a finalizer: a worker may be
// terminated at any point, and then every call into JS fails.
#include "watch.h"

#include <algorithm>
#include <functional>

#include "addon_state.h"
#include "errors.h"
#include "js_objects.h"

namespace routebind {

namespace {

// Events read while JS was busy (a loop of routeTo() calls reads the feed) wait here for the
// loop. Past this many, the oldest are as good as lost: subscribers get an overrun instead.
constexpr size_t kMaxQueued = 8192;

const char* ActionName(const ChangeEvent& e) {
  if (e.removed) return "delete";
  if (e.kind == ChangeEvent::kLink) return e.created ? "add" : "change";
  return e.replaced ? "change" : "add";
}

}  // namespace

// new ChangeWatcher(groups, callback(events, overflowed, error))
class ChangeWatcher : public Napi::ObjectWrap<ChangeWatcher> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "ChangeWatcher",
                       {InstanceMethod("ref", &ChangeWatcher::RefLoop),
                        InstanceMethod("unref", &ChangeWatcher::UnrefLoop),
                        InstanceMethod("close", &ChangeWatcher::Close)});
  }

  explicit ChangeWatcher(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ChangeWatcher>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsNumber() || !info[1].IsFunction()) {
      throw TypedError(env, "TypeError", "ERR_INVALID_ARG_TYPE",
                       "ChangeWatcher(groups, callback) takes a number and a function");
    }
    groups_ = info[0].As<Napi::Number>().Uint32Value() & ChangeFeed::kEvents;
    AddonState* state = State(env);
    Status s = state->EnsureFeed();
    if (!s.ok()) throw SystemError(env, s);
    callback_ = Napi::Persistent(info[1].As<Napi::Function>());
    context_ = std::make_unique<Napi::AsyncContext>(env, "routebind:watch");
    s = state->feed()->Subscribe(this, groups_);
    if (!s.ok()) throw SystemError(env, s);
    feed_ = state->feed();
    // The JS object stays alive while subscribed, even if the caller drops it.
    Napi::ObjectWrap<ChangeWatcher>::Ref();
  }

  ~ChangeWatcher() override {
    try {
      if (feed_ != nullptr) feed_->Unsubscribe(this);
    } catch (...) {
    }
    feed_ = nullptr;
  }

  uint32_t groups() const { return groups_; }
  bool wants_loop() const { return wants_loop_; }

  // Hands one batch to JS. A listener's exception becomes the process's 'uncaughtException',
  // as it would from any event emitter; a failure to call JS at all (the environment is
  // ending) is dropped.
  void Call(Napi::Env env, Napi::Array events, bool overflowed, const Status& error) {
    Napi::Value err = error.ok() ? env.Undefined() : SystemError(env, error).Value();
    try {
      callback_.MakeCallback(Value(), {events, Napi::Boolean::New(env, overflowed), err}, *context_);
    } catch (const Napi::Error& e) {
      napi_value exception = e.Value();
      if (exception != nullptr) napi_fatal_exception(env, exception);
    }
  }

  // Set by the feed: events from this sequence number on are ours; an overrun or a poll
  // failure is reported with the next batch.
  uint64_t since = 0;
  bool overflowed = false;
  Status error;
  SharedFeed* feed_ = nullptr;

 private:
  Napi::Value RefLoop(const Napi::CallbackInfo& info) {
    wants_loop_ = true;
    if (feed_ != nullptr) feed_->UpdateRef();
    return info.This();
  }

  Napi::Value UnrefLoop(const Napi::CallbackInfo& info) {
    wants_loop_ = false;
    if (feed_ != nullptr) feed_->UpdateRef();
    return info.This();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (feed_ != nullptr) {
      feed_->Unsubscribe(this);
      feed_ = nullptr;
      Napi::ObjectWrap<ChangeWatcher>::Unref();
    }
    return info.Env().Undefined();
  }

  uint32_t groups_ = 0;
  bool wants_loop_ = false;
  Napi::FunctionReference callback_;
  std::unique_ptr<Napi::AsyncContext> context_;
};

// The loop's side of the feed. Its lifetime ends in libuv's close callbacks, which may come
// after the SharedFeed is gone, so it is allocated on its own.
struct SharedFeed::LoopHandles {
  // One of the two, by the feed's kind (ChangeFeed::fd()); both are closed the same way.
  union {
    uv_poll_t poll;
    uv_async_t ready;
  };
  bool polls = true;
  uv_async_t scheduled;
  SharedFeed* feed = nullptr;
  napi_async_cleanup_hook_handle hook = nullptr;
  int open = 0;
};

SharedFeed::~SharedFeed() {
  for (ChangeWatcher* w : subscribers_) w->feed_ = nullptr;
  subscribers_.clear();
  CloseHandles();
}

void SharedFeed::Sync() {
  Drain();
  if (!queue_.empty()) Schedule();
}

void SharedFeed::Drain() {
  bool overflowed = false;
  std::function<void(const ChangeEvent&)> on_event = [&](const ChangeEvent& e) {
    if ((e.group & wanted_) != 0 && queue_.size() < kMaxQueued) {
      queue_.emplace_back();
      Queued& q = queue_.back();
      q.seq = next_seq_++;
      q.event = e;
      auto name = [&](uint32_t index, std::string* out) {
        const std::string* known = index != 0 ? state_->LinkName(index) : nullptr;
        if (known != nullptr) *out = *known;
      };
      if (e.kind == ChangeEvent::kRoute) {
        name(e.route.oif, &q.oif_name);
        name(e.route.iif, &q.iif_name);
        q.hop_names.resize(e.route.nexthops.size());
        for (size_t i = 0; i < e.route.nexthops.size(); ++i) name(e.route.nexthops[i].ifindex, &q.hop_names[i]);
      } else if (e.kind == ChangeEvent::kAddress) {
        name(e.address.index, &q.oif_name);
      }
    } else if ((e.group & wanted_) != 0) {
      overflowed = true;  // JS has not taken events for too long
    }
    // Later announcements in this batch are named after the links as they are by then.
    if (e.kind == ChangeEvent::kLink) state_->ApplyLink(e.link, e.removed);
  };
  size_t count = feed_->Drain(wanted_, on_event, &overflowed);
  if (count == 0 && !overflowed) return;
  generation_ += 1;
  if (overflowed) {
    // What was lost may have renamed or removed links: the view starts again from the kernel.
    state_->ForgetLinks();
    queue_.clear();
    for (ChangeWatcher* w : subscribers_) w->overflowed = true;
    Schedule();
  }
}

Status SharedFeed::EnsureHandles() {
  if (handles_ != nullptr) return Status::Ok();
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env_, &loop) != napi_ok || loop == nullptr) {
    return Status::Fail(EINVAL, "uv_default_loop");
  }
  auto* h = new LoopHandles();
  h->polls = feed_->fd() >= 0;
  int err = h->polls ? uv_poll_init(loop, &h->poll, feed_->fd())
                     : uv_async_init(loop, &h->ready, OnWoken);
  if (err != 0) {
    const char* call = h->polls ? "uv_poll_init" : "uv_async_init";
    delete h;
    return Status::Fail(-err, call);
  }
  // Both members begin with libuv's handle fields: data, ref and close apply to either.
  h->poll.data = h;
  h->open = 1;
  err = uv_async_init(loop, &h->scheduled, OnScheduled);
  if (err == 0) {
    h->scheduled.data = h;
    h->open = 2;
    uv_unref(reinterpret_cast<uv_handle_t*>(&h->scheduled));
    uv_unref(reinterpret_cast<uv_handle_t*>(&h->poll));
    // An environment (a worker) that ends must close the handles before the addon is
    // unloaded: libuv calls the close callbacks later, into this code.
    if (napi_add_async_cleanup_hook(env_, OnTeardown, h, &h->hook) != napi_ok) err = UV_EINVAL;
  }
  h->feed = this;
  handles_ = h;
  if (err != 0) {
    CloseHandles();
    return Status::Fail(-err, "uv_async_init");
  }
  return Status::Ok();
}

void SharedFeed::CloseHandles() {
  LoopHandles* h = handles_;
  if (h == nullptr) return;
  // No OS thread may signal the handle once it is closing.
  if (!h->polls && polling_) feed_->StopWaking();
  handles_ = nullptr;
  polling_ = false;
  h->feed = nullptr;
  auto closed = [](uv_handle_t* handle) {
    auto* owner = static_cast<LoopHandles*>(handle->data);
    if (--owner->open > 0) return;
    napi_async_cleanup_hook_handle hook = owner->hook;
    delete owner;
    if (hook != nullptr) napi_remove_async_cleanup_hook(hook);  // only now may the addon go
  };
  int open = h->open;
  uv_close(reinterpret_cast<uv_handle_t*>(&h->poll), closed);
  if (open == 2) uv_close(reinterpret_cast<uv_handle_t*>(&h->scheduled), closed);
}

void SharedFeed::OnTeardown(napi_async_cleanup_hook_handle hook, void* arg) {
  auto* h = static_cast<LoopHandles*>(arg);
  h->hook = hook;
  try {
    if (h->feed != nullptr) h->feed->CloseHandles();
  } catch (...) {
  }
}

Status SharedFeed::Subscribe(ChangeWatcher* watcher, uint32_t groups) {
  Status s = EnsureHandles();
  if (!s.ok()) return s;
  // What was announced before the watcher existed is not its business.
  Sync();
  if (!polling_) {
    Status started = StartListening();
    if (!started.ok()) return started;
  }
  watcher->since = next_seq_;
  subscribers_.push_back(watcher);
  wanted_ |= groups;
  UpdateRef();
  return Status::Ok();
}

void SharedFeed::Unsubscribe(ChangeWatcher* watcher) {
  subscribers_.erase(std::remove(subscribers_.begin(), subscribers_.end(), watcher), subscribers_.end());
  wanted_ = 0;
  for (ChangeWatcher* w : subscribers_) wanted_ |= w->groups();
  if (subscribers_.empty()) {
    queue_.clear();
    // The cache check still reads the feed; only the loop stops watching it.
    if (polling_ && handles_ != nullptr) {
      if (handles_->polls) {
        uv_poll_stop(&handles_->poll);
      } else {
        feed_->StopWaking();
      }
    }
    polling_ = false;
  }
  UpdateRef();
}

void SharedFeed::UpdateRef() {
  if (handles_ == nullptr) return;
  bool wanted = std::any_of(subscribers_.begin(), subscribers_.end(), [](ChangeWatcher* w) { return w->wants_loop(); });
  auto* poll = reinterpret_cast<uv_handle_t*>(&handles_->poll);
  if (wanted) {
    uv_ref(poll);
  } else {
    uv_unref(poll);
  }
}

Status SharedFeed::StartListening() {
  if (handles_->polls) {
    int err = uv_poll_start(&handles_->poll, UV_READABLE, OnReadable);
    if (err != 0) return Status::Fail(-err, "uv_poll_start");
  } else {
    uv_async_t* ready = &handles_->ready;
    feed_->StartWaking([ready] { uv_async_send(ready); });
  }
  polling_ = true;
  return Status::Ok();
}

void SharedFeed::Schedule() {
  if (handles_ != nullptr && !subscribers_.empty()) uv_async_send(&handles_->scheduled);
}

void SharedFeed::OnReadable(uv_poll_t* handle, int status, int /*events*/) {
  auto* h = static_cast<LoopHandles*>(handle->data);
  SharedFeed* self = h->feed;
  if (self == nullptr) return;
  try {
    self->Drain();
    if (status < 0) self->RestartAfterError();
    self->DeliverQueued();
  } catch (...) {
    // The environment is ending (a terminated worker): nothing can be told to JS any more.
  }
}

// A feed without an fd signalled from the OS's thread: the same work as a readable fd.
void SharedFeed::OnWoken(uv_async_t* handle) {
  auto* h = static_cast<LoopHandles*>(handle->data);
  SharedFeed* self = h->feed;
  if (self == nullptr) return;
  try {
    self->Drain();
    self->DeliverQueued();
  } catch (...) {
  }
}

void SharedFeed::OnScheduled(uv_async_t* handle) {
  auto* h = static_cast<LoopHandles*>(handle->data);
  SharedFeed* self = h->feed;
  if (self == nullptr) return;
  try {
    self->DeliverQueued();
  } catch (...) {
  }
}

// libuv stops a poll handle whose fd reports POLLERR, which is how a netlink socket reports
// an overrun (ENOBUFS): unless restarted, nothing would ever be read again.
void SharedFeed::RestartAfterError() {
  generation_ += 1;
  state_->ForgetLinks();
  for (ChangeWatcher* w : subscribers_) w->overflowed = true;
  if (handles_ == nullptr || subscribers_.empty()) return;
  int err = uv_poll_start(&handles_->poll, UV_READABLE, OnReadable);
  if (err == 0) return;
  polling_ = false;
  for (ChangeWatcher* w : subscribers_) w->error = Status::Fail(-err, "uv_poll_start");
}

Napi::Object EventObject(Napi::Env env, const SharedFeed::Queued& q) {
  const ChangeEvent& e = q.event;
  Napi::Object o = Napi::Object::New(env);
  o.Set("action", ActionName(e));
  switch (e.kind) {
    case ChangeEvent::kRoute: {
      o.Set("kind", "route");
      Napi::Object entry = RouteObject(env, nullptr, e.route);
      if (!q.oif_name.empty()) entry.Set("oifName", q.oif_name);
      if (!q.iif_name.empty()) entry.Set("iifName", q.iif_name);
      if (!q.hop_names.empty() && entry.Has("nexthops")) {
        Napi::Array hops = entry.Get("nexthops").As<Napi::Array>();
        for (uint32_t i = 0; i < hops.Length() && i < q.hop_names.size(); ++i) {
          if (!q.hop_names[i].empty()) hops.Get(i).As<Napi::Object>().Set("interface", q.hop_names[i]);
        }
      }
      o.Set("entry", entry);
      break;
    }
    case ChangeEvent::kAddress:
      o.Set("kind", "address");
      o.Set("entry", AddressObject(env, e.address));
      if (!q.oif_name.empty()) o.Set("interface", q.oif_name);
      break;
    case ChangeEvent::kLink:
      o.Set("kind", "link");
      o.Set("entry", LinkObject(env, e.link));
      break;
  }
  return o;
}

void SharedFeed::DeliverQueued() {
  if (delivering_) return;
  bool anything = !queue_.empty();
  for (ChangeWatcher* w : subscribers_) anything = anything || w->overflowed || !w->error.ok();
  if (!anything) return;
  struct Guard {
    bool* flag;
    ~Guard() { *flag = false; }
  } guard{&delivering_};
  delivering_ = true;

  Napi::Env env(env_);
  Napi::HandleScope scope(env);
  std::vector<Queued> batch;
  batch.swap(queue_);
  std::vector<Napi::Value> objects(batch.size());
  // A listener may close any watcher, or open new ones: each is checked before it is called.
  std::vector<ChangeWatcher*> targets = subscribers_;
  for (ChangeWatcher* w : targets) {
    if (std::find(subscribers_.begin(), subscribers_.end(), w) == subscribers_.end()) continue;
    Napi::Array events = Napi::Array::New(env);
    uint32_t n = 0;
    for (size_t i = 0; i < batch.size(); ++i) {
      if ((batch[i].event.group & w->groups()) == 0 || batch[i].seq < w->since) continue;
      if (objects[i].IsEmpty()) objects[i] = EventObject(env, batch[i]);
      events.Set(n++, objects[i]);
    }
    bool overflowed = w->overflowed;
    Status error = w->error;
    w->overflowed = false;
    w->error = Status::Ok();
    if (n == 0 && !overflowed && error.ok()) continue;
    w->Call(env, events, overflowed, error);
  }
}

AddonState::AddonState(napi_env env) : env_(env) {}

AddonState::~AddonState() {
  try {
    feed_.reset();
  } catch (...) {
  }
}

Status AddonState::EnsureFeed() {
  if (feed_) return Status::Ok();
  std::unique_ptr<ChangeFeed> feed;
  Status s = ChangeFeed::Create(&feed);
  if (!s.ok()) return s;
  feed_ = std::make_unique<SharedFeed>(env_, this, std::move(feed));
  return Status::Ok();
}

double AddonState::Sync(Napi::Env env) {
  Status s = EnsureFeed();
  if (!s.ok()) throw SystemError(env, s);
  feed_->Sync();
  return feed_->generation();
}

namespace {

// The generation after reading what the kernel announced: the route cache's coherence check.
// One non-blocking recv() when nothing was announced.
Napi::Value FeedGeneration(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Napi::Number::New(env, State(env)->Sync(env));
}

// For tests and `routebind doctor`: what the feed was granted and who listens.
Napi::Value FeedInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AddonState* state = State(env);
  double generation = state->Sync(env);
  Napi::Object o = Napi::Object::New(env);
  o.Set("generation", generation);
  o.Set("receiveBuffer", state->feed()->receive_buffer());
  return o;
}

}  // namespace

void InitWatch(Napi::Env env, Napi::Object exports) {
  exports.Set("ChangeWatcher", ChangeWatcher::Define(env));
  exports.Set("feedGeneration", Napi::Function::New(env, FeedGeneration, "feedGeneration"));
  exports.Set("feedInfo", Napi::Function::New(env, FeedInfo, "feedInfo"));
  Napi::Object groups = Napi::Object::New(env);
  groups.Set("Routes4", static_cast<uint32_t>(ChangeFeed::kRoutes4));
  groups.Set("Routes6", static_cast<uint32_t>(ChangeFeed::kRoutes6));
  groups.Set("Addresses4", static_cast<uint32_t>(ChangeFeed::kAddresses4));
  groups.Set("Addresses6", static_cast<uint32_t>(ChangeFeed::kAddresses6));
  groups.Set("Links", static_cast<uint32_t>(ChangeFeed::kLinks));
  exports.Set("changeGroups", groups);
}

}  // namespace routebind
