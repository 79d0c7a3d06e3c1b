#include "services/scheduling/planner/solver.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <numeric>
#include <random>
#include <tuple>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace linli::planner {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

// A worker shift: one route.
struct Vehicle {
  int worker = 0;
  int shift = 0;
};

// Whether vehicle `veh` could perform task k of visit v alone (skill and shift length).
bool VehicleFits(const Problem& p, const Vehicle& veh, int v, int k) {
  if (!CanServe(p, veh.worker, v, k)) return false;
  const Worker& w = p.workers[veh.worker];
  const Shift& s = w.shifts[veh.shift];
  const Visit& visit = p.visits[v];
  const double there = TravelTime(p.travel, p.locations, w.base, visit.location);
  const double back = TravelTime(p.travel, p.locations, visit.location, w.base);
  const double start = std::max(s.start + there, visit.window_start);
  return start + visit.tasks[k].DurationFor(veh.worker) + back <= s.end + kTimeEpsilon;
}

// One part of the problem (a set of visits and of vehicles) and its search.
class Search {
 public:
  Search(const Problem& p, std::vector<int> visits, std::vector<Vehicle> vehicles, uint64_t seed)
      : p_(p), visits_(std::move(visits)), vehicles_(std::move(vehicles)), rng_(seed) {
    Build();
  }

  // Construction then ALNS until the deadline or `max_iterations` (< 0: unbounded).
  int64_t Run(Clock::time_point deadline, int64_t max_iterations,
              const std::function<void(const std::string&)>& progress);

  // Appends the best plan's routes and unassigned tasks.
  void Export(Solution* out) const;

  double BestCost() const { return best_cost_; }

 private:
  struct State {
    std::vector<std::vector<int>> routes;  // per vehicle, task ids
    std::vector<int> veh, pos;             // per task; veh -1 when unassigned
    std::vector<double> start;             // per task
    std::vector<double> load;              // per local worker
    double travel = 0, late_sum = 0, late_max = 0;
    int cont = 0, unassigned = 0;
  };
  struct Mark {
    size_t log, ops;
    double travel, late_sum, late_max;
    int cont, unassigned;
  };
  struct Op {
    int task, veh, pos;
    double old_load;
  };

  void Build();
  double Tt(int a, int b) const { return matrix_[static_cast<size_t>(a) * nloc_ + b]; }
  double Dur(int t, int v) const {
    return dur_override_[t] ? dur_[static_cast<size_t>(t) * vehicles_.size() + v] : base_dur_[t];
  }
  double Late(int t, double s) const { return std::max(0.0, s - we_[t]); }
  // Lower bound on start[target] implied by its partner `source`'s start.
  double PartnerBound(const State& s, int target, int source) const {
    const Visit& visit = p_.visits[visit_of_[target]];
    if (visit.sync == SyncType::kSimultaneous) return s.start[source];
    return task_index_[target] == 1 ? s.start[source] + visit.min_gap
                                    : s.start[source] - visit.max_gap;
  }
  bool Miss(int t, int v) const {
    const auto& pref = p_.visits[visit_of_[t]].preferred;
    return !pref.empty() && std::find(pref.begin(), pref.end(), vehicles_[v].worker) == pref.end();
  }
  double Cost(const State& s) const;
  bool Recompute(State& s) const;
  Mark MakeMark(const State& s) const {
    return {log_.size(), ops_.size(), s.travel, s.late_sum, s.late_max, s.cont, s.unassigned};
  }
  void Rollback(State& s, const Mark& m);
  void Raise(State& s, int t, double value);
  bool Apply(State& s, int t, int v, int position);
  void RemoveVisit(State& s, int lv);
  bool InsertVisit(State& s, int lv, double noise, double blink);
  void Repair(State& s, std::vector<int>& removed, double noise);
  std::vector<int> Destroy(State& s, int op, int q);

  const Problem& p_;
  std::vector<int> visits_;  // global visit ids of the part (local visit -> global)
  std::vector<Vehicle> vehicles_;
  std::mt19937_64 rng_;

  // Tasks.
  std::vector<int> visit_of_, task_index_, local_visit_of_, partner_, loc_;
  std::vector<double> ws_, we_, base_dur_, dur_;
  std::vector<char> dur_override_;
  std::vector<std::vector<int>> eligible_;     // per task: vehicles
  std::vector<std::vector<int>> visit_tasks_;  // per local visit
  std::vector<std::string> unservable_;        // per local visit
  // Vehicles.
  std::vector<int> vbase_, vworker_;
  std::vector<double> vstart_, vend_;
  int nworkers_ = 0;
  // Locations (local) and travel.
  int nloc_ = 0;
  std::vector<double> matrix_;
  std::vector<int> loc_global_;

  std::vector<std::pair<int, double>> log_;
  std::vector<Op> ops_;
  std::vector<int> queue_;

  State best_;
  double best_cost_ = kInfinity;
};

