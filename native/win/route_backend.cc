// The Windows RouteBackend: route lookups with GetBestRoute2, the routing table with
// GetIpForwardTable2, links and addresses with GetAdaptersAddresses (iphlpapi, MSDN).
#include <errno.h>

#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "iphlp.h"

namespace routebind {
namespace win {

namespace {

constexpr ULONG kInfinite = 0xffffffffu;

bool IsZero(const IpAddress& a) {
  for (size_t i = 0; i < a.size(); ++i) {
    if (a.bytes[i] != 0) return false;
  }
  return true;
}

bool IsMulticast(const IpAddress& a) {
  return a.version == 4 ? (a.bytes[0] & 0xf0) == 0xe0 : a.version == 6 && a.bytes[0] == 0xff;
}

bool IsLinkLocal6(const IpAddress& a) {
  return a.version == 6 && a.bytes[0] == 0xfe && (a.bytes[1] & 0xc0) == 0x80;
}

bool IsLoopback(const IpAddress& a) {
  if (a.version == 4) return a.bytes[0] == 127;
  if (a.version != 6) return false;
  for (int i = 0; i < 15; ++i) {
    if (a.bytes[i] != 0) return false;
  }
  return a.bytes[15] == 1;
}

bool SameAddress(const IpAddress& a, const IpAddress& b) {
  return a.version == b.version && std::memcmp(a.bytes, b.bytes, a.size()) == 0;
}

// Where a route came from, in RTPROT_* terms: the origin says DHCP and router advertisements,
// the protocol says who installed it (NL_ROUTE_PROTOCOL, netioapi.h / nldef.h).
uint8_t ProtocolFromRow(const MIB_IPFORWARD_ROW2& row) {
  if (row.Origin == NlroDHCP) return kProtDhcp;
  if (row.Origin == NlroRouterAdvertisement) return kProtRa;
  switch (static_cast<int>(row.Protocol)) {
    case MIB_IPPROTO_LOCAL: return kProtKernel;       // the stack's own on-link and host routes
    case MIB_IPPROTO_NETMGMT:                         // `route add`, netsh, CreateIpForwardEntry2
    case MIB_IPPROTO_NT_AUTOSTATIC:
    case MIB_IPPROTO_NT_STATIC:
    case MIB_IPPROTO_NT_STATIC_NON_DOD: return kProtStatic;
    case MIB_IPPROTO_ICMP: return kProtRedirect;
    case MIB_IPPROTO_RIP: return kProtRip;
    case MIB_IPPROTO_IS_IS: return kProtIsis;
    case MIB_IPPROTO_OSPF: return kProtOspf;
    case MIB_IPPROTO_BGP: return kProtBgp;
    case 16: return kProtEigrp;  // RouteProtocolEigrp (not in every SDK's MIB_IPPROTO_* list)
    case 19: return kProtDhcp;   // RouteProtocolDhcp
    default: return kProtUnspec;
  }
}

std::string Utf8(const wchar_t* text) {
  if (text == nullptr || text[0] == 0) return std::string();
  int size = WideCharToMultiByte(CP_UTF8, 0, text, -1, nullptr, 0, nullptr, nullptr);
  if (size <= 1) return std::string();
  std::string out(static_cast<size_t>(size), '\0');
  WideCharToMultiByte(CP_UTF8, 0, text, -1, &out[0], size, nullptr, nullptr);
  out.resize(static_cast<size_t>(size) - 1);  // the terminating NUL
  return out;
}

uint8_t OperstateFromAdapter(IF_OPER_STATUS status) {
  // Linux IF_OPER_*: UNKNOWN 0, NOTPRESENT 1, DOWN 2, LOWERLAYERDOWN 3, TESTING 4, DORMANT 5, UP 6.
  switch (status) {
    case IfOperStatusUp: return 6;
    case IfOperStatusDown: return 2;
    case IfOperStatusTesting: return 4;
    case IfOperStatusDormant: return 5;
    case IfOperStatusNotPresent: return 1;
    case IfOperStatusLowerLayerDown: return 3;
    default: return 0;
  }
}

uint16_t LinkTypeFromAdapter(IFTYPE type) {
  switch (type) {
    case IF_TYPE_ETHERNET_CSMACD: return kArphrdEther;
    case IF_TYPE_IEEE80211: return kArphrdIeee80211;
    case IF_TYPE_SOFTWARE_LOOPBACK: return kArphrdLoopback;
    case IF_TYPE_PPP: return kArphrdPpp;
    case IF_TYPE_TUNNEL: return kArphrdTunnel;
    default: return kArphrdNone;
  }
}

// Fields both address sources carry (IP_ADAPTER_UNICAST_ADDRESS and MIB_UNICASTIPADDRESS_ROW).
AddressInfo MakeAddress(const IpAddress& own, uint32_t index, uint8_t prefix_len,
                        NL_SUFFIX_ORIGIN suffix, NL_DAD_STATE dad, ULONG valid, ULONG preferred) {
  AddressInfo a;
  a.version = own.version;
  a.prefix_len = prefix_len;
  a.index = index;
  a.address = own;
  a.local = own;
  // Link-local IPv6 addresses are zoned by their interface: the zone (sin6_scope_id) Windows
  // reports for them is this interface index, so lib/ names it `fe80::…%<interface>`.
  a.scope = IsLoopback(own) ? kScopeHost : IsLinkLocal6(own) ? kScopeLink : kScopeUniverse;
  if (suffix == IpSuffixOriginRandom) a.flags |= kIfaTemporary;
  if (dad == IpDadStateDeprecated) a.flags |= kIfaDeprecated;
  if (dad == IpDadStateTentative) a.flags |= kIfaTentative;
  if (dad == IpDadStateDuplicate) a.flags |= kIfaDadFailed;
  if (valid == kInfinite) a.flags |= kIfaPermanent;
  if (own.version == 4 && prefix_len < 31) {
    a.broadcast = own;
    uint32_t host_bits = 32u - prefix_len;
    for (uint32_t bit = 0; bit < host_bits; ++bit) a.broadcast.bytes[3 - bit / 8] |= static_cast<uint8_t>(1u << (bit % 8));
  }
  a.has_lifetimes = true;
  a.valid_lifetime = valid;
  a.preferred_lifetime = preferred;
  return a;
}

class WinRouteBackend : public RouteBackend {
 public:
  Status RouteGet(const RouteQuery& query, RouteInfo* out) override {
    // What GetBestRoute2 has no input for is refused, never dropped: an answer that ignored
    // the mark or the ports would look right and be wrong.
    const char* unsupported = query.iif != 0 ? "(Windows route lookups take no \"iif\")"
                              : query.has_mark ? "(Windows route lookups take no \"mark\")"
                              : query.has_uid ? "(Windows route lookups take no \"uid\")"
                              : query.tos != 0 ? "(Windows route lookups take no \"tos\")"
                              : query.ip_proto != 0 ? "(Windows route lookups take no \"ipProto\")"
                              : query.source_port != 0 ? "(Windows route lookups take no \"sourcePort\")"
                              : query.destination_port != 0 ? "(Windows route lookups take no \"destinationPort\")"
                              : nullptr;
    if (unsupported != nullptr) {
      Status s = Status::Fail(ENOTSUP, "GetBestRoute2");
      s.detail = unsupported;
      return s;
    }

    SOCKADDR_INET destination;
    // A link-local destination means nothing without its zone; the interface asked for is it.
    ToSockaddr(query.destination, IsLinkLocal6(query.destination) ? query.oif : 0, &destination);
    SOCKADDR_INET source;
    const SOCKADDR_INET* source_arg = nullptr;
    if (query.from.present()) {
      ToSockaddr(query.from, IsLinkLocal6(query.from) ? query.oif : 0, &source);
      source_arg = &source;
    }
    MIB_IPFORWARD_ROW2 row;
    SOCKADDR_INET best_source;
    std::memset(&row, 0, sizeof row);
    std::memset(&best_source, 0, sizeof best_source);
    DWORD err = GetBestRoute2(nullptr, query.oif, source_arg, &destination, 0, &row, &best_source);
    if (err != NO_ERROR) {
      // With an interface given, "not found" may mean the interface is gone (ENODEV, which
      // makes addon.cc forget a stale name) or that nothing leaves through it (ENETUNREACH).
      NET_LUID luid;
      bool interface_gone = query.oif != 0 && (err == ERROR_NOT_FOUND || err == ERROR_FILE_NOT_FOUND ||
                                               err == ERROR_INVALID_PARAMETER) &&
                            ConvertInterfaceIndexToLuid(query.oif, &luid) != NO_ERROR;
      Status s = Win32Status(err, "GetBestRoute2", interface_gone ? Lookup::kInterface : Lookup::kRoute);
      if (err == ERROR_NOT_SUPPORTED && UnderWine()) s.detail = "(Wine does not implement it)";
      return s;
    }
    uint32_t metric = 0;  // stays 0 where the interface metric cannot be read (Wine)
    InterfaceMetric(row.DestinationPrefix.Prefix.si_family, row.InterfaceIndex, &metric);
    *out = RouteFromRow(row, metric);
    out->preferred_source = FromSockaddr(best_source);
    // Windows answers for its own addresses with a host route whose best source is the address
    // itself: that is what Linux calls a local route.
    if (out->type == kRtnUnicast && SameAddress(out->preferred_source, query.destination)) {
      out->type = kRtnLocal;
      out->scope = kScopeHost;
      out->table = kTableLocal;
    }
    if (IsMulticast(query.destination)) out->type = kRtnMulticast;
    if (query.from.present()) out->source_prefix = query.from;
    return Status::Ok();
  }

