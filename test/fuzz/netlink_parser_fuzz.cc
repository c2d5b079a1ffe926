// Fuzz target for the netlink parser (native/linux/netlink_parser.cc): every message of any buffer is
// offered to every parser. scripts/fuzz.sh builds it with AddressSanitizer and UBSan (no
// recovery: the first report ends the run) around the deterministic mutation driver below;
// LLVMFuzzerTestOneInput also links with libFuzzer as it is (-DROUTEBIND_LIBFUZZER).
#include <cstddef>
#include <cstdint>

#include "../../native/linux/netlink_parser.h"

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
#include "fuzz_driver.h"

int main(int argc, char** argv) { return FuzzMain(argc, argv); }
#endif
