// iCalendar recurrence rules (an RFC 5545 RRULE subset, as HSDS schedules use it) for opening
// hours, worker availability and care commitments, in local civil time.
//
// Supported parts: FREQ (DAILY, WEEKLY, MONTHLY, YEARLY), INTERVAL, COUNT, UNTIL, BYDAY (with
// ordinals such as 2TU or -1FR for MONTHLY/YEARLY), BYMONTHDAY, BYMONTH, BYHOUR, BYMINUTE, WKST.
// Everything else (BYSETPOS, BYWEEKNO, BYYEARDAY, BYSECOND, HOURLY, ...) is INVALID_ARGUMENT.
//
// All times are floating local civil times (absl::CivilSecond) in the service's zone, which for
// Linli is Asia/Shanghai (UTC+8, no DST since 1991): rules are expanded on the civil calendar and
// only converted to absl::Time at the edge, with ShanghaiTimeZone() or another zone. UNTIL is
// therefore local too; a UTC UNTIL ("...Z") is rejected rather than silently reinterpreted.
//
//   ASSIGN_OR_RETURN(RecurrenceRule rule, ParseRule("FREQ=WEEKLY;BYDAY=TU;BYHOUR=9"));
//   Schedule clinic{rule, absl::CivilSecond(2026, 1, 6, 9, 0, 0), absl::Hours(2)};  // Tue 9-11
//   for (const Interval& open : Expand(clinic, absl::CivilSecond(2026, 3, 1),
//                                      absl::CivilSecond(2026, 4, 1), /*max=*/100)) {
//     TimeInterval utc = ToTimeInterval(open, ShanghaiTimeZone());
//     ...
//   }
//   bool available = Covers(clinic, absl::CivilSecond(2026, 3, 10, 10, 0, 0), absl::Minutes(30));
//
// Expansion semantics (RFC 5545 section 3.3.10, as python-dateutil also reads it):
//   * Occurrences are the rule's matches at or after DTSTART; DTSTART itself is one only when it
//     matches the rule (it is not added when it does not), and COUNT counts from there, whatever
//     window is asked for. UNTIL is inclusive.
//   * Dates that do not exist are skipped, never clamped: BYMONTHDAY=31 (or a MONTHLY rule that
//     starts on the 31st) has no occurrence in 30-day months, Feb 29 only in leap years.
//   * Without BYDAY/BYMONTHDAY the day comes from DTSTART (its weekday for WEEKLY, its day of the
//     month for MONTHLY, its month and day for YEARLY); without BYHOUR/BYMINUTE the time of day
//     does. Seconds always come from DTSTART.
//   * MONTHLY BYDAY ordinals count within the month (2TU = second Tuesday, -1FR = last Friday);
//     YEARLY ones count within each BYMONTH month when BYMONTH is given, else within the year.
//     When both BYMONTHDAY and BYDAY are given, BYDAY only filters the BYMONTHDAY days.
//   * The supported calendar is years 1..9999 (the RFC's four-digit years): nothing is generated
//     after 9999-12-31 and a DTSTART outside those years has no occurrences.
#ifndef LINLI_COMMON_RECURRENCE_RRULE_H_
#define LINLI_COMMON_RECURRENCE_RRULE_H_

#include <cstddef>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace linli::recurrence {

// Limits enforced by ParseRule and ValidateRule.
inline constexpr size_t kMaxRuleLength = 1000;  // characters, including any "RRULE:" prefix
inline constexpr int kMaxInterval = 1000;
inline constexpr int kMaxCount = 100000;  // longer commitments should use UNTIL
inline constexpr int kMinYear = 1;
inline constexpr int kMaxYear = 9999;

enum class Frequency { kDaily, kWeekly, kMonthly, kYearly };

// A BYDAY entry: a weekday, optionally with an ordinal (2TU: ordinal 2; -1FR: ordinal -1).
// ordinal 0 means "every such weekday of the period". Ordinals are only valid with MONTHLY
// (1..5, -5..-1) and YEARLY (1..53, -53..-1, or 1..5, -5..-1 when BYMONTH is given).
struct WeekdayNum {
  absl::Weekday weekday = absl::Weekday::monday;
  int ordinal = 0;

  friend bool operator==(const WeekdayNum&, const WeekdayNum&) = default;
};

// A parsed RRULE. Empty vectors mean the part is absent. List values keep the order they were
// given in, repeats included (FormatRule writes them back as they are, expansion ignores order
// and repeats), so Parse(Format(r)) == r exactly.
struct RecurrenceRule {
  Frequency freq = Frequency::kWeekly;  // FREQ is required in text; WEEKLY is only a default
  int interval = 1;
  std::vector<WeekdayNum> by_day;
  std::vector<int> by_month_day;                     // 1..31 or -31..-1 (from the end of the month)
  std::vector<int> by_month;                         // 1..12
  std::vector<int> by_hour;                          // 0..23
  std::vector<int> by_minute;                        // 0..59
  std::optional<int> count;                          // 1..kMaxCount; not together with until
  std::optional<absl::CivilSecond> until;            // inclusive, local civil time
  absl::Weekday week_start = absl::Weekday::monday;  // WKST; only matters for WEEKLY, INTERVAL>1

