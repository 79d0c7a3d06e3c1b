#include "common/update_mask.h"

#include <gtest/gtest.h>

#include "linli/registry/v1/registry.pb.h"

namespace linli {
namespace {

namespace v1 = registry::v1;

google::protobuf::FieldMask Mask(std::initializer_list<const char*> paths) {
  google::protobuf::FieldMask mask;
  for (const char* p : paths) mask.add_paths(p);
  return mask;
}

TEST(UpdateMaskTest, PathsMustBeAllowedAndNamedOnce) {
  FieldViolations v;
  std::vector<std::string> paths =
      UpdateMaskPaths(Mask({"phone", "region", "phone", "id"}), {"phone", "region"}, v);
  EXPECT_EQ(paths, (std::vector<std::string>{"phone", "region"}));
  absl::Status status = v.ToStatus();
  ASSERT_TRUE(GetBadRequest(status).has_value());
  const google::rpc::BadRequest bad = *GetBadRequest(status);
  ASSERT_EQ(bad.field_violations_size(), 2);
  EXPECT_EQ(bad.field_violations(0).field(), "update_mask.paths[2]");
  EXPECT_EQ(bad.field_violations(1).field(), "update_mask.paths[3]");
  EXPECT_NE(bad.field_violations(1).description().find("phone, region"), std::string::npos);

  FieldViolations empty;
  UpdateMaskPaths(Mask({}), {"phone"}, empty);
  EXPECT_EQ(GetBadRequest(empty.ToStatus())->field_violations(0).field(), "update_mask");
}

TEST(UpdateMaskTest, ReplacesNamedFieldsAndClearsAbsentOnes) {
  v1::Elder stored;
  stored.set_display_name("王秀英");
  stored.set_phone("13800000000");
  stored.set_care_grade(2);
  stored.mutable_location()->set_latitude(31.2);
  stored.add_needs("serviceTypes/meal");
  stored.add_needs("serviceTypes/bath");

  v1::Elder update;
  update.set_phone("13900000000");
  update.add_needs("serviceTypes/nursing");
  update.set_display_name("ignored: not named");
  ApplyUpdateMask(update, {"phone", "needs", "care_grade", "location"}, stored);

  EXPECT_EQ(stored.display_name(), "王秀英");
  EXPECT_EQ(stored.phone(), "13900000000");
  ASSERT_EQ(stored.needs_size(), 1);  // replaced, not appended
  EXPECT_EQ(stored.needs(0), "serviceTypes/nursing");
  EXPECT_FALSE(stored.has_care_grade());  // named without a value: cleared, not 0
  EXPECT_FALSE(stored.has_location());
}

}  // namespace
}  // namespace linli
