#include "services/scheduling/planner/checker.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace linli::planner {
namespace {

// The checker's own travel computation (deliberately not model.cc's TravelTime).
double CheckerTravel(const Problem& p, int a, int b) {
  const TravelModel& t = p.travel;
  if (t.metric == Metric::kMatrix) return t.matrix[a * p.locations.size() + b];
  if (a == b) return 0;
  const Location& from = p.locations[a];
  const Location& to = p.locations[b];
  if (t.metric == Metric::kEuclidean) {
    const double dx = from.x - to.x, dy = from.y - to.y;
    return std::sqrt(dx * dx + dy * dy) / t.speed;
  }
  // Haversine, spelled with atan2.
  const double r = M_PI / 180;
  const double s1 = std::sin((to.lat - from.lat) * r / 2);
  const double s2 = std::sin((to.lon - from.lon) * r / 2);
  const double h = s1 * s1 + std::cos(from.lat * r) * std::cos(to.lat * r) * s2 * s2;
  const double km = 2 * 6371.0088 * std::atan2(std::sqrt(h), std::sqrt(std::max(0.0, 1 - h)));
  return km * t.road_factor / t.speed_kmh * t.minutes_per_hour;
}

bool Before(double a, double b) {  // a < b beyond tolerance
  return a < b - kTimeEpsilon * std::max(1.0, std::abs(b));
}

std::string TaskName(const Problem& p, int v, int k) {
  return absl::StrCat("visit ", p.visits[v].id, " task ", k);
}

}  // namespace

