#include "common/recurrence/rrule.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <numeric>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"

namespace linli::recurrence {
namespace {

using absl::CivilDay;
using absl::CivilMonth;
using absl::CivilSecond;
using absl::CivilYear;

// ---------------------------------------------------------------------------------------------
// Names and messages shared by ParseRule (which adds positions) and ValidateRule.

enum Part {
  kFreq,
  kInterval,
  kCount,
  kUntil,
  kByDay,
  kByMonthDay,
  kByMonth,
  kByHour,
  kByMinute,
  kWkst,
  kNumParts
};
constexpr std::array<absl::string_view, kNumParts> kPartNames = {
    "FREQ",       "INTERVAL", "COUNT",  "UNTIL",    "BYDAY",
    "BYMONTHDAY", "BYMONTH",  "BYHOUR", "BYMINUTE", "WKST"};

// Indexed by absl::Weekday, which runs monday (0) .. sunday (6).
constexpr std::array<absl::string_view, 7> kWeekdayCodes = {"MO", "TU", "WE", "TH",
                                                            "FR", "SA", "SU"};
constexpr absl::string_view kWeekdayList = "MO,TU,WE,TH,FR,SA,SU";

constexpr std::array<absl::string_view, 4> kFrequencyNames = {"DAILY", "WEEKLY", "MONTHLY",
                                                              "YEARLY"};

bool ValidWeekday(absl::Weekday day) {
  const int index = static_cast<int>(day);
  return index >= 0 && index < 7;
}

bool ValidFrequency(Frequency freq) {
  const int index = static_cast<int>(freq);
  return index >= 0 && index < static_cast<int>(kFrequencyNames.size());
}

absl::string_view WeekdayCode(absl::Weekday day) {
  return ValidWeekday(day) ? kWeekdayCodes[static_cast<int>(day)] : "??";
}

absl::string_view FrequencyName(Frequency freq) {
  return ValidFrequency(freq) ? kFrequencyNames[static_cast<int>(freq)] : "?";
}

std::string WeekdayNumText(const WeekdayNum& day) {
  return day.ordinal == 0 ? std::string(WeekdayCode(day.weekday))
                          : absl::StrCat(day.ordinal, WeekdayCode(day.weekday));
}

// User text echoed in an error: escaped (the input may be binary) and cut short.
std::string Quote(absl::string_view text) {
  constexpr size_t kMaxShown = 40;
  const bool cut = text.size() > kMaxShown;
  return absl::StrCat("\"", absl::CHexEscape(text.substr(0, kMaxShown)), cut ? "...\"" : "\"");
}

absl::Status ErrorAt(size_t position, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat("position ", position, ": ", message));
}

// Each *Problem function returns "" when the value is fine, else the message; `shown` is how the
// value is quoted in it (the user's text when parsing, the number when validating a struct).
std::string RangeProblem(Part part, absl::string_view shown, int64_t value, int64_t lo,
                         int64_t hi) {
  if (value >= lo && value <= hi) return "";
  return absl::StrFormat("%s value %s is out of range (%d..%d)", kPartNames[part], shown, lo, hi);
}

std::string MonthDayProblem(absl::string_view shown, int64_t value) {
  if (value != 0 && value >= -31 && value <= 31) return "";
  return absl::StrFormat("BYMONTHDAY value %s is out of range (1..31 or -31..-1)", shown);
}

std::string IntProblem(Part part, absl::string_view shown, int64_t value) {
  switch (part) {
    case kInterval:
      return RangeProblem(part, shown, value, 1, kMaxInterval);
    case kCount:
      return RangeProblem(part, shown, value, 1, kMaxCount);
    case kByMonthDay:
      return MonthDayProblem(shown, value);
    case kByMonth:
      return RangeProblem(part, shown, value, 1, 12);
    case kByHour:
      return RangeProblem(part, shown, value, 0, 23);
    case kByMinute:
      return RangeProblem(part, shown, value, 0, 59);
    default:
      return "";
  }
}

std::string OrdinalRangeProblem(absl::string_view shown, int ordinal) {
  if (ordinal >= -53 && ordinal <= 53) return "";
  return absl::StrFormat("BYDAY value %s has an ordinal out of range (1..53 or -53..-1)", shown);
}

// Ordinals that only make sense with some other part: checked once the whole rule is known.
std::string OrdinalContextProblem(absl::string_view shown, int ordinal, Frequency freq,
                                  bool by_month_given) {
  if (ordinal == 0) return "";
  if (freq == Frequency::kDaily || freq == Frequency::kWeekly) {
    return absl::StrFormat(
        "BYDAY value %s has an ordinal, which only FREQ=MONTHLY or FREQ=YEARLY allow", shown);
  }
  // Within a month there are at most five of each weekday.
  const bool month_scope =
      freq == Frequency::kMonthly || (freq == Frequency::kYearly && by_month_given);
  if (month_scope && (ordinal > 5 || ordinal < -5)) {
    return absl::StrFormat(
        "BYDAY value %s has an ordinal out of range for a month (1..5 or -5..-1)", shown);
  }
  return "";
}

constexpr absl::string_view kCountWithUntil =
    "COUNT and UNTIL cannot both be given (RFC 5545); keep one";
constexpr absl::string_view kMonthDayWithWeekly =
    "BYMONTHDAY cannot be used with FREQ=WEEKLY (RFC 5545)";

bool IsLeap(int64_t year) { return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0); }

