#include <gtest/gtest.h>

#include "services/scheduling/planner/checker.h"
#include "services/scheduling/planner/generator.h"
#include "services/scheduling/planner/solver.h"

namespace linli::planner {
namespace {

TEST(Solver, GeneratedInstanceIsFeasible) {
  Problem p = GenerateMankowska({.patients = 10, .caregivers = 3, .seed = 1});
  SolveOptions o;
  o.max_iterations = 300;
  SolveResult r = Solve(p, o);
  CheckResult c = Check(p, r.solution);
  EXPECT_TRUE(c.feasible()) << (c.violations.empty() ? "" : c.violations[0]);
  EXPECT_EQ(c.objective.unassigned, 0);
}

}  // namespace
}  // namespace linli::planner
