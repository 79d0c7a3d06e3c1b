// linli-plan: plans home-care visits (HHCRSP) from a problem file, and generates problems.
//
//   linli-plan --problem FILE.json --out PLAN.json [--time-limit S] [--seed N]
//              [--unservable-as-unassigned] [--max-part-visits N]
//   linli-plan generate --patients N --caregivers M [--seed S] [--double-share F] --out FILE.json
//   linli-plan generate-district --visits N --workers M [--seed S] --out FILE.json
//   linli-plan check --problem FILE.json --plan PLAN.json
//
// The problem is a linli.scheduling.v1.PlanProblem in the protobuf JSON mapping; the plan a
// linli.scheduling.v1.Plan. Planning writes the plan to --out (or to stdout without --out) and
// prints the objective broken down on stdout; progress goes to stderr. Exit status: 0 when the
// independent checker accepts the plan, 1 for bad input, 2 when the checker finds violations.
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "common/errors.h"
#include "google/protobuf/util/json_util.h"
#include "linli/scheduling/v1/planning.pb.h"
#include "services/scheduling/planner/checker.h"
#include "services/scheduling/planner/convert.h"
#include "services/scheduling/planner/generator.h"
#include "services/scheduling/planner/planner.h"
#include "tools/cli_json.h"

namespace {

namespace pb = linli::scheduling::v1;
namespace planner = linli::planner;

constexpr char kUsage[] =
    "usage:\n"
    "  linli-plan --problem FILE.json --out PLAN.json [--time-limit S] [--seed N]\n"
    "             [--iterations N] [--unservable-as-unassigned] [--max-part-visits N]\n"
    "  linli-plan generate --patients N --caregivers M [--seed S] [--double-share F] --out FILE\n"
    "  linli-plan generate-district --visits N --workers M [--seed S] --out FILE\n"
    "  linli-plan check --problem FILE.json --plan PLAN.json\n";

int Usage(const std::string& why) {
  std::cerr << "linli-plan: " << why << "\n" << kUsage;
  return 1;
}

// Prints a status with its field violations; returns exit code 1.
int Fail(const absl::Status& status) {
  std::cerr << "error: " << status.message() << "\n";
  if (auto bad = linli::GetBadRequest(status)) {
    for (const auto& v : bad->field_violations()) {
      std::cerr << "  " << v.field() << ": " << v.description() << "\n";
    }
  }
  return 1;
}

absl::Status ReadJson(const std::string& path, google::protobuf::Message* message) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError("cannot read " + path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  const auto status = google::protobuf::util::JsonStringToMessage(buffer.str(), message);
  if (!status.ok()) {
    return absl::InvalidArgumentError(absl::StrFormat("%s is not a valid %s in JSON: %s", path,
                                                      message->GetTypeName(),
                                                      std::string(status.message())));
  }
  return absl::OkStatus();
}

absl::Status WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return absl::PermissionDeniedError("cannot write " + path);
  return absl::OkStatus();
}

void PrintObjective(const pb::Plan& plan) {
  const auto& o = plan.objective();
  std::cout << absl::StrFormat(
      "plan %s: %d routes, %d unassigned tasks, %s by the independent checker\n"
      "objective  weighted %.3f\n"
      "  travel              %.3f\n"
      "  total lateness      %.3f\n"
      "  max lateness        %.3f\n"
      "  continuity misses   %d\n"
      "  workload imbalance  %.3f\n"
      "  unassigned          %d\n"
      "search     %.2f s, %d iterations, %d part(s), seed %d\n",
      plan.problem_name(), plan.routes_size(), plan.unassigned_size(),
      plan.stats().feasible() ? "feasible" : "INFEASIBLE", o.weighted(), o.travel(),
      o.total_lateness(), o.max_lateness(), o.continuity_misses(), o.workload_imbalance(),
      o.unassigned(), plan.stats().seconds(), plan.stats().iterations(), plan.stats().parts(),
      plan.stats().seed());
  for (const auto& v : plan.stats().violations()) std::cout << "violation: " << v << "\n";
}

// --name value / --name=value / bare --flag (value "true"); positional words go to `words`.
bool ParseArgs(int argc, char** argv, std::map<std::string, std::string>& flags,
               std::vector<std::string>& words, std::string& error) {
  static const std::map<std::string, bool> kBoolean = {{"unservable-as-unassigned", true}};
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0) {
      words.push_back(arg);
      continue;
    }
    arg = arg.substr(2);
    const size_t eq = arg.find('=');
    if (eq != std::string::npos) {
      flags[arg.substr(0, eq)] = arg.substr(eq + 1);
    } else if (kBoolean.count(arg) != 0) {
      flags[arg] = "true";
    } else if (i + 1 < argc) {
      flags[arg] = argv[++i];
    } else {
      error = "--" + arg + " needs a value";
      return false;
    }
  }
  return true;
}

template <typename T>
bool Number(const std::map<std::string, std::string>& flags, const std::string& name, T* out,
            std::string& error) {
  auto it = flags.find(name);
  if (it == flags.end()) return true;
  bool ok;
  if constexpr (std::is_floating_point_v<T>) {
    ok = absl::SimpleAtod(it->second, out);
  } else {
    ok = absl::SimpleAtoi(it->second, out);
  }
  if (!ok) error = "--" + name + ": not a number: " + it->second;
  return ok;
}