int DaysInMonth(int64_t year, int month) {
  static constexpr int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeap(year) ? 29 : kDays[month - 1];
}

int DaysInYear(int64_t year) { return IsLeap(year) ? 366 : 365; }

int WeekdayIndex(CivilDay day) { return static_cast<int>(absl::GetWeekday(day)); }

std::string UntilYearProblem(absl::string_view shown, const CivilSecond& until) {
  if (until.year() >= kMinYear && until.year() <= kMaxYear) return "";
  return absl::StrFormat("UNTIL value %s is out of range (years %d..%d)", shown, kMinYear,
                         kMaxYear);
}

// ---------------------------------------------------------------------------------------------
// Parsing.

// [+|-]digits. nullopt when `text` is not an integer; huge values saturate (far beyond every
// limit) so that they are reported as out of range instead of overflowing.
std::optional<int64_t> ParseInteger(absl::string_view text) {
  size_t i = 0;
  int64_t sign = 1;
  if (!text.empty() && (text[0] == '+' || text[0] == '-')) {
    sign = text[0] == '-' ? -1 : 1;
    i = 1;
  }
  if (i == text.size()) return std::nullopt;
  int64_t value = 0;
  for (; i < text.size(); ++i) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(text[i]))) return std::nullopt;
    value = std::min<int64_t>(value * 10 + (text[i] - '0'), int64_t{1'000'000'000'000});
  }
  return sign * value;
}

std::optional<absl::Weekday> ParseWeekday(absl::string_view text) {
  for (size_t i = 0; i < kWeekdayCodes.size(); ++i) {
    if (absl::EqualsIgnoreCase(text, kWeekdayCodes[i])) return static_cast<absl::Weekday>(i);
  }
  return std::nullopt;
}

// Calls parse_item(item, position) for each comma-separated item of `value`.
template <typename ParseItem>
absl::Status ForEachItem(Part part, absl::string_view value, size_t value_pos,
                         ParseItem parse_item) {
  size_t start = 0;
  while (true) {
    const size_t comma = std::min(value.find(',', start), value.size());
    const absl::string_view item = value.substr(start, comma - start);
    const size_t position = value_pos + start;
    if (item.empty()) {
      return ErrorAt(position, absl::StrFormat("%s has an empty item", kPartNames[part]));
    }
    RETURN_IF_ERROR(parse_item(item, position));
    if (comma == value.size()) return absl::OkStatus();
    start = comma + 1;
  }
}

absl::StatusOr<int> ParseIntValue(Part part, absl::string_view text, size_t position) {
  const std::optional<int64_t> value = ParseInteger(text);
  if (!value) {
    return ErrorAt(position,
                   absl::StrFormat("%s value %s is not a number", kPartNames[part], Quote(text)));
  }
  if (std::string problem = IntProblem(part, Quote(text), *value); !problem.empty()) {
    return ErrorAt(position, problem);
  }
  return static_cast<int>(*value);
}

absl::Status ParseIntList(Part part, absl::string_view value, size_t value_pos,
                          std::vector<int>* out) {
  return ForEachItem(part, value, value_pos, [&](absl::string_view item, size_t position) {
    ASSIGN_OR_RETURN(const int number, ParseIntValue(part, item, position));
    out->push_back(number);
    return absl::OkStatus();
  });
}

absl::StatusOr<WeekdayNum> ParseWeekdayNum(absl::string_view item, size_t position) {
  size_t i = 0;
  if (item[0] == '+' || item[0] == '-') i = 1;
  size_t digits_end = i;
  while (digits_end < item.size() &&
         absl::ascii_isdigit(static_cast<unsigned char>(item[digits_end]))) {
    ++digits_end;
  }
  const std::optional<absl::Weekday> weekday = ParseWeekday(item.substr(digits_end));
  if (!weekday) {
    return ErrorAt(position, absl::StrFormat("BYDAY value %s is not a weekday (%s)", Quote(item),
                                             kWeekdayList));
  }
  WeekdayNum day{*weekday, 0};
  if (digits_end == i && i == 1) {
    return ErrorAt(position,
                   absl::StrFormat("BYDAY value %s has a sign but no ordinal", Quote(item)));
  }
  if (digits_end > 0) {
    const int64_t ordinal = ParseInteger(item.substr(0, digits_end)).value_or(0);
    if (ordinal == 0 || ordinal < -53 || ordinal > 53) {
      return ErrorAt(
          position, absl::StrFormat("BYDAY value %s has an ordinal out of range (1..53 or -53..-1)",
                                    Quote(item)));
    }
    day.ordinal = static_cast<int>(ordinal);
  }
  return day;
}

