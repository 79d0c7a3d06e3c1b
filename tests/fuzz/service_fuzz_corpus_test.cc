// Replays the service fuzz bodies (service_bodies.h) in the ordinary build, so `make test` checks
// what service_request_fuzz and commitment_rrule_fuzz check without clang:
//   - every seed in corpus/service_request/ and corpus/commitment_rrule/ (one test per file);
//   - every method of the three backend services with an empty request and with a request of
//     a few random fields, so a method added to a proto is exercised at once;
//   - fixed-seed pseudo-random edits of the seeds (600 per target).
// A broken invariant aborts the binary with "fuzz invariant broken at ..." on stderr.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "common/errors.h"
#include "gtest/gtest.h"
#include "services/scheduling/commitment.h"
#include "tests/fuzz/corpus_replay.h"
#include "tests/fuzz/service_bodies.h"

namespace linli::fuzz {
namespace {

const Target kTargets[] = {
    {"service_request", ServiceRequest,
     "\x08\x0a\x10\x12\x18\x1a\x20\x22\x2a\x32\x01\x02\x05\x7f\x80/elders1visits2026-"},
    {"commitment_rrule", CommitmentRecurrence,
     "FREQ=DAILYWEEKLYMONTHLY;BYDAY=MO,TU,-1SU;BYMONTHDAY=31;COUNT=INTERVAL=UNTIL=\n0123456789-T:"},
};

class ServiceCorpusReplay : public ::testing::TestWithParam<SeedParam> {};

TEST_P(ServiceCorpusReplay, BodyHolds) {
  const Target& target = kTargets[GetParam().first];
  Feed(target, ReadFile(SeedPath(target, GetParam().second)));
}

INSTANTIATE_TEST_SUITE_P(Seeds, ServiceCorpusReplay, ::testing::ValuesIn(AllSeeds(kTargets)),
                         [](const ::testing::TestParamInfo<SeedParam>& info) {
                           return SeedTestName(kTargets, info.param);
                         });

TEST(ServiceCorpus, EveryTargetHasSeeds) {
  for (const Target& target : kTargets) {
    const size_t count = Seeds(target).size();
    EXPECT_GE(count, 5u) << target.name;
    EXPECT_LE(count, 20u) << target.name;
  }
}

// The method list comes from the descriptor pool and covers the three services.
TEST(ServiceMethods, EnumeratedFromTheDescriptorPool) {
  const std::vector<std::string>& methods = BackendMethods();
  ASSERT_LT(methods.size(), 256u) << "the first input byte can no longer reach every method";
  for (const char* service : kBackendServices) {
    EXPECT_TRUE(std::any_of(methods.begin(), methods.end(), [&](const std::string& m) {
      return absl::StartsWith(m, std::string(service) + ".");
    })) << service;
  }
  EXPECT_NE(std::find(methods.begin(), methods.end(),
                      "linli.scheduling.v1.SchedulingService.CreateCommitment"),
            methods.end());
}

// Every method with an empty request, then with one of a few plausible fields set (field 1 as a
// resource name or a number, a request_id), answers without a forbidden status.
TEST(ServiceMethods, EveryMethodAnswersEmptyAndSimpleRequests) {
  const size_t count = BackendMethods().size();
  const std::vector<std::string> payloads = {
      "",
      std::string("\x0a\x0bregions/310", 13),
      std::string("\x0a\x09\x65lders/e1\x12\x04r-01", 17),
      std::string("\x08\x05\x10\x07", 4),
  };
  const size_t before = ServiceRequestCalls();
  size_t parsed = 0;
  for (size_t i = 0; i < count; ++i) {
    for (const std::string& payload : payloads) {
      SCOPED_TRACE(BackendMethods()[i]);
      const size_t calls = ServiceRequestCalls();
      Feed(kTargets[0], std::string(1, static_cast<char>(i)) + payload);
      parsed += ServiceRequestCalls() - calls;
    }
  }
  // The empty request parses as every type: every method was called at least once.
  EXPECT_GE(ServiceRequestCalls() - before, count);
  EXPECT_EQ(ServiceRequestCalls() - before, parsed);
}

void RandomInputs(const Target& target, uint32_t seed, int count) {
  InputMaker inputs(target, seed);
  ASSERT_TRUE(inputs.has_seeds()) << target.name;
  // The service target keeps its first byte (the method) in most inputs, so that edits land in
  // the request, not in the choice of another method whose message the bytes rarely parse as.
  const bool keep_method = target.body == ServiceRequest;
  for (int i = 0; i < count; ++i) {
    Feed(target, inputs.Seed(keep_method && inputs.Pick(8) != 0 ? 1 : 0));
  }
}

TEST(ServiceRandomInputs, ServiceRequest) {
  const size_t before = ServiceRequestCalls();
  RandomInputs(kTargets[0], 2001, 600);
  // An insertion or deletion usually breaks a length prefix, so only about one edited request in
  // eight still parses; those must reach a service.
  EXPECT_GT(ServiceRequestCalls() - before, 50u);
}
TEST(ServiceRandomInputs, CommitmentRecurrence) { RandomInputs(kTargets[1], 2002, 600); }

// Found by CommitmentRecurrence (seed commitment_rrule/bad_until_before_dtstart): a commitment
// whose first occurrence comes after valid_until was accepted and never produced a visit.
TEST(CommitmentFindings, NoOccurrenceWithinTheValidityIsRejected) {
  scheduling::v1::Commitment c;
  c.set_elder("elders/e1");
  c.set_service_type("serviceTypes/visiting");
  c.set_owner_organisation("organisations/lelin");
  c.mutable_recurrence()->set_rrule("FREQ=WEEKLY;BYDAY=FR");
  c.mutable_recurrence()->set_dtstart("2030-01-04T09:00:00");
  c.set_duration_minutes(60);
  c.set_valid_from("2026-12-01");
  c.set_valid_until("2027-03-01");
  FieldViolations violations;
  scheduling::ValidateCommitment(c, violations);
  const absl::Status status = violations.ToStatus();
  ASSERT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GetBadRequest(status)->field_violations(0).field(), "commitment.recurrence.dtstart");
  // Inside the validity again: accepted.
  c.mutable_recurrence()->set_dtstart("2026-12-04T09:00:00");
  FieldViolations fine;
  scheduling::ValidateCommitment(c, fine);
  EXPECT_TRUE(fine.empty()) << fine.ToStatus();
  // A rule whose only occurrences fall outside the validity: named on the rule.
  c.mutable_recurrence()->set_rrule("FREQ=YEARLY;BYMONTH=6;BYMONTHDAY=1");
  FieldViolations outside;
  scheduling::ValidateCommitment(c, outside);
  ASSERT_FALSE(outside.empty());
  EXPECT_EQ(GetBadRequest(outside.ToStatus())->field_violations(0).field(),
            "commitment.recurrence.rrule");
}

}  // namespace
}  // namespace linli::fuzz
