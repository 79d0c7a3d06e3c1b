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

TEST(DemoCalendarTest, TheStreetHasAPastAndVisitsThroughNextWeek) {
  // A Friday: promises from four Mondays before this week's, visits materialised from today
  // through the Sunday of next week (the days before have their history).
  const DemoCalendar friday = DemoCalendarFor(absl::CivilDay(2026, 12, 4), std::nullopt);
  EXPECT_EQ(friday.week_start, absl::CivilDay(2026, 11, 30));
  EXPECT_EQ(friday.valid_from, absl::CivilDay(2026, 11, 2));
  EXPECT_EQ(friday.visits_from, absl::CivilDay(2026, 12, 4));
  EXPECT_EQ(friday.visit_days, 10);  // Dec 4 .. Dec 13
  // On any day: nothing before today, the last day a Sunday, this week and all of the next.
  for (absl::CivilDay today(2026, 12, 1); today < absl::CivilDay(2028, 1, 1); today += 37) {
    const DemoCalendar c = DemoCalendarFor(today, std::nullopt);
    EXPECT_EQ(c.visits_from, today);
    EXPECT_EQ(c.valid_from, c.week_start - 7 * kDemoHistoryWeeks);
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
  EXPECT_EQ(pinned.valid_from, absl::CivilDay(2026, 11, 2));
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
    EXPECT_EQ(p.commitment().valid_from(), "2027-02-08");
    if (p.commitment().has_recurrence() && !p.commitment().recurrence().dtstart().empty()) {
      recurrence_seen = true;
      // Anchored on the promises' first Monday.
      EXPECT_TRUE(absl::StartsWith(p.commitment().recurrence().dtstart(), "2027-02-08T"))
          << p.commitment().recurrence().dtstart();
    }
  }
  EXPECT_TRUE(recurrence_seen);
}

// Four weeks of Tuesday and Thursday visits at 09:00 of a promise with two carers.
std::vector<PastOccurrence> FourWeeks() {
  const absl::TimeZone shanghai = absl::FixedTimeZone(8 * 3600);
  std::vector<PastOccurrence> out;
  for (absl::CivilDay day(2026, 11, 2); day < absl::CivilDay(2026, 11, 30); ++day) {
    const absl::Weekday w = absl::GetWeekday(day);
    if (w != absl::Weekday::tuesday && w != absl::Weekday::thursday) continue;
    const absl::CivilSecond nine(day.year(), day.month(), day.day(), 9, 0, 0);
    out.push_back({absl::FormatCivilTime(nine), absl::FromCivil(nine, shanghai)});
  }
  return out;
}

scheduling::v1::Commitment Bath() {
  scheduling::v1::Commitment c;
  c.set_name("commitments/c1");
  c.set_elder("elders/e1");
  c.set_service_type("serviceTypes/bathing");
  c.set_window_minutes(240);
  c.set_duration_minutes(60);
  c.set_tolerance_minutes(15);
  c.set_workers_required(2);
  c.mutable_home()->set_latitude(31.201);
  c.mutable_home()->set_longitude(121.482);
  return c;
}

TEST(DemoHistoryTest, ThePastIsTheSameForTheSameStreetAndWeek) {
  const std::vector<std::string> workers = {"workers/a", "workers/b", "workers/c", "workers/d"};
  const auto first = DemoVisitHistory(Bath(), 7, FourWeeks(), workers);
  const auto again = DemoVisitHistory(Bath(), 7, FourWeeks(), workers);
  ASSERT_EQ(first.size(), FourWeeks().size());
  for (size_t i = 0; i < first.size(); ++i) {
    EXPECT_EQ(first[i].SerializeAsString(), again[i].SerializeAsString()) << i;
  }
  // Another promise has another past.
  const auto other = DemoVisitHistory(Bath(), 8, FourWeeks(), workers);
  bool differs = false;
  for (size_t i = 0; i < first.size(); ++i) {
    differs = differs || first[i].SerializeAsString() != other[i].SerializeAsString();
  }
  EXPECT_TRUE(differs);
}

TEST(DemoHistoryTest, AVisitIsKeptByTheTeamItNeedsAtTheElderssDoor) {
  const std::vector<std::string> workers = {"workers/a", "workers/b", "workers/c"};
  int completed = 0;
  for (int index = 0; index < 200; ++index) {
    for (const auto& row : DemoVisitHistory(Bath(), index, FourWeeks(), workers)) {
      EXPECT_EQ(row.commitment(), "commitments/c1");
      if (row.state() != scheduling::v1::VISIT_STATE_COMPLETED) {
        EXPECT_TRUE(row.attendance().empty());
        continue;
      }
      ++completed;
      ASSERT_EQ(row.attendance_size(), 2);
      EXPECT_NE(row.attendance(0).worker(), row.attendance(1).worker());
      for (const auto& a : row.attendance()) {
        EXPECT_LE(a.check_in_time().seconds(), a.check_out_time().seconds());
        EXPECT_TRUE(a.has_check_in_location());
      }
    }
  }
  // Mostly kept: of 1,600 occurrences, well over 85% completed.
  EXPECT_GT(completed, 1600 * 85 / 100);
  EXPECT_LT(completed, 1600);
}

TEST(DemoHistoryTest, AnswersComeAfterTheVisitAndNeverFromTheFuture) {
  const std::vector<std::string> workers = {"workers/a", "workers/b"};
  const auto occurrences = FourWeeks();
  const absl::Time now = occurrences[5].window_start;  // the street's past is half over
  int answers = 0, nobody_came = 0;
  for (int index = 0; index < 300; ++index) {
    const auto rows = DemoVisitHistory(Bath(), index, occurrences, workers);
    std::vector<std::string> names;
    for (size_t i = 0; i < rows.size(); ++i) names.push_back("visits/v" + std::to_string(i));
    for (const auto& a : DemoAnswers(Bath(), index, rows, names, now)) {
      ++answers;
      nobody_came += a.feedback().nobody_came();
      EXPECT_LE(a.answer_time().seconds(), absl::ToUnixSeconds(now));
      EXPECT_EQ(a.feedback().author(), "elders/e1");
      EXPECT_GE(a.feedback().faces(), 1);
      EXPECT_LE(a.feedback().faces(), 5);
      const size_t i = std::stoul(a.feedback().visit().substr(8));
      EXPECT_EQ(rows[i].state(), scheduling::v1::VISIT_STATE_COMPLETED);
      for (const auto& at : rows[i].attendance()) {
        EXPECT_GT(a.answer_time().seconds(), at.check_out_time().seconds());
      }
    }
  }
  EXPECT_GT(answers, 300);
  EXPECT_LT(nobody_came, answers / 10);
}

}  // namespace
}  // namespace linli::demo