void Search::Build() {
  std::unordered_map<int, int> local;
  auto local_loc = [&](int g) {
    auto [it, fresh] = local.emplace(g, static_cast<int>(loc_global_.size()));
    if (fresh) loc_global_.push_back(g);
    return it->second;
  };
  std::unordered_map<int, int> worker_local;
  for (const Vehicle& veh : vehicles_) {
    const Worker& w = p_.workers[veh.worker];
    vbase_.push_back(local_loc(w.base));
    auto [it, fresh] = worker_local.emplace(veh.worker, nworkers_);
    if (fresh) ++nworkers_;
    vworker_.push_back(it->second);
    vstart_.push_back(w.shifts[veh.shift].start);
    vend_.push_back(w.shifts[veh.shift].end);
  }
  const size_t nv = vehicles_.size();
  visit_tasks_.resize(visits_.size());
  unservable_.resize(visits_.size());
  for (size_t lv = 0; lv < visits_.size(); ++lv) {
    const int v = visits_[lv];
    const Visit& visit = p_.visits[v];
    const int l = local_loc(visit.location);
    const int first = static_cast<int>(visit_of_.size());
    for (size_t k = 0; k < visit.tasks.size(); ++k) {
      const int t = static_cast<int>(visit_of_.size());
      visit_tasks_[lv].push_back(t);
      visit_of_.push_back(v);
      task_index_.push_back(static_cast<int>(k));
      local_visit_of_.push_back(static_cast<int>(lv));
      partner_.push_back(visit.tasks.size() == 2 ? first + 1 - static_cast<int>(k) : -1);
      loc_.push_back(l);
      ws_.push_back(visit.window_start);
      we_.push_back(visit.window_end);
      const Task& task = visit.tasks[k];
      base_dur_.push_back(task.duration);
      dur_override_.push_back(!task.worker_durations.empty());
      std::vector<int> elig;
      for (size_t i = 0; i < nv; ++i) {
        if (VehicleFits(p_, vehicles_[i], v, static_cast<int>(k)))
          elig.push_back(static_cast<int>(i));
      }
      if (elig.empty())
        unservable_[lv] = "no worker shift of this part can serve task " + std::to_string(k);
      eligible_.push_back(std::move(elig));
    }
  }
  const size_t nt = visit_of_.size();
  dur_.assign(std::any_of(dur_override_.begin(), dur_override_.end(), [](char c) { return c; })
                  ? nt * nv
                  : 0,
              0);
  if (!dur_.empty()) {
    for (size_t t = 0; t < nt; ++t) {
      for (size_t i = 0; i < nv; ++i) {
        dur_[t * nv + i] =
            p_.visits[visit_of_[t]].tasks[task_index_[t]].DurationFor(vehicles_[i].worker);
      }
    }
  }
  nloc_ = static_cast<int>(loc_global_.size());
  matrix_.resize(static_cast<size_t>(nloc_) * nloc_);
  for (int a = 0; a < nloc_; ++a) {
    for (int b = 0; b < nloc_; ++b) {
      matrix_[static_cast<size_t>(a) * nloc_ + b] =
          TravelTime(p_.travel, p_.locations, loc_global_[a], loc_global_[b]);
    }
  }
}

double Search::Cost(const State& s) const {
  const Weights& w = p_.weights;
  double cost = w.travel * s.travel + w.total_lateness * s.late_sum + w.max_lateness * s.late_max +
                w.continuity * s.cont + w.unassigned * s.unassigned;
  if (w.workload_balance > 0 && !s.load.empty()) {
    const auto [lo, hi] = std::minmax_element(s.load.begin(), s.load.end());
    cost += w.workload_balance * (*hi - *lo);
  }
  return cost;
}

// Earliest start times of the routes: repeated forward passes over the routes and the
// synchronisation bounds until nothing moves. False on a cycle (contradictory order) or a shift
// overrun.
bool Search::Recompute(State& s) const {
  const size_t nt = visit_of_.size();
  for (size_t t = 0; t < nt; ++t) s.start[t] = ws_[t];
  const int max_passes = static_cast<int>(nt) + 3;
  bool changed = true;
  int passes = 0;
  while (changed) {
    if (++passes > max_passes) return false;
    changed = false;
    for (size_t v = 0; v < s.routes.size(); ++v) {
      double time = vstart_[v];
      int at = vbase_[v];
      for (int t : s.routes[v]) {
        const double st = std::max(time + Tt(at, loc_[t]), s.start[t]);
        if (st > s.start[t] + kTimeEpsilon) changed = true;
        s.start[t] = std::max(st, s.start[t]);
        time = s.start[t] + Dur(t, static_cast<int>(v));
        at = loc_[t];
      }
    }
    for (size_t t = 0; t < nt; ++t) {
      const int q = partner_[t];
      if (q < 0 || s.veh[t] < 0 || s.veh[q] < 0) continue;
      const double need = PartnerBound(s, static_cast<int>(t), q);
      if (need > s.start[t] + kTimeEpsilon) {
        s.start[t] = need;
        changed = true;
      }
    }
  }
  s.travel = s.late_sum = s.late_max = 0;
  s.cont = s.unassigned = 0;
  std::fill(s.load.begin(), s.load.end(), 0.0);
  for (size_t v = 0; v < s.routes.size(); ++v) {
    int at = vbase_[v];
    double time = vstart_[v];
    for (int t : s.routes[v]) {
      const double tt = Tt(at, loc_[t]);
      const double d = Dur(t, static_cast<int>(v));
      s.travel += tt;
      s.load[vworker_[v]] += tt + d;
      const double late = Late(t, s.start[t]);
      s.late_sum += late;
      s.late_max = std::max(s.late_max, late);
      if (Miss(t, static_cast<int>(v))) ++s.cont;
      time = s.start[t] + d;
      at = loc_[t];
    }
    if (!s.routes[v].empty()) {
      const double back = Tt(at, vbase_[v]);
      s.travel += back;
      s.load[vworker_[v]] += back;
      if (time + back > vend_[v] + kTimeEpsilon) return false;
    }
  }
  for (size_t t = 0; t < nt; ++t) {
    if (s.veh[t] < 0) ++s.unassigned;
  }
  return true;
}

