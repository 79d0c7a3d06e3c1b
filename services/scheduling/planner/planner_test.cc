// Tests of the planner: the independent checker on hand-made plans, the solver against the checker
// and against exhaustive search, the proto API with bad input, decomposition and the CLI's example.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "common/errors.h"
#include "google/protobuf/util/json_util.h"
#include "services/scheduling/planner/checker.h"
#include "services/scheduling/planner/convert.h"
#include "services/scheduling/planner/exact.h"
#include "services/scheduling/planner/generator.h"
#include "services/scheduling/planner/planner.h"
#include "services/scheduling/planner/solver.h"

namespace linli::planner {
namespace {

namespace pb = scheduling::v1;

// base (0,0); a (3,0); b (3,4). Worker w1 has skill "s", w2 only "t".
Problem Triangle() {
  Problem p;
  p.name = "triangle";
  p.locations = {{"base", 0, 0}, {"a", 3, 0}, {"b", 3, 4}};
  p.services = {"s", "t"};
  p.workers.push_back({"w1", 0, {true, false}, {{0, 1000}}});
  p.workers.push_back({"w2", 0, {false, true}, {{0, 1000}}});
  Visit a;
  a.id = "va";
  a.location = 1;
  a.window_start = 10;
  a.window_end = 20;
  a.tasks = {{0, 5, {}}};
  Visit b;
  b.id = "vb";
  b.location = 2;
  b.window_start = 0;
  b.window_end = 5;
  b.tasks = {{0, 5, {}}};
  p.visits = {a, b};
  return p;
}

bool HasViolation(const CheckResult& r, const std::string& part) {
  for (const auto& v : r.violations) {
    if (v.find(part) != std::string::npos) return true;
  }
  return false;
}

std::string Joined(const CheckResult& r) {
  std::string out;
  for (const auto& v : r.violations) out += v + "\n";
  return out;
}

TEST(Checker, AcceptsAValidPlanAndComputesTheObjective) {
  const Problem p = Triangle();
  // w1 reaches a at 3 and waits until 10; a ends at 15; b is 4 away: starts 19, 14 late.
  Solution s;
  s.routes.push_back({0, 0, {{0, 0, 10}, {1, 0, 19}}});
  const CheckResult r = Check(p, s);
  ASSERT_TRUE(r.feasible()) << Joined(r);
  EXPECT_DOUBLE_EQ(r.objective.travel, 3 + 4 + 5);
  EXPECT_DOUBLE_EQ(r.objective.total_lateness, 14);
  EXPECT_DOUBLE_EQ(r.objective.max_lateness, 14);
  EXPECT_EQ(r.objective.unassigned, 0);
  EXPECT_NEAR(r.objective.weighted, (12.0 + 14 + 14) / 3, 1e-9);
  // Workloads: w1 12 travel + 10 service, w2 nothing.
  EXPECT_DOUBLE_EQ(r.objective.workload_imbalance, 22);
}

TEST(Checker, FindsEachKindOfViolation) {
  const Problem p = Triangle();
  {
    Solution s;  // b starts before w1 can arrive from a (15 + 4 = 19)
    s.routes.push_back({0, 0, {{0, 0, 10}, {1, 0, 18}}});
    EXPECT_TRUE(HasViolation(Check(p, s), "before arrival"));
  }
  {
    Solution s;  // a before its window
    s.routes.push_back({0, 0, {{0, 0, 9}, {1, 0, 19}}});
    EXPECT_TRUE(HasViolation(Check(p, s), "before its window"));
  }
  {
    Solution s;  // w2 lacks skill s
    s.routes.push_back({1, 0, {{0, 0, 10}, {1, 0, 19}}});
    EXPECT_TRUE(HasViolation(Check(p, s), "lacks skill"));
  }
  {
    Solution s;  // a twice, b neither planned nor unassigned
    s.routes.push_back({0, 0, {{0, 0, 10}, {0, 0, 20}}});
    const CheckResult r = Check(p, s);
    EXPECT_TRUE(HasViolation(r, "planned twice"));
    EXPECT_TRUE(HasViolation(r, "neither planned nor listed"));
  }
  {
    Problem q = p;
    q.workers[0].shifts = {{0, 25}};  // back at 19 + 5 + 5 = 29 > 25
    Solution s;
    s.routes.push_back({0, 0, {{0, 0, 10}, {1, 0, 19}}});
    EXPECT_TRUE(HasViolation(Check(q, s), "after the shift end"));
  }
  {
    Solution s;  // b listed unassigned: fine, and counted
    s.routes.push_back({0, 0, {{0, 0, 10}}});
    s.unassigned.push_back({1, 0, "test"});
    const CheckResult r = Check(p, s);
    EXPECT_TRUE(r.feasible()) << Joined(r);
    EXPECT_EQ(r.objective.unassigned, 1);
  }
}

TEST(Checker, ChecksSynchronisation) {
  Problem p = Triangle();
  p.workers[1].skills = {true, true};
  Visit two;
  two.id = "vab";
  two.location = 1;
  two.window_start = 0;
  two.window_end = 100;
  two.tasks = {{0, 5, {}}, {0, 5, {}}};
  two.sync = SyncType::kSimultaneous;
  p.visits = {two};
  Solution s;
  s.routes.push_back({0, 0, {{0, 0, 3}}});
  s.routes.push_back({1, 0, {{0, 1, 4}}});
  EXPECT_TRUE(HasViolation(Check(p, s), "simultaneous"));
  s.routes[1].stops[0].start = 3;
  EXPECT_TRUE(Check(p, s).feasible()) << Joined(Check(p, s));

  p.visits[0].sync = SyncType::kOrdered;
  p.visits[0].min_gap = 10;
  p.visits[0].max_gap = 20;
  EXPECT_TRUE(HasViolation(Check(p, s), "outside [10, 20]"));
  s.routes[1].stops[0].start = 15;
  EXPECT_TRUE(Check(p, s).feasible()) << Joined(Check(p, s));
  s.routes[1].stops[0].start = 24;
  EXPECT_TRUE(HasViolation(Check(p, s), "outside"));

  Solution same;  // both tasks by w1
  same.routes.push_back({0, 0, {{0, 0, 3}, {0, 1, 15}}});
  EXPECT_TRUE(HasViolation(Check(p, same), "same worker"));

  Solution half;  // only one task planned
  half.routes.push_back({0, 0, {{0, 0, 3}}});
  half.unassigned.push_back({0, 1, "test"});
  EXPECT_TRUE(HasViolation(Check(p, half), "only one of its two tasks"));
}

TEST(Checker, UsesWorkerDependentDurations) {
  Problem p = Triangle();
  p.visits[0].tasks[0].worker_durations = {{0, 9}};  // w1 needs 9 at a, not 5
  Solution s;
  s.routes.push_back({0, 0, {{0, 0, 10}, {1, 0, 19}}});  // a ends at 19: b at 23 earliest
  EXPECT_TRUE(HasViolation(Check(p, s), "before arrival"));
  s.routes[0].stops[1].start = 23;
  EXPECT_TRUE(Check(p, s).feasible());
}

SolveOptions Iterations(int64_t n, uint64_t seed = 1) {
  SolveOptions o;
  o.time_limit_seconds = 30;
  o.max_iterations = n;
  o.seed = seed;
  return o;
}

TEST(Solver, PlansGeneratedInstancesFeasibly) {
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    const Problem p = GenerateMankowska({.patients = 25, .caregivers = 5, .seed = seed});
    const SolveResult r = Solve(p, Iterations(300, seed));
    const CheckResult c = Check(p, r.solution);
    EXPECT_TRUE(c.feasible()) << Joined(c);
    EXPECT_EQ(c.objective.unassigned, 0);
    EXPECT_GT(c.objective.travel, 0);
    // Two-worker visits really are synchronised in the plan (the checker's rules, spelled out).
    std::map<std::pair<int, int>, std::pair<int, double>> at;  // (visit, task) -> worker, start
    for (const RoutePlan& route : r.solution.routes) {
      for (const Stop& stop : route.stops) at[{stop.visit, stop.task}] = {route.worker, stop.start};
    }
    int two = 0;
    for (size_t v = 0; v < p.visits.size(); ++v) {
      const Visit& visit = p.visits[v];
      if (visit.tasks.size() != 2) continue;
      ++two;
      const auto [w0, s0] = at.at({static_cast<int>(v), 0});
      const auto [w1, s1] = at.at({static_cast<int>(v), 1});
      EXPECT_NE(w0, w1);
      if (visit.sync == SyncType::kSimultaneous) {
        EXPECT_NEAR(s0, s1, 1e-6);
      } else {
        EXPECT_GE(s1 - s0, visit.min_gap - 1e-6);
        EXPECT_LE(s1 - s0, visit.max_gap + 1e-6);
      }
    }
    EXPECT_GT(two, 0);
  }
}

TEST(Solver, SearchImprovesOnConstruction) {
  const Problem p = GenerateMankowska({.patients = 50, .caregivers = 10, .seed = 4});
  const double constructed = Check(p, Solve(p, Iterations(0)).solution).objective.weighted;
  const double searched = Check(p, Solve(p, Iterations(1500)).solution).objective.weighted;
  EXPECT_LT(searched, constructed * 0.97);
}

TEST(Solver, MatchesExhaustiveSearchOnTinyInstances) {
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    const Problem p = GenerateMankowska(
        {.patients = 4, .caregivers = 3, .seed = 100 + seed, .double_share = 0.5});
    auto exact = SolveExactly(p, 7);
    if (!exact.ok() && absl::IsInvalidArgument(exact.status())) continue;  // too many tasks
    ASSERT_TRUE(exact.ok()) << exact.status();
    const CheckResult best = Check(p, *exact);
    ASSERT_TRUE(best.feasible()) << Joined(best);
    const CheckResult found = Check(p, Solve(p, Iterations(3000, seed)).solution);
    ASSERT_TRUE(found.feasible()) << Joined(found);
    EXPECT_NEAR(found.objective.weighted, best.objective.weighted, 1e-6) << "seed " << seed;
  }
}

