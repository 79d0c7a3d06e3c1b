// The booking use cases: assigning a worker to a visit, unassigning one, swapping the workers of
// two visits and releasing a worker who cannot work (their visits of a period are to be planned
// again). Each is idempotent by request_id, runs in one transaction and books through BookOnVisit
// (booking.h), so the database's slot keys decide overlaps. No gRPC: requests arrive validated
// by the adapter (scheduling_booking.cc), visit names as ids.
#ifndef LINLI_SERVICES_SCHEDULING_BOOKING_USE_CASES_H_
#define LINLI_SERVICES_SCHEDULING_BOOKING_USE_CASES_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "common/clock.h"
#include "common/storage/database.h"
#include "linli/registry/v1/registry.pb.h"
#include "linli/scheduling/v1/scheduling.pb.h"
#include "services/scheduling/registry_view.h"

namespace linli::scheduling {

// The worker from the registry: INVALID_ARGUMENT naming `field` when unknown,
// FAILED_PRECONDITION when not active, the registry's failure when it cannot be asked.
absl::StatusOr<registry::v1::Worker> ActiveWorker(RegistryView& registry, const std::string& name,
                                                  const std::string& field);

// Books request.worker on visit `id` from request.start (default: when the window opens).
absl::Status AssignVisit(storage::Database& db, const Clock& clock, RegistryView& registry,
                         const std::string& id, const v1::AssignVisitRequest& request,
                         v1::AssignVisitResponse* response);

// Frees request.worker's booking on visit `id`, with the reason.
absl::Status UnassignVisit(storage::Database& db, const Clock& clock, const std::string& id,
                           const v1::UnassignVisitRequest& request,
                           v1::UnassignVisitResponse* response);

// Moves request.first_worker from visit `first_id` to `second_id` and request.second_worker the
// other way, each at the start the other had.
absl::Status SwapVisitWorkers(storage::Database& db, const Clock& clock, RegistryView& registry,
                              const std::string& first_id, const std::string& second_id,
                              const v1::SwapVisitWorkersRequest& request,
                              v1::SwapVisitWorkersResponse* response);

// Frees request.worker's bookings on the scheduled visits of request.days from `from`; the
// released visits in time order.
absl::Status ReleaseWorker(storage::Database& db, const Clock& clock, absl::CivilDay from,
                           const v1::ReleaseWorkerRequest& request,
                           v1::ReleaseWorkerResponse* response);

}  // namespace linli::scheduling

#endif  // LINLI_SERVICES_SCHEDULING_BOOKING_USE_CASES_H_