void Search::Raise(State& s, int t, double value) {
  log_.emplace_back(t, s.start[t]);
  s.late_sum += Late(t, value) - Late(t, s.start[t]);
  s.late_max = std::max(s.late_max, Late(t, value));
  s.start[t] = value;
}

void Search::Rollback(State& s, const Mark& m) {
  while (log_.size() > m.log) {
    s.start[log_.back().first] = log_.back().second;
    log_.pop_back();
  }
  while (ops_.size() > m.ops) {
    const Op op = ops_.back();
    ops_.pop_back();
    auto& r = s.routes[op.veh];
    r.erase(r.begin() + op.pos);
    for (size_t i = op.pos; i < r.size(); ++i) s.pos[r[i]] = static_cast<int>(i);
    s.veh[op.task] = -1;
    s.load[vworker_[op.veh]] = op.old_load;
  }
  s.travel = m.travel;
  s.late_sum = m.late_sum;
  s.late_max = m.late_max;
  s.cont = m.cont;
  s.unassigned = m.unassigned;
}

// Inserts task t into vehicle v at `position` and propagates the delays it causes. Returns false
// when the result is infeasible (the caller rolls back).
bool Search::Apply(State& s, int t, int v, int position) {
  auto& r = s.routes[v];
  const int prev = position > 0 ? r[position - 1] : -1;
  const int next = position < static_cast<int>(r.size()) ? r[position] : -1;
  const int lp = prev >= 0 ? loc_[prev] : vbase_[v];
  const int ln = next >= 0 ? loc_[next] : vbase_[v];
  const double dt = Tt(lp, loc_[t]) + Tt(loc_[t], ln) - (r.empty() ? 0.0 : Tt(lp, ln));
  ops_.push_back({t, v, position, s.load[vworker_[v]]});
  r.insert(r.begin() + position, t);
  for (size_t i = position; i < r.size(); ++i) s.pos[r[i]] = static_cast<int>(i);
  s.veh[t] = v;
  s.travel += dt;
  s.load[vworker_[v]] += dt + Dur(t, v);
  --s.unassigned;
  if (Miss(t, v)) ++s.cont;

  double st =
      std::max(ws_[t], (prev >= 0 ? s.start[prev] + Dur(prev, v) : vstart_[v]) + Tt(lp, loc_[t]));
  const int q = partner_[t];
  if (q >= 0 && s.veh[q] >= 0) st = std::max(st, PartnerBound(s, t, q));
  log_.emplace_back(t, s.start[t]);
  s.start[t] = st;
  s.late_sum += Late(t, st);
  s.late_max = std::max(s.late_max, Late(t, st));

  queue_.clear();
  queue_.push_back(t);
  const size_t limit = 4 * visit_of_.size() + 64;
  for (size_t head = 0; head < queue_.size(); ++head) {
    if (head > limit) return false;
    const int x = queue_[head];
    const int vx = s.veh[x];
    const auto& rx = s.routes[vx];
    const int px = s.pos[x];
    const double finish = s.start[x] + Dur(x, vx);
    if (px + 1 < static_cast<int>(rx.size())) {
      const int y = rx[px + 1];
      const double need = finish + Tt(loc_[x], loc_[y]);
      if (need > s.start[y] + kTimeEpsilon) {
        if (y == t) return false;
        Raise(s, y, need);
        queue_.push_back(y);
      }
    } else if (finish + Tt(loc_[x], vbase_[vx]) > vend_[vx] + kTimeEpsilon) {
      return false;
    }
    const int qx = partner_[x];
    if (qx >= 0 && s.veh[qx] >= 0) {
      const double need = PartnerBound(s, qx, x);
      if (need > s.start[qx] + kTimeEpsilon) {
        if (qx == t) return false;
        Raise(s, qx, need);
        queue_.push_back(qx);
      }
    }
  }
  return true;
}

void Search::RemoveVisit(State& s, int lv) {
  for (int t : visit_tasks_[lv]) {
    const int v = s.veh[t];
    if (v < 0) continue;
    auto& r = s.routes[v];
    r.erase(r.begin() + s.pos[t]);
    for (size_t i = s.pos[t]; i < r.size(); ++i) s.pos[r[i]] = static_cast<int>(i);
    s.veh[t] = -1;
  }
}

