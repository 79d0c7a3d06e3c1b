#include "services/scheduling/plan_problem.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/errors.h"
#include "common/geo.h"
#include "common/proto_time.h"
#include "common/recurrence/rrule.h"
#include "common/text.h"
#include "services/scheduling/availability.h"
#include "services/scheduling/scheduling_util.h"

namespace linli::scheduling {
namespace {

// Travel in the street: 15 km/h door to door (walking, e-bikes, lifts), 1.3 x straight line.
constexpr double kSpeedKmh = 15;
constexpr double kRoadFactor = 1.3;
// Bounded so that weight x cost stays far from overflowing in the solver's sums.
constexpr double kMaxWeight = 1e6;

// The planner's service id of a visit: the owner organisation plus the sorted required skills,
// so a worker can take a task only from their own organisation and with every skill it needs.
std::string ServiceKey(const v1::Commitment& c) {
  std::vector<std::string> skills(c.required_skills().begin(), c.required_skills().end());
  std::sort(skills.begin(), skills.end());
  return absl::StrCat(c.owner_organisation(), "|", absl::StrJoin(skills, "+"));
}

// The services (ServiceKey) among `services` that `worker` can serve: of their organisation, with
// every skill.
std::vector<std::string> Servable(const registry::v1::Worker& worker,
                                  const std::set<std::string>& services) {
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
  return can;
}

double MinutesFrom(absl::Time origin, absl::Time t) { return absl::ToDoubleMinutes(t - origin); }

// Availability intervals of a worker over the period, in minutes from its beginning.
std::vector<std::pair<double, double>> Shifts(const registry::v1::Worker& worker,
                                              const PlanPeriod& period) {
  std::vector<std::pair<double, double>> shifts;
  for (const recurrence::TimeInterval& t : WorkingIntervals(worker, period.first, period.days)) {
    const double start = std::max(0.0, MinutesFrom(period.begin, t.start));
    const double end = MinutesFrom(period.begin, t.end);
    if (end > start) shifts.emplace_back(start, end);
  }
  return shifts;
}

}  // namespace

absl::StatusOr<PlanPeriod> ValidatePlanRequest(const v1::PlanRequest& request) {
  FieldViolations v;
  PlanPeriod period;
  if (!absl::ParseCivilTime(request.from_date(), &period.first)) {
    v.Add("from_date", "must be a date \"YYYY-MM-DD\"");
  }
  if (request.days() < 1 || request.days() > 7) v.Add("days", "must be between 1 and 7");
  if (!request.region().empty() && !ParseResourceName(request.region(), "regions", "region").ok()) {
    v.Add("region", "must look like \"regions/CODE\"");
  }
  if (!request.owner_organisation().empty() &&
      !ParseResourceName(request.owner_organisation(), "organisations", "owner_organisation")
           .ok()) {
    v.Add("owner_organisation", "must look like \"organisations/ID\"");
  }
  if (!(request.time_limit_seconds() >= 0 &&
        request.time_limit_seconds() <= kMaxPlanTimeLimitSeconds)) {
    v.Add("time_limit_seconds", "must be between 0 and 120");
  }
  const v1::PlanWeights& w = request.weights();
  const std::pair<bool, double> given[] = {{w.has_travel(), w.travel()},
                                           {w.has_total_lateness(), w.total_lateness()},
                                           {w.has_max_lateness(), w.max_lateness()},
                                           {w.has_continuity(), w.continuity()},
                                           {w.has_workload_balance(), w.workload_balance()},
                                           {w.has_unassigned(), w.unassigned()}};
  const char* names[] = {"travel",     "total_lateness",   "max_lateness",
                         "continuity", "workload_balance", "unassigned"};
  for (int i = 0; i < 6; ++i) {
    if (given[i].first && !(given[i].second >= 0 && given[i].second <= kMaxWeight)) {
      v.Add(absl::StrCat("weights.", names[i]), "must be between 0 and 1000000");
    }
  }
  if (!v.empty()) return v.ToStatus();
  const absl::TimeZone tz = recurrence::ShanghaiTimeZone();
  period.days = request.days();
  period.begin = absl::FromCivil(period.first, tz);
  period.end = absl::FromCivil(period.first + period.days, tz);
  return period;
}

bool PlanScope::Takes(const v1::Visit& visit) const {
  if (visit.assignments_size() > 0) return false;
  return !elders.has_value() || elders->count(visit.elder()) > 0;
}

bool PlanScope::Takes(const v1::Commitment& commitment) const {
  return owner_organisation.empty() || commitment.owner_organisation() == owner_organisation;
}

std::vector<std::string> WorkersWhoCame(const v1::Visit& visit) {
  std::vector<std::string> who;
  auto add = [&who](const std::string& worker) {
    if (!worker.empty() && std::find(who.begin(), who.end(), worker) == who.end()) {
      who.push_back(worker);
    }
  };
  add(visit.check_in().worker());
  for (const v1::VisitCheck& check : visit.team_check_ins()) add(check.worker());
  return who;
}

BuiltProblem BuildPlanProblem(const std::string& name, const PlanPeriod& period,
                              const std::vector<PlanCandidate>& candidates,
                              const std::map<std::string, std::vector<std::string>>& previous,
                              const std::map<std::string, registry::v1::Worker>& workers,
                              const v1::PlanWeights& weights) {
  BuiltProblem built;
  v1::PlanProblem& problem = built.problem;
  problem.set_name(name);
  *problem.mutable_horizon_start() = ToTimestamp(period.begin);
  problem.mutable_travel()->set_metric(v1::PLAN_TRAVEL_METRIC_HAVERSINE);
  problem.mutable_travel()->set_speed_kmh(kSpeedKmh);
  problem.mutable_travel()->set_road_factor(kRoadFactor);
  problem.mutable_travel()->set_minutes_per_hour(60);
  std::set<std::string> services;
  std::map<std::string, std::pair<double, double>> owner_centre;  // mean home, for baseless
  std::map<std::string, int> owner_homes;
  for (const PlanCandidate& c : candidates) {
    const v1::Visit& visit = c.visit;
    if (!visit.has_home() || !HasLocation(visit.home())) {  // cannot be routed
      built.unlocated.push_back(visit.name());
      continue;
    }
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
    pv->set_window_start(MinutesFrom(period.begin, FromTimestamp(visit.window_start())));
    pv->set_window_end(MinutesFrom(period.begin, FromTimestamp(visit.window_end())));
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
    if (auto it = previous.find(c.commitment_id); it != previous.end()) {
      for (const std::string& worker : it->second) {
        if (workers.count(worker) == 0) continue;
        if (pv->previous_worker().empty()) {
          pv->set_previous_worker(worker);
        } else {
          pv->add_preferred_workers(worker);
        }
      }
    }
  }
  for (const std::string& service : services) problem.add_services()->set_id(service);
  std::set<std::string> planned_workers;  // ids of the workers put in the problem
  for (const auto& [worker_name, worker] : workers) {
    const std::vector<std::string> can = Servable(worker, services);
    if (can.empty()) continue;
    // A worker without a shift in the period does not work then (the planner would read an
    // empty shift list as "always available").
    const std::vector<std::pair<double, double>> shifts = Shifts(worker, period);
    if (shifts.empty()) continue;
    const std::string& org = worker.organisation();
    v1::PlanLocation* base = problem.add_locations();
    base->set_id(worker_name);
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
    planned_workers.insert(worker_name);
    pw->set_id(worker_name);
    pw->set_display_name(worker.display_name());
    pw->set_base(worker_name);
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
  *problem.mutable_weights() = weights;
  if (!problem.weights().has_continuity()) {
    problem.mutable_weights()->set_continuity(kContinuityWeight);
  }
  problem.mutable_options()->set_unservable_as_unassigned(true);
  return built;
}

planner::PlanSettings PlanSettingsFor(const v1::PlanRequest& request) {
  planner::PlanSettings settings;
  settings.time_limit_seconds = request.time_limit_seconds() == 0 ? kDefaultPlanTimeLimitSeconds
                                                                  : request.time_limit_seconds();
  if (request.seed() != 0) settings.seed = request.seed();
  return settings;
}

absl::Time PlannedStart(absl::Time begin, double minutes) {
  return begin + absl::Minutes(std::ceil(minutes - 1e-9));
}

std::vector<PlannedBooking> CompleteBookings(const v1::Plan& plan,
                                             const std::vector<PlanCandidate>& candidates,
                                             absl::Time begin) {
  // Per visit, the workers of its tasks and their starts.
  std::map<std::string, std::vector<std::pair<std::string, absl::Time>>> by_visit;
  for (const v1::Route& route : plan.routes()) {
    for (const v1::PlannedVisit& pv : route.visits()) {
      by_visit[pv.visit()].emplace_back(route.worker(), PlannedStart(begin, pv.start()));
    }
  }
  std::vector<PlannedBooking> complete;
  for (const PlanCandidate& c : candidates) {
    auto it = by_visit.find(c.visit.name());
    if (it != by_visit.end() &&
        static_cast<int>(it->second.size()) == std::max(1, c.visit.workers_required())) {
      complete.push_back(PlannedBooking{&c, it->second});
    }
  }
  return complete;
}

std::vector<v1::PlannedRoute> BookedRoutes(
    const v1::Plan& plan, const std::vector<PlanCandidate>& candidates,
    const std::set<std::string>& booked, const std::map<std::string, registry::v1::Worker>& workers,
    absl::Time begin) {
  std::map<std::string, const PlanCandidate*> by_visit;
  for (const PlanCandidate& c : candidates) by_visit[c.visit.name()] = &c;
  std::vector<v1::PlannedRoute> routes;
  for (const v1::Route& route : plan.routes()) {
    v1::PlannedRoute out;
    bool whole = true;  // every visit of the planned route is on it
    for (const v1::PlannedVisit& pv : route.visits()) {
      auto candidate = by_visit.find(pv.visit());
      if (candidate == by_visit.end() || !booked.contains(pv.visit())) {
        whole = false;
        continue;
      }
      v1::PlannedStop* stop = out.add_stops();
      stop->set_visit(pv.visit());
      stop->set_elder(candidate->second->visit.elder());
      stop->set_commitment(candidate->second->visit.commitment());
      *stop->mutable_start() = ToTimestamp(PlannedStart(begin, pv.start()));
      *stop->mutable_end() = ToTimestamp(PlannedStart(begin, pv.end()));
      stop->set_travel_minutes(pv.travel_from_previous());
    }
    if (out.stops_size() == 0) continue;
    out.set_worker(route.worker());
    if (auto worker = workers.find(route.worker()); worker != workers.end()) {
      out.set_worker_display_name(worker->second.display_name());
      out.set_organisation(worker->second.organisation());
    }
    // The planned travel went by the visits left out too: without them it is not known.
    if (whole) {
      out.set_travel_minutes(route.travel());
    } else {
      for (v1::PlannedStop& stop : *out.mutable_stops()) stop.clear_travel_minutes();
    }
    routes.push_back(std::move(out));
  }
  return routes;
}

}  // namespace linli::scheduling
