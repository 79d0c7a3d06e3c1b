// SchedulingService: electronic visit verification — check-in, check-out, exceptions, and the
// sweeper that marks visits nobody came to as missed.
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/geo.h"
#include "common/server.h"
#include "common/status_macros.h"
#include "common/text.h"
#include "google/protobuf/util/time_util.h"
#include "services/scheduling/scheduling_service.h"
#include "services/scheduling/scheduling_store.h"
#include "services/scheduling/scheduling_util.h"

namespace linli::scheduling {
namespace {

using google::protobuf::util::TimeUtil;
using storage::Transaction;

// Checks the fields every check-in/out carries.
absl::Status ValidateCheck(const std::string& name, const std::string& worker,
                           v1::CheckMethod method, const common::v1::LatLng* location,
                           std::string* visit_id) {
  FieldViolations v;
  if (!absl::StartsWith(name, "visits/") || !IsSlug(name.substr(7), 64)) {
    v.Add("name", "must look like \"visits/ID\"");
  } else {
    *visit_id = name.substr(7);
  }
  if (!absl::StartsWith(worker, "workers/") || !IsSlug(worker.substr(8), 64)) {
    v.Add("worker", "must look like \"workers/ID\"");
  }
  if (method == v1::CHECK_METHOD_UNSPECIFIED || !v1::CheckMethod_IsValid(method)) {
    v.Add("method", "must be CHECK_METHOD_APP_GPS, _PHONE, _FAMILY_PROXY or _PARTNER_REPORT");
  }
  if (location != nullptr) ValidateLatLng(*location, "location", v);
  return v.ToStatus();
}

// Who, when, where and how of a check-in or check-out request. The place is kept coarsened to
// about 100 m: taken at the elder's door it is the elder's address, which is personal data; the
// geofence is checked on the precise position before (CheckGeofence), and its verdict is kept
// as the exception.
template <typename Request>
void Stamp(const Request& request, absl::Time now, v1::VisitCheck* check) {
  check->set_worker(request.worker());
  *check->mutable_time() = TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(now));
  if (request.has_location()) *check->mutable_location() = Coarsen(request.location());
  check->set_method(request.method());
}

// Whether `worker` has checked in to the visit (first, or later as one of a team).
bool CheckedIn(const v1::Visit& visit, const std::string& worker) {
  if (visit.has_check_in() && visit.check_in().worker() == worker) return true;
  for (const v1::VisitCheck& in : visit.team_check_ins()) {
    if (in.worker() == worker) return true;
  }
  return false;
}

void AddException(v1::Visit& visit, const std::string& code) {
  for (const std::string& e : visit.exceptions()) {
    if (e == code) return;
  }
  visit.add_exceptions(code);
}

// Where the check was made, against the elder's home: OUTSIDE_GEOFENCE (or `code`) when farther
// than the radius; NO_LOCATION when an app check-in sent none.
template <typename Request>
void CheckGeofence(const Request& request, double radius_m, const std::string& code,
                   v1::Visit& visit) {
  if (request.method() == v1::CHECK_METHOD_PARTNER_REPORT) AddException(visit, "PARTNER_REPORTED");
  if (!request.has_location()) {
    if (request.method() == v1::CHECK_METHOD_APP_GPS) AddException(visit, "NO_LOCATION");
    return;
  }
  if (!visit.has_home() || !HasLocation(visit.home())) return;
  if (HaversineMeters(request.location(), visit.home()) > radius_m + kGeofenceRoundingSlackMeters) {
    AddException(visit, code);
  }
}

}  // namespace

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
  std::string id;
  RETURN_IF_ERROR(ValidateCheck(request.name(), request.worker(), request.method(),
                                request.has_location() ? &request.location() : nullptr, &id));
  PendingVisitChange change;
  change.id = id;
  change.name = request.name();
  change.expected = v1::VISIT_STATE_UNSPECIFIED;  // scheduled, or in progress for a team
  change.event = "visit.checked_in";
  change.now = clock_.Now();
  change.change = [&, now = change.now](v1::Visit& visit) -> absl::Status {
    // The first arrival starts the visit; on a two-worker visit the others join it.
    const bool joining =
        visit.state() == v1::VISIT_STATE_IN_PROGRESS && visit.workers_required() > 1;
    if (visit.state() != v1::VISIT_STATE_SCHEDULED && !joining) {
      return absl::FailedPreconditionError(
          absl::StrCat(visit.name(), " is ", v1::VisitState_Name(visit.state()),
                       "; checking in needs VISIT_STATE_SCHEDULED (or IN_PROGRESS for the "
                       "second worker of a two-worker visit)"));
    }
    if (joining) {
      if (CheckedIn(visit, request.worker())) {
        return absl::FailedPreconditionError(absl::StrCat(
            "worker: ", request.worker(), " has already checked in to ", visit.name()));
      }
      if (1 + visit.team_check_ins_size() >= visit.workers_required()) {
        return absl::FailedPreconditionError(absl::StrCat(
            "all ", visit.workers_required(), " workers of ", visit.name(), " have checked in"));
      }
    }
    // A staffed visit is checked into by a booked worker, or by a declared substitute.
    bool booked = visit.assignments_size() == 0;
    for (const v1::Assignment& a : visit.assignments()) {
      booked = booked || a.worker() == request.worker();
    }
    if (!booked && !request.substitute()) {
      return WithReason(absl::FailedPreconditionError(absl::StrCat(
                            "worker: ", request.worker(), " is not booked on ", visit.name(),
                            "; a stand-in checks in with substitute = true")),
                        common::v1::ERROR_REASON_INVALID_FIELD);
    }
    if (!booked) AddException(visit, "WORKER_NOT_PLANNED");
    CheckGeofence(request, options_.geofence_radius_m, "OUTSIDE_GEOFENCE", visit);
    if (now < FromProto(visit.window_start())) AddException(visit, "EARLY_ARRIVAL");
    if (now > FromProto(visit.window_end()) + absl::Minutes(visit.tolerance_minutes())) {
      AddException(visit, "LATE_ARRIVAL");
    }
    Stamp(request, now, joining ? visit.add_team_check_ins() : visit.mutable_check_in());
    visit.set_state(v1::VISIT_STATE_IN_PROGRESS);
    return absl::OkStatus();
  };
  return ChangeVisitGrouped(change, result);
}

