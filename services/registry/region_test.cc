#include "services/registry/region.h"

#include "absl/strings/match.h"
#include "common/clock.h"
#include "common/errors.h"
#include "common/grpc_status.h"
#include "gtest/gtest.h"
#include "services/registry/registry_store.h"
#include "tests/support/registry_test_server.h"
#include "tests/support/test_env.h"

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

TEST(RegionTest, CodeLengthsFollowTheNationalCodes) {
  EXPECT_EQ(RegionCodeLength(RegionLevel::kMunicipality), 6u);
  EXPECT_EQ(RegionCodeLength(RegionLevel::kDistrict), 6u);
  EXPECT_EQ(RegionCodeLength(RegionLevel::kStreet), 9u);
  EXPECT_EQ(RegionCodeLength(RegionLevel::kCommittee), 12u);
}

TEST(RegionTest, ACodeExtendsItsParentsCode) {
  EXPECT_TRUE(CheckCodeExtendsParent("310000", RegionLevel::kMunicipality, "", "c").ok());
  EXPECT_TRUE(CheckCodeExtendsParent("310101", RegionLevel::kDistrict, "310000", "c").ok());
  EXPECT_TRUE(CheckCodeExtendsParent("310115", RegionLevel::kDistrict, "310000", "c").ok());
  EXPECT_TRUE(CheckCodeExtendsParent("310101020", RegionLevel::kStreet, "310101", "c").ok());
  EXPECT_TRUE(CheckCodeExtendsParent("310101021", RegionLevel::kStreet, "310101", "c").ok());
  EXPECT_TRUE(
      CheckCodeExtendsParent("310101020001", RegionLevel::kCommittee, "310101020", "c").ok());
  EXPECT_TRUE(
      CheckCodeExtendsParent("310101021001", RegionLevel::kCommittee, "310101021", "c").ok());
}

