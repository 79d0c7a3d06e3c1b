// FeedbackService: complaints as work orders (工单) along the 12345 flow.
#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/client.h"
#include "common/errors.h"
#include "common/idempotency.h"
#include "common/ids.h"
#include "common/pagination.h"
#include "common/server.h"
#include "common/status_macros.h"
#include "common/text.h"
#include "google/protobuf/util/time_util.h"
#include "services/feedback/feedback_service.h"
#include "services/feedback/feedback_store.h"
#include "services/feedback/work_order.h"

namespace linli::feedback {
namespace {

using google::protobuf::util::TimeUtil;

google::protobuf::Timestamp ToTimestamp(absl::Time t) {
  return TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(t));
}

absl::Time FromTimestamp(const google::protobuf::Timestamp& t) {
  return absl::FromUnixMicros(TimeUtil::TimestampToMicroseconds(t));
}

bool TextOk(const std::string& text, size_t min, size_t max) {
  std::optional<size_t> n = Utf8Length(text);
  return n.has_value() && *n >= min && *n <= max;
}

// "regions/" followed by 2-12 digits (a region code).
bool IsRegionName(const std::string& name) {
  if (!absl::StartsWith(name, "regions/")) return false;
  const absl::string_view code = absl::string_view(name).substr(8);
  if (code.size() < 2 || code.size() > 12) return false;
  return std::all_of(code.begin(), code.end(),
                     [](char c) { return absl::ascii_isdigit(static_cast<unsigned char>(c)); });
}

// The id of "workOrders/ID", or INVALID_ARGUMENT on `name`.
absl::StatusOr<std::string> WorkOrderId(const std::string& name) {
  return ParseResourceName(name, "workOrders", "name");
}

}  // namespace

grpc::Status FeedbackServiceImpl::CreateWorkOrder(grpc::ServerContext* context,
                                                  const v1::CreateWorkOrderRequest* request,
                                                  v1::CreateWorkOrderResponse* response) {
  const v1::WorkOrder& in = request->work_order();
  FieldViolations v;
  if (in.source() == v1::WORK_ORDER_SOURCE_UNSPECIFIED ||
      !v1::WorkOrderSource_IsValid(in.source())) {
    v.Add("work_order.source", "must be APP, STAFF, HOTLINE_12345, OTHER_PLATFORM or WORKER_APP");
  }
  if (!TextOk(in.external_reference(), 0, 64)) {
    v.Add("work_order.external_reference", "must be valid UTF-8 of at most 64 characters");
  }
  const bool has_commitment = !in.commitment().empty();
  const bool has_visit = !in.visit().empty();
  if (!has_commitment && !has_visit) {
    v.Add("work_order.commitment", "a commitment or a visit is required");
  }
  if (has_commitment && (!absl::StartsWith(in.commitment(), "commitments/") ||
                         !IsSlug(in.commitment().substr(12), 64))) {
    v.Add("work_order.commitment", "must look like \"commitments/ID\"");
  }
  if (has_visit &&
      (!absl::StartsWith(in.visit(), "visits/") || !IsSlug(in.visit().substr(7), 64))) {
    v.Add("work_order.visit", "must look like \"visits/ID\"");
  }
  if (!TextOk(in.description(), 2, 1000)) {
    v.Add("work_order.description", "must be valid UTF-8 of 2 to 1000 characters");
  }
  if (absl::Status s = ValidateRequestId(request->request_id()); !s.ok()) {
    v.Add("request_id", std::string(s.message()));
  }
  if (absl::Status s = v.ToStatus(); !s.ok()) return Reply(*context, s);

  const absl::Time now = clock_.Now();
  const std::string actor = Actor(*context);
  absl::Status status = RunIdempotent(
      db_, "CreateWorkOrder", request->request_id(), *request, response,
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
        v1::WorkOrder& order = row.order;
        order.set_name("workOrders/" + row.id);
        order.set_source(in.source());
        order.set_external_reference(in.external_reference());
        order.set_commitment("commitments/" + commitment_id);
        order.set_visit(in.visit());
        order.set_elder(commitment->elder);
        order.set_description(in.description());
        order.set_state(v1::WORK_ORDER_STATE_ACCEPTED);
        *order.mutable_create_time() = ToTimestamp(now);
        v1::WorkOrderTransition* step = order.add_history();
        step->set_to_state(v1::WORK_ORDER_STATE_ACCEPTED);
        step->set_actor(actor);
        *step->mutable_time() = ToTimestamp(now);
        step->set_note(absl::StrCat("accepted from ", v1::WorkOrderSource_Name(in.source())));
        RETURN_IF_ERROR(InsertWorkOrder(tx, row));
        *response->mutable_work_order() = order;
        return absl::OkStatus();
      },
      clock_);
  return Reply(*context, status);
}

