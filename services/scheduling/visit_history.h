// A past visit as a provider's own records tell it (SchedulingService.ImportVisits): what a row
// must say, and the replay of its checks on the visit of its occurrence by the rules live
// check-ins and check-outs follow (visit_check.h), at the times recorded. Pure C++ over the
// messages; the use case (visit_history_use_case.h) finds the promise and the visit and stores
// the outcome with its event.
//
//   RETURN_IF_ERROR(ValidateImportedVisit(row, now));
//   ... v1::Visit visit = NewVisit(commitment, occurrence, name);   // or the scheduled one
//   ASSIGN_OR_RETURN(std::string event, ReplayVisit(row, radius, visit));
#ifndef LINLI_SERVICES_SCHEDULING_VISIT_HISTORY_H_
#define LINLI_SERVICES_SCHEDULING_VISIT_HISTORY_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "linli/scheduling/v1/scheduling.pb.h"

namespace linli::scheduling {

// How far from its window an imported arrival may lie: a record further off is of another visit.
inline constexpr absl::Duration kHistoryArrivalSlack = absl::Hours(12);

// INVALID_ARGUMENT listing the bad fields of `row` (as "visit.occurrence",
// "visit.attendance[1].check_out_time"): the promise's name (or its elder, service type and
// owner), the occurrence's form, the outcome
// (completed with one attendance per worker, each arriving before leaving and both before `now`;
// missed without any; cancelled with a reason code).
absl::Status ValidateImportedVisit(const v1::ImportedVisit& row, absl::Time now);

// Whether `row` names its promise by elder, service type and owner (as a roster does) rather
// than by the promise's name.
bool NamesPromiseByKey(const v1::ImportedVisit& row);

// The promise a row naming it by elder, service type and owner means, among `promises` (the
// elder's): one of that service type and owner whose recurrence has the row's occurrence; of
// several, one not cancelled before a cancelled one, then the latest to start. nullptr for none.
const v1::Commitment* PromiseOfOccurrence(const std::vector<v1::Commitment>& promises,
                                          const v1::ImportedVisit& row);

// Replays `row` on `visit` (scheduled, of the row's occurrence): the attendances' check-ins and
// check-outs in the order of their times, by ApplyCheckIn/ApplyCheckOut (a worker not booked on a
// staffed visit stands in, WORKER_NOT_PLANNED), so the visit records the exceptions a live check
// would; or marks it missed or cancelled. Returns the event to record ("visit.completed",
// "visit.missed", "visit.cancelled"). INVALID_ARGUMENT naming the field when the row does not fit
// the visit (more workers than it needs, an arrival far from its window, a worker arriving after
// the visit was over).
absl::StatusOr<std::string> ReplayVisit(const v1::ImportedVisit& row, double geofence_radius_m,
                                        v1::Visit& visit);

}  // namespace linli::scheduling

#endif  // LINLI_SERVICES_SCHEDULING_VISIT_HISTORY_H_
