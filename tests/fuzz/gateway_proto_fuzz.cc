// libFuzzer target for binary protobuf requests of linli.gateway.v1.ConsoleService (what the gRPC
// port parses). Built with clang only (see CMakeLists.txt); the body is
// linli::fuzz::ProtoParseRequest in fuzz_bodies.cc, which fuzz_corpus_test also replays over
// corpus/gateway_proto/ in every build. Run it with `make fuzz` or by hand (never pass the
// repository's corpus as the first, writable, directory):
//
//   cp -r tests/fuzz/corpus/gateway_proto /tmp/gateway_proto-corpus
//   build-fuzz/bin/gateway_proto_fuzz -max_total_time=60 /tmp/gateway_proto-corpus
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/fuzz_bodies.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Aborts on a broken invariant; libFuzzer then saves the input as crash-*.
  linli::fuzz::ProtoParseRequest(data, size);
  return 0;
}