// Cheapest insertion of one visit (both tasks of a two-worker visit). `noise` perturbs the
// compared costs, `blink` skips positions at random. False when nothing fits.
bool Search::InsertVisit(State& s, int lv, double noise, double blink) {
  if (!unservable_[lv].empty()) return false;
  std::uniform_real_distribution<double> u01(0, 1);
  const auto& tasks = visit_tasks_[lv];
  const Mark base = MakeMark(s);
  const double base_cost = Cost(s);
  const Weights& w = p_.weights;
  // Every part of the objective but the workload balance only grows when a task is inserted, so
  // the detour and the inserted task's own lateness bound the cost of a position from below.
  const bool prune = w.workload_balance == 0;
  struct Cand {
    double cost;  // added cost (without the unassigned reward), perturbed by the noise
    int veh, pos;
  };
  // The `keep` cheapest feasible positions of task t (at most 2 per vehicle), cheapest first.
  // `floor` is the cost already added by a partner inserted before.
  auto candidates = [&](int t, int exclude_worker, size_t keep, double floor, int inserted) {
    std::vector<Cand> out;
    std::vector<double> top;  // max-heap of the kept costs
    const Mark m = MakeMark(s);
    for (int v : eligible_[t]) {
      if (vehicles_[v].worker == exclude_worker) continue;
      const auto& r = s.routes[v];
      const int n = static_cast<int>(r.size());
      const double miss = Miss(t, v) ? w.continuity : 0.0;
      for (int i = 0; i <= n; ++i) {
        if (blink > 0 && u01(rng_) < blink) continue;
        if (prune && top.size() >= keep) {
          const int prev = i > 0 ? r[i - 1] : -1;
          const int lp = prev >= 0 ? loc_[prev] : vbase_[v];
          const int ln = i < n ? loc_[r[i]] : vbase_[v];
          const double detour = Tt(lp, loc_[t]) + Tt(loc_[t], ln) - (n == 0 ? 0.0 : Tt(lp, ln));
          const double ready =
              (prev >= 0 ? s.start[prev] + Dur(prev, v) : vstart_[v]) + Tt(lp, loc_[t]);
          const double late = Late(t, std::max(ready, ws_[t]));
          const double lb = floor + w.travel * detour + miss + w.total_lateness * late +
                            w.max_lateness * std::max(0.0, late - s.late_max);
          if (lb * (1 - noise) >= top.front()) continue;
        }
        const bool ok = Apply(s, t, v, i);
        const double c = ok ? Cost(s) : kInfinity;
        Rollback(s, m);
        if (!ok) continue;
        const double raw = c - base_cost + w.unassigned * inserted;
        const double cost = noise > 0 ? raw * (1 + noise * (2 * u01(rng_) - 1)) : raw;
        out.push_back({cost, v, i});
        if (top.size() < keep) {
          top.push_back(cost);
          std::push_heap(top.begin(), top.end());
        } else if (cost < top.front()) {
          std::pop_heap(top.begin(), top.end());
          top.back() = cost;
          std::push_heap(top.begin(), top.end());
        }
      }
    }
    std::sort(out.begin(), out.end(), [](const Cand& a, const Cand& b) { return a.cost < b.cost; });
    if (out.size() > keep) {
      std::vector<Cand> kept;
      std::unordered_map<int, int> per_vehicle;
      for (const Cand& c : out) {
        if (kept.size() >= keep) break;
        if (++per_vehicle[c.veh] <= 2) kept.push_back(c);
      }
      out = std::move(kept);
    }
    return out;
  };

  if (tasks.size() == 1) {
    const auto c = candidates(tasks[0], -1, 1, 0, 1);
    if (c.empty()) return false;
    if (!Apply(s, tasks[0], c[0].veh, c[0].pos)) {
      Rollback(s, base);
      return false;
    }
    return true;
  }
  // Two tasks: the one with fewer vehicles first; for its best few positions, the best position
  // of the other given that one.
  const int a = eligible_[tasks[0]].size() <= eligible_[tasks[1]].size() ? tasks[0] : tasks[1];
  const int b = a == tasks[0] ? tasks[1] : tasks[0];
  const auto first = candidates(a, -1, 5, 0, 1);
  double best = kInfinity;
  int bva = -1, bpa = -1, bvb = -1, bpb = -1;
  for (const Cand& ca : first) {
    const Mark m = MakeMark(s);
    if (Apply(s, a, ca.veh, ca.pos)) {
      const double floor = Cost(s) - base_cost + w.unassigned;
      const auto second = candidates(b, vehicles_[ca.veh].worker, 1, floor, 2);
      if (!second.empty() && second[0].cost < best) {
        best = second[0].cost;
        bva = ca.veh, bpa = ca.pos, bvb = second[0].veh, bpb = second[0].pos;
      }
    }
    Rollback(s, m);
  }
  if (bva < 0) return false;
  if (!Apply(s, a, bva, bpa) || !Apply(s, b, bvb, bpb)) {
    Rollback(s, base);
    return false;
  }
  return true;
}

