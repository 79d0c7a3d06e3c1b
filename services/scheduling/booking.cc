#include "services/scheduling/booking.h"

#include "common/status_macros.h"
#include "services/scheduling/scheduling_store.h"
#include "services/scheduling/staffing.h"

namespace linli::scheduling {

absl::Status BookOnVisit(storage::Transaction& tx, v1::Visit& visit, const std::string& visit_id,
                         const registry::v1::Worker& worker, absl::Time start,
                         const std::string& source, const std::string& field,
                         bool check_availability) {
  RETURN_IF_ERROR(CheckRoomFor(visit, worker.name(), field));
  ASSIGN_OR_RETURN(auto commitment, FindCommitment(tx, visit.commitment().substr(12)));
  if (!commitment.has_value()) return absl::InternalError(visit.commitment() + " is missing");
  RETURN_IF_ERROR(CheckWorkerFits(visit, *commitment, worker, start, field, check_availability));
  RETURN_IF_ERROR(BookWorker(tx, worker.name(), visit_id, start,
                             start + absl::Minutes(visit.duration_minutes())));
  AddAssignment(visit, worker.name(), start, source);
  return absl::OkStatus();
}

}  // namespace linli::scheduling
