#include "common/recurrence/rrule.h"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/recurrence/rrule_testing.h"
#include "gtest/gtest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace linli::recurrence {
namespace {

using absl::CivilSecond;
using testing::CheckRuleInvariants;
using testing::ReferenceOccurrences;

// Calendar facts used below (checked against `ncal` and python-dateutil):
//   2026-01-06 Tue, 2026-03-02 Mon, 2026-03-03 Tue, 2026-11-27 Fri (last Friday of November),
//   2026-12 has 31 days, 2027-02 has 28, 2028 is a leap year, 2100 is not.

CivilSecond At(int y, int mo, int d, int h = 0, int mi = 0, int s = 0) {
  return CivilSecond(y, mo, d, h, mi, s);
}

RecurrenceRule Rule(absl::string_view text) {
  absl::StatusOr<RecurrenceRule> rule = ParseRule(text);
  EXPECT_TRUE(rule.ok()) << text << ": " << rule.status();
  return rule.ok() ? *rule : RecurrenceRule{};
}

// Occurrences of `text`; where the span is small enough, also checks that the day-by-day
// reference agrees, so every hand-written expectation doubles as a check of the reference.
std::vector<CivilSecond> ExpandRule(absl::string_view text, CivilSecond dtstart, CivilSecond from,
                                    CivilSecond to, size_t max = 1000) {
  const RecurrenceRule rule = Rule(text);
  std::vector<CivilSecond> got = Occurrences(rule, dtstart, from, to, max);
  if (to - dtstart < 20 * 366 * 86400) {
    EXPECT_EQ(got, ReferenceOccurrences(rule, dtstart, from, to, max)) << text;
  }
  return got;
}

std::string ParseError(absl::string_view text) {
  absl::StatusOr<RecurrenceRule> rule = ParseRule(text);
  if (rule.ok()) return "parsed OK as " + FormatRule(*rule);
  EXPECT_EQ(rule.status().code(), absl::StatusCode::kInvalidArgument) << text;
  return std::string(rule.status().message());
}

// ---------------------------------------------------------------------------------------------
// Expansion: the care-commitment shapes the platform uses.

TEST(Occurrences, WeeklyTuesdayThursdayEveryOtherWeek) {
  EXPECT_EQ(ExpandRule("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH", At(2026, 1, 6, 9), At(2026, 1, 1),
                       At(2026, 2, 20)),
            (std::vector<CivilSecond>{At(2026, 1, 6, 9), At(2026, 1, 8, 9), At(2026, 1, 20, 9),
                                      At(2026, 1, 22, 9), At(2026, 2, 3, 9), At(2026, 2, 5, 9),
                                      At(2026, 2, 17, 9), At(2026, 2, 19, 9)}));
}

TEST(Occurrences, ThreeTimesAWeek) {
  const std::vector<CivilSecond> march =
      ExpandRule("FREQ=WEEKLY;BYDAY=MO,WE,FR", At(2026, 3, 2, 14), At(2026, 3, 1), At(2026, 4, 1));
  std::vector<CivilSecond> want;
  for (int day : {2, 4, 6, 9, 11, 13, 16, 18, 20, 23, 25, 27, 30}) {
    want.push_back(At(2026, 3, day, 14));
  }
  EXPECT_EQ(march, want);
  // Every full Monday-Sunday week has exactly three.
  for (int week = 0; week < 4; ++week) {
    const CivilSecond monday = At(2026, 3, 2) + week * 7 * 86400;
    EXPECT_EQ(
        ExpandRule("FREQ=WEEKLY;BYDAY=MO,WE,FR", At(2026, 3, 2, 14), monday, monday + 7 * 86400)
            .size(),
        3u);
  }
}

TEST(Occurrences, MonthlyOnThe15th) {
  const std::vector<CivilSecond> got =
      ExpandRule("FREQ=MONTHLY;BYMONTHDAY=15", At(2026, 1, 15, 10), At(2026, 1, 1), At(2027, 1, 1));
  ASSERT_EQ(got.size(), 12u);
  for (int month = 1; month <= 12; ++month) EXPECT_EQ(got[month - 1], At(2026, month, 15, 10));
}

TEST(Occurrences, MonthlySecondTuesdayAcrossAYear) {
  // DTSTART (Thursday 2026-01-01) does not match, so it is not an occurrence.
  EXPECT_EQ(ExpandRule("FREQ=MONTHLY;BYDAY=2TU", At(2026, 1, 1, 9), At(2026, 1, 1), At(2027, 1, 1)),
            (std::vector<CivilSecond>{
                At(2026, 1, 13, 9), At(2026, 2, 10, 9), At(2026, 3, 10, 9), At(2026, 4, 14, 9),
                At(2026, 5, 12, 9), At(2026, 6, 9, 9), At(2026, 7, 14, 9), At(2026, 8, 11, 9),
                At(2026, 9, 8, 9), At(2026, 10, 13, 9), At(2026, 11, 10, 9), At(2026, 12, 8, 9)}));
}

TEST(Occurrences, LastFridayOfTheMonthAcrossAYear) {
  EXPECT_EQ(
      ExpandRule("FREQ=MONTHLY;BYDAY=-1FR", At(2026, 1, 1, 15), At(2026, 1, 1), At(2027, 1, 1)),
      (std::vector<CivilSecond>{At(2026, 1, 30, 15), At(2026, 2, 27, 15), At(2026, 3, 27, 15),
                                At(2026, 4, 24, 15), At(2026, 5, 29, 15), At(2026, 6, 26, 15),
                                At(2026, 7, 31, 15), At(2026, 8, 28, 15), At(2026, 9, 25, 15),
                                At(2026, 10, 30, 15), At(2026, 11, 27, 15), At(2026, 12, 25, 15)}));
}

TEST(Occurrences, MonthDay31SkipsShortMonths) {
  const std::vector<CivilSecond> want = {
      At(2026, 1, 31, 8),  At(2026, 3, 31, 8), At(2026, 5, 31, 8),
      At(2026, 7, 31, 8),  At(2026, 8, 31, 8), At(2026, 10, 31, 8),
      At(2026, 12, 31, 8), At(2027, 1, 31, 8), At(2027, 3, 31, 8)};
  EXPECT_EQ(
      ExpandRule("FREQ=MONTHLY;BYMONTHDAY=31", At(2026, 1, 31, 8), At(2026, 1, 1), At(2027, 4, 1)),
      want);
  // Same for a plain MONTHLY rule that starts on the 31st: never clamped to the 30th.
  EXPECT_EQ(ExpandRule("FREQ=MONTHLY", At(2026, 1, 31, 8), At(2026, 1, 1), At(2027, 4, 1)), want);
}

TEST(Occurrences, NegativeMonthDayIsTheLastDay) {
  const std::vector<CivilSecond> got =
      ExpandRule("FREQ=MONTHLY;BYMONTHDAY=-1", At(2026, 1, 1, 9), At(2026, 1, 1), At(2027, 3, 1));
  ASSERT_EQ(got.size(), 14u);
  EXPECT_EQ(got[1], At(2026, 2, 28, 9));
  EXPECT_EQ(got[3], At(2026, 4, 30, 9));
  EXPECT_EQ(got[11], At(2026, 12, 31, 9));
  EXPECT_EQ(got[13], At(2027, 2, 28, 9));
}

TEST(Occurrences, MonthDayFilteredByWeekday) {
  // Friday the 13th.
  EXPECT_EQ(ExpandRule("FREQ=MONTHLY;BYMONTHDAY=13;BYDAY=FR", At(2026, 1, 1, 9), At(2026, 1, 1),
                       At(2028, 1, 1)),
            (std::vector<CivilSecond>{At(2026, 2, 13, 9), At(2026, 3, 13, 9), At(2026, 11, 13, 9),
                                      At(2027, 8, 13, 9)}));
}

TEST(Occurrences, OrdinalWeekdaysFilterMonthDays) {
  // With BYMONTHDAY, an ordinal BYDAY keeps only days that are that n-th weekday: of the month
  // for MONTHLY, of the year for YEARLY without BYMONTH.
  EXPECT_EQ(
      ExpandRule("FREQ=MONTHLY;BYMONTHDAY=-7,-1;BYDAY=-1SA", At(2020, 1, 1, 9), At(2020, 1, 1),
                 At(2021, 8, 1)),
      (std::vector<CivilSecond>{At(2020, 1, 25, 9), At(2020, 2, 29, 9), At(2020, 7, 25, 9),
                                At(2020, 10, 31, 9), At(2021, 4, 24, 9), At(2021, 7, 31, 9)}));
  EXPECT_EQ(ExpandRule("FREQ=YEARLY;BYMONTHDAY=7;BYDAY=1SU", At(2020, 1, 1, 9), At(2020, 1, 1),
                       At(2031, 1, 1)),
            (std::vector<CivilSecond>{At(2024, 1, 7, 9), At(2029, 1, 7, 9)}));
  EXPECT_EQ(ExpandRule("FREQ=YEARLY;BYMONTHDAY=14;BYDAY=2SU", At(2020, 1, 1, 9), At(2020, 1, 1),
                       At(2031, 1, 1)),
            (std::vector<CivilSecond>{At(2024, 1, 14, 9), At(2029, 1, 14, 9)}));
  EXPECT_EQ(ExpandRule("FREQ=YEARLY;BYMONTHDAY=-1;BYDAY=-1TU", At(2020, 1, 1, 9), At(2020, 1, 1),
                       At(2031, 1, 1)),
            (std::vector<CivilSecond>{At(2024, 12, 31, 9), At(2030, 12, 31, 9)}));
  // Dec 24 is the second-to-last Tuesday in 2024 (a leap year: day 359 of 366) and in 2030.
  EXPECT_EQ(ExpandRule("FREQ=YEARLY;BYMONTHDAY=24;BYDAY=-2TU", At(2020, 1, 1, 9), At(2020, 1, 1),
                       At(2031, 1, 1)),
            (std::vector<CivilSecond>{At(2024, 12, 24, 9), At(2030, 12, 24, 9)}));
}

TEST(Occurrences, YearlyRules) {
  EXPECT_EQ(ExpandRule("FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU", At(2026, 1, 1, 9), At(2026, 1, 1),
                       At(2029, 1, 1)),
            (std::vector<CivilSecond>{At(2026, 3, 29, 9), At(2027, 3, 28, 9), At(2028, 3, 26, 9)}));
  EXPECT_EQ(ExpandRule("FREQ=YEARLY;BYDAY=1MO", At(2026, 1, 1, 9), At(2026, 1, 1), At(2029, 1, 1)),
            (std::vector<CivilSecond>{At(2026, 1, 5, 9), At(2027, 1, 4, 9), At(2028, 1, 3, 9)}));
  EXPECT_EQ(
      ExpandRule("FREQ=YEARLY;BYDAY=-1MO", At(2026, 1, 1, 9), At(2026, 1, 1), At(2029, 1, 1)),
      (std::vector<CivilSecond>{At(2026, 12, 28, 9), At(2027, 12, 27, 9), At(2028, 12, 25, 9)}));
  EXPECT_EQ(ExpandRule("FREQ=YEARLY;BYDAY=20MO", At(2026, 1, 1, 9), At(2026, 1, 1), At(2029, 1, 1)),
            (std::vector<CivilSecond>{At(2026, 5, 18, 9), At(2027, 5, 17, 9), At(2028, 5, 15, 9)}));
  // A birthday on Feb 29 only happens in leap years.
  EXPECT_EQ(
      ExpandRule("FREQ=YEARLY", At(2024, 2, 29, 10), At(2024, 1, 1), At(2033, 1, 1)),
      (std::vector<CivilSecond>{At(2024, 2, 29, 10), At(2028, 2, 29, 10), At(2032, 2, 29, 10)}));
}

TEST(Occurrences, WeekStartMattersForEveryOtherWeek) {
  // The RFC 5545 WKST example.
  EXPECT_EQ(ExpandRule("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,SU;WKST=MO", At(1997, 8, 5, 9),
                       At(1997, 8, 1), At(1997, 9, 1)),
            (std::vector<CivilSecond>{At(1997, 8, 5, 9), At(1997, 8, 10, 9), At(1997, 8, 19, 9),
                                      At(1997, 8, 24, 9)}));
  EXPECT_EQ(ExpandRule("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,SU;WKST=SU", At(1997, 8, 5, 9),
                       At(1997, 8, 1), At(1997, 9, 1)),
            (std::vector<CivilSecond>{At(1997, 8, 5, 9), At(1997, 8, 17, 9), At(1997, 8, 19, 9),
                                      At(1997, 8, 31, 9)}));
}

TEST(Occurrences, CountCountsFromDtstartNotFromTheWindow) {
  const char* rule = "FREQ=WEEKLY;BYDAY=TU,TH;COUNT=5";
  EXPECT_EQ(ExpandRule(rule, At(2026, 3, 3, 9), At(2026, 1, 1), At(2027, 1, 1)),
            (std::vector<CivilSecond>{At(2026, 3, 3, 9), At(2026, 3, 5, 9), At(2026, 3, 10, 9),
                                      At(2026, 3, 12, 9), At(2026, 3, 17, 9)}));
  EXPECT_EQ(ExpandRule(rule, At(2026, 3, 3, 9), At(2026, 3, 11), At(2027, 1, 1)),
            (std::vector<CivilSecond>{At(2026, 3, 12, 9), At(2026, 3, 17, 9)}));
  // The 5th occurrence is the last one; the window's lower bound is inclusive.
  EXPECT_EQ(ExpandRule(rule, At(2026, 3, 3, 9), At(2026, 3, 17, 9), At(2027, 1, 1)),
            (std::vector<CivilSecond>{At(2026, 3, 17, 9)}));
  EXPECT_TRUE(
      ExpandRule(rule, At(2026, 3, 3, 9), At(2026, 3, 17, 9, 0, 1), At(2027, 1, 1)).empty());
  // COUNT=1 is just DTSTART when it matches.
  EXPECT_EQ(ExpandRule("FREQ=DAILY;COUNT=1", At(2026, 3, 3, 9), At(2026, 1, 1), At(2027, 1, 1)),
            (std::vector<CivilSecond>{At(2026, 3, 3, 9)}));
}

TEST(Occurrences, CountReachedLongAfterDtstart) {
  // 4000 daily visits from 2016-01-01: the last is 2016-01-01 + 3999 days = 2026-12-13.
  const std::vector<CivilSecond> got =
      ExpandRule("FREQ=DAILY;COUNT=4000", At(2016, 1, 1, 9), At(2026, 12, 1), At(2027, 1, 1));
  ASSERT_EQ(got.size(), 13u);
  EXPECT_EQ(got.front(), At(2026, 12, 1, 9));
  EXPECT_EQ(got.back(), At(2026, 12, 13, 9));
  // With several times a day the count is per occurrence, not per day: 4000 = 2 * 2000 days.
  const std::vector<CivilSecond> twice = ExpandRule(
      "FREQ=DAILY;BYHOUR=9,14;COUNT=4000", At(2016, 1, 1, 8), At(2021, 6, 1), At(2021, 7, 1));
  // Day 2000 is 2016-01-01 + 1999 days = 2021-06-22.
  ASSERT_FALSE(twice.empty());
  EXPECT_EQ(twice.back(), At(2021, 6, 22, 14));
  EXPECT_EQ(twice.size(), 44u);
}

TEST(Occurrences, UntilIsInclusive) {
  const CivilSecond start = At(2026, 3, 3, 9);  // a Tuesday
  const CivilSecond from = At(2026, 1, 1), to = At(2027, 1, 1);
  EXPECT_EQ(ExpandRule("FREQ=WEEKLY;UNTIL=20260317T090000", start, from, to),
            (std::vector<CivilSecond>{At(2026, 3, 3, 9), At(2026, 3, 10, 9), At(2026, 3, 17, 9)}));
  EXPECT_EQ(ExpandRule("FREQ=WEEKLY;UNTIL=20260317T085959", start, from, to),
            (std::vector<CivilSecond>{At(2026, 3, 3, 9), At(2026, 3, 10, 9)}));
  // A bare date means the whole day.
  EXPECT_EQ(ExpandRule("FREQ=WEEKLY;UNTIL=20260317", start, from, to).back(), At(2026, 3, 17, 9));
  // UNTIL before DTSTART: nothing.
  EXPECT_TRUE(ExpandRule("FREQ=WEEKLY;UNTIL=20260301", start, from, to).empty());
}

TEST(Occurrences, DtstartNotMatchingTheRuleIsNotAnOccurrence) {
  // Monday DTSTART, Tuesday/Thursday rule: the first occurrence (and COUNT's first) is Tuesday.
  EXPECT_EQ(ExpandRule("FREQ=WEEKLY;BYDAY=TU,TH;COUNT=3", At(2026, 3, 2, 9), At(2026, 1, 1),
                       At(2027, 1, 1)),
            (std::vector<CivilSecond>{At(2026, 3, 3, 9), At(2026, 3, 5, 9), At(2026, 3, 10, 9)}));
  // Right day, but 9:00 on the DTSTART day is already past: the first is a week later.
  EXPECT_EQ(ExpandRule("FREQ=WEEKLY;BYDAY=TU;BYHOUR=9;BYMINUTE=0;COUNT=2", At(2026, 3, 3, 10),
                       At(2026, 1, 1), At(2027, 1, 1)),
            (std::vector<CivilSecond>{At(2026, 3, 10, 9), At(2026, 3, 17, 9)}));
  // Nothing before DTSTART even when the window starts earlier.
  EXPECT_EQ(ExpandRule("FREQ=DAILY", At(2026, 3, 3, 9), At(2026, 3, 1), At(2026, 3, 4, 12)),
            (std::vector<CivilSecond>{At(2026, 3, 3, 9), At(2026, 3, 4, 9)}));
}

TEST(Occurrences, DailyWithHoursAndMinutes) {
  EXPECT_EQ(
      ExpandRule("FREQ=DAILY;BYHOUR=9,14", At(2026, 5, 1, 8, 30), At(2026, 5, 1), At(2026, 5, 3)),
      (std::vector<CivilSecond>{At(2026, 5, 1, 9, 30), At(2026, 5, 1, 14, 30),
                                At(2026, 5, 2, 9, 30), At(2026, 5, 2, 14, 30)}));
  // Unsorted and repeated values still give ascending, distinct times.
  EXPECT_EQ(ExpandRule("FREQ=DAILY;BYHOUR=14,9,14;BYMINUTE=30,0", At(2026, 5, 1, 8), At(2026, 5, 1),
                       At(2026, 5, 2)),
            (std::vector<CivilSecond>{At(2026, 5, 1, 9, 0), At(2026, 5, 1, 9, 30),
                                      At(2026, 5, 1, 14, 0), At(2026, 5, 1, 14, 30)}));
  // Seconds come from DTSTART.
  EXPECT_EQ(ExpandRule("FREQ=DAILY;BYHOUR=7;COUNT=1", At(2026, 5, 1, 6, 0, 15), At(2026, 1, 1),
                       At(2027, 1, 1)),
            (std::vector<CivilSecond>{At(2026, 5, 1, 7, 0, 15)}));
}

TEST(Occurrences, WindowFarAfterDtstart) {
  // Started ten years ago; only next week is asked for.
  EXPECT_EQ(ExpandRule("FREQ=DAILY;INTERVAL=3", At(2016, 1, 1, 9), At(2026, 6, 1), At(2026, 6, 8)),
            (std::vector<CivilSecond>{At(2026, 6, 1, 9), At(2026, 6, 4, 9), At(2026, 6, 7, 9)}));
  EXPECT_EQ(ExpandRule("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH", At(2016, 1, 5, 9), At(2026, 6, 1),
                       At(2026, 6, 30)),
            (std::vector<CivilSecond>{At(2026, 6, 9, 9), At(2026, 6, 11, 9), At(2026, 6, 23, 9),
                                      At(2026, 6, 25, 9)}));
  EXPECT_EQ(
      ExpandRule("FREQ=MONTHLY;BYDAY=-1FR", At(2016, 1, 1, 15), At(2026, 11, 1), At(2026, 12, 1)),
      (std::vector<CivilSecond>{At(2026, 11, 27, 15)}));
  // Started in year 1, asked about the last week of the supported calendar; nothing after it.
  const std::vector<CivilSecond> end =
      ExpandRule("FREQ=DAILY", At(1, 1, 1, 9), At(9999, 12, 25), At(20000, 1, 1));
  ASSERT_EQ(end.size(), 7u);
  EXPECT_EQ(end.back(), At(9999, 12, 31, 9));
  // The reference expander only runs on short spans; compare a far window with a near one
  // computed from a later DTSTART on the same cycle (2016-01-05 + 14 * 261 days).
  EXPECT_EQ(ExpandRule("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH", At(2016, 1, 5, 9), At(2026, 1, 1),
                       At(2026, 3, 1)),
            ExpandRule("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH", At(2016, 1, 5, 9) + 14 * 261 * 86400,
                       At(2026, 1, 1), At(2026, 3, 1)));
}

TEST(Occurrences, RulesThatNeverMatchReturnEmpty) {
  for (const char* text :
       {"FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=31", "FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=30",
        "FREQ=DAILY;BYMONTH=4;BYMONTHDAY=31",
        // Every 12 months from January is always January.
        "FREQ=MONTHLY;INTERVAL=12;BYMONTH=2",
        // 2025 + 4k is never a leap year.
        "FREQ=YEARLY;INTERVAL=4;BYMONTH=2;BYMONTHDAY=29"}) {
    EXPECT_TRUE(
        Occurrences(Rule(text), At(2025, 1, 1, 9), At(1, 1, 1), At(9999, 12, 31), 10).empty())
        << text;
  }
}

TEST(Occurrences, SparseRulesStillFindTheirDays) {
  const char* leap_day = "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29";
  EXPECT_EQ(ExpandRule(leap_day, At(2025, 1, 1, 9), At(2025, 1, 1), At(2037, 1, 1)),
            (std::vector<CivilSecond>{At(2028, 2, 29, 9), At(2032, 2, 29, 9), At(2036, 2, 29, 9)}));
  // 2100 is not a leap year: an eight-year gap.
  EXPECT_EQ(ExpandRule(leap_day, At(2025, 1, 1, 9), At(2096, 3, 1), At(2105, 1, 1)),
            (std::vector<CivilSecond>{At(2104, 2, 29, 9)}));
}

TEST(Occurrences, LimitsAndEmptyWindows) {
  const RecurrenceRule daily = Rule("FREQ=DAILY");
  EXPECT_EQ(Occurrences(daily, At(2026, 1, 1, 9), At(2026, 1, 1), At(2027, 1, 1), 3).size(), 3u);
  EXPECT_TRUE(Occurrences(daily, At(2026, 1, 1, 9), At(2026, 1, 1), At(2027, 1, 1), 0).empty());
  EXPECT_TRUE(Occurrences(daily, At(2026, 1, 1, 9), At(2026, 2, 1), At(2026, 1, 1), 9).empty());
  // The window's upper bound is exclusive.
  EXPECT_EQ(Occurrences(daily, At(2026, 1, 1, 9), At(2026, 1, 1), At(2026, 1, 3, 9), 9).size(), 2u);
  // Invalid rules and DTSTARTs outside years 1..9999 have no occurrences.
  RecurrenceRule broken = daily;
  broken.interval = 0;
  EXPECT_TRUE(Occurrences(broken, At(2026, 1, 1), At(2026, 1, 1), At(2027, 1, 1), 9).empty());
  EXPECT_TRUE(Occurrences(daily, At(10000, 1, 1), At(10000, 1, 1), At(10001, 1, 1), 9).empty());
}

// ---------------------------------------------------------------------------------------------
// Schedules.

Schedule TuesdayClinic() {
  // Tuesdays 9:00-11:00 from 2026-03-03.
  return Schedule{Rule("FREQ=WEEKLY;BYDAY=TU"), At(2026, 3, 3, 9), absl::Hours(2)};
}

TEST(Schedule, CoversInsideAtEdgesAndOutside) {
  const Schedule clinic = TuesdayClinic();
  EXPECT_TRUE(Covers(clinic, At(2026, 3, 10, 9), absl::Hours(2)));          // exactly the interval
  EXPECT_TRUE(Covers(clinic, At(2026, 3, 10, 10, 30), absl::Minutes(30)));  // ends at 11:00
  EXPECT_FALSE(Covers(clinic, At(2026, 3, 10, 10, 30), absl::Minutes(31)));
  EXPECT_FALSE(Covers(clinic, At(2026, 3, 10, 8, 59, 59), absl::Seconds(1)));
  EXPECT_FALSE(Covers(clinic, At(2026, 3, 10, 8, 59, 59), absl::Minutes(10)));
  EXPECT_TRUE(Covers(clinic, At(2026, 3, 10, 10, 59, 59), absl::Seconds(1)));
  EXPECT_FALSE(Covers(clinic, At(2026, 3, 10, 10, 59, 59), absl::Milliseconds(1500)));
  // Zero length asks about an instant in the half-open [9:00, 11:00).
  EXPECT_TRUE(Covers(clinic, At(2026, 3, 10, 9), absl::ZeroDuration()));
  EXPECT_FALSE(Covers(clinic, At(2026, 3, 10, 11), absl::ZeroDuration()));
  EXPECT_FALSE(Covers(clinic, At(2026, 3, 11, 10), absl::Minutes(30)));  // Wednesday
  EXPECT_FALSE(Covers(clinic, At(2026, 2, 24, 10), absl::Minutes(30)));  // before DTSTART
  EXPECT_FALSE(Covers(clinic, At(2026, 3, 10, 10), absl::Minutes(-5)));
  EXPECT_FALSE(Covers(clinic, At(2026, 3, 10, 9), absl::Hours(3)));
}

TEST(Schedule, CoversNeedsASingleOccurrence) {
  // Hourly slots 9:00-10:00 and 10:00-11:00 touch but a visit across 10:00 is in neither.
  const Schedule slots{Rule("FREQ=DAILY;BYHOUR=9,10;BYMINUTE=0"), At(2026, 3, 1), absl::Hours(1)};
  EXPECT_TRUE(Covers(slots, At(2026, 3, 5, 9, 15), absl::Minutes(45)));
  EXPECT_TRUE(Covers(slots, At(2026, 3, 5, 10), absl::Minutes(60)));
  EXPECT_FALSE(Covers(slots, At(2026, 3, 5, 9, 30), absl::Minutes(60)));
}

TEST(Schedule, ExpandIncludesIntervalsAlreadyRunning) {
  const Schedule clinic = TuesdayClinic();
  EXPECT_EQ(Expand(clinic, At(2026, 3, 10, 10), At(2026, 3, 24, 10), 10),
            (std::vector<Interval>{{At(2026, 3, 10, 9), At(2026, 3, 10, 11)},
                                   {At(2026, 3, 17, 9), At(2026, 3, 17, 11)},
                                   {At(2026, 3, 24, 9), At(2026, 3, 24, 11)}}));
  // An interval that ends exactly at `from` does not overlap it.
  EXPECT_EQ(Expand(clinic, At(2026, 3, 10, 11), At(2026, 3, 18), 10),
            (std::vector<Interval>{{At(2026, 3, 17, 9), At(2026, 3, 17, 11)}}));
  EXPECT_EQ(Expand(clinic, At(2026, 3, 1), At(2026, 4, 1), 2).size(), 2u);
  Schedule bad = clinic;
  bad.duration = absl::ZeroDuration();
  EXPECT_FALSE(ValidateSchedule(bad).ok());
  EXPECT_TRUE(Expand(bad, At(2026, 3, 1), At(2026, 4, 1), 10).empty());
  EXPECT_FALSE(Covers(bad, At(2026, 3, 10, 9), absl::ZeroDuration()));
}

TEST(Schedule, AbsoluteTimesInShanghai) {
  const absl::TimeZone shanghai = ShanghaiTimeZone();
  const absl::TimeZone fixed = absl::FixedTimeZone(8 * 3600);
  const TimeInterval interval =
      ToTimeInterval(Interval{At(2026, 3, 10, 9), At(2026, 3, 10, 11)}, shanghai);
  EXPECT_EQ(absl::FormatTime("%Y-%m-%dT%H:%M:%S", interval.start, absl::UTCTimeZone()),
            "2026-03-10T01:00:00");
  EXPECT_EQ(interval.end - interval.start, absl::Hours(2));
  EXPECT_EQ(interval, ToTimeInterval(Interval{At(2026, 3, 10, 9), At(2026, 3, 10, 11)}, fixed));

  const Schedule clinic = TuesdayClinic();
  const absl::Time utc_0130 = absl::FromCivil(At(2026, 3, 10, 1, 30), absl::UTCTimeZone());
  EXPECT_TRUE(CoversTime(clinic, utc_0130, absl::Minutes(90), shanghai));
  EXPECT_FALSE(CoversTime(clinic, utc_0130, absl::Minutes(91), shanghai));
  // Half a second past 10:59:59 leaves only half a second: one second no longer fits.
  const absl::Time late =
      absl::FromCivil(At(2026, 3, 10, 10, 59, 59), shanghai) + absl::Milliseconds(500);
  EXPECT_TRUE(CoversTime(clinic, late, absl::Milliseconds(400), shanghai));
  EXPECT_FALSE(CoversTime(clinic, late, absl::Seconds(1), shanghai));
}

// ---------------------------------------------------------------------------------------------
// Parsing, validation and formatting.

TEST(ParseRule, ErrorsCarryThePosition) {
  const std::string weekdays = "(MO,TU,WE,TH,FR,SA,SU)";
  EXPECT_EQ(ParseError("FREQ=WEEKLY;BYDAY=TU,TX"),
            "position 22: BYDAY value \"TX\" is not a weekday " + weekdays);
  EXPECT_EQ(ParseError("RRULE:FREQ=WEEKLY;BYDAY=TU,TX"),
            "position 28: BYDAY value \"TX\" is not a weekday " + weekdays);
  EXPECT_EQ(ParseError("FREQ=WEEKLY;INTERVAL=0"),
            "position 22: INTERVAL value \"0\" is out of range (1..1000)");
  EXPECT_EQ(ParseError("FREQ=DAILY;INTERVAL=1001"),
            "position 21: INTERVAL value \"1001\" is out of range (1..1000)");
  EXPECT_EQ(ParseError("FREQ=DAILY;COUNT=abc"), "position 18: COUNT value \"abc\" is not a number");
  EXPECT_EQ(ParseError("FREQ=DAILY;COUNT=99999999999999999999"),
            "position 18: COUNT value \"99999999999999999999\" is out of range (1..100000)");
  EXPECT_EQ(ParseError("FREQ=WEEKLY;FOO=1"),
            "position 13: unknown part \"FOO\" (supported: FREQ, INTERVAL, COUNT, UNTIL, BYDAY, "
            "BYMONTHDAY, BYMONTH, BYHOUR, BYMINUTE, WKST)");
  EXPECT_EQ(ParseError("FREQ=WEEKLY;BYDAY=MO;byday=TU"),
            "position 22: duplicate part \"BYDAY\" (first given at position 13)");
  EXPECT_EQ(ParseError("FREQ=DAILY;COUNT=3;UNTIL=20270101"),
            "position 20: COUNT and UNTIL cannot both be given (RFC 5545); keep one");
  EXPECT_EQ(ParseError("FREQ=WEEKLY;BYDAY=MO,2TU"),
            "position 22: BYDAY value \"2TU\" has an ordinal, which only FREQ=MONTHLY or "
            "FREQ=YEARLY allow");
  // The ordinal is checked against FREQ even when FREQ comes later.
  EXPECT_EQ(ParseError("BYDAY=-1FR;FREQ=DAILY"),
            "position 7: BYDAY value \"-1FR\" has an ordinal, which only FREQ=MONTHLY or "
            "FREQ=YEARLY allow");
  EXPECT_EQ(ParseError("FREQ=MONTHLY;BYDAY=6TU"),
            "position 20: BYDAY value \"6TU\" has an ordinal out of range for a month (1..5 or "
            "-5..-1)");
  EXPECT_EQ(ParseError("FREQ=YEARLY;BYDAY=54MO"),
            "position 19: BYDAY value \"54MO\" has an ordinal out of range (1..53 or -53..-1)");
  EXPECT_EQ(ParseError("FREQ=MONTHLY;BYDAY=0TU"),
            "position 20: BYDAY value \"0TU\" has an ordinal out of range (1..53 or -53..-1)");
  EXPECT_EQ(ParseError("FREQ=MONTHLY;BYDAY=+TU"),
            "position 20: BYDAY value \"+TU\" has a sign but no ordinal");
  EXPECT_EQ(ParseError("BYDAY=MO"),
            "position 1: FREQ is required (DAILY, WEEKLY, MONTHLY or YEARLY)");
  EXPECT_EQ(ParseError("FREQ="), "position 6: FREQ value is empty");
  EXPECT_EQ(ParseError("FREQ=HOURLY"),
            "position 6: FREQ value \"HOURLY\" is not one of DAILY, WEEKLY, MONTHLY, YEARLY");
  EXPECT_EQ(ParseError("FREQ"), "position 1: part \"FREQ\" is not NAME=VALUE");
  EXPECT_EQ(ParseError("FREQ=DAILY;;COUNT=2"),
            "position 12: empty part (\";;\", or \";\" at the start or the end)");
  EXPECT_EQ(ParseError("FREQ=DAILY;"),
            "position 12: empty part (\";;\", or \";\" at the start or the end)");
  EXPECT_EQ(ParseError("FREQ=WEEKLY;BYDAY=MO,,TU"), "position 22: BYDAY has an empty item");
  EXPECT_EQ(ParseError("FREQ=MONTHLY;BYMONTHDAY=1,0"),
            "position 27: BYMONTHDAY value \"0\" is out of range (1..31 or -31..-1)");
  EXPECT_EQ(ParseError("FREQ=MONTHLY;BYMONTHDAY=-32"),
            "position 25: BYMONTHDAY value \"-32\" is out of range (1..31 or -31..-1)");
  EXPECT_EQ(ParseError("FREQ=WEEKLY;BYMONTHDAY=1"),
            "position 13: BYMONTHDAY cannot be used with FREQ=WEEKLY (RFC 5545)");
  EXPECT_EQ(ParseError("FREQ=YEARLY;BYMONTH=13"),
            "position 21: BYMONTH value \"13\" is out of range (1..12)");
  EXPECT_EQ(ParseError("FREQ=DAILY;BYHOUR=9,24"),
            "position 21: BYHOUR value \"24\" is out of range (0..23)");
  EXPECT_EQ(ParseError("FREQ=DAILY;BYMINUTE=60"),
            "position 21: BYMINUTE value \"60\" is out of range (0..59)");
  EXPECT_EQ(ParseError("FREQ=YEARLY;BYMONTH=3;BYDAY=-6SU"),
            "position 29: BYDAY value \"-6SU\" has an ordinal out of range for a month (1..5 or "
            "-5..-1)");
  EXPECT_EQ(ParseError("FREQ=DAILY;UNTIL=20270230"),
            "position 18: UNTIL value \"20270230\" is not a real date and time");
  EXPECT_EQ(ParseError("FREQ=DAILY;UNTIL=20271231T240000"),
            "position 18: UNTIL value \"20271231T240000\" is not a real date and time");
  EXPECT_EQ(ParseError("FREQ=DAILY;UNTIL=2027-12-31"),
            "position 18: UNTIL value \"2027-12-31\" is not a local date-time (YYYYMMDDTHHMMSS or "
            "YYYYMMDD)");
  EXPECT_EQ(ParseError("FREQ=DAILY;UNTIL=20271231T155959Z"),
            "position 18: UNTIL value \"20271231T155959Z\" is in UTC; give local time "
            "(YYYYMMDDTHHMMSS or YYYYMMDD) without \"Z\"");
  EXPECT_EQ(ParseError("FREQ=DAILY;UNTIL=00001231"),
            "position 18: UNTIL value \"00001231\" is out of range (years 1..9999)");
  EXPECT_EQ(ParseError("FREQ=DAILY;WKST=XX"),
            "position 17: WKST value \"XX\" is not a weekday " + weekdays);
  EXPECT_EQ(ParseError(""), "position 1: rule is empty (expected e.g. FREQ=WEEKLY;BYDAY=TU)");
  EXPECT_EQ(ParseError("RRULE:"), "position 7: rule is empty (expected e.g. FREQ=WEEKLY;BYDAY=TU)");
  EXPECT_EQ(ParseError("FREQ=DAILY;BYHOUR=" + std::string(1000, '1')),
            "position 1001: rule is longer than 1000 characters");
  // Unprintable input is escaped and long values are cut in messages.
  EXPECT_EQ(ParseError(std::string("FREQ=DAILY;\x01\xff=2", 15)),
            "position 12: unknown part \"\\x01\\xff\" (supported: FREQ, INTERVAL, COUNT, UNTIL, "
            "BYDAY, BYMONTHDAY, BYMONTH, BYHOUR, BYMINUTE, WKST)");
  EXPECT_EQ(ParseError("FREQ=" + std::string(60, 'X')),
            "position 6: FREQ value \"" + std::string(40, 'X') +
                "...\" is not one of DAILY, WEEKLY, MONTHLY, YEARLY");
}

TEST(ParseRule, AcceptsTheRfcSpellings) {
  const RecurrenceRule rule =
      Rule("RRULE:freq=Monthly;interval=2;byday=+2tu,-1fr;bymonth=1,7;wkst=su;until=20271231");
  EXPECT_EQ(rule.freq, Frequency::kMonthly);
  EXPECT_EQ(rule.interval, 2);
  EXPECT_EQ(rule.by_day,
            (std::vector<WeekdayNum>{{absl::Weekday::tuesday, 2}, {absl::Weekday::friday, -1}}));
  EXPECT_EQ(rule.by_month, (std::vector<int>{1, 7}));
  EXPECT_EQ(rule.week_start, absl::Weekday::sunday);
  EXPECT_EQ(rule.until, At(2027, 12, 31, 23, 59, 59));
  EXPECT_FALSE(rule.count.has_value());
}

TEST(FormatRule, IsCanonicalAndRoundTrips) {
  const std::pair<const char*, const char*> cases[] = {
      {"rrule:freq=weekly;interval=1;byday=tu,th;wkst=mo", "FREQ=WEEKLY;BYDAY=TU,TH"},
      {"BYDAY=+2TU;FREQ=MONTHLY", "FREQ=MONTHLY;BYDAY=2TU"},
      {"FREQ=DAILY;UNTIL=20271231", "FREQ=DAILY;UNTIL=20271231T235959"},
      {"WKST=SU;BYMINUTE=0,30;BYHOUR=9;BYMONTHDAY=+1,-1;BYMONTH=12,1;COUNT=7;INTERVAL=3;"
       "FREQ=YEARLY",
       "FREQ=YEARLY;INTERVAL=3;COUNT=7;BYMONTH=12,1;BYMONTHDAY=1,-1;BYHOUR=9;BYMINUTE=0,30;"
       "WKST=SU"},
      {"FREQ=YEARLY;BYDAY=53MO,-53SU", "FREQ=YEARLY;BYDAY=53MO,-53SU"},
  };
  for (const auto& [input, canonical] : cases) {
    const RecurrenceRule rule = Rule(input);
    EXPECT_EQ(FormatRule(rule), canonical) << input;
    EXPECT_EQ(Rule(FormatRule(rule)), rule) << input;
  }
  // A rule built in code.
  RecurrenceRule built;
  built.freq = Frequency::kMonthly;
  built.by_day = {{absl::Weekday::friday, -1}, {absl::Weekday::tuesday, 2}};
  built.by_hour = {14, 9};
  built.until = At(2030, 6, 30, 18);
  ASSERT_TRUE(ValidateRule(built).ok());
  EXPECT_EQ(FormatRule(built), "FREQ=MONTHLY;UNTIL=20300630T180000;BYDAY=-1FR,2TU;BYHOUR=14,9");
  EXPECT_EQ(Rule(FormatRule(built)), built);
  std::ostringstream printed;
  printed << built.by_day[0] << " " << Interval{At(2026, 1, 1, 9), At(2026, 1, 1, 11)};
  EXPECT_EQ(printed.str(), "-1FR [2026-01-01T09:00:00, 2026-01-01T11:00:00)");
}

TEST(ParseRule, CanonicalFormMustFitTheLimit) {
  // 1000 characters as given, 1007 once the bare UNTIL date is written out in full.
  std::string text = "FREQ=DAILY;UNTIL=20270101;BYMINUTE=0";
  while (text.size() < kMaxRuleLength) text += ",0";
  ASSERT_EQ(text.size(), kMaxRuleLength);
  EXPECT_EQ(ParseError(text),
            "position 1: rule is 1007 characters long in canonical form (limit 1000)");
  EXPECT_EQ(CheckRuleInvariants(text), "");
  // With a full UNTIL the same rule is accepted and round-trips.
  text.replace(text.find("20270101"), 8, "20270101T000000");
  text.resize(kMaxRuleLength);
  if (text.back() == ',') text.pop_back();
  EXPECT_TRUE(ParseRule(text).ok()) << ParseRule(text).status();
  EXPECT_EQ(CheckRuleInvariants(text), "");

  RecurrenceRule built;
  built.by_minute.assign(400, 30);
  EXPECT_EQ(ValidateRule(built).message(),
            "rule is 1220 characters long in canonical form (limit 1000)");
}

TEST(ValidateRule, RejectsWhatParseRejects) {
  RecurrenceRule rule;
  EXPECT_TRUE(ValidateRule(rule).ok());
  rule.by_day = {{absl::Weekday::tuesday, 2}};
  EXPECT_EQ(ValidateRule(rule).message(),
            "BYDAY value \"2TU\" has an ordinal, which only FREQ=MONTHLY or FREQ=YEARLY allow");
  rule.freq = Frequency::kMonthly;
  EXPECT_TRUE(ValidateRule(rule).ok());
  rule.count = 3;
  rule.until = At(2027, 1, 1);
  EXPECT_FALSE(ValidateRule(rule).ok());
  rule.until.reset();
  rule.by_month_day = {32};
  EXPECT_EQ(ValidateRule(rule).message(), "BYMONTHDAY value 32 is out of range (1..31 or -31..-1)");
  rule.by_month_day = {};
  rule.freq = static_cast<Frequency>(9);
  EXPECT_FALSE(ValidateRule(rule).ok());
  rule.freq = Frequency::kDaily;
  rule.by_day = {{static_cast<absl::Weekday>(7), 0}};
  EXPECT_FALSE(ValidateRule(rule).ok());
  rule.by_day = {};
  rule.until = At(10000, 1, 1);
  rule.count.reset();
  EXPECT_FALSE(ValidateRule(rule).ok());
}

// ---------------------------------------------------------------------------------------------
// Robustness: the fuzz body on the seed corpus, random bytes and random rules.

std::vector<std::string> CorpusFiles() {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(LINLI_RRULE_CORPUS_DIR)) {
    if (entry.is_regular_file()) files.push_back(entry.path().filename().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

class CorpusReplay : public ::testing::TestWithParam<std::string> {};

TEST_P(CorpusReplay, FuzzBodyHolds) {
  std::ifstream in(std::string(LINLI_RRULE_CORPUS_DIR) + "/" + GetParam(), std::ios::binary);
  ASSERT_TRUE(in) << GetParam();
  const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(CheckRuleInvariants(data), "") << GetParam();
  // The libFuzzer entry point itself (aborts on a broken invariant).
  EXPECT_EQ(LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(data.data()), data.size()), 0);
}

INSTANTIATE_TEST_SUITE_P(Seeds, CorpusReplay, ::testing::ValuesIn(CorpusFiles()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           for (char& c : name) {
                             if (!absl::ascii_isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

TEST(Robustness, CorpusIsNotEmpty) { EXPECT_GE(CorpusFiles().size(), 10u); }

TEST(Robustness, GarbageNeverCrashes) {
  std::mt19937 random(20260101);
  std::string alphabet = "FREQ=DAILYWEKMONTHBYSUNTICO;,+-0123456789TZ: rule\xff";
  alphabet.push_back('\0');
  for (int i = 0; i < 20000; ++i) {
    std::string input(random() % 60, '\0');
    for (char& c : input) {
      c = random() % 4 == 0 ? static_cast<char>(random() % 256)
                            : alphabet[random() % alphabet.size()];
    }
    ASSERT_EQ(CheckRuleInvariants(input), "") << absl::CHexEscape(input);
  }
}

// Random well-formed rules, each expanded against the day-by-day reference.
TEST(Robustness, RandomRulesMatchTheReference) {
  std::mt19937 random(5545);
  const auto pick = [&](int n) { return static_cast<int>(random() % n); };
  const char* freqs[] = {"DAILY", "WEEKLY", "MONTHLY", "YEARLY"};
  const char* days[] = {"MO", "TU", "WE", "TH", "FR", "SA", "SU"};
  int accepted = 0;
  for (int i = 0; i < 3000; ++i) {
    const int freq = pick(4);
    std::vector<std::string> parts = {absl::StrCat("FREQ=", freqs[freq])};
    if (pick(2)) parts.push_back(absl::StrCat("INTERVAL=", 1 + pick(pick(4) == 0 ? 60 : 4)));
    if (pick(3) == 0) parts.push_back(absl::StrCat("COUNT=", 1 + pick(200)));
    if (pick(4) == 0)
      parts.push_back(absl::StrCat("UNTIL=", 2021 + pick(12), "0", 1 + pick(9), "15"));
    if (pick(2)) {
      std::vector<std::string> items;
      for (int n = 1 + pick(3); n > 0; --n) {
        const int ordinal = freq >= 2 && pick(2) ? (pick(2) ? 1 : -1) * (1 + pick(5)) : 0;
        items.push_back(absl::StrCat(ordinal == 0 ? "" : absl::StrCat(ordinal), days[pick(7)]));
      }
      parts.push_back("BYDAY=" + absl::StrJoin(items, ","));
    }
    if (freq != 1 && pick(3) == 0) {
      parts.push_back(
          absl::StrCat("BYMONTHDAY=", (pick(3) == 0 ? -1 : 1) * (1 + pick(31)), ",", 1 + pick(31)));
    }
    if (pick(3) == 0) parts.push_back(absl::StrCat("BYMONTH=", 1 + pick(12), ",", 1 + pick(12)));
    if (pick(3) == 0) parts.push_back(absl::StrCat("BYHOUR=", pick(24), ",", pick(24)));
    if (pick(4) == 0) parts.push_back(absl::StrCat("BYMINUTE=", pick(60)));
    if (pick(4) == 0) parts.push_back(absl::StrCat("WKST=", days[pick(7)]));
    std::shuffle(parts.begin(), parts.end(), random);
    const std::string text = absl::StrJoin(parts, ";");
    accepted += ParseRule(text).ok();
    ASSERT_EQ(CheckRuleInvariants(text), "") << text;
  }
  EXPECT_GT(accepted, 2000);  // the generator mostly makes valid rules, so expansion is tested
}

}  // namespace
}  // namespace linli::recurrence