TEST(Solver, WaitsForWindowsAndRespectsShifts) {
  Problem p = Triangle();
  p.workers[1].skills = {true, true};
  p.workers[0].shifts = {{0, 16}};  // too short for a (ends 15, home 18) and for b
  p.visits[1].window_start = 50;
  p.visits[1].window_end = 60;
  const SolveResult r = Solve(p, Iterations(200));
  const CheckResult c = Check(p, r.solution);
  ASSERT_TRUE(c.feasible()) << Joined(c);
  ASSERT_EQ(c.objective.unassigned, 0);
  for (const RoutePlan& route : r.solution.routes) {
    for (const Stop& stop : route.stops) {
      if (stop.visit == 0) {
        EXPECT_EQ(route.worker, 1);
        EXPECT_DOUBLE_EQ(stop.start, 10);  // arrived early, waited for the window
      }
    }
  }
}

TEST(Solver, DecomposesLargeProblemsByDayAndCluster) {
  const Problem p = GenerateDistrictWeek({.visits = 1200, .workers = 60, .days = 3, .seed = 2});
  SolveOptions o;
  o.time_limit_seconds = 2;
  o.max_part_visits = 150;
  const SolveResult r = Solve(p, o);
  EXPECT_GE(r.parts, 6);
  const CheckResult c = Check(p, r.solution);
  EXPECT_TRUE(c.feasible()) << Joined(c);
  EXPECT_LT(c.objective.unassigned, 1200 / 20);  // a few percent at most on this loaded week
}

