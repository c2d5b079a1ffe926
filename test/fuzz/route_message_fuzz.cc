// Fuzz target for the PF_ROUTE parser (native/darwin/route_message.cc), which builds on Linux: every
// message of any buffer is offered to every parser, and the request builder runs on addresses
// taken from the input. scripts/fuzz.sh builds it with AddressSanitizer and UBSan around the
// shared mutation driver (fuzz_driver.h); it also links with libFuzzer (-DROUTEBIND_LIBFUZZER).
//
// Two more modes serve test/unit/route-message.test.ts, which has no macOS to ask:
//   route_message_fuzz --print HEX       one JSON line per message: what the parsers (and the
//                                        change feed's classification) made of it
//   route_message_fuzz --build-get IP SCOPE SEQ    the RTM_GET request, as hex
#include <arpa/inet.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include "../../native/darwin/route_message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  routebind::PfRouteReader reader(data, size);
  routebind::PfRouteMessage msg;
  while (reader.Next(&msg) == routebind::PfRouteReader::kMessage) {
    routebind::RouteMessageHeader route_header;
    routebind::InterfaceMessageHeader if_header;
    routebind::RouteInfo route;
    routebind::LinkInfo link;
    routebind::AddressInfo address;
    std::string name;
    routebind::ParseRouteMessage(msg, &route_header, &route, &name);
    routebind::ParseInterfaceMessage(msg, &if_header, &link);
    routebind::ParseAddressMessage(msg, &if_header, &address);
    routebind::ChangeEvent event;
    routebind::ParseChangeMessage(msg, &event);
  }
  if (size >= 17) {
    routebind::IpAddress destination;
    destination.version = (data[0] & 1) ? 6 : 4;
    std::memcpy(destination.bytes, data + 1, 16);
    uint8_t request[128];
    uint32_t scope = static_cast<uint32_t>(data[0]) << 8 | data[1];
    routebind::BuildRouteGetRequest(destination, scope, 1, request, (data[2] & 1) ? 64 : sizeof request);
  }
  return 0;
}

#ifndef ROUTEBIND_LIBFUZZER
#include "fuzz_driver.h"

