// The 12345 flow of a work order (工单), pure C++: which step may follow which, and the deadline a
// category implies.
//
//   accept -> classify -> route -> [escalate when overdue] -> resolve -> callback (回访) -> close
#ifndef LINLI_SERVICES_FEEDBACK_WORK_ORDER_H_
#define LINLI_SERVICES_FEEDBACK_WORK_ORDER_H_

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "linli/feedback/v1/feedback.pb.h"

namespace linli::feedback {

// OK when `to` may follow `from`; FAILED_PRECONDITION naming both otherwise.
absl::Status CheckTransition(v1::WorkOrderState from, v1::WorkOrderState to);

// How long the responsible organisation has from acceptance: safety 24 h, missed visit 3 days,
// service quality and attitude 5 days, other 7 days.
absl::Duration DeadlineFor(v1::WorkOrderCategory category);

// Whether a work order in `state` with `deadline` is overdue at `now` (still waiting for an
// answer, not yet escalated).
bool IsOverdue(v1::WorkOrderState state, absl::Time deadline, absl::Time now);

}  // namespace linli::feedback

#endif  // LINLI_SERVICES_FEEDBACK_WORK_ORDER_H_