void Search::Repair(State& s, std::vector<int>& removed, double noise) {
  std::uniform_int_distribution<int> order_pick(0, 3);
  switch (order_pick(rng_)) {
    case 0:
      std::shuffle(removed.begin(), removed.end(), rng_);
      break;
    case 1:  // earliest window first
      std::sort(removed.begin(), removed.end(),
                [&](int x, int y) { return ws_[visit_tasks_[x][0]] < ws_[visit_tasks_[y][0]]; });
      break;
    case 2:  // two-worker visits first, then tightest windows
      std::sort(removed.begin(), removed.end(), [&](int x, int y) {
        const size_t nx = visit_tasks_[x].size(), ny = visit_tasks_[y].size();
        if (nx != ny) return nx > ny;
        return we_[visit_tasks_[x][0]] < we_[visit_tasks_[y][0]];
      });
      break;
    default:  // latest window end first
      std::sort(removed.begin(), removed.end(),
                [&](int x, int y) { return we_[visit_tasks_[x][0]] > we_[visit_tasks_[y][0]]; });
  }
  std::uniform_real_distribution<double> u01(0, 1);
  const double blink = u01(rng_) < 0.5 ? 0.02 : 0.0;
  for (int lv : removed) {
    if (!InsertVisit(s, lv, noise, blink)) InsertVisit(s, lv, 0, 0);
    log_.clear();
    ops_.clear();
  }
}

// Removes about q visits with operator `op`; returns their local ids.
std::vector<int> Search::Destroy(State& s, int op, int q) {
  const int nvis = static_cast<int>(visits_.size());
  std::vector<int> assigned;
  for (int lv = 0; lv < nvis; ++lv) {
    if (s.veh[visit_tasks_[lv][0]] >= 0) assigned.push_back(lv);
  }
  std::vector<int> removed;
  if (assigned.empty()) return removed;
  q = std::min<int>(q, assigned.size());
  std::uniform_real_distribution<double> u01(0, 1);
  auto pick_skewed = [&](size_t n) {  // favours the front of a sorted list
    return static_cast<size_t>(std::pow(u01(rng_), 4.0) * n);
  };
  const int seed = assigned[std::uniform_int_distribution<size_t>(0, assigned.size() - 1)(rng_)];
  const int st = visit_tasks_[seed][0];
  switch (op) {
    case 0: {  // random
      std::shuffle(assigned.begin(), assigned.end(), rng_);
      removed.assign(assigned.begin(), assigned.begin() + q);
      break;
    }
    case 1: {  // related: near in place and window
      std::vector<std::pair<double, int>> rel;
      for (int lv : assigned) {
        const int t = visit_tasks_[lv][0];
        rel.emplace_back(Tt(loc_[st], loc_[t]) + 0.5 * std::abs(ws_[st] - ws_[t]), lv);
      }
      std::sort(rel.begin(), rel.end());
      while (static_cast<int>(removed.size()) < q && !rel.empty()) {
        const size_t i = pick_skewed(rel.size());
        removed.push_back(rel[i].second);
        rel.erase(rel.begin() + i);
      }
      break;
    }
    case 2: {  // worst: largest detour plus lateness
      std::vector<std::pair<double, int>> worst;
      for (int lv : assigned) {
        double c = 0;
        for (int t : visit_tasks_[lv]) {
          const int v = s.veh[t];
          const auto& r = s.routes[v];
          const int i = s.pos[t];
          const int lp = i > 0 ? loc_[r[i - 1]] : vbase_[v];
          const int ln = i + 1 < static_cast<int>(r.size()) ? loc_[r[i + 1]] : vbase_[v];
          c += p_.weights.travel * (Tt(lp, loc_[t]) + Tt(loc_[t], ln) - Tt(lp, ln)) +
               p_.weights.total_lateness * Late(t, s.start[t]);
        }
        worst.emplace_back(-c, lv);
      }
      std::sort(worst.begin(), worst.end());
      while (static_cast<int>(removed.size()) < q && !worst.empty()) {
        const size_t i = pick_skewed(worst.size());
        removed.push_back(worst[i].second);
        worst.erase(worst.begin() + i);
      }
      break;
    }
    default: {  // strings: consecutive tasks of the routes nearest to the seed
      std::vector<std::pair<double, int>> near;
      for (int lv : assigned) {
        const int t = visit_tasks_[lv][0];
        near.emplace_back(Tt(loc_[st], loc_[t]), t);
      }
      std::sort(near.begin(), near.end());
      std::vector<char> route_done(vehicles_.size(), 0);
      std::vector<char> taken(nvis, 0);
      const int max_len = std::max(2, std::min(10, q / 2 + 1));
      for (const auto& [d, t] : near) {
        if (static_cast<int>(removed.size()) >= q) break;
        const int v = s.veh[t];
        if (route_done[v]) continue;
        route_done[v] = 1;
        const auto& r = s.routes[v];
        const int len = std::min<int>(r.size(), 1 + static_cast<int>(u01(rng_) * max_len));
        const int lo = std::max(0, std::min<int>(s.pos[t] - static_cast<int>(u01(rng_) * len),
                                                 static_cast<int>(r.size()) - len));
        for (int i = lo; i < lo + len; ++i) {
          const int lv = local_visit_of_[r[i]];
          if (!taken[lv]) {
            taken[lv] = 1;
            removed.push_back(lv);
          }
        }
      }
    }
  }
  for (int lv : removed) RemoveVisit(s, lv);
  return removed;
}

