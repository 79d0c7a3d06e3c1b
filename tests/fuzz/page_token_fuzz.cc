// libFuzzer target for DecodePageToken (common/pagination.h): opaque page tokens from clients.
// Built with clang only (see CMakeLists.txt); the body is linli::fuzz::PageToken in fuzz_bodies.cc,
// which fuzz_corpus_test also replays over corpus/page_token/ in every build. Run it with
// `make fuzz` or by hand (never pass the repository's corpus as the first, writable, directory):
//
//   cp -r tests/fuzz/corpus/page_token /tmp/page_token-corpus
//   build-fuzz/bin/page_token_fuzz -max_total_time=60 /tmp/page_token-corpus
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/fuzz_bodies.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Aborts on a broken invariant; libFuzzer then saves the input as crash-*.
  linli::fuzz::PageToken(data, size);
  return 0;
}
