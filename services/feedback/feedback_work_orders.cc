// FeedbackService: complaints as work orders (工单) along the 12345 flow. The handlers validate
// and call WorkOrderUseCases; the flow itself is work_order.h.

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/idempotency.h"
#include "common/pagination.h"
#include "common/server.h"
#include "common/status_macros.h"
#include "common/text.h"
#include "services/feedback/feedback_service.h"

namespace linli::feedback {
namespace {

bool TextOk(const std::string& text, size_t min, size_t max) {
  std::optional<size_t> n = Utf8Length(text);
  return n.has_value() && *n >= min && *n <= max;
}

// The id of "workOrders/ID", or INVALID_ARGUMENT on `name`.
absl::StatusOr<std::string> WorkOrderId(const std::string& name) {
  return ParseResourceName(name, "workOrders", "name");
}

// The id of the work order a step names, once the step's note is known to be valid.
absl::StatusOr<std::string> StepTarget(const std::string& name, const std::string& note) {
  ASSIGN_OR_RETURN(std::string id, WorkOrderId(name));
  if (!TextOk(note, 0, 500)) {
    return InvalidField("note", "must be valid UTF-8 of at most 500 characters");
  }
  return id;
}

// Replies with the work order a step left, or its error.
grpc::Status ReplyWith(const grpc::ServerContext& context,
                       const absl::StatusOr<v1::WorkOrder>& order, v1::WorkOrder* out) {
  if (order.ok()) *out = *order;
  return Reply(context, order.status());
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
  return Reply(*context, work_orders_.Create(*request, Actor(*context), response));
}

grpc::Status FeedbackServiceImpl::GetWorkOrder(grpc::ServerContext* context,
                                               const v1::GetWorkOrderRequest* request,
                                               v1::GetWorkOrderResponse* response) {
  absl::StatusOr<std::string> id = WorkOrderId(request->name());
  if (!id.ok()) return Reply(*context, id.status());
  return ReplyWith(*context, work_orders_.Get(*id, CallerOf(*context)),
                   response->mutable_work_order());
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
  return Reply(*context, work_orders_.List(*request, *page, CallerOf(*context), response));
}

grpc::Status FeedbackServiceImpl::ClassifyWorkOrder(grpc::ServerContext* context,
                                                    const v1::ClassifyWorkOrderRequest* request,
                                                    v1::ClassifyWorkOrderResponse* response) {
  if (request->category() == v1::WORK_ORDER_CATEGORY_UNSPECIFIED ||
      !v1::WorkOrderCategory_IsValid(request->category())) {
    return Reply(*context, InvalidField("category", "must be a WORK_ORDER_CATEGORY_ value"));
  }
  absl::StatusOr<std::string> id = StepTarget(request->name(), request->note());
  if (!id.ok()) return Reply(*context, id.status());
  return ReplyWith(
      *context,
      work_orders_.Classify(*id, request->category(), CallerOf(*context), request->note()),
      response->mutable_work_order());
}

grpc::Status FeedbackServiceImpl::RouteWorkOrder(grpc::ServerContext* context,
                                                 const v1::RouteWorkOrderRequest* request,
                                                 v1::RouteWorkOrderResponse* response) {
  absl::StatusOr<std::string> id = StepTarget(request->name(), request->note());
  if (!id.ok()) return Reply(*context, id.status());
  RegistryDirectory registry = Registry(context);
  return ReplyWith(*context, work_orders_.Route(*id, registry, CallerOf(*context), request->note()),
                   response->mutable_work_order());
}

grpc::Status FeedbackServiceImpl::ResolveWorkOrder(grpc::ServerContext* context,
                                                   const v1::ResolveWorkOrderRequest* request,
                                                   v1::ResolveWorkOrderResponse* response) {
  if (!TextOk(request->resolution(), 2, 1000)) {
    return Reply(*context,
                 InvalidField("resolution", "must be valid UTF-8 of 2 to 1000 characters"));
  }
  // The resolution is also the step's note, and is held to the note's limit.
  absl::StatusOr<std::string> id = StepTarget(request->name(), request->resolution());
  if (!id.ok()) return Reply(*context, id.status());
  return ReplyWith(*context, work_orders_.Resolve(*id, request->resolution(), CallerOf(*context)),
                   response->mutable_work_order());
}

grpc::Status FeedbackServiceImpl::RecordCallback(grpc::ServerContext* context,
                                                 const v1::RecordCallbackRequest* request,
                                                 v1::RecordCallbackResponse* response) {
  if (request->satisfaction() < 1 || request->satisfaction() > 5) {
    return Reply(*context, InvalidField("satisfaction", "must be between 1 and 5"));
  }
  absl::StatusOr<std::string> id = StepTarget(request->name(), request->note());
  if (!id.ok()) return Reply(*context, id.status());
  return ReplyWith(*context,
                   work_orders_.RecordCallback(*id, request->satisfaction(), CallerOf(*context),
                                               request->note()),
                   response->mutable_work_order());
}

grpc::Status FeedbackServiceImpl::CloseWorkOrder(grpc::ServerContext* context,
                                                 const v1::CloseWorkOrderRequest* request,
                                                 v1::CloseWorkOrderResponse* response) {
  absl::StatusOr<std::string> id = StepTarget(request->name(), request->note());
  if (!id.ok()) return Reply(*context, id.status());
  return ReplyWith(*context, work_orders_.Close(*id, CallerOf(*context), request->note()),
                   response->mutable_work_order());
}

}  // namespace linli::feedback
