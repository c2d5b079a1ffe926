// Fuzz target for the netlink parser (native/netlink_parser.cc): every message of any buffer is
// offered to every parser. Built by scripts/fuzz.sh with libFuzzer (clang) or, without clang,
// with AddressSanitizer and the small mutation driver below.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "../../native/netlink_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  routebind::NetlinkMessageReader reader(data, size);
  routebind::NetlinkMessage msg;
  while (reader.Next(&msg) == routebind::NetlinkMessageReader::kMessage) {
    routebind::RouteInfo route;
    routebind::LinkInfo link;
    routebind::AddressInfo address;
    int error = 0;
    routebind::ParseRouteMessage(msg, &route);
    routebind::ParseLinkMessage(msg, &link);
    routebind::ParseAddressMessage(msg, &address);
    routebind::ParseErrorMessage(msg, &error);
    routebind::ParseDoneError(msg);
  }
  return 0;
}

#ifndef ROUTEBIND_LIBFUZZER
// Without libFuzzer: random buffers, and random mutations of a valid route message, under ASan.
int main(int argc, char** argv) {
  unsigned long iterations = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 1000000;
  std::mt19937 rng(42);
  // A minimal RTM_NEWROUTE: nlmsghdr, rtmsg, RTA_DST 127.0.0.1, RTA_OIF 1.
  const uint8_t seed[] = {
      44, 0, 0, 0, 24, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0,   // nlmsghdr
      2, 32, 0, 0, 254, 0, 0, 1, 0, 0, 0, 0,               // rtmsg
      8, 0, 1, 0, 127, 0, 0, 1,                            // RTA_DST
      8, 0, 4, 0, 1, 0, 0, 0};                             // RTA_OIF
  std::vector<uint8_t> buffer;
  for (unsigned long i = 0; i < iterations; ++i) {
    if (i % 2 == 0) {
      buffer.assign(seed, seed + sizeof seed);
      for (int m = rng() % 4 + 1; m > 0; --m) buffer[rng() % buffer.size()] = static_cast<uint8_t>(rng());
      buffer.resize(rng() % (buffer.size() + 1));
    } else {
      buffer.resize(rng() % 256);
      for (auto& b : buffer) b = static_cast<uint8_t>(rng());
    }
    // Exactly sized heap copy, so ASan sees any read past the end.
    std::vector<uint8_t> exact(buffer.begin(), buffer.end());
    LLVMFuzzerTestOneInput(exact.data(), exact.size());
  }
  return 0;
}
#endif
