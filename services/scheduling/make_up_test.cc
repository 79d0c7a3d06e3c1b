#include "services/scheduling/make_up.h"

#include "common/proto_time.h"
#include "gtest/gtest.h"

namespace linli::scheduling {
namespace {

const absl::TimeZone kShanghai = absl::FixedTimeZone(8 * 3600);

// Weekly on Tuesdays and Thursdays, 09:00-11:00, from 2026-03-03 (a Tuesday).
v1::Commitment TuesdaysAndThursdays() {
  v1::Commitment c;
  c.set_name("commitments/c");
  c.set_owner_organisation("organisations/own");
  c.set_preferred_worker("workers/zhao");
  c.add_required_skills("visiting");
  c.mutable_recurrence()->set_rrule("FREQ=WEEKLY;BYDAY=TU,TH");
  c.mutable_recurrence()->set_dtstart("2026-03-03T09:00:00");
  c.set_window_minutes(120);
  c.set_duration_minutes(60);
  c.set_workers_required(1);
  c.set_valid_from("2026-03-03");
  return c;
}

v1::Visit MissedOn(absl::CivilMinute start) {
  v1::Visit v;
  v.set_name("visits/missed");
  *v.mutable_window_start() = ToTimestamp(absl::FromCivil(start, kShanghai));
  *v.mutable_window_end() = ToTimestamp(absl::FromCivil(start, kShanghai) + absl::Hours(2));
  return v;
}

registry::v1::Worker Worker(
    const std::string& name, bool skilled,
    registry::v1::WorkerStatus status = registry::v1::WORKER_STATUS_ACTIVE) {
  registry::v1::Worker w;
  w.set_name(name);
  w.set_status(status);
  if (skilled) w.add_skills("visiting");
  return w;
}

TEST(MakeUp, WindowsKeepTheTimeOfDayAndAvoidTheDaysOfRegularVisits) {
  // Missed on Tuesday 2026-03-10 at 09:00, looked at on that day: Wednesday and Friday are free,
  // Thursday has its own visit.
  const std::vector<Occurrence> windows =
      MakeUpWindows(TuesdaysAndThursdays(), MissedOn(absl::CivilMinute(2026, 3, 10, 9, 0)),
                    absl::CivilDay(2026, 3, 10), 3);
  ASSERT_EQ(windows.size(), 2u);
  EXPECT_EQ(windows[0].key, "2026-03-11T09:00:00");
  EXPECT_EQ(windows[0].window_start,
            absl::FromCivil(absl::CivilMinute(2026, 3, 11, 9, 0), kShanghai));
  EXPECT_EQ(windows[0].window_end - windows[0].window_start, absl::Hours(2));
  EXPECT_EQ(windows[1].key, "2026-03-13T09:00:00");
  // A week to look in, with the weekend.
  EXPECT_EQ(MakeUpWindows(TuesdaysAndThursdays(), MissedOn(absl::CivilMinute(2026, 3, 10, 9, 0)),
                          absl::CivilDay(2026, 3, 10), 7)
                .size(),
            5u);
  // A daily promise has no day of its own to spare.
  v1::Commitment daily = TuesdaysAndThursdays();
  daily.mutable_recurrence()->set_rrule("FREQ=DAILY");
  EXPECT_TRUE(MakeUpWindows(daily, MissedOn(absl::CivilMinute(2026, 3, 10, 9, 0)),
                            absl::CivilDay(2026, 3, 10), 3)
                  .empty());
}

TEST(MakeUp, TheFamiliarWorkerIsTriedFirstAndOnlyThoseWhoCanServe) {
  std::vector<registry::v1::Worker> workers = {
      Worker("workers/an", true), Worker("workers/zhao", true), Worker("workers/li", false),
      Worker("workers/bo", true, registry::v1::WORKER_STATUS_LEFT)};
  std::vector<registry::v1::Worker> order = MakeUpCandidates(workers, TuesdaysAndThursdays());
  ASSERT_EQ(order.size(), 2u);
  EXPECT_EQ(order[0].name(), "workers/zhao");
  EXPECT_EQ(order[1].name(), "workers/an");
}

}  // namespace
}  // namespace linli::scheduling