absl::StatusOr<CivilSecond> ParseUntil(absl::string_view value, size_t position) {
  if (absl::EndsWithIgnoreCase(value, "Z")) {
    return ErrorAt(position, absl::StrFormat("UNTIL value %s is in UTC; give local time "
                                             "(YYYYMMDDTHHMMSS or YYYYMMDD) without \"Z\"",
                                             Quote(value)));
  }
  const bool date_only = value.size() == 8;
  const bool date_time = value.size() == 15 && (value[8] == 'T' || value[8] == 't');
  bool digits = date_only || date_time;
  for (size_t i = 0; digits && i < value.size(); ++i) {
    digits = i == 8 || absl::ascii_isdigit(static_cast<unsigned char>(value[i]));
  }
  if (!digits) {
    return ErrorAt(position, absl::StrFormat("UNTIL value %s is not a local date-time "
                                             "(YYYYMMDDTHHMMSS or YYYYMMDD)",
                                             Quote(value)));
  }
  const auto field = [&](size_t at, size_t len) {
    return static_cast<int>(ParseInteger(value.substr(at, len)).value_or(0));
  };
  const int year = field(0, 4), month = field(4, 2), day = field(6, 2);
  // A bare date means the whole day is included.
  const int hour = date_only ? 23 : field(9, 2);
  const int minute = date_only ? 59 : field(11, 2);
  const int second = date_only ? 59 : field(13, 2);
  if (year < kMinYear) {
    return ErrorAt(position, UntilYearProblem(Quote(value), CivilSecond(year, 1, 1)));
  }
  if (month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month) || hour > 23 ||
      minute > 59 || second > 59) {
    return ErrorAt(position,
                   absl::StrFormat("UNTIL value %s is not a real date and time", Quote(value)));
  }
  return CivilSecond(year, month, day, hour, minute, second);
}

// ---------------------------------------------------------------------------------------------
// Expansion.

// The Gregorian calendar (weekdays included) repeats every 400 years: 146097 days, which is
// 20871 weeks or 4800 months. A rule's pattern of periods therefore repeats after this many
// periods, and a rule that matched nothing for that long never will.
int64_t CyclePeriods(Frequency freq, int interval) {
  int64_t cycle = 400;
  switch (freq) {
    case Frequency::kDaily:
      cycle = 146097;
      break;
    case Frequency::kWeekly:
      cycle = 20871;
      break;
    case Frequency::kMonthly:
      cycle = 4800;
      break;
    case Frequency::kYearly:
      cycle = 400;
      break;
  }
  return cycle / std::gcd(cycle, static_cast<int64_t>(interval));
}

// Upper bound on periods plus candidate days examined by one Occurrences() call. Counting a
// COUNT rule from year 1 to 9999 day by day stays below it (about 7.3M for DAILY), so it only
// guards termination; it never cuts a legitimate answer short.
constexpr int64_t kWorkBudget = 10'000'000;

// Generates the candidate days of each period (FREQ unit times INTERVAL, numbered from the
// period holding DTSTART) in ascending order. Time of day is applied by the caller.
class DayGenerator {
 public:
  DayGenerator(const RecurrenceRule& rule, CivilSecond dtstart)
      : rule_(rule),
        start_day_(dtstart),
        week0_(start_day_ - (WeekdayIndex(start_day_) - static_cast<int>(rule.week_start) + 7) % 7),
        start_month_(dtstart),
        start_year_(dtstart) {
    month_ok_.fill(rule.by_month.empty());
    for (int month : rule.by_month) month_ok_[month] = true;
    weekday_any_.fill(false);
    for (const WeekdayNum& day : rule.by_day) {
      if (day.ordinal == 0) weekday_any_[static_cast<int>(day.weekday)] = true;
    }
  }

  CivilDay PeriodStart(int64_t k) const {
    const int64_t step = k * rule_.interval;
    switch (rule_.freq) {
      case Frequency::kDaily:
        return start_day_ + step;
      case Frequency::kWeekly:
        return week0_ + 7 * step;
      case Frequency::kMonthly:
        return CivilDay(start_month_ + step);
      case Frequency::kYearly:
        return CivilDay(start_year_ + step);
    }
    return start_day_;
  }

  // Index of the period holding `day` (day >= the DTSTART day).
  int64_t PeriodOf(CivilDay day) const {
    int64_t units = 0;
    switch (rule_.freq) {
      case Frequency::kDaily:
        units = day - start_day_;
        break;
      case Frequency::kWeekly:
        units = (day - week0_) / 7;
        break;
      case Frequency::kMonthly:
        units = CivilMonth(day) - start_month_;
        break;
      case Frequency::kYearly:
        units = CivilYear(day) - start_year_;
        break;
    }
    return units / rule_.interval;
  }

