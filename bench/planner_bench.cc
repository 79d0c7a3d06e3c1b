// planner_bench: quality and scale figures of the HHCRSP planner (a program, not a test).
//
//   build/bin/planner_bench                      # short run (a few minutes)
//   build/bin/planner_bench --time 60 --ref-runs 4 --ref-time 120 --instances 3   # full quality
//   build/bin/planner_bench --only scale --scale-time 60                          # 100k / 3k
//
// Quality: Mankowska-kind instances (generator.h) of 10..300 patients. Generated instances have
// no published best-known values, so the reference of an instance is the best plan of
// `--ref-runs` runs of `--ref-time` seconds with other seeds; the gap is that of one `--time`
// run (seed 1) over the reference. Tiny instances (4 patients, 2 caregivers) are also solved by
// exhaustive search (exact.h) for a true optimum. Every plan is verified by the checker.
// Scale: one district week (100,000 visits, 3,000 workers) with decomposition by day and cluster:
// wall time and peak RSS of the whole process.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "services/scheduling/planner/checker.h"
#include "services/scheduling/planner/exact.h"
#include "services/scheduling/planner/generator.h"
#include "services/scheduling/planner/solver.h"

namespace {

using namespace linli::planner;

struct Args {
  double time = 3;
  int ref_runs = 2;
  double ref_time = 6;
  int instances = 1;
  int tiny = 10;
  double scale_time = 58;
  int scale_visits = 100000;
  int scale_workers = 3000;
  std::string only;  // "", "quality", "tiny", "scale"
  std::string sizes = "10x3,25x5,50x10,75x15,100x20,200x40,300x40";
};

// Machine-readable lines for the table at the end of `make bench` (scripts/bench.sh), printed
// at the end of main: SUMMARY <name> <value> <target> <met|missed|info>.
std::vector<std::string>& Summary() {
  static std::vector<std::string> lines;
  return lines;
}

void AddSummary(const std::string& name, const std::string& value, const std::string& target,
                bool met) {
  Summary().push_back("SUMMARY " + name + " " + value + " " + target + " " +
                      (target == "-" ? "info"
                       : met         ? "met"
                                     : "missed"));
}

std::string Fixed(double value, const char* unit) {
  char text[64];
  std::snprintf(text, sizeof text, "%.2f%s", value, unit);
  return text;
}

double PeakRssMb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024.0;  // kilobytes on Linux
}

double Run(const Problem& p, double seconds, uint64_t seed, bool* feasible, int* unassigned) {
  SolveOptions o;
  o.time_limit_seconds = seconds;
  o.seed = seed;
  const SolveResult r = Solve(p, o);
  const CheckResult c = Check(p, r.solution);
  *feasible = c.feasible();
  *unassigned = c.objective.unassigned;
  return c.objective.weighted;
}

void Quality(const Args& a) {
  std::printf(
      "\n== Quality: Mankowska-kind instances, one run of %.0f s (seed 1) vs the best of %d "
      "runs of %.0f s (seeds 2..)\n",
      a.time, a.ref_runs, a.ref_time);
  std::printf("%-9s %5s %10s %10s %7s %9s %s\n", "size", "inst", "run", "reference", "gap%",
              "feasible", "unassigned");
  for (const std::string& size : std::vector<std::string>(absl::StrSplit(a.sizes, ','))) {
    std::vector<std::string> pc = absl::StrSplit(size, 'x');
    int patients = 0, caregivers = 0;
    if (pc.size() != 2 || !absl::SimpleAtoi(pc[0], &patients) ||
        !absl::SimpleAtoi(pc[1], &caregivers)) {
      std::fprintf(stderr, "bad size %s\n", size.c_str());
      continue;
    }
    double gap_sum = 0, gap_max = 0;
    for (int i = 1; i <= a.instances; ++i) {
      const Problem p = GenerateMankowska(
          {.patients = patients, .caregivers = caregivers, .seed = static_cast<uint64_t>(i)});
      bool feasible = true, all_feasible = true;
      int unassigned = 0, ref_unassigned = 0;
      const double run = Run(p, a.time, 1, &feasible, &unassigned);
      all_feasible &= feasible;
      double ref = run;
      for (int r = 0; r < a.ref_runs; ++r) {
        bool f = true;
        const double c = Run(p, a.ref_time, 2 + r, &f, &ref_unassigned);
        all_feasible &= f;
        if (f) ref = std::min(ref, c);
      }
      const double gap = 100 * (run - ref) / ref;
      gap_sum += gap;
      gap_max = std::max(gap_max, gap);
      std::printf("%-9s %5d %10.2f %10.2f %7.2f %9s %d\n", size.c_str(), i, run, ref, gap,
                  all_feasible ? "yes" : "NO", unassigned);
      std::fflush(stdout);
    }
    if (a.instances > 1) {
      std::printf("%-9s  mean gap %.2f%%, max %.2f%%\n", size.c_str(), gap_sum / a.instances,
                  gap_max);
    }
    // Issue 4: within 3% of the best known up to 75 patients, 6% for 100-300.
    const double allowed = patients <= 75 ? 3 : 6;
    AddSummary("planner.gap." + size, Fixed(gap_max, "%"), "<=" + Fixed(allowed, "%"),
               gap_max <= allowed);
  }
}