TEST(Solver, WorkloadBalanceWeightEvensOutTheWork) {
  Problem p = GenerateMankowska({.patients = 20, .caregivers = 4, .seed = 6});
  const CheckResult plain = Check(p, Solve(p, Iterations(400)).solution);
  p.weights.workload_balance = 2;
  const CheckResult balanced = Check(p, Solve(p, Iterations(400)).solution);
  ASSERT_TRUE(balanced.feasible()) << Joined(balanced);
  EXPECT_LT(balanced.objective.workload_imbalance, plain.objective.workload_imbalance * 0.7);
}

TEST(Solver, ContinuityWeightKeepsTheFamiliarWorker) {
  Problem p = GenerateMankowska({.patients = 15, .caregivers = 4, .seed = 8, .double_share = 0});
  // Each visit prefers the first worker (in order) who has its skill.
  for (Visit& v : p.visits) {
    for (size_t w = 0; w < p.workers.size(); ++w) {
      if (p.workers[w].skills[v.tasks[0].service]) {
        v.preferred = {static_cast<int>(w)};
        break;
      }
    }
  }
  const CheckResult plain = Check(p, Solve(p, Iterations(300)).solution);
  p.weights.continuity = 1000;
  const CheckResult kept = Check(p, Solve(p, Iterations(300)).solution);
  ASSERT_TRUE(kept.feasible()) << Joined(kept);
  EXPECT_GT(plain.objective.continuity_misses, 0);
  EXPECT_EQ(kept.objective.continuity_misses, 0);
}

