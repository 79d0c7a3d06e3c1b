#include "services/registry/catalogue.h"

#include <map>

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
