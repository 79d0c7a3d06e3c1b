#include "common/roster/records.h"

#include "absl/strings/str_cat.h"
#include "common/roster/elders.h"
#include "gtest/gtest.h"
#include "linli/feedback/v1/feedback.pb.h"
#include "linli/gateway/v1/console.pb.h"
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
  EXPECT_EQ(FindRoster("notes"), nullptr);
  EXPECT_EQ(RosterNames(),
            "elders, organisations, relations, offerings, workers, commitments, visits, answers");
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

TEST(Rosters, AVisitRowNamesItsPromiseAndWorkersAsTheFileDoes) {
  ReadRows read = ReadText(
      VisitsRoster(),
      "身份证号,服务类型,服务单位,计划时间,结果,工作人员电话,到达时间,离开时间,到达纬度,到达经度,"
      "签到方式,取消原因\n"
      // Two workers (full-width separator in one column), the second by phone call.
      "31010119480512002x,bathing,yinfa-bathing,2026-11-03T14:00:00,完成,13700001111；"
      "13700002222,2026-11-03 14:05;2026-11-03T14:06:30,2026-11-03 14:50;2026-11-03 14:51,"
      "31.2;31.21,121.48;121.49,机构记录;电话,\n"
      "310101194503121238,meal-delivery,wlq-elder-canteen,2026-11-04T11:00:00,未上门,,,,,,,\n"
      "310101194503121238,meal-delivery,wlq-elder-canteen,2026-11-05T11:00:00,cancelled,,,,,,,"
      "elder_in_hospital\n"
      // Not an outcome; a time that is not one; three workers.
      "310101194503121238,meal-delivery,wlq-elder-canteen,2026-11-06T11:00:00,好,a;b;c,"
      "yesterday,,,,,\n");
  EXPECT_EQ(Problems(read), (std::vector<std::string>{"5 结果", "5 工作人员电话", "5 到达时间"}));
  ASSERT_EQ(read.rows.size(), 3u);
  using scheduling::v1::ImportedVisit;
  const ImportedVisit& bath = At<ImportedVisit>(read, 0);
  EXPECT_EQ(read.rows[0].line, 2);
  EXPECT_EQ(bath.elder(), "31010119480512002X");  // an ID number, until the elder is found
  EXPECT_EQ(bath.service_type(), "serviceTypes/bathing");
  EXPECT_EQ(bath.owner_organisation(), "organisations/yinfa-bathing");
  EXPECT_TRUE(bath.commitment().empty());
  EXPECT_EQ(bath.state(), scheduling::v1::VISIT_STATE_COMPLETED);
  ASSERT_EQ(bath.attendance_size(), 2);
  EXPECT_EQ(bath.attendance(0).worker(), "13700001111");  // a phone, until the worker is found
  EXPECT_EQ(bath.attendance(1).worker(), "13700002222");
  // Beijing time: 14:05 on 3 November 2026 is 06:05 UTC.
  EXPECT_EQ(bath.attendance(0).check_in_time().seconds(), 1793685900);
  EXPECT_EQ(bath.attendance(1).check_in_time().seconds(), 1793685900 + 90);
  EXPECT_EQ(bath.attendance(1).check_out_time().seconds(), 1793685900 + 46 * 60);
  EXPECT_DOUBLE_EQ(bath.attendance(1).check_in_location().longitude(), 121.49);
  EXPECT_EQ(bath.attendance(0).method(), scheduling::v1::CHECK_METHOD_PARTNER_REPORT);
  EXPECT_EQ(bath.attendance(1).method(), scheduling::v1::CHECK_METHOD_PHONE);
  const ImportedVisit& missed = At<ImportedVisit>(read, 1);
  EXPECT_EQ(missed.state(), scheduling::v1::VISIT_STATE_MISSED);
  EXPECT_EQ(missed.attendance_size(), 0);
  const ImportedVisit& cancelled = At<ImportedVisit>(read, 2);
  EXPECT_EQ(cancelled.state(), scheduling::v1::VISIT_STATE_CANCELLED);
  EXPECT_EQ(cancelled.reason_code(), "ELDER_IN_HOSPITAL");
  // Without a 签到方式 column, a worker's check is the provider's record.
  ReadRows plain = ReadText(VisitsRoster(),
                            "id_number,service_type,owner_organisation,occurrence,outcome,"
                            "worker_phones,check_in_times,check_out_times\n"
                            "310101194503121238,meal-delivery,wlq-elder-canteen,"
                            "2026-11-04T11:00:00,completed,13700001111,2026-11-04 11:20,"
                            "2026-11-04 11:25\n");
  ASSERT_EQ(plain.rows.size(), 1u);
  EXPECT_EQ(At<ImportedVisit>(plain, 0).attendance(0).method(),
            scheduling::v1::CHECK_METHOD_PARTNER_REPORT);
}

