// The planner's C++ API on the planning protos: what the `linli-plan` CLI and the scheduling
// service's Plan RPC call.
//
//   linli::scheduling::v1::PlanProblem problem = ...;   // e.g. parsed from JSON
//   linli::planner::PlanSettings settings;
//   settings.time_limit_seconds = 5;
//   absl::StatusOr<linli::scheduling::v1::Plan> plan = linli::planner::PlanVisits(problem,
//   settings); if (!plan.ok()) ...;   // INVALID_ARGUMENT naming the field
//   plan->objective().weighted();
#ifndef LINLI_SERVICES_SCHEDULING_PLANNER_PLANNER_H_
#define LINLI_SERVICES_SCHEDULING_PLANNER_PLANNER_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "linli/scheduling/v1/planning.pb.h"

namespace linli::planner {

// Overrides of the problem's PlanOptions (unset fields keep the problem's value).
struct PlanSettings {
  std::optional<double> time_limit_seconds;
  std::optional<uint64_t> seed;
  std::optional<bool> unservable_as_unassigned;
  std::optional<int> max_part_visits;
  // Stops after this many search iterations when >= 0 (reproducible plans for tests).
  int64_t max_iterations = -1;
  // Receives progress lines.
  std::function<void(const std::string&)> progress;
};

// Validates the problem, plans it, checks the plan with the independent checker and returns it
// with the objective broken down. INVALID_ARGUMENT (naming the field) for a bad problem, including
// a visit no worker can serve unless unservable_as_unassigned. A plan the checker rejects is
// returned with stats.feasible = false and the violations listed (it would be a planner bug).
absl::StatusOr<scheduling::v1::Plan> PlanVisits(const scheduling::v1::PlanProblem& problem,
                                                const PlanSettings& settings = {});

}  // namespace linli::planner

#endif  // LINLI_SERVICES_SCHEDULING_PLANNER_PLANNER_H_
