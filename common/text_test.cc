#include "common/text.h"

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace linli {
namespace {

TEST(TextTest, Utf8LengthCountsCodePointsAndRejectsInvalidSequences) {
  EXPECT_EQ(Utf8Length("上海 a 👵"), 6u);
  EXPECT_EQ(Utf8Length(""), 0u);
  for (const char* bad :
       {"\xe9\xbb", "\xff", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\x80"}) {
    EXPECT_FALSE(Utf8Length(bad).has_value()) << bad;
  }
}

TEST(TextTest, Utf8PrefixCutsOnACharacterBoundaryAndSaysSo) {
  EXPECT_EQ(Utf8Prefix("", 10), "");
  EXPECT_EQ(Utf8Prefix("abc", 3), "abc");  // fits: whole, no ellipsis
  EXPECT_EQ(Utf8Prefix("abcdef", 5), "ab\u2026");
  // "纬度" is 6 bytes: 7 bytes hold "纬" (3) and the ellipsis (3), not half of "度".
  EXPECT_EQ(Utf8Prefix("纬度经度", 7), "纬\u2026");
  EXPECT_EQ(Utf8Prefix("纬度经度", 8), "纬\u2026");
  EXPECT_EQ(Utf8Prefix("纬度经度", 9), "纬度\u2026");
  EXPECT_EQ(Utf8Prefix("纬度经度", 12), "纬度经度");
  // Invalid bytes become U+FFFD; the result is always valid UTF-8.
  EXPECT_EQ(Utf8Prefix("a\xff", 10), "a\uFFFD");
  EXPECT_EQ(Utf8Prefix("\xe7\xba", 10), "\uFFFD\uFFFD");
  for (size_t max = 0; max < 16; ++max) {
    const std::string cut = Utf8Prefix("纬度a经\xff度", max);
    EXPECT_LE(cut.size(), max);
    EXPECT_TRUE(Utf8Length(cut).has_value()) << max;
  }
}

TEST(TextTest, JsonStringsAreValidJsonWhateverTheInput) {
  std::string out;
  AppendJsonString(&out, std::string("a\"b\\c\n\x01五里桥\xff", 17));
  nlohmann::json parsed = nlohmann::json::parse(out);  // throws on invalid JSON
  EXPECT_EQ(parsed.get<std::string>(), "a\"b\\c\n\x01五里桥\xEF\xBF\xBD");
}

}  // namespace
}  // namespace linli
