// SchedulingService: electronic visit verification — check-in, check-out, exceptions, and the
// sweeper that marks visits nobody came to as missed, and the import of visits of the past.
#include "absl/strings/str_cat.h"
#include "common/server.h"
#include "common/status_macros.h"
#include "services/scheduling/grpc_registry_view.h"
#include "services/scheduling/referral_use_cases.h"
#include "services/scheduling/scheduling_service.h"
#include "services/scheduling/visit_check.h"
#include "services/scheduling/visit_history_use_case.h"
#include "services/scheduling/visit_use_cases.h"

namespace linli::scheduling {
grpc::Status SchedulingServiceImpl::CheckInVisit(grpc::ServerContext* context,
                                                 const v1::CheckInVisitRequest* request,
                                                 v1::CheckInVisitResponse* response) {
  return Reply(*context, CheckIn(*request, response->mutable_visit(), Actor(*context)));
}

grpc::Status SchedulingServiceImpl::CheckOutVisit(grpc::ServerContext* context,
                                                  const v1::CheckOutVisitRequest* request,
                                                  v1::CheckOutVisitResponse* response) {
  return Reply(*context, CheckOut(*request, response->mutable_visit(), Actor(*context)));
}

namespace {

// The check `worker` just recorded with `method` on `visit` (the arrival, or a team member's):
// who recorded it, when it was not the worker's app.
void RecordRecorder(const std::string& worker, v1::CheckMethod method, const std::string& recorder,
                    google::protobuf::RepeatedPtrField<v1::VisitCheck>& team,
                    v1::VisitCheck* first) {
  if (method == v1::CHECK_METHOD_APP_GPS || recorder.empty()) return;
  v1::VisitCheck* check =
      !team.empty() && team.rbegin()->worker() == worker ? &*team.rbegin() : first;
  if (check != nullptr && check->worker() == worker) check->set_recorded_by(recorder);
}

}  // namespace

absl::Status SchedulingServiceImpl::CheckIn(const v1::CheckInVisitRequest& request,
                                            v1::Visit* result, const std::string& recorder) {
  ASSIGN_OR_RETURN(std::string id, ValidateCheckIn(request));
  PendingVisitChange change;
  change.id = id;
  change.name = request.name();
  change.expected = v1::VISIT_STATE_UNSPECIFIED;  // scheduled, or in progress for a team
  change.event = "visit.checked_in";
  change.now = clock_.Now();
  change.change = [&, now = change.now](v1::Visit& visit) -> absl::Status {
    RETURN_IF_ERROR(ApplyCheckIn(request, now, options_.geofence_radius_m, visit));
    RecordRecorder(request.worker(), request.method(), recorder, *visit.mutable_team_check_ins(),
                   visit.mutable_check_in());
    return absl::OkStatus();
  };
  return ChangeVisitGrouped(change, result);
}

absl::Status SchedulingServiceImpl::CheckOut(const v1::CheckOutVisitRequest& request,
                                             v1::Visit* result, const std::string& recorder) {
  ASSIGN_OR_RETURN(std::string id, ValidateCheckOut(request));
  PendingVisitChange change;
  change.id = id;
  change.name = request.name();
  change.expected = v1::VISIT_STATE_IN_PROGRESS;
  change.now = clock_.Now();
  change.change = [&, now = change.now](v1::Visit& visit) -> absl::Status {
    ASSIGN_OR_RETURN(change.event, ApplyCheckOut(request, now, options_.geofence_radius_m, visit));
    RecordRecorder(request.worker(), request.method(), recorder, *visit.mutable_team_check_outs(),
                   visit.has_check_out() ? visit.mutable_check_out() : nullptr);
    return absl::OkStatus();
  };
  return ChangeVisitGrouped(change, result);
}

absl::Status SchedulingServiceImpl::ChangeVisitGrouped(PendingVisitChange& change,
                                                       v1::Visit* result) {
  // A visit changed by someone else between the read and the write is read again; a visit that
  // keeps changing under us is ABORTED (the caller may retry).
  constexpr int kAttempts = 5;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    visit_changes_.Submit(change);
    if (!change.conflicted) break;
  }
  if (change.conflicted) {
    return absl::AbortedError(absl::StrCat(change.name, " keeps changing concurrently; retry"));
  }
  if (change.status.ok()) *result = std::move(change.result);
  return change.status;
}

absl::StatusOr<int> SchedulingServiceImpl::SweepMissed() {
  return scheduling::SweepMissedVisits(db_, clock_);
}

absl::StatusOr<v1::SweepMissedVisitsResponse> SchedulingServiceImpl::Sweep() {
  v1::SweepMissedVisitsResponse response;
  ASSIGN_OR_RETURN(int missed, SweepMissed());
  response.set_missed(missed);
  RETURN_IF_ERROR(scheduling::SweepReferrals(db_, clock_, &response));
  return response;
}

grpc::Status SchedulingServiceImpl::SweepMissedVisits(grpc::ServerContext* context,
                                                      const v1::SweepMissedVisitsRequest*,
                                                      v1::SweepMissedVisitsResponse* response) {
  absl::StatusOr<v1::SweepMissedVisitsResponse> swept = Sweep();
  if (swept.ok()) *response = std::move(*swept);
  return Reply(*context, swept.status());
}

grpc::Status SchedulingServiceImpl::ImportVisits(grpc::ServerContext* context,
                                                 const v1::ImportVisitsRequest* request,
                                                 v1::ImportVisitsResponse* response) {
  GrpcRegistryView registry(*registry_, context, options_.backend_timeout);
  absl::StatusOr<v1::ImportVisitsResponse> imported =
      scheduling::ImportVisits(db_, clock_, registry, *request, options_.geofence_radius_m);
  if (imported.ok()) *response = std::move(*imported);
  return Reply(*context, imported.status());
}

}  // namespace linli::scheduling
