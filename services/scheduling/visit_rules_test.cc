#include "services/scheduling/visit_rules.h"

#include "common/recurrence/rrule.h"
#include "gtest/gtest.h"
#include "services/scheduling/scheduling_util.h"
#include "services/scheduling/staffing.h"

namespace linli::scheduling {
namespace {

const absl::Time kNine =  // 2026-12-01 09:00 Shanghai
    absl::FromCivil(absl::CivilSecond(2026, 12, 1, 9, 0, 0), recurrence::ShanghaiTimeZone());

v1::Visit Visit(const std::string& name, absl::Time start) {
  v1::Visit visit;
  visit.set_name(name);
  visit.set_duration_minutes(60);
  *visit.mutable_window_start() = ToTimestamp(start);
  *visit.mutable_window_end() = ToTimestamp(start + absl::Hours(2));
  return visit;
}

TEST(VisitRules, NewVisitTakesTheCommitmentsTerms) {
  v1::Commitment c;
  c.set_name("commitments/c");
  c.set_elder("elders/e");
  c.set_service_type("serviceTypes/bathing");
  c.set_duration_minutes(45);
  c.set_workers_required(2);
  c.set_tolerance_minutes(15);
  c.mutable_home()->set_latitude(31.2);
  const Occurrence o{"2026-12-01T09:00:00", kNine, kNine + absl::Hours(2)};
  const v1::Visit visit = NewVisit(c, o, "visits/v");
  EXPECT_EQ(visit.name(), "visits/v");
  EXPECT_EQ(visit.commitment(), "commitments/c");
  EXPECT_EQ(visit.elder(), "elders/e");
  EXPECT_EQ(visit.occurrence(), o.key);
  EXPECT_EQ(FromTimestamp(visit.window_end()), kNine + absl::Hours(2));
  EXPECT_EQ(visit.duration_minutes(), 45);
  EXPECT_EQ(visit.workers_required(), 2);
  EXPECT_EQ(visit.tolerance_minutes(), 15);
  EXPECT_EQ(visit.home().latitude(), 31.2);
  EXPECT_EQ(visit.state(), v1::VISIT_STATE_SCHEDULED);

  EXPECT_FALSE(WindowClosed(c, o, kNine + absl::Minutes(135)));
  EXPECT_TRUE(WindowClosed(c, o, kNine + absl::Minutes(136)));
}

TEST(VisitRules, CancelAndMove) {
  v1::Visit visit = Visit("visits/v", kNine);
  AddAssignment(visit, "workers/w", kNine, "manual");
  MarkCancelled(visit, "ELDER_IN_HOSPITAL", "住院");
  EXPECT_EQ(visit.state(), v1::VISIT_STATE_CANCELLED);
  EXPECT_EQ(visit.assignments_size(), 0);
  EXPECT_EQ(visit.reason_code(), "ELDER_IN_HOSPITAL");
  EXPECT_EQ(visit.note(), "住院");

  v1::Visit moved = Visit("visits/m", kNine);
  AddAssignment(moved, "workers/w", kNine, "manual");
  MoveWindow(moved, kNine + absl::Hours(5), "ELDER_AWAY", "");
  EXPECT_EQ(moved.assignments_size(), 0);
  EXPECT_EQ(FromTimestamp(moved.window_start()), kNine + absl::Hours(5));
  EXPECT_EQ(FromTimestamp(moved.window_end()), kNine + absl::Hours(7));
  EXPECT_EQ(moved.reason_code(), "ELDER_AWAY");
}

TEST(VisitRules, NotesAreWrittenByBookedOrCheckedInWorkers) {
  v1::Visit visit = Visit("visits/v", kNine);
  EXPECT_FALSE(MayAddNote(visit, "workers/a"));
  AddAssignment(visit, "workers/a", kNine, "manual");
  EXPECT_TRUE(MayAddNote(visit, "workers/a"));
  visit.mutable_check_in()->set_worker("workers/stand-in");
  EXPECT_TRUE(MayAddNote(visit, "workers/stand-in"));
  EXPECT_FALSE(MayAddNote(visit, "workers/other"));
}

TEST(VisitRules, ADayRouteIsTheWorkersBookingsOfTheDayInOrder) {
  const absl::Time day = kNine - absl::Hours(9);
  std::vector<v1::Visit> visits;
  visits.push_back(Visit("visits/late", kNine + absl::Hours(5)));
  AddAssignment(visits.back(), "workers/w", kNine + absl::Hours(5), "manual");
  visits.push_back(Visit("visits/b", kNine));
  AddAssignment(visits.back(), "workers/x", kNine - absl::Hours(1), "manual");
  AddAssignment(visits.back(), "workers/w", kNine, "manual");
  visits.push_back(Visit("visits/a", kNine));
  AddAssignment(visits.back(), "workers/w", kNine, "manual");
  visits.push_back(Visit("visits/yesterday", day - absl::Hours(1)));
  AddAssignment(visits.back(), "workers/w", day - absl::Hours(1), "manual");
  visits.push_back(Visit("visits/not-theirs", kNine));
  AddAssignment(visits.back(), "workers/x", kNine, "manual");

  std::vector<v1::WorkerVisit> route =
      DayRoute(visits, "workers/w", day, day + absl::Hours(24), 10);
  ASSERT_EQ(route.size(), 3u);
  EXPECT_EQ(route[0].visit().name(), "visits/a");
  EXPECT_EQ(route[1].visit().name(), "visits/b");
  EXPECT_EQ(route[1].assignment().worker(), "workers/w");
  EXPECT_EQ(route[2].visit().name(), "visits/late");
  EXPECT_EQ(DayRoute(visits, "workers/w", day, day + absl::Hours(24), 2).size(), 2u);
}

}  // namespace
}  // namespace linli::scheduling
