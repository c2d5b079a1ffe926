// ChangeWatcher: a ChangeFeed watched by a uv_poll_t on the environment's own loop (no thread,
// no thread-pool slot), delivering parsed events to a JS callback. changesPending(): drains the
// environment's feed and says whether anything changed since the last call.
#include "watch.h"

#include <uv.h>

#include <memory>

#include "addon_state.h"
#include "backend.h"
#include "errors.h"
#include "js_objects.h"

namespace routebind {

namespace {

const char* ActionName(const ChangeEvent& e) {
  if (e.removed) return "delete";
  return e.replaced ? "change" : "add";
}

class ChangeWatcher : public Napi::ObjectWrap<ChangeWatcher> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "ChangeWatcher",
                       {InstanceMethod("ref", &ChangeWatcher::RefPoll),
                        InstanceMethod("unref", &ChangeWatcher::UnrefPoll),
                        InstanceMethod("close", &ChangeWatcher::Close)});
  }

  // new ChangeWatcher(groups, callback(events, overflowed))
  explicit ChangeWatcher(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ChangeWatcher>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsNumber() || !info[1].IsFunction()) {
      throw TypedError(env, "TypeError", "ERR_INVALID_ARG_TYPE",
                       "ChangeWatcher(groups, callback) takes a number and a function");
    }
    uint32_t groups = info[0].As<Napi::Number>().Uint32Value() & ChangeFeed::kAll;
    Status s = ChangeFeed::Create(groups, &feed_);
    if (!s.ok()) throw SystemError(env, s);
    callback_ = Napi::Persistent(info[1].As<Napi::Function>());
    context_ = std::make_unique<Napi::AsyncContext>(env, "routebind:watch");
    state_ = State(env);

    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    poll_ = new uv_poll_t;
    int err = uv_poll_init(loop, poll_, feed_->fd());
    if (err == 0) {
      poll_->data = this;
      err = uv_poll_start(poll_, UV_READABLE, OnReadable);
    }
    if (err != 0) {
      delete poll_;
      poll_ = nullptr;
      throw SystemError(env, Status::Fail(-err, "uv_poll_start"));
    }
    // The JS object stays alive while the poll is open, even if the caller drops it.
    Napi::ObjectWrap<ChangeWatcher>::Ref();
    // An environment (a worker) that ends with the watcher open must close the poll handle
    // before the addon is unloaded: libuv calls the close callback later, into our code.
    napi_add_async_cleanup_hook(env, OnTeardown, this, &teardown_hook_);
  }

  ~ChangeWatcher() override { Stop(); }

 private:
  static void OnTeardown(napi_async_cleanup_hook_handle hook, void* arg) {
    auto* self = static_cast<ChangeWatcher*>(arg);
    self->teardown_hook_ = nullptr;
    self->context_.reset();
    self->callback_.Reset();
    if (self->poll_ == nullptr) {
      napi_remove_async_cleanup_hook(hook);
      return;
    }
    uv_poll_stop(self->poll_);
    self->poll_->data = hook;
    uv_close(reinterpret_cast<uv_handle_t*>(self->poll_), [](uv_handle_t* h) {
      auto hook = static_cast<napi_async_cleanup_hook_handle>(h->data);
      delete reinterpret_cast<uv_poll_t*>(h);
      napi_remove_async_cleanup_hook(hook);  // only now may the addon be unloaded
    });
    self->poll_ = nullptr;
    self->feed_.reset();
  }

  static void OnReadable(uv_poll_t* handle, int status, int /*events*/) {
    auto* self = static_cast<ChangeWatcher*>(handle->data);
    self->Deliver(status);
  }

  void Deliver(int status) {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    Napi::Array events = Napi::Array::New(env);
    uint32_t n = 0;
    bool overflowed = status < 0;
    std::function<void(const ChangeEvent&)> on_event = [&](const ChangeEvent& e) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("action", ActionName(e));
      switch (e.kind) {
        case ChangeEvent::kRoute:
          o.Set("kind", "route");
          o.Set("entry", RouteObject(env, state_, e.route));
          break;
        case ChangeEvent::kAddress:
          o.Set("kind", "address");
          o.Set("entry", AddressObject(env, e.address));
          break;
        case ChangeEvent::kLink:
          // A renamed or removed link must not keep its old name in the cache.
          state_->ForgetLinks();
          o.Set("kind", "link");
          o.Set("entry", LinkObject(env, e.link));
          break;
      }
      events.Set(n++, o);
    };
    if (feed_) feed_->Drain(&on_event, &overflowed);
    if (n == 0 && !overflowed) return;
    try {
      callback_.MakeCallback(Value(), {events, Napi::Boolean::New(env, overflowed)}, *context_);
    } catch (const Napi::Error& e) {
      // As an exception thrown by an event listener: the process's 'uncaughtException'.
      napi_fatal_exception(env, e.Value());
    }
  }

  Napi::Value RefPoll(const Napi::CallbackInfo& info) {
    if (poll_ != nullptr) uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
    return info.This();
  }

  Napi::Value UnrefPoll(const Napi::CallbackInfo& info) {
    if (poll_ != nullptr) uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
    return info.This();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Stop();
    return info.Env().Undefined();
  }

  void Stop() {
    if (poll_ == nullptr) return;
    uv_poll_stop(poll_);
    // The handle is freed when libuv is done with it; the fd closes after the poll stopped.
    uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* h) {
      delete reinterpret_cast<uv_poll_t*>(h);
    });
    poll_ = nullptr;
    feed_.reset();
    if (teardown_hook_ != nullptr) {
      napi_remove_async_cleanup_hook(teardown_hook_);
      teardown_hook_ = nullptr;
    }
    Napi::ObjectWrap<ChangeWatcher>::Unref();
  }

  std::unique_ptr<ChangeFeed> feed_;
  Napi::FunctionReference callback_;
  std::unique_ptr<Napi::AsyncContext> context_;
  AddonState* state_ = nullptr;
  uv_poll_t* poll_ = nullptr;
  napi_async_cleanup_hook_handle teardown_hook_ = nullptr;
};

// True when the kernel announced any route, address or link change since the last call (or
// dropped announcements): what the route cache asks before trusting an entry. One non-blocking
// recv() when nothing changed.
Napi::Value ChangesPending(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AddonState* state = State(env);
  Status s = state->EnsureChangeFeed();
  if (!s.ok()) throw SystemError(env, s);
  bool overflowed = false;
  bool links = false;
  std::function<void(const ChangeEvent&)> note_links = [&](const ChangeEvent& e) {
    if (e.kind == ChangeEvent::kLink) links = true;
  };
  size_t n = state->feed()->Drain(&note_links, &overflowed);
  if (links) state->ForgetLinks();
  return Napi::Boolean::New(env, n > 0 || overflowed);
}

}  // namespace

void InitWatch(Napi::Env env, Napi::Object exports) {
  exports.Set("ChangeWatcher", ChangeWatcher::Define(env));
  exports.Set("changesPending", Napi::Function::New(env, ChangesPending, "changesPending"));
}

}  // namespace routebind