// Issue 18, finding 3: "3101010201" reads as a region of street 310101020 while its parent is
// street 310101021.
TEST(RegionTest, RefusesACodeThatDoesNotExtendItsParentsCode) {
  absl::Status misleading =
      CheckCodeExtendsParent("3101010201", RegionLevel::kCommittee, "310101021", "region.code");
  EXPECT_EQ(misleading.code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(GetBadRequest(misleading).has_value());
  EXPECT_EQ(GetBadRequest(misleading)->field_violations(0).field(), "region.code");
  const std::string why = GetBadRequest(misleading)->field_violations(0).description();
  EXPECT_TRUE(absl::StrContains(why, "12 digits")) << why;
  EXPECT_TRUE(absl::StrContains(why, "310101021")) << why;
  EXPECT_TRUE(absl::StrContains(why, "310101021001")) << why;  // an example that would do

  struct Case {
    const char* code;
    RegionLevel level;
    const char* parent;
  };
  for (const Case& bad : {
           Case{"310101020001", RegionLevel::kCommittee, "310101021"},   // another street's
           Case{"310101021000", RegionLevel::kCommittee, "310101021"},   // nothing added
           Case{"3101010210001", RegionLevel::kCommittee, "310101021"},  // 13 digits
           Case{"31010102101", RegionLevel::kCommittee, "310101021"},    // 11 digits
           Case{"31010102", RegionLevel::kStreet, "310101"},             // 8 digits
           Case{"310102020", RegionLevel::kStreet, "310101"},            // another district's
           Case{"3101010201", RegionLevel::kStreet, "310101"},           // 10 digits
           Case{"320101", RegionLevel::kDistrict, "310000"},             // another province's
           Case{"310000", RegionLevel::kDistrict, "310000"},             // nothing added
           Case{"3101", RegionLevel::kDistrict, "310000"},               // 4 digits
           Case{"310101", RegionLevel::kMunicipality, ""},               // not ending in 0000
           Case{"31", RegionLevel::kMunicipality, ""},                   // 2 digits
           Case{"000000", RegionLevel::kMunicipality, ""},
           Case{"31010102000a", RegionLevel::kCommittee, "310101020"},
       }) {
    absl::Status status = CheckCodeExtendsParent(bad.code, bad.level, bad.parent, "region.code");
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad.code;
    ASSERT_TRUE(GetBadRequest(status).has_value()) << bad.code;
    EXPECT_EQ(GetBadRequest(status)->field_violations(0).field(), "region.code") << bad.code;
  }
  // A parent whose own code is too long leaves no room (a region from before the rule).
  EXPECT_FALSE(
      CheckCodeExtendsParent("310101020001", RegionLevel::kCommittee, "310101020001", "c").ok());
}

TEST(RegionTest, PathCodesAreTheCodesFromTheRoot) {
  EXPECT_EQ(PathCodes("310000/310101/310101020/"),
            (std::vector<std::string>{"310000", "310101", "310101020"}));
  EXPECT_EQ(PathCodes("310000/"), std::vector<std::string>{"310000"});
  for (const char* bad : {"", "/", "310000", "310000//", "/310000/", "310000/31x/", "3/"}) {
    EXPECT_TRUE(PathCodes(bad).empty()) << bad;
  }
}

TEST(RegionTest, LevelNumbers) {
  EXPECT_FALSE(RegionLevelFromNumber(0).has_value());
  EXPECT_FALSE(RegionLevelFromNumber(5).has_value());
  EXPECT_EQ(RegionLevelFromNumber(3), RegionLevel::kStreet);
}

// CreateRegion and GetRegion on a real registry, against SQLite and MariaDB.
class RegionCodesServiceTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto started = RegistryTestServer::Start(GetParam(), "region_codes", clock_);
    ASSERT_TRUE(started.ok()) << started.status();
    harness_ = std::move(*started);
    for (const auto& [code, name, level, parent] :
         {std::tuple{"310000", "上海市", v1::REGION_LEVEL_MUNICIPALITY, ""},
          std::tuple{"310101", "黄浦区", v1::REGION_LEVEL_DISTRICT, "regions/310000"},
          std::tuple{"310101020", "五里桥街道", v1::REGION_LEVEL_STREET, "regions/310101"},
          std::tuple{"310101021", "打浦桥街道", v1::REGION_LEVEL_STREET, "regions/310101"}}) {
      grpc::Status created = Create(code, name, level, parent);
      ASSERT_TRUE(created.ok()) << code << ": " << created.error_message();
    }
  }

  grpc::Status Create(const std::string& code, const std::string& display_name,
                      v1::RegionLevel level, const std::string& parent) {
    v1::CreateRegionRequest request;
    request.mutable_region()->set_code(code);
    request.mutable_region()->set_display_name(display_name);
    request.mutable_region()->set_level(level);
    request.mutable_region()->set_parent(parent);
    v1::CreateRegionResponse response;
    grpc::ClientContext context;
    context.set_deadline(DeadlineAfter(absl::Seconds(20)));
    return harness_->stub->CreateRegion(&context, request, &response);
  }

  grpc::Status Get(const std::string& name, v1::GetRegionResponse* response) {
    v1::GetRegionRequest request;
    request.set_name(name);
    grpc::ClientContext context;
    context.set_deadline(DeadlineAfter(absl::Seconds(20)));
    return harness_->stub->GetRegion(&context, request, response);
  }

  static std::string Field(const grpc::Status& status) {
    auto bad_request = GetBadRequest(FromGrpcStatus(status));
    return bad_request.has_value() && bad_request->field_violations_size() > 0
               ? bad_request->field_violations(0).field()
               : "(no field violation)";
  }

  bool Exists(const std::string& code) {
    bool found = false;
    EXPECT_TRUE(harness_->db
                    ->RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
                      ASSIGN_OR_RETURN(std::optional<Region> region, FindRegion(tx, code));
                      found = region.has_value();
                      return absl::OkStatus();
                    })
                    .ok());
    return found;
  }

  FakeClock clock_{absl::FromUnixSeconds(1'800'000'000)};
  std::unique_ptr<RegistryTestServer> harness_;
};

// Issue 18, finding 3: a committee "3101010201" under street 310101021 was created, and its code
// reads as street 310101020's.
TEST_P(RegionCodesServiceTest, RefusesACommitteeWhoseCodeDoesNotExtendItsStreets) {
  grpc::Status misleading =
      Create("3101010201", "某居民区", v1::REGION_LEVEL_COMMITTEE, "regions/310101021");
  EXPECT_EQ(misleading.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Field(misleading), "region.code");
  EXPECT_FALSE(Exists("3101010201"));

  grpc::Status other_street =
      Create("310101020001", "桥一居民区", v1::REGION_LEVEL_COMMITTEE, "regions/310101021");
  EXPECT_EQ(other_street.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Field(other_street), "region.code");
  EXPECT_FALSE(Exists("310101020001"));

  grpc::Status street = Create("31010102", "某街道", v1::REGION_LEVEL_STREET, "regions/310101");
  EXPECT_EQ(Field(street), "region.code");

  // A level that does not nest is still named as the parent's fault, before the code.
  grpc::Status skipped =
      Create("310101999", "某居民区", v1::REGION_LEVEL_COMMITTEE, "regions/310101");
  EXPECT_EQ(Field(skipped), "region.parent");

  EXPECT_TRUE(
      Create("310101021001", "打一居民区", v1::REGION_LEVEL_COMMITTEE, "regions/310101021").ok());
}

TEST_P(RegionCodesServiceTest, GetRegionReturnsTheAncestorsOfTheParentLinks) {
  ASSERT_TRUE(
      Create("310101021001", "打一居民区", v1::REGION_LEVEL_COMMITTEE, "regions/310101021").ok());
  v1::GetRegionResponse committee;
  ASSERT_TRUE(Get("regions/310101021001", &committee).ok());
  EXPECT_EQ(std::vector<std::string>(committee.ancestors().begin(), committee.ancestors().end()),
            (std::vector<std::string>{"regions/310000", "regions/310101", "regions/310101021"}));
  v1::GetRegionResponse city;
  ASSERT_TRUE(Get("regions/310000", &city).ok());
  EXPECT_TRUE(city.ancestors().empty());

  // A region from before the rule (written past the service, as it may exist in a database):
  // its ancestors are its parent's, whatever its code's digits suggest.
  Region legacy;
  legacy.code = "3101010201";
  legacy.display_name = "旧居民区";
  legacy.level = RegionLevel::kCommittee;
  legacy.parent_code = "310101021";
  legacy.create_time = clock_.Now();
  legacy.path = "310000/310101/310101021/3101010201/";
  ASSERT_TRUE(
      harness_->db
          ->RunInTransaction([&](storage::Transaction& tx) { return InsertRegion(tx, legacy); })
          .ok());
  v1::GetRegionResponse got;
  ASSERT_TRUE(Get("regions/3101010201", &got).ok());
  EXPECT_EQ(got.region().parent(), "regions/310101021");
  EXPECT_EQ(std::vector<std::string>(got.ancestors().begin(), got.ancestors().end()),
            (std::vector<std::string>{"regions/310000", "regions/310101", "regions/310101021"}));
}

INSTANTIATE_TEST_SUITE_P(Backends, RegionCodesServiceTest, ::testing::ValuesIn(testing::Backends()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace linli::registry