  void Days(int64_t k, std::vector<CivilDay>* days) const {
    const CivilDay start = PeriodStart(k);
    switch (rule_.freq) {
      case Frequency::kDaily:
        if (month_ok_[start.month()] && MonthDayOk(start) &&
            (rule_.by_day.empty() || weekday_any_[WeekdayIndex(start)])) {
          days->push_back(start);
        }
        return;
      case Frequency::kWeekly:
        WeekDays(start, days);
        return;
      case Frequency::kMonthly:
        if (month_ok_[start.month()]) MonthDays(start.year(), start.month(), false, days);
        return;
      case Frequency::kYearly:
        YearDays(start.year(), days);
        return;
    }
  }

 private:
  bool MonthDayOk(CivilDay day) const {
    if (rule_.by_month_day.empty()) return true;
    const int dim = DaysInMonth(day.year(), day.month());
    for (int md : rule_.by_month_day) {
      if (day.day() == (md > 0 ? md : dim + md + 1)) return true;
    }
    return false;
  }

  // BYDAY as a filter on a day that BYMONTHDAY produced; ordinals count within the month, or
  // within the year for YEARLY without BYMONTH.
  bool WeekdayFilterOk(CivilDay day, bool year_scope) const {
    if (rule_.by_day.empty()) return true;
    const int weekday = WeekdayIndex(day);
    int forward, backward;
    if (year_scope) {
      const int yd = absl::GetYearDay(day);
      forward = (yd - 1) / 7 + 1;
      backward = -((DaysInYear(day.year()) - yd) / 7 + 1);
    } else {
      forward = (day.day() - 1) / 7 + 1;
      backward = -((DaysInMonth(day.year(), day.month()) - day.day()) / 7 + 1);
    }
    for (const WeekdayNum& entry : rule_.by_day) {
      if (static_cast<int>(entry.weekday) != weekday) continue;
      if (entry.ordinal == 0 || entry.ordinal == forward || entry.ordinal == backward) {
        return true;
      }
    }
    return false;
  }

  void WeekDays(CivilDay week_start, std::vector<CivilDay>* days) const {
    for (int offset = 0; offset < 7; ++offset) {
      const CivilDay day = week_start + offset;
      const bool weekday_ok = rule_.by_day.empty() ? WeekdayIndex(day) == WeekdayIndex(start_day_)
                                                   : weekday_any_[WeekdayIndex(day)];
      if (weekday_ok && month_ok_[day.month()]) days->push_back(day);
    }
  }

  // Days of one month: BYMONTHDAY (filtered by BYDAY), else BYDAY expanded within the month,
  // else DTSTART's day of the month if this month has it.
  void MonthDays(int64_t year, int month, bool year_scope, std::vector<CivilDay>* days) const {
    const int dim = DaysInMonth(year, month);
    const CivilDay first(year, month, 1);
    std::array<bool, 32> hit{};
    if (!rule_.by_month_day.empty()) {
      for (int md : rule_.by_month_day) {
        const int day = md > 0 ? md : dim + md + 1;
        if (day >= 1 && day <= dim && WeekdayFilterOk(first + (day - 1), year_scope)) {
          hit[day] = true;
        }
      }
    } else if (!rule_.by_day.empty()) {
      const int first_weekday = WeekdayIndex(first);
      const int last_weekday = (first_weekday + dim - 1) % 7;
      for (const WeekdayNum& entry : rule_.by_day) {
        const int weekday = static_cast<int>(entry.weekday);
        const int first_hit = 1 + (weekday - first_weekday + 7) % 7;
        if (entry.ordinal == 0) {
          for (int day = first_hit; day <= dim; day += 7) hit[day] = true;
        } else if (entry.ordinal > 0) {
          const int day = first_hit + 7 * (entry.ordinal - 1);
          if (day <= dim) hit[day] = true;
        } else {
          const int last_hit = dim - (last_weekday - weekday + 7) % 7;
          const int day = last_hit + 7 * (entry.ordinal + 1);
          if (day >= 1) hit[day] = true;
        }
      }
    } else if (start_day_.day() <= dim) {
      hit[start_day_.day()] = true;
    }
    for (int day = 1; day <= dim; ++day) {
      if (hit[day]) days->push_back(first + (day - 1));
    }
  }

  void YearDays(int64_t year, std::vector<CivilDay>* days) const {
    if (rule_.by_month_day.empty() && !rule_.by_day.empty() && rule_.by_month.empty()) {
      YearWideWeekdays(year, days);
      return;
    }
    for (int month = 1; month <= 12; ++month) {
      const bool wanted = !rule_.by_month.empty()       ? month_ok_[month]
                          : !rule_.by_month_day.empty() ? true
                                                        : month == start_day_.month();
      if (wanted) MonthDays(year, month, rule_.by_month.empty(), days);
    }
  }