  Status DumpRoutes(uint8_t version, std::vector<RouteInfo>* out) override {
    ADDRESS_FAMILY family = version == 4 ? AF_INET : version == 6 ? AF_INET6 : AF_UNSPEC;
    PMIB_IPFORWARD_TABLE2 table = nullptr;
    DWORD err = GetIpForwardTable2(family, &table);
    out->clear();
    // No entries, or no stack for that family: an empty table, as on a host without IPv6.
    if (err == ERROR_NOT_FOUND || err == ERROR_NOT_SUPPORTED) return Status::Ok();
    if (err != NO_ERROR) return Win32Status(err, "GetIpForwardTable2");
    // Freed however this ends (push_back may throw).
    std::unique_ptr<MIB_IPFORWARD_TABLE2, void (*)(PVOID)> owned(table, [](PVOID p) { FreeMibTable(p); });
    // One GetIpInterfaceEntry per interface and family, not per route.
    std::map<std::pair<ADDRESS_FAMILY, uint32_t>, uint32_t> metrics;
    out->reserve(table->NumEntries);
    for (ULONG i = 0; i < table->NumEntries; ++i) {
      const MIB_IPFORWARD_ROW2& row = table->Table[i];
      ADDRESS_FAMILY row_family = row.DestinationPrefix.Prefix.si_family;
      if (row_family != AF_INET && row_family != AF_INET6) continue;
      auto key = std::make_pair(row_family, static_cast<uint32_t>(row.InterfaceIndex));
      auto known = metrics.find(key);
      if (known == metrics.end()) {
        uint32_t metric = 0;
        InterfaceMetric(row_family, row.InterfaceIndex, &metric);
        known = metrics.emplace(key, metric).first;
      }
      out->push_back(RouteFromRow(row, known->second));
    }
    return Status::Ok();
  }

