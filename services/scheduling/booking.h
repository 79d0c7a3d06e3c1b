// Booking a worker on a visit, the one rule set shared by AssignVisit, SwapVisitWorkers and Plan:
// the worker is not already on the visit, the visit is not fully staffed, the worker has the
// commitment's required skills, works then (unless the caller waives it), and the database
// accepts the slots (no overlap).
#ifndef LINLI_SERVICES_SCHEDULING_BOOKING_H_
#define LINLI_SERVICES_SCHEDULING_BOOKING_H_

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/storage/database.h"
#include "linli/registry/v1/registry.pb.h"
#include "linli/scheduling/v1/scheduling.pb.h"

namespace linli::scheduling {

// Books `worker` on `visit` (id `visit_id`) from `start` for the visit's duration and adds the
// assignment with `source` ("manual", "swap", "plans/…"). Errors name `field`. With
// `check_availability`, a visit outside the worker's working intervals (availability.h) is
// FAILED_PRECONDITION with ERROR_REASON_WORKER_UNAVAILABLE.
absl::Status BookOnVisit(storage::Transaction& tx, v1::Visit& visit, const std::string& visit_id,
                         const registry::v1::Worker& worker, absl::Time start,
                         const std::string& source, const std::string& field,
                         bool check_availability);

}  // namespace linli::scheduling

#endif  // LINLI_SERVICES_SCHEDULING_BOOKING_H_