absl::Status SchedulingServiceImpl::CheckOut(const v1::CheckOutVisitRequest& request,
                                             v1::Visit* result) {
  std::string id;
  RETURN_IF_ERROR(ValidateCheck(request.name(), request.worker(), request.method(),
                                request.has_location() ? &request.location() : nullptr, &id));
  PendingVisitChange change;
  change.id = id;
  change.name = request.name();
  change.expected = v1::VISIT_STATE_IN_PROGRESS;
  change.now = clock_.Now();
  change.change = [&, now = change.now](v1::Visit& visit) -> absl::Status {
    if (!CheckedIn(visit, request.worker())) {
      return WithReason(absl::FailedPreconditionError(absl::StrCat(
                            "worker: ", request.worker(), " did not check in to ", visit.name())),
                        common::v1::ERROR_REASON_INVALID_FIELD);
    }
    for (const v1::VisitCheck& out : visit.team_check_outs()) {
      if (out.worker() == request.worker()) {
        return absl::FailedPreconditionError(absl::StrCat(
            "worker: ", request.worker(), " has already checked out of ", visit.name()));
      }
    }
    const absl::Time arrived = FromProto(visit.check_in().time());
    if (now < arrived) return absl::FailedPreconditionError("check-out cannot be before check-in");
    CheckGeofence(request, options_.geofence_radius_m, "OUTSIDE_GEOFENCE_AT_CHECK_OUT", visit);
    // Someone of the team is still there: this worker leaves, the visit goes on.
    if (visit.team_check_outs_size() + 1 < 1 + visit.team_check_ins_size()) {
      Stamp(request, now, visit.add_team_check_outs());
      change.event = "visit.worker_checked_out";
      return absl::OkStatus();
    }
    const absl::Duration planned = absl::Minutes(visit.duration_minutes());
    if (now - arrived > planned * 3 / 2) AddException(visit, "OVERRUN");
    if (now - arrived < planned / 2) AddException(visit, "SHORT_VISIT");
    // Fewer workers came than the visit needs (e.g. a bath given by one carer).
    if (1 + visit.team_check_ins_size() < visit.workers_required()) {
      AddException(visit, "WORKER_MISSING");
    }
    Stamp(request, now, visit.mutable_check_out());
    visit.set_state(v1::VISIT_STATE_COMPLETED);  // over: its slots are released
    change.event = "visit.completed";
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
  // Scheduled visits whose window has opened, page by page (one transaction each); those still
  // within window plus tolerance are left for a later sweep.
  constexpr int kBatch = 1000;
  int missed = 0;
  const absl::Time now = clock_.Now();
  VisitFilter filter;
  filter.to_us = absl::ToUnixMicros(now);
  filter.state = v1::VISIT_STATE_SCHEDULED;
  int64_t after_start = INT64_MIN;
  std::string after_id;
  for (bool more = true; more;) {
    int in_page = 0;
    RETURN_IF_ERROR(db_.RunInTransaction([&](Transaction& tx) -> absl::Status {
      in_page = 0;
      ASSIGN_OR_RETURN(std::vector<VisitRow> rows,
                       QueryVisits(tx, filter, after_start, after_id, kBatch));
      more = static_cast<int>(rows.size()) == kBatch;
      for (VisitRow& row : rows) {
        v1::Visit& visit = row.visit;
        if (FromProto(visit.window_end()) + absl::Minutes(visit.tolerance_minutes()) >= now) {
          continue;
        }
        visit.set_state(v1::VISIT_STATE_MISSED);
        // Another sweeper (replica) or a late check-in may have changed it since the read.
        ASSIGN_OR_RETURN(bool stored, UpdateVisitIf(tx, row, v1::VISIT_STATE_SCHEDULED));
        if (!stored) continue;
        RETURN_IF_ERROR(ReleaseBookings(tx, row.id));
        RETURN_IF_ERROR(AppendVisitEvent(tx, "visit.missed", visit, now));
        // A missed visit puts its promise at risk: consumers (feedback's ledger and alerts)
        // learn it in the same transaction.
        ASSIGN_OR_RETURN(auto commitment, FindCommitment(tx, row.commitment_id));
        if (commitment.has_value()) {
          RETURN_IF_ERROR(AppendEvent(tx, OutboxEvent{0, "commitment.at_risk", commitment->name(),
                                                      commitment->SerializeAsString(), now}));
        }
        ++in_page;
      }
      if (!rows.empty()) {
        after_start = rows.back().window_start_us;
        after_id = rows.back().id;
      }
      return absl::OkStatus();
    }));
    missed += in_page;
  }
  return missed;
}

grpc::Status SchedulingServiceImpl::SweepMissedVisits(grpc::ServerContext* context,
                                                      const v1::SweepMissedVisitsRequest*,
                                                      v1::SweepMissedVisitsResponse* response) {
  absl::StatusOr<int> missed = SweepMissed();
  if (missed.ok()) response->set_missed(*missed);
  return Reply(*context, missed.status());
}

}  // namespace linli::scheduling