  Status DumpLinks(std::vector<LinkInfo>* out) override {
    Adapters adapters;
    Status s = QueryAdapters(AF_UNSPEC, false, &adapters);
    if (!s.ok()) return s;
    out->clear();
    for (IP_ADAPTER_ADDRESSES* a = adapters.first; a != nullptr; a = a->Next) {
      out->push_back(LinkFromAdapter(*a));
    }
    return Status::Ok();
  }

  Status DumpAddresses(uint8_t version, std::vector<AddressInfo>* out) override {
    Adapters adapters;
    ULONG family = version == 4 ? AF_INET : version == 6 ? AF_INET6 : AF_UNSPEC;
    Status s = QueryAdapters(family, true, &adapters);
    if (!s.ok()) return s;
    out->clear();
    for (IP_ADAPTER_ADDRESSES* a = adapters.first; a != nullptr; a = a->Next) {
      for (IP_ADAPTER_UNICAST_ADDRESS* u = a->FirstUnicastAddress; u != nullptr; u = u->Next) {
        IpAddress own = FromSockaddr(u->Address.lpSockaddr);
        if (!own.present()) continue;
        uint32_t index = own.version == 6 ? a->Ipv6IfIndex : a->IfIndex;
        if (index == 0) index = AdapterIndex(*a);
        AddressInfo info = MakeAddress(own, index, u->OnLinkPrefixLength, u->SuffixOrigin, u->DadState,
                                       u->ValidLifetime, u->PreferredLifetime);
        if (own.version == 4) info.label = Utf8(a->FriendlyName);
        out->push_back(std::move(info));
      }
    }
    return Status::Ok();
  }

