// Kernel structs → plain JS objects with the kernel's raw numbers (lib/ names them). Used by the
// dump calls, the parser test entry and the change watcher.
#pragma once

#include <napi.h>

#include "addon_state.h"
#include "route.h"

namespace routebind {

// `state` resolves interface indexes to names; null leaves names out (parser tests).
Napi::Object RouteObject(Napi::Env env, AddonState* state, const RouteInfo& r);
Napi::Object LinkObject(Napi::Env env, const LinkInfo& l);
Napi::Object AddressObject(Napi::Env env, const AddressInfo& a);

}  // namespace routebind