  // YEARLY BYDAY without BYMONTH or BYMONTHDAY: every such weekday of the year, or the n-th.
  void YearWideWeekdays(int64_t year, std::vector<CivilDay>* days) const {
    const CivilDay jan1(year, 1, 1);
    const int diy = DaysInYear(year);
    const int jan1_weekday = WeekdayIndex(jan1);
    const int dec31_weekday = (jan1_weekday + diy - 1) % 7;
    std::array<bool, 367> hit{};
    for (const WeekdayNum& entry : rule_.by_day) {
      const int weekday = static_cast<int>(entry.weekday);
      const int first_hit = 1 + (weekday - jan1_weekday + 7) % 7;
      if (entry.ordinal == 0) {
        for (int yd = first_hit; yd <= diy; yd += 7) hit[yd] = true;
      } else if (entry.ordinal > 0) {
        const int yd = first_hit + 7 * (entry.ordinal - 1);
        if (yd <= diy) hit[yd] = true;
      } else {
        const int last_hit = diy - (dec31_weekday - weekday + 7) % 7;
        const int yd = last_hit + 7 * (entry.ordinal + 1);
        if (yd >= 1) hit[yd] = true;
      }
    }
    for (int yd = 1; yd <= diy; ++yd) {
      if (hit[yd]) days->push_back(jan1 + (yd - 1));
    }
  }

  const RecurrenceRule& rule_;
  const CivilDay start_day_;
  const CivilDay week0_;  // first day (WKST) of DTSTART's week
  const CivilMonth start_month_;
  const CivilYear start_year_;
  std::array<bool, 13> month_ok_;    // by month number; all true without BYMONTH
  std::array<bool, 7> weekday_any_;  // weekdays given in BYDAY without an ordinal
};

std::vector<int> SortedUnique(std::vector<int> values) {
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  return values;
}

}  // namespace

absl::StatusOr<RecurrenceRule> ParseRule(absl::string_view text) {
  if (text.size() > kMaxRuleLength) {
    return ErrorAt(kMaxRuleLength + 1,
                   absl::StrFormat("rule is longer than %d characters", kMaxRuleLength));
  }
  size_t offset = 0;
  if (absl::StartsWithIgnoreCase(text, "RRULE:")) offset = 6;
  if (offset == text.size()) {
    return ErrorAt(offset + 1, "rule is empty (expected e.g. FREQ=WEEKLY;BYDAY=TU)");
  }

  RecurrenceRule rule;
  std::array<size_t, kNumParts> seen{};  // 1-based position of each part; 0 = not given
  std::vector<std::pair<absl::string_view, size_t>> day_items;  // BYDAY items and positions
  for (bool more = true; more;) {
    const size_t stop = std::min(text.find(';', offset), text.size());
    more = stop < text.size();
    const absl::string_view part_text = text.substr(offset, stop - offset);
    const size_t part_pos = offset + 1;
    offset = stop + 1;
    if (part_text.empty()) {
      return ErrorAt(part_pos, "empty part (\";;\", or \";\" at the start or the end)");
    }
    const size_t eq = part_text.find('=');
    if (eq == absl::string_view::npos) {
      return ErrorAt(part_pos, absl::StrFormat("part %s is not NAME=VALUE", Quote(part_text)));
    }
    const absl::string_view name = part_text.substr(0, eq);
    const absl::string_view value = part_text.substr(eq + 1);
    const size_t value_pos = part_pos + eq + 1;
    const auto known = std::find_if(kPartNames.begin(), kPartNames.end(), [&](auto candidate) {
      return absl::EqualsIgnoreCase(name, candidate);
    });
    if (known == kPartNames.end()) {
      return ErrorAt(part_pos, absl::StrFormat("unknown part %s (supported: %s)", Quote(name),
                                               absl::StrJoin(kPartNames, ", ")));
    }
    const Part part = static_cast<Part>(known - kPartNames.begin());
    if (seen[part] != 0) {
      return ErrorAt(part_pos, absl::StrFormat("duplicate part \"%s\" (first given at position %d)",
                                               kPartNames[part], seen[part]));
    }
    seen[part] = part_pos;
    if (value.empty()) {
      return ErrorAt(value_pos, absl::StrFormat("%s value is empty", kPartNames[part]));
    }

    switch (part) {
      case kFreq: {
        const auto freq =
            std::find_if(kFrequencyNames.begin(), kFrequencyNames.end(),
                         [&](auto candidate) { return absl::EqualsIgnoreCase(value, candidate); });
        if (freq == kFrequencyNames.end()) {
          return ErrorAt(value_pos, absl::StrFormat("FREQ value %s is not one of %s", Quote(value),
                                                    absl::StrJoin(kFrequencyNames, ", ")));
        }
        rule.freq = static_cast<Frequency>(freq - kFrequencyNames.begin());
        break;
      }
      case kInterval: {
        ASSIGN_OR_RETURN(rule.interval, ParseIntValue(part, value, value_pos));
        break;
      }
      case kCount: {
        ASSIGN_OR_RETURN(rule.count, ParseIntValue(part, value, value_pos));
        break;
      }
      case kUntil: {
        ASSIGN_OR_RETURN(rule.until, ParseUntil(value, value_pos));
        break;
      }
      case kByDay:
        RETURN_IF_ERROR(
            ForEachItem(part, value, value_pos, [&](absl::string_view item, size_t position) {
              ASSIGN_OR_RETURN(const WeekdayNum day, ParseWeekdayNum(item, position));
              rule.by_day.push_back(day);
              day_items.emplace_back(item, position);
              return absl::OkStatus();
            }));
        break;
      case kByMonthDay:
        RETURN_IF_ERROR(ParseIntList(part, value, value_pos, &rule.by_month_day));
        break;
      case kByMonth:
        RETURN_IF_ERROR(ParseIntList(part, value, value_pos, &rule.by_month));
        break;
      case kByHour:
        RETURN_IF_ERROR(ParseIntList(part, value, value_pos, &rule.by_hour));
        break;
      case kByMinute:
        RETURN_IF_ERROR(ParseIntList(part, value, value_pos, &rule.by_minute));
        break;
      case kWkst: {
        const std::optional<absl::Weekday> weekday = ParseWeekday(value);
        if (!weekday) {
          return ErrorAt(value_pos, absl::StrFormat("WKST value %s is not a weekday (%s)",
                                                    Quote(value), kWeekdayList));
        }
        rule.week_start = *weekday;
        break;
      }
      case kNumParts:
        break;
    }
  }

  // Checks that need the whole rule.
  if (seen[kFreq] == 0) {
    return ErrorAt(1, "FREQ is required (DAILY, WEEKLY, MONTHLY or YEARLY)");
  }
  if (seen[kCount] != 0 && seen[kUntil] != 0) {
    return ErrorAt(std::max(seen[kCount], seen[kUntil]), kCountWithUntil);
  }
  if (seen[kByMonthDay] != 0 && rule.freq == Frequency::kWeekly) {
    return ErrorAt(seen[kByMonthDay], kMonthDayWithWeekly);
  }
  for (size_t i = 0; i < rule.by_day.size(); ++i) {
    const std::string problem = OrdinalContextProblem(
        Quote(day_items[i].first), rule.by_day[i].ordinal, rule.freq, !rule.by_month.empty());
    if (!problem.empty()) return ErrorAt(day_items[i].second, problem);
  }
  // Everything else ValidateRule checks has been reported with a position above; what is left
  // is the canonical length (reported at position 1, as it is about the rule as a whole).
  if (absl::Status status = ValidateRule(rule); !status.ok()) {
    return ErrorAt(1, status.message());
  }
  return rule;
}

