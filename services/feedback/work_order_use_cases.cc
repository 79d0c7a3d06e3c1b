#include "services/feedback/work_order_use_cases.h"

#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/idempotency.h"
#include "common/ids.h"
#include "common/status_macros.h"
#include "services/feedback/alert_use_cases.h"
#include "services/feedback/feedback_store.h"

namespace linli::feedback {
namespace {

std::string WorkOrderName(const std::string& id) { return "workOrders/" + id; }

// Records that `caller` read the texts of `order` at `now`, inside `tx`.
absl::Status AuditRead(storage::Transaction& tx, const Caller& caller, absl::Time now,
                       const v1::WorkOrder& order) {
  return AuditPersonalData(tx, caller, now,
                           {.elder = order.elder(),
                            .resource = order.name(),
                            .fields = "description,resolution,notes",
                            .reason = "",
                            .action = "read"});
}

// The notices of `row`'s step from `before`: the filer's, and a safety report's alert with the
// committee's notice when it was just classified SAFETY.
absl::Status Announce(storage::Transaction& tx, NoticeUseCases& notices, const Clock& clock,
                      const WorkOrderRow& row, v1::WorkOrderState before, absl::Time now) {
  if (row.order.state() == before) return absl::OkStatus();
  if (std::optional<NoticeDraft> notice = WorkOrderNotice(row.order, row.committee, row.street)) {
    RETURN_IF_ERROR(notices.Raise(tx, {std::move(*notice)}, now).status());
  }
  if (row.order.state() == v1::WORK_ORDER_STATE_CLASSIFIED) {
    if (std::optional<AlertDraft> alert = SafetyReportAlert(row.order, row.committee, now)) {
      RETURN_IF_ERROR(notices.RaiseAlert(tx, NewAlertRow(clock, std::move(*alert)), now).status());
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status WorkOrderUseCases::Create(const v1::CreateWorkOrderRequest& request,
                                       const std::string& actor,
                                       v1::CreateWorkOrderResponse* response) {
  const v1::WorkOrder& in = request.work_order();
  const bool has_commitment = !in.commitment().empty();
  const bool has_visit = !in.visit().empty();
  const absl::Time now = clock_.Now();
  RETURN_IF_ERROR(RunIdempotent(
      db_, "CreateWorkOrder", request.request_id(), request, response,
      [&](storage::Transaction& tx) -> absl::Status {
        std::string commitment_id = has_commitment ? in.commitment().substr(12) : "";
        if (has_visit) {
          ASSIGN_OR_RETURN(std::optional<ProjectedVisit> visit,
                           FindVisit(tx, in.visit().substr(7)));
          if (!visit.has_value()) return NotFound(in.visit());
          if (has_commitment && visit->commitment_id != commitment_id) {
            return InvalidField("work_order.visit",
                                absl::StrCat(in.visit(), " is not a visit of ", in.commitment()));
          }
          commitment_id = visit->commitment_id;
        }
        ASSIGN_OR_RETURN(std::optional<CommitmentFacts> commitment,
                         FindCommitmentFacts(tx, commitment_id));
        if (!commitment.has_value()) return NotFound("commitments/" + commitment_id);
        ASSIGN_OR_RETURN(std::optional<ElderFacts> elder, FindElderFacts(tx, commitment->elder));
        WorkOrderRow row;
        row.id = NewId(clock_);
        row.organisation = commitment->organisation;
        if (elder.has_value()) {
          row.committee = elder->committee;
          row.street = elder->street;
        }
        row.order = AcceptWorkOrder(in, WorkOrderName(row.id), "commitments/" + commitment_id,
                                    commitment->elder, actor, now);
        RETURN_IF_ERROR(InsertWorkOrder(tx, cipher_, row));
        RETURN_IF_ERROR(Announce(tx, notices_, clock_, row, v1::WORK_ORDER_STATE_UNSPECIFIED, now));
        // The reply stored for request_id retries carries no description (it is sealed in the
        // work order); it is put back below from the request, which a retry must repeat.
        *response->mutable_work_order() = std::move(row.order);
        response->mutable_work_order()->clear_description();
        return absl::OkStatus();
      },
      clock_));
  notices_.Committed();
  response->mutable_work_order()->set_description(in.description());
  return absl::OkStatus();
}

absl::StatusOr<v1::WorkOrder> WorkOrderUseCases::Get(const std::string& id, const Caller& caller) {
  const absl::Time now = clock_.Now();
  v1::WorkOrder order;
  RETURN_IF_ERROR(db_.RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(std::optional<WorkOrderRow> row, FindWorkOrder(tx, cipher_, id));
    if (!row.has_value()) return NotFound(WorkOrderName(id));
    order = std::move(row->order);
    return AuditRead(tx, caller, now, order);
  }));
  return order;
}

absl::Status WorkOrderUseCases::List(const v1::ListWorkOrdersRequest& request, const Page& page,
                                     const Caller& caller, v1::ListWorkOrdersResponse* response) {
  const absl::Time now = clock_.Now();
  return db_.RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
    response->Clear();
    ASSIGN_OR_RETURN(
        std::vector<WorkOrderRow> rows,
        QueryWorkOrders(tx, cipher_, request.responsible_organisation(), request.state(),
                        page.after, page.limit(), request.elder(), request.region()));
    response->set_next_page_token(page.Finish(rows, [](const WorkOrderRow& r) { return r.id; }));
    for (WorkOrderRow& r : rows) {
      RETURN_IF_ERROR(AuditRead(tx, caller, now, r.order));
      *response->add_work_orders() = std::move(r.order);
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<v1::WorkOrder> WorkOrderUseCases::Apply(
    const std::string& id, const Caller& caller, const std::string& note,
    const std::function<absl::Status(v1::WorkOrder&, const WorkOrderStep&)>& step) {
  const WorkOrderStep by{.actor = caller.actor, .time = clock_.Now(), .note = note};
  v1::WorkOrder result;
  RETURN_IF_ERROR(db_.RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(std::optional<WorkOrderRow> row, FindWorkOrder(tx, cipher_, id));
    if (!row.has_value()) return NotFound(WorkOrderName(id));
    const v1::WorkOrderState before = row->order.state();
    RETURN_IF_ERROR(step(row->order, by));
    RETURN_IF_ERROR(UpdateWorkOrder(tx, cipher_, *row));
    RETURN_IF_ERROR(Announce(tx, notices_, clock_, *row, before, by.time));
    result = row->order;
    return AuditRead(tx, caller, by.time, result);
  }));
  notices_.Committed();
  return result;
}

absl::StatusOr<v1::WorkOrder> WorkOrderUseCases::Classify(const std::string& id,
                                                          v1::WorkOrderCategory category,
                                                          const Caller& caller,
                                                          const std::string& note) {
  return Apply(id, caller, note, [&](v1::WorkOrder& order, const WorkOrderStep& by) {
    return ClassifyWorkOrder(order, category, by);
  });
}

absl::StatusOr<v1::WorkOrder> WorkOrderUseCases::Route(const std::string& id, Directory& directory,
                                                       const Caller& caller,
                                                       const std::string& note) {
  // The registry is asked outside any transaction, so the step is checked first: a work order
  // that cannot be routed costs no registry call.
  std::string owner;
  RETURN_IF_ERROR(db_.RunInTransaction(
      [&](storage::Transaction& tx) -> absl::Status {
        ASSIGN_OR_RETURN(std::optional<WorkOrderRow> row, FindWorkOrder(tx, cipher_, id));
        if (!row.has_value()) return NotFound(WorkOrderName(id));
        RETURN_IF_ERROR(CheckTransition(row->order.state(), v1::WORK_ORDER_STATE_ROUTED));
        owner = row->organisation;
        return absl::OkStatus();
      },
      {.read_only = true}));
  ASSIGN_OR_RETURN(std::string supervisor, directory.Supervisor(owner));
  return Apply(id, caller, note, [&](v1::WorkOrder& order, const WorkOrderStep& by) {
    return RouteWorkOrder(order, owner, supervisor, by);
  });
}

absl::StatusOr<v1::WorkOrder> WorkOrderUseCases::Resolve(const std::string& id,
                                                         const std::string& resolution,
                                                         const Caller& caller) {
  return Apply(id, caller, resolution, [&](v1::WorkOrder& order, const WorkOrderStep& by) {
    return ResolveWorkOrder(order, resolution, by);
  });
}

absl::StatusOr<v1::WorkOrder> WorkOrderUseCases::RecordCallback(const std::string& id,
                                                                int satisfaction,
                                                                const Caller& caller,
                                                                const std::string& note) {
  return Apply(id, caller, note, [&](v1::WorkOrder& order, const WorkOrderStep& by) {
    return RecordWorkOrderCallback(order, satisfaction, by);
  });
}

absl::StatusOr<v1::WorkOrder> WorkOrderUseCases::Close(const std::string& id, const Caller& caller,
                                                       const std::string& note) {
  return Apply(id, caller, note, [&](v1::WorkOrder& order, const WorkOrderStep& by) {
    return CloseWorkOrder(order, by);
  });
}

}  // namespace linli::feedback
