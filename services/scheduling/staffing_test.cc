#include "services/scheduling/staffing.h"

#include "common/errors.h"
#include "common/recurrence/rrule.h"
#include "gtest/gtest.h"
#include "services/scheduling/scheduling_util.h"

namespace linli::scheduling {
namespace {

const absl::Time kNine =  // 2026-12-01 09:00 Shanghai, a Tuesday
    absl::FromCivil(absl::CivilSecond(2026, 12, 1, 9, 0, 0), recurrence::ShanghaiTimeZone());

v1::Visit Visit(int workers_required) {
  v1::Visit visit;
  visit.set_name("visits/v");
  visit.set_commitment("commitments/c");
  visit.set_duration_minutes(60);
  visit.set_workers_required(workers_required);
  *visit.mutable_window_start() = ToTimestamp(kNine);
  *visit.mutable_window_end() = ToTimestamp(kNine + absl::Hours(2));
  return visit;
}

registry::v1::Worker Worker(const std::string& name, std::vector<std::string> skills) {
  registry::v1::Worker w;
  w.set_name(name);
  for (const std::string& s : skills) w.add_skills(s);
  return w;
}

std::string Field(const absl::Status& status) {
  auto bad = GetBadRequest(status);
  return bad && bad->field_violations_size() > 0 ? bad->field_violations(0).field() : "";
}

TEST(Staffing, AssignmentsAreFoundAddedAndRemoved) {
  v1::Visit visit = Visit(2);
  EXPECT_EQ(FindAssignment(visit, "workers/a"), -1);
  AddAssignment(visit, "workers/a", kNine, "manual");
  AddAssignment(visit, "workers/b", kNine + absl::Minutes(30), "plans/p");
  EXPECT_EQ(FindAssignment(visit, "workers/b"), 1);
  EXPECT_EQ(FromTimestamp(visit.assignments(1).end()), kNine + absl::Minutes(90));
  EXPECT_EQ(visit.assignments(1).source(), "plans/p");
  RemoveAssignment(visit, 0);
  ASSERT_EQ(visit.assignments_size(), 1);
  EXPECT_EQ(visit.assignments(0).worker(), "workers/b");
}

TEST(Staffing, RoomForOneWorkerOnceUntilStaffed) {
  v1::Visit visit = Visit(0);  // unset: one worker
  EXPECT_TRUE(CheckRoomFor(visit, "workers/a", "worker").ok());
  AddAssignment(visit, "workers/a", kNine, "manual");
  EXPECT_EQ(Field(CheckRoomFor(visit, "workers/a", "worker")), "worker");
  EXPECT_TRUE(absl::IsFailedPrecondition(CheckRoomFor(visit, "workers/b", "worker")));
  visit.set_workers_required(2);
  EXPECT_TRUE(CheckRoomFor(visit, "workers/b", "worker").ok());
}

TEST(Staffing, SkillsAndAvailability) {
  const v1::Visit visit = Visit(1);
  v1::Commitment commitment;
  commitment.add_required_skills("bathing");
  commitment.add_required_skills("nursing");
  const registry::v1::Worker helper = Worker("workers/h", {"bathing"});
  EXPECT_FALSE(HasSkills(helper, commitment.required_skills()));
  absl::Status lacks = CheckWorkerFits(visit, commitment, helper, kNine, "first_worker", true);
  EXPECT_EQ(Field(lacks), "first_worker");
  EXPECT_NE(lacks.message().find("nursing"), std::string::npos);
  EXPECT_EQ(lacks.message().find("bathing"), std::string::npos);

  const registry::v1::Worker nurse = Worker("workers/n", {"nursing", "bathing", "meals"});
  EXPECT_TRUE(HasSkills(nurse, commitment.required_skills()));
  EXPECT_TRUE(CheckWorkerFits(visit, commitment, nurse, kNine, "worker", true).ok());
  // 19:30-20:30 runs past the default 08:00-20:00, unless the caller waives it.
  const absl::Time late = kNine + absl::Minutes(630);
  absl::Status outside = CheckWorkerFits(visit, commitment, nurse, late, "worker", true);
  EXPECT_TRUE(absl::IsFailedPrecondition(outside));
  ASSERT_TRUE(GetErrorInfo(outside).has_value());
  EXPECT_EQ(GetErrorInfo(outside)->reason(), "ERROR_REASON_WORKER_UNAVAILABLE");
  EXPECT_TRUE(CheckWorkerFits(visit, commitment, nurse, late, "worker", false).ok());
}

TEST(Staffing, AManualStartLiesInTheTwelveHoursAfterTheWindowOpens) {
  const v1::Visit visit = Visit(1);
  EXPECT_TRUE(CheckManualStart(visit, kNine).ok());
  EXPECT_TRUE(CheckManualStart(visit, kNine + kMaxStartAfterWindow).ok());
  EXPECT_EQ(Field(CheckManualStart(visit, kNine - absl::Minutes(1))), "start");
  EXPECT_EQ(Field(CheckManualStart(visit, kNine + kMaxStartAfterWindow + absl::Seconds(1))),
            "start");
}

}  // namespace
}  // namespace linli::scheduling