absl::Status ValidateRule(const RecurrenceRule& rule) {
  const auto invalid = [](absl::string_view message) {
    return absl::InvalidArgumentError(message);
  };
  if (!ValidFrequency(rule.freq)) {
    return invalid(absl::StrFormat("FREQ value %d is not one of %s", static_cast<int>(rule.freq),
                                   absl::StrJoin(kFrequencyNames, ", ")));
  }
  const auto check_int = [&](Part part, int64_t value) {
    return IntProblem(part, absl::StrCat(value), value);
  };
  if (std::string p = check_int(kInterval, rule.interval); !p.empty()) return invalid(p);
  if (rule.count) {
    if (std::string p = check_int(kCount, *rule.count); !p.empty()) return invalid(p);
  }
  if (rule.until) {
    if (std::string p = UntilYearProblem(absl::FormatCivilTime(*rule.until), *rule.until);
        !p.empty()) {
      return invalid(p);
    }
  }
  if (rule.count && rule.until) return invalid(kCountWithUntil);
  const std::pair<Part, const std::vector<int>*> lists[] = {{kByMonthDay, &rule.by_month_day},
                                                            {kByMonth, &rule.by_month},
                                                            {kByHour, &rule.by_hour},
                                                            {kByMinute, &rule.by_minute}};
  for (const auto& [part, values] : lists) {
    for (int value : *values) {
      if (std::string p = check_int(part, value); !p.empty()) return invalid(p);
    }
  }
  if (!rule.by_month_day.empty() && rule.freq == Frequency::kWeekly) {
    return invalid(kMonthDayWithWeekly);
  }
  for (const WeekdayNum& day : rule.by_day) {
    if (!ValidWeekday(day.weekday)) {
      return invalid(absl::StrFormat("BYDAY weekday %d is not a weekday (0..6 = %s)",
                                     static_cast<int>(day.weekday), kWeekdayList));
    }
    const std::string shown = Quote(WeekdayNumText(day));
    if (std::string p = OrdinalRangeProblem(shown, day.ordinal); !p.empty()) return invalid(p);
    if (std::string p =
            OrdinalContextProblem(shown, day.ordinal, rule.freq, !rule.by_month.empty());
        !p.empty()) {
      return invalid(p);
    }
  }
  if (!ValidWeekday(rule.week_start)) {
    return invalid(absl::StrFormat("WKST %d is not a weekday (0..6 = %s)",
                                   static_cast<int>(rule.week_start), kWeekdayList));
  }
  // Canonical text can be longer than what was parsed (a bare UNTIL date gains "T235959"), and
  // rules built in code can have long lists; bounding it keeps ParseRule(FormatRule(r)) == r.
  // Every other part together is under 200 characters and each in-range list item takes at most
  // 6 ("-53MO,"), so only rules with long lists are formatted (this runs on every expansion).
  const size_t items = rule.by_day.size() + rule.by_month_day.size() + rule.by_month.size() +
                       rule.by_hour.size() + rule.by_minute.size();
  if (200 + 6 * items <= kMaxRuleLength) return absl::OkStatus();
  if (const size_t length = FormatRule(rule).size(); length > kMaxRuleLength) {
    return invalid(absl::StrFormat("rule is %d characters long in canonical form (limit %d)",
                                   length, kMaxRuleLength));
  }
  return absl::OkStatus();
}

