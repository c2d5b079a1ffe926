// Text ↔ binary IP addresses on Windows: inet_pton/inet_ntop (ws2_32, MSDN InetPtonA/InetNtopA).
#include <winsock2.h>
#include <ws2tcpip.h>

#include <cstring>

#include "ip_address.h"

namespace routebind {

bool ParseIpAddress(const std::string& text, IpAddress* out) {
  // A zone ("fe80::1%eth0") is not an address; Windows' parser is stricter than glibc's about
  // it already, but the contract should not rest on that.
  if (text.size() >= INET6_ADDRSTRLEN || text.find('\0') != std::string::npos ||
      text.find('%') != std::string::npos) {
    return false;
  }
  *out = IpAddress();
  if (inet_pton(AF_INET, text.c_str(), out->bytes) == 1) {
    out->version = 4;
    return true;
  }
  if (inet_pton(AF_INET6, text.c_str(), out->bytes) == 1) {
    out->version = 6;
    return true;
  }
  *out = IpAddress();
  return false;
}

std::string FormatIpAddress(const IpAddress& address) {
  char text[INET6_ADDRSTRLEN] = {};
  int family = address.version == 4 ? AF_INET : address.version == 6 ? AF_INET6 : 0;
  // inet_ntop's source is not const in older SDK headers.
  IpAddress copy = address;
  if (family == 0 || inet_ntop(family, copy.bytes, text, sizeof text) == nullptr) return "";
  return text;
}

}  // namespace routebind
