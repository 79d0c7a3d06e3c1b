#include "common/roster/csv.h"

#include <string>

#include "gtest/gtest.h"

namespace linli::roster {
namespace {

TEST(DecodeText, Utf8WithAndWithoutBomAndGb18030) {
  Encoding encoding;
  auto plain = DecodeText("姓名,居委会\n王秀英,310101020001\n", &encoding);
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(encoding, Encoding::kUtf8);
  EXPECT_EQ(*plain, "姓名,居委会\n王秀英,310101020001\n");

  auto bom = DecodeText("\xEF\xBB\xBF姓名\n", &encoding);
  ASSERT_TRUE(bom.ok()) << bom.status();
  EXPECT_EQ(encoding, Encoding::kUtf8WithBom);
  EXPECT_EQ(*bom, "姓名\n");

  // "姓名,王秀英" as a Chinese Windows Excel saves it (GB18030/GBK bytes).
  const std::string gb = "\xD0\xD5\xC3\xFB,\xCD\xF5\xD0\xE3\xD3\xA2";
  auto converted = DecodeText(gb, &encoding);
  ASSERT_TRUE(converted.ok()) << converted.status();
  EXPECT_EQ(encoding, Encoding::kGb18030);
  EXPECT_EQ(*converted, "姓名,王秀英");
  EXPECT_STREQ(EncodingName(encoding), "GB18030");
}

TEST(DecodeText, NeitherUtf8NorGb18030IsRefused) {
  Encoding encoding;
  // 0xFF never starts a GB18030 character.
  auto bad = DecodeText("name\n\xFF\xFF\n", &encoding);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("neither UTF-8 nor GB18030"), std::string::npos);
  // A BOM promising UTF-8 that does not keep the promise.
  EXPECT_FALSE(DecodeText("\xEF\xBB\xBF\xC3\x28", &encoding).ok());
}

TEST(ParseCsv, QuotesLineBreaksAndBlankLines) {
  auto records = ParseCsv(
      "a,b,c\r\n"
      "1,\"two, with comma\",3\r\n"
      "\r\n"
      "\"multi\nline\",\"say \"\"hi\"\"\",\n"
      "last");
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), 4u);
  EXPECT_EQ((*records)[0].fields, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ((*records)[1].fields, (std::vector<std::string>{"1", "two, with comma", "3"}));
  EXPECT_EQ((*records)[1].line, 2);
  EXPECT_EQ((*records)[2].line, 4);  // after the blank line 3
  EXPECT_EQ((*records)[2].fields, (std::vector<std::string>{"multi\nline", "say \"hi\"", ""}));
  EXPECT_EQ((*records)[3].line, 6);  // the quoted line break counts
  EXPECT_EQ((*records)[3].fields, (std::vector<std::string>{"last"}));
}

TEST(ParseCsv, RecordsKnowWhereTheyAreInTheText) {
  const std::string text = "h1,h2\nx,\"y\nz\"\nlast,1\n";
  auto records = ParseCsv(text);
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 3u);
  EXPECT_EQ(text.substr((*records)[1].begin, (*records)[1].end - (*records)[1].begin),
            "x,\"y\nz\"");
  EXPECT_EQ(text.substr((*records)[2].begin, (*records)[2].end - (*records)[2].begin), "last,1");
}

TEST(ParseCsv, BrokenQuotesNameTheLine) {
  auto open = ParseCsv("a\n\"never closed\n");
  EXPECT_EQ(open.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(open.status().message().find("line 2"), std::string::npos) << open.status();
  auto stray = ParseCsv("a\nab\"c\n");
  EXPECT_NE(stray.status().message().find("line 2"), std::string::npos) << stray.status();
  auto after = ParseCsv("\"a\"b\n");
  EXPECT_EQ(after.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(CsvField, QuotesOnlyWhenNeeded) {
  EXPECT_EQ(CsvField("王秀英"), "王秀英");
  EXPECT_EQ(CsvField("a,b"), "\"a,b\"");
  EXPECT_EQ(CsvField("say \"hi\""), "\"say \"\"hi\"\"\"");
  auto back = ParseCsv(CsvField("x,\"y\"\nz") + "\n");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ((*back)[0].fields[0], "x,\"y\"\nz");
}

}  // namespace
}  // namespace linli::roster
