#include "services/scheduling/planner/exact.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace linli::planner {
namespace {

struct Exhaustive {
  explicit Exhaustive(const Problem& problem) : p(problem) {}
  const Problem& p;
  std::vector<std::pair<int, int>> tasks;     // (visit, task)
  std::vector<std::pair<int, int>> vehicles;  // (worker, shift)
  std::vector<int> assign;                    // task -> vehicle
  std::vector<std::vector<int>> routes;       // vehicle -> tasks (permuted in place)
  std::vector<double> start;
  std::vector<int> partner;
  double best = kInfinity;
  std::vector<std::vector<int>> best_routes;
  std::vector<double> best_start;

  double Travel(int a, int b) const { return TravelTime(p.travel, p.locations, a, b); }

  // Earliest schedule of the current routes and its cost (infinite when infeasible).
  double Evaluate() {
    const size_t n = tasks.size();
    for (size_t t = 0; t < n; ++t) start[t] = p.visits[tasks[t].first].window_start;
    for (size_t pass = 0;; ++pass) {
      if (pass > n + 2) return kInfinity;  // contradictory order of synchronised tasks
      bool moved = false;
      for (size_t v = 0; v < vehicles.size(); ++v) {
        const Worker& w = p.workers[vehicles[v].first];
        double time = w.shifts[vehicles[v].second].start;
        int at = w.base;
        for (int t : routes[v]) {
          const Visit& visit = p.visits[tasks[t].first];
          const double earliest = time + Travel(at, visit.location);
          if (earliest > start[t] + 1e-9) start[t] = earliest, moved = true;
          time = start[t] + visit.tasks[tasks[t].second].DurationFor(vehicles[v].first);
          at = visit.location;
        }
      }
      for (size_t t = 0; t < n; ++t) {
        const int q = partner[t];
        if (q < 0) continue;
        const Visit& visit = p.visits[tasks[t].first];
        double need = start[q];
        if (visit.sync == SyncType::kOrdered) {
          need = tasks[t].second == 1 ? start[q] + visit.min_gap : start[q] - visit.max_gap;
        }
        if (need > start[t] + 1e-9) start[t] = need, moved = true;
      }
      if (!moved) break;
    }
    double travel = 0, late_sum = 0, late_max = 0, cont = 0;
    std::vector<double> load(p.workers.size(), 0);
    for (size_t v = 0; v < vehicles.size(); ++v) {
      if (routes[v].empty()) continue;
      const int wi = vehicles[v].first;
      const Worker& w = p.workers[wi];
      int at = w.base;
      double end = 0;
      for (int t : routes[v]) {
        const Visit& visit = p.visits[tasks[t].first];
        const double tt = Travel(at, visit.location);
        const double d = visit.tasks[tasks[t].second].DurationFor(wi);
        travel += tt;
        load[wi] += tt + d;
        const double late = std::max(0.0, start[t] - visit.window_end);
        late_sum += late;
        late_max = std::max(late_max, late);
        if (!visit.preferred.empty() && std::find(visit.preferred.begin(), visit.preferred.end(),
                                                  wi) == visit.preferred.end()) {
          ++cont;
        }
        end = start[t] + d;
        at = visit.location;
      }
      const double back = Travel(at, w.base);
      travel += back;
      load[wi] += back;
      if (end + back > w.shifts[vehicles[v].second].end + 1e-9) return kInfinity;
    }
    const auto [lo, hi] = std::minmax_element(load.begin(), load.end());
    const Weights& wt = p.weights;
    return wt.travel * travel + wt.total_lateness * late_sum + wt.max_lateness * late_max +
           wt.continuity * cont + wt.workload_balance * (*hi - *lo);
  }

  void Orders(size_t v) {
    if (v == vehicles.size()) {
      const double c = Evaluate();
      if (c < best) best = c, best_routes = routes, best_start = start;
      return;
    }
    auto& r = routes[v];
    std::sort(r.begin(), r.end());
    do {
      Orders(v + 1);
    } while (std::next_permutation(r.begin(), r.end()));
  }

  void Assign(size_t t) {
    if (t == tasks.size()) {
      for (auto& r : routes) r.clear();
      for (size_t i = 0; i < tasks.size(); ++i) routes[assign[i]].push_back(static_cast<int>(i));
      Orders(0);
      return;
    }
    for (size_t v = 0; v < vehicles.size(); ++v) {
      const int w = vehicles[v].first;
      if (!CanServe(p, w, tasks[t].first, tasks[t].second)) continue;
      const int q = partner[t];
      if (q >= 0 && q < static_cast<int>(t) && vehicles[assign[q]].first == w) continue;
      assign[t] = static_cast<int>(v);
      Assign(t + 1);
    }
  }
};

}  // namespace

absl::StatusOr<Solution> SolveExactly(const Problem& p, int max_tasks) {
  Exhaustive e(p);
  for (size_t v = 0; v < p.visits.size(); ++v) {
    const int first = static_cast<int>(e.tasks.size());
    for (size_t k = 0; k < p.visits[v].tasks.size(); ++k) {
      e.tasks.emplace_back(static_cast<int>(v), static_cast<int>(k));
      e.partner.push_back(p.visits[v].tasks.size() == 2 ? first + 1 - static_cast<int>(k) : -1);
    }
  }
  if (static_cast<int>(e.tasks.size()) > max_tasks) {
    return absl::InvalidArgumentError(absl::StrCat("exhaustive search is for at most ", max_tasks,
                                                   " tasks, not ", e.tasks.size()));
  }
  for (size_t w = 0; w < p.workers.size(); ++w) {
    for (size_t s = 0; s < p.workers[w].shifts.size(); ++s) {
      e.vehicles.emplace_back(static_cast<int>(w), static_cast<int>(s));
    }
  }
  e.assign.assign(e.tasks.size(), 0);
  e.routes.resize(e.vehicles.size());
  e.start.assign(e.tasks.size(), 0);
  e.Assign(0);
  if (!std::isfinite(e.best)) return absl::NotFoundError("no plan serves every task");
  Solution s;
  for (size_t v = 0; v < e.vehicles.size(); ++v) {
    if (e.best_routes[v].empty()) continue;
    RoutePlan r{e.vehicles[v].first, e.vehicles[v].second, {}};
    for (int t : e.best_routes[v]) {
      r.stops.push_back({e.tasks[t].first, e.tasks[t].second, e.best_start[t]});
    }
    s.routes.push_back(std::move(r));
  }
  return s;
}

}  // namespace linli::planner
