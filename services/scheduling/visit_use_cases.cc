#include "services/scheduling/visit_use_cases.h"

#include <vector>

#include "common/idempotency.h"
#include "common/status_macros.h"
#include "services/scheduling/scheduling_store.h"
#include "services/scheduling/visit_check.h"
#include "services/scheduling/visit_review.h"
#include "services/scheduling/visit_rules.h"

namespace linli::scheduling {

using storage::Transaction;

absl::Status CancelVisit(storage::Database& db, const Clock& clock, const std::string& id,
                         const v1::CancelVisitRequest& request, v1::CancelVisitResponse* response) {
  const absl::Time now = clock.Now();
  return RunIdempotent(
      db, "CancelVisit", request.request_id(), request, response,
      [&](Transaction& tx) {
        return ChangeVisitIn(
            tx, now, id, request.name(), v1::VISIT_STATE_SCHEDULED, "visit.cancelled",
            [&](Transaction& tx, v1::Visit& visit) -> absl::Status {
              // The booked workers are free again.
              RETURN_IF_ERROR(ReleaseBookings(tx, id));
              MarkCancelled(visit, request.reason_code(), request.note());
              return absl::OkStatus();
            },
            response->mutable_visit());
      },
      clock);
}

absl::Status ReviewVisit(storage::Database& db, const Clock& clock, const std::string& id,
                         const v1::ReviewVisitRequest& request, const std::string& reviewer,
                         v1::ReviewVisitResponse* response) {
  const absl::Time now = clock.Now();
  return RunIdempotent(
      db, "ReviewVisit", request.request_id(), request, response,
      [&](Transaction& tx) {
        return ChangeVisitIn(
            tx, now, id, request.name(), v1::VISIT_STATE_COMPLETED, "visit.reviewed",
            [&](Transaction&, v1::Visit& visit) {
              return ApplyReview(request, reviewer, now, visit);
            },
            response->mutable_visit());
      },
      clock);
}

absl::Status RescheduleVisit(storage::Database& db, const Clock& clock, const std::string& id,
                             absl::Time new_start, const v1::RescheduleVisitRequest& request,
                             v1::RescheduleVisitResponse* response) {
  const absl::Time now = clock.Now();
  return RunIdempotent(
      db, "RescheduleVisit", request.request_id(), request, response,
      [&](Transaction& tx) {
        return ChangeVisitIn(
            tx, now, id, request.name(), v1::VISIT_STATE_SCHEDULED, "visit.rescheduled",
            [&](Transaction& tx, v1::Visit& visit) -> absl::Status {
              // The bookings were for the old time: the visit is re-planned.
              RETURN_IF_ERROR(ReleaseBookings(tx, id));
              MoveWindow(visit, new_start, request.reason_code(), request.note());
              return absl::OkStatus();
            },
            response->mutable_visit());
      },
      clock);
}

absl::StatusOr<int> SweepMissedVisits(storage::Database& db, const Clock& clock) {
  // Scheduled visits whose window has opened, page by page (one transaction each); those still
  // within window plus tolerance are left for a later sweep.
  constexpr int kBatch = 1000;
  int missed = 0;
  const absl::Time now = clock.Now();
  VisitFilter filter;
  filter.to_us = absl::ToUnixMicros(now);
  filter.state = v1::VISIT_STATE_SCHEDULED;
  int64_t after_start = INT64_MIN;
  std::string after_id;
  for (bool more = true; more;) {
    int in_page = 0;
    RETURN_IF_ERROR(db.RunInTransaction([&](Transaction& tx) -> absl::Status {
      in_page = 0;
      ASSIGN_OR_RETURN(std::vector<VisitRow> rows,
                       QueryVisits(tx, filter, after_start, after_id, kBatch));
      more = static_cast<int>(rows.size()) == kBatch;
      for (VisitRow& row : rows) {
        v1::Visit& visit = row.visit;
        if (!IsMissed(visit, now)) continue;
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

}  // namespace linli::scheduling
