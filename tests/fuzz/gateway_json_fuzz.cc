// libFuzzer target for JSON request bodies of linli.gateway.v1.ConsoleService (what the gateway's
// HTTP handler parses). Built with clang only (see CMakeLists.txt); the body is
// linli::fuzz::JsonToGatewayRequest in fuzz_bodies.cc, which fuzz_corpus_test also replays over
// corpus/gateway_json/ in every build. Run it with `make fuzz` or by hand (never pass the
// repository's corpus as the first, writable, directory):
//
//   cp -r tests/fuzz/corpus/gateway_json /tmp/gateway_json-corpus
//   build-fuzz/bin/gateway_json_fuzz -max_total_time=60 /tmp/gateway_json-corpus
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/fuzz_bodies.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Aborts on a broken invariant; libFuzzer then saves the input as crash-*.
  linli::fuzz::JsonToGatewayRequest(data, size);
  return 0;
}