CheckResult Check(const Problem& p, const Solution& s) {
  CheckResult r;
  auto& out = r.violations;
  std::vector<std::vector<int>> planned(p.visits.size());  // count per task
  std::vector<std::vector<int>> worker_of(p.visits.size());
  std::vector<std::vector<double>> start_of(p.visits.size());
  for (size_t v = 0; v < p.visits.size(); ++v) {
    planned[v].assign(p.visits[v].tasks.size(), 0);
    worker_of[v].assign(p.visits[v].tasks.size(), -1);
    start_of[v].assign(p.visits[v].tasks.size(), 0);
  }
  std::vector<double> workload(p.workers.size(), 0);
  std::vector<std::vector<bool>> shift_used(p.workers.size());
  for (size_t w = 0; w < p.workers.size(); ++w)
    shift_used[w].assign(p.workers[w].shifts.size(), false);
  Objective& obj = r.objective;

  for (size_t ri = 0; ri < s.routes.size(); ++ri) {
    const RoutePlan& route = s.routes[ri];
    if (route.worker < 0 || route.worker >= static_cast<int>(p.workers.size())) {
      out.push_back(absl::StrCat("route ", ri, ": no worker ", route.worker));
      continue;
    }
    const Worker& worker = p.workers[route.worker];
    if (route.shift < 0 || route.shift >= static_cast<int>(worker.shifts.size())) {
      out.push_back(
          absl::StrCat("route ", ri, ": worker ", worker.id, " has no shift ", route.shift));
      continue;
    }
    if (shift_used[route.worker][route.shift]) {
      out.push_back(absl::StrCat("worker ", worker.id, " shift ", route.shift, " has two routes"));
    }
    shift_used[route.worker][route.shift] = true;
    const Shift& shift = worker.shifts[route.shift];
    double time = shift.start;
    int at = worker.base;
    for (const Stop& stop : route.stops) {
      if (stop.visit < 0 || stop.visit >= static_cast<int>(p.visits.size()) || stop.task < 0 ||
          stop.task >= static_cast<int>(p.visits[stop.visit].tasks.size())) {
        out.push_back(
            absl::StrCat("route of ", worker.id, ": no task ", stop.visit, "/", stop.task));
        continue;
      }
      const Visit& visit = p.visits[stop.visit];
      const Task& task = visit.tasks[stop.task];
      const std::string name = TaskName(p, stop.visit, stop.task);
      if (++planned[stop.visit][stop.task] > 1) out.push_back(name + ": planned twice");
      worker_of[stop.visit][stop.task] = route.worker;
      start_of[stop.visit][stop.task] = stop.start;
      if (!worker.skills[task.service]) {
        out.push_back(
            absl::StrCat(name, ": worker ", worker.id, " lacks skill ", p.services[task.service]));
      }
      const double travel = CheckerTravel(p, at, visit.location);
      const double arrival = time + travel;
      if (Before(stop.start, arrival)) {
        out.push_back(absl::StrCat(name, ": starts at ", stop.start, " before arrival ", arrival,
                                   " (overlap or travel)"));
      }
      if (Before(stop.start, visit.window_start)) {
        out.push_back(absl::StrCat(name, ": starts at ", stop.start, " before its window ",
                                   visit.window_start));
      }
      const double duration = task.DurationFor(route.worker);
      const double lateness = std::max(0.0, stop.start - visit.window_end);
      obj.travel += travel;
      obj.total_lateness += lateness;
      obj.max_lateness = std::max(obj.max_lateness, lateness);
      workload[route.worker] += travel + duration;
      if (!visit.preferred.empty() && std::find(visit.preferred.begin(), visit.preferred.end(),
                                                route.worker) == visit.preferred.end()) {
        ++obj.continuity_misses;
      }
      time = std::max(stop.start, arrival) + duration;
      at = visit.location;
    }
    const double back = CheckerTravel(p, at, worker.base);
    if (!route.stops.empty()) {
      obj.travel += back;
      workload[route.worker] += back;
      if (Before(shift.end, time + back)) {
        out.push_back(absl::StrCat("worker ", worker.id, " shift ", route.shift, ": back at ",
                                   time + back, " after the shift end ", shift.end));
      }
    }
  }

  std::vector<std::vector<int>> listed(p.visits.size());
  for (size_t v = 0; v < p.visits.size(); ++v) listed[v].assign(p.visits[v].tasks.size(), 0);
  for (const UnassignedTask& u : s.unassigned) {
    if (u.visit < 0 || u.visit >= static_cast<int>(p.visits.size()) || u.task < 0 ||
        u.task >= static_cast<int>(p.visits[u.visit].tasks.size())) {
      out.push_back(absl::StrCat("unassigned: no task ", u.visit, "/", u.task));
      continue;
    }
    ++listed[u.visit][u.task];
  }
  for (size_t v = 0; v < p.visits.size(); ++v) {
    const Visit& visit = p.visits[v];
    for (size_t k = 0; k < visit.tasks.size(); ++k) {
      const std::string name = TaskName(p, v, k);
      if (planned[v][k] == 0) {
        ++obj.unassigned;
        if (listed[v][k] == 0) out.push_back(name + ": neither planned nor listed unassigned");
      } else if (listed[v][k] > 0) {
        out.push_back(name + ": planned and listed unassigned");
      }
    }
    if (visit.tasks.size() != 2) continue;
    const bool a = planned[v][0] > 0, b = planned[v][1] > 0;
    if (a != b) {
      out.push_back(absl::StrCat("visit ", visit.id, ": only one of its two tasks is planned"));
      continue;
    }
    if (!a) continue;
    if (worker_of[v][0] == worker_of[v][1]) {
      out.push_back(absl::StrCat("visit ", visit.id, ": both tasks by the same worker"));
    }
    const double s0 = start_of[v][0], s1 = start_of[v][1];
    if (visit.sync == SyncType::kSimultaneous) {
      if (Before(s0, s1) || Before(s1, s0)) {
        out.push_back(
            absl::StrCat("visit ", visit.id, ": simultaneous tasks start at ", s0, " and ", s1));
      }
    } else if (visit.sync == SyncType::kOrdered) {
      if (Before(s1 - s0, visit.min_gap) || Before(visit.max_gap, s1 - s0)) {
        out.push_back(absl::StrCat("visit ", visit.id, ": gap ", s1 - s0, " outside [",
                                   visit.min_gap, ", ", visit.max_gap, "]"));
      }
    }
  }

  if (!workload.empty()) {
    const auto [lo, hi] = std::minmax_element(workload.begin(), workload.end());
    obj.workload_imbalance = *hi - *lo;
  }
  const Weights& w = p.weights;
  obj.weighted = w.travel * obj.travel + w.total_lateness * obj.total_lateness +
                 w.max_lateness * obj.max_lateness + w.continuity * obj.continuity_misses +
                 w.workload_balance * obj.workload_imbalance + w.unassigned * obj.unassigned;
  return r;
}

}  // namespace linli::planner
