// The JavaScript face of the addon: argument conversion, per-environment state, and the link
// name cache. OS work happens in the RouteBackend; this file holds no syscalls of its own.
#include <napi.h>

#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>

#include "backend.h"
#include "errors.h"
#include "ip_address.h"
#include "netlink_parser.h"
#include "sockets.h"

namespace routebind {

namespace {

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

  double* route_scratch() { return route_scratch_; }
  Napi::ArrayBuffer CreateRouteScratch(Napi::Env env, size_t slots) {
    Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(env, slots * sizeof(double));
    route_scratch_ = static_cast<double*>(buffer.Data());
    scratch_ref_ = Napi::Persistent(buffer);
    return buffer;
  }

 private:
  std::unique_ptr<RouteBackend> backend_;
  double* route_scratch_ = nullptr;
  Napi::Reference<Napi::ArrayBuffer> scratch_ref_;
  std::unordered_map<uint32_t, std::string> names_;
};

AddonState* State(Napi::Env env) {
  AddonState* state = env.GetInstanceData<AddonState>();
  Status s = state->EnsureBackend();
  if (!s.ok()) throw SystemError(env, s);
  return state;
}

void SetIfPresent(Napi::Object obj, const char* key, const IpAddress& address) {
  if (address.present()) obj.Set(key, Napi::String::New(obj.Env(), FormatIpAddress(address)));
}

void SetLinkName(AddonState* state, Napi::Object obj, const char* key, uint32_t index) {
  if (index == 0 || state == nullptr) return;
  const std::string* name = state->LinkName(index);
  if (name != nullptr) obj.Set(key, Napi::String::New(obj.Env(), *name));
}

// Raw numbers go to JS as the kernel gave them; lib/ turns them into names.
Napi::Object RouteObject(Napi::Env env, AddonState* state, const RouteInfo& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("version", r.version);
  o.Set("type", r.type);
  o.Set("protocol", r.protocol);
  o.Set("scope", r.scope);
  o.Set("table", r.table);
  o.Set("flags", r.flags);
  o.Set("tos", r.tos);
  o.Set("dstLen", r.dst_len);
  o.Set("srcLen", r.src_len);
  SetIfPresent(o, "destination", r.destination);
  SetIfPresent(o, "sourcePrefix", r.source_prefix);
  SetIfPresent(o, "gateway", r.gateway);
  SetIfPresent(o, "preferredSource", r.preferred_source);
  if (r.oif != 0) o.Set("oif", r.oif);
  SetLinkName(state, o, "oifName", r.oif);
  if (r.iif != 0) o.Set("iif", r.iif);
  SetLinkName(state, o, "iifName", r.iif);
  if (r.has_priority) o.Set("priority", r.priority);
  if (r.mtu != 0) o.Set("mtu", r.mtu);
  if (r.has_mark) o.Set("mark", r.mark);
  if (r.has_uid) o.Set("uid", r.uid);
  if (r.pref >= 0) o.Set("pref", r.pref);
  if (r.expires != 0) o.Set("expires", r.expires);
  if (!r.nexthops.empty()) {
    Napi::Array hops = Napi::Array::New(env, r.nexthops.size());
    for (size_t i = 0; i < r.nexthops.size(); ++i) {
      Napi::Object h = Napi::Object::New(env);
      SetIfPresent(h, "gateway", r.nexthops[i].gateway);
      h.Set("ifindex", r.nexthops[i].ifindex);
      SetLinkName(state, h, "interface", r.nexthops[i].ifindex);
      h.Set("weight", r.nexthops[i].weight);
      h.Set("flags", r.nexthops[i].flags);
      hops.Set(static_cast<uint32_t>(i), h);
    }
    o.Set("nexthops", hops);
  }
  return o;
}

Napi::Object LinkObject(Napi::Env env, const LinkInfo& l) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("index", l.index);
  o.Set("name", l.name);
  o.Set("flags", l.flags);
  o.Set("type", l.type);
  o.Set("mtu", l.mtu);
  o.Set("operstate", l.operstate);
  if (l.master != 0) o.Set("master", l.master);
  if (l.mac_len > 0) {
    o.Set("mac", Napi::Buffer<uint8_t>::Copy(env, l.mac, l.mac_len));
  }
  return o;
}

Napi::Object AddressObject(Napi::Env env, const AddressInfo& a) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("version", a.version);
  o.Set("prefixLength", a.prefix_len);
  o.Set("scope", a.scope);
  o.Set("index", a.index);
  o.Set("flags", a.flags);
  SetIfPresent(o, "address", a.address);
  SetIfPresent(o, "local", a.local);
  SetIfPresent(o, "broadcast", a.broadcast);
  if (!a.label.empty()) o.Set("label", a.label);
  if (a.has_lifetimes) {
    o.Set("validLifetime", a.valid_lifetime);
    o.Set("preferredLifetime", a.preferred_lifetime);
  }
  return o;
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

