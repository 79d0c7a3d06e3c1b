// The planner's domain model: pure C++, no protobuf, indices instead of ids.
//
// A Problem holds locations, service types (skills), workers with shifts and bases, visits with
// time windows and one or two tasks, and the objective weights. A Solution lists, per worker
// shift, the tasks in order with their start times, plus the tasks left unassigned.
//
//   Problem p = ...;                       // usually from ProblemFromProto (convert.h)
//   Solution s = Solve(p, options).solution;    // solver.h
//   CheckResult c = Check(p, s);           // checker.h: independent feasibility and cost
#ifndef LINLI_SERVICES_SCHEDULING_PLANNER_MODEL_H_
#define LINLI_SERVICES_SCHEDULING_PLANNER_MODEL_H_

#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace linli::planner {

inline constexpr double kInfinity = std::numeric_limits<double>::infinity();
// Tolerance when comparing times (plans are written with doubles).
inline constexpr double kTimeEpsilon = 1e-6;

enum class Metric { kEuclidean, kHaversine, kMatrix };

struct TravelModel {
  Metric metric = Metric::kEuclidean;
  double speed = 1;              // kEuclidean: distance units per time unit
  double road_factor = 1.3;      // kHaversine
  double speed_kmh = 15;         // kHaversine
  double minutes_per_hour = 60;  // kHaversine: time units per hour
  std::vector<double> matrix;    // kMatrix: n x n, row-major over locations
};

struct Location {
  std::string id;
  double x = 0, y = 0;      // planar
  double lat = 0, lon = 0;  // geographic, degrees
};

struct Shift {
  double start = 0;
  double end = kInfinity;
};

struct Worker {
  std::string id;
  int base = 0;               // location index
  std::vector<bool> skills;   // by service index
  std::vector<Shift> shifts;  // at least one
};

enum class SyncType { kNone, kSimultaneous, kOrdered };

struct Task {
  int service = 0;
  double duration = 0;
  std::vector<std::pair<int, double>> worker_durations;  // (worker index, duration)

  double DurationFor(int worker) const {
    for (const auto& [w, d] : worker_durations) {
      if (w == worker) return d;
    }
    return duration;
  }
};

struct Visit {
  std::string id;
  int location = 0;
  double window_start = 0;
  double window_end = 0;
  std::vector<Task> tasks;  // one or two
  SyncType sync = SyncType::kNone;
  double min_gap = 0, max_gap = 0;  // kOrdered: task 1 starts in [s0 + min_gap, s0 + max_gap]
  std::vector<int> preferred;       // worker indices (preferred and previous); empty: no preference
};

struct Weights {
  double travel = 1.0 / 3;
  double total_lateness = 1.0 / 3;
  double max_lateness = 1.0 / 3;
  double continuity = 0;
  double workload_balance = 0;
  double unassigned = 10000;
};

struct Problem {
  std::string name;
  TravelModel travel;
  std::vector<Location> locations;
  std::vector<std::string> services;
  std::vector<Worker> workers;
  std::vector<Visit> visits;
  Weights weights;
};

// Travel time between two locations under the problem's travel model.
double TravelTime(const TravelModel& travel, const std::vector<Location>& locations, int from,
                  int to);

// True when worker `w` may perform task `k` of visit `v` (skill).
inline bool CanServe(const Problem& p, int w, int v, int k) {
  return p.workers[w].skills[p.visits[v].tasks[k].service];
}

// One task on a route.
struct Stop {
  int visit = 0;
  int task = 0;
  double start = 0;
};

// One worker shift's route.
struct RoutePlan {
  int worker = 0;
  int shift = 0;
  std::vector<Stop> stops;
};

struct UnassignedTask {
  int visit = 0;
  int task = 0;
  std::string reason;
};

struct Solution {
  std::vector<RoutePlan> routes;
  std::vector<UnassignedTask> unassigned;
};

// The objective's parts and their weighted sum.
struct Objective {
  double travel = 0;
  double total_lateness = 0;
  double max_lateness = 0;
  int continuity_misses = 0;
  double workload_imbalance = 0;
  int unassigned = 0;
  double weighted = 0;
};

}  // namespace linli::planner

#endif  // LINLI_SERVICES_SCHEDULING_PLANNER_MODEL_H_
