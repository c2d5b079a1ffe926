// Text ↔ binary IP addresses (inet_pton/inet_ntop), shared by every backend.
#pragma once

#include <string>

#include "route.h"

namespace routebind {

// Accepts IPv4 dotted quads and IPv6 literals without a zone; false for anything else.
bool ParseIpAddress(const std::string& text, IpAddress* out);
std::string FormatIpAddress(const IpAddress& address);

}  // namespace routebind