grpc::Status FeedbackServiceImpl::GetWorkOrder(grpc::ServerContext* context,
                                               const v1::GetWorkOrderRequest* request,
                                               v1::GetWorkOrderResponse* response) {
  absl::StatusOr<std::string> id = WorkOrderId(request->name());
  if (!id.ok()) return Reply(*context, id.status());
  return Reply(*context, db_.RunInTransaction(
                             [&](storage::Transaction& tx) -> absl::Status {
                               ASSIGN_OR_RETURN(std::optional<WorkOrderRow> row,
                                                FindWorkOrder(tx, *id));
                               if (!row.has_value()) return NotFound(request->name());
                               *response->mutable_work_order() = row->order;
                               return absl::OkStatus();
                             },
                             {.read_only = true}));
}

grpc::Status FeedbackServiceImpl::ListWorkOrders(grpc::ServerContext* context,
                                                 const v1::ListWorkOrdersRequest* request,
                                                 v1::ListWorkOrdersResponse* response) {
  FieldViolations v;
  if (!request->responsible_organisation().empty() &&
      (!absl::StartsWith(request->responsible_organisation(), "organisations/") ||
       !IsSlug(request->responsible_organisation().substr(14), 64))) {
    v.Add("responsible_organisation", "must look like \"organisations/ID\"");
  }
  if (!request->elder().empty() &&
      (!absl::StartsWith(request->elder(), "elders/") || !IsSlug(request->elder().substr(7), 64))) {
    v.Add("elder", "must look like \"elders/ID\"");
  }
  if (!request->region().empty() && !IsRegionName(request->region())) {
    v.Add("region", "must look like \"regions/CODE\" (2-12 digits)");
  }
  if (!v1::WorkOrderState_IsValid(request->state())) v.Add("state", "unknown state");
  if (absl::Status s = v.ToStatus(); !s.ok()) return Reply(*context, s);
  absl::StatusOr<Page> page =
      Page::Start(request->page_size(), request->page_token(),
                  absl::StrCat("workOrders|", request->responsible_organisation(), "|",
                               static_cast<int>(request->state()), "|", request->elder(), "|",
                               request->region()),
                  50, 500);
  if (!page.ok()) return Reply(*context, page.status());
  return Reply(*context, db_.RunInTransaction(
                             [&](storage::Transaction& tx) -> absl::Status {
                               response->Clear();
                               ASSIGN_OR_RETURN(
                                   std::vector<WorkOrderRow> rows,
                                   QueryWorkOrders(tx, request->responsible_organisation(),
                                                   request->state(), page->after, page->limit(),
                                                   request->elder(), request->region()));
                               response->set_next_page_token(
                                   page->Finish(rows, [](const WorkOrderRow& r) { return r.id; }));
                               for (const WorkOrderRow& r : rows) {
                                 *response->add_work_orders() = r.order;
                               }
                               return absl::OkStatus();
                             },
                             {.read_only = true}));
}

absl::Status FeedbackServiceImpl::Transition(
    const grpc::ServerContext& context, const std::string& name, v1::WorkOrderState to,
    const std::string& note, const std::function<absl::Status(v1::WorkOrder&)>& change,
    v1::WorkOrder* result) {
  ASSIGN_OR_RETURN(std::string id, WorkOrderId(name));
  if (!TextOk(note, 0, 500))
    return InvalidField("note", "must be valid UTF-8 of at most 500 characters");
  const absl::Time now = clock_.Now();
  const std::string actor = Actor(context);
  return db_.RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(std::optional<WorkOrderRow> row, FindWorkOrder(tx, id));
    if (!row.has_value()) return NotFound(name);
    v1::WorkOrder& order = row->order;
    RETURN_IF_ERROR(CheckTransition(order.state(), to));
    RETURN_IF_ERROR(change(order));
    v1::WorkOrderTransition* step = order.add_history();
    step->set_from_state(order.state());
    step->set_to_state(to);
    step->set_actor(actor);
    *step->mutable_time() = ToTimestamp(now);
    step->set_note(note);
    order.set_state(to);
    RETURN_IF_ERROR(UpdateWorkOrder(tx, *row));
    *result = order;
    return absl::OkStatus();
  });
}

grpc::Status FeedbackServiceImpl::ClassifyWorkOrder(grpc::ServerContext* context,
                                                    const v1::ClassifyWorkOrderRequest* request,
                                                    v1::ClassifyWorkOrderResponse* response) {
  if (request->category() == v1::WORK_ORDER_CATEGORY_UNSPECIFIED ||
      !v1::WorkOrderCategory_IsValid(request->category())) {
    return Reply(*context, InvalidField("category", "must be a WORK_ORDER_CATEGORY_ value"));
  }
  return Reply(*context,
               Transition(
                   *context, request->name(), v1::WORK_ORDER_STATE_CLASSIFIED, request->note(),
                   [&](v1::WorkOrder& order) {
                     order.set_category(request->category());
                     *order.mutable_deadline() = ToTimestamp(FromTimestamp(order.create_time()) +
                                                             DeadlineFor(request->category()));
                     return absl::OkStatus();
                   },
                   response->mutable_work_order()));
}

