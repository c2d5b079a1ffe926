// What the Windows sources share: iphlpapi rows → the neutral model (route.h), Win32 errors →
// Status, and the one adapter enumeration (GetAdaptersAddresses) that links and addresses use.
#pragma once

// clang-format off: winsock2.h must precede windows.h, iphlpapi.h must follow both.
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <iphlpapi.h>
#include <netioapi.h>
// clang-format on

#include <cstdint>
#include <vector>

#include "backend.h"
#include "route.h"

namespace routebind {
namespace win {

// Linux's numbers, which the neutral model and lib/ use (rtnetlink.h, if.h, if_arp.h, if_addr.h).
constexpr uint8_t kRtnUnicast = 1, kRtnLocal = 2, kRtnBroadcast = 3, kRtnMulticast = 5;
constexpr uint8_t kScopeUniverse = 0, kScopeLink = 253, kScopeHost = 254;
constexpr uint32_t kTableMain = 254, kTableLocal = 255;
constexpr uint8_t kProtUnspec = 0, kProtRedirect = 1, kProtKernel = 2, kProtStatic = 4,
                  kProtRa = 9, kProtDhcp = 16, kProtBgp = 186, kProtIsis = 187, kProtOspf = 188,
                  kProtRip = 189, kProtEigrp = 192;
constexpr uint32_t kIffUp = 0x1, kIffBroadcast = 0x2, kIffLoopback = 0x8, kIffPointToPoint = 0x10,
                   kIffRunning = 0x40, kIffMulticast = 0x1000;
constexpr uint16_t kArphrdEther = 1, kArphrdPpp = 512, kArphrdTunnel = 768, kArphrdTunnel6 = 769,
                   kArphrdLoopback = 772, kArphrdIeee80211 = 801, kArphrdNone = 0xfffe;
constexpr uint32_t kIfaTemporary = 0x01, kIfaDadFailed = 0x08, kIfaDeprecated = 0x20,
                   kIfaTentative = 0x40, kIfaPermanent = 0x80;

// Which "not found" a call meant: no route (ENETUNREACH) or no such interface (ENODEV).
enum class Lookup { kGeneral, kRoute, kInterface };

// A failed iphlpapi call as a Status: the Win32 code kept, a Node-style errno chosen for it.
Status Win32Status(unsigned long code, const char* syscall, Lookup what = Lookup::kGeneral,
                   const char* detail = nullptr);
// "ERROR_NOT_FOUND" for 1168; null for a code this table does not name.
const char* Win32ErrorName(unsigned long code);

// True inside Wine (ntdll exports wine_get_version), where some iphlpapi calls are missing and
// GetIpInterfaceEntry ends the process: callers must not reach it there.
bool UnderWine();

IpAddress FromSockaddr(const SOCKADDR_INET& address);
IpAddress FromSockaddr(const SOCKADDR* address);
void ToSockaddr(const IpAddress& address, uint32_t scope_id, SOCKADDR_INET* out);

// The interface's own metric (GetIpInterfaceEntry), which Windows adds to the route's metric
// when it chooses a route. False when it cannot be read (always under Wine).
bool InterfaceMetric(ADDRESS_FAMILY family, uint32_t index, uint32_t* metric);

// A routing-table row in the neutral model; `interface_metric` is added to the route's metric
// (pass 0 when unknown).
RouteInfo RouteFromRow(const MIB_IPFORWARD_ROW2& row, uint32_t interface_metric);
// An address row (NotifyUnicastIpAddressChange) in the neutral model.
AddressInfo AddressFromRow(const MIB_UNICASTIPADDRESS_ROW& row);

// One GetAdaptersAddresses snapshot; the list lives in `storage`.
struct Adapters {
  std::vector<uint64_t> storage;  // 8-byte aligned, as IP_ADAPTER_ADDRESSES needs
  IP_ADAPTER_ADDRESSES* first = nullptr;
};
Status QueryAdapters(ULONG family, bool with_addresses, Adapters* out);
// The adapter's index: IPv4's, or IPv6's when IPv4 is not bound to it.
uint32_t AdapterIndex(const IP_ADAPTER_ADDRESSES& adapter);
LinkInfo LinkFromAdapter(const IP_ADAPTER_ADDRESSES& adapter);
// One link by index, or by name (friendly name or adapter GUID) when name is not null.
Status FindLink(uint32_t index, const char* name, LinkInfo* out);

}  // namespace win
}  // namespace routebind
