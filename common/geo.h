// Geography helpers: great-circle distance on the WGS84 sphere approximation.
//
//   double m = HaversineMeters({31.2, 121.48}, {31.21, 121.49});
#ifndef LINLI_COMMON_GEO_H_
#define LINLI_COMMON_GEO_H_

#include <string>

#include "common/errors.h"
#include "linli/common/v1/common.pb.h"

namespace linli {

// Great-circle distance in metres (mean Earth radius 6,371,008.8 m).
double HaversineMeters(const common::v1::LatLng& a, const common::v1::LatLng& b);

// Adds violations for a latitude/longitude out of range, under `field` (e.g. "elder.location").
void ValidateLatLng(const common::v1::LatLng& point, const std::string& field,
                    FieldViolations& violations);

// The point rounded to 0.001 degree (about 100 m): enough to rank providers by distance or to see
// that a worker was in the neighbourhood, not enough to find the door. How a precise location
// (an elder's home, where a worker checked in) is kept in the clear.
common::v1::LatLng Coarsen(const common::v1::LatLng& p);

// True when the point was set (0,0 is in the Gulf of Guinea, never a Shanghai address).
inline bool HasLocation(const common::v1::LatLng& p) {
  return p.latitude() != 0 || p.longitude() != 0;
}

}  // namespace linli

#endif  // LINLI_COMMON_GEO_H_
