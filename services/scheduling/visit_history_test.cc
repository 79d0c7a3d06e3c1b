#include "services/scheduling/visit_history.h"

#include <set>
#include <string>
#include <vector>

#include "common/errors.h"
#include "common/recurrence/rrule.h"
#include "gtest/gtest.h"
#include "services/scheduling/scheduling_util.h"
#include "services/scheduling/testing/visits.h"

namespace linli::scheduling {
namespace {

const absl::Time kNine =  // 2026-11-03 09:00 Shanghai
    absl::FromCivil(absl::CivilSecond(2026, 11, 3, 9, 0, 0), recurrence::ShanghaiTimeZone());
const absl::Time kNow = kNine + absl::Hours(24 * 30);
constexpr double kRadius = 200;

// A visit at 09:00-11:00 (tolerance 30 minutes) of 60 minutes at the elder's home.
v1::Visit Visit(int workers_required = 1) { return ScheduledVisit(kNine, workers_required); }

v1::ImportedAttendance Came(const std::string& worker, absl::Time in, absl::Time out,
                            double lat = 31.2) {
  v1::ImportedAttendance a;
  a.set_worker(worker);
  *a.mutable_check_in_time() = ToTimestamp(in);
  *a.mutable_check_out_time() = ToTimestamp(out);
  a.mutable_check_in_location()->set_latitude(lat);
  a.mutable_check_in_location()->set_longitude(121.48);
  a.mutable_check_out_location()->set_latitude(31.2);
  a.mutable_check_out_location()->set_longitude(121.48);
  a.set_method(v1::CHECK_METHOD_APP_GPS);
  return a;
}

v1::ImportedVisit Completed(std::vector<v1::ImportedAttendance> attendance) {
  v1::ImportedVisit row;
  row.set_line(2);
  row.set_commitment("commitments/c1");
  row.set_occurrence("2026-11-03T09:00:00");
  row.set_state(v1::VISIT_STATE_COMPLETED);
  for (v1::ImportedAttendance& a : attendance) *row.add_attendance() = std::move(a);
  return row;
}

std::set<std::string> Fields(const absl::Status& status) {
  std::set<std::string> fields;
  if (auto bad = GetBadRequest(status); bad.has_value()) {
    for (const auto& v : bad->field_violations()) fields.insert(v.field());
  }
  return fields;
}

std::vector<std::string> Exceptions(const v1::Visit& visit) {
  return {visit.exceptions().begin(), visit.exceptions().end()};
}

TEST(VisitHistory, AGoodRowPassesAndABadOneNamesEveryField) {
  const v1::ImportedVisit good =
      Completed({Came("workers/w1", kNine + absl::Minutes(10), kNine + absl::Minutes(70))});
  EXPECT_TRUE(ValidateImportedVisit(good, kNow).ok());

  v1::ImportedVisit bad = Completed(
      {Came("people/w1", kNine, kNine - absl::Minutes(5)), Came("workers/w2", kNine, kNow)});
  bad.set_commitment("commitment/c1");
  bad.set_occurrence("2026-11-03 09:00");
  bad.set_reason_code("ILL");
  bad.mutable_attendance(1)->set_method(v1::CHECK_METHOD_UNSPECIFIED);
  *bad.mutable_attendance(1)->mutable_check_out_time() = ToTimestamp(kNow + absl::Minutes(1));
  absl::Status status = ValidateImportedVisit(bad, kNow);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      Fields(status),
      (std::set<std::string>{"visit.commitment", "visit.occurrence", "visit.reason_code",
                             "visit.attendance[0].worker", "visit.attendance[0].check_out_time",
                             "visit.attendance[1].method", "visit.attendance[1].check_out_time"}));