std::string FormatRule(const RecurrenceRule& rule) {
  std::string out = absl::StrCat("FREQ=", FrequencyName(rule.freq));
  if (rule.interval != 1) absl::StrAppend(&out, ";INTERVAL=", rule.interval);
  if (rule.count) absl::StrAppend(&out, ";COUNT=", *rule.count);
  if (rule.until) {
    const CivilSecond& u = *rule.until;
    absl::StrAppend(&out, absl::StrFormat(";UNTIL=%04d%02d%02dT%02d%02d%02d", u.year(), u.month(),
                                          u.day(), u.hour(), u.minute(), u.second()));
  }
  if (!rule.by_month.empty()) absl::StrAppend(&out, ";BYMONTH=", absl::StrJoin(rule.by_month, ","));
  if (!rule.by_month_day.empty()) {
    absl::StrAppend(&out, ";BYMONTHDAY=", absl::StrJoin(rule.by_month_day, ","));
  }
  if (!rule.by_day.empty()) {
    absl::StrAppend(
        &out, ";BYDAY=", absl::StrJoin(rule.by_day, ",", [](std::string* o, const WeekdayNum& day) {
          o->append(WeekdayNumText(day));
        }));
  }
  if (!rule.by_hour.empty()) absl::StrAppend(&out, ";BYHOUR=", absl::StrJoin(rule.by_hour, ","));
  if (!rule.by_minute.empty()) {
    absl::StrAppend(&out, ";BYMINUTE=", absl::StrJoin(rule.by_minute, ","));
  }
  if (rule.week_start != absl::Weekday::monday) {
    absl::StrAppend(&out, ";WKST=", WeekdayCode(rule.week_start));
  }
  return out;
}

std::vector<CivilSecond> Occurrences(const RecurrenceRule& rule, CivilSecond dtstart,
                                     CivilSecond window_start, CivilSecond window_end,
                                     size_t max_results) {
  std::vector<CivilSecond> out;
  if (max_results == 0 || !ValidateRule(rule).ok()) return out;
  if (dtstart.year() < kMinYear || dtstart.year() > kMaxYear) return out;
  // [begin, end): the window cut to what the rule can produce. UNTIL is inclusive.
  CivilSecond end = std::min(window_end, CivilSecond(kMaxYear + 1, 1, 1));
  if (rule.until) end = std::min(end, *rule.until + 1);
  const CivilSecond begin = std::max(window_start, dtstart);
  if (begin >= end) return out;

  // Times of day, ascending, as seconds after midnight.
  const std::vector<int> hours =
      rule.by_hour.empty() ? std::vector<int>{dtstart.hour()} : SortedUnique(rule.by_hour);
  const std::vector<int> minutes =
      rule.by_minute.empty() ? std::vector<int>{dtstart.minute()} : SortedUnique(rule.by_minute);
  std::vector<int> times;
  for (int hour : hours) {
    for (int minute : minutes) times.push_back(hour * 3600 + minute * 60 + dtstart.second());
  }
  const int64_t times_per_day = static_cast<int64_t>(times.size());

  const DayGenerator generator(rule, dtstart);
  const CivilDay first_day(dtstart);
  // COUNT is counted from DTSTART, so only a rule without it may skip ahead to the window.
  int64_t period = rule.count ? 0 : generator.PeriodOf(CivilDay(begin));
  int64_t counted = 0;  // occurrences at or after dtstart so far
  const int64_t cycle = CyclePeriods(rule.freq, rule.interval);
  int64_t empty_periods = 0;
  int64_t budget = kWorkBudget;
  std::vector<CivilDay> days;
  for (;; ++period) {
    if (CivilSecond(generator.PeriodStart(period)) >= end) break;
    days.clear();
    generator.Days(period, &days);
    budget -= 1 + static_cast<int64_t>(days.size());
    if (budget < 0) break;
    bool matched = false;
    for (const CivilDay day : days) {
      if (day < first_day) continue;
      const CivilSecond midnight(day);
      if (day > first_day && midnight + times.back() < begin) {
        // The whole day is before the window: it only matters for COUNT.
        matched = true;
        if (rule.count && counted + times_per_day >= *rule.count) return out;
        counted += times_per_day;
        continue;
      }
      for (const int time : times) {
        const CivilSecond at = midnight + time;
        if (at < dtstart) continue;
        matched = true;
        if (at >= end) return out;
        if (rule.count && counted >= *rule.count) return out;
        ++counted;
        if (at >= begin) {
          out.push_back(at);
          if (out.size() >= max_results) return out;
        }
      }
    }
    empty_periods = matched ? 0 : empty_periods + 1;
    // More than a whole calendar cycle without a match (the first period may be cut by
    // DTSTART, hence "more than"): the rule can never match again.
    if (empty_periods > cycle) break;
  }
  return out;
}

