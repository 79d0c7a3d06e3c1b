#include "common/pagination.h"

#include "common/errors.h"
#include "gtest/gtest.h"

namespace linli {
namespace {

TEST(PaginationTest, PageSizeDefaultsCapsAndRejectsNegative) {
  EXPECT_EQ(*ResolvePageSize(0, 50, 500), 50);
  EXPECT_EQ(*ResolvePageSize(7, 50, 500), 7);
  EXPECT_EQ(*ResolvePageSize(100000, 50, 500), 500);
  absl::StatusOr<int> negative = ResolvePageSize(-1, 50, 500);
  EXPECT_EQ(negative.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GetBadRequest(negative.status())->field_violations(0).field(), "page_size");
}

TEST(PaginationTest, TokensRoundTripOnlyForTheirQuery) {
  std::string token = EncodePageToken("310101020", "q1");
  EXPECT_EQ(*DecodePageToken(token, "q1"), "310101020");
  EXPECT_EQ(*DecodePageToken("", "q1"), "");
  EXPECT_EQ(DecodePageToken(token, "q2").status().code(), absl::StatusCode::kInvalidArgument);
  for (const std::string& forged : {std::string("not-a-token!"), std::string("AAAA"),
                                    std::string(2000, 'A'), token.substr(0, token.size() - 2)}) {
    absl::StatusOr<std::string> decoded = DecodePageToken(forged, "q1");
    EXPECT_EQ(decoded.status().code(), absl::StatusCode::kInvalidArgument) << forged;
    EXPECT_EQ(GetErrorInfo(decoded.status())->reason(), "ERROR_REASON_INVALID_PAGE_TOKEN");
  }
}

}  // namespace
}  // namespace linli
