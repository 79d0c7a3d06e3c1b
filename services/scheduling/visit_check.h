// Electronic visit verification as rules over the visit: who may check in to or out of a visit
// and when, what each check records (who, when, coarsened where, how), and the exceptions it
// raises (EARLY_ARRIVAL, LATE_ARRIVAL, OVERRUN, SHORT_VISIT, NO_LOCATION, OUTSIDE_GEOFENCE,
// OUTSIDE_GEOFENCE_AT_CHECK_OUT, WORKER_NOT_PLANNED, WORKER_MISSING, PARTNER_REPORTED); and when a
// visit nobody came to is missed. Pure C++; SchedulingServiceImpl::CheckIn/CheckOut store the
// result through the group commit.
//
//   ASSIGN_OR_RETURN(std::string id, ValidateCheckIn(request));
//   ... in the visit's transaction: RETURN_IF_ERROR(ApplyCheckIn(request, now, radius, visit));
#ifndef LINLI_SERVICES_SCHEDULING_VISIT_CHECK_H_
#define LINLI_SERVICES_SCHEDULING_VISIT_CHECK_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "linli/scheduling/v1/scheduling.pb.h"

namespace linli::scheduling {

// Largest distance between a point and its 0.001-degree rounding at Shanghai's latitude: the
// home scheduling knows is the registry's masked location, so this is added to the geofence.
inline constexpr double kGeofenceRoundingSlackMeters = 80;

// INVALID_ARGUMENT listing the bad fields of a check-in/out (visit and worker names, method,
// location); otherwise the visit's id.
absl::StatusOr<std::string> ValidateCheckIn(const v1::CheckInVisitRequest& request);
absl::StatusOr<std::string> ValidateCheckOut(const v1::CheckOutVisitRequest& request);

// Checks `request`'s worker in to `visit` at `now`: the first arrival starts a scheduled visit,
// the others of a two-worker visit join it in progress. A staffed visit is checked into by a
// booked worker or a declared substitute (WORKER_NOT_PLANNED). FAILED_PRECONDITION when the
// visit's state or team does not allow it. `geofence_radius_m` around the elder's home.
absl::Status ApplyCheckIn(const v1::CheckInVisitRequest& request, absl::Time now,
                          double geofence_radius_m, v1::Visit& visit);

// Checks `request`'s worker out of the in-progress `visit` at `now`; returns the outbox event:
// "visit.worker_checked_out" while someone of the team is still there, else "visit.completed"
// (the visit is completed). FAILED_PRECONDITION when the worker did not check in, already checked
// out, or the time is before the check-in.
absl::StatusOr<std::string> ApplyCheckOut(const v1::CheckOutVisitRequest& request, absl::Time now,
                                          double geofence_radius_m, v1::Visit& visit);

// Whether a scheduled visit nobody came to is missed at `now`: its window and tolerance passed.
bool IsMissed(const v1::Visit& visit, absl::Time now);

}  // namespace linli::scheduling

#endif  // LINLI_SERVICES_SCHEDULING_VISIT_CHECK_H_
