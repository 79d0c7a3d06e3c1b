// SchedulingService.Plan: the planner on stored data. Visits of a period that have no worker yet
// and the owner organisations' workers become a PlanProblem (times in minutes from the first
// day's midnight, haversine travel from the elders' masked homes and the workers' bases); the
// planner's routes are booked through BookOnVisit, so the database's slot keys still decide.
// Planned starts are rounded up to the whole minute: durations are whole minutes, so a route
// whose visits follow one another still does after rounding, and never shares a booked minute.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "common/client.h"
#include "common/clock.h"
#include "common/errors.h"
#include "common/geo.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/recurrence/rrule.h"
#include "common/server.h"
#include "common/status_macros.h"
#include "common/text.h"
#include "services/scheduling/availability.h"
#include "services/scheduling/booking.h"
#include "services/scheduling/planner/planner.h"
#include "services/scheduling/scheduling_service.h"
#include "services/scheduling/scheduling_store.h"
#include "services/scheduling/scheduling_util.h"

namespace linli::scheduling {
namespace {

using storage::Transaction;

constexpr double kDefaultTimeLimit = 10;
constexpr double kMaxTimeLimit = 120;
constexpr int kMaxUnassignedListed = 100;
constexpr int kVisitsPerBookingTransaction = 100;
// Travel in the street: 15 km/h door to door (walking, e-bikes, lifts), 1.3 x straight line.
constexpr double kSpeedKmh = 15;
constexpr double kRoadFactor = 1.3;
// A visit by a worker the elder does not know costs as much as 30 minutes of extra travel (travel
// weighs 1/3 per minute): elders and families value a familiar face (熟人) over a shorter route.
constexpr double kContinuityWeight = 10;
constexpr double kMaxWeight = 1e6;

// A visit to plan, with what the problem needs from its commitment.
struct Candidate {
  VisitRow row;
  v1::Commitment commitment;
};

// The planner's service id of a visit: the owner organisation plus the sorted required skills,
// so a worker can take a task only from their own organisation and with every skill it needs.
std::string ServiceKey(const v1::Commitment& c) {
  std::vector<std::string> skills(c.required_skills().begin(), c.required_skills().end());
  std::sort(skills.begin(), skills.end());
  return absl::StrCat(c.owner_organisation(), "|", absl::StrJoin(skills, "+"));
}

double MinutesFrom(absl::Time origin, absl::Time t) { return absl::ToDoubleMinutes(t - origin); }

// Availability intervals of a worker over [begin, begin + days), in minutes from `begin`.
std::vector<std::pair<double, double>> Shifts(const registry::v1::Worker& worker,
                                              absl::CivilDay first, int days, absl::Time begin) {
  std::vector<std::pair<double, double>> shifts;
  for (const recurrence::TimeInterval& t : WorkingIntervals(worker, first, days)) {
    const double start = std::max(0.0, MinutesFrom(begin, t.start));
    const double end = MinutesFrom(begin, t.end);
    if (end > start) shifts.emplace_back(start, end);
  }
  return shifts;
}

}  // namespace

grpc::Status SchedulingServiceImpl::Plan(grpc::ServerContext* context,
                                         const v1::PlanRequest* request,
                                         v1::PlanResponse* response) {
  FieldViolations v;
  absl::CivilDay first;
  if (!absl::ParseCivilTime(request->from_date(), &first)) {
    v.Add("from_date", "must be a date \"YYYY-MM-DD\"");
  }
  if (request->days() < 1 || request->days() > 7) v.Add("days", "must be between 1 and 7");
  if (!request->region().empty() &&
      !ParseResourceName(request->region(), "regions", "region").ok()) {
    v.Add("region", "must look like \"regions/CODE\"");
  }
  if (!request->owner_organisation().empty() &&
      !ParseResourceName(request->owner_organisation(), "organisations", "owner_organisation")
           .ok()) {
    v.Add("owner_organisation", "must look like \"organisations/ID\"");
  }
  if (!(request->time_limit_seconds() >= 0 && request->time_limit_seconds() <= kMaxTimeLimit)) {
    v.Add("time_limit_seconds", "must be between 0 and 120");
  }
  {
    const v1::PlanWeights& w = request->weights();
    const std::pair<bool, double> given[] = {{w.has_travel(), w.travel()},
                                             {w.has_total_lateness(), w.total_lateness()},
                                             {w.has_max_lateness(), w.max_lateness()},
                                             {w.has_continuity(), w.continuity()},
                                             {w.has_workload_balance(), w.workload_balance()},
                                             {w.has_unassigned(), w.unassigned()}};
    const char* names[] = {"travel",     "total_lateness",   "max_lateness",
                           "continuity", "workload_balance", "unassigned"};
    for (int i = 0; i < 6; ++i) {
      // Bounded so that weight x cost stays far from overflowing in the solver's sums.
      if (given[i].first && !(given[i].second >= 0 && given[i].second <= kMaxWeight)) {
        v.Add(absl::StrCat("weights.", names[i]), "must be between 0 and 1000000");
      }
    }
  }
  if (!v.empty()) return Reply(*context, v.ToStatus());
  const absl::TimeZone tz = recurrence::ShanghaiTimeZone();
  const absl::Time begin = absl::FromCivil(first, tz);
  const absl::Time end = absl::FromCivil(first + request->days(), tz);
  auto backend = [&]() { return NewClientContext(context, options_.backend_timeout); };
  // A caller that went away (cancelled, or its deadline passed; through the gateway, also a JSON
  // client that closed its connection) stops the work at the next step: reading, planning,
  // booking a chunk. Visits already booked stay booked.
  auto cancelled = [&]() {
    return Reply(*context, absl::CancelledError("the plan was cancelled by its caller (or its "
                                                "deadline passed); what was booked stays booked"));
  };

  // The region's elders, when the plan is for one region.
  std::set<std::string> elders;
  if (!request->region().empty()) {
    registry::v1::ListEldersRequest list;
    list.set_region(request->region());
    list.set_page_size(1000);
    do {
      if (context->IsCancelled()) return cancelled();
      registry::v1::ListEldersResponse page;
      grpc::Status status = registry_->ListElders(backend().get(), list, &page);
      if (status.error_code() == grpc::StatusCode::NOT_FOUND) {
        return Reply(*context, InvalidField("region", request->region() + " does not exist"));
      }
      if (!status.ok()) return Reply(*context, RegistryError(status));
      for (const auto& e : page.elders()) elders.insert(e.name());
      list.set_page_token(page.next_page_token());
    } while (!list.page_token().empty());
  }

  // Scheduled visits of the period without a worker, with their commitments.
  std::vector<Candidate> candidates;
  std::map<std::string, std::vector<std::string>> previous;  // commitment id -> workers
  absl::Status read = db_.RunInTransaction(
      [&](Transaction& tx) -> absl::Status {
        candidates.clear();
        std::map<std::string, std::optional<v1::Commitment>> commitments;
        VisitFilter filter;
        filter.from_us = absl::ToUnixMicros(begin);
        filter.to_us = absl::ToUnixMicros(end);
        filter.state = v1::VISIT_STATE_SCHEDULED;
        int64_t after_start = INT64_MIN;
        std::string after_id;
        for (bool more = true; more;) {
          ASSIGN_OR_RETURN(std::vector<VisitRow> rows,
                           QueryVisits(tx, filter, after_start, after_id, 1000));
          more = rows.size() == 1000;
          if (!rows.empty()) {
            after_start = rows.back().window_start_us;
            after_id = rows.back().id;
          }
          for (VisitRow& row : rows) {
            if (row.visit.assignments_size() > 0) continue;
            if (!request->region().empty() && elders.count(row.visit.elder()) == 0) continue;
            auto [it, inserted] = commitments.try_emplace(row.commitment_id);
            if (inserted) {
              ASSIGN_OR_RETURN(it->second, FindCommitment(tx, row.commitment_id));
            }
            if (!it->second.has_value()) continue;
            if (!request->owner_organisation().empty() &&
                it->second->owner_organisation() != request->owner_organisation()) {
              continue;
            }
            candidates.push_back(Candidate{std::move(row), *it->second});
          }
        }
        // Who came last time, per commitment: the workers who checked in to its latest
        // completed visit (both of a two-worker visit).
        previous.clear();
        for (const Candidate& c : candidates) {
          auto [it, inserted] = previous.try_emplace(c.row.commitment_id);
          if (!inserted) continue;
          ASSIGN_OR_RETURN(std::optional<VisitRow> last,
                           LastCompletedVisit(tx, c.row.visit.elder(), c.row.commitment_id,
                                              absl::ToUnixMicros(end)));
          if (!last.has_value()) continue;
          std::vector<std::string>& who = it->second;
          auto add = [&who](const std::string& worker) {
            if (!worker.empty() && std::find(who.begin(), who.end(), worker) == who.end()) {
              who.push_back(worker);
            }
          };
          add(last->visit.check_in().worker());
          for (const v1::VisitCheck& check : last->visit.team_check_ins()) add(check.worker());
        }
        return absl::OkStatus();
      },
      {.read_only = true});
  if (!read.ok()) return Reply(*context, read);
  if (context->IsCancelled()) return cancelled();

  // The owners' active workers.
  std::map<std::string, registry::v1::Worker> workers;  // by name
  std::set<std::string> owners;
  for (const Candidate& c : candidates) owners.insert(c.commitment.owner_organisation());
  for (const std::string& owner : owners) {
    if (context->IsCancelled()) return cancelled();
    registry::v1::ListWorkersRequest list;
    list.set_organisation(owner);
    list.set_page_size(1000);
    do {
      registry::v1::ListWorkersResponse page;
      grpc::Status status = registry_->ListWorkers(backend().get(), list, &page);
      if (!status.ok()) return Reply(*context, RegistryError(status));
      for (const auto& w : page.workers()) {
        if (w.status() == registry::v1::WORKER_STATUS_ACTIVE) workers[w.name()] = w;
      }
      list.set_page_token(page.next_page_token());
    } while (!list.page_token().empty());
  }

  // The planning problem.
  v1::PlanProblem problem;
  const std::string plan_name = "plans/" + NewId(clock_);
  problem.set_name(plan_name);
  *problem.mutable_horizon_start() = ToProto(begin);
  problem.mutable_travel()->set_metric(v1::PLAN_TRAVEL_METRIC_HAVERSINE);
  problem.mutable_travel()->set_speed_kmh(kSpeedKmh);
  problem.mutable_travel()->set_road_factor(kRoadFactor);
  problem.mutable_travel()->set_minutes_per_hour(60);
  std::set<std::string> services;
  std::map<std::string, std::pair<double, double>> owner_centre;  // mean home, for baseless
  std::map<std::string, int> owner_homes;
  int located = 0;
  for (const Candidate& c : candidates) {
    const v1::Visit& visit = c.row.visit;
    if (!visit.has_home() || !HasLocation(visit.home())) {  // cannot be routed
      if (response->unassigned_size() < kMaxUnassignedListed) {
        v1::UnassignedTask* u = response->add_unassigned();
        u->set_visit(visit.name());
        u->set_reason("the registry has no location for the elder's home");
      }
      continue;
    }
    ++located;
    v1::PlanLocation* loc = problem.add_locations();
    loc->set_id(visit.name());
    loc->set_latitude(visit.home().latitude());
    loc->set_longitude(visit.home().longitude());
    auto& centre = owner_centre[c.commitment.owner_organisation()];
    centre.first += visit.home().latitude();
    centre.second += visit.home().longitude();
    ++owner_homes[c.commitment.owner_organisation()];
    const std::string service = ServiceKey(c.commitment);
    services.insert(service);
    v1::PlanVisit* pv = problem.add_visits();
    pv->set_id(visit.name());
    pv->set_location(visit.name());
    pv->set_window_start(MinutesFrom(begin, FromProto(visit.window_start())));
    pv->set_window_end(MinutesFrom(begin, FromProto(visit.window_end())));
    for (int k = 0; k < std::max(1, visit.workers_required()); ++k) {
      v1::PlanTask* task = pv->add_tasks();
      task->set_service(service);
      task->set_duration(visit.duration_minutes());
    }
    if (visit.workers_required() == 2) {
      const v1::Synchronisation& sync = c.commitment.synchronisation();
      if (sync.type() == v1::SYNCHRONISATION_TYPE_ORDERED) {
        pv->mutable_sync()->set_type(v1::PLAN_SYNC_TYPE_ORDERED);
        pv->mutable_sync()->set_min_gap(sync.min_gap_minutes());
        pv->mutable_sync()->set_max_gap(sync.max_gap_minutes());
      } else {
        pv->mutable_sync()->set_type(v1::PLAN_SYNC_TYPE_SIMULTANEOUS);
      }
    }
    if (!c.commitment.preferred_worker().empty() &&
        workers.count(c.commitment.preferred_worker()) > 0) {
      pv->add_preferred_workers(c.commitment.preferred_worker());
    }
    // The worker who came last time counts as known too (one as `previous_worker`, a second of a
    // two-worker visit as preferred); a worker who left or is not the owner's is skipped.
    for (const std::string& worker : previous[c.row.commitment_id]) {
      if (workers.count(worker) == 0) continue;
      if (pv->previous_worker().empty()) {
        pv->set_previous_worker(worker);
      } else {
        pv->add_preferred_workers(worker);
      }
    }
  }
  for (const std::string& service : services) problem.add_services()->set_id(service);
  std::set<std::string> planned_workers;  // ids of the workers put in the problem
  for (const auto& [name, worker] : workers) {
    const std::string& org = worker.organisation();
    const std::set<std::string> has(worker.skills().begin(), worker.skills().end());
    std::vector<std::string> can;
    for (const std::string& service : services) {
      if (!absl::StartsWith(service, org + "|")) continue;
      const std::string skills = service.substr(org.size() + 1);
      bool all = true;
      for (absl::string_view skill : absl::StrSplit(skills, '+', absl::SkipEmpty())) {
        all = all && has.count(std::string(skill)) > 0;
      }
      if (all) can.push_back(service);
    }
    if (can.empty()) continue;
    // A worker without a shift in the period does not work then (the planner would read an
    // empty shift list as "always available").
    const std::vector<std::pair<double, double>> shifts =
        Shifts(worker, first, request->days(), begin);
    if (shifts.empty()) continue;
    v1::PlanLocation* base = problem.add_locations();
    base->set_id(name);
    if (worker.has_base_location() && HasLocation(worker.base_location())) {
      base->set_latitude(worker.base_location().latitude());
      base->set_longitude(worker.base_location().longitude());
    } else {  // no base recorded: start from the middle of the organisation's elders
      const auto& centre = owner_centre[org];
      const int n = std::max(1, owner_homes[org]);
      base->set_latitude(centre.first / n);
      base->set_longitude(centre.second / n);
    }
    v1::PlanWorker* pw = problem.add_workers();
    planned_workers.insert(name);
    pw->set_id(name);
    pw->set_display_name(worker.display_name());
    pw->set_base(name);
    for (const std::string& service : can) pw->add_skills(service);
    for (const auto& [start, finish] : shifts) {
      v1::PlanShift* shift = pw->add_shifts();
      shift->set_start(start);
      shift->set_end(finish);
    }
  }
  // A familiar or previous worker who cannot work in this period (no matching skill, no shift)
  // is not in the problem: the preference is dropped, not the plan.
  for (v1::PlanVisit& pv : *problem.mutable_visits()) {
    auto* preferred = pv.mutable_preferred_workers();
    preferred->erase(
        std::remove_if(preferred->begin(), preferred->end(),
                       [&](const std::string& w) { return planned_workers.count(w) == 0; }),
        preferred->end());
    if (!pv.previous_worker().empty() && planned_workers.count(pv.previous_worker()) == 0) {
      pv.clear_previous_worker();
    }
  }
  *problem.mutable_weights() = request->weights();
  if (!problem.weights().has_continuity()) {
    problem.mutable_weights()->set_continuity(kContinuityWeight);
  }
  problem.mutable_options()->set_unservable_as_unassigned(true);
  if (request->include_problem()) *response->mutable_problem() = problem;
  response->set_name(plan_name);
  response->set_visits(static_cast<int32_t>(candidates.size()));
  response->set_workers(problem.workers_size());
  if (problem.visits_size() == 0) return Reply(*context, absl::OkStatus());

  planner::PlanSettings settings;
  settings.time_limit_seconds =
      request->time_limit_seconds() == 0 ? kDefaultTimeLimit : request->time_limit_seconds();
  if (request->seed() != 0) settings.seed = request->seed();
  settings.progress = [&](const std::string& line) {
    LogInfo("planning", {{"plan", plan_name}, {"progress", line}});
  };
  static auto& runs = metrics::Registry::Default().AddCounter(
      "linli_planner_runs_total", "Planner runs of the Plan RPC, by result.", {"result"});
  static auto& seconds = metrics::Registry::Default().AddHistogram(
      "linli_planner_run_seconds", "Wall time of planner runs.", {}, {1, 2, 5, 10, 30, 60, 120});
  static auto& planned = metrics::Registry::Default().AddCounter(
      "linli_planner_visits_total", "Visits given to the planner, by outcome.", {"outcome"});
  if (context->IsCancelled()) return cancelled();
  const Stopwatch run;
  // The planner itself has no cancellation hook; it stops at its time limit (at most
  // kMaxTimeLimit), and nothing is booked for a caller that went away meanwhile.
  absl::StatusOr<v1::Plan> plan = planner::PlanVisits(problem, settings);
  seconds.WithLabels({}).Observe(absl::ToDoubleSeconds(run.Elapsed()));
  runs.WithLabels({plan.ok() ? "ok" : "error"}).Increment();
  if (!plan.ok()) {
    // The problem is built here from validated data: a rejection is a bug, not bad input.
    return Reply(*context, absl::InternalError(absl::StrCat("planner rejected the problem: ",
                                                            plan.status().ToString())));
  }
  if (context->IsCancelled()) return cancelled();
  *response->mutable_objective() = plan->objective();
  *response->mutable_stats() = plan->stats();
  for (const auto& u : plan->unassigned()) {
    if (response->unassigned_size() >= kMaxUnassignedListed) break;
    *response->add_unassigned() = u;
  }

  // Book the routes: per visit, the workers of its tasks and their starts.
  std::map<std::string, std::vector<std::pair<std::string, double>>> bookings;
  for (const v1::Route& route : plan->routes()) {
    for (const v1::PlannedVisit& pv : route.visits()) {
      bookings[pv.visit()].emplace_back(route.worker(), pv.start());
    }
  }
  std::vector<const Candidate*> complete;
  for (const Candidate& c : candidates) {
    auto it = bookings.find(c.row.visit.name());
    if (it != bookings.end() &&
        static_cast<int>(it->second.size()) == std::max(1, c.row.visit.workers_required())) {
      complete.push_back(&c);
    }
  }
  int booked = 0, conflicts = 0;
  if (request->dry_run()) {
    booked = static_cast<int>(complete.size());
  } else {
    const absl::Time now = clock_.Now();
    auto book = [&](Transaction& tx, const Candidate& c) -> absl::Status {
      v1::Visit ignored;
      return ChangeVisitIn(
          tx, now, c.row.id, c.row.visit.name(), v1::VISIT_STATE_SCHEDULED, "visit.assigned",
          [&](Transaction& tx, v1::Visit& visit) -> absl::Status {
            for (const auto& [worker, start] : bookings[visit.name()]) {
              RETURN_IF_ERROR(BookOnVisit(tx, visit, c.row.id, workers.at(worker),
                                          begin + absl::Minutes(std::ceil(start - 1e-9)), plan_name,
                                          "plan",
                                          // the routes were planned within the shifts
                                          /*check_availability=*/false));
            }
            return absl::OkStatus();
          },
          &ignored);
    };
    // Chunks of visits per transaction; a chunk that meets a conflict is redone one by one.
    for (size_t i = 0; i < complete.size(); i += kVisitsPerBookingTransaction) {
      if (context->IsCancelled()) return cancelled();
      const size_t j = std::min(complete.size(), i + kVisitsPerBookingTransaction);
      absl::Status chunk = db_.RunInTransaction([&](Transaction& tx) -> absl::Status {
        for (size_t k = i; k < j; ++k) RETURN_IF_ERROR(book(tx, *complete[k]));
        return absl::OkStatus();
      });
      if (chunk.ok()) {
        booked += static_cast<int>(j - i);
        continue;
      }
      if (!absl::IsFailedPrecondition(chunk) && !absl::IsInvalidArgument(chunk)) {
        return Reply(*context, chunk);
      }
      for (size_t k = i; k < j; ++k) {
        absl::Status one =
            db_.RunInTransaction([&](Transaction& tx) { return book(tx, *complete[k]); });
        if (one.ok()) {
          ++booked;
        } else if (absl::IsFailedPrecondition(one) || absl::IsInvalidArgument(one)) {
          ++conflicts;  // booked or changed by someone else since the plan read it
        } else {
          return Reply(*context, one);
        }
      }
    }
  }
  planned.WithLabels({request->dry_run() ? "dry_run" : "booked"}).Increment(booked);
  planned.WithLabels({"not_booked"}).Increment(static_cast<double>(candidates.size()) - booked);
  response->set_booked(booked);
  response->set_conflicts(conflicts);
  response->set_not_booked(static_cast<int32_t>(candidates.size()) - booked);
  LogInfo("plan booked", {{"plan", plan_name},
                          {"visits", absl::StrCat(candidates.size())},
                          {"located", absl::StrCat(located)},
                          {"booked", absl::StrCat(booked)},
                          {"conflicts", absl::StrCat(conflicts)}});
  return Reply(*context, absl::OkStatus());
}

}  // namespace linli::scheduling
