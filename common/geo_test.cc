#include "common/geo.h"

#include "gtest/gtest.h"

namespace linli {
namespace {

common::v1::LatLng Point(double lat, double lng) {
  common::v1::LatLng p;
  p.set_latitude(lat);
  p.set_longitude(lng);
  return p;
}

TEST(GeoTest, HaversineMatchesKnownDistances) {
  // One degree of latitude is about 111.2 km everywhere.
  EXPECT_NEAR(HaversineMeters(Point(31, 121), Point(32, 121)), 111195, 50);
  // People's Square to the Bund, Shanghai: about 1.6 km.
  EXPECT_NEAR(HaversineMeters(Point(31.2304, 121.4737), Point(31.2400, 121.4900)), 1880, 100);
  EXPECT_DOUBLE_EQ(HaversineMeters(Point(31.2, 121.4), Point(31.2, 121.4)), 0);
}

TEST(GeoTest, CoarsenKeepsAbout100Metres) {
  const common::v1::LatLng door = Point(31.23047, 121.47362);
  const common::v1::LatLng kept = Coarsen(door);
  EXPECT_NEAR(kept.latitude(), 31.230, 1e-9);
  EXPECT_NEAR(kept.longitude(), 121.474, 1e-9);
  // Never farther than the slack the geofence allows for it (half a step in each direction).
  EXPECT_LT(HaversineMeters(door, kept), 80);
  EXPECT_NEAR(Coarsen(Point(-33.86789, 151.20999)).latitude(), -33.868, 1e-9);
}

TEST(GeoTest, RejectsOutOfRangeAndNaN) {
  FieldViolations v;
  ValidateLatLng(Point(91, 200), "elder.location", v);
  ValidateLatLng(Point(std::nan(""), 0), "p", v);
  absl::Status s = v.ToStatus();
  ASSERT_EQ(GetBadRequest(s)->field_violations_size(), 3);
  EXPECT_EQ(GetBadRequest(s)->field_violations(0).field(), "elder.location.latitude");
}

}  // namespace
}  // namespace linli
