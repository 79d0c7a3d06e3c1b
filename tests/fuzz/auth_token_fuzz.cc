// libFuzzer target for the gateway's credentials (common/auth): JWT access tokens and partner
// API keys. Built with clang only (see CMakeLists.txt); the body is linli::fuzz::AuthToken in
// fuzz_bodies.cc, which fuzz_corpus_test also replays over corpus/auth_token/ in every build:
//
//   cp -r tests/fuzz/corpus/auth_token /tmp/auth_token-corpus
//   build-fuzz/bin/auth_token_fuzz -max_total_time=60 /tmp/auth_token-corpus
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/fuzz_bodies.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  linli::fuzz::AuthToken(data, size);
  return 0;
}
