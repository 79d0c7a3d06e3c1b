#include "services/registry/providers.h"

#include "gtest/gtest.h"

namespace linli::registry {
namespace {

common::v1::LatLng Point(double latitude, double longitude) {
  common::v1::LatLng p;
  p.set_latitude(latitude);
  p.set_longitude(longitude);
  return p;
}

v1::Organisation OrganisationAt(const std::string& id, std::optional<common::v1::LatLng> where) {
  v1::Organisation org;
  org.set_id(id);
  org.set_name("organisations/" + id);
  if (where.has_value()) *org.mutable_location() = *where;
  return org;
}

v1::Offering Offering(const std::string& id, int capacity_per_week) {
  v1::Offering offering;
  offering.set_name("offerings/" + id);
  offering.set_capacity_per_week(capacity_per_week);
  return offering;
}

v1::ProviderMatch Match(const std::string& offering, int distance, int capacity) {
  v1::ProviderMatch m;
  m.mutable_offering()->set_name("offerings/" + offering);
  m.set_distance_meters(distance);
  m.set_capacity_left_per_week(capacity);
  return m;
}

std::vector<std::string> OfferingNames(const std::vector<v1::ProviderMatch>& matches) {
  std::vector<std::string> names;
  for (const auto& m : matches) names.push_back(m.offering().name().substr(10));
  return names;
}

TEST(ProvidersTest, RadiusAndMatchCountHaveDefaultsAndCaps) {
  EXPECT_EQ(ProviderSearchRadius(0), 5000);
  EXPECT_EQ(ProviderSearchRadius(800), 800);
  EXPECT_EQ(ProviderSearchRadius(1000000), 50000);
  EXPECT_EQ(ProviderMatchLimit(0), 20);
  EXPECT_EQ(ProviderMatchLimit(3), 3);
  EXPECT_EQ(ProviderMatchLimit(5000), 100);
}

TEST(ProvidersTest, CoverageOfAStreetOrDistrictReachesItsCommittees) {
  EXPECT_EQ(CoveringPlaces("310000/310101/310101020/310101020001/"),
            (std::vector<std::string>{"310000", "310101", "310101020", "310101020001"}));
  EXPECT_TRUE(CoveringPlaces("").empty());
}

TEST(ProvidersTest, MatchesWithinTheRadiusWithTheRoundedDistance) {
  const common::v1::LatLng home = Point(31.2000, 121.4800);
  // About 1.1 km north.
  std::optional<v1::ProviderMatch> near = MatchProvider(
      home, OrganisationAt("canteen", Point(31.2100, 121.4800)), Offering("a", 30), 5000);
  ASSERT_TRUE(near.has_value());
  EXPECT_NEAR(near->distance_meters(), 1112, 2);
  EXPECT_EQ(near->capacity_left_per_week(), 30);
  EXPECT_EQ(near->organisation().id(), "canteen");
  EXPECT_EQ(near->offering().name(), "offerings/a");

  EXPECT_FALSE(MatchProvider(home, OrganisationAt("canteen", Point(31.2100, 121.4800)),
                             Offering("a", 30), 1000)
                   .has_value());
}

TEST(ProvidersTest, UnknownPlacesMatchAtAnUnknownDistance) {
  const common::v1::LatLng unset;
  std::optional<v1::ProviderMatch> no_origin =
      MatchProvider(unset, OrganisationAt("x", Point(31.21, 121.48)), Offering("a", 0), 1);
  ASSERT_TRUE(no_origin.has_value());
  EXPECT_EQ(no_origin->distance_meters(), -1);
  EXPECT_EQ(no_origin->capacity_left_per_week(), -1);  // 0: unlimited

  std::optional<v1::ProviderMatch> no_location =
      MatchProvider(Point(31.2, 121.48), OrganisationAt("x", std::nullopt), Offering("a", 5), 1);
  ASSERT_TRUE(no_location.has_value());
  EXPECT_EQ(no_location->distance_meters(), -1);
}

TEST(ProvidersTest, RanksNearestFirstThenByCapacityUnknownDistancesLast) {
  std::vector<v1::ProviderMatch> matches = {
      Match("unknown-far", -1, -1), Match("far", 3000, 10),           Match("near-small", 500, 5),
      Match("near-big", 500, 50),   Match("near-unlimited", 500, -1), Match("b-tie", 800, 7),
      Match("a-tie", 800, 7),
  };
  RankProviders(matches, 100);
  EXPECT_EQ(OfferingNames(matches),
            (std::vector<std::string>{"near-unlimited", "near-big", "near-small", "a-tie", "b-tie",
                                      "far", "unknown-far"}));
}

TEST(ProvidersTest, KeepsTheBestMatchesUpToTheLimit) {
  std::vector<v1::ProviderMatch> matches = {Match("c", 300, 1), Match("a", 100, 1),
                                            Match("b", 200, 1)};
  RankProviders(matches, 2);
  EXPECT_EQ(OfferingNames(matches), (std::vector<std::string>{"a", "b"}));
}

}  // namespace
}  // namespace linli::registry