TEST(Solver, ReportsUnservableVisits) {
  Problem p = Triangle();
  p.visits[1].tasks[0].service = 1;  // "t": only w2
  p.workers[1].skills = {false, false};
  EXPECT_EQ(UnservableReason(p, 1), "no worker has skill t");
  const SolveResult r = Solve(p, Iterations(50));
  const CheckResult c = Check(p, r.solution);
  EXPECT_TRUE(c.feasible()) << Joined(c);
  ASSERT_EQ(r.solution.unassigned.size(), 1u);
  EXPECT_EQ(r.solution.unassigned[0].reason, "no worker has skill t");
}

TEST(Exact, RefusesLargeProblems) {
  const Problem p = GenerateMankowska({.patients = 10, .caregivers = 3});
  EXPECT_TRUE(absl::IsInvalidArgument(SolveExactly(p, 8).status()));
}

TEST(Travel, HaversineWithRoadFactor) {
  TravelModel t;
  t.metric = Metric::kHaversine;
  // 0.01 degree of latitude is 1.112 km: x 1.3 road factor / 15 km/h = 5.78 minutes.
  std::vector<Location> l = {{"a", 0, 0, 31.0, 121.0}, {"b", 0, 0, 31.01, 121.0}};
  EXPECT_NEAR(TravelTime(t, l, 0, 1), 1.11195 * 1.3 / 15 * 60, 1e-3);
  EXPECT_DOUBLE_EQ(TravelTime(t, l, 0, 1), TravelTime(t, l, 1, 0));
}

// --- The proto API -------------------------------------------------------------------------

pb::PlanProblem ReadExample() {
  std::ifstream in(std::string(LINLI_PLANNER_TESTDATA) + "/street_morning.json");
  std::stringstream text;
  text << in.rdbuf();
  pb::PlanProblem problem;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(text.str(), &problem).ok());
  return problem;
}

std::vector<std::string> Fields(const absl::Status& status) {
  std::vector<std::string> out;
  if (auto bad = GetBadRequest(status)) {
    for (const auto& v : bad->field_violations()) out.push_back(v.field());
  }
  return out;
}

PlanSettings Quick() {
  PlanSettings s;
  s.max_iterations = 500;
  s.time_limit_seconds = 30;
  return s;
}

