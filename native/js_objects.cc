// Kernel structs → JS objects (see js_objects.h).
#include "js_objects.h"

#include "ip_address.h"

namespace routebind {

namespace {

void SetIfPresent(Napi::Object obj, const char* key, const IpAddress& address) {
  if (address.present()) obj.Set(key, Napi::String::New(obj.Env(), FormatIpAddress(address)));
}

void SetLinkName(AddonState* state, Napi::Object obj, const char* key, uint32_t index) {
  if (index == 0 || state == nullptr) return;
  const std::string* name = state->LinkName(index);
  if (name != nullptr) obj.Set(key, Napi::String::New(obj.Env(), *name));
}

}  // namespace

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
  if (!l.altnames.empty()) {
    Napi::Array names = Napi::Array::New(env, l.altnames.size());
    for (size_t i = 0; i < l.altnames.size(); ++i) {
      names.Set(static_cast<uint32_t>(i), Napi::String::New(env, l.altnames[i]));
    }
    o.Set("altnames", names);
  }
  if (l.mac_len > 0) {
    o.Set("mac", Napi::Buffer<uint8_t>::Copy(env, l.mac, l.mac_len));
  }
  // A decimal string: a LUID is 64 bits, more than a double holds exactly.
  if (l.luid != 0) o.Set("luid", std::to_string(l.luid));
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

}  // namespace routebind
