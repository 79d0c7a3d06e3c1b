// Exhaustive search for tiny problems: every assignment of tasks to worker shifts and every order
// of each route, each scheduled at its earliest start times (optimal for fixed routes since every
// objective part grows with start times). Used to measure the solver's gap on tiny instances.
//
//   absl::StatusOr<Solution> best = SolveExactly(problem, /*max_tasks=*/8);
#ifndef LINLI_SERVICES_SCHEDULING_PLANNER_EXACT_H_
#define LINLI_SERVICES_SCHEDULING_PLANNER_EXACT_H_

#include "absl/status/statusor.h"
#include "services/scheduling/planner/model.h"

namespace linli::planner {

// The optimum plan serving every task. INVALID_ARGUMENT above `max_tasks` tasks; NOT_FOUND when no
// plan serves every task.
absl::StatusOr<Solution> SolveExactly(const Problem& problem, int max_tasks = 8);

}  // namespace linli::planner

#endif  // LINLI_SERVICES_SCHEDULING_PLANNER_EXACT_H_