void Tiny(const Args& a) {
  std::printf(
      "\n== Exact optimum by exhaustive search: %d tiny instances (5 patients, 3 "
      "caregivers, 40%% two-service, at most 8 tasks), solver 0.3 s\n",
      a.tiny);
  int optimal = 0, feasible_count = 0, compared = 0;
  double worst = 0;
  for (int i = 1; i <= a.tiny; ++i) {
    const Problem p = GenerateMankowska({.patients = 5,
                                         .caregivers = 3,
                                         .seed = static_cast<uint64_t>(1000 + i),
                                         .double_share = 0.4});
    auto exact = SolveExactly(p, 8);
    if (!exact.ok()) {
      std::printf("  seed %4d  skipped: %s\n", 1000 + i,
                  std::string(exact.status().message()).c_str());
      continue;
    }
    const double best = Check(p, *exact).objective.weighted;
    bool feasible = true;
    int unassigned = 0;
    const double run = Run(p, 0.3, 1, &feasible, &unassigned);
    ++compared;
    feasible_count += feasible;
    const double gap = 100 * (run - best) / std::max(1e-9, best);
    worst = std::max(worst, gap);
    if (gap < 1e-6) ++optimal;
    std::printf("  seed %4d  exact %9.3f  solver %9.3f  gap %6.3f%%\n", 1000 + i, best, run, gap);
  }
  std::printf("optimal in %d of %d, feasible %d, worst gap %.3f%%\n", optimal, compared,
              feasible_count, worst);
  AddSummary("planner.tiny_optimal", std::to_string(optimal) + "/" + std::to_string(compared), "-",
             true);
}

void Scale(const Args& a) {
  std::printf(
      "\n== Scale: one district week, %d visits, %d workers, %.0f s budget, "
      "decomposed by day and cluster\n",
      a.scale_visits, a.scale_workers, a.scale_time);
  const auto t0 = std::chrono::steady_clock::now();
  const Problem p = GenerateDistrictWeek({.visits = a.scale_visits, .workers = a.scale_workers});
  const auto t1 = std::chrono::steady_clock::now();
  SolveOptions o;
  o.time_limit_seconds = a.scale_time;
  const SolveResult r = Solve(p, o);
  const auto t2 = std::chrono::steady_clock::now();
  const CheckResult c = Check(p, r.solution);
  const auto t3 = std::chrono::steady_clock::now();
  auto secs = [](auto x, auto y) { return std::chrono::duration<double>(y - x).count(); };
  int tasks = 0;
  for (const Visit& v : p.visits) tasks += static_cast<int>(v.tasks.size());
  std::printf(
      "generate %.2f s, plan %.2f s (%d parts, %lld iterations), check %.2f s; plan + check "
      "%.2f s\n",
      secs(t0, t1), secs(t1, t2), r.parts, static_cast<long long>(r.iterations), secs(t2, t3),
      secs(t1, t3));
  std::printf("feasible %s, routes %zu, tasks %d, unassigned %d (%.2f%%)\n",
              c.feasible() ? "yes" : "NO", r.solution.routes.size(), tasks, c.objective.unassigned,
              100.0 * c.objective.unassigned / tasks);
  std::printf("travel %.0f min (%.2f per task), total lateness %.0f min, max lateness %.1f min\n",
              c.objective.travel, c.objective.travel / std::max(1, tasks - c.objective.unassigned),
              c.objective.total_lateness, c.objective.max_lateness);
  std::printf("peak RSS %.0f MB\n", PeakRssMb());
  AddSummary("planner.scale_" + std::to_string(a.scale_visits) + "_visits_seconds",
             Fixed(secs(t1, t3), "s"), "<=60s", secs(t1, t3) <= 60 && c.feasible());
  AddSummary("planner.scale_peak_rss", Fixed(PeakRssMb(), "MB"), "<=2048MB", PeakRssMb() <= 2048);
  for (size_t i = 0; i < c.violations.size() && i < 5; ++i) {
    std::printf("violation: %s\n", c.violations[i].c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    bool ok = true;
    if (k == "--time")
      ok = absl::SimpleAtod(v, &a.time);
    else if (k == "--ref-runs")
      ok = absl::SimpleAtoi(v, &a.ref_runs);
    else if (k == "--ref-time")
      ok = absl::SimpleAtod(v, &a.ref_time);
    else if (k == "--instances")
      ok = absl::SimpleAtoi(v, &a.instances);
    else if (k == "--tiny")
      ok = absl::SimpleAtoi(v, &a.tiny);
    else if (k == "--scale-time")
      ok = absl::SimpleAtod(v, &a.scale_time);
    else if (k == "--scale-visits")
      ok = absl::SimpleAtoi(v, &a.scale_visits);
    else if (k == "--scale-workers")
      ok = absl::SimpleAtoi(v, &a.scale_workers);
    else if (k == "--sizes")
      a.sizes = v;
    else if (k == "--only")
      a.only = v;
    else
      ok = false;
    if (!ok) {
      std::fprintf(stderr, "planner_bench: bad argument %s %s\n", k.c_str(), v.c_str());
      return 1;
    }
  }
  if (argc % 2 == 0) {
    std::fprintf(stderr, "planner_bench: flags come in --name value pairs\n");
    return 1;
  }
  if (a.only.empty() || a.only == "tiny") Tiny(a);
  if (a.only.empty() || a.only == "quality") Quality(a);
  if (a.only.empty() || a.only == "scale") Scale(a);
  for (const std::string& line : Summary()) std::printf("%s\n", line.c_str());
  return 0;
}
