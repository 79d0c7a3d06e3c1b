// Verification exceptions reviewed, as electronic-visit-verification practice does. A visit
// completed with an exception that weakens the evidence that it happened as promised (outside the
// geofence, no location, too short, a stand-in worker, one worker of two missing, reported by the
// provider's own system) is "verified with exception": its review is PENDING, and it counts as
// kept only once a supervisor approves it with a reason code; rejected, it counts as broken.
// Lateness alone is not reviewed (it is counted as punctuality). Pure C++ over the visit.
#ifndef LINLI_SERVICES_SCHEDULING_VISIT_REVIEW_H_
#define LINLI_SERVICES_SCHEDULING_VISIT_REVIEW_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "linli/scheduling/v1/scheduling.pb.h"

namespace linli::scheduling {

// The visit's exceptions that need a review, in the order the visit lists them.
std::vector<std::string> ExceptionsNeedingReview(const v1::Visit& visit);

// On completion: opens the review (PENDING, with those exceptions) when there is any.
void OpenReviewIfNeeded(v1::Visit& visit);

// The reason codes a decision takes.
const std::vector<std::string>& ApprovalReasons();
const std::vector<std::string>& RejectionReasons();

// INVALID_ARGUMENT naming the field: the decision, a reason code the decision does not take, a
// note over 500 characters.
absl::Status ValidateReview(const v1::ReviewVisitRequest& request);

// Records the decision of `reviewer` at `now` on `visit`: FAILED_PRECONDITION unless the visit's
// review is PENDING (a visit without exception has nothing to review; a decision is final).
absl::Status ApplyReview(const v1::ReviewVisitRequest& request, const std::string& reviewer,
                         absl::Time now, v1::Visit& visit);

}  // namespace linli::scheduling

#endif  // LINLI_SERVICES_SCHEDULING_VISIT_REVIEW_H_