int64_t Search::Run(Clock::time_point deadline, int64_t max_iterations,
                    const std::function<void(const std::string&)>& progress) {
  const size_t nt = visit_of_.size();
  State s;
  s.routes.resize(vehicles_.size());
  s.veh.assign(nt, -1);
  s.pos.assign(nt, 0);
  s.start.assign(nt, 0);
  s.load.assign(nworkers_, 0);
  s.unassigned = static_cast<int>(nt);
  std::vector<int> all(visits_.size());
  std::iota(all.begin(), all.end(), 0);
  // Construction: two-worker visits first, then by window.
  std::sort(all.begin(), all.end(), [&](int x, int y) {
    const size_t nx = visit_tasks_[x].size(), ny = visit_tasks_[y].size();
    if (nx != ny) return nx > ny;
    return ws_[visit_tasks_[x][0]] < ws_[visit_tasks_[y][0]];
  });
  for (int lv : all) {
    InsertVisit(s, lv, 0, 0);
    log_.clear();
    ops_.clear();
  }
  Recompute(s);
  best_ = s;
  best_cost_ = Cost(s);
  double current_cost = best_cost_;
  const int nvis = static_cast<int>(visits_.size());
  if (nvis == 0) return 0;

  // Adaptive operator weights.
  constexpr int kOps = 4;
  std::vector<double> weight(kOps, 1.0), score(kOps, 0.0), used(kOps, 0.0);
  std::uniform_real_distribution<double> u01(0, 1);
  const double per_visit =
      std::max(1e-9, best_cost_ - p_.weights.unassigned * s.unassigned) / std::max(1, nvis);
  // Simulated annealing from 10 to 0.01 times the average cost of a visit in the constructed
  // plan, cooling exponentially over the budget (time, or iterations when those are bounded).
  const double t0 = 10 * per_visit, t1 = 0.01 * per_visit;
  const auto began = Clock::now();
  const double budget = std::max(1e-3, std::chrono::duration<double>(deadline - began).count());
  int64_t it = 0;
  double last_report = 0;
  State cand;
  while (true) {
    if (max_iterations >= 0 && it >= max_iterations) break;
    if ((it & 7) == 0 && Clock::now() >= deadline) break;
    const double frac = max_iterations >= 0
                            ? static_cast<double>(it) / std::max<int64_t>(1, max_iterations)
                            : std::min(1.0, Seconds(began) / budget);
    const double temperature = t0 * std::pow(t1 / t0, frac);
    // Roulette over operator weights.
    double total = std::accumulate(weight.begin(), weight.end(), 0.0);
    double pick = u01(rng_) * total;
    int op = 0;
    while (op + 1 < kOps && pick >= weight[op]) pick -= weight[op++];
    const int qmax = std::max(2, std::min(30, nvis / 5 + 2));
    const int q = std::uniform_int_distribution<int>(1, qmax)(rng_);
    cand = s;
    std::vector<int> removed = Destroy(cand, op, q);
    bool ok = Recompute(cand);
    if (ok) {
      Repair(cand, removed, u01(rng_) < 0.5 ? 0.1 : 0.0);
      ok = Recompute(cand);
    }
    ++it;
    used[op] += 1;
    if (!ok) continue;
    const double c = Cost(cand);
    double reward = 0;
    if (c < best_cost_ - 1e-9) {
      best_ = cand;
      best_cost_ = c;
      reward = 3;
    }
    if (c < current_cost - 1e-9) {
      reward = std::max(reward, 1.0);
    }
    if (c < current_cost - temperature * std::log(std::max(1e-300, u01(rng_)))) {
      std::swap(s, cand);
      current_cost = c;
      reward = std::max(reward, 0.3);
    }
    score[op] += reward;
    if (it % 100 == 0) {
      for (int i = 0; i < kOps; ++i) {
        if (used[i] > 0) weight[i] = 0.8 * weight[i] + 0.2 * std::max(0.05, score[i] / used[i]);
        score[i] = used[i] = 0;
      }
    }
    if (progress && Seconds(began) - last_report >= 1.0) {
      last_report = Seconds(began);
      progress(absl::StrFormat("  %.1fs  iteration %d  best %.3f  current %.3f", last_report, it,
                               best_cost_, current_cost));
    }
  }
  return it;
}

void Search::Export(Solution* out) const {
  for (size_t v = 0; v < vehicles_.size(); ++v) {
    if (best_.routes[v].empty()) continue;
    RoutePlan r;
    r.worker = vehicles_[v].worker;
    r.shift = vehicles_[v].shift;
    for (int t : best_.routes[v]) r.stops.push_back({visit_of_[t], task_index_[t], best_.start[t]});
    out->routes.push_back(std::move(r));
  }
  for (size_t lv = 0; lv < visits_.size(); ++lv) {
    for (int t : visit_tasks_[lv]) {
      if (best_.veh[t] >= 0) continue;
      out->unassigned.push_back(
          {visit_of_[t], task_index_[t],
           unservable_[lv].empty() ? "no feasible insertion found" : unservable_[lv]});
    }
  }
}

