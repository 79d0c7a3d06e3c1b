// When a worker works: the registry's availability schedule (a recurrence of shifts), or, for a
// worker without one, 08:00-20:00 Shanghai time every day. The planner plans within these
// intervals and manual bookings are checked against them.
#ifndef LINLI_SERVICES_SCHEDULING_AVAILABILITY_H_
#define LINLI_SERVICES_SCHEDULING_AVAILABILITY_H_

#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/recurrence/rrule.h"
#include "linli/registry/v1/registry.pb.h"

namespace linli::scheduling {

// Working hours of a worker without an availability schedule, local time.
inline constexpr int kDefaultShiftStartHour = 8;
inline constexpr int kDefaultShiftEndHour = 20;

// The worker's working intervals that start on the `days` days from `first` (Shanghai dates),
// in time order, overlapping and touching intervals merged. An availability schedule that does
// not parse counts as no schedule.
std::vector<recurrence::TimeInterval> WorkingIntervals(const registry::v1::Worker& worker,
                                                       absl::CivilDay first, int days);

// Whether [start, end) lies within one working interval of the worker.
bool WithinAvailability(const registry::v1::Worker& worker, absl::Time start, absl::Time end);

}  // namespace linli::scheduling

#endif  // LINLI_SERVICES_SCHEDULING_AVAILABILITY_H_
