// The JavaScript face of the route lookups: argument conversion and the routeGet fast path.
// OS work happens in the RouteBackend; this file holds no syscalls of its own.
#include <napi.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>

#include "addon_state.h"
#include "backend.h"
#include "errors.h"
#include "ip_address.h"
#include "js_objects.h"
#include "platform.h"
#include "watch.h"

namespace routebind {

AddonState* State(Napi::Env env) {
  AddonState* state = env.GetInstanceData<AddonState>();
  Status s = state->EnsureBackend();
  if (!s.ok()) throw SystemError(env, s);
  return state;
}

namespace {

// Brings the link view up to date with what the kernel announced (see AddonState). Without a
// feed the view keeps nothing, so there is nothing to bring up to date.
void RefreshLinks(AddonState* state) {
  if (state->EnsureFeed().ok()) state->feed()->Sync();
}

// Argument readers. lib/ validates first and throws the user-facing errors; these are the last
// line, so a caller who reaches the binding directly still gets a typed error, never a crash.
bool OptionalUint(Napi::Value v, const char* name, uint32_t max, uint32_t* out) {
  if (v.IsUndefined()) return false;
  double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
  if (!(d >= 0 && d <= max) || d != static_cast<double>(static_cast<uint32_t>(d))) {
    throw TypedError(v.Env(), "RangeError", "ERR_OUT_OF_RANGE",
                     std::string("The \"") + name + "\" argument is out of range");
  }
  *out = static_cast<uint32_t>(d);
  return true;
}

IpAddress RequireAddress(Napi::Value v, const char* name) {
  IpAddress address;
  if (!v.IsString()) {
    throw TypedError(v.Env(), "TypeError", "ERR_INVALID_ARG_TYPE",
                     std::string("The \"") + name + "\" argument must be of type string");
  }
  if (!ParseIpAddress(v.As<Napi::String>().Utf8Value(), &address)) {
    throw TypedError(v.Env(), "TypeError", "ERR_INVALID_IP_ADDRESS",
                     std::string("The \"") + name + "\" argument is not an IP address");
  }
  return address;
}

// An interface given by index is used as is; by name (or alternative name, up to ALTIFNAMSIZ - 1
// bytes) it goes through the link view (the caller refreshed it), and the kernel resolves what
// the view does not know.
uint32_t InterfaceArg(AddonState* state, Napi::Value v, const char* name) {
  if (v.IsUndefined()) return 0;
  if (v.IsString()) {
    std::string text = v.As<Napi::String>().Utf8Value();
    if (text.empty() || text.size() >= 128 || text.find('\0') != std::string::npos) {
      throw TypedError(v.Env(), "TypeError", "ERR_INVALID_ARG_VALUE",
                       std::string("The \"") + name + "\" argument is not an interface name");
    }
    uint32_t index = 0;
    Status s = state->LinkIndex(text, &index);
    if (!s.ok()) throw SystemError(v.Env(), s, text);
    return index;
  }
  uint32_t index = 0;
  OptionalUint(v, name, 0x7fffffff, &index);
  return index;
}

// The numbers of a lookup's answer go into a Float64Array shared with JS, the strings into a
// five-slot array: setting a dozen named properties from C++ costs more than the netlink round
// trip itself, and lib/route.ts builds the object with one literal instead.
enum RouteSlot {
  kVersion, kType, kProtocol, kScope, kTable, kFlags, kTos, kDstLen, kSrcLen, kOif, kIif,
  kPriority, kMtu, kMark, kUid, kPref, kExpires,
  // The index the query's oif resolved to (0 = none): lib/ compares it with the answer's oif,
  // since a name may have been an alternative name.
  kAskedOif, kRouteSlots
};
// The names lib/binding.ts gives the slots, exported so a test can prove both agree.
constexpr const char* kRouteSlotNames[kRouteSlots] = {
  "Version", "Type", "Protocol", "Scope", "Table", "Flags", "Tos", "DstLen", "SrcLen", "Oif", "Iif",
  "Priority", "Mtu", "Mark", "Uid", "Pref", "Expires", "AskedOif",
};

// routeGet(destination, from, oif, iif, mark, uid, tos, ipProto, sourcePort, destinationPort)
//   → [gateway, preferredSource, sourcePrefix, oifName, iifName], numbers in routeScratch.
Napi::Value RouteGet(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AddonState* state = State(env);
  RefreshLinks(state);

  RouteQuery query;
  query.destination = RequireAddress(info[0], "destination");
  if (!info[1].IsUndefined()) query.from = RequireAddress(info[1], "from");
  if (query.from.present() && query.from.version != query.destination.version) {
    throw TypedError(env, "TypeError", "ERR_INVALID_ARG_VALUE",
                     "\"from\" and the destination are of different IP versions");
  }
  query.has_mark = OptionalUint(info[4], "mark", 0xffffffffu, &query.mark);
  query.has_uid = OptionalUint(info[5], "uid", 0xfffffffeu, &query.uid);
  uint32_t value = 0;
  if (OptionalUint(info[6], "tos", 0xff, &value)) query.tos = static_cast<uint8_t>(value);
  if (OptionalUint(info[7], "ipProto", 0xff, &value)) query.ip_proto = static_cast<uint8_t>(value);
  if (OptionalUint(info[8], "sourcePort", 0xffff, &value)) {
    query.source_port = static_cast<uint16_t>(value);
  }
  if (OptionalUint(info[9], "destinationPort", 0xffff, &value)) {
    query.destination_port = static_cast<uint16_t>(value);
  }

  RouteInfo route;
  Status s;
  for (int attempt = 0; attempt < 2; ++attempt) {
    query.oif = InterfaceArg(state, info[2], "oif");
    query.iif = InterfaceArg(state, info[3], "iif");
    s = state->backend()->RouteGet(query, &route);
    // A cached name may point at a link that has since gone (and come back with a new index).
    if (s.error != ENODEV || attempt == 1) break;
    state->ForgetLinks();
  }
  if (!s.ok()) throw SystemError(env, s);

  double* n = state->route_scratch();
  n[kVersion] = route.version;
  n[kType] = route.type;
  n[kProtocol] = route.protocol;
  n[kScope] = route.scope;
  n[kTable] = route.table;
  n[kFlags] = route.flags;
  n[kTos] = route.tos;
  n[kDstLen] = route.dst_len;
  n[kSrcLen] = route.src_len;
  n[kOif] = route.oif;
  n[kIif] = route.iif;
  n[kPriority] = route.has_priority ? static_cast<double>(route.priority) : -1.0;
  n[kMtu] = route.mtu;
  n[kMark] = route.has_mark ? static_cast<double>(route.mark) : -1.0;
  n[kUid] = route.has_uid ? static_cast<double>(route.uid) : -1.0;
  n[kPref] = route.pref;
  n[kExpires] = route.expires;
  n[kAskedOif] = query.oif;

  Napi::Array strings = Napi::Array::New(env, 5);
  auto set = [&](uint32_t i, const IpAddress& a) {
    if (a.present()) strings.Set(i, Napi::String::New(env, FormatIpAddress(a)));
  };
  set(0, route.gateway);
  set(1, route.preferred_source);
  set(2, route.source_prefix);
  const std::string* name = route.oif ? state->LinkName(route.oif) : nullptr;
  if (name != nullptr) strings.Set(3u, Napi::String::New(env, *name));
  name = route.iif ? state->LinkName(route.iif) : nullptr;
  if (name != nullptr) strings.Set(4u, Napi::String::New(env, *name));
  return strings;
}

// benchRouteGet(destination, iterations) → nanoseconds for that many netlink round trips, with
// no JS in the loop: the floor routeTo is measured against.
Napi::Value BenchRouteGet(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AddonState* state = State(env);
  RouteQuery query;
  query.destination = RequireAddress(info[0], "destination");
  uint32_t iterations = 0;
  OptionalUint(info[1], "iterations", 100000000u, &iterations);
  RouteInfo route;
  auto start = std::chrono::steady_clock::now();
  for (uint32_t i = 0; i < iterations; ++i) {
    Status s = state->backend()->RouteGet(query, &route);
    if (!s.ok()) throw SystemError(env, s);
  }
  auto elapsed = std::chrono::steady_clock::now() - start;
  return Napi::Number::New(env, static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count()));
}

uint8_t VersionArg(const Napi::CallbackInfo& info) {
  if (info[0].IsNumber()) {
    int v = info[0].As<Napi::Number>().Int32Value();
    if (v == 4 || v == 6) return static_cast<uint8_t>(v);
  }
  return 0;
}

Napi::Value DumpRoutes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AddonState* state = State(env);
  RefreshLinks(state);
  std::vector<RouteInfo> routes;
  Status s = state->backend()->DumpRoutes(VersionArg(info), &routes);
  if (!s.ok()) throw SystemError(env, s);
  Napi::Array out = Napi::Array::New(env, routes.size());
  for (size_t i = 0; i < routes.size(); ++i) {
    out.Set(static_cast<uint32_t>(i), RouteObject(env, state, routes[i]));
  }
  return out;
}

