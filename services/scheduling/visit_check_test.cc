#include "services/scheduling/visit_check.h"

#include <optional>
#include <vector>

#include "common/errors.h"
#include "common/recurrence/rrule.h"
#include "gtest/gtest.h"
#include "services/scheduling/scheduling_util.h"
#include "services/scheduling/testing/visits.h"

namespace linli::scheduling {
namespace {

const absl::Time kNine =  // 2026-12-01 09:00 Shanghai
    absl::FromCivil(absl::CivilSecond(2026, 12, 1, 9, 0, 0), recurrence::ShanghaiTimeZone());
constexpr double kRadius = 200;

// A visit at 09:00-11:00 (tolerance 30 minutes) of 60 minutes at the elder's home.
v1::Visit Visit(int workers_required = 1) { return ScheduledVisit(kNine, workers_required); }

v1::CheckInVisitRequest In(const std::string& worker, double lat = 31.2, double lng = 121.48) {
  v1::CheckInVisitRequest request;
  request.set_name("visits/v");
  request.set_worker(worker);
  request.set_method(v1::CHECK_METHOD_APP_GPS);
  request.mutable_location()->set_latitude(lat);
  request.mutable_location()->set_longitude(lng);
  return request;
}

v1::CheckOutVisitRequest Out(const std::string& worker) {
  v1::CheckOutVisitRequest request;
  request.set_name("visits/v");
  request.set_worker(worker);
  request.set_method(v1::CHECK_METHOD_PHONE);
  return request;
}

std::vector<std::string> Exceptions(const v1::Visit& visit) {
  return {visit.exceptions().begin(), visit.exceptions().end()};
}

TEST(VisitCheck, ValidationNamesTheFieldsAndReturnsTheId) {
  absl::StatusOr<std::string> id = ValidateCheckIn(In("workers/w"));
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(*id, "v");
  v1::CheckInVisitRequest bad = In("people/w", 91, 0);
  bad.set_name("visit/v");
  bad.set_method(v1::CHECK_METHOD_UNSPECIFIED);
  absl::StatusOr<std::string> refused = ValidateCheckIn(bad);
  ASSERT_TRUE(absl::IsInvalidArgument(refused.status()));
  const std::optional<google::rpc::BadRequest> violations = GetBadRequest(refused.status());
  ASSERT_TRUE(violations.has_value());
  std::vector<std::string> fields;
  for (const auto& v : violations->field_violations()) fields.push_back(v.field());
  ASSERT_GE(fields.size(), 4u);
  EXPECT_EQ(std::vector<std::string>(fields.begin(), fields.begin() + 3),
            (std::vector<std::string>{"name", "worker", "method"}));
  EXPECT_EQ(fields[3].rfind("location", 0), 0u);
  EXPECT_TRUE(ValidateCheckOut(Out("workers/w")).ok());
}

TEST(VisitCheck, CheckInOnTimeAtTheDoorStartsTheVisit) {
  v1::Visit visit = Visit();
  ASSERT_TRUE(ApplyCheckIn(In("workers/w"), kNine + absl::Minutes(5), kRadius, visit).ok());
  EXPECT_EQ(visit.state(), v1::VISIT_STATE_IN_PROGRESS);
  EXPECT_EQ(visit.check_in().worker(), "workers/w");
  EXPECT_EQ(FromTimestamp(visit.check_in().time()), kNine + absl::Minutes(5));
  EXPECT_TRUE(visit.exceptions().empty());
  // A second check-in of a one-worker visit is refused.
  EXPECT_TRUE(absl::IsFailedPrecondition(
      ApplyCheckIn(In("workers/x"), kNine + absl::Minutes(6), kRadius, visit)));
}

TEST(VisitCheck, CheckInExceptions) {
  v1::Visit early = Visit();
  ASSERT_TRUE(ApplyCheckIn(In("workers/w"), kNine - absl::Minutes(1), kRadius, early).ok());
  EXPECT_EQ(Exceptions(early), std::vector<std::string>{"EARLY_ARRIVAL"});

  v1::Visit late = Visit();  // window end + tolerance is 11:30
  ASSERT_TRUE(ApplyCheckIn(In("workers/w"), kNine + absl::Minutes(151), kRadius, late).ok());
  EXPECT_EQ(Exceptions(late), std::vector<std::string>{"LATE_ARRIVAL"});

  // 0.0054 degrees of latitude is about 600 m: outside 200 m + 80 m of slack.
  v1::Visit far = Visit();
  ASSERT_TRUE(ApplyCheckIn(In("workers/w", 31.2054), kNine, kRadius, far).ok());
  EXPECT_EQ(Exceptions(far), std::vector<std::string>{"OUTSIDE_GEOFENCE"});
  // The stored place is coarsened.
  EXPECT_DOUBLE_EQ(far.check_in().location().latitude(), 31.205);

  v1::Visit blind = Visit();
  v1::CheckInVisitRequest no_location = In("workers/w");
  no_location.clear_location();
  ASSERT_TRUE(ApplyCheckIn(no_location, kNine, kRadius, blind).ok());
  EXPECT_EQ(Exceptions(blind), std::vector<std::string>{"NO_LOCATION"});

  v1::Visit reported = Visit();
  v1::CheckInVisitRequest partner = In("workers/w");
  partner.set_method(v1::CHECK_METHOD_PARTNER_REPORT);
  ASSERT_TRUE(ApplyCheckIn(partner, kNine, kRadius, reported).ok());
  EXPECT_EQ(Exceptions(reported), std::vector<std::string>{"PARTNER_REPORTED"});
}

TEST(VisitCheck, AStaffedVisitTakesItsBookedWorkerOrADeclaredStandIn) {
  v1::Visit visit = Visit();
  visit.add_assignments()->set_worker("workers/booked");
  absl::Status refused = ApplyCheckIn(In("workers/other"), kNine, kRadius, visit);
  EXPECT_TRUE(absl::IsFailedPrecondition(refused));
  EXPECT_EQ(visit.state(), v1::VISIT_STATE_SCHEDULED);
  v1::CheckInVisitRequest stand_in = In("workers/other");
  stand_in.set_substitute(true);
  ASSERT_TRUE(ApplyCheckIn(stand_in, kNine, kRadius, visit).ok());
  EXPECT_EQ(Exceptions(visit), std::vector<std::string>{"WORKER_NOT_PLANNED"});
}

TEST(VisitCheck, ATeamJoinsAndLeavesAndTheLastCheckOutCompletes) {
  v1::Visit visit = Visit(2);
  ASSERT_TRUE(ApplyCheckIn(In("workers/a"), kNine, kRadius, visit).ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(ApplyCheckIn(In("workers/a"), kNine, kRadius, visit)));
  ASSERT_TRUE(ApplyCheckIn(In("workers/b"), kNine + absl::Minutes(2), kRadius, visit).ok());
  EXPECT_EQ(visit.team_check_ins_size(), 1);
  EXPECT_TRUE(absl::IsFailedPrecondition(ApplyCheckIn(In("workers/c"), kNine, kRadius, visit)));

  absl::StatusOr<std::string> first =
      ApplyCheckOut(Out("workers/b"), kNine + absl::Minutes(50), kRadius, visit);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(*first, "visit.worker_checked_out");
  EXPECT_EQ(visit.state(), v1::VISIT_STATE_IN_PROGRESS);
  EXPECT_TRUE(absl::IsFailedPrecondition(
      ApplyCheckOut(Out("workers/b"), kNine + absl::Minutes(51), kRadius, visit).status()));
  EXPECT_TRUE(absl::IsFailedPrecondition(
      ApplyCheckOut(Out("workers/c"), kNine + absl::Minutes(51), kRadius, visit).status()));
  absl::StatusOr<std::string> last =
      ApplyCheckOut(Out("workers/a"), kNine + absl::Minutes(60), kRadius, visit);
  ASSERT_TRUE(last.ok()) << last.status();
  EXPECT_EQ(*last, "visit.completed");
  EXPECT_EQ(visit.state(), v1::VISIT_STATE_COMPLETED);
  EXPECT_TRUE(visit.exceptions().empty());
}

TEST(VisitCheck, CheckOutExceptions) {
  auto completed = [](absl::Duration stay, int workers) {
    v1::Visit visit = Visit(workers);
    EXPECT_TRUE(ApplyCheckIn(In("workers/a"), kNine, kRadius, visit).ok());
    EXPECT_TRUE(ApplyCheckOut(Out("workers/a"), kNine + stay, kRadius, visit).ok());
    return Exceptions(visit);
  };
  EXPECT_EQ(completed(absl::Minutes(91), 1), std::vector<std::string>{"OVERRUN"});
  EXPECT_EQ(completed(absl::Minutes(29), 1), std::vector<std::string>{"SHORT_VISIT"});
  EXPECT_EQ(completed(absl::Minutes(60), 2), std::vector<std::string>{"WORKER_MISSING"});

  v1::Visit visit = Visit();
  ASSERT_TRUE(ApplyCheckIn(In("workers/a"), kNine, kRadius, visit).ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(
      ApplyCheckOut(Out("workers/a"), kNine - absl::Minutes(1), kRadius, visit).status()));
}

TEST(VisitCheck, MissedOnceWindowAndTolerancePassed) {
  const v1::Visit visit = Visit();  // 09:00-11:00, tolerance 30 minutes
  EXPECT_FALSE(IsMissed(visit, kNine + absl::Minutes(150)));
  EXPECT_TRUE(IsMissed(visit, kNine + absl::Minutes(150) + absl::Seconds(1)));
}

}  // namespace
}  // namespace linli::scheduling
