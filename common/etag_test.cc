#include "common/etag.h"

#include <gtest/gtest.h>

#include "common/errors.h"

namespace linli {
namespace {

TEST(EtagTest, FollowsTheStoredBytes) {
  const std::string a = Etag("record version 1");
  EXPECT_EQ(a.size(), 16u);
  EXPECT_EQ(a, Etag("record version 1"));
  EXPECT_NE(a, Etag("record version 2"));
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos) << a;
}

TEST(EtagTest, CheckNamesTheFieldAndTellsStaleFromMissing) {
  const std::string current = Etag("v2");
  EXPECT_TRUE(CheckEtag(current, current, "elder.etag").ok());

  absl::Status missing = CheckEtag("", current, "elder.etag");
  EXPECT_EQ(missing.code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(GetBadRequest(missing).has_value());
  EXPECT_EQ(GetBadRequest(missing)->field_violations(0).field(), "elder.etag");

  absl::Status stale = CheckEtag(Etag("v1"), current, "elder.etag");
  EXPECT_EQ(stale.code(), absl::StatusCode::kAborted);
  ASSERT_TRUE(GetErrorInfo(stale).has_value());
  EXPECT_EQ(GetErrorInfo(stale)->reason(), "ERROR_REASON_STALE_ETAG");
  EXPECT_NE(stale.message().find("elder.etag"), std::string::npos);
}

}  // namespace
}  // namespace linli
