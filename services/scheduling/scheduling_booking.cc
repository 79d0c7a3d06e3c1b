// SchedulingService: booking workers on visits — assign, unassign, swap, and releasing a worker
// who cannot work. The handlers check the requests' form and call booking_use_cases.h.
#include "absl/time/civil_time.h"
#include "common/errors.h"
#include "common/idempotency.h"
#include "common/server.h"
#include "common/text.h"
#include "services/scheduling/booking_use_cases.h"
#include "services/scheduling/grpc_registry_view.h"
#include "services/scheduling/scheduling_service.h"
#include "services/scheduling/scheduling_util.h"

namespace linli::scheduling {
namespace {

void ValidateNote(const std::string& reason_code, FieldViolations& v) {
  if (!IsReasonCode(reason_code)) {
    v.Add("reason_code", "must be 2-32 characters of A-Z, 0-9 and '_', e.g. WORKER_ILL");
  }
}

}  // namespace

grpc::Status SchedulingServiceImpl::AssignVisit(grpc::ServerContext* context,
                                                const v1::AssignVisitRequest* request,
                                                v1::AssignVisitResponse* response) {
  FieldViolations v;
  absl::StatusOr<std::string> id = ParseResourceName(request->name(), "visits", "name");
  if (!id.ok()) v.Add("name", "must look like \"visits/ID\"");
  if (!ParseResourceName(request->worker(), "workers", "worker").ok()) {
    v.Add("worker", "must look like \"workers/ID\"");
  }
  if (request->has_start() &&
      (request->start().seconds() < 0 || request->start().seconds() > 253402300799)) {
    v.Add("start", "is out of range");
  }
  if (!ValidateRequestId(request->request_id()).ok()) v.Add("request_id", "is malformed");
  if (!v.empty()) return Reply(*context, v.ToStatus());
  GrpcRegistryView registry(*registry_, context, options_.backend_timeout);
  return Reply(*context, scheduling::AssignVisit(db_, clock_, registry, *id, *request, response));
}

grpc::Status SchedulingServiceImpl::UnassignVisit(grpc::ServerContext* context,
                                                  const v1::UnassignVisitRequest* request,
                                                  v1::UnassignVisitResponse* response) {
  FieldViolations v;
  absl::StatusOr<std::string> id = ParseResourceName(request->name(), "visits", "name");
  if (!id.ok()) v.Add("name", "must look like \"visits/ID\"");
  if (!ParseResourceName(request->worker(), "workers", "worker").ok()) {
    v.Add("worker", "must look like \"workers/ID\"");
  }
  ValidateNote(request->reason_code(), v);
  if (std::optional<size_t> n = Utf8Length(request->note()); !n || *n > 256) {
    v.Add("note", "must be valid UTF-8 of at most 256 characters");
  }
  if (!ValidateRequestId(request->request_id()).ok()) v.Add("request_id", "is malformed");
  if (!v.empty()) return Reply(*context, v.ToStatus());
  return Reply(*context, scheduling::UnassignVisit(db_, clock_, *id, *request, response));
}

grpc::Status SchedulingServiceImpl::SwapVisitWorkers(grpc::ServerContext* context,
                                                     const v1::SwapVisitWorkersRequest* request,
                                                     v1::SwapVisitWorkersResponse* response) {
  FieldViolations v;
  absl::StatusOr<std::string> first = ParseResourceName(request->first(), "visits", "first");
  if (!first.ok()) v.Add("first", "must look like \"visits/ID\"");
  absl::StatusOr<std::string> second = ParseResourceName(request->second(), "visits", "second");
  if (!second.ok()) v.Add("second", "must look like \"visits/ID\"");
  if (first.ok() && second.ok() && *first == *second) v.Add("second", "must differ from first");
  if (!ParseResourceName(request->first_worker(), "workers", "first_worker").ok()) {
    v.Add("first_worker", "must look like \"workers/ID\"");
  }
  if (!ParseResourceName(request->second_worker(), "workers", "second_worker").ok()) {
    v.Add("second_worker", "must look like \"workers/ID\"");
  }
  if (request->first_worker() == request->second_worker()) {
    v.Add("second_worker", "must differ from first_worker");
  }
  ValidateNote(request->reason_code(), v);
  if (!ValidateRequestId(request->request_id()).ok()) v.Add("request_id", "is malformed");
  if (!v.empty()) return Reply(*context, v.ToStatus());
  GrpcRegistryView registry(*registry_, context, options_.backend_timeout);
  return Reply(*context, scheduling::SwapVisitWorkers(db_, clock_, registry, *first, *second,
                                                      *request, response));
}

grpc::Status SchedulingServiceImpl::ReleaseWorker(grpc::ServerContext* context,
                                                  const v1::ReleaseWorkerRequest* request,
                                                  v1::ReleaseWorkerResponse* response) {
  FieldViolations v;
  if (!ParseResourceName(request->worker(), "workers", "worker").ok()) {
    v.Add("worker", "must look like \"workers/ID\"");
  }
  absl::CivilDay from;
  if (!absl::ParseCivilTime(request->from_date(), &from)) {
    v.Add("from_date", "must be a date \"YYYY-MM-DD\"");
  }
  if (request->days() < 1 || request->days() > 62) v.Add("days", "must be between 1 and 62");
  ValidateNote(request->reason_code(), v);
  if (!ValidateRequestId(request->request_id()).ok()) v.Add("request_id", "is malformed");
  if (!v.empty()) return Reply(*context, v.ToStatus());
  return Reply(*context, scheduling::ReleaseWorker(db_, clock_, from, *request, response));
}

}  // namespace linli::scheduling
