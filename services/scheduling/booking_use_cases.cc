#include "services/scheduling/booking_use_cases.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/idempotency.h"
#include "common/recurrence/rrule.h"
#include "common/status_macros.h"
#include "services/scheduling/booking.h"
#include "services/scheduling/scheduling_store.h"
#include "services/scheduling/scheduling_util.h"
#include "services/scheduling/staffing.h"

namespace linli::scheduling {
namespace {

using storage::Transaction;

// Frees `worker`'s booking on visit `id` (INVALID_ARGUMENT naming `field` when they have none)
// and keeps `reason_code`; returns when the worker's part started.
absl::StatusOr<absl::Time> Unbook(Transaction& tx, const std::string& id, v1::Visit& visit,
                                  const std::string& worker, const std::string& field,
                                  const std::string& reason_code) {
  const int index = FindAssignment(visit, worker);
  if (index < 0) {
    return InvalidField(field, absl::StrCat(worker, " is not booked on ", visit.name()));
  }
  const absl::Time start = FromTimestamp(visit.assignments(index).start());
  RETURN_IF_ERROR(ReleaseBookings(tx, id, worker));
  RemoveAssignment(visit, index);
  visit.set_reason_code(reason_code);
  return start;
}

}  // namespace

absl::StatusOr<registry::v1::Worker> ActiveWorker(RegistryView& registry, const std::string& name,
                                                  const std::string& field) {
  registry::v1::GetWorkerRequest request;
  request.set_name(name);
  absl::StatusOr<registry::v1::GetWorkerResponse> found = registry.GetWorker(request);
  if (absl::IsNotFound(found.status())) return InvalidField(field, name + " does not exist");
  RETURN_IF_ERROR(found.status());
  if (found->worker().status() != registry::v1::WORKER_STATUS_ACTIVE) {
    return absl::FailedPreconditionError(absl::StrCat(
        field, ": ", name, " is ", registry::v1::WorkerStatus_Name(found->worker().status())));
  }
  return found->worker();
}

absl::Status AssignVisit(storage::Database& db, const Clock& clock, RegistryView& registry,
                         const std::string& id, const v1::AssignVisitRequest& request,
                         v1::AssignVisitResponse* response) {
  // A retry gets its first answer even when the registry could not confirm the worker now.
  ASSIGN_OR_RETURN(bool replayed, FindIdempotentResponse(db, "AssignVisit", request.request_id(),
                                                         request, response, clock));
  if (replayed) return absl::OkStatus();
  ASSIGN_OR_RETURN(const registry::v1::Worker worker,
                   ActiveWorker(registry, request.worker(), "worker"));
  const absl::Time now = clock.Now();
  return RunIdempotent(
      db, "AssignVisit", request.request_id(), request, response,
      [&](Transaction& tx) {
        return ChangeVisitIn(
            tx, now, id, request.name(), v1::VISIT_STATE_SCHEDULED, "visit.assigned",
            [&](Transaction& tx, v1::Visit& visit) -> absl::Status {
              const absl::Time start = request.has_start() ? FromTimestamp(request.start())
                                                           : FromTimestamp(visit.window_start());
              RETURN_IF_ERROR(CheckManualStart(visit, start));
              return BookOnVisit(
                  tx, visit, id, worker, start,
                  request.outside_availability() ? "manual-outside-availability" : "manual",
                  "worker", !request.outside_availability());
            },
            response->mutable_visit());
      },
      clock);
}

absl::Status UnassignVisit(storage::Database& db, const Clock& clock, const std::string& id,
                           const v1::UnassignVisitRequest& request,
                           v1::UnassignVisitResponse* response) {
  const absl::Time now = clock.Now();
  return RunIdempotent(
      db, "UnassignVisit", request.request_id(), request, response,
      [&](Transaction& tx) {
        return ChangeVisitIn(
            tx, now, id, request.name(), v1::VISIT_STATE_SCHEDULED, "visit.unassigned",
            [&](Transaction& tx, v1::Visit& visit) -> absl::Status {
              RETURN_IF_ERROR(
                  Unbook(tx, id, visit, request.worker(), "worker", request.reason_code())
                      .status());
              visit.set_note(request.note());
              return absl::OkStatus();
            },
            response->mutable_visit());
      },
      clock);
}

absl::Status SwapVisitWorkers(storage::Database& db, const Clock& clock, RegistryView& registry,
                              const std::string& first_id, const std::string& second_id,
                              const v1::SwapVisitWorkersRequest& request,
                              v1::SwapVisitWorkersResponse* response) {
  ASSIGN_OR_RETURN(bool replayed,
                   FindIdempotentResponse(db, "SwapVisitWorkers", request.request_id(), request,
                                          response, clock));
  if (replayed) return absl::OkStatus();
  ASSIGN_OR_RETURN(const registry::v1::Worker a,
                   ActiveWorker(registry, request.first_worker(), "first_worker"));
  ASSIGN_OR_RETURN(const registry::v1::Worker b,
                   ActiveWorker(registry, request.second_worker(), "second_worker"));
  const absl::Time now = clock.Now();
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
    Side sides[2] = {{first_id, request.first(), first_field, a, b, absl::InfinitePast()},
                     {second_id, request.second(), second_field, b, a, absl::InfinitePast()}};
    for (Side& side : sides) {
      v1::Visit ignored;
      RETURN_IF_ERROR(ChangeVisitIn(
          tx, now, side.id, side.name, v1::VISIT_STATE_SCHEDULED, "visit.unassigned",
          [&](Transaction& tx, v1::Visit& visit) -> absl::Status {
            ASSIGN_OR_RETURN(side.start, Unbook(tx, side.id, visit, side.leaving.name(), side.field,
                                                request.reason_code()));
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
  return RunIdempotent(db, "SwapVisitWorkers", request.request_id(), request, response, swap,
                       clock);
}

absl::Status ReleaseWorker(storage::Database& db, const Clock& clock, absl::CivilDay from,
                           const v1::ReleaseWorkerRequest& request,
                           v1::ReleaseWorkerResponse* response) {
  const absl::TimeZone tz = recurrence::ShanghaiTimeZone();
  const absl::Time begin = absl::FromCivil(from, tz);
  const absl::Time end = absl::FromCivil(from + request.days(), tz);
  const absl::Time now = clock.Now();
  auto release = [&](Transaction& tx) -> absl::Status {
    response->Clear();
    ASSIGN_OR_RETURN(std::vector<std::string> ids,
                     BookedVisitIds(tx, request.worker(), begin, end));
    for (const std::string& visit_id : ids) {
      ASSIGN_OR_RETURN(auto row, FindVisit(tx, visit_id));
      // Visits already started or finished keep their record of who was booked.
      if (!row.has_value() || row->visit.state() != v1::VISIT_STATE_SCHEDULED) continue;
      v1::Visit* released = response->add_visits();
      RETURN_IF_ERROR(ChangeVisitIn(
          tx, now, visit_id, row->visit.name(), v1::VISIT_STATE_SCHEDULED, "visit.unassigned",
          [&](Transaction& tx, v1::Visit& visit) -> absl::Status {
            RETURN_IF_ERROR(ReleaseBookings(tx, visit_id, request.worker()));
            const int index = FindAssignment(visit, request.worker());
            if (index >= 0) RemoveAssignment(visit, index);
            visit.set_reason_code(request.reason_code());
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
  return RunIdempotent(db, "ReleaseWorker", request.request_id(), request, response, release,
                       clock);
}

}  // namespace linli::scheduling
