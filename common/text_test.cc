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

TEST(TextTest, JsonStringsAreValidJsonWhateverTheInput) {
  std::string out;
  AppendJsonString(&out, std::string("a\"b\\c\n\x01五里桥\xff", 17));
  nlohmann::json parsed = nlohmann::json::parse(out);  // throws on invalid JSON
  EXPECT_EQ(parsed.get<std::string>(), "a\"b\\c\n\x01五里桥\xEF\xBF\xBD");
}

}  // namespace
}  // namespace linli
