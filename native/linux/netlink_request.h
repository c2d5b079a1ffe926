// Builds rtnetlink(7) requests into a caller-sized buffer: the same attributes iproute2 sends for
// `ip route get`, `ip route show` and `ip link show`. Pure: no syscalls.
#pragma once

#include <cstddef>
#include <cstdint>

#include "route.h"

namespace routebind {

// Each returns the request's length, or 0 when it would not fit in `capacity` bytes.
// fib_match asks for the table entry that matched (RTM_F_FIB_MATCH, `ip route get … fibmatch`)
// instead of the route a packet would take.
size_t BuildRouteGetRequest(const RouteQuery& query, uint32_t seq, uint8_t* buf, size_t capacity,
                            bool fib_match = false);
// RTM_GETROUTE / RTM_GETLINK / RTM_GETADDR with NLM_F_DUMP; version 0 asks for every family.
size_t BuildDumpRequest(uint16_t type, uint8_t version, uint32_t seq, uint8_t* buf, size_t capacity);
// RTM_GETLINK for one link, by index (name == nullptr) or by name: an interface name goes in
// IFLA_IFNAME, a longer alternative name in IFLA_ALT_IFNAME (the kernel resolves both kinds
// either way, but IFLA_IFNAME takes at most IFNAMSIZ - 1 bytes).
size_t BuildLinkGetRequest(uint32_t index, const char* name, uint32_t seq, uint8_t* buf,
                           size_t capacity);

}  // namespace routebind