absl::Status ValidateSchedule(const Schedule& schedule) {
  RETURN_IF_ERROR(ValidateRule(schedule.rule));
  if (schedule.dtstart.year() < kMinYear || schedule.dtstart.year() > kMaxYear) {
    return absl::InvalidArgumentError(absl::StrFormat("dtstart %s is outside years %d..%d",
                                                      absl::FormatCivilTime(schedule.dtstart),
                                                      kMinYear, kMaxYear));
  }
  if (schedule.duration < absl::Seconds(1) || schedule.duration > absl::Hours(366 * 24)) {
    return absl::InvalidArgumentError(absl::StrFormat("duration %s is outside 1s..366 days",
                                                      absl::FormatDuration(schedule.duration)));
  }
  return absl::OkStatus();
}

std::vector<Interval> Expand(const Schedule& schedule, CivilSecond from, CivilSecond to,
                             size_t max) {
  std::vector<Interval> out;
  if (max == 0 || from >= to || !ValidateSchedule(schedule).ok()) return out;
  // Occurrences live in years 1..9999; clamping keeps the arithmetic below far from overflow.
  from = std::max(from, CivilSecond(kMinYear - 1, 1, 1));
  to = std::min(to, CivilSecond(kMaxYear + 1, 1, 1));
  if (from >= to) return out;
  const int64_t seconds = absl::ToInt64Seconds(schedule.duration);
  // An occurrence that started up to `seconds` before `from` is still running at `from`, except
  // one that ends exactly there; ask for one more to make up for it.
  const size_t wanted = std::min(max, std::numeric_limits<size_t>::max() - 1) + 1;
  for (const CivilSecond start :
       Occurrences(schedule.rule, schedule.dtstart, from - seconds, to, wanted)) {
    const Interval interval{start, start + seconds};
    if (interval.end <= from) continue;
    out.push_back(interval);
    if (out.size() >= max) break;
  }
  return out;
}

bool Covers(const Schedule& schedule, CivilSecond start, absl::Duration length) {
  if (length < absl::ZeroDuration() || !ValidateSchedule(schedule).ok()) return false;
  if (start.year() < kMinYear - 1 || start.year() > kMaxYear + 1) return false;
  const int64_t duration = absl::ToInt64Seconds(schedule.duration);
  // A zero length still needs the instant `start` itself, i.e. one second of civil time.
  const int64_t needed =
      std::max<int64_t>(1, absl::ToInt64Seconds(absl::Ceil(length, absl::Seconds(1))));
  if (needed > duration) return false;
  // An occurrence o covers the span iff o <= start and start + needed <= o + duration.
  return !Occurrences(schedule.rule, schedule.dtstart, start + (needed - duration), start + 1, 1)
              .empty();
}

absl::TimeZone ShanghaiTimeZone() {
  static const absl::TimeZone zone = [] {
    absl::TimeZone tz;
    if (absl::LoadTimeZone("Asia/Shanghai", &tz)) return tz;
    return absl::FixedTimeZone(8 * 3600);
  }();
  return zone;
}

TimeInterval ToTimeInterval(const Interval& interval, absl::TimeZone tz) {
  return TimeInterval{absl::FromCivil(interval.start, tz), absl::FromCivil(interval.end, tz)};
}

bool CoversTime(const Schedule& schedule, absl::Time start, absl::Duration length,
                absl::TimeZone tz) {
  if (length < absl::ZeroDuration() || start == absl::InfiniteFuture() ||
      start == absl::InfinitePast()) {
    return false;
  }
  const CivilSecond civil = absl::ToCivilSecond(start, tz);
  // The sub-second part of `start` lengthens the span that has to be covered.
  const absl::Duration fraction = start - absl::FromCivil(civil, tz);
  return Covers(schedule, civil, length + fraction);
}

std::ostream& operator<<(std::ostream& os, const WeekdayNum& day) {
  return os << WeekdayNumText(day);
}

std::ostream& operator<<(std::ostream& os, const RecurrenceRule& rule) {
  return os << FormatRule(rule);
}

std::ostream& operator<<(std::ostream& os, const Interval& interval) {
  return os << "[" << interval.start << ", " << interval.end << ")";
}

}  // namespace linli::recurrence