absl::StatusOr<std::string> FeedbackServiceImpl::Supervisor(const grpc::ServerContext* context,
                                                            const std::string& organisation) {
  if (organisation.empty()) return std::string();
  std::string token;
  do {
    registry::v1::ListRelationsRequest request;
    request.set_organisation(organisation);
    request.set_page_size(1000);
    request.set_page_token(token);
    registry::v1::ListRelationsResponse response;
    auto ctx = NewClientContext(context, backend_timeout_);
    grpc::Status s = registry_->ListRelations(ctx.get(), request, &response);
    if (!s.ok()) {
      return WithReason(absl::UnavailableError("the registry cannot be asked for relations"),
                        common::v1::ERROR_REASON_BACKEND_UNAVAILABLE);
    }
    for (const registry::v1::Relation& r : response.relations()) {
      if (r.type() == registry::v1::RELATION_TYPE_LINE_GUIDANCE && r.source() == organisation) {
        return r.target();
      }
    }
    token = response.next_page_token();
  } while (!token.empty());
  registry::v1::GetOrganisationRequest request;
  request.set_name(organisation);
  registry::v1::GetOrganisationResponse response;
  auto ctx = NewClientContext(context, backend_timeout_);
  grpc::Status s = registry_->GetOrganisation(ctx.get(), request, &response);
  if (s.error_code() == grpc::StatusCode::NOT_FOUND) return std::string();
  if (!s.ok()) {
    return WithReason(absl::UnavailableError("the registry cannot be asked for the organisation"),
                      common::v1::ERROR_REASON_BACKEND_UNAVAILABLE);
  }
  return response.organisation().parent();
}

grpc::Status FeedbackServiceImpl::RouteWorkOrder(grpc::ServerContext* context,
                                                 const v1::RouteWorkOrderRequest* request,
                                                 v1::RouteWorkOrderResponse* response) {
  absl::StatusOr<std::string> id = WorkOrderId(request->name());
  if (!id.ok()) return Reply(*context, id.status());
  std::string owner;
  absl::Status read = db_.RunInTransaction(
      [&](storage::Transaction& tx) -> absl::Status {
        ASSIGN_OR_RETURN(std::optional<WorkOrderRow> row, FindWorkOrder(tx, *id));
        if (!row.has_value()) return NotFound(request->name());
        RETURN_IF_ERROR(CheckTransition(row->order.state(), v1::WORK_ORDER_STATE_ROUTED));
        owner = row->organisation;
        return absl::OkStatus();
      },
      {.read_only = true});
  if (!read.ok()) return Reply(*context, read);
  absl::StatusOr<std::string> supervisor = Supervisor(context, owner);
  if (!supervisor.ok()) return Reply(*context, supervisor.status());
  return Reply(*context,
               Transition(
                   *context, request->name(), v1::WORK_ORDER_STATE_ROUTED, request->note(),
                   [&](v1::WorkOrder& order) {
                     order.set_responsible_organisation(owner);
                     order.set_supervising_organisation(*supervisor);
                     return absl::OkStatus();
                   },
                   response->mutable_work_order()));
}

grpc::Status FeedbackServiceImpl::ResolveWorkOrder(grpc::ServerContext* context,
                                                   const v1::ResolveWorkOrderRequest* request,
                                                   v1::ResolveWorkOrderResponse* response) {
  if (!TextOk(request->resolution(), 2, 1000)) {
    return Reply(*context,
                 InvalidField("resolution", "must be valid UTF-8 of 2 to 1000 characters"));
  }
  const absl::Time now = clock_.Now();
  return Reply(*context,
               Transition(
                   *context, request->name(), v1::WORK_ORDER_STATE_RESOLVED, request->resolution(),
                   [&](v1::WorkOrder& order) {
                     order.set_resolution(request->resolution());
                     order.set_resolved_in_time(now <= FromTimestamp(order.deadline()));
                     return absl::OkStatus();
                   },
                   response->mutable_work_order()));
}

grpc::Status FeedbackServiceImpl::RecordCallback(grpc::ServerContext* context,
                                                 const v1::RecordCallbackRequest* request,
                                                 v1::RecordCallbackResponse* response) {
  if (request->satisfaction() < 1 || request->satisfaction() > 5) {
    return Reply(*context, InvalidField("satisfaction", "must be between 1 and 5"));
  }
  return Reply(*context,
               Transition(
                   *context, request->name(), v1::WORK_ORDER_STATE_CALLED_BACK, request->note(),
                   [&](v1::WorkOrder& order) {
                     order.set_satisfaction(request->satisfaction());
                     return absl::OkStatus();
                   },
                   response->mutable_work_order()));
}

grpc::Status FeedbackServiceImpl::CloseWorkOrder(grpc::ServerContext* context,
                                                 const v1::CloseWorkOrderRequest* request,
                                                 v1::CloseWorkOrderResponse* response) {
  return Reply(*context, Transition(
                             *context, request->name(), v1::WORK_ORDER_STATE_CLOSED,
                             request->note(), [](v1::WorkOrder&) { return absl::OkStatus(); },
                             response->mutable_work_order()));
}

}  // namespace linli::feedback
