// The independent checker: verifies a Solution against a Problem and computes its objective.
//
// It shares nothing with the solver but the model types: it recomputes travel times from the
// coordinates or the matrix itself and judges the start times written in the solution, so a
// solver bug cannot hide behind a shared helper.
//
//   CheckResult r = Check(problem, solution);
//   if (!r.feasible()) for (const auto& v : r.violations) std::cerr << v << "\n";
//   double cost = r.objective.weighted;
#ifndef LINLI_SERVICES_SCHEDULING_PLANNER_CHECKER_H_
#define LINLI_SERVICES_SCHEDULING_PLANNER_CHECKER_H_

#include <string>
#include <vector>

#include "services/scheduling/planner/model.h"

namespace linli::planner {

struct CheckResult {
  // Hard-constraint violations, in words ("visit v7 task 0: starts at 12 before its window 30").
  std::vector<std::string> violations;
  Objective objective;
  bool feasible() const { return violations.empty(); }
};

// Hard constraints checked: every task planned at most once, and either planned or listed as
// unassigned; skills; the two tasks of a visit by two different workers and both planned or both
// not; starts not before the window start nor before arrival (previous end + travel, or shift
// start + travel from the base); back at the base by the shift end; synchronisation (simultaneous,
// or ordered within [min_gap, max_gap]). Tolerance kTimeEpsilon (relative for large times).
[[nodiscard]] CheckResult Check(const Problem& problem, const Solution& solution);

}  // namespace linli::planner

#endif  // LINLI_SERVICES_SCHEDULING_PLANNER_CHECKER_H_
