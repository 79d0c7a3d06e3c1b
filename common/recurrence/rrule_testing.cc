#include "common/recurrence/rrule_testing.h"

#include <algorithm>
#include <cstdint>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"

namespace linli::recurrence::testing {
namespace {

using absl::CivilDay;
using absl::CivilMonth;
using absl::CivilSecond;
using absl::CivilYear;

bool Contains(const std::vector<int>& values, int value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

// Deliberately not shared with rrule.cc: month lengths come from absl's normalisation.
int MonthLength(CivilDay day) {
  const CivilMonth month(day);
  return static_cast<int>(CivilDay(month + 1) - CivilDay(month));
}

CivilDay WeekStart(CivilDay day, absl::Weekday week_start) {
  while (absl::GetWeekday(day) != week_start) --day;
  return day;
}

// Counts, by stepping a week at a time, which `day`'s weekday it is within its scope (month or
// year): forward (1 = first) and backward (-1 = last).
std::pair<int, int> NthInScope(CivilDay day, bool year_scope) {
  const auto same_scope = [&](CivilDay other) {
    return other.year() == day.year() && (year_scope || other.month() == day.month());
  };
  int forward = 1, backward = -1;
  for (CivilDay d = day - 7; same_scope(d); d -= 7) ++forward;
  for (CivilDay d = day + 7; same_scope(d); d += 7) --backward;
  return {forward, backward};
}

bool DayMatches(const RecurrenceRule& rule, CivilDay start, CivilDay day) {
  int64_t units = 0;
  switch (rule.freq) {
    case Frequency::kDaily:
      units = day - start;
      break;
    case Frequency::kWeekly:
      units = (WeekStart(day, rule.week_start) - WeekStart(start, rule.week_start)) / 7;
      break;
    case Frequency::kMonthly:
      units = CivilMonth(day) - CivilMonth(start);
      break;
    case Frequency::kYearly:
      units = CivilYear(day) - CivilYear(start);
      break;
  }
  if (units < 0 || units % rule.interval != 0) return false;
  if (!rule.by_month.empty() && !Contains(rule.by_month, day.month())) return false;
  if (rule.freq == Frequency::kYearly && rule.by_month.empty() && rule.by_month_day.empty() &&
      rule.by_day.empty() && day.month() != start.month()) {
    return false;
  }
  if (!rule.by_month_day.empty()) {
    const int length = MonthLength(day);
    bool any = false;
    for (int md : rule.by_month_day) any |= day.day() == (md > 0 ? md : length + md + 1);
    if (!any) return false;
  } else if ((rule.freq == Frequency::kMonthly || rule.freq == Frequency::kYearly) &&
             rule.by_day.empty() && day.day() != start.day()) {
    return false;
  }
  if (!rule.by_day.empty()) {
    const bool year_scope = rule.freq == Frequency::kYearly && rule.by_month.empty();
    const auto [forward, backward] = NthInScope(day, year_scope);
    bool any = false;
    for (const WeekdayNum& entry : rule.by_day) {
      any |= entry.weekday == absl::GetWeekday(day) &&
             (entry.ordinal == 0 || entry.ordinal == forward || entry.ordinal == backward);
    }
    if (!any) return false;
  } else if (rule.freq == Frequency::kWeekly && absl::GetWeekday(day) != absl::GetWeekday(start)) {
    return false;
  }
  return true;
}

uint64_t Fnv1a(absl::string_view data) {
  uint64_t hash = 1469598103934665603ull;
  for (unsigned char c : data) hash = (hash ^ c) * 1099511628211ull;
  return hash;
}

std::string Show(const std::vector<CivilSecond>& values) {
  return absl::StrJoin(values, ",", [](std::string* out, CivilSecond value) {
    out->append(absl::FormatCivilTime(value));
  });
}

}  // namespace

std::vector<CivilSecond> ReferenceOccurrences(const RecurrenceRule& rule, CivilSecond dtstart,
                                              CivilSecond window_start, CivilSecond window_end,
                                              size_t max_results) {
  std::vector<CivilSecond> out;
  if (!ValidateRule(rule).ok() || dtstart.year() < kMinYear || dtstart.year() > kMaxYear) {
    return out;
  }
  std::set<int> hours(rule.by_hour.begin(), rule.by_hour.end());
  std::set<int> minutes(rule.by_minute.begin(), rule.by_minute.end());
  if (hours.empty()) hours.insert(dtstart.hour());
  if (minutes.empty()) minutes.insert(dtstart.minute());
  int64_t counted = 0;
  for (CivilDay day(dtstart); CivilSecond(day) < window_end && day.year() <= kMaxYear; ++day) {
    if (!DayMatches(rule, CivilDay(dtstart), day)) continue;
    for (int hour : hours) {
      for (int minute : minutes) {
        const CivilSecond at(day.year(), day.month(), day.day(), hour, minute, dtstart.second());
        if (at < dtstart) continue;
        if (at >= window_end || (rule.until && at > *rule.until)) return out;
        if (rule.count && counted == *rule.count) return out;
        ++counted;
        if (at >= window_start) {
          if (out.size() == max_results) return out;
          out.push_back(at);
        }
      }
    }
  }
  return out;
}

std::string CheckRuleInvariants(absl::string_view input) {
  const absl::StatusOr<RecurrenceRule> parsed = ParseRule(input);
  if (!parsed.ok()) {
    const absl::Status& status = parsed.status();
    if (status.code() != absl::StatusCode::kInvalidArgument) {
      return absl::StrCat("rejection is not INVALID_ARGUMENT: ", status.ToString());
    }
    // "position N: ..." with 1 <= N <= max(size + 1, kMaxRuleLength + 1).
    absl::string_view message = status.message();
    if (!absl::ConsumePrefix(&message, "position ")) {
      return absl::StrCat("rejection has no position: ", status.message());
    }
    size_t position = 0, digits = 0;
    while (digits < message.size() && digits < 6 && absl::ascii_isdigit(message[digits])) {
      position = position * 10 + static_cast<size_t>(message[digits] - '0');
      ++digits;
    }
    const size_t limit = std::max(input.size(), kMaxRuleLength) + 1;
    if (digits == 0 || position < 1 || position > limit ||
        !absl::StartsWith(message.substr(digits), ": ")) {
      return absl::StrCat("bad position in rejection: ", status.message());
    }
    return "";
  }
  const RecurrenceRule& rule = *parsed;
  if (absl::Status status = ValidateRule(rule); !status.ok()) {
    return absl::StrCat("parsed rule does not validate: ", status.ToString());
  }
  const std::string text = FormatRule(rule);
  const absl::StatusOr<RecurrenceRule> reparsed = ParseRule(text);
  if (!reparsed.ok()) {
    return absl::StrCat("formatted rule ", text, " does not parse: ", reparsed.status().ToString());
  }
  if (!(*reparsed == rule)) return absl::StrCat("round trip changed the rule: ", text);
  if (FormatRule(*reparsed) != text) return absl::StrCat("format not canonical: ", text);

  // Expansion against the day-by-day reference, over a window derived from the input so the
  // fuzzer explores windows before, around and long after dtstart.
  const uint64_t hash = Fnv1a(input);
  const CivilSecond dtstart = CivilSecond(2020, 1, 1) + static_cast<int64_t>(hash % (3650 * 86400));
  const CivilSecond window_start =
      dtstart + static_cast<int64_t>((hash >> 17) % (1200 * 86400)) - 30 * 86400;
  const CivilSecond window_end = window_start + static_cast<int64_t>((hash >> 40) % (200 * 86400));
  const size_t max_results = 1 + (hash >> 50) % 300;
  const std::vector<CivilSecond> got =
      Occurrences(rule, dtstart, window_start, window_end, max_results);
  const std::vector<CivilSecond> want =
      ReferenceOccurrences(rule, dtstart, window_start, window_end, max_results);
  if (got != want) {
    return absl::StrCat("expansion of ", text, " from ", absl::FormatCivilTime(dtstart), " in [",
                        absl::FormatCivilTime(window_start), ", ",
                        absl::FormatCivilTime(window_end), ") max ", max_results,
                        "\n  got:  ", Show(got), "\n  want: ", Show(want));
  }

  const Schedule schedule{rule, dtstart, absl::Seconds(1 + static_cast<int64_t>(hash % 7200))};
  for (size_t i = 0; i < got.size() && i < 5; ++i) {
    if (!Covers(schedule, got[i], schedule.duration) || !Covers(schedule, got[i], {})) {
      return absl::StrCat(text, ": occurrence ", absl::FormatCivilTime(got[i]),
                          " is not covered by its own interval");
    }
    const std::vector<Interval> expanded = Expand(schedule, got[i], got[i] + 1, 10000);
    if (std::none_of(expanded.begin(), expanded.end(),
                     [&](const Interval& interval) { return interval.start == got[i]; })) {
      return absl::StrCat(text, ": Expand misses the occurrence at ",
                          absl::FormatCivilTime(got[i]));
    }
  }
  return "";
}

}  // namespace linli::recurrence::testing
