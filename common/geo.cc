#include "common/geo.h"

#include <cmath>

namespace linli {

common::v1::LatLng Coarsen(const common::v1::LatLng& p) {
  common::v1::LatLng out;
  out.set_latitude(std::round(p.latitude() * 1000) / 1000);
  out.set_longitude(std::round(p.longitude() * 1000) / 1000);
  return out;
}

double HaversineMeters(const common::v1::LatLng& a, const common::v1::LatLng& b) {
  constexpr double kEarthRadiusMeters = 6371008.8;
  constexpr double kRadians = M_PI / 180.0;
  const double dlat = (b.latitude() - a.latitude()) * kRadians;
  const double dlng = (b.longitude() - a.longitude()) * kRadians;
  const double h = std::sin(dlat / 2) * std::sin(dlat / 2) +
                   std::cos(a.latitude() * kRadians) * std::cos(b.latitude() * kRadians) *
                       std::sin(dlng / 2) * std::sin(dlng / 2);
  return 2 * kEarthRadiusMeters * std::asin(std::min(1.0, std::sqrt(h)));
}

void ValidateLatLng(const common::v1::LatLng& point, const std::string& field,
                    FieldViolations& violations) {
  if (!(point.latitude() >= -90 && point.latitude() <= 90)) {
    violations.Add(field + ".latitude", "must be between -90 and 90");
  }
  if (!(point.longitude() >= -180 && point.longitude() <= 180)) {
    violations.Add(field + ".longitude", "must be between -180 and 180");
  }
}

}  // namespace linli
