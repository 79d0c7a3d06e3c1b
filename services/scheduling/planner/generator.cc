#include "services/scheduling/planner/generator.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "absl/strings/str_cat.h"

namespace linli::planner {
namespace {

// Every worker gets 2..max_skills distinct skills; every service ends up with at least two
// workers.
void GiveSkills(Problem& p, int services, int max_skills, std::mt19937_64& rng) {
  std::uniform_int_distribution<int> count(2, std::max(2, max_skills));
  std::vector<int> order(services);
  for (int s = 0; s < services; ++s) order[s] = s;
  for (Worker& w : p.workers) {
    w.skills.assign(services, false);
    std::shuffle(order.begin(), order.end(), rng);
    const int k = std::min(services, count(rng));
    for (int i = 0; i < k; ++i) w.skills[order[i]] = true;
  }
  const int nw = static_cast<int>(p.workers.size());
  for (int s = 0; s < services && nw >= 2; ++s) {
    int have = 0;
    for (const Worker& w : p.workers) have += w.skills[s];
    while (have < 2) {
      Worker& w = p.workers[std::uniform_int_distribution<int>(0, nw - 1)(rng)];
      if (!w.skills[s]) {
        w.skills[s] = true;
        ++have;
      }
    }
  }
}

}  // namespace

Problem GenerateMankowska(const MankowskaOptions& o) {
  std::mt19937_64 rng(o.seed * 7919 + 17);
  std::uniform_real_distribution<double> coord(0, 100);
  std::uniform_int_distribution<int> window_start(0, 480);
  std::uniform_int_distribution<int> duration(10, 30);
  std::uniform_int_distribution<int> service(0, o.services - 1);
  std::uniform_real_distribution<double> u01(0, 1);
  Problem p;
  p.name = absl::StrCat("mankowska-like-", o.patients, "x", o.caregivers, "-seed", o.seed);
  p.travel.metric = Metric::kEuclidean;
  for (int s = 0; s < o.services; ++s) p.services.push_back(absl::StrCat("s", s + 1));
  p.locations.push_back({"centre", std::round(coord(rng)), std::round(coord(rng)), 0, 0});
  for (int c = 0; c < o.caregivers; ++c) {
    Worker w;
    w.id = absl::StrCat("c", c + 1);
    w.base = 0;
    w.shifts.push_back({0, kInfinity});
    p.workers.push_back(std::move(w));
  }
  GiveSkills(p, o.services, 4, rng);
  for (int i = 0; i < o.patients; ++i) {
    const int loc = static_cast<int>(p.locations.size());
    p.locations.push_back(
        {absl::StrCat("home", i + 1), std::round(coord(rng)), std::round(coord(rng)), 0, 0});
    Visit v;
    v.id = absl::StrCat("p", i + 1);
    v.location = loc;
    v.window_start = window_start(rng);
    v.window_end = v.window_start + 120;
    const int s0 = service(rng);
    v.tasks.push_back({s0, static_cast<double>(duration(rng)), {}});
    if (u01(rng) < o.double_share) {
      int s1 = service(rng);
      while (s1 == s0 && o.services > 1) s1 = service(rng);
      v.tasks.push_back({s1, static_cast<double>(duration(rng)), {}});
      if (u01(rng) < 0.5) {
        v.sync = SyncType::kSimultaneous;
      } else {
        v.sync = SyncType::kOrdered;
        v.min_gap = std::uniform_int_distribution<int>(0, 30)(rng);
        v.max_gap = v.min_gap + std::uniform_int_distribution<int>(10, 60)(rng);
      }
    }
    p.visits.push_back(std::move(v));
  }
  return p;
}

Problem GenerateDistrictWeek(const DistrictOptions& o) {
  std::mt19937_64 rng(o.seed * 104729 + 3);
  std::uniform_real_distribution<double> u01(0, 1);
  std::normal_distribution<double> spread(0, 1);
  Problem p;
  p.name = absl::StrCat("district-week-", o.visits, "v-", o.workers, "w-seed", o.seed);
  p.travel.metric = Metric::kHaversine;
  p.travel.road_factor = 1.3;
  p.travel.speed_kmh = 15;
  const char* services[] = {"meal", "bathing", "cleaning", "nursing", "visiting", "errands"};
  for (const char* s : services) p.services.push_back(s);
  // A district of about 12 x 12 km around Shanghai's centre.
  const double lat0 = 31.23, lon0 = 121.47, half_lat = 0.054, half_lon = 0.063;
  auto place = [&]() {
    return std::pair{lat0 + (2 * u01(rng) - 1) * half_lat, lon0 + (2 * u01(rng) - 1) * half_lon};
  };
  const int centres = std::max(6, o.workers / 50);
  for (int c = 0; c < centres; ++c) {
    const auto [lat, lon] = place();
    p.locations.push_back({absl::StrCat("centre", c + 1), 0, 0, lat, lon});
  }
  for (int w = 0; w < o.workers; ++w) {
    Worker worker;
    worker.id = absl::StrCat("workers/", w + 1);
    worker.base = std::uniform_int_distribution<int>(0, centres - 1)(rng);
    // Five working days of seven, 8:00-17:00.
    std::vector<int> days(o.days);
    for (int d = 0; d < o.days; ++d) days[d] = d;
    std::shuffle(days.begin(), days.end(), rng);
    days.resize(std::min(o.days, 5));
    std::sort(days.begin(), days.end());
    for (int d : days) worker.shifts.push_back({d * 1440.0 + 480, d * 1440.0 + 1020});
    p.workers.push_back(std::move(worker));
  }
  GiveSkills(p, 6, 4, rng);
  // Elders: about one per five visits, in neighbourhoods of ~300 m around committee centres.
  const int elders = std::max(1, o.visits / 5);
  const int hoods = std::max(1, elders / 100);
  std::vector<std::pair<double, double>> hood(hoods);
  for (auto& h : hood) h = place();
  const int first_home = static_cast<int>(p.locations.size());
  for (int e = 0; e < elders; ++e) {
    const auto& h = hood[std::uniform_int_distribution<int>(0, hoods - 1)(rng)];
    p.locations.push_back({absl::StrCat("home", e + 1), 0, 0, h.first + spread(rng) * 0.003,
                           h.second + spread(rng) * 0.0035});
  }
  std::uniform_int_distribution<int> slot(0, 13);  // half-hour slots from 8:00 to 14:30
  std::uniform_int_distribution<int> single_service(0, 5);
  for (int i = 0; i < o.visits; ++i) {
    Visit v;
    v.id = absl::StrCat("visits/", i + 1);
    v.location = first_home + std::uniform_int_distribution<int>(0, elders - 1)(rng);
    const int day = std::uniform_int_distribution<int>(0, o.days - 1)(rng);
    v.window_start = day * 1440.0 + 480 + 30 * slot(rng);
    v.window_end = v.window_start + 60;
    const double d = 30 + 15 * std::uniform_int_distribution<int>(0, 2)(rng);
    if (u01(rng) < o.double_share) {
      v.tasks.push_back({1, d, {}});  // bathing by two workers together
      v.tasks.push_back({1, d, {}});
      v.sync = SyncType::kSimultaneous;
    } else {
      v.tasks.push_back({single_service(rng), d, {}});
    }
    p.visits.push_back(std::move(v));
  }
  return p;
}

}  // namespace linli::planner
