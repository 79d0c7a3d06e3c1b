// SchedulingService: a worker's route of a day (from the worker's bookings) and workers' notes on
// visits (note_use_cases.h); the handlers check the requests' form, and say who reads notes for
// the audit (common/audit.h).
#include "absl/strings/match.h"
#include "absl/time/civil_time.h"
#include "common/audit.h"
#include "common/errors.h"
#include "common/idempotency.h"
#include "common/server.h"
#include "common/text.h"
#include "services/scheduling/note_use_cases.h"
#include "services/scheduling/scheduling_service.h"

namespace linli::scheduling {
namespace {

bool IsWorkerName(const std::string& name) {
  return absl::StartsWith(name, "workers/") && IsSlug(name.substr(8), 64);
}

}  // namespace

grpc::Status SchedulingServiceImpl::ListWorkerVisits(grpc::ServerContext* context,
                                                     const v1::ListWorkerVisitsRequest* request,
                                                     v1::ListWorkerVisitsResponse* response) {
  FieldViolations v;
  if (!IsWorkerName(request->worker())) v.Add("worker", "must look like \"workers/ID\"");
  absl::CivilDay day;
  if (!absl::ParseCivilTime(request->date(), &day)) {
    v.Add("date", "must be a date \"YYYY-MM-DD\"");
  }
  if (!v.empty()) return Reply(*context, v.ToStatus());
  absl::StatusOr<v1::ListWorkerVisitsResponse> route =
      scheduling::ListWorkerVisits(db_, request->worker(), day);
  if (route.ok()) *response = std::move(*route);
  return Reply(*context, route.status());
}

grpc::Status SchedulingServiceImpl::AddVisitNote(grpc::ServerContext* context,
                                                 const v1::AddVisitNoteRequest* request,
                                                 v1::AddVisitNoteResponse* response) {
  FieldViolations v;
  std::string visit_id;
  if (absl::StatusOr<std::string> id = ParseResourceName(request->visit(), "visits", "visit");
      id.ok()) {
    visit_id = *id;
  } else {
    v.Add("visit", "must look like \"visits/ID\"");
  }
  if (!IsWorkerName(request->author())) v.Add("author", "must look like \"workers/ID\"");
  std::optional<size_t> length = Utf8Length(request->text());
  if (!length.has_value() || *length < 1 || *length > 500) {
    v.Add("text", "must be valid UTF-8 of 1 to 500 characters");
  }
  if (absl::Status s = ValidateRequestId(request->request_id()); !s.ok()) {
    v.Add("request_id", std::string(s.message()));
  }
  if (!v.empty()) return Reply(*context, v.ToStatus());
  return Reply(*context,
               scheduling::AddVisitNote(db_, clock_, cipher_, visit_id, *request, response));
}

grpc::Status SchedulingServiceImpl::ListVisitNotes(grpc::ServerContext* context,
                                                   const v1::ListVisitNotesRequest* request,
                                                   v1::ListVisitNotesResponse* response) {
  FieldViolations v;
  std::string visit_id;
  if (absl::StatusOr<std::string> id = ParseResourceName(request->visit(), "visits", "visit");
      id.ok()) {
    visit_id = *id;
  } else {
    v.Add("visit", "must look like \"visits/ID\"");
  }
  std::optional<size_t> reason_length = Utf8Length(request->reason());
  if (!reason_length.has_value() || *reason_length > 256) {
    v.Add("reason", "must be valid UTF-8 of at most 256 characters");
  }
  if (!v.empty()) return Reply(*context, v.ToStatus());
  return Reply(*context, scheduling::ListVisitNotes(db_, cipher_, clock_, visit_id, *request,
                                                    CallerOf(*context), response));
}

grpc::Status SchedulingServiceImpl::ListAuditEntries(grpc::ServerContext* context,
                                                     const v1::ListAuditEntriesRequest* request,
                                                     v1::ListAuditEntriesResponse* response) {
  return Reply(*context, FillAuditPage(db_, *request, response));
}

}  // namespace linli::scheduling