Napi::Value DumpLinks(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AddonState* state = State(env);
  // Announcements queued before the dump describe older states: apply them first, so the
  // dump has the last word (later ones, applied in order, end at the kernel's state too).
  RefreshLinks(state);
  std::vector<LinkInfo> links;
  Status s = state->backend()->DumpLinks(&links);
  if (!s.ok()) throw SystemError(env, s);
  state->ReplaceLinks(links);
  Napi::Array out = Napi::Array::New(env, links.size());
  for (size_t i = 0; i < links.size(); ++i) {
    out.Set(static_cast<uint32_t>(i), LinkObject(env, links[i]));
  }
  return out;
}

Napi::Value DumpAddresses(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AddonState* state = State(env);
  std::vector<AddressInfo> addresses;
  Status s = state->backend()->DumpAddresses(VersionArg(info), &addresses);
  if (!s.ok()) throw SystemError(env, s);
  Napi::Array out = Napi::Array::New(env, addresses.size());
  for (size_t i = 0; i < addresses.size(); ++i) {
    out.Set(static_cast<uint32_t>(i), AddressObject(env, addresses[i]));
  }
  return out;
}

Napi::Value LinkIndex(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) {
    throw TypedError(env, "TypeError", "ERR_INVALID_ARG_TYPE", "name must be a string");
  }
  AddonState* state = State(env);
  RefreshLinks(state);
  return Napi::Number::New(env, InterfaceArg(state, info[0], "name"));
}

