// The linli-plan binary end to end: generate, plan, check, and bad input with exit codes.
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "linli/scheduling/v1/planning.pb.h"
#include "tests/support/test_env.h"

namespace linli::planner {
namespace {

struct CliRun {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class PlanCli : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = testing::MakeTempDir("planner_cli"); }

  CliRun Plan(const std::vector<std::string>& args) {
    const std::string log = dir_ + "/run" + std::to_string(++runs_) + ".log";
    auto child =
        testing::ChildProcess::Start(std::string(LINLI_BIN_DIR) + "/linli-plan", args, log);
    EXPECT_TRUE(child.ok()) << child.status();
    CliRun run;
    if (!child.ok()) return run;
    auto status = child->Wait(absl::Seconds(60));
    EXPECT_TRUE(status.ok()) << status.status();
    if (status.ok() && WIFEXITED(*status)) run.exit_code = WEXITSTATUS(*status);
    run.output = Slurp(log);
    return run;
  }

  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }

  std::string dir_;
  int runs_ = 0;
};

// --iterations with a seed gives the same plan however fast the machine is: the figures used to
// compare solver changes do not depend on load.
TEST_F(PlanCli, IterationBudgetIsReproducible) {
  const std::string problem = dir_ + "/m15.json";
  CliRun r =
      Plan({"generate", "--patients", "15", "--caregivers", "3", "--seed", "2", "--out", problem});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::vector<scheduling::v1::Plan> plans(2);
  for (int i = 0; i < 2; ++i) {
    const std::string out = dir_ + "/iter" + std::to_string(i) + ".json";
    r = Plan({"--problem", problem, "--out", out, "--iterations", "400", "--time-limit", "300",
              "--seed", "9"});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("400 iterations"), std::string::npos) << r.output;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(Slurp(out), &plans[i]).ok());
  }
  ASSERT_GT(plans[0].routes_size(), 0);
  EXPECT_EQ(plans[0].objective().weighted(), plans[1].objective().weighted());
  for (int i = 0; i < plans[0].routes_size() && i < plans[1].routes_size(); ++i) {
    EXPECT_EQ(plans[0].routes(i).DebugString(), plans[1].routes(i).DebugString()) << i;
  }
  EXPECT_EQ(Plan({"--problem", problem, "--iterations", "0"}).exit_code, 1);
}

TEST_F(PlanCli, GeneratesPlansAndChecks) {
  const std::string problem = dir_ + "/m20.json";
  const std::string plan = dir_ + "/plan.json";
  CliRun r =
      Plan({"generate", "--patients", "20", "--caregivers", "4", "--seed", "5", "--out", problem});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = Plan({"--problem", problem, "--out", plan, "--time-limit", "0.5", "--seed", "3"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("feasible by the independent checker"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("total lateness"), std::string::npos);
  EXPECT_NE(r.output.find("max lateness"), std::string::npos);
  EXPECT_NE(r.output.find("part 1/1"), std::string::npos);  // progress on stderr
  scheduling::v1::Plan parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(Slurp(plan), &parsed).ok());
  EXPECT_TRUE(parsed.stats().feasible());
  EXPECT_EQ(parsed.stats().seed(), 3u);
  EXPECT_EQ(parsed.objective().unassigned(), 0);
  int tasks = 0;
  for (const auto& route : parsed.routes()) tasks += route.visits_size();
  EXPECT_GE(tasks, 20);

  r = Plan({"check", "--problem", problem, "--plan", plan});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.rfind("feasible: weighted", 0), 0u) << r.output;

  // Move the first visit of a route one minute before its planned start: the checker objects.
  auto* first = parsed.mutable_routes(0)->mutable_visits(0);
  first->set_start(first->arrival() - 1);
  std::string json;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(parsed, &json).ok());
  r = Plan({"check", "--problem", problem, "--plan", Write("tampered.json", json)});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("violation:"), std::string::npos) << r.output;
}

TEST_F(PlanCli, BadInputNamesTheField) {
  const std::string matrix = Write("matrix.json", R"({
    "travel": {"metric": "PLAN_TRAVEL_METRIC_MATRIX",
               "matrix": [{"times": [0, 5]}, {"times": [5, 0, 1]}]},
    "locations": [{"id": "base"}, {"id": "home"}],
    "services": [{"id": "meal"}],
    "workers": [{"id": "w1", "base": "base", "skills": ["meal"]}],
    "visits": [{"id": "v1", "location": "home", "window_start": 0, "window_end": 60,
                "tasks": [{"service": "meal", "duration": 15}]}]})");
  CliRun r = Plan({"--problem", matrix, "--out", dir_ + "/x.json"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("travel.matrix[1].times: has 3 entries, expected 2"), std::string::npos)
      << r.output;

  const std::string unservable = Write("unservable.json", R"({
    "travel": {"metric": "PLAN_TRAVEL_METRIC_EUCLIDEAN"},
    "locations": [{"id": "base"}, {"id": "home", "x": 3, "y": 4}],
    "services": [{"id": "meal"}, {"id": "bathing"}],
    "workers": [{"id": "w1", "base": "base", "skills": ["meal"]}],
    "visits": [{"id": "v1", "location": "home", "window_start": 0, "window_end": 60,
                "tasks": [{"service": "meal", "duration": 15}]},
               {"id": "v2", "location": "home", "window_start": 0, "window_end": 60,
                "tasks": [{"service": "bathing", "duration": 30}]}]})");
  r = Plan({"--problem", unservable, "--out", dir_ + "/u.json", "--time-limit", "0.2"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("visits[1]: no worker has skill bathing"), std::string::npos) << r.output;
  r = Plan({"--problem", unservable, "--out", dir_ + "/u.json", "--time-limit", "0.2",
            "--unservable-as-unassigned"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(Slurp(dir_ + "/u.json").find("no worker has skill bathing"), std::string::npos);

  r = Plan({"--problem", Write("broken.json", "{\"visits\": [")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("is not a valid linli.scheduling.v1.PlanProblem"), std::string::npos)
      << r.output;
  r = Plan({"--problem", unservable, "--time-limit", "soon"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("--time-limit: not a number"), std::string::npos) << r.output;
  r = Plan({"--problem", unservable, "--colour", "red"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("unknown flag --colour"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace linli::planner
