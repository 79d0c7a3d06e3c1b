// libFuzzer target for the recurrence of care commitments (services/scheduling/commitment.h):
// defaults, validation and expansion of arbitrary rules and dates (body:
// linli::fuzz::CommitmentRecurrence in service_bodies.cc; service_fuzz_corpus_test replays
// corpus/commitment_rrule/ in every build).
//
//   cp -r tests/fuzz/corpus/commitment_rrule /tmp/commitment_rrule-corpus
//   build-fuzz/bin/commitment_rrule_fuzz -max_total_time=60 \
//       -dict=common/recurrence/rrule_fuzz.dict /tmp/commitment_rrule-corpus
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/service_bodies.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  linli::fuzz::CommitmentRecurrence(data, size);
  return 0;
}
