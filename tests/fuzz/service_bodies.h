// Fuzz bodies for the backend services (registry, scheduling, feedback): every request type of
// every method, parsed and served in process by the real service code, and the commitment
// recurrence expansion of scheduling. Same pattern as fuzz_bodies.h: plain functions that abort
// with "fuzz invariant broken at ..." on a finding, replayed by service_fuzz_corpus_test in
// `make test` and run under libFuzzer + ASan/UBSan by service_request_fuzz and
// commitment_rrule_fuzz in `make fuzz`.
//
//   linli::fuzz::ServiceRequest(data, size);        // aborts iff a service misbehaves on data
//   linli::fuzz::CommitmentRecurrence(data, size);  // aborts iff expansion misbehaves
#ifndef LINLI_TESTS_FUZZ_SERVICE_BODIES_H_
#define LINLI_TESTS_FUZZ_SERVICE_BODIES_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace linli::fuzz {

// The services whose methods ServiceRequest covers, in this order. Every method of each, as the
// generated descriptor pool declares them, so a method added to a proto is fuzzed without any
// change here.
inline constexpr const char* kBackendServices[] = {"linli.registry.v1.RegistryService",
                                                   "linli.scheduling.v1.SchedulingService",
                                                   "linli.feedback.v1.FeedbackService"};

// Full names ("linli.registry.v1.RegistryService.GetRegion") of the methods ServiceRequest picks
// from: the first input byte modulo this list's size is the index.
const std::vector<std::string>& BackendMethods();

// (f) The first byte picks a method of BackendMethods(); the rest is parsed as protobuf binary of
// its input type. A message that parses is sent, over an in-process channel, to one gRPC server
// per process that hosts the three real service implementations on SQLite databases in a
// temporary directory (scheduling and feedback reach the registry through the same server; the
// registry holds the small street of tests/support/backends.h). The answer may be any status but
// INTERNAL, UNKNOWN, DATA_LOSS, UNIMPLEMENTED or DEADLINE_EXCEEDED (5 s); an INVALID_ARGUMENT
// must carry a google.rpc.BadRequest naming at least one field, or an ErrorInfo reason.
void ServiceRequest(const uint8_t* data, size_t size);

// How many parsed requests ServiceRequest has sent to a service so far in this process (for the
// replay test: random inputs must reach the services, not only the parser).
size_t ServiceRequestCalls();

// (g) Commitment recurrence (services/scheduling/commitment.h). The input is text, one field per
// line (missing lines are empty):
//   rrule, dtstart, valid_from, valid_until, care_grade, window_minutes, from, days, max
// care_grade, window_minutes, days and max are integers (days is cut to 0..800 and max to
// 0..2000; an empty max means 1000). The commitment gets ApplyCareGradeDefaults and
// ValidateCommitment (both must return, the fuzzer's timeout catches loops); when it is valid,
// Occurrences(from, from + days, max) must hold at most `max` occurrences, strictly increasing,
// each key the local time of its window start, opening on a day inside both the asked range and
// the validity, lasting window_minutes; the same range cut in two must give the same
// occurrences; and a valid commitment must have an occurrence in the two years after
// max(valid_from, dtstart) (what validation promises).
void CommitmentRecurrence(const uint8_t* data, size_t size);

}  // namespace linli::fuzz

#endif  // LINLI_TESTS_FUZZ_SERVICE_BODIES_H_
