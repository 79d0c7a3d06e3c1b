// Conversion between the planning protos (linli/scheduling/v1/planning.proto) and the model.
#ifndef LINLI_SERVICES_SCHEDULING_PLANNER_CONVERT_H_
#define LINLI_SERVICES_SCHEDULING_PLANNER_CONVERT_H_

#include "absl/status/statusor.h"
#include "linli/scheduling/v1/planning.pb.h"
#include "services/scheduling/planner/checker.h"
#include "services/scheduling/planner/model.h"
#include "services/scheduling/planner/solver.h"

namespace linli::planner {

// Validates and converts a problem. Errors: INVALID_ARGUMENT with a google.rpc.BadRequest naming
// every offending field (at most 50), e.g. "travel.matrix[2].times: has 3 entries, expected 4
// (one per location)" or "visits[7].tasks[0].service: unknown service \"bathing\"".
absl::StatusOr<Problem> ProblemFromProto(const scheduling::v1::PlanProblem& problem);

// The proto form of a model problem (the instance generators build models).
scheduling::v1::PlanProblem ProblemToProto(const Problem& problem);

// The plan of `solution`: routes with arrival, start and end times, the unassigned tasks, the
// checker's objective and the statistics.
scheduling::v1::Plan PlanToProto(const Problem& problem, const Solution& solution,
                                 const CheckResult& check, const SolveResult& result,
                                 uint64_t seed);

// The model solution of a plan (for checking a plan written by someone else).
absl::StatusOr<Solution> SolutionFromProto(const Problem& problem,
                                           const scheduling::v1::Plan& plan);

}  // namespace linli::planner

#endif  // LINLI_SERVICES_SCHEDULING_PLANNER_CONVERT_H_
