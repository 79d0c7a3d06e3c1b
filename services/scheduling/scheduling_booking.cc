// SchedulingService: booking workers on visits — assign, unassign, swap, and releasing a worker
// who cannot work. The database refuses overlapping bookings of one worker (worker_slots primary
// key, see scheduling_store.h); these handlers add the rules around it: visit state, staffing,
// skills, time bounds.
#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "common/client.h"
#include "common/errors.h"
#include "common/idempotency.h"
#include "common/recurrence/rrule.h"
#include "common/server.h"
#include "common/status_macros.h"
#include "common/text.h"
#include "services/scheduling/availability.h"
#include "services/scheduling/booking.h"
#include "services/scheduling/scheduling_service.h"
#include "services/scheduling/scheduling_store.h"
#include "services/scheduling/scheduling_util.h"

namespace linli::scheduling {
namespace {

using storage::Transaction;

// Latest planned start after the window opens that a booking may have.
constexpr absl::Duration kMaxStartAfterWindow = absl::Hours(12);

// The skills the visit's commitment requires that the worker lacks, joined by ", ".
absl::StatusOr<std::string> MissingSkills(Transaction& tx, const v1::Visit& visit,
                                          const registry::v1::Worker& worker) {
  ASSIGN_OR_RETURN(auto commitment, FindCommitment(tx, visit.commitment().substr(12)));
  if (!commitment.has_value()) return absl::InternalError(visit.commitment() + " is missing");
  const std::set<std::string> has(worker.skills().begin(), worker.skills().end());
  std::string missing;
  for (const std::string& skill : commitment->required_skills()) {
    if (has.count(skill) == 0) absl::StrAppend(&missing, missing.empty() ? "" : ", ", skill);
  }
  return missing;
}

int FindAssignment(const v1::Visit& visit, const std::string& worker) {
  for (int i = 0; i < visit.assignments_size(); ++i) {
    if (visit.assignments(i).worker() == worker) return i;
  }
  return -1;
}

void RemoveAssignment(v1::Visit& visit, int index) {
  visit.mutable_assignments()->erase(visit.mutable_assignments()->begin() + index);
}

void ValidateNote(const std::string& reason_code, FieldViolations& v) {
  if (!IsReasonCode(reason_code)) {
    v.Add("reason_code", "must be 2-32 characters of A-Z, 0-9 and '_', e.g. WORKER_ILL");
  }
}

}  // namespace

absl::Status BookOnVisit(Transaction& tx, v1::Visit& visit, const std::string& visit_id,
                         const registry::v1::Worker& worker, absl::Time start,
                         const std::string& source, const std::string& field,
                         bool check_availability) {
  if (FindAssignment(visit, worker.name()) >= 0) {
    return InvalidField(field, absl::StrCat(worker.name(), " is already booked on ", visit.name()));
  }
  if (visit.assignments_size() >= std::max(1, visit.workers_required())) {
    return absl::FailedPreconditionError(absl::StrCat(visit.name(), " already has the ",
                                                      visit.workers_required(),
                                                      " worker(s) it needs; unassign one first"));
  }
  ASSIGN_OR_RETURN(std::string missing, MissingSkills(tx, visit, worker));
  if (!missing.empty()) {
    return InvalidField(field, absl::StrCat(worker.name(), " lacks the skill(s) ", missing,
                                            " that ", visit.commitment(), " requires"));
  }
  const absl::Time end = start + absl::Minutes(visit.duration_minutes());
  if (check_availability && !WithinAvailability(worker, start, end)) {
    return WithReason(
        absl::FailedPreconditionError(absl::StrCat(
            field, ": ", worker.name(), " does not work from ",
            absl::FormatTime("%Y-%m-%d %H:%M", start, recurrence::ShanghaiTimeZone()), " to ",
            absl::FormatTime("%H:%M", end, recurrence::ShanghaiTimeZone()),
            " (outside their availability); book with outside_availability if agreed")),
        common::v1::ERROR_REASON_WORKER_UNAVAILABLE);
  }
  RETURN_IF_ERROR(BookWorker(tx, worker.name(), visit_id, start, end));
  v1::Assignment* a = visit.add_assignments();
  a->set_worker(worker.name());
  *a->mutable_start() = ToProto(start);
  *a->mutable_end() = ToProto(end);
  a->set_source(source);
  return absl::OkStatus();
}

absl::StatusOr<registry::v1::Worker> SchedulingServiceImpl::ActiveWorker(
    grpc::ServerContext* context, const std::string& name, const std::string& field) {
  registry::v1::GetWorkerRequest request;
  request.set_name(name);
  registry::v1::GetWorkerResponse response;
  grpc::Status status = registry_->GetWorker(
      NewClientContext(context, options_.backend_timeout).get(), request, &response);
  if (status.error_code() == grpc::StatusCode::NOT_FOUND) {
    return InvalidField(field, name + " does not exist");
  }
  if (!status.ok()) return RegistryError(status);
  if (response.worker().status() != registry::v1::WORKER_STATUS_ACTIVE) {
    return absl::FailedPreconditionError(absl::StrCat(
        field, ": ", name, " is ", registry::v1::WorkerStatus_Name(response.worker().status())));
  }
  return response.worker();
}

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
  // A retry gets its first answer even when the registry could not confirm the worker now.
  if (absl::StatusOr<bool> replayed = FindIdempotentResponse(
          db_, "AssignVisit", request->request_id(), *request, response, clock_);
      !replayed.ok() || *replayed) {
    return Reply(*context, replayed.status());
  }
  absl::StatusOr<registry::v1::Worker> worker = ActiveWorker(context, request->worker(), "worker");
  if (!worker.ok()) return Reply(*context, worker.status());
  const absl::Time now = clock_.Now();
  return Reply(*context,
               RunIdempotent(
                   db_, "AssignVisit", request->request_id(), *request, response,
                   [&](Transaction& tx) {
                     return ChangeVisitIn(
                         tx, now, *id, request->name(), v1::VISIT_STATE_SCHEDULED, "visit.assigned",
                         [&](Transaction& tx, v1::Visit& visit) -> absl::Status {
                           const absl::Time window = FromProto(visit.window_start());
                           const absl::Time start =
                               request->has_start() ? FromProto(request->start()) : window;
                           if (start < window || start > window + kMaxStartAfterWindow) {
                             return InvalidField(
                                 "start", "must be within 12 hours after the visit's window opens");
                           }
                           return BookOnVisit(tx, visit, *id, *worker, start,
                                              request->outside_availability()
                                                  ? "manual-outside-availability"
                                                  : "manual",
                                              "worker", !request->outside_availability());
                         },
                         response->mutable_visit());
                   },
                   clock_));
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
  const absl::Time now = clock_.Now();
  return Reply(
      *context,
      RunIdempotent(
          db_, "UnassignVisit", request->request_id(), *request, response,
          [&](Transaction& tx) {
            return ChangeVisitIn(
                tx, now, *id, request->name(), v1::VISIT_STATE_SCHEDULED, "visit.unassigned",
                [&](Transaction& tx, v1::Visit& visit) -> absl::Status {
                  const int index = FindAssignment(visit, request->worker());
                  if (index < 0) {
                    return InvalidField("worker", absl::StrCat(request->worker(),
                                                               " is not booked on ", visit.name()));
                  }
                  RETURN_IF_ERROR(ReleaseBookings(tx, *id, request->worker()));
                  RemoveAssignment(visit, index);
                  visit.set_reason_code(request->reason_code());
                  visit.set_note(request->note());
                  return absl::OkStatus();
                },
                response->mutable_visit());
          },
          clock_));
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
  if (absl::StatusOr<bool> replayed = FindIdempotentResponse(
          db_, "SwapVisitWorkers", request->request_id(), *request, response, clock_);
      !replayed.ok() || *replayed) {
    return Reply(*context, replayed.status());
  }
  absl::StatusOr<registry::v1::Worker> a =
      ActiveWorker(context, request->first_worker(), "first_worker");
  if (!a.ok()) return Reply(*context, a.status());
  absl::StatusOr<registry::v1::Worker> b =
      ActiveWorker(context, request->second_worker(), "second_worker");
  if (!b.ok()) return Reply(*context, b.status());
  const absl::Time now = clock_.Now();
  auto swap = [&](Transaction& tx) -> absl::Status {
    response->Clear();
    // Both bookings are released first so that the two moves never collide with each other.
    struct Side {
      const std::string& id;
      const std::string& name;
      const std::string& field;
      const registry::v1::Worker& leaving;
      const registry::v1::Worker& arriving;
      absl::Time start;
    };
    const std::string first_field = "first_worker", second_field = "second_worker";
    Side sides[2] = {{*first, request->first(), first_field, *a, *b, absl::InfinitePast()},
                     {*second, request->second(), second_field, *b, *a, absl::InfinitePast()}};
    for (Side& side : sides) {
      v1::Visit ignored;
      RETURN_IF_ERROR(ChangeVisitIn(
          tx, now, side.id, side.name, v1::VISIT_STATE_SCHEDULED, "visit.unassigned",
          [&](Transaction& tx, v1::Visit& visit) -> absl::Status {
            const int index = FindAssignment(visit, side.leaving.name());
            if (index < 0) {
              return InvalidField(side.field, absl::StrCat(side.leaving.name(),
                                                           " is not booked on ", visit.name()));
            }
            side.start = FromProto(visit.assignments(index).start());
            RETURN_IF_ERROR(ReleaseBookings(tx, side.id, side.leaving.name()));
            RemoveAssignment(visit, index);
            visit.set_reason_code(request->reason_code());
            return absl::OkStatus();
          },
          &ignored));
    }
    for (Side& side : sides) {
      RETURN_IF_ERROR(ChangeVisitIn(
          tx, now, side.id, side.name, v1::VISIT_STATE_SCHEDULED, "visit.assigned",
          [&](Transaction& tx, v1::Visit& visit) {
            return BookOnVisit(tx, visit, side.id, side.arriving, side.start, "swap",
                               side.field == first_field ? second_field : first_field,
                               /*check_availability=*/true);
          },
          response->add_visits()));
    }
    return absl::OkStatus();
  };
  return Reply(*context, RunIdempotent(db_, "SwapVisitWorkers", request->request_id(), *request,
                                       response, swap, clock_));
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
  const absl::TimeZone tz = recurrence::ShanghaiTimeZone();
  const absl::Time begin = absl::FromCivil(from, tz);
  const absl::Time end = absl::FromCivil(from + request->days(), tz);
  const absl::Time now = clock_.Now();
  auto release = [&](Transaction& tx) -> absl::Status {
    response->Clear();
    ASSIGN_OR_RETURN(std::vector<std::string> ids,
                     BookedVisitIds(tx, request->worker(), begin, end));
    for (const std::string& visit_id : ids) {
      ASSIGN_OR_RETURN(auto row, FindVisit(tx, visit_id));
      // Visits already started or finished keep their record of who was booked.
      if (!row.has_value() || row->visit.state() != v1::VISIT_STATE_SCHEDULED) continue;
      v1::Visit* released = response->add_visits();
      RETURN_IF_ERROR(ChangeVisitIn(
          tx, now, visit_id, row->visit.name(), v1::VISIT_STATE_SCHEDULED, "visit.unassigned",
          [&](Transaction& tx, v1::Visit& visit) -> absl::Status {
            RETURN_IF_ERROR(ReleaseBookings(tx, visit_id, request->worker()));
            const int index = FindAssignment(visit, request->worker());
            if (index >= 0) RemoveAssignment(visit, index);
            visit.set_reason_code(request->reason_code());
            return absl::OkStatus();
          },
          released));
    }
    std::sort(response->mutable_visits()->begin(), response->mutable_visits()->end(),
              [](const v1::Visit& x, const v1::Visit& y) {
                return std::make_pair(x.window_start().seconds(), x.name()) <
                       std::make_pair(y.window_start().seconds(), y.name());
              });
    return absl::OkStatus();
  };
  return Reply(*context, RunIdempotent(db_, "ReleaseWorker", request->request_id(), *request,
                                       response, release, clock_));
}

}  // namespace linli::scheduling
