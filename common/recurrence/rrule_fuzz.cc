// libFuzzer target for ParseRule/FormatRule/Occurrences (built with clang only; see
// CMakeLists.txt). The body lives in rrule_testing.cc so recurrence_test replays the seed corpus
// through exactly the same checks in every build.
//
//   build/bin/rrule_fuzz -max_total_time=60 -max_len=1200
//       -dict=common/recurrence/rrule_fuzz.dict /tmp/rrule-corpus common/recurrence/corpus
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/string_view.h"
#include "common/recurrence/rrule_testing.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string problem = linli::recurrence::testing::CheckRuleInvariants(
      absl::string_view(reinterpret_cast<const char*>(data), size));
  if (!problem.empty()) {
    std::fprintf(stderr, "invariant broken: %s\n", problem.c_str());
    std::abort();  // libFuzzer saves the input as a crash-* reproducer
  }
  return 0;
}
