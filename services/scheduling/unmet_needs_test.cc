#include "services/scheduling/unmet_needs.h"

#include <gtest/gtest.h>

namespace linli::scheduling {
namespace {

const std::map<std::string, std::string> kTaxonomy = {
    {"serviceTypes/meal", ""},
    {"serviceTypes/meal-delivery", "serviceTypes/meal"},
    {"serviceTypes/visiting", ""},
    {"serviceTypes/bathing", ""}};

TEST(UnmetNeedsTest, ASubServiceMeetsItsParentsNeedButNotTheOtherWayRound) {
  EXPECT_TRUE(Covers("serviceTypes/meal-delivery", "serviceTypes/meal", kTaxonomy));
  EXPECT_TRUE(Covers("serviceTypes/meal", "serviceTypes/meal", kTaxonomy));
  EXPECT_FALSE(Covers("serviceTypes/meal", "serviceTypes/meal-delivery", kTaxonomy));
  EXPECT_FALSE(Covers("serviceTypes/visiting", "serviceTypes/meal", kTaxonomy));
  // A type the taxonomy does not know covers only itself.
  EXPECT_FALSE(Covers("serviceTypes/unknown", "serviceTypes/meal", kTaxonomy));
  // A stored cycle ends the walk.
  const std::map<std::string, std::string> cycle = {{"serviceTypes/a", "serviceTypes/b"},
                                                    {"serviceTypes/b", "serviceTypes/a"}};
  EXPECT_FALSE(Covers("serviceTypes/a", "serviceTypes/c", cycle));
}

TEST(UnmetNeedsTest, CountsPerCommitteeMostUnmetFirstAndListsUpToTheLimit) {
  const std::vector<ElderNeeds> elders = {
      {"elders/1", "regions/c1", {"serviceTypes/meal", "serviceTypes/visiting"}},
      {"elders/2", "regions/c1", {"serviceTypes/bathing"}},
      {"elders/3", "regions/c2", {"serviceTypes/meal", "serviceTypes/bathing"}},
      {"elders/4", "regions/c2", {"serviceTypes/visiting", "serviceTypes/visiting"}},
      {"elders/5", "regions/c2", {}},
  };
  const Promised promised = {{"elders/1", "serviceTypes/meal-delivery"},
                             {"elders/2", "serviceTypes/bathing"},
                             {"elders/4", "serviceTypes/meal"}};
  v1::ListUnmetNeedsResponse r = CountUnmetNeeds(elders, promised, kTaxonomy, 100);
  ASSERT_EQ(r.committees_size(), 2);
  EXPECT_EQ(r.committees(0).committee(), "regions/c2");
  EXPECT_EQ(r.committees(0).elders_with_needs(), 2);
  EXPECT_EQ(r.committees(0).needs(), 3);  // the repeated need counts once
  EXPECT_EQ(r.committees(0).unmet(), 3);
  EXPECT_EQ(r.committees(0).elders_unmet(), 2);
  EXPECT_EQ(r.committees(1).committee(), "regions/c1");
  EXPECT_EQ(r.committees(1).needs(), 3);
  EXPECT_EQ(r.committees(1).unmet(), 1);
  EXPECT_EQ(r.committees(1).elders_unmet(), 1);
  ASSERT_EQ(r.unmet_size(), 4);
  EXPECT_EQ(r.unmet(0).elder(), "elders/3");
  EXPECT_EQ(r.unmet(0).service_type(), "serviceTypes/bathing");
  EXPECT_EQ(r.unmet(3).elder(), "elders/1");
  EXPECT_EQ(r.unmet(3).service_type(), "serviceTypes/visiting");
  EXPECT_FALSE(r.truncated());

  v1::ListUnmetNeedsResponse two = CountUnmetNeeds(elders, promised, kTaxonomy, 2);
  EXPECT_EQ(two.unmet_size(), 2);
  EXPECT_TRUE(two.truncated());
  EXPECT_EQ(two.committees_size(), 2) << "the counts cover every committee";
}

}  // namespace
}  // namespace linli::scheduling
