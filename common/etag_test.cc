#include "common/etag.h"

#include <gtest/gtest.h>

#include <set>

#include "common/errors.h"

namespace linli {
namespace {

bool IsHex16(const std::string& etag) {
  return etag.size() == 16 && etag.find_first_not_of("0123456789abcdef") == std::string::npos;
}

TEST(EtagTest, EveryWriteGetsANewOneAndLegacyRecordsAStableOne) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string etag = NewEtag();
    EXPECT_TRUE(IsHex16(etag)) << etag;
    seen.insert(etag);
  }
  EXPECT_EQ(seen.size(), 1000u);
  EXPECT_EQ(LegacyEtag("workers/1"), LegacyEtag("workers/1"));
  EXPECT_NE(LegacyEtag("workers/1"), LegacyEtag("workers/2"));
  EXPECT_TRUE(IsHex16(LegacyEtag("workers/1")));
}

TEST(EtagTest, CheckNamesTheFieldAndTellsStaleFromMissing) {
  const std::string current = NewEtag();
  EXPECT_TRUE(CheckEtag(current, current, "elder.etag").ok());

  absl::Status missing = CheckEtag("", current, "elder.etag");
  EXPECT_EQ(missing.code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(GetBadRequest(missing).has_value());
  EXPECT_EQ(GetBadRequest(missing)->field_violations(0).field(), "elder.etag");

  absl::Status stale = CheckEtag(NewEtag(), current, "elder.etag");
  EXPECT_EQ(stale.code(), absl::StatusCode::kAborted);
  ASSERT_TRUE(GetErrorInfo(stale).has_value());
  EXPECT_EQ(GetErrorInfo(stale)->reason(), "ERROR_REASON_STALE_ETAG");
  EXPECT_NE(stale.message().find("elder.etag"), std::string::npos);
}

}  // namespace
}  // namespace linli
