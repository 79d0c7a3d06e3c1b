#include "common/roster/export.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/roster/records.h"
#include "gtest/gtest.h"

namespace linli::roster {
namespace {

namespace v1 = registry::v1;

v1::Elder MaskedElder() {
  v1::Elder e;
  e.set_name("elders/e1");
  e.set_display_name("王**");
  e.set_region("regions/310101020001");
  e.set_address("上海市黄浦区****");
  e.set_phone("138****5678");
  e.set_living_situation(v1::LIVING_SITUATION_ALONE);
  e.add_needs("serviceTypes/meal");
  e.add_needs("serviceTypes/bath");
  v1::Contact* c = e.add_contacts();
  c->set_display_name("李*");
  c->set_relationship("女儿");
  c->set_phone("139****4321");
  c->set_proxy(true);
  e.mutable_create_time()->set_seconds(1764547200);  // 2025-12-01 08:00 Shanghai
  return e;
}

TEST(RosterExportTest, ElderRowsCarryWhatTheCallerSawInReadableWords) {
  Table table = EldersTable({MaskedElder()});
  ASSERT_EQ(table.rows.size(), 1u);
  ASSERT_EQ(table.rows[0].size(), table.header.size());
  EXPECT_EQ(table.header[1], "姓名 display_name");
  const auto& row = table.rows[0];
  EXPECT_EQ(row[1], "王**");
  EXPECT_EQ(row[4], "138****5678");
  EXPECT_EQ(row[6], "alone");
  EXPECT_EQ(row[7], "serviceTypes/meal; serviceTypes/bath");
  EXPECT_EQ(row[8], "李* 女儿 139****4321 代办 proxy");
  EXPECT_EQ(row[9], "active");
  EXPECT_EQ(row[11], "2025-12-01 08:00");
}

TEST(RosterExportTest, CsvHasTheBomQuotesAndDefusesFormulas) {
  Table table;
  table.header = {"名称 display_name", "备注 note"};
  table.rows = {{"五里桥, 长者食堂", "说 \"好\""},
                {"=HYPERLINK(\"x\")", "-12"},
                {"-x", "@a"},
                {"-1+cmd|' /C calc'!A0", "\tx"},
                {"-inf", "31.2"}};
  const std::string csv = ToCsv(table);
  EXPECT_EQ(csv.substr(0, 3), "\xEF\xBB\xBF");
  EXPECT_EQ(csv.substr(3),
            "名称 display_name,备注 note\r\n"
            "\"五里桥, 长者食堂\",\"说 \"\"好\"\"\"\r\n"
            "\"'=HYPERLINK(\"\"x\"\")\",-12\r\n"
            "'-x,'@a\r\n"
            "'-1+cmd|' /C calc'!A0,'\tx\r\n"
            "'-inf,31.2\r\n");
}

TEST(RosterExportTest, RecordsAreWrittenInTheColumnsTheirImportReads) {
  v1::Organisation o;
  o.set_id("wlq-canteen-1");
  o.set_display_name("五里桥长者食堂");
  o.set_kind(v1::ORGANISATION_KIND_ELDER_CARE_FACILITY);
  o.set_sector(v1::SECTOR_PUBLIC);
  o.set_region("regions/310101020");
  Table table = RosterTable(OrganisationsRoster(), {&o});
  EXPECT_EQ(table.header[0], "编号");
  ASSERT_EQ(table.rows.size(), 1u);
  EXPECT_EQ(table.rows[0][2], "养老机构");
  // Read back by the import: the same organisation.
  std::string csv = ToCsv(table);
  Encoding encoding;
  auto text = DecodeText(csv, &encoding);
  ASSERT_TRUE(text.ok());
  auto records = ParseCsv(*text);
  ASSERT_TRUE(records.ok());
  auto read = Read(OrganisationsRoster(), *records, 0);
  ASSERT_TRUE(read.ok());
  ASSERT_EQ(read->rows.size(), 1u);
  EXPECT_EQ(read->rows[0].record->SerializeAsString(), o.SerializeAsString());
}

TEST(RosterExportTest, WorkbookIsAZipHoldingTheSheetAndItsChineseText) {
  v1::Worker w;
  w.set_display_name("李梅");
  w.set_organisation("organisations/wlq-canteen-1");
  w.set_phone("137****1234");
  Table table = RosterTable(WorkersRoster(), {&w});
  absl::StatusOr<std::string> bytes = ToXlsx(table, "workers");
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_EQ(bytes->substr(0, 4), std::string("PK\x03\x04", 4));
  // The shared strings, read back with Python's zipfile.
  const std::string path =
      (std::filesystem::temp_directory_path() / "linli_roster_export_test.xlsx").string();
  std::ofstream(path, std::ios::binary) << *bytes;
  const std::string command =
      "python3 -c \"import sys,zipfile;z=zipfile.ZipFile(sys.argv[1]);"
      "print(z.read('xl/sharedStrings.xml').decode())\" " +
      path;
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string xml;
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof buffer, pipe)) xml.append(buffer, n);
  EXPECT_EQ(pclose(pipe), 0);
  EXPECT_NE(xml.find("李梅"), std::string::npos) << xml;
  EXPECT_NE(xml.find("137****1234"), std::string::npos) << xml;
  EXPECT_NE(xml.find("可服务规则"), std::string::npos) << xml;
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace linli::roster
