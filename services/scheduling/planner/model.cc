#include "services/scheduling/planner/model.h"

#include <cmath>

namespace linli::planner {

double TravelTime(const TravelModel& travel, const std::vector<Location>& locations, int from,
                  int to) {
  if (from == to && travel.metric != Metric::kMatrix) return 0;
  switch (travel.metric) {
    case Metric::kEuclidean: {
      const Location& a = locations[from];
      const Location& b = locations[to];
      return std::hypot(a.x - b.x, a.y - b.y) / travel.speed;
    }
    case Metric::kHaversine: {
      constexpr double kEarthRadiusKm = 6371.0088;
      constexpr double kRadians = M_PI / 180;
      const Location& a = locations[from];
      const Location& b = locations[to];
      const double dlat = (b.lat - a.lat) * kRadians;
      const double dlon = (b.lon - a.lon) * kRadians;
      const double h = std::sin(dlat / 2) * std::sin(dlat / 2) +
                       std::cos(a.lat * kRadians) * std::cos(b.lat * kRadians) *
                           std::sin(dlon / 2) * std::sin(dlon / 2);
      const double km = 2 * kEarthRadiusKm * std::asin(std::min(1.0, std::sqrt(h)));
      return km * travel.road_factor / travel.speed_kmh * travel.minutes_per_hour;
    }
    case Metric::kMatrix:
      return travel.matrix[static_cast<size_t>(from) * locations.size() + to];
  }
  return 0;
}

}  // namespace linli::planner
