// SchedulingService.MakeUpVisit and DeclineMakeUp: making good a missed visit, or recording
// that the elder declined it (make_up_use_case.h).
#include "common/errors.h"
#include "common/idempotency.h"
#include "common/server.h"
#include "common/text.h"
#include "services/scheduling/grpc_registry_view.h"
#include "services/scheduling/make_up.h"
#include "services/scheduling/make_up_use_case.h"
#include "services/scheduling/scheduling_service.h"

namespace linli::scheduling {

grpc::Status SchedulingServiceImpl::MakeUpVisit(grpc::ServerContext* context,
                                                const v1::MakeUpVisitRequest* request,
                                                v1::MakeUpVisitResponse* response) {
  FieldViolations v;
  absl::StatusOr<std::string> id =
      ParseResourceName(request->missed_visit(), "visits", "missed_visit");
  if (!id.ok()) v.Add("missed_visit", "must look like \"visits/ID\"");
  if (request->within_days() < 0 || request->within_days() > kMaxMakeUpDays) {
    v.Add("within_days", "must be between 1 and 7 (0: 3)");
  }
  if (!request->dry_run() && !request->has_window_start()) {
    v.Add("window_start", "is required to book (a dry run lists the windows)");
  }
  if (request->has_window_start() &&
      (request->window_start().seconds() < 0 || request->window_start().seconds() > 253402300799)) {
    v.Add("window_start", "is out of range");
  }
  if (!ValidateRequestId(request->request_id()).ok()) v.Add("request_id", "is malformed");
  if (!v.empty()) return Reply(*context, v.ToStatus());
  GrpcRegistryView registry(*registry_, context, options_.backend_timeout);
  return Reply(*context, scheduling::MakeUpVisit(db_, clock_, registry, *id, *request, response));
}

grpc::Status SchedulingServiceImpl::DeclineMakeUp(grpc::ServerContext* context,
                                                  const v1::DeclineMakeUpRequest* request,
                                                  v1::DeclineMakeUpResponse* response) {
  FieldViolations v;
  absl::StatusOr<std::string> id =
      ParseResourceName(request->missed_visit(), "visits", "missed_visit");
  if (!id.ok()) v.Add("missed_visit", "must look like \"visits/ID\"");
  if (request->reason() == v1::MAKE_UP_DECLINE_REASON_UNSPECIFIED ||
      !v1::MakeUpDeclineReason_IsValid(request->reason())) {
    v.Add("reason", "is required: one of MakeUpDeclineReason's values");
  }
  if (!ValidateRequestId(request->request_id()).ok()) v.Add("request_id", "is malformed");
  if (!v.empty()) return Reply(*context, v.ToStatus());
  return Reply(*context,
               scheduling::DeclineMakeUp(db_, clock_, *id, *request, Actor(*context), response));
}

}  // namespace linli::scheduling
