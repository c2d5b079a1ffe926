// inet_pton(3)/inet_ntop(3) for the POSIX backends.
#include <arpa/inet.h>

#include <cstring>

#include "ip_address.h"

namespace routebind {

bool ParseIpAddress(const std::string& text, IpAddress* out) {
  if (text.size() >= INET6_ADDRSTRLEN || text.find('\0') != std::string::npos) return false;
  *out = IpAddress();
  if (inet_pton(AF_INET, text.c_str(), out->bytes) == 1) {
    out->version = 4;
    return true;
  }
  if (inet_pton(AF_INET6, text.c_str(), out->bytes) == 1) {
    out->version = 6;
    return true;
  }
  return false;
}

std::string FormatIpAddress(const IpAddress& address) {
  char text[INET6_ADDRSTRLEN] = {};
  int family = address.version == 4 ? AF_INET : address.version == 6 ? AF_INET6 : 0;
  if (family == 0 || inet_ntop(family, address.bytes, text, sizeof text) == nullptr) return "";
  return text;
}

}  // namespace routebind
