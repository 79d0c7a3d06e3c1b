#include "services/registry/catalogue.h"

#include <map>

#include "absl/strings/match.h"
#include "common/update_mask.h"
#include "gtest/gtest.h"

namespace linli::registry {
namespace {

std::vector<std::string> ViolatedFields(const FieldViolations& v) {
  std::vector<std::string> fields;
  auto bad_request = GetBadRequest(v.ToStatus());
  if (bad_request.has_value()) {
    for (const auto& fv : bad_request->field_violations()) fields.push_back(fv.field());
  }
  return fields;
}

v1::Schedule Weekdays() {
  v1::Schedule s;
  s.set_rrule("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR");
  s.set_dtstart("2026-01-05T08:00:00");
  s.set_duration_minutes(240);
  return s;
}

google::protobuf::FieldMask Mask(std::vector<std::string> paths) {
  google::protobuf::FieldMask mask;
  for (auto& p : paths) mask.add_paths(std::move(p));
  return mask;
}

TEST(CatalogueTest, DisplayNames) {
  FieldViolations ok;
  ValidateDisplayName("助餐点", 3, "name", ok);
  EXPECT_TRUE(ok.empty());
  FieldViolations v;
  ValidateDisplayName("  ", 10, "blank", v);
  ValidateDisplayName("助餐点", 2, "long", v);
  ValidateDisplayName("\xff", 10, "utf8", v);
  EXPECT_EQ(ViolatedFields(v), (std::vector<std::string>{"blank", "long", "utf8"}));
}

TEST(CatalogueTest, ColoursAreHashAndSixHexDigits) {
  EXPECT_TRUE(IsColor("#1f77B4"));
  for (const char* bad : {"", "1f77b4", "#1f77b", "#1f77b44", "#1g77b4"}) {
    EXPECT_FALSE(IsColor(bad)) << bad;
  }
}

TEST(CatalogueTest, SchedulesNeedARuleAStartAndADuration) {
  FieldViolations ok;
  ValidateSchedule(Weekdays(), "offering.schedule", ok);
  EXPECT_TRUE(ok.empty());

  v1::Schedule bad;
  bad.set_rrule("FREQ=SOMETIMES");
  bad.set_dtstart("2026-01-05 08:00");
  bad.set_duration_minutes(1441);
  FieldViolations v;
  ValidateSchedule(bad, "worker.availability", v);
  EXPECT_EQ(ViolatedFields(v),
            (std::vector<std::string>{"worker.availability.rrule", "worker.availability.dtstart",
                                      "worker.availability.duration_minutes"}));
}

TEST(CatalogueTest, SkillsAreSlugs) {
  google::protobuf::RepeatedPtrField<std::string> skills;
  skills.Add("bathing");
  skills.Add("Nursing");
  skills.Add("");
  FieldViolations v;
  ValidateSkills(skills, "worker.skills", v);
  EXPECT_EQ(ViolatedFields(v), (std::vector<std::string>{"worker.skills[1]", "worker.skills[2]"}));
}

TEST(CatalogueTest, OfferingTerms) {
  v1::Offering good;
  good.set_capacity_per_day(10);
  *good.mutable_schedule() = Weekdays();
  good.add_required_skills("cooking");
  FieldViolations ok;
  ValidateOfferingTerms(good, ok);
  EXPECT_TRUE(ok.empty());

  v1::Offering bad;
  bad.set_capacity_per_day(-1);
  bad.set_capacity_per_week(-1);
  bad.mutable_schedule()->set_rrule("x");
  bad.add_required_skills("X");
  bad.set_display_name(" ");
  FieldViolations v;
  ValidateOfferingTerms(bad, v);
  EXPECT_EQ(ViolatedFields(v),
            (std::vector<std::string>{"offering.capacity_per_day", "offering.capacity_per_week",
                                      "offering.schedule.rrule", "offering.schedule.dtstart",
                                      "offering.schedule.duration_minutes",
                                      "offering.required_skills[0]", "offering.display_name"}));
}

// A name is one line of text (a table row, a CSV cell, a notice): control characters are refused,
// Chinese and ordinary punctuation are not.
TEST(CatalogueTest, DisplayNamesRefuseControlCharacters) {
  for (const std::string& name :
       {std::string("换行\n名称"), std::string("a\tb"), std::string("a\0b", 3), std::string("铃\a"),
        std::string("del\x7f"), std::string("c1\xc2\x85")}) {
    FieldViolations v;
    ValidateDisplayName(name, 64, "elder.display_name", v);
    EXPECT_EQ(ViolatedFields(v), std::vector<std::string>{"elder.display_name"}) << name;
    EXPECT_TRUE(absl::StrContains(v.ToStatus().message(), "control characters")) << name;
  }
  // An address may span lines, nothing else.
  FieldViolations address;
  ValidateDisplayName("鲁班路100弄5号,\r\n302室", 256, "elder.address", address, true);
  EXPECT_TRUE(ViolatedFields(address).empty());
  ValidateDisplayName("鲁班路\t100弄", 256, "elder.address", address, true);
  EXPECT_EQ(ViolatedFields(address), std::vector<std::string>{"elder.address"});
  for (const char* name : {"王阿姨", "五里桥（新址）· 食堂", "Anna-Maria O'Neil", "é"}) {
    FieldViolations v;
    ValidateDisplayName(name, 64, "elder.display_name", v);
    EXPECT_TRUE(ViolatedFields(v).empty()) << name;
  }
}

TEST(CatalogueTest, AnOfferingUpdateChangesOnlyItsTerms) {
  v1::Offering update;
  update.set_capacity_per_week(-3);
  FieldViolations v;
  std::vector<std::string> paths = OfferingUpdatePaths(
      update, Mask({"capacity_per_week", "organisation", "capacity_per_day", "capacity_per_day"}),
      v);
  EXPECT_EQ(paths, (std::vector<std::string>{"capacity_per_week", "capacity_per_day"}));
  EXPECT_EQ(ViolatedFields(v),
            (std::vector<std::string>{"update_mask.paths[1]", "update_mask.paths[3]",
                                      "offering.capacity_per_week"}));

  FieldViolations empty;
  EXPECT_TRUE(OfferingUpdatePaths(update, Mask({}), empty).empty());
  EXPECT_EQ(ViolatedFields(empty), std::vector<std::string>{"update_mask"});
}

TEST(CatalogueTest, AppliesTheFieldsNamedAndClearsAnOmittedSchedule) {
  v1::Offering stored;
  stored.set_name("offerings/1");
  stored.set_organisation("organisations/canteen");
  stored.set_capacity_per_day(5);
  stored.set_capacity_per_week(20);
  stored.set_display_name("午餐");
  *stored.mutable_schedule() = Weekdays();

  v1::Offering update;
  update.set_organisation("organisations/other");  // not in the paths: ignored
  update.set_capacity_per_day(8);
  update.set_capacity_per_week(99);
  update.set_display_name("晚餐");
  FieldViolations v;
  const std::vector<std::string> paths =
      OfferingUpdatePaths(update, Mask({"capacity_per_day", "schedule", "display_name"}), v);
  ASSERT_TRUE(v.empty());
  ApplyUpdateMask(update, paths, stored);
  EXPECT_EQ(stored.organisation(), "organisations/canteen");
  EXPECT_EQ(stored.capacity_per_day(), 8);
  EXPECT_EQ(stored.capacity_per_week(), 20);
  EXPECT_EQ(stored.display_name(), "晚餐");
  EXPECT_FALSE(stored.has_schedule());

  *update.mutable_schedule() = Weekdays();
  ApplyUpdateMask(update, {"schedule"}, stored);
  EXPECT_EQ(stored.schedule().rrule(), Weekdays().rrule());
}

TEST(CatalogueTest, AWorkerWithoutAStatusIsActive) {
  v1::Worker worker;
  ApplyWorkerDefaults(worker);
  EXPECT_EQ(worker.status(), v1::WORKER_STATUS_ACTIVE);
  worker.set_status(v1::WORKER_STATUS_LEFT);
  ApplyWorkerDefaults(worker);
  EXPECT_EQ(worker.status(), v1::WORKER_STATUS_LEFT);
}

TEST(CatalogueTest, CreditCodeCheckCharactersFollowGb32100) {
  // Codes of registered enterprises, as printed on their business licences.
  for (const std::string code : {"9144030071526726XG", "914403001922038216", "91330100799655058B",
                                 "91110000802100433B", "91350100M000100Y43"}) {
    EXPECT_EQ(CreditCodeCheckCharacter(code.substr(0, 17)), code[17]) << code;
  }
  // A check value of 31 is written '0'.
  EXPECT_EQ(CreditCodeCheckCharacter("00000000000000000"), '0');
  EXPECT_EQ(CreditCodeCheckCharacter("10000000000000000"), 'Y');  // 31 - 1 = 30, the last
  // Not 17 characters of the alphabet (I, O, S, V, Z and lower case are not in it).
  for (const std::string bad : {"", "9144030071526726", "9144030071526726XG", "91440300715267I6X",
                                "91440300715267O6X", "9144030071526726s", "91440300715267Z6X"}) {
    EXPECT_EQ(CreditCodeCheckCharacter(bad), std::nullopt) << bad;
  }
}

TEST(CatalogueTest, CreditCodesAreEighteenCharactersEndingInTheirCheck) {
  FieldViolations ok;
  ValidateCreditCode("91350100M000100Y43", "code", ok);
  EXPECT_TRUE(ok.empty());

  for (const std::string bad : {"9135010 0M000100Y43", "91350100M000100Y4", "91350100M000100Y433",
                                "91350100m000100y43", "91350100M0001O0Y43", "9135010OM000100Y43"}) {
    FieldViolations v;
    ValidateCreditCode(bad, "code", v);
    EXPECT_EQ(ViolatedFields(v), std::vector<std::string>{"code"}) << bad;
  }
  // One character mistyped, or two swapped: the check character no longer matches.
  for (const std::string typo :
       {"91350100M000100Y44", "91350100M000101Y43", "91351000M000100Y43"}) {
    FieldViolations v;
    ValidateCreditCode(typo, "code", v);
    auto bad_request = GetBadRequest(v.ToStatus());
    ASSERT_TRUE(bad_request.has_value()) << typo;
    ASSERT_EQ(bad_request->field_violations_size(), 1) << typo;
    EXPECT_NE(bad_request->field_violations(0).description().find("check character"),
              std::string::npos);
  }
}

TEST(CatalogueTest, AnOrganisationsCreditCodeIsCheckedWhenGiven) {
  v1::Organisation org;
  org.set_display_name("五里桥综合为老服务中心");
  org.set_kind(v1::ORGANISATION_KIND_SOCIAL_ORGANISATION);
  org.set_sector(v1::SECTOR_SOCIAL);
  FieldViolations without;
  ValidateOrganisationTerms(org, without);
  EXPECT_TRUE(without.empty());
  org.set_credit_code("52310101MJ5000013D");  // a social organisation's (5) code
  FieldViolations with;
  ValidateOrganisationTerms(org, with);
  EXPECT_TRUE(with.empty());
  org.set_credit_code("52310101MJ5000013E");
  FieldViolations bad;
  ValidateOrganisationTerms(org, bad);
  EXPECT_EQ(ViolatedFields(bad), std::vector<std::string>{"organisation.credit_code"});
}

TEST(CatalogueTest, AWorkersPhoneIsCheckedKeyedAndMasked) {
  v1::Worker worker;
  worker.set_display_name("李护理员");
  for (const char* phone : {"", "13812345678", "021-64181234"}) {
    worker.set_phone(phone);
    FieldViolations v;
    ValidateWorkerTerms(worker, v);
    EXPECT_TRUE(v.empty()) << phone;
  }
  for (const char* phone : {"12345", "138****5678", "2164181234"}) {
    worker.set_phone(phone);
    FieldViolations v;
    ValidateWorkerTerms(worker, v);
    EXPECT_EQ(ViolatedFields(v), std::vector<std::string>{"worker.phone"}) << phone;
  }

  // One phone written several ways is one key; no phone, no key.
  EXPECT_EQ(WorkerPhoneKey("13812345678"), "phone:13812345678");
  EXPECT_EQ(WorkerPhoneKey("138 1234 5678"), "phone:13812345678");
  EXPECT_EQ(WorkerPhoneKey("+86 138-1234-5678"), "phone:13812345678");
  EXPECT_EQ(WorkerPhoneKey("021-64181234"), "phone:02164181234");
  EXPECT_NE(WorkerPhoneKey("13812345679"), WorkerPhoneKey("13812345678"));
  EXPECT_EQ(WorkerPhoneKey(""), "");
  EXPECT_EQ(WorkerPhoneKey("12345"), "");

  worker.set_phone("13812345678");
  worker.add_skills("bathing");
  v1::Worker masked = MaskedWorker(worker);
  EXPECT_EQ(masked.phone(), "138****5678");
  EXPECT_EQ(masked.display_name(), "李护理员");
  EXPECT_EQ(masked.skills_size(), 1);
  worker.clear_phone();
  EXPECT_EQ(MaskedWorker(worker).phone(), "");
}

TEST(CatalogueTest, AServiceTypeIncludesTheTypesBelowIt) {
  auto type = [](const std::string& code, const std::string& parent) {
    v1::ServiceType t;
    t.set_code(code);
    if (!parent.empty()) t.set_parent("serviceTypes/" + parent);
    return t;
  };
  const std::vector<v1::ServiceType> taxonomy = {
      type("meals", ""), type("meal-delivery", "meals"), type("canteen", "meals"),
      type("hot-meal-delivery", "meal-delivery"), type("bathing", "")};
  std::vector<std::string> below = ServiceTypeWithDescendants("meals", taxonomy);
  EXPECT_EQ(below,
            (std::vector<std::string>{"meals", "meal-delivery", "canteen", "hot-meal-delivery"}));
  EXPECT_EQ(ServiceTypeWithDescendants("bathing", taxonomy), std::vector<std::string>{"bathing"});
  EXPECT_EQ(ServiceTypeWithDescendants("unknown", taxonomy), std::vector<std::string>{"unknown"});
}

TEST(CatalogueTest, AdministrativeCycles) {
  // c is under b, b under a.
  const std::map<std::string, std::vector<std::string>> parents = {{"c", {"b"}}, {"b", {"a"}}};
  auto parents_of = [&](const std::string& node) -> absl::StatusOr<std::vector<std::string>> {
    auto it = parents.find(node);
    return it == parents.end() ? std::vector<std::string>() : it->second;
  };
  EXPECT_TRUE(*WouldCloseCycle("a", "c", parents_of));  // a under c, c already under a
  EXPECT_TRUE(*WouldCloseCycle("a", "a", parents_of));
  EXPECT_FALSE(*WouldCloseCycle("c", "a", parents_of));
  EXPECT_FALSE(*WouldCloseCycle("d", "c", parents_of));

  auto failing = [](const std::string&) -> absl::StatusOr<std::vector<std::string>> {
    return absl::UnavailableError("database gone");
  };
  EXPECT_EQ(WouldCloseCycle("a", "b", failing).status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace linli::registry