Napi::Value LinkName(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t index = 0;
  OptionalUint(info[0], "index", 0x7fffffff, &index);
  if (index == 0) return env.Undefined();
  AddonState* state = State(env);
  RefreshLinks(state);
  const std::string* name = state->LinkName(index);
  if (name == nullptr) return env.Undefined();
  return Napi::String::New(env, *name);
}

}  // namespace

Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  AddonState* state = new AddonState(env);
  env.SetInstanceData(state);
  exports.Set("routeScratch", state->CreateRouteScratch(env, kRouteSlots));
  Napi::Object slots = Napi::Object::New(env);
  for (uint32_t i = 0; i < kRouteSlots; ++i) slots.Set(kRouteSlotNames[i], i);
  exports.Set("routeSlots", slots);
  exports.Set("routeGet", Napi::Function::New(env, RouteGet, "routeGet"));
  exports.Set("dumpRoutes", Napi::Function::New(env, DumpRoutes, "dumpRoutes"));
  exports.Set("dumpLinks", Napi::Function::New(env, DumpLinks, "dumpLinks"));
  exports.Set("dumpAddresses", Napi::Function::New(env, DumpAddresses, "dumpAddresses"));
  exports.Set("linkIndex", Napi::Function::New(env, LinkIndex, "linkIndex"));
  exports.Set("linkName", Napi::Function::New(env, LinkName, "linkName"));
  exports.Set("benchRouteGet", Napi::Function::New(env, BenchRouteGet, "benchRouteGet"));
  exports.Set("platform", kPlatformName);
  InitPlatform(env, exports);
  InitWatch(env, exports);
  return exports;
}

}  // namespace routebind

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  return routebind::InitAddon(env, exports);
}

NODE_API_MODULE(NODE_GYP_MODULE_NAME, Init)
