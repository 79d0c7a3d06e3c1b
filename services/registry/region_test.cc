#include "services/registry/region.h"

#include "gtest/gtest.h"

namespace linli::registry {
namespace {

std::vector<std::string> ViolatedFields(const FieldViolations& v) {
  std::vector<std::string> fields;
  auto bad_request = GetBadRequest(v.ToStatus());
  if (bad_request.has_value()) {
    for (const auto& fv : bad_request->field_violations()) fields.push_back(fv.field());
  }
  return fields;
}

TEST(RegionTest, ParsesResourceNames) {
  EXPECT_EQ(*ParseRegionName("regions/310101", "name"), "310101");
  for (const char* bad : {"", "regions/", "regions/31a", "310101", "region/310101",
                          "regions/1234567890123", "regions/3"}) {
    absl::StatusOr<std::string> parsed = ParseRegionName(bad, "name");
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(GetBadRequest(parsed.status())->field_violations(0).field(), "name");
  }
}

TEST(RegionTest, ValidatesEveryFieldAtOnce) {
  FieldViolations v;
  ValidateNewRegionFields("31x", "  ", std::nullopt, v, "region.");
  EXPECT_EQ(ViolatedFields(v),
            (std::vector<std::string>{"region.code", "region.display_name", "region.level"}));
}

TEST(RegionTest, AcceptsChineseNamesAndCountsCharactersNotBytes) {
  FieldViolations ok;
  ValidateNewRegionFields("310101", "黄浦区", RegionLevel::kDistrict, ok, "");
  EXPECT_TRUE(ok.empty());
  std::string long_name;
  for (int i = 0; i < 64; ++i) long_name += "街";  // 64 characters, 192 bytes
  FieldViolations at_limit;
  ValidateNewRegionFields("310101", long_name, RegionLevel::kDistrict, at_limit, "");
  EXPECT_TRUE(at_limit.empty());
  FieldViolations over;
  ValidateNewRegionFields("310101", long_name + "道", RegionLevel::kDistrict, over, "");
  EXPECT_EQ(ViolatedFields(over), std::vector<std::string>{"display_name"});
}

TEST(RegionTest, RejectsInvalidUtf8) {
  EXPECT_FALSE(Utf8Length("\xe9\xbb").has_value());
  EXPECT_FALSE(Utf8Length("\xff").has_value());
  EXPECT_EQ(Utf8Length("上海 a"), 4u);
}

TEST(RegionTest, LevelsNestOneStepAtATime) {
  EXPECT_TRUE(CheckNesting(RegionLevel::kMunicipality, std::nullopt, "p").ok());
  EXPECT_TRUE(CheckNesting(RegionLevel::kDistrict, RegionLevel::kMunicipality, "p").ok());
  EXPECT_TRUE(CheckNesting(RegionLevel::kStreet, RegionLevel::kDistrict, "p").ok());
  EXPECT_TRUE(CheckNesting(RegionLevel::kCommittee, RegionLevel::kStreet, "p").ok());

  absl::Status skipped = CheckNesting(RegionLevel::kCommittee, RegionLevel::kDistrict, "p");
  EXPECT_EQ(skipped.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GetBadRequest(skipped)->field_violations(0).field(), "p");
  EXPECT_FALSE(CheckNesting(RegionLevel::kDistrict, std::nullopt, "p").ok());
  EXPECT_FALSE(CheckNesting(RegionLevel::kMunicipality, RegionLevel::kMunicipality, "p").ok());
  EXPECT_FALSE(CheckNesting(RegionLevel::kStreet, RegionLevel::kCommittee, "p").ok());
}

TEST(RegionTest, LevelNumbers) {
  EXPECT_FALSE(RegionLevelFromNumber(0).has_value());
  EXPECT_FALSE(RegionLevelFromNumber(5).has_value());
  EXPECT_EQ(RegionLevelFromNumber(3), RegionLevel::kStreet);
}

}  // namespace
}  // namespace linli::registry