  v1::ImportedVisit missed = Completed({});
  missed.set_state(v1::VISIT_STATE_MISSED);
  EXPECT_TRUE(ValidateImportedVisit(missed, kNow).ok());
  EXPECT_EQ(Fields(ValidateImportedVisit(Completed({}), kNow)),
            (std::set<std::string>{"visit.attendance"}));
  v1::ImportedVisit cancelled = missed;
  cancelled.set_state(v1::VISIT_STATE_CANCELLED);
  EXPECT_EQ(Fields(ValidateImportedVisit(cancelled, kNow)),
            (std::set<std::string>{"visit.reason_code"}));
  cancelled.set_reason_code("ELDER_IN_HOSPITAL");
  EXPECT_TRUE(ValidateImportedVisit(cancelled, kNow).ok());
  v1::ImportedVisit twice = Completed({Came("workers/w1", kNine, kNine + absl::Hours(1)),
                                       Came("workers/w1", kNine, kNine + absl::Hours(1))});
  EXPECT_EQ(Fields(ValidateImportedVisit(twice, kNow)),
            (std::set<std::string>{"visit.attendance[1].worker"}));
}

TEST(VisitHistory, AReplayedVisitRecordsWhatALiveCheckWould) {
  // Late (after 11:30), outside the geofence (1 km north), and short.
  v1::Visit visit = Visit();
  absl::StatusOr<std::string> event = ReplayVisit(
      Completed(
          {Came("workers/w1", kNine + absl::Minutes(160), kNine + absl::Minutes(175), 31.21)}),
      kRadius, visit);
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(*event, "visit.completed");
  EXPECT_EQ(visit.state(), v1::VISIT_STATE_COMPLETED);
  EXPECT_EQ(Exceptions(visit),
            (std::vector<std::string>{"OUTSIDE_GEOFENCE", "LATE_ARRIVAL", "SHORT_VISIT"}));
  EXPECT_EQ(FromTimestamp(visit.check_in().time()), kNine + absl::Minutes(160));
  EXPECT_EQ(FromTimestamp(visit.check_out().time()), kNine + absl::Minutes(175));

  // On time, at the door: nothing to note.
  v1::Visit kept = Visit();
  ASSERT_TRUE(
      ReplayVisit(Completed({Came("workers/w1", kNine + absl::Minutes(5), kNine + absl::Hours(1))}),
                  kRadius, kept)
          .ok());
  EXPECT_TRUE(kept.exceptions().empty());
}

TEST(VisitHistory, ATwoWorkerVisitIsReplayedInTheOrderOfItsChecks) {
  // Listed with the later arrival first: replayed by time, both count.
  v1::Visit bath = Visit(2);
  const v1::ImportedVisit row =
      Completed({Came("workers/w2", kNine + absl::Minutes(12), kNine + absl::Minutes(70)),
                 Came("workers/w1", kNine + absl::Minutes(10), kNine + absl::Minutes(72))});
  absl::StatusOr<std::string> event = ReplayVisit(row, kRadius, bath);
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(bath.check_in().worker(), "workers/w1");
  ASSERT_EQ(bath.team_check_ins_size(), 1);
  EXPECT_EQ(bath.team_check_ins(0).worker(), "workers/w2");
  EXPECT_EQ(bath.check_out().worker(), "workers/w1");
  EXPECT_TRUE(bath.exceptions().empty());

  // The second carer arrives after the first left: the visit was over, as live.
  v1::Visit late = Visit(2);
  absl::StatusOr<std::string> refused = ReplayVisit(
      Completed({Came("workers/w1", kNine, kNine + absl::Minutes(60)),
                 Came("workers/w2", kNine + absl::Minutes(61), kNine + absl::Minutes(90))}),
      kRadius, late);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Fields(refused.status()), (std::set<std::string>{"visit.attendance[1].check_in_time"}));

  // One carer for a bath of two: recorded, with the worker missing.
  v1::Visit alone = Visit(2);
  ASSERT_TRUE(
      ReplayVisit(Completed({Came("workers/w1", kNine, kNine + absl::Hours(1))}), kRadius, alone)
          .ok());
  EXPECT_EQ(Exceptions(alone), (std::vector<std::string>{"WORKER_MISSING"}));

  // Three workers for a visit of two, or an arrival a day away, do not fit the visit.
  v1::Visit crowded = Visit(2);
  EXPECT_EQ(Fields(ReplayVisit(Completed({Came("workers/w1", kNine, kNine + absl::Hours(1)),
                                          Came("workers/w2", kNine, kNine + absl::Hours(1)),
                                          Came("workers/w3", kNine, kNine + absl::Hours(1))}),
                               kRadius, crowded)
                       .status()),
            (std::set<std::string>{"visit.attendance"}));
  v1::Visit far = Visit();
  EXPECT_EQ(
      Fields(ReplayVisit(
                 Completed({Came("workers/w1", kNine + absl::Hours(26), kNine + absl::Hours(27))}),
                 kRadius, far)
                 .status()),
      (std::set<std::string>{"visit.attendance[0].check_in_time"}));
}

TEST(VisitHistory, AStaffedVisitRecordsTheStandIn) {
  v1::Visit visit = Visit();
  visit.add_assignments()->set_worker("workers/booked");
  ASSERT_TRUE(
      ReplayVisit(Completed({Came("workers/other", kNine, kNine + absl::Hours(1))}), kRadius, visit)
          .ok());
  EXPECT_EQ(Exceptions(visit), (std::vector<std::string>{"WORKER_NOT_PLANNED"}));
}