// Geographic coordinates of a location for clustering.
std::pair<double, double> Coordinates(const Problem& p, int loc) {
  const Location& l = p.locations[loc];
  if (p.travel.metric == Metric::kHaversine) return {l.lat, l.lon * std::cos(l.lat * M_PI / 180)};
  return {l.x, l.y};
}

struct Part {
  std::vector<int> visits;
  std::vector<Vehicle> vehicles;
};

// Splits `visits` (served by `vehicles`) into geographic clusters of about `max_visits` each,
// giving each cluster vehicles in proportion to its work, nearest bases first.
std::vector<Part> Cluster(const Problem& p, const std::vector<int>& visits,
                          const std::vector<Vehicle>& vehicles, int max_visits,
                          std::mt19937_64& rng) {
  const int k = static_cast<int>((visits.size() + max_visits - 1) / max_visits);
  if (k <= 1 || p.travel.metric == Metric::kMatrix) {
    // A matrix has no coordinates: chunks by window instead (visits arrive sorted by window).
    std::vector<Part> parts(std::max(1, k));
    for (size_t i = 0; i < visits.size(); ++i)
      parts[i * parts.size() / visits.size()].visits.push_back(visits[i]);
    for (size_t i = 0; i < vehicles.size(); ++i)
      parts[i % parts.size()].vehicles.push_back(vehicles[i]);
    return parts;
  }
  std::vector<std::pair<double, double>> pts;
  for (int v : visits) pts.push_back(Coordinates(p, p.visits[v].location));
  std::vector<std::pair<double, double>> centre(k);
  for (int c = 0; c < k; ++c)
    centre[c] = pts[std::uniform_int_distribution<size_t>(0, pts.size() - 1)(rng)];
  std::vector<int> of(pts.size(), 0);
  for (int round = 0; round < 12; ++round) {
    for (size_t i = 0; i < pts.size(); ++i) {
      double best = kInfinity;
      for (int c = 0; c < k; ++c) {
        const double d =
            std::hypot(pts[i].first - centre[c].first, pts[i].second - centre[c].second);
        if (d < best) best = d, of[i] = c;
      }
    }
    std::vector<double> sx(k, 0), sy(k, 0), n(k, 0);
    for (size_t i = 0; i < pts.size(); ++i)
      sx[of[i]] += pts[i].first, sy[of[i]] += pts[i].second, n[of[i]] += 1;
    for (int c = 0; c < k; ++c) {
      if (n[c] > 0) centre[c] = {sx[c] / n[c], sy[c] / n[c]};
    }
  }
  std::vector<Part> parts(k);
  std::vector<double> work(k, 0);
  for (size_t i = 0; i < pts.size(); ++i) {
    parts[of[i]].visits.push_back(visits[i]);
    for (const Task& t : p.visits[visits[i]].tasks) work[of[i]] += t.duration;
  }
  const double total_work = std::accumulate(work.begin(), work.end(), 0.0);
  // Each cluster in turn (most short of its share first) takes the nearest free vehicle.
  std::vector<double> want(k);
  for (int c = 0; c < k; ++c) want[c] = total_work > 0 ? work[c] / total_work * vehicles.size() : 0;
  std::vector<char> taken(vehicles.size(), 0);
  for (size_t n = 0; n < vehicles.size(); ++n) {
    int c = 0;
    double shortest = -kInfinity;
    for (int i = 0; i < k; ++i) {
      const double short_by = want[i] - parts[i].vehicles.size();
      if (short_by > shortest) shortest = short_by, c = i;
    }
    double best = kInfinity;
    size_t pick = 0;
    for (size_t i = 0; i < vehicles.size(); ++i) {
      if (taken[i]) continue;
      const auto b = Coordinates(p, p.workers[vehicles[i].worker].base);
      const double d = std::hypot(b.first - centre[c].first, b.second - centre[c].second);
      if (d < best) best = d, pick = i;
    }
    taken[pick] = 1;
    parts[c].vehicles.push_back(vehicles[pick]);
  }
  return parts;
}

}  // namespace

std::string UnservableReason(const Problem& p, int v) {
  const Visit& visit = p.visits[v];
  // Up to two able workers per task are enough to tell whether two distinct ones exist.
  std::vector<std::vector<int>> able(visit.tasks.size());
  for (size_t k = 0; k < visit.tasks.size(); ++k) {
    bool skilled = false;
    for (size_t w = 0; w < p.workers.size() && able[k].size() < 2; ++w) {
      if (!CanServe(p, static_cast<int>(w), v, static_cast<int>(k))) continue;
      skilled = true;
      for (size_t s = 0; s < p.workers[w].shifts.size(); ++s) {
        if (VehicleFits(p, {static_cast<int>(w), static_cast<int>(s)}, v, static_cast<int>(k))) {
          able[k].push_back(static_cast<int>(w));
          break;
        }
      }
    }
    const std::string& service = p.services[visit.tasks[k].service];
    if (!skilled) return absl::StrCat("no worker has skill ", service);
    if (able[k].empty()) {
      return absl::StrCat("no shift of a worker with skill ", service, " fits the visit");
    }
  }
  if (visit.tasks.size() == 2) {
    for (int a : able[0]) {
      for (int b : able[1]) {
        if (a != b) return "";
      }
    }
    return "no two different workers can serve its two tasks";
  }
  return "";
}

