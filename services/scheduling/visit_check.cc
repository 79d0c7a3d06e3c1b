#include "services/scheduling/visit_check.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/geo.h"
#include "common/text.h"
#include "services/scheduling/scheduling_util.h"
#include "services/scheduling/visit_review.h"

namespace linli::scheduling {
namespace {

// Checks the fields every check-in/out carries.
template <typename Request>
absl::StatusOr<std::string> ValidateCheck(const Request& request) {
  FieldViolations v;
  const std::string& name = request.name();
  const std::string& worker = request.worker();
  std::string visit_id;
  if (!absl::StartsWith(name, "visits/") || !IsSlug(name.substr(7), 64)) {
    v.Add("name", "must look like \"visits/ID\"");
  } else {
    visit_id = name.substr(7);
  }
  if (!absl::StartsWith(worker, "workers/") || !IsSlug(worker.substr(8), 64)) {
    v.Add("worker", "must look like \"workers/ID\"");
  }
  if (request.method() == v1::CHECK_METHOD_UNSPECIFIED ||
      !v1::CheckMethod_IsValid(request.method())) {
    v.Add("method", "must be CHECK_METHOD_APP_GPS, _PHONE, _FAMILY_PROXY or _PARTNER_REPORT");
  }
  if (request.has_location()) ValidateLatLng(request.location(), "location", v);
  if (!v.empty()) return v.ToStatus();
  return visit_id;
}

// Who, when, where and how of a check-in or check-out request. The place is kept coarsened to
// about 100 m: taken at the elder's door it is the elder's address, which is personal data; the
// geofence is checked on the precise position before (CheckGeofence), and its verdict is kept
// as the exception.
template <typename Request>
void Stamp(const Request& request, absl::Time now, v1::VisitCheck* check) {
  check->set_worker(request.worker());
  *check->mutable_time() = ToTimestamp(now);
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

absl::StatusOr<std::string> ValidateCheckIn(const v1::CheckInVisitRequest& request) {
  return ValidateCheck(request);
}

absl::StatusOr<std::string> ValidateCheckOut(const v1::CheckOutVisitRequest& request) {
  return ValidateCheck(request);
}

absl::Status ApplyCheckIn(const v1::CheckInVisitRequest& request, absl::Time now,
                          double geofence_radius_m, v1::Visit& visit) {
  // The first arrival starts the visit; on a two-worker visit the others join it.
  const bool joining = visit.state() == v1::VISIT_STATE_IN_PROGRESS && visit.workers_required() > 1;
  if (visit.state() != v1::VISIT_STATE_SCHEDULED && !joining) {
    return absl::FailedPreconditionError(
        absl::StrCat(visit.name(), " is ", v1::VisitState_Name(visit.state()),
                     "; checking in needs VISIT_STATE_SCHEDULED (or IN_PROGRESS for the "
                     "second worker of a two-worker visit)"));
  }
  if (joining) {
    if (CheckedIn(visit, request.worker())) {
      return absl::FailedPreconditionError(
          absl::StrCat("worker: ", request.worker(), " has already checked in to ", visit.name()));
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
  CheckGeofence(request, geofence_radius_m, "OUTSIDE_GEOFENCE", visit);
  if (now < FromTimestamp(visit.window_start())) AddException(visit, "EARLY_ARRIVAL");
  if (now > FromTimestamp(visit.window_end()) + absl::Minutes(visit.tolerance_minutes())) {
    AddException(visit, "LATE_ARRIVAL");
  }
  Stamp(request, now, joining ? visit.add_team_check_ins() : visit.mutable_check_in());
  visit.set_state(v1::VISIT_STATE_IN_PROGRESS);
  return absl::OkStatus();
}

absl::StatusOr<std::string> ApplyCheckOut(const v1::CheckOutVisitRequest& request, absl::Time now,
                                          double geofence_radius_m, v1::Visit& visit) {
  if (!CheckedIn(visit, request.worker())) {
    return WithReason(absl::FailedPreconditionError(absl::StrCat(
                          "worker: ", request.worker(), " did not check in to ", visit.name())),
                      common::v1::ERROR_REASON_INVALID_FIELD);
  }
  for (const v1::VisitCheck& out : visit.team_check_outs()) {
    if (out.worker() == request.worker()) {
      return absl::FailedPreconditionError(
          absl::StrCat("worker: ", request.worker(), " has already checked out of ", visit.name()));
    }
  }
  const absl::Time arrived = FromTimestamp(visit.check_in().time());
  if (now < arrived) return absl::FailedPreconditionError("check-out cannot be before check-in");
  CheckGeofence(request, geofence_radius_m, "OUTSIDE_GEOFENCE_AT_CHECK_OUT", visit);
  // Someone of the team is still there: this worker leaves, the visit goes on.
  if (visit.team_check_outs_size() + 1 < 1 + visit.team_check_ins_size()) {
    Stamp(request, now, visit.add_team_check_outs());
    return std::string("visit.worker_checked_out");
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
  OpenReviewIfNeeded(visit);
  return std::string("visit.completed");
}

bool IsMissed(const v1::Visit& visit, absl::Time now) {
  return FromTimestamp(visit.window_end()) + absl::Minutes(visit.tolerance_minutes()) < now;
}

}  // namespace linli::scheduling
