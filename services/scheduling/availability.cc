#include "services/scheduling/availability.h"

#include <algorithm>

#include "absl/status/statusor.h"

namespace linli::scheduling {

std::vector<recurrence::TimeInterval> WorkingIntervals(const registry::v1::Worker& worker,
                                                       absl::CivilDay first, int days) {
  const absl::TimeZone tz = recurrence::ShanghaiTimeZone();
  std::vector<recurrence::TimeInterval> intervals;
  auto add = [&](recurrence::TimeInterval t) {
    if (t.end <= t.start) return;
    if (!intervals.empty() && t.start <= intervals.back().end) {
      intervals.back().end = std::max(intervals.back().end, t.end);
    } else {
      intervals.push_back(t);
    }
  };
  if (worker.has_availability() && !worker.availability().rrule().empty()) {
    absl::StatusOr<recurrence::RecurrenceRule> rule =
        recurrence::ParseRule(worker.availability().rrule());
    absl::CivilSecond dtstart;
    if (rule.ok() && absl::ParseCivilTime(worker.availability().dtstart(), &dtstart)) {
      const recurrence::Schedule schedule{*rule, dtstart,
                                          absl::Minutes(worker.availability().duration_minutes())};
      for (const recurrence::Interval& i : recurrence::Expand(
               schedule, absl::CivilSecond(first), absl::CivilSecond(first + days), 64)) {
        add(recurrence::ToTimeInterval(i, tz));
      }
      return intervals;
    }
  }
  for (int d = 0; d < days; ++d) {
    const absl::Time day = absl::FromCivil(first + d, tz);
    add({day + absl::Hours(kDefaultShiftStartHour), day + absl::Hours(kDefaultShiftEndHour)});
  }
  return intervals;
}

bool WithinAvailability(const registry::v1::Worker& worker, absl::Time start, absl::Time end) {
  // A shift that covers `start` began at most a day earlier (overnight shifts included); the
  // next day's shifts too, so that a visit across midnight of a worker whose shifts touch there
  // (on all day, every day) lies within their merged interval.
  const absl::CivilDay day = absl::ToCivilDay(start, recurrence::ShanghaiTimeZone());
  for (const recurrence::TimeInterval& i : WorkingIntervals(worker, day - 1, 3)) {
    if (i.start <= start && end <= i.end) return true;
  }
  return false;
}

}  // namespace linli::scheduling
