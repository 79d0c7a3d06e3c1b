#include "services/scheduling/planner/planner.h"

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/status_macros.h"
#include "services/scheduling/planner/checker.h"
#include "services/scheduling/planner/convert.h"
#include "services/scheduling/planner/solver.h"

namespace linli::planner {

absl::StatusOr<scheduling::v1::Plan> PlanVisits(const scheduling::v1::PlanProblem& problem,
                                                const PlanSettings& settings) {
  ASSIGN_OR_RETURN(Problem p, ProblemFromProto(problem));
  const auto& o = problem.options();
  const bool as_unassigned =
      settings.unservable_as_unassigned.value_or(o.unservable_as_unassigned());
  if (!as_unassigned) {
    FieldViolations v;
    int count = 0;
    for (size_t i = 0; i < p.visits.size() && count < 50; ++i) {
      const std::string reason = UnservableReason(p, static_cast<int>(i));
      if (reason.empty()) continue;
      ++count;
      v.Add(absl::StrCat("visits[", i, "]"),
            absl::StrCat(reason, " (or set options.unservable_as_unassigned)"));
    }
    RETURN_IF_ERROR(v.ToStatus());
  }
  SolveOptions options;
  options.time_limit_seconds = settings.time_limit_seconds.value_or(
      o.time_limit_seconds() > 0 ? o.time_limit_seconds() : 10.0);
  if (options.time_limit_seconds < 0) {
    return InvalidField("time_limit_seconds", "must be >= 0");
  }
  options.seed = settings.seed.value_or(o.seed() != 0 ? o.seed() : 1);
  options.max_part_visits =
      settings.max_part_visits.value_or(o.max_part_visits() > 0 ? o.max_part_visits() : 400);
  options.max_iterations = settings.max_iterations;
  options.progress = settings.progress;
  const SolveResult result = Solve(p, options);
  const CheckResult check = Check(p, result.solution);
  return PlanToProto(p, result.solution, check, result, options.seed);
}

}  // namespace linli::planner
