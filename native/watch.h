// Change notifications for JS: a ChangeWatcher class driven by the event loop, and the
// coherence check the route cache makes before it trusts an entry.
#pragma once

#include <napi.h>

namespace routebind {

void InitWatch(Napi::Env env, Napi::Object exports);

}  // namespace routebind