int Generate(const std::string& kind, const std::map<std::string, std::string>& flags) {
  std::string error;
  planner::Problem problem;
  if (kind == "generate") {
    planner::MankowskaOptions o;
    if (!Number(flags, "patients", &o.patients, error) ||
        !Number(flags, "caregivers", &o.caregivers, error) ||
        !Number(flags, "seed", &o.seed, error) ||
        !Number(flags, "double-share", &o.double_share, error)) {
      return Usage(error);
    }
    if (o.patients < 1 || o.caregivers < 2 || o.double_share < 0 || o.double_share > 1) {
      return Usage("need --patients >= 1, --caregivers >= 2, --double-share in [0, 1]");
    }
    problem = planner::GenerateMankowska(o);
  } else {
    planner::DistrictOptions o;
    if (!Number(flags, "visits", &o.visits, error) ||
        !Number(flags, "workers", &o.workers, error) || !Number(flags, "seed", &o.seed, error)) {
      return Usage(error);
    }
    if (o.visits < 1 || o.workers < 2) return Usage("need --visits >= 1 and --workers >= 2");
    problem = planner::GenerateDistrictWeek(o);
  }
  const std::string json = linli::cli::Json(planner::ProblemToProto(problem));
  auto out = flags.find("out");
  if (out == flags.end()) {
    std::cout << json;
    return 0;
  }
  if (auto s = WriteFile(out->second, json); !s.ok()) return Fail(s);
  std::cerr << absl::StrFormat("wrote %s: %d visits, %d workers\n", out->second,
                               problem.visits.size(), problem.workers.size());
  return 0;
}

int CheckPlan(const std::map<std::string, std::string>& flags) {
  if (!flags.count("problem") || !flags.count("plan"))
    return Usage("check needs --problem and --plan");
  pb::PlanProblem problem;
  pb::Plan plan;
  if (auto s = ReadJson(flags.at("problem"), &problem); !s.ok()) return Fail(s);
  if (auto s = ReadJson(flags.at("plan"), &plan); !s.ok()) return Fail(s);
  auto model = planner::ProblemFromProto(problem);
  if (!model.ok()) return Fail(model.status());
  auto solution = planner::SolutionFromProto(*model, plan);
  if (!solution.ok()) return Fail(solution.status());
  const planner::CheckResult check = planner::Check(*model, *solution);
  const auto& o = check.objective;
  std::cout << absl::StrFormat(
      "%s: weighted %.3f  travel %.3f  total lateness %.3f  max lateness %.3f  continuity "
      "misses %d  workload imbalance %.3f  unassigned %d\n",
      check.feasible() ? "feasible" : "INFEASIBLE", o.weighted, o.travel, o.total_lateness,
      o.max_lateness, o.continuity_misses, o.workload_imbalance, o.unassigned);
  for (const auto& v : check.violations) std::cout << "violation: " << v << "\n";
  return check.feasible() ? 0 : 2;
}

int PlanCommand(const std::map<std::string, std::string>& flags) {
  if (!flags.count("problem")) return Usage("--problem is required");
  std::string error;
  planner::PlanSettings settings;
  double time_limit = 0;
  uint64_t seed = 0;
  int max_part = 0;
  int64_t iterations = 0;
  if (!Number(flags, "time-limit", &time_limit, error) || !Number(flags, "seed", &seed, error) ||
      !Number(flags, "max-part-visits", &max_part, error) ||
      !Number(flags, "iterations", &iterations, error)) {
    return Usage(error);
  }
  if (flags.count("time-limit")) {
    if (!(time_limit > 0)) return Usage("--time-limit must be > 0");
    settings.time_limit_seconds = time_limit;
  }
  if (flags.count("seed")) settings.seed = seed;
  if (flags.count("iterations")) {
    if (iterations < 1) return Usage("--iterations must be >= 1");
    settings.max_iterations = iterations;
  }
  if (flags.count("max-part-visits")) settings.max_part_visits = max_part;
  if (flags.count("unservable-as-unassigned")) settings.unservable_as_unassigned = true;
  settings.progress = [](const std::string& line) { std::cerr << line << "\n"; };

  pb::PlanProblem problem;
  if (auto s = ReadJson(flags.at("problem"), &problem); !s.ok()) return Fail(s);
  std::cerr << absl::StrFormat("planning %s: %d visits, %d workers\n", flags.at("problem"),
                               problem.visits_size(), problem.workers_size());
  auto plan = planner::PlanVisits(problem, settings);
  if (!plan.ok()) return Fail(plan.status());
  const std::string json = linli::cli::Json(*plan);
  auto out = flags.find("out");
  if (out != flags.end()) {
    if (auto s = WriteFile(out->second, json); !s.ok()) return Fail(s);
    std::cerr << "wrote " << out->second << "\n";
  } else {
    std::cout << json;
  }
  PrintObjective(*plan);
  return plan->stats().feasible() ? 0 : 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> flags;
  std::vector<std::string> words;
  std::string error;
  if (!ParseArgs(argc, argv, flags, words, error)) return Usage(error);
  if (flags.count("help") || (words.empty() && flags.empty())) {
    std::cout << kUsage;
    return 0;
  }
  static const std::map<std::string, std::vector<std::string>> kKnown = {
      {"",
       {"problem", "out", "time-limit", "seed", "iterations", "unservable-as-unassigned",
        "max-part-visits"}},
      {"generate", {"patients", "caregivers", "seed", "double-share", "out"}},
      {"generate-district", {"visits", "workers", "seed", "out"}},
      {"check", {"problem", "plan"}}};
  const std::string command = words.empty() ? "" : words[0];
  auto known = kKnown.find(command);
  if (known == kKnown.end() || words.size() > 1) return Usage("unknown command " + command);
  for (const auto& [name, value] : flags) {
    if (std::find(known->second.begin(), known->second.end(), name) == known->second.end()) {
      return Usage("unknown flag --" + name);
    }
  }
  if (command == "generate" || command == "generate-district") return Generate(command, flags);
  if (command == "check") return CheckPlan(flags);
  return PlanCommand(flags);
}