namespace {

std::string Ip(const routebind::IpAddress& a) {
  if (!a.present()) return "null";
  char text[INET6_ADDRSTRLEN];
  inet_ntop(a.version == 4 ? AF_INET : AF_INET6, a.bytes, text, sizeof text);
  return std::string("\"") + text + "\"";
}

// A JSON string of bytes the parser took from the message (names may hold anything but NUL).
std::string Str(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    char esc[8];
    if (c == '"' || c == '\\' || c < 0x20 || c >= 0x7f) {
      std::snprintf(esc, sizeof esc, "\\u%04x", c);
      out += esc;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

void Print(const std::vector<uint8_t>& bytes) {
  routebind::PfRouteReader reader(bytes.data(), bytes.size());
  routebind::PfRouteMessage msg;
  for (;;) {
    routebind::PfRouteReader::Result r = reader.Next(&msg);
    if (r == routebind::PfRouteReader::kEnd) break;
    if (r == routebind::PfRouteReader::kMalformed) {
      std::printf("{\"malformed\":true}\n");
      break;
    }
    routebind::RouteMessageHeader h;
    routebind::InterfaceMessageHeader ih;
    routebind::RouteInfo route;
    routebind::LinkInfo link;
    routebind::AddressInfo a;
    std::string ifp;
    const char* why;
    std::printf("{\"type\":%u,", msg.type);
    // What the change feed makes of it: ignored, counted (no event) or an event of a group.
    routebind::ChangeEvent event;
    routebind::ChangeParse change = routebind::ParseChangeMessage(msg, &event);
    if (change == routebind::ChangeParse::kEvent) {
      std::printf("\"change\":{\"group\":%u,\"removed\":%s,\"replaced\":%s},", event.group,
                  event.removed ? "true" : "false", event.replaced ? "true" : "false");
    } else {
      std::printf("\"change\":\"%s\",", change == routebind::ChangeParse::kCounted ? "counted" : "ignored");
    }
    if ((why = routebind::ParseRouteMessage(msg, &h, &route, &ifp)) == nullptr) {
      std::printf("\"header\":{\"index\":%u,\"flags\":%u,\"addrs\":%u,\"pid\":%d,\"seq\":%d,\"errno\":%d},",
                  h.index, h.flags, h.addrs, h.pid, h.seq, h.error);
      std::printf("\"route\":{\"version\":%u,\"type\":%u,\"protocol\":%u,\"scope\":%u,\"table\":%u,"
                  "\"destination\":%s,\"dstLen\":%u,\"gateway\":%s,\"preferredSource\":%s,"
                  "\"oif\":%u,\"mtu\":%u,\"ifp\":%s}}\n",
                  route.version, route.type, route.protocol, route.scope, route.table,
                  Ip(route.destination).c_str(), route.dst_len, Ip(route.gateway).c_str(),
                  Ip(route.preferred_source).c_str(), route.oif, route.mtu, Str(ifp).c_str());
    } else if (msg.type == routebind::pfroute::kRtmIfInfo &&
               (why = routebind::ParseInterfaceMessage(msg, &ih, &link)) == nullptr) {
      std::string mac;
      for (size_t i = 0; i < link.mac_len; ++i) {
        char hex[4];
        std::snprintf(hex, sizeof hex, i ? ":%02x" : "%02x", link.mac[i]);
        mac += hex;
      }
      std::printf("\"link\":{\"index\":%u,\"name\":%s,\"flags\":%u,\"type\":%u,\"mtu\":%u,"
                  "\"operstate\":%u,\"mac\":%s}}\n",
                  link.index, Str(link.name).c_str(), link.flags, link.type, link.mtu,
                  link.operstate, Str(mac).c_str());
    } else if ((msg.type == routebind::pfroute::kRtmNewAddr ||
                msg.type == routebind::pfroute::kRtmDelAddr) &&
               (why = routebind::ParseAddressMessage(msg, &ih, &a)) == nullptr) {
      std::printf("\"address\":{\"version\":%u,\"index\":%u,\"address\":%s,\"local\":%s,"
                  "\"prefixLen\":%u,\"broadcast\":%s,\"label\":%s,\"scope\":%u}}\n",
                  a.version, a.index, Ip(a.address).c_str(), Ip(a.local).c_str(), a.prefix_len,
                  Ip(a.broadcast).c_str(), Str(a.label).c_str(), a.scope);
    } else {
      std::printf("\"refused\":%s}\n", Str(why).c_str());
    }
  }
}

int BuildGet(const char* ip, const char* scope, const char* seq) {
  routebind::IpAddress destination;
  if (inet_pton(AF_INET, ip, destination.bytes) == 1) {
    destination.version = 4;
  } else if (inet_pton(AF_INET6, ip, destination.bytes) == 1) {
    destination.version = 6;
  }
  uint8_t request[256];
  size_t len = routebind::BuildRouteGetRequest(destination, static_cast<uint32_t>(std::strtoul(scope, nullptr, 10)),
                                               static_cast<int32_t>(std::strtol(seq, nullptr, 10)), request, sizeof request);
  for (size_t i = 0; i < len; ++i) std::printf("%02x", request[i]);
  std::printf("\n");
  return len == 0 ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "--print") == 0) {
    std::vector<uint8_t> bytes;
    std::string hex = argv[2];
    for (size_t i = 0; i + 1 < hex.size(); i += 2) {
      bytes.push_back(static_cast<uint8_t>(std::strtoul(hex.substr(i, 2).c_str(), nullptr, 16)));
    }
    // An exactly sized copy on the heap, so AddressSanitizer sees a read past the end.
    Print(std::vector<uint8_t>(bytes.begin(), bytes.end()));
    return 0;
  }
  if (argc == 5 && std::strcmp(argv[1], "--build-get") == 0) return BuildGet(argv[2], argv[3], argv[4]);
  return FuzzMain(argc, argv);
}
#endif
