#include "services/scheduling/availability.h"

#include "gtest/gtest.h"

namespace linli::scheduling {
namespace {

absl::Time At(int day, int hour, int minute = 0) {
  return absl::FromCivil(absl::CivilSecond(2026, 12, day, hour, minute, 0),
                         recurrence::ShanghaiTimeZone());
}

TEST(Availability, WithoutAScheduleEightToEightEveryDay) {
  const registry::v1::Worker worker;
  const std::vector<recurrence::TimeInterval> days =
      WorkingIntervals(worker, absl::CivilDay(2026, 12, 5), 2);
  ASSERT_EQ(days.size(), 2u);
  EXPECT_EQ(days[0].start, At(5, kDefaultShiftStartHour));
  EXPECT_EQ(days[1].end, At(6, kDefaultShiftEndHour));
  EXPECT_TRUE(WithinAvailability(worker, At(5, 8), At(5, 20)));
  EXPECT_FALSE(WithinAvailability(worker, At(5, 19, 30), At(5, 20, 30)));
}

TEST(Availability, AScheduleAndItsOvernightShifts) {
  registry::v1::Worker night;
  night.mutable_availability()->set_rrule("FREQ=DAILY");
  night.mutable_availability()->set_dtstart("2026-12-01T22:00:00");
  night.mutable_availability()->set_duration_minutes(600);  // 22:00-08:00
  // Touching shifts merge into one interval.
  registry::v1::Worker split = night;
  split.mutable_availability()->set_rrule("FREQ=DAILY;BYHOUR=8,12");
  split.mutable_availability()->set_dtstart("2026-12-01T08:00:00");
  split.mutable_availability()->set_duration_minutes(240);
  const std::vector<recurrence::TimeInterval> merged =
      WorkingIntervals(split, absl::CivilDay(2026, 12, 2), 1);
  ASSERT_EQ(merged.size(), 1u);
  EXPECT_EQ(merged[0].start, At(2, 8));
  EXPECT_EQ(merged[0].end, At(2, 16));

  EXPECT_TRUE(WithinAvailability(night, At(3, 2), At(3, 3)));  // the shift of the 2nd
  EXPECT_FALSE(WithinAvailability(night, At(3, 7, 30), At(3, 8, 30)));
  EXPECT_FALSE(WithinAvailability(night, At(3, 12), At(3, 13)));

  // On all day every day: a visit across midnight lies within the shifts that touch there; a
  // day shift's worker is not available across its end.
  registry::v1::Worker always;
  always.mutable_availability()->set_rrule("FREQ=DAILY");
  always.mutable_availability()->set_dtstart("2025-01-01T00:00:00");
  always.mutable_availability()->set_duration_minutes(1440);
  EXPECT_TRUE(WithinAvailability(always, At(5, 23, 58), At(6, 0, 28)));
  EXPECT_FALSE(WithinAvailability(split, At(2, 15, 30), At(2, 16, 30)));

  // A schedule that does not parse counts as none.
  registry::v1::Worker broken;
  broken.mutable_availability()->set_rrule("FREQ=SOMETIMES");
  EXPECT_TRUE(WithinAvailability(broken, At(3, 12), At(3, 13)));
}

}  // namespace
}  // namespace linli::scheduling