TEST(Rosters, EachWorkersItemsStayInTheirPlace) {
  const std::string header =
      "身份证号,服务类型,服务单位,计划时间,结果,工作人员电话,到达时间,离开时间,到达纬度,到达经度,"
      "签到方式\n";
  const std::string visit =
      "310101194503121238,bathing,yinfa-bathing,2026-11-03T14:00:00,完成,13700001111;13700002222,"
      "2026-11-03 14:05;2026-11-03 14:06,2026-11-03 14:50;2026-11-03 14:51,";
  // The second worker's place and method only.
  ReadRows read = ReadText(VisitsRoster(), header + visit + ";31.21,;121.49,;电话\n");
  ASSERT_TRUE(read.problems.empty()) << read.problems[0].DebugString();
  const auto& v = At<scheduling::v1::ImportedVisit>(read, 0);
  ASSERT_EQ(v.attendance_size(), 2);
  EXPECT_FALSE(v.attendance(0).has_check_in_location());
  EXPECT_EQ(v.attendance(0).method(), scheduling::v1::CHECK_METHOD_PARTNER_REPORT);
  EXPECT_DOUBLE_EQ(v.attendance(1).check_in_location().latitude(), 31.21);
  EXPECT_EQ(v.attendance(1).method(), scheduling::v1::CHECK_METHOD_PHONE);
  // Written back, the row reads the same.
  ReadRows again =
      ReadText(VisitsRoster(), HeaderRow(VisitsRoster()) + "\n" + CsvRow(VisitsRoster(), v) + "\n");
  ASSERT_EQ(again.rows.size(), 1u);
  EXPECT_EQ(again.rows[0].record->SerializeAsString(), v.SerializeAsString());
  // One worker's latitude with the other's longitude is no place.
  EXPECT_EQ(Problems(ReadText(VisitsRoster(), header + visit + ";31.21,121.48;,\n")),
            std::vector<std::string>{"2 到达纬度"});
  EXPECT_EQ(Problems(ReadText(VisitsRoster(), header + visit + "31.2;31.21,121.48,\n")),
            std::vector<std::string>{"2 到达纬度"});
}

TEST(Rosters, AnAnswerRowNamesItsVisitAsAVisitRowDoes) {
  ReadRows read = ReadText(AnswersRoster(),
                           "身份证号,服务类型,服务单位,计划时间,评价时间,满意度,按约服务,感到关心,"
                           "说没人来,评价方式,留言\n"
                           "310101194503121238,meal-delivery,wlq-elder-canteen,2026-11-04T11:00:00,"
                           "2026-11-04 15:30,4,部分,是,否,上门,饭有点凉\n"
                           // Only what is required: the channel is the importer's to default.
                           "310101194503121238,meal-delivery,wlq-elder-canteen,2026-11-05T11:00:00,"
                           "2026-11-05 15:30,2,,,,,\n"
                           // Six faces; an answer that is not one; a time that is not one.
                           "310101194503121238,meal-delivery,wlq-elder-canteen,2026-11-06T11:00:00,"
                           "tomorrow,6,maybe,,,,\n");
  EXPECT_EQ(Problems(read), (std::vector<std::string>{"4 评价时间", "4 满意度", "4 按约服务"}));
  ASSERT_EQ(read.rows.size(), 2u);
  using gateway::v1::AnswerRosterRow;
  const AnswerRosterRow& first = At<AnswerRosterRow>(read, 0);
  EXPECT_EQ(first.id_number(), "310101194503121238");
  EXPECT_EQ(first.service_type(), "serviceTypes/meal-delivery");
  EXPECT_EQ(first.owner_organisation(), "organisations/wlq-elder-canteen");
  EXPECT_EQ(first.occurrence(), "2026-11-04T11:00:00");
  // 15:30 Beijing time on 4 November 2026 is 07:30 UTC.
  EXPECT_EQ(first.answer().answer_time().seconds(), 1793777400);
  const feedback::v1::Feedback& f = first.answer().feedback();
  EXPECT_EQ(f.faces(), 4);
  EXPECT_EQ(f.did_as_promised(), feedback::v1::ANSWER_PARTLY);
  EXPECT_EQ(f.felt_cared_for(), feedback::v1::ANSWER_YES);
  EXPECT_FALSE(f.nobody_came());
  EXPECT_EQ(f.channel(), feedback::v1::FEEDBACK_CHANNEL_DOOR_VISIT);
  EXPECT_EQ(f.words(), "饭有点凉");
  EXPECT_TRUE(f.visit().empty());
  EXPECT_TRUE(f.author().empty());
  EXPECT_EQ(At<AnswerRosterRow>(read, 1).answer().feedback().channel(),
            feedback::v1::FEEDBACK_CHANNEL_UNSPECIFIED);
}

TEST(Rosters, AProblemOfOneWorkerIsReportedInItsColumn) {
  common::v1::RowProblem problem;
  problem.set_field("visit.attendance[1].check_out_time");
  DescribeProblem(VisitsRoster(), problem);
  EXPECT_EQ(problem.column(), "离开时间");
  common::v1::RowProblem missing;  // a completed visit without its worker
  missing.set_field("visit.attendance");
  DescribeProblem(VisitsRoster(), missing);
  EXPECT_EQ(missing.column(), "工作人员电话");
  common::v1::RowProblem contact;
  contact.set_field("elder.contacts[1].phone");
  DescribeProblem(EldersRoster(), contact);
  EXPECT_FALSE(contact.column().empty());
}

}  // namespace
}  // namespace linli::roster