  friend bool operator==(const RecurrenceRule&, const RecurrenceRule&) = default;
};

// Parses "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH;UNTIL=20271231T235959" (an optional leading
// "RRULE:" is accepted; names and values are case-insensitive). UNTIL is YYYYMMDDTHHMMSS or
// YYYYMMDD (which means 23:59:59 that day). Every error is INVALID_ARGUMENT and starts with the
// 1-based character position of the offending part or value in `text`; for
// "FREQ=WEEKLY;BYDAY=TU,TX" it is
//   position 22: BYDAY value "TX" is not a weekday (MO,TU,WE,TH,FR,SA,SU)
// Never crashes and runs in time linear in the input on any input.
absl::StatusOr<RecurrenceRule> ParseRule(absl::string_view text);

// Canonical text: parts in the order FREQ, INTERVAL, COUNT, UNTIL, BYMONTH, BYMONTHDAY, BYDAY,
// BYHOUR, BYMINUTE, WKST; upper case; INTERVAL=1 and WKST=MO (the defaults) left out; no
// "RRULE:" prefix. For every rule that ValidateRule accepts, ParseRule(FormatRule(r)) == r.
std::string FormatRule(const RecurrenceRule& rule);

// The checks ParseRule applies, for rules built in code (messages carry no position),
// including that FormatRule(rule) fits in kMaxRuleLength characters.
absl::Status ValidateRule(const RecurrenceRule& rule);

// Occurrence start times in [window_start, window_end), ascending, at most max_results of them.
// An invalid rule (see ValidateRule) has none. Thread-safe (no shared state).
//
// Cost: without COUNT, expansion jumps straight to the period holding window_start, so a rule
// started ten years ago costs the same as one started last week. With COUNT the occurrences
// before the window have to be counted from dtstart (whole days at a time): microseconds for a
// few years, about 0.4 s in the worst case (a sparse rule counted from year 1 to year 8000).
// A rule that can never match (BYMONTH=2;BYMONTHDAY=31) is given up on after one 400-year
// calendar cycle without a match (at most ~20 ms), and a fixed work budget guarantees
// termination whatever the arguments.
std::vector<absl::CivilSecond> Occurrences(const RecurrenceRule& rule, absl::CivilSecond dtstart,
                                           absl::CivilSecond window_start,
                                           absl::CivilSecond window_end, size_t max_results);

// A rule whose occurrences each last `duration`, e.g. opening hours "Tue 9:00 for 2 hours".
struct Schedule {
  RecurrenceRule rule;
  absl::CivilSecond dtstart;
  absl::Duration duration;
};

// A half-open civil interval [start, end).
struct Interval {
  absl::CivilSecond start;
  absl::CivilSecond end;

  friend bool operator==(const Interval&, const Interval&) = default;
};

// Rule valid, dtstart in years kMinYear..kMaxYear, duration in (0, 366 days].
absl::Status ValidateSchedule(const Schedule& schedule);

// Occurrence intervals that overlap [from, to) (so one that started before `from` and is still
// running is included), ascending by start, at most `max`. End = start + duration in civil
// seconds, which is exact in zones without DST such as Asia/Shanghai; a sub-second remainder of
// the duration is dropped. An invalid schedule (see ValidateSchedule) has none.
std::vector<Interval> Expand(const Schedule& schedule, absl::CivilSecond from, absl::CivilSecond to,
                             size_t max);

// Whether [start, start + length) lies inside a single occurrence interval: "is the provider
// open / is the worker available for this whole visit". length 0 asks about the instant `start`
// (start <= t < end). A sub-second length is rounded up; a negative length is never covered.
// Back-to-back occurrences are not merged: a visit spanning two of them is not covered.
bool Covers(const Schedule& schedule, absl::CivilSecond start, absl::Duration length);

// Asia/Shanghai from the system tz database. Where tzdata is not installed (slim containers)
// LoadTimeZone fails and this falls back to absl::FixedTimeZone(8 * 3600), which gives the same
// answers for every time since Shanghai dropped DST in 1991. Loaded once; thread-safe.
absl::TimeZone ShanghaiTimeZone();

// An absolute [start, end).
struct TimeInterval {
  absl::Time start;
  absl::Time end;

  friend bool operator==(const TimeInterval&, const TimeInterval&) = default;
};

// The civil interval as absolute times in `tz`.
TimeInterval ToTimeInterval(const Interval& interval, absl::TimeZone tz);

// Covers() for an absolute instant: `start` is read as civil time in `tz`.
bool CoversTime(const Schedule& schedule, absl::Time start, absl::Duration length,
                absl::TimeZone tz);

// Readable forms for test failure messages and logs.
std::ostream& operator<<(std::ostream& os, const WeekdayNum& day);
std::ostream& operator<<(std::ostream& os, const RecurrenceRule& rule);
std::ostream& operator<<(std::ostream& os, const Interval& interval);

}  // namespace linli::recurrence

#endif  // LINLI_COMMON_RECURRENCE_RRULE_H_
