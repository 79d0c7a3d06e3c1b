#include "services/scheduling/commitment.h"

#include <vector>

#include "common/errors.h"
#include "common/recurrence/rrule.h"
#include "gtest/gtest.h"

namespace linli::scheduling {
namespace {

v1::Commitment Valid() {
  v1::Commitment c;
  c.set_elder("elders/e1");
  c.set_service_type("serviceTypes/bathing");
  c.set_owner_organisation("organisations/o1");
  c.mutable_recurrence()->set_rrule("FREQ=WEEKLY;BYDAY=TU,TH");
  c.mutable_recurrence()->set_dtstart("2026-12-01T09:00:00");
  c.set_window_minutes(120);
  c.set_duration_minutes(60);
  c.set_workers_required(1);
  c.set_valid_from("2026-12-01");
  return c;
}

std::vector<std::string> Fields(const v1::Commitment& c) {
  FieldViolations v;
  ValidateCommitment(c, v);
  std::vector<std::string> fields;
  if (auto bad = GetBadRequest(v.ToStatus())) {
    for (const auto& f : bad->field_violations()) fields.push_back(f.field());
  }
  return fields;
}

TEST(Commitment, CareGradeDefaults) {
  v1::Commitment c;
  c.set_valid_from("2026-12-01");
  c.set_care_grade(4);
  ApplyCareGradeDefaults(c);
  EXPECT_EQ(c.recurrence().rrule(), "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR");
  EXPECT_EQ(c.recurrence().dtstart(), "2026-12-01T09:00:00");
  EXPECT_EQ(c.window_minutes(), 120);
  EXPECT_EQ(c.duration_minutes(), 60);

  v1::Commitment light;
  light.set_care_grade(2);
  ApplyCareGradeDefaults(light);
  EXPECT_EQ(light.recurrence().rrule(), "FREQ=WEEKLY;BYDAY=MO,WE,FR");
  v1::Commitment heavy;
  heavy.set_care_grade(6);
  ApplyCareGradeDefaults(heavy);
  EXPECT_EQ(heavy.recurrence().rrule(), "FREQ=DAILY");

  // Grade 1 (or none) is no entitlement: nothing is filled in; a given rule is kept.
  v1::Commitment none;
  none.set_care_grade(1);
  ApplyCareGradeDefaults(none);
  EXPECT_FALSE(none.has_recurrence());
  v1::Commitment own = Valid();
  own.set_care_grade(5);
  ApplyCareGradeDefaults(own);
  EXPECT_EQ(own.recurrence().rrule(), "FREQ=WEEKLY;BYDAY=TU,TH");
}

TEST(Commitment, ValidationNamesTheFields) {
  EXPECT_TRUE(Fields(Valid()).empty());
  v1::Commitment c = Valid();
  c.set_elder("elder/1");
  c.set_workers_required(2);  // without a synchronisation
  c.add_required_skills("Bathing");
  c.set_valid_until("2026-11-30");
  EXPECT_EQ(Fields(c),
            (std::vector<std::string>{"commitment.elder", "commitment.synchronisation.type",
                                      "commitment.required_skills[0]", "commitment.valid_until"}));
  v1::Commitment ordered = Valid();
  ordered.set_workers_required(2);
  ordered.mutable_synchronisation()->set_type(v1::SYNCHRONISATION_TYPE_ORDERED);
  ordered.mutable_synchronisation()->set_min_gap_minutes(30);
  ordered.mutable_synchronisation()->set_max_gap_minutes(10);
  EXPECT_EQ(Fields(ordered), std::vector<std::string>{"commitment.synchronisation"});
}

TEST(Commitment, ARuleWithoutAnOccurrenceInTheValidityIsRefused) {
  v1::Commitment c = Valid();
  c.set_valid_until("2026-12-01");  // a Tuesday: one visit
  EXPECT_TRUE(Fields(c).empty());
  c.mutable_recurrence()->set_rrule("FREQ=WEEKLY;BYDAY=WE");
  EXPECT_EQ(Fields(c), std::vector<std::string>{"commitment.recurrence.rrule"});
}

TEST(Commitment, OccurrencesWithinTheValidity) {
  v1::Commitment c = Valid();
  c.set_valid_until("2026-12-08");
  const std::vector<Occurrence> all =
      Occurrences(c, absl::CivilDay(2026, 11, 1), absl::CivilDay(2027, 1, 1), 100);
  ASSERT_EQ(all.size(), 3u);  // Tue 1, Thu 3, Tue 8
  EXPECT_EQ(all[0].key, "2026-12-01T09:00:00");
  EXPECT_EQ(all[2].key, "2026-12-08T09:00:00");
  EXPECT_EQ(all[0].window_start, absl::FromCivil(absl::CivilSecond(2026, 12, 1, 9, 0, 0),
                                                 recurrence::ShanghaiTimeZone()));
  EXPECT_EQ(all[0].window_end - all[0].window_start, absl::Minutes(120));
  EXPECT_EQ(Occurrences(c, absl::CivilDay(2026, 12, 2), absl::CivilDay(2026, 12, 8), 100).size(),
            1u);  // [from, to): the 3rd only
  EXPECT_EQ(Occurrences(c, absl::CivilDay(2026, 11, 1), absl::CivilDay(2027, 1, 1), 2).size(), 2u);
  EXPECT_EQ(LocalKey(absl::CivilSecond(2026, 1, 2, 3, 4, 5)), "2026-01-02T03:04:05");
}

TEST(Commitment, TheKeyIsElderServiceOwnerAndFirstDay) {
  const v1::Commitment c = Valid();
  v1::Commitment same = c;
  same.set_valid_from("2026-12-1");  // the same day, written without the zero
  same.set_window_minutes(60);       // the rest of the promise is not its key
  EXPECT_EQ(CommitmentKey(same), CommitmentKey(c));
  for (auto change : std::vector<void (*)(v1::Commitment&)>{
           [](v1::Commitment& x) { x.set_elder("elders/e2"); },
           [](v1::Commitment& x) { x.set_service_type("serviceTypes/meal"); },
           [](v1::Commitment& x) { x.set_owner_organisation("organisations/o2"); },
           [](v1::Commitment& x) { x.set_valid_from("2026-12-02"); }}) {
    v1::Commitment other = c;
    change(other);
    EXPECT_NE(CommitmentKey(other), CommitmentKey(c));
  }
  // Parts cannot run into each other.
  v1::Commitment shifted = c;
  shifted.set_elder("elders/e1serviceTypes/bathing");
  shifted.set_service_type("");
  EXPECT_NE(CommitmentKey(shifted), CommitmentKey(c));
}

}  // namespace
}  // namespace linli::scheduling
