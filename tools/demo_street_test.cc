#include "tools/demo_street.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace linli::demo {
namespace {

TEST(DemoCalendarTest, WeeksStartOnMonday) {
  const absl::CivilDay monday(2026, 11, 30);
  for (int d = 0; d < 7; ++d) EXPECT_EQ(WeekStart(monday + d), monday) << monday + d;
  EXPECT_EQ(WeekStart(monday + 7), monday + 7);
  EXPECT_EQ(WeekStart(monday - 1), monday - 7);
}

TEST(DemoCalendarTest, TheStreetStartsTodayAndHasVisitsThroughNextWeek) {
  // A Friday: promises from today, visits from today through the Sunday of next week.
  const DemoCalendar friday = DemoCalendarFor(absl::CivilDay(2026, 12, 4), std::nullopt);
  EXPECT_EQ(friday.week_start, absl::CivilDay(2026, 11, 30));
  EXPECT_EQ(friday.valid_from, absl::CivilDay(2026, 12, 4));
  EXPECT_EQ(friday.visits_from, absl::CivilDay(2026, 12, 4));
  EXPECT_EQ(friday.visit_days, 10);  // Dec 4 .. Dec 13
  // On any day: nothing before today, the last day a Sunday, this week and all of the next.
  for (absl::CivilDay today(2026, 12, 1); today < absl::CivilDay(2028, 1, 1); today += 37) {
    const DemoCalendar c = DemoCalendarFor(today, std::nullopt);
    EXPECT_EQ(c.visits_from, today);
    EXPECT_EQ(c.valid_from, today);
    EXPECT_EQ(absl::GetWeekday(c.week_start), absl::Weekday::monday);
    EXPECT_LE(c.week_start, today);
    EXPECT_GT(c.week_start + 7, today);
    const absl::CivilDay last = c.visits_from + (c.visit_days - 1);
    EXPECT_EQ(absl::GetWeekday(last), absl::Weekday::sunday) << today;
    EXPECT_EQ(last, c.week_start + 13) << today;
  }
}

TEST(DemoCalendarTest, APinnedWeekIsWholeFromItsMonday) {
  const DemoCalendar pinned =
      DemoCalendarFor(absl::CivilDay(2027, 6, 1), absl::CivilDay(2026, 12, 2));
  EXPECT_EQ(pinned.week_start, absl::CivilDay(2026, 11, 30));
  EXPECT_EQ(pinned.valid_from, absl::CivilDay(2026, 11, 30));
  EXPECT_EQ(pinned.visits_from, absl::CivilDay(2026, 11, 30));
  EXPECT_EQ(pinned.visit_days, 14);
}

TEST(DemoCalendarTest, PromisesFollowTheCalendar) {
  const DemoStreet street = GenerateDemoStreet(400, 3);
  std::vector<std::string> names;
  for (size_t i = 0; i < street.elders.size(); ++i) names.push_back("elders/e" + std::to_string(i));
  const DemoCalendar calendar = DemoCalendarFor(absl::CivilDay(2027, 3, 11), std::nullopt);
  const auto promises = DemoCommitments(street, names, calendar);
  ASSERT_FALSE(promises.empty());
  bool recurrence_seen = false;
  for (const auto& p : promises) {
    EXPECT_EQ(p.commitment().valid_from(), "2027-03-11");
    if (p.commitment().has_recurrence() && !p.commitment().recurrence().dtstart().empty()) {
      recurrence_seen = true;
      // Anchored on the week's Monday.
      EXPECT_TRUE(absl::StartsWith(p.commitment().recurrence().dtstart(), "2027-03-08T"))
          << p.commitment().recurrence().dtstart();
    }
  }
  EXPECT_TRUE(recurrence_seen);
}

}  // namespace
}  // namespace linli::demo