  Status GetLink(uint32_t index, const char* name, LinkInfo* out) override {
    return FindLink(index, name, out);
  }
};

}  // namespace

bool InterfaceMetric(ADDRESS_FAMILY family, uint32_t index, uint32_t* metric) {
  if (UnderWine() || index == 0) return false;
  MIB_IPINTERFACE_ROW row;
  InitializeIpInterfaceEntry(&row);
  row.Family = family;
  row.InterfaceIndex = index;
  if (GetIpInterfaceEntry(&row) != NO_ERROR) return false;
  *metric = row.Metric;
  return true;
}

RouteInfo RouteFromRow(const MIB_IPFORWARD_ROW2& row, uint32_t interface_metric) {
  RouteInfo r;
  r.destination = FromSockaddr(row.DestinationPrefix.Prefix);
  r.version = r.destination.version;
  r.dst_len = row.DestinationPrefix.PrefixLength;
  IpAddress gateway = FromSockaddr(row.NextHop);
  // An on-link route's next hop is the unspecified address: no gateway, as Linux shows it.
  if (gateway.present() && !IsZero(gateway)) r.gateway = gateway;
  r.oif = row.InterfaceIndex;
  r.protocol = ProtocolFromRow(row);
  r.table = kTableMain;
  r.type = kRtnUnicast;
  r.scope = r.gateway.present() ? kScopeUniverse : kScopeLink;
  if (row.Loopback) {
    // Windows keeps a host route for each of its own addresses, marked Loopback.
    r.type = kRtnLocal;
    r.scope = kScopeHost;
    r.table = kTableLocal;
  } else if (IsMulticast(r.destination)) {
    r.type = kRtnMulticast;
  } else if (r.version == 4 && r.dst_len == 32 && r.destination.bytes[0] == 255 &&
             r.destination.bytes[1] == 255 && r.destination.bytes[2] == 255 && r.destination.bytes[3] == 255) {
    r.type = kRtnBroadcast;
  }
  r.has_priority = true;
  // Windows ranks routes by route metric + interface metric (MSDN, MIB_IPFORWARD_ROW2.Metric);
  // the sum is what decides, so it is what `priority` reports. Saturate rather than wrap.
  uint64_t sum = static_cast<uint64_t>(row.Metric) + interface_metric;
  r.priority = sum > 0xffffffffu ? 0xffffffffu : static_cast<uint32_t>(sum);
  if (row.ValidLifetime != kInfinite) r.expires = row.ValidLifetime;
  return r;
}

AddressInfo AddressFromRow(const MIB_UNICASTIPADDRESS_ROW& row) {
  IpAddress own = FromSockaddr(row.Address);
  return MakeAddress(own, row.InterfaceIndex, row.OnLinkPrefixLength, row.SuffixOrigin, row.DadState,
                     row.ValidLifetime, row.PreferredLifetime);
}

Status QueryAdapters(ULONG family, bool with_addresses, Adapters* out) {
  // The friendly name is the name (it is never skipped); anycast, multicast and DNS are not ours.
  ULONG flags = GAA_FLAG_SKIP_ANYCAST | GAA_FLAG_SKIP_MULTICAST | GAA_FLAG_SKIP_DNS_SERVER;
  if (!with_addresses) flags |= GAA_FLAG_SKIP_UNICAST;
  // MSDN suggests 15 KB to start; the size it asks for can grow between two calls when an
  // adapter appears, so a few tries.
  ULONG size = 15 * 1024;
  for (int attempt = 0; attempt < 4; ++attempt) {
    out->storage.assign(size / sizeof(uint64_t) + 1, 0);
    ULONG granted = static_cast<ULONG>(out->storage.size() * sizeof(uint64_t));
    auto* first = reinterpret_cast<IP_ADAPTER_ADDRESSES*>(out->storage.data());
    ULONG err = GetAdaptersAddresses(family, flags, nullptr, first, &granted);
    if (err == NO_ERROR) {
      out->first = first;
      return Status::Ok();
    }
    if (err == ERROR_NO_DATA) {  // no adapter has an address of that family
      out->first = nullptr;
      return Status::Ok();
    }
    if (err != ERROR_BUFFER_OVERFLOW) return Win32Status(err, "GetAdaptersAddresses");
    size = granted + 4096;
  }
  return Win32Status(ERROR_BUFFER_OVERFLOW, "GetAdaptersAddresses");
}

uint32_t AdapterIndex(const IP_ADAPTER_ADDRESSES& adapter) {
  return adapter.IfIndex != 0 ? adapter.IfIndex : adapter.Ipv6IfIndex;
}

LinkInfo LinkFromAdapter(const IP_ADAPTER_ADDRESSES& a) {
  LinkInfo link;
  link.index = AdapterIndex(a);
  // What os.networkInterfaces() (libuv's uv_interface_addresses) calls it: the friendly name,
  // UTF-16 → UTF-8.
  link.name = Utf8(a.FriendlyName);
  if (a.AdapterName != nullptr && a.AdapterName[0] != 0) link.altnames.push_back(a.AdapterName);
  link.luid = a.Luid.Value;
  link.mtu = a.Mtu == kInfinite ? 0 : a.Mtu;
  link.type = LinkTypeFromAdapter(a.IfType);
  link.operstate = OperstateFromAdapter(a.OperStatus);
  // Windows has no administrative state in this view: an adapter someone disabled is not
  // listed at all, so a listed one is up, and running when it can pass traffic.
  if (a.OperStatus != IfOperStatusNotPresent) link.flags |= kIffUp;
  if (a.OperStatus == IfOperStatusUp) link.flags |= kIffRunning;
  if (a.IfType == IF_TYPE_SOFTWARE_LOOPBACK) link.flags |= kIffLoopback;
  if (a.IfType == IF_TYPE_PPP) link.flags |= kIffPointToPoint;
  if (a.IfType == IF_TYPE_ETHERNET_CSMACD || a.IfType == IF_TYPE_IEEE80211) link.flags |= kIffBroadcast;
  if ((a.Flags & IP_ADAPTER_NO_MULTICAST) == 0) link.flags |= kIffMulticast;
  size_t mac_len = a.PhysicalAddressLength;
  if (mac_len > sizeof link.mac) mac_len = sizeof link.mac;
  if (mac_len > sizeof a.PhysicalAddress) mac_len = sizeof a.PhysicalAddress;
  std::memcpy(link.mac, a.PhysicalAddress, mac_len);
  link.mac_len = mac_len;
  return link;
}

Status FindLink(uint32_t index, const char* name, LinkInfo* out) {
  Adapters adapters;
  Status s = QueryAdapters(AF_UNSPEC, false, &adapters);
  if (!s.ok()) return s;
  for (IP_ADAPTER_ADDRESSES* a = adapters.first; a != nullptr; a = a->Next) {
    bool match = false;
    if (name == nullptr) {
      match = index != 0 && (a->IfIndex == index || a->Ipv6IfIndex == index);
    } else {
      match = Utf8(a->FriendlyName) == name || (a->AdapterName != nullptr && std::strcmp(a->AdapterName, name) == 0);
    }
    if (match) {
      *out = LinkFromAdapter(*a);
      return Status::Ok();
    }
  }
  return Win32Status(ERROR_NOT_FOUND, "GetAdaptersAddresses", Lookup::kInterface);
}

IpAddress FromSockaddr(const SOCKADDR_INET& address) {
  return FromSockaddr(reinterpret_cast<const SOCKADDR*>(&address));
}

IpAddress FromSockaddr(const SOCKADDR* address) {
  IpAddress out;
  if (address == nullptr) return out;
  if (address->sa_family == AF_INET) {
    out.version = 4;
    std::memcpy(out.bytes, &reinterpret_cast<const SOCKADDR_IN*>(address)->sin_addr, 4);
  } else if (address->sa_family == AF_INET6) {
    out.version = 6;
    std::memcpy(out.bytes, &reinterpret_cast<const SOCKADDR_IN6*>(address)->sin6_addr, 16);
  }
  return out;
}

void ToSockaddr(const IpAddress& address, uint32_t scope_id, SOCKADDR_INET* out) {
  std::memset(out, 0, sizeof *out);
  if (address.version == 4) {
    out->Ipv4.sin_family = AF_INET;
    std::memcpy(&out->Ipv4.sin_addr, address.bytes, 4);
  } else {
    out->Ipv6.sin6_family = AF_INET6;
    std::memcpy(&out->Ipv6.sin6_addr, address.bytes, 16);
    out->Ipv6.sin6_scope_id = scope_id;
  }
}

bool UnderWine() {
  static const bool wine = [] {
    HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
    return ntdll != nullptr && GetProcAddress(ntdll, "wine_get_version") != nullptr;
  }();
  return wine;
}

}  // namespace win

Status RouteBackend::Create(std::unique_ptr<RouteBackend>* out) {
  // iphlpapi needs no handle of ours: every call stands alone.
  out->reset(new win::WinRouteBackend());
  return Status::Ok();
}

}  // namespace routebind