TEST(VisitHistory, MissedAndCancelledVisits) {
  v1::ImportedVisit row = Completed({});
  row.set_state(v1::VISIT_STATE_MISSED);
  v1::Visit missed = Visit();
  missed.add_assignments()->set_worker("workers/booked");
  absl::StatusOr<std::string> event = ReplayVisit(row, kRadius, missed);
  ASSERT_TRUE(event.ok());
  EXPECT_EQ(*event, "visit.missed");
  EXPECT_EQ(missed.state(), v1::VISIT_STATE_MISSED);
  EXPECT_TRUE(missed.assignments().empty());

  row.set_state(v1::VISIT_STATE_CANCELLED);
  row.set_reason_code("ELDER_IN_HOSPITAL");
  v1::Visit cancelled = Visit();
  event = ReplayVisit(row, kRadius, cancelled);
  ASSERT_TRUE(event.ok());
  EXPECT_EQ(*event, "visit.cancelled");
  EXPECT_EQ(cancelled.state(), v1::VISIT_STATE_CANCELLED);
  EXPECT_EQ(cancelled.reason_code(), "ELDER_IN_HOSPITAL");
}

TEST(VisitHistory, ARowNamesItsPromiseByNameOrByElderServiceAndOwner) {
  v1::ImportedVisit keyed = Completed({Came("workers/w1", kNine, kNine + absl::Minutes(60))});
  keyed.clear_commitment();
  keyed.set_elder("elders/e1");
  keyed.set_service_type("serviceTypes/bathing");
  keyed.set_owner_organisation("organisations/o1");
  EXPECT_TRUE(NamesPromiseByKey(keyed));
  EXPECT_TRUE(ValidateImportedVisit(keyed, kNow).ok());
  // Both ways at once; a part of the key missing or malformed.
  v1::ImportedVisit both = keyed;
  both.set_commitment("commitments/c1");
  EXPECT_EQ(Fields(ValidateImportedVisit(both, kNow)), std::set<std::string>{"visit.commitment"});
  v1::ImportedVisit partial = keyed;
  partial.clear_owner_organisation();
  partial.set_service_type("bathing");
  EXPECT_EQ(Fields(ValidateImportedVisit(partial, kNow)),
            (std::set<std::string>{"visit.service_type", "visit.owner_organisation"}));
  EXPECT_FALSE(NamesPromiseByKey(Completed({})));
}

TEST(VisitHistory, TheKeyFindsThePromiseWhoseRecurrenceHasTheOccurrence) {
  auto promise = [](const std::string& name, const std::string& service, const std::string& rule,
                    const std::string& from, v1::CommitmentState state) {
    v1::Commitment c;
    c.set_name(name);
    c.set_elder("elders/e1");
    c.set_service_type(service);
    c.set_owner_organisation("organisations/o1");
    c.mutable_recurrence()->set_rrule(rule);
    c.mutable_recurrence()->set_dtstart(from + "T09:00:00");
    c.set_window_minutes(120);
    c.set_duration_minutes(60);
    c.set_workers_required(1);
    c.set_valid_from(from);
    c.set_state(state);
    return c;
  };
  const auto active = v1::COMMITMENT_STATE_ACTIVE;
  const auto cancelled = v1::COMMITMENT_STATE_CANCELLED;
  // 2026-11-03 is a Tuesday.
  const std::vector<v1::Commitment> promises = {
      promise("commitments/meals", "serviceTypes/meal", "FREQ=DAILY", "2026-10-01", active),
      promise("commitments/old", "serviceTypes/bathing", "FREQ=WEEKLY;BYDAY=TU", "2026-09-01",
              cancelled),
      promise("commitments/thursdays", "serviceTypes/bathing", "FREQ=WEEKLY;BYDAY=TH", "2026-10-01",
              active),
      promise("commitments/early", "serviceTypes/bathing", "FREQ=WEEKLY;BYDAY=TU", "2026-09-15",
              active),
      promise("commitments/late", "serviceTypes/bathing", "FREQ=WEEKLY;BYDAY=TU", "2026-10-20",
              active),
  };
  v1::ImportedVisit row;
  row.set_elder("elders/e1");
  row.set_service_type("serviceTypes/bathing");
  row.set_owner_organisation("organisations/o1");
  row.set_occurrence("2026-11-03T09:00:00");
  // Of the Tuesday baths, one not cancelled, then the latest to start.
  const v1::Commitment* found = PromiseOfOccurrence(promises, row);
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->name(), "commitments/late");
  // Only the cancelled one had Tuesdays in September: its past visits are still its own.
  row.set_occurrence("2026-09-08T09:00:00");
  found = PromiseOfOccurrence(promises, row);
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->name(), "commitments/old");
  // Nobody's occurrence: another hour, another owner.
  row.set_occurrence("2026-11-03T10:00:00");
  EXPECT_EQ(PromiseOfOccurrence(promises, row), nullptr);
  row.set_occurrence("2026-11-05T09:00:00");
  EXPECT_EQ(PromiseOfOccurrence(promises, row)->name(), "commitments/thursdays");
  row.set_owner_organisation("organisations/o2");
  EXPECT_EQ(PromiseOfOccurrence(promises, row), nullptr);
}

}  // namespace
}  // namespace linli::scheduling
