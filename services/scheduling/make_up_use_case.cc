#include "services/scheduling/make_up_use_case.h"

#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/idempotency.h"
#include "common/ids.h"
#include "common/status_macros.h"
#include "services/scheduling/booking.h"
#include "services/scheduling/make_up.h"
#include "services/scheduling/scheduling_store.h"
#include "services/scheduling/scheduling_util.h"
#include "services/scheduling/visit_rules.h"

namespace linli::scheduling {
namespace {

using storage::Transaction;

const absl::TimeZone kShanghai = absl::FixedTimeZone(8 * 3600);
// Rolls back a dry run's trial booking (RunInTransaction returns a body's error unchanged and
// retries only ABORTED and UNAVAILABLE).
constexpr char kTrialOnly[] = "make-up trial booking, rolled back";

struct MissedFacts {
  v1::Visit missed;
  v1::Commitment commitment;
  VisitRow row;  // the missed visit's row as read (its version guards a booking)
};

// The missed visit and its active promise, and that it has not been made up yet.
absl::StatusOr<MissedFacts> ReadMissed(Transaction& tx, const std::string& missed_id) {
  ASSIGN_OR_RETURN(std::optional<VisitRow> row, FindVisit(tx, missed_id));
  const std::string name = "visits/" + missed_id;
  if (!row.has_value()) return NotFound(name);
  if (row->visit.state() != v1::VISIT_STATE_MISSED) {
    return absl::FailedPreconditionError(absl::StrCat(
        "missed_visit: ", name, " is ", v1::VisitState_Name(row->visit.state()), ", not missed"));
  }
  ASSIGN_OR_RETURN(std::optional<v1::Commitment> commitment,
                   FindCommitment(tx, row->commitment_id));
  if (!commitment.has_value() || commitment->state() != v1::COMMITMENT_STATE_ACTIVE) {
    return absl::FailedPreconditionError(
        absl::StrCat("missed_visit: the promise of ", name, " is no longer active"));
  }
  VisitFilter filter;
  filter.commitment_id = row->commitment_id;
  filter.from_us = row->window_start_us;
  ASSIGN_OR_RETURN(std::vector<VisitRow> later, QueryVisits(tx, filter, INT64_MIN, "", 1000));
  for (const VisitRow& v : later) {
    if (v.visit.make_up_for() == name && v.visit.state() != v1::VISIT_STATE_CANCELLED) {
      return absl::AlreadyExistsError(
          absl::StrCat(name, " is made up already by ", v.visit.name()));
    }
  }
  v1::Visit missed = row->visit;
  return MissedFacts{std::move(missed), std::move(*commitment), std::move(*row)};
}

// ReadMissed for booking a make-up: also FAILED_PRECONDITION when the make-up was declined.
absl::StatusOr<MissedFacts> ReadMissedToMakeUp(Transaction& tx, const std::string& missed_id) {
  ASSIGN_OR_RETURN(MissedFacts facts, ReadMissed(tx, missed_id));
  if (facts.missed.has_make_up_declined()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "missed_visit: the make-up of ", facts.missed.name(), " was declined on ",
        absl::FormatTime("%Y-%m-%d", FromTimestamp(facts.missed.make_up_declined().time()),
                         kShanghai)));
  }
  return facts;
}

// Creates the make-up visit of `window` in `tx` and books the first of `workers` free then; the
// visit, or FAILED_PRECONDITION when nobody is.
absl::StatusOr<v1::Visit> BookMakeUp(Transaction& tx, const Clock& clock, const MissedFacts& facts,
                                     const Occurrence& window,
                                     const std::vector<registry::v1::Worker>& workers) {
  VisitRow row;
  row.id = NewId(clock);
  row.commitment_id = facts.commitment.name().substr(12);
  row.window_start_us = absl::ToUnixMicros(window.window_start);
  row.visit = NewVisit(facts.commitment, window, "visits/" + row.id);
  row.visit.set_make_up_for(facts.missed.name());
  if (absl::Status inserted = InsertVisit(tx, row); !inserted.ok()) {
    // The window of an earlier make-up that was cancelled: not offered again.
    if (absl::IsAlreadyExists(inserted)) return absl::FailedPreconditionError("window taken");
    return inserted;
  }
  for (const registry::v1::Worker& worker : workers) {
    absl::Status booked = BookOnVisit(tx, row.visit, row.id, worker, window.window_start, "make-up",
                                      "window_start", /*check_availability=*/true);
    if (booked.ok()) return row.visit;
    // Busy, not working then: the next one. Anything else is the database's failure.
    if (!absl::IsAlreadyExists(booked) && !absl::IsFailedPrecondition(booked) &&
        !absl::IsInvalidArgument(booked)) {
      return booked;
    }
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "nobody of ", facts.commitment.owner_organisation(), " is free for a make-up at ",
      absl::FormatTime("%Y-%m-%d %H:%M", window.window_start, kShanghai)));
}

}  // namespace

