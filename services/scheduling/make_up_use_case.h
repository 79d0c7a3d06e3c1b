// Making good a missed visit (SchedulingService.MakeUpVisit): the proposals (dry run) or the
// booked make-up visit. Reads the missed visit and its promise, asks the registry for the
// owner's workers, and books through BookOnVisit, so the same rules as any booking hold (skills,
// working hours, no overlap). A declined make-up (DeclineMakeUp) is not booked. No gRPC: the
// request arrives validated (scheduling_make_up.cc).
#ifndef LINLI_SERVICES_SCHEDULING_MAKE_UP_USE_CASE_H_
#define LINLI_SERVICES_SCHEDULING_MAKE_UP_USE_CASE_H_

#include <string>

#include "absl/status/status.h"
#include "common/clock.h"
#include "common/storage/database.h"
#include "linli/scheduling/v1/scheduling.pb.h"
#include "services/scheduling/registry_view.h"

namespace linli::scheduling {

// FAILED_PRECONDITION when the visit is not missed, its promise is no longer active, or the
// owner has nobody free in the days looked at; ALREADY_EXISTS when it was made up already;
// INVALID_ARGUMENT (window_start) for a window that is not one of the proposals' days and times.
absl::Status MakeUpVisit(storage::Database& db, const Clock& clock, RegistryView& registry,
                         const std::string& missed_id, const v1::MakeUpVisitRequest& request,
                         v1::MakeUpVisitResponse* response);

// Records the decline of a missed visit's make-up by `by` (the caller): see
// SchedulingService.DeclineMakeUp. FAILED_PRECONDITION when the visit is not missed, its promise
// is no longer active, or it was made up; a visit declined before is returned unchanged.
absl::Status DeclineMakeUp(storage::Database& db, const Clock& clock, const std::string& missed_id,
                           const v1::DeclineMakeUpRequest& request, const std::string& by,
                           v1::DeclineMakeUpResponse* response);

}  // namespace linli::scheduling

#endif  // LINLI_SERVICES_SCHEDULING_MAKE_UP_USE_CASE_H_
