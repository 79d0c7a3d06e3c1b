// The planner's solver: adaptive large neighbourhood search with simulated-annealing acceptance.
//
// Construction inserts visits greedily (cheapest feasible position, two-worker visits as a pair),
// then each iteration removes a set of visits (random, related by place and time, worst, or
// strings from neighbouring routes) and reinserts them greedily in a random order with noise;
// operator weights adapt to their success. Start times are the earliest schedule of the routes
// (a longest-path fixpoint over route precedence, windows and synchronisation), which is optimal
// for given routes because every objective part grows with start times. Insertions are evaluated
// incrementally by propagating delays along routes and synchronised partners.
//
// Large problems (more than `max_part_visits` visits) are decomposed by day (shift start /
// `day_length`) and then by geographic cluster, each part with the workers whose base is nearest,
// and the parts are solved one after the other within the time budget.
//
//   SolveOptions options;
//   options.time_limit_seconds = 5;
//   SolveResult r = Solve(problem, options);
//   CheckResult c = Check(problem, r.solution);
#ifndef LINLI_SERVICES_SCHEDULING_PLANNER_SOLVER_H_
#define LINLI_SERVICES_SCHEDULING_PLANNER_SOLVER_H_

#include <cstdint>
#include <functional>
#include <string>

#include "services/scheduling/planner/model.h"

namespace linli::planner {

struct SolveOptions {
  double time_limit_seconds = 10;
  uint64_t seed = 1;
  // Problems with more visits are decomposed by day and geographic cluster.
  int max_part_visits = 400;
  // Length of a day in time units, for the decomposition by day.
  double day_length = 1440;
  // Stops after this many search iterations (summed over parts) when >= 0; for reproducible runs.
  int64_t max_iterations = -1;
  // Receives progress lines (the CLI prints them on stderr). May be empty.
  std::function<void(const std::string&)> progress;
};

struct SolveResult {
  Solution solution;
  int64_t iterations = 0;
  int parts = 0;
  double seconds = 0;
};

// The reason a visit can never be served (no skilled worker, no two distinct ones, no shift long
// enough), or empty when some worker could serve it.
std::string UnservableReason(const Problem& problem, int visit);

// Plans every visit it can; visits UnservableReason rejects, and visits no insertion fits, are
// listed as unassigned with the reason. The problem must be valid (ProblemFromProto checks).
[[nodiscard]] SolveResult Solve(const Problem& problem, const SolveOptions& options);

}  // namespace linli::planner

#endif  // LINLI_SERVICES_SCHEDULING_PLANNER_SOLVER_H_
