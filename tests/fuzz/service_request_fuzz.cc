// libFuzzer target for every request of the registry, scheduling and feedback services, served
// in process by the real implementations (body: linli::fuzz::ServiceRequest in
// service_bodies.cc; service_fuzz_corpus_test replays corpus/service_request/ in every build).
// Run it with `make fuzz` or by hand (never pass the repository's corpus as the first, writable,
// directory):
//
//   cp -r tests/fuzz/corpus/service_request /tmp/service_request-corpus
//   build-fuzz/bin/service_request_fuzz -max_total_time=60 /tmp/service_request-corpus
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/service_bodies.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  linli::fuzz::ServiceRequest(data, size);
  return 0;
}
