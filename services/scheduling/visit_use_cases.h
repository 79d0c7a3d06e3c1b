// The single-visit use cases that change a visit's plan, and the sweep of visits nobody came to.
// Each runs in one transaction with its outbox events (visit_rules.h, visit_check.h for the
// rules). No gRPC: requests arrive validated by the adapter, visit names as ids.
#ifndef LINLI_SERVICES_SCHEDULING_VISIT_USE_CASES_H_
#define LINLI_SERVICES_SCHEDULING_VISIT_USE_CASES_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/storage/database.h"
#include "linli/scheduling/v1/scheduling.pb.h"

namespace linli::scheduling {

// Cancels scheduled visit `id` with its reason; its workers are free again. Idempotent.
// Records `reviewer`'s decision on the completed visit `id` (visit_review.h), with the event
// "visit.reviewed"; once per request_id.
absl::Status ReviewVisit(storage::Database& db, const Clock& clock, const std::string& id,
                         const v1::ReviewVisitRequest& request, const std::string& reviewer,
                         v1::ReviewVisitResponse* response);
absl::Status CancelVisit(storage::Database& db, const Clock& clock, const std::string& id,
                         const v1::CancelVisitRequest& request, v1::CancelVisitResponse* response);

// Moves scheduled visit `id`'s window to open at `new_start`; its bookings are freed (it is to
// be planned again). Idempotent.
absl::Status RescheduleVisit(storage::Database& db, const Clock& clock, const std::string& id,
                             absl::Time new_start, const v1::RescheduleVisitRequest& request,
                             v1::RescheduleVisitResponse* response);

// Marks scheduled visits whose window plus tolerance has passed as missed, page by page (one
// transaction each), with a visit.missed and a commitment.at_risk event each; returns how many.
// Safe with several replicas sweeping at once: each visit is marked once.
absl::StatusOr<int> SweepMissedVisits(storage::Database& db, const Clock& clock);

}  // namespace linli::scheduling

#endif  // LINLI_SERVICES_SCHEDULING_VISIT_USE_CASES_H_
