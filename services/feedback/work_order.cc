#include "services/feedback/work_order.h"

#include "absl/strings/str_cat.h"

namespace linli::feedback {

absl::Status CheckTransition(v1::WorkOrderState from, v1::WorkOrderState to) {
  bool ok = false;
  switch (to) {
    case v1::WORK_ORDER_STATE_CLASSIFIED:
      ok = from == v1::WORK_ORDER_STATE_ACCEPTED;
      break;
    case v1::WORK_ORDER_STATE_ROUTED:
      ok = from == v1::WORK_ORDER_STATE_CLASSIFIED;
      break;
    case v1::WORK_ORDER_STATE_ESCALATED:
      ok = from == v1::WORK_ORDER_STATE_CLASSIFIED || from == v1::WORK_ORDER_STATE_ROUTED;
      break;
    case v1::WORK_ORDER_STATE_RESOLVED:
      ok = from == v1::WORK_ORDER_STATE_ROUTED || from == v1::WORK_ORDER_STATE_ESCALATED;
      break;
    case v1::WORK_ORDER_STATE_CALLED_BACK:
      ok = from == v1::WORK_ORDER_STATE_RESOLVED;
      break;
    case v1::WORK_ORDER_STATE_CLOSED:
      ok = from == v1::WORK_ORDER_STATE_CALLED_BACK;
      break;
    default:
      ok = false;
  }
  if (ok) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat("work order is ", v1::WorkOrderState_Name(from),
                                                    "; cannot go to ",
                                                    v1::WorkOrderState_Name(to)));
}

absl::Duration DeadlineFor(v1::WorkOrderCategory category) {
  switch (category) {
    case v1::WORK_ORDER_CATEGORY_SAFETY:
      return absl::Hours(24);
    case v1::WORK_ORDER_CATEGORY_MISSED_VISIT:
      return absl::Hours(72);
    case v1::WORK_ORDER_CATEGORY_SERVICE_QUALITY:
    case v1::WORK_ORDER_CATEGORY_ATTITUDE:
      return absl::Hours(120);
    default:
      return absl::Hours(168);
  }
}

bool IsOverdue(v1::WorkOrderState state, absl::Time deadline, absl::Time now) {
  return (state == v1::WORK_ORDER_STATE_CLASSIFIED || state == v1::WORK_ORDER_STATE_ROUTED) &&
         now > deadline;
}

}  // namespace linli::feedback
