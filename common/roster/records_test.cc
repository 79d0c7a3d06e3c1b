#include "common/roster/records.h"

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "linli/registry/v1/registry.pb.h"
#include "linli/scheduling/v1/scheduling.pb.h"

namespace linli::roster {
namespace {

namespace reg = registry::v1;

ReadRows ReadText(const Roster& roster, const std::string& text) {
  auto records = ParseCsv(text);
  EXPECT_TRUE(records.ok()) << records.status();
  auto read = Read(roster, *records, 0);
  EXPECT_TRUE(read.ok()) << read.status();
  return read.ok() ? std::move(*read) : ReadRows{};
}

template <typename Record>
const Record& At(const ReadRows& read, size_t i) {
  return static_cast<const Record&>(*read.rows.at(i).record);
}

std::vector<std::string> Problems(const ReadRows& read) {
  std::vector<std::string> seen;
  for (const auto& p : read.problems) {
    EXPECT_FALSE(p.reason().empty());
    EXPECT_FALSE(p.reason_zh().empty());
    seen.push_back(absl::StrCat(p.line(), " ", p.column()));
  }
  return seen;
}

TEST(Rosters, EveryTemplateReadsAsOneGoodRecordAndWritesBackTheSameRow) {
  for (const Roster* roster : Rosters()) {
    SCOPED_TRACE(roster->name);
    EXPECT_EQ(FindRoster(roster->name), roster);
    Encoding encoding;
    auto text = DecodeText(Template(*roster), &encoding);
    ASSERT_TRUE(text.ok());
    EXPECT_EQ(encoding, Encoding::kUtf8WithBom);
    ReadRows read = ReadText(*roster, *text);
    ASSERT_TRUE(read.problems.empty()) << read.problems[0].DebugString();
    ASSERT_EQ(read.rows.size(), 1u);
    // The row written from the record is the template's example row.
    const std::string example = text->substr(text->find("\r\n") + 2);
    EXPECT_EQ(CsvRow(*roster, *read.rows[0].record) + "\r\n", example);
  }
  EXPECT_EQ(FindRoster("visits"), nullptr);
  EXPECT_EQ(RosterNames(), "elders, organisations, relations, offerings, workers, commitments");
}

TEST(Rosters, APromiseRowHoldsItsEldersIdNumberUntilTheImporterFindsTheElder) {
  ReadRows read =
      ReadText(CommitmentsRoster(),
               "身份证号,服务类型,服务单位,开始日期,照护等级,人数,所需技能,时长（分钟）\n"
               "31010119480512002x,bathing,yinfa-bathing,2026-12-07,5,2,bathing;nursing,"
               "60\n"
               "3101011948051200,visiting,lelin,2026-12-07,7,3,,abc\n");
  ASSERT_EQ(read.rows.size(), 1u);
  const auto& c = At<scheduling::v1::Commitment>(read, 0);
  EXPECT_EQ(c.elder(), "31010119480512002X");
  EXPECT_EQ(c.service_type(), "serviceTypes/bathing");
  EXPECT_EQ(c.owner_organisation(), "organisations/yinfa-bathing");
  EXPECT_EQ(c.care_grade(), 5);
  EXPECT_EQ(c.workers_required(), 2);
  EXPECT_EQ(c.synchronisation().type(), scheduling::v1::SYNCHRONISATION_TYPE_SIMULTANEOUS);
  EXPECT_EQ(c.required_skills_size(), 2);
  EXPECT_EQ(c.duration_minutes(), 60);
  // A short ID number, a grade of 7, three workers, a length that is no number.
  EXPECT_EQ(Problems(read),
            (std::vector<std::string>{"3 身份证号", "3 照护等级", "3 人数", "3 时长（分钟）"}));
}

TEST(Rosters, AnOrganisationRowFillsTheRecordTheRegistryTakes) {
  ReadRows read = ReadText(OrganisationsRoster(),
                           "id,display_name,kind,sector,region,lines,parent,credit_code\n"
                           "wlq-canteen,五里桥长者食堂,elder_care_facility,Social,310101020,"
                           "civil-affairs;health,organisations/wlq-office,52310101MJ50001234\n");
  ASSERT_EQ(read.rows.size(), 1u) << read.problems[0].DebugString();
  const auto& o = At<reg::Organisation>(read, 0);
  EXPECT_EQ(o.id(), "wlq-canteen");
  EXPECT_EQ(o.kind(), reg::ORGANISATION_KIND_ELDER_CARE_FACILITY);
  EXPECT_EQ(o.sector(), reg::SECTOR_SOCIAL);
  EXPECT_EQ(o.region(), "regions/310101020");
  ASSERT_EQ(o.lines_size(), 2);
  EXPECT_EQ(o.lines(1), "lines/health");
  EXPECT_EQ(o.parent(), "organisations/wlq-office");
  EXPECT_EQ(o.credit_code(), "52310101MJ50001234");
  EXPECT_FALSE(o.has_location());
}

TEST(Rosters, ARelationsTargetIsARegionWhenItIsACode) {
  ReadRows read = ReadText(RelationsRoster(),
                           "单位,关系,对象\n"
                           "wlq-canteen,服务片区,310101020001\n"
                           "wlq-office,资助,wlq-canteen\n"
                           "wlq-office,管辖,wlq-canteen\n");
  ASSERT_EQ(read.rows.size(), 2u);
  EXPECT_EQ(At<reg::Relation>(read, 0).target(), "regions/310101020001");
  EXPECT_EQ(At<reg::Relation>(read, 0).type(), reg::RELATION_TYPE_SERVES_REGION);
  EXPECT_EQ(At<reg::Relation>(read, 1).target(), "organisations/wlq-canteen");
  EXPECT_EQ(Problems(read), (std::vector<std::string>{"4 关系"}));
}

TEST(Rosters, BadCellsOfOfferingsAndWorkersAreReportedByLineAndColumn) {
  ReadRows offerings = ReadText(OfferingsRoster(),
                                "单位,服务类型,服务范围,每日容量,时长（分钟）\n"
                                "c,meal-delivery,310101020;310101020001,-1,60\n"
                                "c,meal-delivery,黄浦,10,一小时\n"
                                "c,visiting,310101020,0,\n");
  ASSERT_EQ(offerings.rows.size(), 1u);
  const auto& o = At<reg::Offering>(offerings, 0);
  EXPECT_EQ(o.service_type(), "serviceTypes/visiting");
  EXPECT_FALSE(o.has_schedule());
  EXPECT_EQ(Problems(offerings),
            (std::vector<std::string>{"2 每日容量", "3 服务范围", "3 时长（分钟）"}));

  ReadRows workers = ReadText(WorkersRoster(),
                              "姓名,单位,电话,志愿者,状态,技能\n"
                              "李梅,c,13700001234,是,暂停,bathing；nursing\n"
                              "王强,c,,也许,退休,\n");
  ASSERT_EQ(workers.rows.size(), 1u);
  const auto& w = At<reg::Worker>(workers, 0);
  EXPECT_TRUE(w.volunteer());
  EXPECT_EQ(w.status(), reg::WORKER_STATUS_INACTIVE);
  ASSERT_EQ(w.skills_size(), 2);
  EXPECT_EQ(w.skills(1), "nursing");
  EXPECT_EQ(Problems(workers), (std::vector<std::string>{"3 志愿者", "3 状态", "3 电话"}));
}

TEST(Rosters, ALocationTakesBothItsColumns) {
  ReadRows read = ReadText(OrganisationsRoster(),
                           "编号,名称,类型,性质,所在区域,纬度,经度\n"
                           "a,甲,社会组织,社会,310101020,31.2,121.48\n"
                           "b,乙,社会组织,社会,310101020,31.2,\n"
                           "c,丙,社会组织,社会,310101020,,\n");
  ASSERT_EQ(read.rows.size(), 2u);
  EXPECT_TRUE(At<reg::Organisation>(read, 0).has_location());
  EXPECT_FALSE(At<reg::Organisation>(read, 1).has_location());
  EXPECT_EQ(Problems(read), (std::vector<std::string>{"3 纬度"}));
}

TEST(Rosters, RegistryProblemsOfRecordsGetTheirColumn) {
  common::v1::RowProblem p;
  p.set_field("offering.schedule.rrule");
  p.set_reason("bad rule");
  DescribeProblem(OfferingsRoster(), p);
  EXPECT_EQ(p.column(), "开放规则");
  common::v1::RowProblem phone;
  phone.set_field("worker.phone");
  DescribeProblem(WorkersRoster(), phone);
  EXPECT_EQ(phone.column(), "电话");
  EXPECT_NE(phone.reason_zh().find("同一单位内不重复"), std::string::npos);
}

}  // namespace
}  // namespace linli::roster
