#include "common/roster/elders.h"

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "linli/registry/v1/registry.pb.h"

namespace linli::roster {
namespace {

namespace reg = registry::v1;

ReadRows ReadText(const std::string& text, int offset = 0) {
  auto records = ParseCsv(text);
  EXPECT_TRUE(records.ok()) << records.status();
  auto roster = Read(EldersRoster(), *records, offset);
  EXPECT_TRUE(roster.ok()) << roster.status();
  return roster.ok() ? std::move(*roster) : ReadRows{};
}

const reg::Elder& ElderAt(const ReadRows& roster, size_t i) {
  return static_cast<const reg::Elder&>(*roster.rows.at(i).record);
}

TEST(ElderRoster, TheTemplateReadsAsOneGoodElder) {
  const std::string text = Template(EldersRoster());
  ASSERT_EQ(text.rfind("\xEF\xBB\xBF", 0), 0u) << "a BOM for Excel";
  Encoding encoding;
  auto decoded = DecodeText(text, &encoding);
  ASSERT_TRUE(decoded.ok());
  ReadRows roster = ReadText(*decoded);
  ASSERT_TRUE(roster.problems.empty()) << roster.problems[0].DebugString();
  ASSERT_EQ(roster.rows.size(), 1u);
  const reg::Elder& e = ElderAt(roster, 0);
  EXPECT_EQ(roster.rows[0].line, 2);
  EXPECT_EQ(e.display_name(), "王秀英");
  EXPECT_EQ(e.region(), "regions/310101020001");
  EXPECT_EQ(e.id_number(), "310101194503121238");
  EXPECT_EQ(e.living_situation(), reg::LIVING_SITUATION_ALONE);
  EXPECT_EQ(e.care_grade(), 3);
  EXPECT_DOUBLE_EQ(e.location().latitude(), 31.205);
  ASSERT_EQ(e.needs_size(), 2);
  EXPECT_EQ(e.needs(0), "serviceTypes/meal-delivery");
  ASSERT_EQ(e.contacts_size(), 1);
  EXPECT_EQ(e.contacts(0).relationship(), "儿子");
  EXPECT_TRUE(e.contacts(0).proxy());
  ASSERT_EQ(e.consents_size(), 2);
  EXPECT_EQ(e.consents(1).purpose(), reg::CONSENT_PURPOSE_HEALTH_DATA);
  EXPECT_TRUE(e.consents(1).granted());
  EXPECT_TRUE(e.consents(0).recorded_by().empty()) << "who recorded it is the server's to say";
}

TEST(ElderRoster, AnElderWrittenAsARowReadsBackTheSame) {
  reg::Elder e;
  e.set_display_name("赵, 阿婆");  // a comma: quoted
  e.set_id_number("310101194503121238");
  e.set_phone("021-63011234");
  e.set_region("regions/310101020003");
  e.set_address("鲁班路 \"老\" 弄");
  e.mutable_location()->set_latitude(31.2);
  e.mutable_location()->set_longitude(121.47);
  e.set_living_situation(reg::LIVING_SITUATION_ELDERS_ONLY);
  e.set_care_grade(0);
  e.set_assessment_date("2025-01-02");
  e.add_needs("serviceTypes/visiting");
  reg::Contact* c = e.add_contacts();
  c->set_display_name("赵明");
  c->set_relationship("侄子");
  c->set_phone("13700001111");
  reg::Consent* consent = e.add_consents();
  consent->set_purpose(reg::CONSENT_PURPOSE_PERSONAL_DATA);
  consent->set_granted(true);
  ReadRows roster = ReadText(HeaderRow(EldersRoster()) + "\n" + CsvRow(EldersRoster(), e) + "\n");
  ASSERT_TRUE(roster.problems.empty()) << roster.problems[0].DebugString();
  ASSERT_EQ(roster.rows.size(), 1u);
  EXPECT_EQ(ElderAt(roster, 0).SerializeAsString(), e.SerializeAsString())
      << ElderAt(roster, 0).DebugString();
}

TEST(ElderRoster, EnglishHeadersAndAnyColumnOrder) {
  ReadRows roster =
      ReadText("committee,NAME,living_situation\nregions/310101020002,李四,with_family\n");
  ASSERT_EQ(roster.rows.size(), 1u);
  EXPECT_EQ(ElderAt(roster, 0).region(), "regions/310101020002");
  EXPECT_EQ(ElderAt(roster, 0).display_name(), "李四");
  EXPECT_EQ(ElderAt(roster, 0).living_situation(), reg::LIVING_SITUATION_WITH_FAMILY);
}

TEST(ElderRoster, BadCellsAreReportedByLineAndColumnInBothLanguages) {
  ReadRows roster = ReadText(
      "姓名,居委会,照护等级,纬度,居住情况,联系人,同意\n"
      "张三,310101020001,三级,31.2,独居,,个人信息\n"
      ",310101020001,,,,王磊/儿子,\n"
      "李四,310101020001,2,north,同住,,隐私\n"
      "王五,310101020001,,,,,\n",
      /*line_offset=*/10);
  ASSERT_EQ(roster.rows.size(), 1u);
  EXPECT_EQ(roster.rows[0].line, 15);
  std::vector<std::string> seen;
  for (const auto& p : roster.problems) {
    seen.push_back(absl::StrCat(p.line(), " ", p.column()));
    EXPECT_FALSE(p.reason().empty());
    EXPECT_FALSE(p.reason_zh().empty());
  }
  // Line 12's latitude has no longitude column beside it: no place.
  EXPECT_EQ(seen, (std::vector<std::string>{"12 照护等级", "12 纬度", "13 联系人", "13 姓名",
                                            "14 纬度", "14 居住情况", "14 同意"}));
}

TEST(ElderRoster, TheHeaderMustBeOneWeKnow) {
  auto records = ParseCsv("姓名,生日\n");
  EXPECT_NE(Read(EldersRoster(), *records, 0).status().message().find("unknown column \"生日\""),
            std::string::npos);
  records = ParseCsv("姓名,姓名,居委会\n");
  EXPECT_NE(Read(EldersRoster(), *records, 0).status().message().find("twice"), std::string::npos);
  records = ParseCsv("姓名\n");
  EXPECT_NE(Read(EldersRoster(), *records, 0).status().message().find("居委会"), std::string::npos);
  EXPECT_FALSE(Read(EldersRoster(), {}, 0).ok());
}

TEST(ElderRoster, RegistryProblemsGetTheirColumnAndChineseReason) {
  common::v1::RowProblem p;
  p.set_field("elder.contacts[1].phone");
  p.set_reason("phone must be a mobile number");
  DescribeProblem(EldersRoster(), p);
  EXPECT_EQ(p.column(), "联系人");
  EXPECT_NE(p.reason_zh().find("联系人"), std::string::npos);

  common::v1::RowProblem id;
  id.set_field("elder.id_number");
  id.set_reason_zh("身份证号与第 3 行重复");
  DescribeProblem(EldersRoster(), id);
  EXPECT_EQ(id.column(), "身份证号");
  EXPECT_EQ(id.reason_zh(), "身份证号与第 3 行重复") << "a reason given stays";

  common::v1::RowProblem whole;
  whole.set_reason("outside");
  DescribeProblem(EldersRoster(), whole);
  EXPECT_EQ(whole.column(), "");
  EXPECT_FALSE(whole.reason_zh().empty());
}

}  // namespace
}  // namespace linli::roster