// An interface given by index is used as is; by name it goes through the cache.
uint32_t InterfaceArg(AddonState* state, Napi::Value v, const char* name) {
  if (v.IsUndefined()) return 0;
  if (v.IsString()) {
    std::string text = v.As<Napi::String>().Utf8Value();
    if (text.empty() || text.size() >= 16 || text.find('\0') != std::string::npos) {
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
  kPriority, kMtu, kMark, kUid, kPref, kExpires, kRouteSlots
};

// routeGet(destination, from, oif, iif, mark, uid, tos, ipProto, sourcePort, destinationPort)
//   → [gateway, preferredSource, sourcePrefix, oifName, iifName], numbers in routeScratch.
Napi::Value RouteGet(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AddonState* state = State(env);

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
  std::vector<LinkInfo> links;
  Status s = state->backend()->DumpLinks(&links);
  if (!s.ok()) throw SystemError(env, s);
  state->ForgetLinks();
  Napi::Array out = Napi::Array::New(env, links.size());
  for (size_t i = 0; i < links.size(); ++i) {
    state->Remember(links[i].index, links[i].name);
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
  return Napi::Number::New(env, InterfaceArg(State(env), info[0], "name"));
}

Napi::Value LinkName(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t index = 0;
  OptionalUint(info[0], "index", 0x7fffffff, &index);
  if (index == 0) return env.Undefined();
  const std::string* name = State(env)->LinkName(index);
  if (name == nullptr) return env.Undefined();
  return Napi::String::New(env, *name);
}

// Test and fuzz entry: runs the parser over bytes from JS, with no kernel involved.
Napi::Value ParseNetlink(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray() ||
      info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throw TypedError(env, "TypeError", "ERR_INVALID_ARG_TYPE", "expected a Uint8Array");
  }
  Napi::Uint8Array bytes = info[0].As<Napi::Uint8Array>();
  NetlinkMessageReader reader(bytes.Data(), bytes.ByteLength());
  Napi::Array out = Napi::Array::New(env);
  NetlinkMessage msg;
  uint32_t n = 0;
  for (;;) {
    NetlinkMessageReader::Result r = reader.Next(&msg);
    if (r == NetlinkMessageReader::kEnd) break;
    if (r == NetlinkMessageReader::kMalformed) {
      throw TypedError(env, "TypeError", "ERR_NETLINK_MALFORMED",
                       "netlink message header runs past the buffer");
    }
    Napi::Object o = Napi::Object::New(env);
    o.Set("type", msg.type);
    o.Set("flags", msg.flags);
    o.Set("seq", msg.seq);
    RouteInfo route;
    LinkInfo link;
    AddressInfo address;
    int error = 0;
    if (ParseRouteMessage(msg, &route)) {
      o.Set("route", RouteObject(env, nullptr, route));
    } else if (ParseLinkMessage(msg, &link)) {
      o.Set("link", LinkObject(env, link));
    } else if (ParseAddressMessage(msg, &address)) {
      o.Set("address", AddressObject(env, address));
    } else if (ParseErrorMessage(msg, &error)) {
      o.Set("error", error);
    } else {
      o.Set("invalid", true);
    }
    out.Set(n++, o);
  }
  return out;
}

}  // namespace

Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  AddonState* state = new AddonState();
  env.SetInstanceData(state);
  exports.Set("routeScratch", state->CreateRouteScratch(env, kRouteSlots));
  exports.Set("routeGet", Napi::Function::New(env, RouteGet, "routeGet"));
  exports.Set("dumpRoutes", Napi::Function::New(env, DumpRoutes, "dumpRoutes"));
  exports.Set("dumpLinks", Napi::Function::New(env, DumpLinks, "dumpLinks"));
  exports.Set("dumpAddresses", Napi::Function::New(env, DumpAddresses, "dumpAddresses"));
  exports.Set("linkIndex", Napi::Function::New(env, LinkIndex, "linkIndex"));
  exports.Set("linkName", Napi::Function::New(env, LinkName, "linkName"));
  exports.Set("parseNetlink", Napi::Function::New(env, ParseNetlink, "parseNetlink"));
  InitSockets(env, exports);
  return exports;
}

}  // namespace routebind

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  return routebind::InitAddon(env, exports);
}

NODE_API_MODULE(NODE_GYP_MODULE_NAME, Init)
