// libFuzzer target for FieldCipher::Decrypt (common/pii/field_cipher.h): stored PII tokens.
// Built with clang only (see CMakeLists.txt); the body is linli::fuzz::FieldCipherToken in
// fuzz_bodies.cc, which fuzz_corpus_test also replays over corpus/field_cipher/ in every build. Run
// it with `make fuzz` or by hand (never pass the repository's corpus as the first, writable,
// directory):
//
//   cp -r tests/fuzz/corpus/field_cipher /tmp/field_cipher-corpus
//   build-fuzz/bin/field_cipher_fuzz -max_total_time=60 /tmp/field_cipher-corpus
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/fuzz_bodies.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Aborts on a broken invariant; libFuzzer then saves the input as crash-*.
  linli::fuzz::FieldCipherToken(data, size);
  return 0;
}
