#include "services/scheduling/planner/convert.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "common/errors.h"

namespace linli::planner {
namespace {

namespace pb = scheduling::v1;

// Field violations, at most 50 (a broken 100k-visit file should not give a 100k-line error).
class Violations {
 public:
  void Add(std::string field, std::string description) {
    if (++count_ <= 50) v_.Add(std::move(field), std::move(description));
  }
  bool empty() const { return count_ == 0; }
  absl::Status ToStatus() const { return v_.ToStatus(); }

 private:
  FieldViolations v_;
  int count_ = 0;
};

bool Finite(double x) { return std::isfinite(x); }

// Id -> index, reporting empty and duplicate ids.
template <typename List, typename GetId>
std::unordered_map<std::string, int> Index(const List& list, const std::string& field, GetId get_id,
                                           Violations& v) {
  std::unordered_map<std::string, int> index;
  for (int i = 0; i < list.size(); ++i) {
    const std::string& id = get_id(list.Get(i));
    const std::string f = absl::StrCat(field, "[", i, "].id");
    if (id.empty()) {
      v.Add(f, "must not be empty");
    } else if (!index.emplace(id, i).second) {
      v.Add(f, absl::StrCat("duplicate id \"", id, "\""));
    }
  }
  return index;
}

}  // namespace

absl::StatusOr<Problem> ProblemFromProto(const pb::PlanProblem& in) {
  Violations v;
  Problem p;
  p.name = in.name();

  // Travel.
  const pb::PlanTravel& tr = in.travel();
  const int n = in.locations_size();
  switch (tr.metric()) {
    case pb::PLAN_TRAVEL_METRIC_EUCLIDEAN:
      p.travel.metric = Metric::kEuclidean;
      break;
    case pb::PLAN_TRAVEL_METRIC_HAVERSINE:
      p.travel.metric = Metric::kHaversine;
      break;
    case pb::PLAN_TRAVEL_METRIC_MATRIX:
      p.travel.metric = Metric::kMatrix;
      break;
    default:
      v.Add("travel.metric", "must be EUCLIDEAN, HAVERSINE or MATRIX");
  }
  auto positive_or_default = [&](double x, double fallback, const char* field) {
    if (x == 0) return fallback;
    if (!Finite(x) || x < 0) v.Add(field, "must be positive");
    return x;
  };
  p.travel.speed = positive_or_default(tr.speed(), 1, "travel.speed");
  p.travel.road_factor = positive_or_default(tr.road_factor(), 1.3, "travel.road_factor");
  p.travel.speed_kmh = positive_or_default(tr.speed_kmh(), 15, "travel.speed_kmh");
  p.travel.minutes_per_hour =
      positive_or_default(tr.minutes_per_hour(), 60, "travel.minutes_per_hour");
  if (p.travel.metric == Metric::kMatrix) {
    if (tr.matrix_size() != n) {
      v.Add("travel.matrix",
            absl::StrCat("has ", tr.matrix_size(), " rows, expected ", n, " (one per location)"));
    } else {
      p.travel.matrix.reserve(static_cast<size_t>(n) * n);
      for (int i = 0; i < n; ++i) {
        const auto& row = tr.matrix(i);
        const std::string f = absl::StrCat("travel.matrix[", i, "].times");
        if (row.times_size() != n) {
          v.Add(f, absl::StrCat("has ", row.times_size(), " entries, expected ", n,
                                " (one per location)"));
          continue;
        }
        for (int j = 0; j < n; ++j) {
          const double t = row.times(j);
          if (!Finite(t) || t < 0) {
            v.Add(absl::StrCat(f, "[", j, "]"), "must be a finite time >= 0");
          }
          p.travel.matrix.push_back(t);
        }
      }
    }
  } else if (tr.matrix_size() > 0) {
    v.Add("travel.matrix", "only allowed with metric MATRIX");
  }

  // Locations.
  const auto loc_index = Index(
      in.locations(), "locations",
      [](const pb::PlanLocation& l) -> const std::string& { return l.id(); }, v);
  for (int i = 0; i < n; ++i) {
    const pb::PlanLocation& l = in.locations(i);
    Location loc{l.id(), l.x(), l.y(), l.latitude(), l.longitude()};
    const std::string f = absl::StrCat("locations[", i, "]");
    if (!Finite(l.x()) || !Finite(l.y())) v.Add(f, "coordinates must be finite");
    if (p.travel.metric == Metric::kHaversine) {
      if (!(std::abs(l.latitude()) <= 90)) v.Add(f + ".latitude", "must be in [-90, 90]");
      if (!(std::abs(l.longitude()) <= 180)) v.Add(f + ".longitude", "must be in [-180, 180]");
    }
    p.locations.push_back(std::move(loc));
  }
  auto location = [&](const std::string& id, const std::string& field) {
    auto it = loc_index.find(id);
    if (it == loc_index.end()) {
      v.Add(field, absl::StrCat("unknown location \"", id, "\""));
      return 0;
    }
    return it->second;
  };

  // Services.
  const auto service_index = Index(
      in.services(), "services",
      [](const pb::PlanService& s) -> const std::string& { return s.id(); }, v);
  for (const auto& s : in.services()) p.services.push_back(s.id());
  auto service = [&](const std::string& id, const std::string& field) {
    auto it = service_index.find(id);
    if (it == service_index.end()) {
      v.Add(field, absl::StrCat("unknown service \"", id, "\""));
      return -1;
    }
    return it->second;
  };

  // Workers.
  const auto worker_index = Index(
      in.workers(), "workers", [](const pb::PlanWorker& w) -> const std::string& { return w.id(); },
      v);
  auto worker = [&](const std::string& id, const std::string& field) {
    auto it = worker_index.find(id);
    if (it == worker_index.end()) {
      v.Add(field, absl::StrCat("unknown worker \"", id, "\""));
      return -1;
    }
    return it->second;
  };
  for (int i = 0; i < in.workers_size(); ++i) {
    const pb::PlanWorker& w = in.workers(i);
    const std::string f = absl::StrCat("workers[", i, "]");
    Worker out;
    out.id = w.id();
    out.base = location(w.base(), f + ".base");
    out.skills.assign(in.services_size(), false);
    for (int j = 0; j < w.skills_size(); ++j) {
      const int s = service(w.skills(j), absl::StrCat(f, ".skills[", j, "]"));
      if (s >= 0) out.skills[s] = true;
    }
    for (int j = 0; j < w.shifts_size(); ++j) {
      const pb::PlanShift& s = w.shifts(j);
      const std::string fs = absl::StrCat(f, ".shifts[", j, "]");
      if (!Finite(s.start()) || !Finite(s.end()) || !(s.start() < s.end())) {
        v.Add(fs, "needs finite start < end");
      } else if (j > 0 && s.start() < w.shifts(j - 1).end()) {
        v.Add(fs, "must start after the previous shift ends (shifts in order, not overlapping)");
      }
      out.shifts.push_back({s.start(), s.end()});
    }
    if (out.shifts.empty()) out.shifts.push_back({0, kInfinity});
    p.workers.push_back(std::move(out));
  }

  // Visits.
  Index(
      in.visits(), "visits", [](const pb::PlanVisit& x) -> const std::string& { return x.id(); },
      v);
  for (int i = 0; i < in.visits_size(); ++i) {
    const pb::PlanVisit& x = in.visits(i);
    const std::string f = absl::StrCat("visits[", i, "]");
    Visit out;
    out.id = x.id();
    out.location = location(x.location(), f + ".location");
    out.window_start = x.window_start();
    out.window_end = x.window_end();
    if (!Finite(x.window_start()) || !Finite(x.window_end()) || x.window_end() < x.window_start()) {
      v.Add(f + ".window_end", "needs finite window_start <= window_end");
    }
    if (x.tasks_size() < 1 || x.tasks_size() > 2) {
      v.Add(f + ".tasks", absl::StrCat("has ", x.tasks_size(), " tasks, expected 1 or 2"));
    }
    for (int k = 0; k < x.tasks_size() && k < 2; ++k) {
      const pb::PlanTask& t = x.tasks(k);
      const std::string ft = absl::StrCat(f, ".tasks[", k, "]");
      Task task;
      task.service = std::max(0, service(t.service(), ft + ".service"));
      task.duration = t.duration();
      if (!Finite(t.duration()) || t.duration() <= 0) v.Add(ft + ".duration", "must be > 0");
      for (int j = 0; j < t.worker_durations_size(); ++j) {
        const auto& wd = t.worker_durations(j);
        const std::string fw = absl::StrCat(ft, ".worker_durations[", j, "]");
        const int w = worker(wd.worker(), fw + ".worker");
        if (!Finite(wd.duration()) || wd.duration() <= 0) v.Add(fw + ".duration", "must be > 0");
        if (w >= 0) task.worker_durations.emplace_back(w, wd.duration());
      }
      out.tasks.push_back(std::move(task));
    }
    if (x.tasks_size() == 2) {
      switch (x.sync().type()) {
        case pb::PLAN_SYNC_TYPE_SIMULTANEOUS:
          out.sync = SyncType::kSimultaneous;
          break;
        case pb::PLAN_SYNC_TYPE_ORDERED:
          out.sync = SyncType::kOrdered;
          out.min_gap = x.sync().min_gap();
          out.max_gap = x.sync().max_gap();
          if (!Finite(out.min_gap) || out.min_gap < 0) {
            v.Add(f + ".sync.min_gap", "must be >= 0");
          }
          if (!Finite(out.max_gap) || out.max_gap < out.min_gap) {
            v.Add(f + ".sync.max_gap", "must be >= min_gap");
          }
          break;
        default:
          v.Add(f + ".sync.type", "must be SIMULTANEOUS or ORDERED for a two-task visit");
      }
    } else if (x.sync().type() != pb::PLAN_SYNC_TYPE_UNSPECIFIED) {
      v.Add(f + ".sync.type", "only for two-task visits");
    }
    for (int j = 0; j < x.preferred_workers_size(); ++j) {
      const int w = worker(x.preferred_workers(j), absl::StrCat(f, ".preferred_workers[", j, "]"));
      if (w >= 0) out.preferred.push_back(w);
    }
    if (!x.previous_worker().empty()) {
      const int w = worker(x.previous_worker(), f + ".previous_worker");
      if (w >= 0) out.preferred.push_back(w);
    }
    p.visits.push_back(std::move(out));
  }

  // Weights.
  const pb::PlanWeights& w = in.weights();
  auto weight = [&](bool has, double value, double fallback, const char* field) {
    if (!has) return fallback;
    if (!Finite(value) || value < 0) v.Add(field, "must be a finite weight >= 0");
    return value;
  };
  p.weights.travel = weight(w.has_travel(), w.travel(), 1.0 / 3, "weights.travel");
  p.weights.total_lateness =
      weight(w.has_total_lateness(), w.total_lateness(), 1.0 / 3, "weights.total_lateness");
  p.weights.max_lateness =
      weight(w.has_max_lateness(), w.max_lateness(), 1.0 / 3, "weights.max_lateness");
  p.weights.continuity = weight(w.has_continuity(), w.continuity(), 0, "weights.continuity");
  p.weights.workload_balance =
      weight(w.has_workload_balance(), w.workload_balance(), 0, "weights.workload_balance");
  p.weights.unassigned = weight(w.has_unassigned(), w.unassigned(), 10000, "weights.unassigned");

  const pb::PlanOptions& o = in.options();
  if (!Finite(o.time_limit_seconds()) || o.time_limit_seconds() < 0) {
    v.Add("options.time_limit_seconds", "must be >= 0");
  }
  if (o.max_part_visits() < 0) v.Add("options.max_part_visits", "must be >= 0");
  if (!v.empty()) return v.ToStatus();
  return p;
}

pb::PlanProblem ProblemToProto(const Problem& p) {
  pb::PlanProblem out;
  out.set_name(p.name);
  pb::PlanTravel* tr = out.mutable_travel();
  switch (p.travel.metric) {
    case Metric::kEuclidean:
      tr->set_metric(pb::PLAN_TRAVEL_METRIC_EUCLIDEAN);
      tr->set_speed(p.travel.speed);
      break;
    case Metric::kHaversine:
      tr->set_metric(pb::PLAN_TRAVEL_METRIC_HAVERSINE);
      tr->set_road_factor(p.travel.road_factor);
      tr->set_speed_kmh(p.travel.speed_kmh);
      tr->set_minutes_per_hour(p.travel.minutes_per_hour);
      break;
    case Metric::kMatrix: {
      tr->set_metric(pb::PLAN_TRAVEL_METRIC_MATRIX);
      const size_t n = p.locations.size();
      for (size_t i = 0; i < n; ++i) {
        auto* row = tr->add_matrix();
        for (size_t j = 0; j < n; ++j) row->add_times(p.travel.matrix[i * n + j]);
      }
    }
  }
  for (const Location& l : p.locations) {
    auto* loc = out.add_locations();
    loc->set_id(l.id);
    if (p.travel.metric == Metric::kHaversine) {
      loc->set_latitude(l.lat);
      loc->set_longitude(l.lon);
    } else {
      loc->set_x(l.x);
      loc->set_y(l.y);
    }
  }
  for (const std::string& s : p.services) out.add_services()->set_id(s);
  for (const Worker& w : p.workers) {
    auto* pw = out.add_workers();
    pw->set_id(w.id);
    pw->set_base(p.locations[w.base].id);
    for (size_t s = 0; s < w.skills.size(); ++s) {
      if (w.skills[s]) pw->add_skills(p.services[s]);
    }
    for (const Shift& s : w.shifts) {
      if (std::isinf(s.end)) continue;  // unbounded: no shift written
      auto* ps = pw->add_shifts();
      ps->set_start(s.start);
      ps->set_end(s.end);
    }
  }
  for (const Visit& x : p.visits) {
    auto* pv = out.add_visits();
    pv->set_id(x.id);
    pv->set_location(p.locations[x.location].id);
    pv->set_window_start(x.window_start);
    pv->set_window_end(x.window_end);
    for (const Task& t : x.tasks) {
      auto* pt = pv->add_tasks();
      pt->set_service(p.services[t.service]);
      pt->set_duration(t.duration);
      for (const auto& [w, d] : t.worker_durations) {
        auto* wd = pt->add_worker_durations();
        wd->set_worker(p.workers[w].id);
        wd->set_duration(d);
      }
    }
    if (x.sync == SyncType::kSimultaneous) {
      pv->mutable_sync()->set_type(pb::PLAN_SYNC_TYPE_SIMULTANEOUS);
    } else if (x.sync == SyncType::kOrdered) {
      pv->mutable_sync()->set_type(pb::PLAN_SYNC_TYPE_ORDERED);
      pv->mutable_sync()->set_min_gap(x.min_gap);
      pv->mutable_sync()->set_max_gap(x.max_gap);
    }
    for (int w : x.preferred) pv->add_preferred_workers(p.workers[w].id);
  }
  auto* w = out.mutable_weights();
  w->set_travel(p.weights.travel);
  w->set_total_lateness(p.weights.total_lateness);
  w->set_max_lateness(p.weights.max_lateness);
  w->set_continuity(p.weights.continuity);
  w->set_workload_balance(p.weights.workload_balance);
  w->set_unassigned(p.weights.unassigned);
  return out;
}

pb::Plan PlanToProto(const Problem& p, const Solution& s, const CheckResult& check,
                     const SolveResult& result, uint64_t seed) {
  pb::Plan out;
  out.set_problem_name(p.name);
  for (const RoutePlan& r : s.routes) {
    const Worker& w = p.workers[r.worker];
    auto* route = out.add_routes();
    route->set_worker(w.id);
    route->set_shift_index(r.shift);
    int at = w.base;
    double time = w.shifts[r.shift].start;
    double travel = 0, service = 0;
    for (size_t i = 0; i < r.stops.size(); ++i) {
      const Stop& stop = r.stops[i];
      const Visit& visit = p.visits[stop.visit];
      const double tt = TravelTime(p.travel, p.locations, at, visit.location);
      if (i == 0) {
        // Leave the base as late as possible without delaying the first start.
        time = std::max(time, stop.start - tt);
        route->set_depart(time);
      }
      const double d = visit.tasks[stop.task].DurationFor(r.worker);
      auto* pv = route->add_visits();
      pv->set_visit(visit.id);
      pv->set_task_index(stop.task);
      pv->set_service(p.services[visit.tasks[stop.task].service]);
      pv->set_arrival(time + tt);
      pv->set_start(stop.start);
      pv->set_end(stop.start + d);
      pv->set_lateness(std::max(0.0, stop.start - visit.window_end));
      pv->set_travel_from_previous(tt);
      travel += tt;
      service += d;
      time = stop.start + d;
      at = visit.location;
    }
    const double back = TravelTime(p.travel, p.locations, at, w.base);
    route->set_arrive(time + back);
    route->set_travel(travel + back);
    route->set_service(service);
  }
  for (const UnassignedTask& u : s.unassigned) {
    auto* pu = out.add_unassigned();
    pu->set_visit(p.visits[u.visit].id);
    pu->set_task_index(u.task);
    pu->set_reason(u.reason);
  }
  const Objective& o = check.objective;
  auto* ob = out.mutable_objective();
  ob->set_travel(o.travel);
  ob->set_total_lateness(o.total_lateness);
  ob->set_max_lateness(o.max_lateness);
  ob->set_continuity_misses(o.continuity_misses);
  ob->set_workload_imbalance(o.workload_imbalance);
  ob->set_unassigned(o.unassigned);
  ob->set_weighted(o.weighted);
  auto* st = out.mutable_stats();
  st->set_seconds(result.seconds);
  st->set_iterations(result.iterations);
  st->set_seed(seed);
  st->set_parts(result.parts);
  st->set_feasible(check.feasible());
  for (size_t i = 0; i < check.violations.size() && i < 20; ++i) {
    st->add_violations(check.violations[i]);
  }
  return out;
}

absl::StatusOr<Solution> SolutionFromProto(const Problem& p, const pb::Plan& plan) {
  std::unordered_map<std::string, int> workers, visits;
  for (size_t i = 0; i < p.workers.size(); ++i) workers.emplace(p.workers[i].id, i);
  for (size_t i = 0; i < p.visits.size(); ++i) visits.emplace(p.visits[i].id, i);
  Violations v;
  Solution s;
  for (int i = 0; i < plan.routes_size(); ++i) {
    const auto& r = plan.routes(i);
    const std::string f = absl::StrCat("routes[", i, "]");
    auto w = workers.find(r.worker());
    if (w == workers.end()) {
      v.Add(f + ".worker", absl::StrCat("unknown worker \"", r.worker(), "\""));
      continue;
    }
    RoutePlan route{w->second, r.shift_index(), {}};
    for (int j = 0; j < r.visits_size(); ++j) {
      const auto& pv = r.visits(j);
      auto x = visits.find(pv.visit());
      if (x == visits.end()) {
        v.Add(absl::StrCat(f, ".visits[", j, "].visit"),
              absl::StrCat("unknown visit \"", pv.visit(), "\""));
        continue;
      }
      route.stops.push_back({x->second, pv.task_index(), pv.start()});
    }
    s.routes.push_back(std::move(route));
  }
  for (int i = 0; i < plan.unassigned_size(); ++i) {
    auto x = visits.find(plan.unassigned(i).visit());
    if (x == visits.end()) {
      v.Add(absl::StrCat("unassigned[", i, "].visit"), "unknown visit");
      continue;
    }
    s.unassigned.push_back(
        {x->second, plan.unassigned(i).task_index(), plan.unassigned(i).reason()});
  }
  if (!v.empty()) return v.ToStatus();
  return s;
}

}  // namespace linli::planner
