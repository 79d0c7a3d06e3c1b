// SchedulingService: electronic visit verification — check-in, check-out, exceptions, and the
// sweeper that marks visits nobody came to as missed.
#include "absl/strings/str_cat.h"
#include "common/server.h"
#include "common/status_macros.h"
#include "services/scheduling/referral_use_cases.h"
#include "services/scheduling/scheduling_service.h"
#include "services/scheduling/visit_check.h"
#include "services/scheduling/visit_use_cases.h"

namespace linli::scheduling {
grpc::Status SchedulingServiceImpl::CheckInVisit(grpc::ServerContext* context,
                                                 const v1::CheckInVisitRequest* request,
                                                 v1::CheckInVisitResponse* response) {
  return Reply(*context, CheckIn(*request, response->mutable_visit()));
}

grpc::Status SchedulingServiceImpl::CheckOutVisit(grpc::ServerContext* context,
                                                  const v1::CheckOutVisitRequest* request,
                                                  v1::CheckOutVisitResponse* response) {
  return Reply(*context, CheckOut(*request, response->mutable_visit()));
}

absl::Status SchedulingServiceImpl::CheckIn(const v1::CheckInVisitRequest& request,
                                            v1::Visit* result) {
  ASSIGN_OR_RETURN(std::string id, ValidateCheckIn(request));
  PendingVisitChange change;
  change.id = id;
  change.name = request.name();
  change.expected = v1::VISIT_STATE_UNSPECIFIED;  // scheduled, or in progress for a team
  change.event = "visit.checked_in";
  change.now = clock_.Now();
  change.change = [&, now = change.now](v1::Visit& visit) {
    return ApplyCheckIn(request, now, options_.geofence_radius_m, visit);
  };
  return ChangeVisitGrouped(change, result);
}

absl::Status SchedulingServiceImpl::CheckOut(const v1::CheckOutVisitRequest& request,
                                             v1::Visit* result) {
  ASSIGN_OR_RETURN(std::string id, ValidateCheckOut(request));
  PendingVisitChange change;
  change.id = id;
  change.name = request.name();
  change.expected = v1::VISIT_STATE_IN_PROGRESS;
  change.now = clock_.Now();
  change.change = [&, now = change.now](v1::Visit& visit) -> absl::Status {
    ASSIGN_OR_RETURN(change.event, ApplyCheckOut(request, now, options_.geofence_radius_m, visit));
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

}  // namespace linli::scheduling