TEST(PlanVisits, PlansTheExampleProblem) {
  const pb::PlanProblem problem = ReadExample();
  ASSERT_EQ(problem.visits_size(), 6);
  auto plan = PlanVisits(problem, Quick());
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_TRUE(plan->stats().feasible());
  EXPECT_EQ(plan->objective().unassigned(), 0);
  EXPECT_EQ(plan->unassigned_size(), 0);
  EXPECT_EQ(plan->objective().continuity_misses(), 0);  // weight 10 and both preferences doable
  EXPECT_EQ(plan->problem_name(), problem.name());
  int planned = 0;
  for (const auto& route : plan->routes()) {
    double previous_end = route.depart();
    for (const auto& v : route.visits()) {
      EXPECT_GE(v.start(), v.arrival() - 1e-9);
      EXPECT_GE(v.arrival(), previous_end - 1e-9);
      if (v.visit() == "visits/zhang-nursing") {
        EXPECT_EQ(route.worker(), "workers/3");
        EXPECT_DOUBLE_EQ(v.end() - v.start(), 45);  // workers/3's own duration
      }
      previous_end = v.end();
      ++planned;
    }
    EXPECT_GE(route.arrive(), previous_end);
  }
  EXPECT_EQ(planned, 8);  // 6 visits, two of them with two workers
}

TEST(PlanVisits, SameSeedSamePlanThroughJson) {
  const Problem model = GenerateMankowska({.patients = 12, .caregivers = 3, .seed = 9});
  std::string json;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(ProblemToProto(model), &json).ok());
  pb::PlanProblem parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json, &parsed).ok());
  auto plan = PlanVisits(parsed, Quick());
  ASSERT_TRUE(plan.ok()) << plan.status();
  auto again = PlanVisits(parsed, Quick());
  ASSERT_TRUE(again.ok());
  EXPECT_DOUBLE_EQ(plan->objective().weighted(), again->objective().weighted());
  // The plan read back and checked on the model gives the same objective.
  auto solution = SolutionFromProto(model, *plan);
  ASSERT_TRUE(solution.ok()) << solution.status();
  const CheckResult c = Check(model, *solution);
  EXPECT_TRUE(c.feasible()) << Joined(c);
  EXPECT_NEAR(c.objective.weighted, plan->objective().weighted(), 1e-6);
  EXPECT_NEAR(plan->objective().weighted(),
              (plan->objective().travel() + plan->objective().total_lateness() +
               plan->objective().max_lateness()) /
                  3,
              1e-6);
}

TEST(PlanVisits, RejectsAnInconsistentMatrixNamingTheField) {
  pb::PlanProblem problem = ReadExample();
  problem.mutable_travel()->set_metric(pb::PLAN_TRAVEL_METRIC_MATRIX);
  problem.mutable_travel()->set_speed(0);
  for (int i = 0; i < problem.locations_size(); ++i) {
    auto* row = problem.mutable_travel()->add_matrix();
    for (int j = 0; j < problem.locations_size(); ++j) row->add_times(i == j ? 0 : 7);
  }
  ASSERT_TRUE(PlanVisits(problem, Quick()).ok());  // the square matrix is fine

  pb::PlanProblem short_row = problem;
  short_row.mutable_travel()->mutable_matrix(2)->mutable_times()->RemoveLast();
  auto plan = PlanVisits(short_row, Quick());
  ASSERT_TRUE(absl::IsInvalidArgument(plan.status())) << plan.status();
  EXPECT_EQ(Fields(plan.status()), std::vector<std::string>{"travel.matrix[2].times"});

  pb::PlanProblem missing_row = problem;
  missing_row.mutable_travel()->mutable_matrix()->RemoveLast();
  plan = PlanVisits(missing_row, Quick());
  ASSERT_TRUE(absl::IsInvalidArgument(plan.status()));
  EXPECT_EQ(Fields(plan.status()), std::vector<std::string>{"travel.matrix"});
  EXPECT_NE(plan.status().message().find("expected 7"), std::string::npos) << plan.status();

  pb::PlanProblem negative = problem;
  negative.mutable_travel()->mutable_matrix(1)->set_times(0, -3);
  plan = PlanVisits(negative, Quick());
  EXPECT_EQ(Fields(plan.status()), std::vector<std::string>{"travel.matrix[1].times[0]"});
}