SolveResult Solve(const Problem& p, const SolveOptions& options) {
  const auto began = Clock::now();
  const auto deadline = began + std::chrono::duration_cast<Clock::duration>(
                                    std::chrono::duration<double>(options.time_limit_seconds));
  SolveResult result;
  std::mt19937_64 rng(options.seed);
  std::vector<int> servable;
  for (size_t v = 0; v < p.visits.size(); ++v) {
    std::string reason = UnservableReason(p, static_cast<int>(v));
    if (reason.empty()) {
      servable.push_back(static_cast<int>(v));
    } else {
      for (size_t k = 0; k < p.visits[v].tasks.size(); ++k) {
        result.solution.unassigned.push_back({static_cast<int>(v), static_cast<int>(k), reason});
      }
    }
  }
  std::vector<Vehicle> vehicles;
  for (size_t w = 0; w < p.workers.size(); ++w) {
    for (size_t s = 0; s < p.workers[w].shifts.size(); ++s)
      vehicles.push_back({static_cast<int>(w), static_cast<int>(s)});
  }
  std::vector<Part> parts;
  const int max_part = options.max_part_visits > 0 ? options.max_part_visits : 400;
  if (static_cast<int>(servable.size()) <= max_part) {
    parts.push_back({servable, vehicles});
  } else {
    // By day, then by cluster.
    auto day_of = [&](double t) {
      return static_cast<int64_t>(std::floor(t / options.day_length));
    };
    std::map<int64_t, std::pair<std::vector<int>, std::vector<Vehicle>>> days;
    for (const Vehicle& veh : vehicles) {
      days[day_of(p.workers[veh.worker].shifts[veh.shift].start)].second.push_back(veh);
    }
    std::sort(servable.begin(), servable.end(),
              [&](int a, int b) { return p.visits[a].window_start < p.visits[b].window_start; });
    for (int v : servable) {
      auto it = days.find(day_of(p.visits[v].window_start));
      if (it == days.end() || it->second.second.empty()) {
        for (size_t k = 0; k < p.visits[v].tasks.size(); ++k) {
          result.solution.unassigned.push_back(
              {v, static_cast<int>(k), "no worker shift on the visit's day"});
        }
        continue;
      }
      it->second.first.push_back(v);
    }
    for (auto& [day, group] : days) {
      if (group.first.empty()) continue;
      for (Part& part : Cluster(p, group.first, group.second, max_part, rng)) {
        if (!part.visits.empty()) parts.push_back(std::move(part));
      }
    }
  }
  result.parts = static_cast<int>(parts.size());
  size_t remaining = 0;
  for (const Part& part : parts) remaining += part.visits.size();
  int64_t iterations_left = options.max_iterations;
  for (size_t i = 0; i < parts.size(); ++i) {
    Part& part = parts[i];
    const double left = std::chrono::duration<double>(deadline - Clock::now()).count();
    const double share = std::max(0.0, left) * part.visits.size() / std::max<size_t>(1, remaining);
    const auto part_deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                  std::chrono::duration<double>(share));
    int64_t part_iterations = -1;
    if (options.max_iterations >= 0) {
      part_iterations = iterations_left * static_cast<int64_t>(part.visits.size()) /
                        static_cast<int64_t>(std::max<size_t>(1, remaining));
    }
    remaining -= part.visits.size();
    const size_t nvisits = part.visits.size(), nvehicles = part.vehicles.size();
    Search search(p, std::move(part.visits), std::move(part.vehicles), rng());
    const bool verbose = parts.size() == 1;
    const int64_t it =
        search.Run(part_deadline, part_iterations,
                   verbose ? options.progress : std::function<void(const std::string&)>());
    result.iterations += it;
    if (part_iterations >= 0) iterations_left -= it;
    search.Export(&result.solution);
    if (options.progress && (parts.size() == 1 || i % 25 == 0 || i + 1 == parts.size())) {
      options.progress(absl::StrFormat(
          "part %d/%d: %d visits, %d worker shifts, %d iterations, "
          "cost %.3f, %.1fs elapsed",
          i + 1, parts.size(), nvisits, nvehicles, it, search.BestCost(), Seconds(began)));
    }
  }
  std::sort(result.solution.routes.begin(), result.solution.routes.end(),
            [](const RoutePlan& a, const RoutePlan& b) {
              return std::tie(a.worker, a.shift) < std::tie(b.worker, b.shift);
            });
  result.seconds = Seconds(began);
  return result;
}

}  // namespace linli::planner
