// The 12345 flow of a work order (工单), pure C++ (no gRPC, no SQL): which step may follow which,
// the deadline a category implies, what each step changes and how it is kept in the history, and
// the complaint figures of a set of work orders.
//
//   accept -> classify -> route -> [escalate when overdue] -> resolve -> callback (回访) -> close
//
//   v1::WorkOrder order =
//       AcceptWorkOrder(in, "workOrders/1", "commitments/c", "elders/e", "staff", now);
//   RETURN_IF_ERROR(ClassifyWorkOrder(order, v1::WORK_ORDER_CATEGORY_SAFETY, step));
//
// A step out of order is FAILED_PRECONDITION and leaves the work order as it was.
#ifndef LINLI_SERVICES_FEEDBACK_WORK_ORDER_H_
#define LINLI_SERVICES_FEEDBACK_WORK_ORDER_H_

#include <string>
#include <vector>

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

// Who takes a step, when, and the note kept with it in the history.
struct WorkOrderStep {
  std::string actor;
  absl::Time time;
  std::string note;
};

// A new work order, ACCEPTED from `actor` at `now`: source, external reference, visit and
// description come from `in`; the first entry of its history says where it came from.
v1::WorkOrder AcceptWorkOrder(const v1::WorkOrder& in, const std::string& name,
                              const std::string& commitment, const std::string& elder,
                              const std::string& actor, absl::Time now);

// The steps of the flow. Each checks that it may follow the current state, makes its change,
// records itself in the history and moves the state.
//
// Classify: the category, and the deadline it implies counted from acceptance.
absl::Status ClassifyWorkOrder(v1::WorkOrder& order, v1::WorkOrderCategory category,
                               const WorkOrderStep& step);
// Route: the organisation that answers for it and the one that supervises.
absl::Status RouteWorkOrder(v1::WorkOrder& order, const std::string& responsible,
                            const std::string& supervising, const WorkOrderStep& step);
// Resolve: the resolution (also the step's note), and whether it came by the deadline.
absl::Status ResolveWorkOrder(v1::WorkOrder& order, const std::string& resolution,
                              const WorkOrderStep& step);
// Callback (回访): the elder's satisfaction, 1-5.
absl::Status RecordWorkOrderCallback(v1::WorkOrder& order, int satisfaction,
                                     const WorkOrderStep& step);
absl::Status CloseWorkOrder(v1::WorkOrder& order, const WorkOrderStep& step);

// Escalates `order` to `target` (the street's service office, "" when there is none) when it is
// overdue at `now`, as the system; false, leaving it unchanged, when it is not overdue.
bool EscalateIfOverdue(v1::WorkOrder& order, const std::string& target, absl::Time now);

// Whether the work order has been answered (resolved, called back or closed).
bool IsResolved(v1::WorkOrderState state);

// The complaint figures of an evaluation report over `orders`.
v1::ComplaintFigures SummariseComplaints(const std::vector<v1::WorkOrder>& orders);

}  // namespace linli::feedback

#endif  // LINLI_SERVICES_FEEDBACK_WORK_ORDER_H_
