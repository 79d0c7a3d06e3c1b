// Test support for rrule.h, shared by the libFuzzer target (rrule_fuzz.cc) and recurrence_test.
//
// ReferenceOccurrences is a deliberately naive second implementation of the expansion: it walks
// every day and asks "does the rule match this day?" instead of generating each period's days,
// so agreement between the two is evidence that the fast path (period jumps, ordinal arithmetic,
// the COUNT shortcut) is right.
//
//   std::string problem = CheckRuleInvariants("FREQ=MONTHLY;BYDAY=-1FR");
//   EXPECT_EQ(problem, "");
#ifndef LINLI_COMMON_RECURRENCE_RRULE_TESTING_H_
#define LINLI_COMMON_RECURRENCE_RRULE_TESTING_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "common/recurrence/rrule.h"

namespace linli::recurrence::testing {

// Day-by-day expansion; cost is linear in the days from dtstart to window_end, so keep that
// span to a few years.
std::vector<absl::CivilSecond> ReferenceOccurrences(const RecurrenceRule& rule,
                                                    absl::CivilSecond dtstart,
                                                    absl::CivilSecond window_start,
                                                    absl::CivilSecond window_end,
                                                    size_t max_results);

// The fuzz body. Parses `input`; a rejection must be INVALID_ARGUMENT starting "position N: "
// with N inside the input. An accepted rule must validate, survive FormatRule/ParseRule
// unchanged, and expand (from a dtstart and window derived from the input's bytes) exactly like
// ReferenceOccurrences; every occurrence must be covered by the schedule built on it.
// Returns "" when all of that holds, else what broke.
std::string CheckRuleInvariants(absl::string_view input);

}  // namespace linli::recurrence::testing

#endif  // LINLI_COMMON_RECURRENCE_RRULE_TESTING_H_