absl::Status MakeUpVisit(storage::Database& db, const Clock& clock, RegistryView& registry,
                         const std::string& missed_id, const v1::MakeUpVisitRequest& request,
                         v1::MakeUpVisitResponse* response) {
  ASSIGN_OR_RETURN(bool replayed, FindIdempotentResponse(db, "MakeUpVisit", request.request_id(),
                                                         request, response, clock));
  if (replayed) return absl::OkStatus();
  MissedFacts facts;
  RETURN_IF_ERROR(db.RunInTransaction(
      [&](Transaction& tx) -> absl::Status {
        ASSIGN_OR_RETURN(facts, ReadMissedToMakeUp(tx, missed_id));
        return absl::OkStatus();
      },
      {.read_only = true}));
  // The owner's workers who can serve the promise, outside any transaction.
  ASSIGN_OR_RETURN(const std::vector<registry::v1::Worker> owned,
                   AllWorkers(registry, facts.commitment.owner_organisation()));
  const std::vector<registry::v1::Worker> workers = MakeUpCandidates(owned, facts.commitment);

  const absl::Time now = clock.Now();
  const int days = request.within_days() == 0 ? kDefaultMakeUpDays : request.within_days();
  const std::vector<Occurrence> windows =
      MakeUpWindows(facts.commitment, facts.missed, absl::ToCivilDay(now, kShanghai), days);

  if (request.dry_run()) {
    response->Clear();
    for (const Occurrence& window : windows) {
      // A trial booking in a transaction that is always rolled back: the same rules decide.
      v1::Visit trial;
      absl::Status tried = db.RunInTransaction([&](Transaction& tx) -> absl::Status {
        ASSIGN_OR_RETURN(trial, BookMakeUp(tx, clock, facts, window, workers));
        return absl::CancelledError(kTrialOnly);
      });
      if (absl::IsCancelled(tried) && tried.message() == kTrialOnly) {
        v1::MakeUpProposal* p = response->add_proposals();
        *p->mutable_window_start() = trial.window_start();
        *p->mutable_window_end() = trial.window_end();
        p->set_worker(trial.assignments(0).worker());
      } else if (!absl::IsFailedPrecondition(tried)) {
        return tried;
      }
    }
    if (response->proposals().empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("nobody of ", facts.commitment.owner_organisation(),
                       " is free for a make-up in the next ", days,
                       " days: another provider is needed (ProposeFallback)"));
    }
    return absl::OkStatus();
  }

  const absl::Time wanted = FromTimestamp(request.window_start());
  const Occurrence* window = nullptr;
  for (const Occurrence& w : windows) {
    if (w.window_start == wanted) window = &w;
  }
  if (window == nullptr) {
    return InvalidField("window_start",
                        "is not a window MakeUpVisit proposes for this visit (dry_run lists them)");
  }
  return RunIdempotent(
      db, "MakeUpVisit", request.request_id(), request, response,
      [&](Transaction& tx) -> absl::Status {
        // Again inside the transaction: another make-up may have been booked meanwhile.
        ASSIGN_OR_RETURN(MissedFacts current, ReadMissedToMakeUp(tx, missed_id));
        // The missed visit's row is rewritten as read: a decline committed meanwhile (which
        // changes that row) makes this transaction start again and see it, on MySQL's read
        // committed as on SQLite.
        ASSIGN_OR_RETURN(bool unchanged, UpdateVisitIf(tx, current.row, v1::VISIT_STATE_MISSED));
        if (!unchanged) {
          return absl::AbortedError(absl::StrCat(current.missed.name(), " changed concurrently"));
        }
        ASSIGN_OR_RETURN(v1::Visit visit, BookMakeUp(tx, clock, current, *window, workers));
        RETURN_IF_ERROR(AppendVisitEvent(tx, "visit.scheduled", visit, now));
        RETURN_IF_ERROR(AppendVisitEvent(tx, "visit.assigned", visit, now));
        response->Clear();
        *response->mutable_visit() = std::move(visit);
        return absl::OkStatus();
      },
      clock);
}

absl::Status DeclineMakeUp(storage::Database& db, const Clock& clock, const std::string& missed_id,
                           const v1::DeclineMakeUpRequest& request, const std::string& by,
                           v1::DeclineMakeUpResponse* response) {
  const absl::Time now = clock.Now();
  return RunIdempotent(
      db, "DeclineMakeUp", request.request_id(), request, response,
      [&](Transaction& tx) -> absl::Status {
        response->Clear();
        ASSIGN_OR_RETURN(std::optional<VisitRow> stored, FindVisit(tx, missed_id));
        if (stored.has_value() && stored->visit.has_make_up_declined()) {  // declined before
          *response->mutable_visit() = std::move(stored->visit);
          return absl::OkStatus();
        }
        absl::StatusOr<MissedFacts> facts = ReadMissed(tx, missed_id);
        if (absl::IsAlreadyExists(facts.status())) {
          return absl::FailedPreconditionError(facts.status().message());
        }
        RETURN_IF_ERROR(facts.status());
        return ChangeVisitIn(
            tx, now, missed_id, facts->missed.name(), v1::VISIT_STATE_MISSED,
            "visit.make_up_declined",
            [&](Transaction&, v1::Visit& visit) -> absl::Status {
              v1::MakeUpDecline* decline = visit.mutable_make_up_declined();
              *decline->mutable_time() = ToTimestamp(now);
              decline->set_by(by);
              decline->set_reason(request.reason());
              return absl::OkStatus();
            },
            response->mutable_visit());
      },
      clock);
}

}  // namespace linli::scheduling