TEST(PlanVisits, UnservableVisitIsAnErrorOrUnassignedByOption) {
  pb::PlanProblem problem = ReadExample();
  problem.add_services()->set_id("podiatry");
  auto* visit = problem.add_visits();
  visit->set_id("visits/feet");
  visit->set_location("home-li");
  visit->set_window_start(600);
  visit->set_window_end(700);
  auto* task = visit->add_tasks();
  task->set_service("podiatry");
  task->set_duration(30);
  auto plan = PlanVisits(problem, Quick());
  ASSERT_TRUE(absl::IsInvalidArgument(plan.status())) << plan.status();
  EXPECT_EQ(Fields(plan.status()), std::vector<std::string>{"visits[6]"});
  EXPECT_NE(plan.status().ToString().find("no worker has skill podiatry"), std::string::npos);

  PlanSettings settings = Quick();
  settings.unservable_as_unassigned = true;
  plan = PlanVisits(problem, settings);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_TRUE(plan->stats().feasible());
  ASSERT_EQ(plan->unassigned_size(), 1);
  EXPECT_EQ(plan->unassigned(0).visit(), "visits/feet");
  EXPECT_EQ(plan->unassigned(0).reason(), "no worker has skill podiatry");
  EXPECT_EQ(plan->objective().unassigned(), 1);

  // Two tasks nobody but one worker can do: no pair of distinct workers.
  pb::PlanProblem pair = ReadExample();
  pair.mutable_visits(0)->mutable_tasks(0)->set_service("visiting");
  pair.mutable_visits(0)->mutable_tasks(1)->set_service("visiting");
  pair.mutable_workers(2)->clear_skills();
  plan = PlanVisits(pair, Quick());
  ASSERT_TRUE(absl::IsInvalidArgument(plan.status()));
  EXPECT_NE(plan.status().ToString().find("no two different workers"), std::string::npos);
}

TEST(PlanVisits, NamesEveryBadField) {
  pb::PlanProblem problem = ReadExample();
  problem.mutable_travel()->set_metric(pb::PLAN_TRAVEL_METRIC_UNSPECIFIED);
  problem.mutable_workers(0)->set_base("nowhere");
  problem.mutable_workers(1)->add_skills("juggling");
  problem.mutable_workers(2)->mutable_shifts(0)->set_end(100);  // before its start
  problem.mutable_visits(0)->clear_sync();
  for (int i = 0; i < 2; ++i) {
    auto* task = problem.mutable_visits(1)->add_tasks();
    task->set_service("meal");
    task->set_duration(10);
  }
  problem.mutable_visits(2)->set_window_end(1);
  problem.mutable_visits(3)->mutable_tasks(0)->set_duration(0);
  problem.mutable_visits(4)->mutable_sync()->set_max_gap(5);
  problem.mutable_visits(5)->set_id("visits/chen-visit");
  auto plan = PlanVisits(problem, Quick());
  ASSERT_TRUE(absl::IsInvalidArgument(plan.status()));
  const std::vector<std::string> fields = Fields(plan.status());
  for (const char* f :
       {"travel.metric", "workers[0].base", "workers[1].skills[2]", "workers[2].shifts[0]",
        "visits[0].sync.type", "visits[1].tasks", "visits[2].window_end",
        "visits[3].tasks[0].duration", "visits[4].sync.max_gap", "visits[5].id"}) {
    EXPECT_NE(std::find(fields.begin(), fields.end(), f), fields.end()) << f;
  }
  pb::PlanProblem weights = ReadExample();
  weights.mutable_weights()->set_travel(-1);
  EXPECT_EQ(Fields(PlanVisits(weights, Quick()).status()),
            std::vector<std::string>{"weights.travel"});
}

TEST(PlanVisits, EmptyProblemGivesAnEmptyPlan) {
  pb::PlanProblem problem;
  problem.mutable_travel()->set_metric(pb::PLAN_TRAVEL_METRIC_EUCLIDEAN);
  auto plan = PlanVisits(problem, Quick());
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_TRUE(plan->stats().feasible());
  EXPECT_EQ(plan->routes_size(), 0);
  EXPECT_EQ(plan->objective().weighted(), 0);
}

}  // namespace
}  // namespace linli::planner
