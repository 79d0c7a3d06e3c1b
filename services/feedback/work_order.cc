#include "services/feedback/work_order.h"

#include "absl/strings/str_cat.h"
#include "common/proto_time.h"
#include "common/status_macros.h"

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

namespace {

// Records `step` (from the current state to `to`) in the history and moves the state.
void Record(v1::WorkOrder& order, v1::WorkOrderState to, const WorkOrderStep& step) {
  v1::WorkOrderTransition* t = order.add_history();
  t->set_from_state(order.state());
  t->set_to_state(to);
  t->set_actor(step.actor);
  *t->mutable_time() = ToTimestamp(step.time);
  t->set_note(step.note);
  order.set_state(to);
}

}  // namespace

v1::WorkOrder AcceptWorkOrder(const v1::WorkOrder& in, const std::string& name,
                              const std::string& commitment, const std::string& elder,
                              const std::string& actor, absl::Time now) {
  v1::WorkOrder order;
  order.set_name(name);
  order.set_source(in.source());
  order.set_external_reference(in.external_reference());
  order.set_commitment(commitment);
  order.set_visit(in.visit());
  order.set_elder(elder);
  order.set_description(in.description());
  order.set_state(v1::WORK_ORDER_STATE_ACCEPTED);
  *order.mutable_create_time() = ToTimestamp(now);
  // The first entry has no from_state: the work order did not exist before.
  v1::WorkOrderTransition* t = order.add_history();
  t->set_to_state(v1::WORK_ORDER_STATE_ACCEPTED);
  t->set_actor(actor);
  *t->mutable_time() = ToTimestamp(now);
  t->set_note(absl::StrCat("accepted from ", v1::WorkOrderSource_Name(in.source())));
  return order;
}

absl::Status ClassifyWorkOrder(v1::WorkOrder& order, v1::WorkOrderCategory category,
                               const WorkOrderStep& step) {
  RETURN_IF_ERROR(CheckTransition(order.state(), v1::WORK_ORDER_STATE_CLASSIFIED));
  order.set_category(category);
  *order.mutable_deadline() =
      ToTimestamp(FromTimestamp(order.create_time()) + DeadlineFor(category));
  Record(order, v1::WORK_ORDER_STATE_CLASSIFIED, step);
  return absl::OkStatus();
}

absl::Status RouteWorkOrder(v1::WorkOrder& order, const std::string& responsible,
                            const std::string& supervising, const WorkOrderStep& step) {
  RETURN_IF_ERROR(CheckTransition(order.state(), v1::WORK_ORDER_STATE_ROUTED));
  order.set_responsible_organisation(responsible);
  order.set_supervising_organisation(supervising);
  Record(order, v1::WORK_ORDER_STATE_ROUTED, step);
  return absl::OkStatus();
}

absl::Status ResolveWorkOrder(v1::WorkOrder& order, const std::string& resolution,
                              const WorkOrderStep& step) {
  RETURN_IF_ERROR(CheckTransition(order.state(), v1::WORK_ORDER_STATE_RESOLVED));
  order.set_resolution(resolution);
  order.set_resolved_in_time(step.time <= FromTimestamp(order.deadline()));
  Record(order, v1::WORK_ORDER_STATE_RESOLVED, step);
  return absl::OkStatus();
}

absl::Status RecordWorkOrderCallback(v1::WorkOrder& order, int satisfaction,
                                     const WorkOrderStep& step) {
  RETURN_IF_ERROR(CheckTransition(order.state(), v1::WORK_ORDER_STATE_CALLED_BACK));
  order.set_satisfaction(satisfaction);
  Record(order, v1::WORK_ORDER_STATE_CALLED_BACK, step);
  return absl::OkStatus();
}

absl::Status CloseWorkOrder(v1::WorkOrder& order, const WorkOrderStep& step) {
  RETURN_IF_ERROR(CheckTransition(order.state(), v1::WORK_ORDER_STATE_CLOSED));
  Record(order, v1::WORK_ORDER_STATE_CLOSED, step);
  return absl::OkStatus();
}

bool EscalateIfOverdue(v1::WorkOrder& order, const std::string& target, absl::Time now) {
  const absl::Time deadline = FromTimestamp(order.deadline());
  if (!IsOverdue(order.state(), deadline, now)) return false;
  Record(order, v1::WORK_ORDER_STATE_ESCALATED,
         {.actor = "system",
          .time = now,
          .note = absl::StrCat("overdue since ", absl::FormatTime(deadline), "; escalated to ",
                               target.empty() ? "(no service office)" : target)});
  order.set_escalated_to(target);
  return true;
}

bool IsResolved(v1::WorkOrderState state) {
  return state == v1::WORK_ORDER_STATE_RESOLVED || state == v1::WORK_ORDER_STATE_CALLED_BACK ||
         state == v1::WORK_ORDER_STATE_CLOSED;
}

v1::ComplaintFigures SummariseComplaints(const std::vector<v1::WorkOrder>& orders) {
  v1::ComplaintFigures c;
  int64_t satisfaction_sum = 0;
  int64_t satisfaction_n = 0;
  for (const v1::WorkOrder& o : orders) {
    c.set_total(c.total() + 1);
    if (IsResolved(o.state())) {
      c.set_resolved(c.resolved() + 1);
      if (o.resolved_in_time()) c.set_resolved_in_time(c.resolved_in_time() + 1);
    } else {
      c.set_open(c.open() + 1);
    }
    // Counted once however often it was escalated.
    for (const v1::WorkOrderTransition& t : o.history()) {
      if (t.to_state() == v1::WORK_ORDER_STATE_ESCALATED) {
        c.set_escalated(c.escalated() + 1);
        break;
      }
    }
    if (o.satisfaction() > 0) {
      satisfaction_sum += o.satisfaction();
      ++satisfaction_n;
    }
  }
  c.set_mean_satisfaction(satisfaction_n > 0 ? static_cast<double>(satisfaction_sum) /
                                                   static_cast<double>(satisfaction_n)
                                             : 0.0);
  return c;
}

}  // namespace linli::feedback
