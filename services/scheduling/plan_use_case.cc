#include "services/scheduling/plan_use_case.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/status_macros.h"
#include "services/scheduling/booking.h"
#include "services/scheduling/plan_problem.h"
#include "services/scheduling/planner/planner.h"
#include "services/scheduling/scheduling_store.h"

namespace linli::scheduling {
namespace {

using storage::Transaction;

constexpr int kVisitsPerBookingTransaction = 100;
constexpr int kRegistryPage = 1000;
constexpr int kVisitPage = 1000;

absl::Status Cancelled() {
  return absl::CancelledError(
      "the plan was cancelled by its caller (or its deadline passed); what was booked stays "
      "booked");
}

// The names of the region's elders; INVALID_ARGUMENT naming "region" when the registry does not
// know it.
absl::StatusOr<std::set<std::string>> RegionElders(RegistryView& registry,
                                                   const std::function<bool()>& cancelled,
                                                   const std::string& region) {
  std::set<std::string> elders;
  registry::v1::ListEldersRequest list;
  list.set_region(region);
  list.set_page_size(kRegistryPage);
  do {
    if (cancelled()) return Cancelled();
    absl::StatusOr<registry::v1::ListEldersResponse> page = registry.ListElders(list);
    if (absl::IsNotFound(page.status())) return InvalidField("region", region + " does not exist");
    RETURN_IF_ERROR(page.status());
    for (const auto& e : page->elders()) elders.insert(e.name());
    list.set_page_token(page->next_page_token());
  } while (!list.page_token().empty());
  return elders;
}

// What the plan reads from the store in one transaction: the period's visits in scope, with
// their commitments, and who came last time per commitment.
struct StoredInput {
  std::vector<PlanCandidate> candidates;
  std::map<std::string, std::vector<std::string>> previous;  // commitment id -> workers
};

absl::StatusOr<StoredInput> ReadCandidates(storage::Database& db, const PlanPeriod& period,
                                           const PlanScope& scope) {
  StoredInput input;
  RETURN_IF_ERROR(db.RunInTransaction(
      [&](Transaction& tx) -> absl::Status {
        input = StoredInput();
        std::map<std::string, std::optional<v1::Commitment>> commitments;
        VisitFilter filter;
        filter.from_us = absl::ToUnixMicros(period.begin);
        filter.to_us = absl::ToUnixMicros(period.end);
        filter.state = v1::VISIT_STATE_SCHEDULED;
        int64_t after_start = INT64_MIN;
        std::string after_id;
        for (bool more = true; more;) {
          ASSIGN_OR_RETURN(std::vector<VisitRow> rows,
                           QueryVisits(tx, filter, after_start, after_id, kVisitPage));
          more = rows.size() == static_cast<size_t>(kVisitPage);
          if (!rows.empty()) {
            after_start = rows.back().window_start_us;
            after_id = rows.back().id;
          }
          for (VisitRow& row : rows) {
            if (!scope.Takes(row.visit)) continue;
            auto [it, inserted] = commitments.try_emplace(row.commitment_id);
            if (inserted) {
              ASSIGN_OR_RETURN(it->second, FindCommitment(tx, row.commitment_id));
            }
            if (!it->second.has_value() || !scope.Takes(*it->second)) continue;
            input.candidates.push_back(PlanCandidate{std::move(row.id), row.commitment_id,
                                                     std::move(row.visit), *it->second});
          }
        }
        // Who came last time, per commitment: the workers of its latest completed visit.
        for (const PlanCandidate& c : input.candidates) {
          auto [it, inserted] = input.previous.try_emplace(c.commitment_id);
          if (!inserted) continue;
          ASSIGN_OR_RETURN(std::optional<VisitRow> last,
                           LastCompletedVisit(tx, c.visit.elder(), c.commitment_id,
                                              absl::ToUnixMicros(period.end)));
          if (last.has_value()) it->second = WorkersWhoCame(last->visit);
        }
        return absl::OkStatus();
      },
      {.read_only = true}));
  return input;
}

// The active workers of the candidates' owner organisations, by name.
absl::StatusOr<std::map<std::string, registry::v1::Worker>> OwnersWorkers(
    RegistryView& registry, const std::function<bool()>& cancelled,
    const std::vector<PlanCandidate>& candidates) {
  std::map<std::string, registry::v1::Worker> workers;
  std::set<std::string> owners;
  for (const PlanCandidate& c : candidates) owners.insert(c.commitment.owner_organisation());
  for (const std::string& owner : owners) {
    if (cancelled()) return Cancelled();
    registry::v1::ListWorkersRequest list;
    list.set_organisation(owner);
    list.set_page_size(kRegistryPage);
    do {
      ASSIGN_OR_RETURN(registry::v1::ListWorkersResponse page, registry.ListWorkers(list));
      for (const auto& w : page.workers()) {
        if (w.status() == registry::v1::WORKER_STATUS_ACTIVE) workers[w.name()] = w;
      }
      list.set_page_token(page.next_page_token());
    } while (!list.page_token().empty());
  }
  return workers;
}

struct BookingOutcome {
  int booked = 0;
  int conflicts = 0;
  std::set<std::string> conflicted;  // names of the visits refused
};

// Books the complete visits of plan `plan_name` in chunks of visits per transaction; a chunk
// that meets a conflict is redone one by one, and the visits booked or changed by someone else
// since the plan read them are counted as conflicts.
absl::StatusOr<BookingOutcome> Book(storage::Database& db, absl::Time now,
                                    const std::function<bool()>& cancelled,
                                    const std::string& plan_name,
                                    const std::vector<PlannedBooking>& complete,
                                    const std::map<std::string, registry::v1::Worker>& workers) {
  auto book = [&](Transaction& tx, const PlannedBooking& b) -> absl::Status {
    v1::Visit ignored;
    return ChangeVisitIn(
        tx, now, b.candidate->visit_id, b.candidate->visit.name(), v1::VISIT_STATE_SCHEDULED,
        "visit.assigned",
        [&](Transaction& tx, v1::Visit& visit) -> absl::Status {
          for (const auto& [worker, start] : b.workers) {
            RETURN_IF_ERROR(BookOnVisit(tx, visit, b.candidate->visit_id, workers.at(worker), start,
                                        plan_name, "plan",
                                        // the routes were planned within the shifts
                                        /*check_availability=*/false));
          }
          return absl::OkStatus();
        },
        &ignored);
  };
  // A refusal of the rules or of the slot keys: the visit changed since the plan read it.
  auto conflict = [](const absl::Status& s) {
    return absl::IsFailedPrecondition(s) || absl::IsInvalidArgument(s);
  };
  BookingOutcome outcome;
  for (size_t i = 0; i < complete.size(); i += kVisitsPerBookingTransaction) {
    if (cancelled()) return Cancelled();
    const size_t j = std::min(complete.size(), i + kVisitsPerBookingTransaction);
    absl::Status chunk = db.RunInTransaction([&](Transaction& tx) -> absl::Status {
      for (size_t k = i; k < j; ++k) RETURN_IF_ERROR(book(tx, complete[k]));
      return absl::OkStatus();
    });
    if (chunk.ok()) {
      outcome.booked += static_cast<int>(j - i);
      continue;
    }
    if (!conflict(chunk)) return chunk;
    for (size_t k = i; k < j; ++k) {
      absl::Status one =
          db.RunInTransaction([&](Transaction& tx) { return book(tx, complete[k]); });
      if (one.ok()) {
        ++outcome.booked;
      } else if (conflict(one)) {
        ++outcome.conflicts;
        outcome.conflicted.insert(complete[k].candidate->visit.name());
      } else {
        return one;
      }
    }
  }
  return outcome;
}

}  // namespace

absl::Status RunPlan(storage::Database& db, const Clock& clock, RegistryView& registry,
                     const std::function<bool()>& cancelled, const v1::PlanRequest& request,
                     v1::PlanResponse* response) {
  ASSIGN_OR_RETURN(const PlanPeriod period, ValidatePlanRequest(request));
  PlanScope scope;
  scope.owner_organisation = request.owner_organisation();
  if (!request.region().empty()) {
    ASSIGN_OR_RETURN(scope.elders, RegionElders(registry, cancelled, request.region()));
  }
  ASSIGN_OR_RETURN(StoredInput input, ReadCandidates(db, period, scope));
  if (cancelled()) return Cancelled();
  const std::vector<PlanCandidate>& candidates = input.candidates;
  ASSIGN_OR_RETURN(const auto workers, OwnersWorkers(registry, cancelled, candidates));

  const std::string plan_name = "plans/" + NewId(clock);
  BuiltProblem built =
      BuildPlanProblem(plan_name, period, candidates, input.previous, workers, request.weights());
  const v1::PlanProblem& problem = built.problem;
  for (const std::string& visit : built.unlocated) {
    if (response->unassigned_size() >= kMaxUnassignedListed) break;
    v1::UnassignedTask* u = response->add_unassigned();
    u->set_visit(visit);
    u->set_reason(kNoHomeLocationReason);
  }
  if (request.include_problem()) *response->mutable_problem() = problem;
  response->set_name(plan_name);
  response->set_visits(static_cast<int32_t>(candidates.size()));
  response->set_workers(problem.workers_size());
  if (problem.visits_size() == 0) return absl::OkStatus();

  planner::PlanSettings settings = PlanSettingsFor(request);
  settings.progress = [&](const std::string& line) {
    LogInfo("planning", {{"plan", plan_name}, {"progress", line}});
  };
  static auto& runs = metrics::Registry::Default().AddCounter(
      "linli_planner_runs_total", "Planner runs of the Plan RPC, by result.", {"result"});
  static auto& seconds = metrics::Registry::Default().AddHistogram(
      "linli_planner_run_seconds", "Wall time of planner runs.", {}, {1, 2, 5, 10, 30, 60, 120});
  static auto& planned = metrics::Registry::Default().AddCounter(
      "linli_planner_visits_total", "Visits given to the planner, by outcome.", {"outcome"});
  if (cancelled()) return Cancelled();
  const Stopwatch run;
  // The planner itself has no cancellation hook; it stops at its time limit (at most
  // kMaxPlanTimeLimitSeconds), and nothing is booked for a caller that went away meanwhile.
  absl::StatusOr<v1::Plan> plan = planner::PlanVisits(problem, settings);
  seconds.WithLabels({}).Observe(absl::ToDoubleSeconds(run.Elapsed()));
  runs.WithLabels({plan.ok() ? "ok" : "error"}).Increment();
  if (!plan.ok()) {
    // The problem is built here from validated data: a rejection is a bug, not bad input.
    return absl::InternalError(
        absl::StrCat("planner rejected the problem: ", plan.status().ToString()));
  }
  if (cancelled()) return Cancelled();
  *response->mutable_objective() = plan->objective();
  *response->mutable_stats() = plan->stats();
  for (const auto& u : plan->unassigned()) {
    if (response->unassigned_size() >= kMaxUnassignedListed) break;
    *response->add_unassigned() = u;
  }

  const std::vector<PlannedBooking> complete = CompleteBookings(*plan, candidates, period.begin);
  BookingOutcome outcome;
  if (request.dry_run()) {
    outcome.booked = static_cast<int>(complete.size());
  } else {
    ASSIGN_OR_RETURN(outcome, Book(db, clock.Now(), cancelled, plan_name, complete, workers));
  }
  planned.WithLabels({request.dry_run() ? "dry_run" : "booked"}).Increment(outcome.booked);
  planned.WithLabels({"not_booked"})
      .Increment(static_cast<double>(candidates.size()) - outcome.booked);
  response->set_booked(outcome.booked);
  response->set_conflicts(outcome.conflicts);
  if (request.include_routes()) {
    std::set<std::string> booked;
    for (const PlannedBooking& b : complete) {
      if (!outcome.conflicted.contains(b.candidate->visit.name())) {
        booked.insert(b.candidate->visit.name());
      }
    }
    for (v1::PlannedRoute& route : BookedRoutes(*plan, candidates, booked, workers, period.begin)) {
      *response->add_routes() = std::move(route);
    }
  }
  response->set_not_booked(static_cast<int32_t>(candidates.size()) - outcome.booked);
  LogInfo("plan booked", {{"plan", plan_name},
                          {"visits", absl::StrCat(candidates.size())},
                          {"located", absl::StrCat(problem.visits_size())},
                          {"booked", absl::StrCat(outcome.booked)},
                          {"conflicts", absl::StrCat(outcome.conflicts)}});
  return absl::OkStatus();
}

}  // namespace linli::scheduling
