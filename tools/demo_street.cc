#include "tools/demo_street.h"

#include <algorithm>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace linli::demo {
namespace {

using namespace registry::v1;  // NOLINT: enums and messages of one proto package

// xorshift64*: tiny, fast and identical on every platform (std distributions are not).
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed ? seed : 1) {}
  uint64_t Next() {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return state_ * 0x2545F4914F6CDD1DULL;
  }
  int Uniform(int n) { return static_cast<int>(Next() % static_cast<uint64_t>(n)); }
  double Unit() { return static_cast<double>(Next() >> 11) / 9007199254740992.0; }

 private:
  uint64_t state_;
};

constexpr double kCentreLat = 31.2012;
constexpr double kCentreLng = 121.4823;

common::v1::LatLng Near(Rng& rng, double spread = 0.008) {
  common::v1::LatLng p;
  p.set_latitude(kCentreLat + (rng.Unit() - 0.5) * spread);
  p.set_longitude(kCentreLng + (rng.Unit() - 0.5) * spread * 1.15);
  return p;
}

const char* const kCommitteeNames[] = {"桥一", "桥二", "桥三", "桥四", "铁一", "铁二", "铁三",
                                       "瞿溪", "紫霞", "局门", "丽园", "汇龙", "海悦", "南塘",
                                       "打浦", "斜土", "鲁班", "蒙自", "制造", "龙华"};
const char* const kRoads[] = {"局门路",   "瞿溪路", "丽园路", "蒙自路",     "鲁班路",
                              "制造局路", "斜土路", "打浦路", "中山南一路", "龙华东路"};
const char* const kSurnames[] = {"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周",
                                 "徐", "孙", "马", "朱", "胡", "郭", "何", "林", "沈", "顾"};
const char* const kGiven[] = {"秀英", "桂英", "玉兰", "凤英", "建国", "国强", "志明",
                              "美华", "德福", "金宝", "阿毛", "荣根", "月娥", "根娣",
                              "永福", "宝珍", "伟民", "丽华", "雪芳", "文忠"};

struct Builder {
  DemoStreet street;
  Rng rng{20261127};

  void Region(const std::string& code, const std::string& name, RegionLevel level,
              const std::string& parent) {
    CreateRegionRequest r;
    r.mutable_region()->set_code(code);
    r.mutable_region()->set_display_name(name);
    r.mutable_region()->set_level(level);
    r.mutable_region()->set_parent(parent.empty() ? "" : "regions/" + parent);
    r.set_request_id("demo-region-" + code);
    street.regions.push_back(std::move(r));
  }

  void Line(const std::string& id, const std::string& name, const std::string& color) {
    CreateLineRequest r;
    r.mutable_line()->set_id(id);
    r.mutable_line()->set_display_name(name);
    r.mutable_line()->set_color(color);
    r.set_request_id("demo-line-" + id);
    street.lines.push_back(std::move(r));
  }

  void Service(const std::string& code, const std::string& name, Sector sector,
               const std::string& parent = "") {
    CreateServiceTypeRequest r;
    r.mutable_service_type()->set_code(code);
    r.mutable_service_type()->set_display_name(name);
    r.mutable_service_type()->set_sector(sector);
    if (!parent.empty()) r.mutable_service_type()->set_parent("serviceTypes/" + parent);
    r.set_request_id("demo-service-" + code);
    street.service_types.push_back(std::move(r));
  }

  void Org(const std::string& id, const std::string& name, OrganisationKind kind, Sector sector,
           const std::string& region_code, std::vector<std::string> lines = {},
           const std::string& parent = "") {
    CreateOrganisationRequest r;
    Organisation* o = r.mutable_organisation();
    o->set_id(id);
    o->set_display_name(name);
    o->set_kind(kind);
    o->set_sector(sector);
    o->set_region("regions/" + region_code);
    for (const std::string& l : lines) o->add_lines("lines/" + l);
    if (!parent.empty()) o->set_parent("organisations/" + parent);
    *o->mutable_location() = Near(rng);
    r.set_request_id("demo-org-" + id);
    street.organisations.push_back(std::move(r));
  }

  void Rel(const std::string& source, const std::string& target, RelationType type,
           const std::string& note = "") {
    CreateRelationRequest r;
    r.mutable_relation()->set_source("organisations/" + source);
    r.mutable_relation()->set_target(
        type == RELATION_TYPE_SERVES_REGION ? "regions/" + target : "organisations/" + target);
    r.mutable_relation()->set_type(type);
    r.mutable_relation()->set_note(note);
    r.set_request_id(absl::StrCat("demo-rel-", source, "-", type, "-", target));
    street.relations.push_back(std::move(r));
  }

  void Offer(const std::string& org, const std::string& service, const std::string& name,
             std::vector<std::string> regions, int per_day, int per_week,
             const std::string& rrule = "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", int minutes = 540,
             std::vector<std::string> skills = {}) {
    CreateOfferingRequest r;
    Offering* o = r.mutable_offering();
    o->set_organisation("organisations/" + org);
    o->set_service_type("serviceTypes/" + service);
    o->set_display_name(name);
    for (const std::string& code : regions) o->add_covered_regions("regions/" + code);
    o->set_capacity_per_day(per_day);
    o->set_capacity_per_week(per_week);
    o->mutable_schedule()->set_rrule(rrule);
    o->mutable_schedule()->set_dtstart("2026-01-05T08:00:00");
    o->mutable_schedule()->set_duration_minutes(minutes);
    for (const std::string& s : skills) o->add_required_skills(s);
    r.set_request_id(absl::StrCat("demo-offering-", org, "-", service));
    street.offerings.push_back(std::move(r));
  }

  void Worker(const std::string& org, int index, bool volunteer, std::vector<std::string> skills) {
    CreateWorkerRequest r;
    registry::v1::Worker* w = r.mutable_worker();
    w->set_display_name(absl::StrCat(kSurnames[rng.Uniform(20)], kGiven[rng.Uniform(20)]));
    w->set_organisation("organisations/" + org);
    w->set_volunteer(volunteer);
    // A fictional mobile number of the worker's own, from their index (not the generator's
    // draws, which the rest of the street follows).
    w->set_phone(absl::StrFormat("186%08d", index));
    for (const std::string& s : skills) w->add_skills(s);
    // Staff work every day 08:00-18:00 (home care and meals do not stop at weekends; the rota
    // within is theirs), volunteers at weekends 08:00-12:00.
    w->mutable_availability()->set_rrule(volunteer ? "FREQ=WEEKLY;BYDAY=SA,SU" : "FREQ=DAILY");
    w->mutable_availability()->set_dtstart("2026-01-05T08:00:00");
    w->mutable_availability()->set_duration_minutes(volunteer ? 240 : 600);
    *w->mutable_base_location() = Near(rng);
    r.set_request_id(absl::StrCat("demo-worker-", org, "-", index));
    street.workers.push_back(std::move(r));
  }
};

}  // namespace

std::string WithCheckDigit(const std::string& first17) {
  static constexpr int kWeights[] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  static constexpr char kCheck[] = "10X98765432";
  int sum = 0;
  for (int i = 0; i < 17; ++i) sum += (first17[i] - '0') * kWeights[i];
  return first17 + kCheck[sum % 11];
}

DemoStreet GenerateDemoStreet(int elders, int committees) {
  Builder b;
  const std::string city = "310000", district = "310101", street = "310101020";
  b.Region(city, "上海市", REGION_LEVEL_MUNICIPALITY, "");
  b.Region(district, "黄浦区", REGION_LEVEL_DISTRICT, city);
  b.Region(street, "五里桥街道", REGION_LEVEL_STREET, district);
  b.Region("310101021", "打浦桥街道", REGION_LEVEL_STREET, district);  // a neighbour, for contrast
  committees = std::max(1, std::min(committees, static_cast<int>(std::size(kCommitteeNames))));
  std::vector<std::string> committee_codes;
  for (int i = 0; i < committees; ++i) {
    std::string code = absl::StrFormat("%s%03d", street, i + 1);
    committee_codes.push_back(code);
    b.Region(code, absl::StrCat(kCommitteeNames[i], "居民区"), REGION_LEVEL_COMMITTEE, street);
  }

  b.Line("civil-affairs", "民政", "#d62728");
  b.Line("health", "卫健", "#2ca02c");
  b.Line("medical-insurance", "医保", "#17becf");
  b.Line("culture", "文旅", "#9467bd");
  b.Line("disability", "残联", "#8c564b");
  b.Line("human-resources", "人社", "#bcbd22");
  b.Line("ageing", "老龄办", "#ff7f0e");
  b.Line("social-work", "社建办", "#1f77b4");

  b.Service("meal", "助餐", SECTOR_PUBLIC);
  b.Service("meal-delivery", "送餐上门", SECTOR_PUBLIC, "meal");
  b.Service("bathing", "助浴", SECTOR_SOCIAL);
  b.Service("cleaning", "助洁", SECTOR_COMMERCIAL);
  b.Service("emergency", "助急", SECTOR_PUBLIC);
  b.Service("medical", "助医", SECTOR_PUBLIC);
  b.Service("mobility", "助行", SECTOR_SOCIAL);
  b.Service("visiting", "探访/精神慰藉", SECTOR_SOCIAL);
  b.Service("nursing", "康复护理", SECTOR_PUBLIC);
  b.Service("ltc-home-care", "长护险居家照护", SECTOR_PUBLIC, "nursing");
  b.Service("errands", "代办", SECTOR_SOCIAL);
  b.Service("delivery", "送货上门", SECTOR_COMMERCIAL);
  b.Service("mental-health", "心理支持", SECTOR_SOCIAL, "visiting");

  // District line bureaus (条) and the street office with its eight offices (块).
  const std::pair<const char*, const char*> bureaus[] = {
      {"civil-affairs", "黄浦区民政局"},         {"health", "黄浦区卫生健康委员会"},
      {"medical-insurance", "黄浦区医疗保障局"}, {"culture", "黄浦区文化和旅游局"},
      {"disability", "黄浦区残疾人联合会"},      {"human-resources", "黄浦区人力资源和社会保障局"},
      {"ageing", "黄浦区老龄工作委员会办公室"},  {"social-work", "黄浦区社会工作委员会"}};
  for (const auto& [line, name] : bureaus) {
    b.Org(absl::StrCat("hp-", line), name, ORGANISATION_KIND_GOVERNMENT, SECTOR_PUBLIC, district,
          {line});
  }
  b.Org("hotline-12345", "12345市民服务热线", ORGANISATION_KIND_HOTLINE, SECTOR_PUBLIC, city);
  b.Org("wlq-street-office", "五里桥街道办事处", ORGANISATION_KIND_STREET_OFFICE, SECTOR_PUBLIC,
        street);
  struct Office {
    const char* id;
    const char* name;
    std::vector<std::string> lines;
  };
  const Office offices[] = {
      {"wlq-office-admin", "党政办公室", {}},
      {"wlq-office-party", "社区党建办公室", {"social-work"}},
      {"wlq-office-management", "社区管理办公室", {}},
      {"wlq-office-service",
       "社区服务办公室",
       {"civil-affairs", "ageing", "disability", "human-resources", "medical-insurance"}},
      {"wlq-office-safety", "社区平安办公室", {}},
      {"wlq-office-selfgov", "社区自治办公室", {"social-work"}},
      {"wlq-office-development", "社区发展办公室", {}},
      {"wlq-office-business", "社区营商环境办公室", {}}};
  for (const Office& o : offices) {
    b.Org(o.id, o.name, ORGANISATION_KIND_STREET_OFFICE_DEPARTMENT, SECTOR_PUBLIC, street, o.lines,
          "wlq-street-office");
    for (const std::string& line : o.lines) {
      b.Rel(o.id, absl::StrCat("hp-", line), RELATION_TYPE_LINE_GUIDANCE);
    }
  }
  // Street public institutions and elder-care facilities.
  b.Org("wlq-affairs-centre", "社区事务受理服务中心", ORGANISATION_KIND_PUBLIC_CENTRE,
        SECTOR_PUBLIC, street, {"civil-affairs", "human-resources"}, "wlq-office-service");
  b.Org("wlq-health-centre", "五里桥社区卫生服务中心", ORGANISATION_KIND_PUBLIC_CENTRE,
        SECTOR_PUBLIC, street, {"health", "medical-insurance"}, "wlq-street-office");
  b.Rel("wlq-health-centre", "hp-health", RELATION_TYPE_LINE_GUIDANCE);
  b.Org("wlq-culture-centre", "社区文化活动中心", ORGANISATION_KIND_PUBLIC_CENTRE, SECTOR_PUBLIC,
        street, {"culture"}, "wlq-street-office");
  b.Rel("wlq-culture-centre", "hp-culture", RELATION_TYPE_LINE_GUIDANCE);
  b.Org("wlq-party-centre", "社区党建服务中心", ORGANISATION_KIND_PUBLIC_CENTRE, SECTOR_PUBLIC,
        street, {"social-work"}, "wlq-office-party");
  b.Org("wlq-grid-centre", "城市网格化综合管理中心", ORGANISATION_KIND_PUBLIC_CENTRE, SECTOR_PUBLIC,
        street, {}, "wlq-office-management");
  b.Org("wlq-elder-hub", "五里桥综合为老服务中心", ORGANISATION_KIND_ELDER_CARE_FACILITY,
        SECTOR_PUBLIC, street, {"civil-affairs", "ageing"}, "wlq-office-service");
  b.Org("wlq-care-home", "五里桥长者照护之家", ORGANISATION_KIND_ELDER_CARE_FACILITY, SECTOR_PUBLIC,
        street, {"civil-affairs"}, "wlq-office-service");
  b.Org("wlq-daycare-1", "桥一日间照料中心", ORGANISATION_KIND_ELDER_CARE_FACILITY, SECTOR_PUBLIC,
        committee_codes[0], {"civil-affairs"}, "wlq-office-service");
  b.Org("wlq-daycare-2", "瞿溪日间照料中心", ORGANISATION_KIND_ELDER_CARE_FACILITY, SECTOR_PUBLIC,
        committee_codes[std::min<size_t>(7, committee_codes.size() - 1)], {"civil-affairs"},
        "wlq-office-service");
  b.Org("wlq-canteen-1", "五里桥长者食堂", ORGANISATION_KIND_ELDER_CARE_FACILITY, SECTOR_PUBLIC,
        street, {"civil-affairs"}, "wlq-office-service");
  b.Org("wlq-canteen-2", "铁三助餐点", ORGANISATION_KIND_ELDER_CARE_FACILITY, SECTOR_PUBLIC,
        committee_codes[std::min<size_t>(6, committee_codes.size() - 1)], {"civil-affairs"},
        "wlq-office-service");
  // Deliberative bodies at street level.
  b.Org("wlq-community-council", "五里桥社区委员会", ORGANISATION_KIND_DELIBERATIVE_BODY,
        SECTOR_PUBLIC, street, {"social-work"});
  b.Org("wlq-community-board", "五里桥社区理事会", ORGANISATION_KIND_DELIBERATIVE_BODY,
        SECTOR_SOCIAL, street, {"social-work"});
  b.Org("wlq-deliberation", "五里桥社区议事会", ORGANISATION_KIND_DELIBERATIVE_BODY, SECTOR_SOCIAL,
        street, {"social-work"});
  b.Rel("wlq-community-council", "wlq-office-selfgov", RELATION_TYPE_LINE_GUIDANCE);
  // Money and social forces.
  b.Org("wlq-foundation", "五里桥社区基金会", ORGANISATION_KIND_COMMUNITY_FOUNDATION, SECTOR_SOCIAL,
        street, {"social-work"});
  struct Social {
    const char* id;
    const char* name;
    OrganisationKind kind;
  };
  const Social socials[] = {
      {"lelin-social-work", "乐龄社工服务社", ORGANISATION_KIND_SOCIAL_ORGANISATION},
      {"xinqing-counselling", "心晴心理服务中心", ORGANISATION_KIND_SOCIAL_ORGANISATION},
      {"yangguang-disability", "阳光助残服务社", ORGANISATION_KIND_SOCIAL_ORGANISATION},
      {"shuxiang-reading", "书香读书会", ORGANISATION_KIND_SOCIAL_ORGANISATION},
      {"yinfa-bathing", "银发助浴社会企业", ORGANISATION_KIND_SOCIAL_ENTERPRISE},
      {"linjia-cleaning", "邻家助洁社会企业", ORGANISATION_KIND_SOCIAL_ENTERPRISE}};
  for (const Social& s : socials) {
    b.Org(s.id, s.name, s.kind, SECTOR_SOCIAL, street, {"social-work"});
    b.Rel("wlq-office-service", s.id, RELATION_TYPE_FUNDS, "政府购买服务");
    b.Rel(s.id, street, RELATION_TYPE_SERVES_REGION);
  }
  b.Rel("wlq-foundation", "xinqing-counselling", RELATION_TYPE_FUNDS, "社区基金会项目");
  b.Rel("wlq-foundation", "shuxiang-reading", RELATION_TYPE_FUNDS, "社区基金会项目");
  const Social shops[] = {
      {"kedi-store-1", "可的便利店(局门路店)", ORGANISATION_KIND_COMMERCIAL_PROVIDER},
      {"lianhua-store", "联华快客(瞿溪路店)", ORGANISATION_KIND_COMMERCIAL_PROVIDER},
      {"fresh-express", "叮咚生鲜前置仓(五里桥)", ORGANISATION_KIND_COMMERCIAL_PROVIDER},
      {"leiyunshang-pharmacy", "雷允上药房(蒙自路店)", ORGANISATION_KIND_COMMERCIAL_PROVIDER},
      {"huashi-pharmacy", "华氏大药房(鲁班路店)", ORGANISATION_KIND_COMMERCIAL_PROVIDER},
      {"anxin-homeservice", "安心家政服务公司", ORGANISATION_KIND_COMMERCIAL_PROVIDER},
      {"jiajie-homeservice", "家洁家政公司", ORGANISATION_KIND_COMMERCIAL_PROVIDER}};
  for (const Social& s : shops) {
    b.Org(s.id, s.name, s.kind, SECTOR_COMMERCIAL, street);
    b.Rel(s.id, "wlq-office-business", RELATION_TYPE_PARTNER);
  }
  b.Org("wlq-volunteers", "五里桥街道志愿者协会", ORGANISATION_KIND_VOLUNTEER_TEAM, SECTOR_SOCIAL,
        street, {"social-work"}, "wlq-office-selfgov");

  // Each neighbourhood committee with its partners and its joint meeting (联席会议).
  for (size_t i = 0; i < committee_codes.size(); ++i) {
    const std::string code = committee_codes[i];
    const std::string n = kCommitteeNames[i];
    const std::string key = absl::StrCat("c", i + 1);
    b.Org(key + "-committee", n + "居民区居委会", ORGANISATION_KIND_NEIGHBOURHOOD_COMMITTEE,
          SECTOR_PUBLIC, code, {"civil-affairs"}, "wlq-street-office");
    b.Rel(key + "-committee", "wlq-office-selfgov", RELATION_TYPE_LINE_GUIDANCE);
    b.Org(key + "-owners", n + "小区业主委员会", ORGANISATION_KIND_OWNERS_COMMITTEE, SECTOR_SOCIAL,
          code);
    b.Org(key + "-property", n + "物业服务中心", ORGANISATION_KIND_PROPERTY_COMPANY,
          SECTOR_COMMERCIAL, code);
    b.Org(key + "-meeting", n + "居民区联席会议", ORGANISATION_KIND_DELIBERATIVE_BODY,
          SECTOR_PUBLIC, code, {}, key + "-committee");
    b.Org(key + "-volunteers", n + "志愿服务队", ORGANISATION_KIND_VOLUNTEER_TEAM, SECTOR_SOCIAL,
          code, {}, key + "-committee");
    for (const char* member : {"-committee", "-owners", "-property", "-volunteers"}) {
      b.Rel(key + member, key + "-meeting", RELATION_TYPE_JOINT_MEETING_MEMBER);
    }
    b.Rel(key + "-volunteers", "wlq-volunteers", RELATION_TYPE_PARTNER);
    if (i % 4 == 0) {
      b.Org(key + "-selfgov", n + "老伙伴互助自治团队", ORGANISATION_KIND_SELF_GOVERNANCE_TEAM,
            SECTOR_SOCIAL, code, {"ageing"}, key + "-committee");
      b.Rel(key + "-selfgov", key + "-meeting", RELATION_TYPE_JOINT_MEETING_MEMBER);
    }
    b.Offer(key + "-volunteers", "visiting", n + "志愿者结对探访", {code}, 10, 40,
            "FREQ=WEEKLY;BYDAY=SA,SU", 240);
  }

  // Offerings across the three sectors.
  b.Offer("wlq-canteen-1", "meal", "长者食堂午餐", {street}, 300, 1500,
          "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR,SA,SU", 180);
  b.Offer("wlq-canteen-1", "meal-delivery", "长者食堂送餐上门", {street}, 120, 700,
          "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR,SA,SU", 180, {"meal-delivery"});
  b.Offer("wlq-canteen-2", "meal", "铁三助餐点午餐",
          std::vector<std::string>(
              committee_codes.begin(),
              committee_codes.begin() + std::min<size_t>(8, committee_codes.size())),
          80, 400);
  b.Offer("wlq-elder-hub", "visiting", "为老服务中心上门探访", {street}, 20, 100);
  b.Offer("wlq-elder-hub", "errands", "为老服务中心代办", {street}, 30, 150);
  b.Offer("wlq-care-home", "ltc-home-care", "长护险居家照护", {street}, 60, 400, "FREQ=DAILY", 600,
          {"nursing"});
  b.Offer("wlq-health-centre", "medical", "家庭医生签约上门", {street}, 15, 75);
  b.Offer("wlq-health-centre", "nursing", "社区康复护理", {street}, 20, 100,
          "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", 480, {"nursing"});
  b.Offer("wlq-grid-centre", "emergency", "助急响应(一键呼叫)", {street}, 0, 0, "FREQ=DAILY", 1440);
  b.Offer("yinfa-bathing", "bathing", "上门助浴(两人)", {street}, 8, 40,
          "FREQ=WEEKLY;BYDAY=TU,TH,SA", 480, {"bathing"});
  b.Offer("linjia-cleaning", "cleaning", "助洁上门", {street}, 20, 100);
  b.Offer("xinqing-counselling", "mental-health", "老年心理关怀", {street}, 6, 30);
  b.Offer("lelin-social-work", "visiting", "独居老人社工探访", {street}, 25, 120);
  b.Offer("yangguang-disability", "mobility", "助行陪护", {street}, 10, 50);
  b.Offer("anxin-homeservice", "cleaning", "家政保洁(市场价)", {street, "310101021"}, 30, 180,
          "FREQ=DAILY", 600);
  b.Offer("jiajie-homeservice", "cleaning", "钟点工助洁", {street}, 25, 150, "FREQ=DAILY", 600);
  b.Offer("kedi-store-1", "delivery", "便利店送货上门", {street}, 60, 400, "FREQ=DAILY", 960);
  b.Offer("lianhua-store", "delivery", "快客送货上门", {street}, 60, 400, "FREQ=DAILY", 960);
  b.Offer("fresh-express", "delivery", "生鲜30分钟达", {street, "310101021"}, 200, 1400,
          "FREQ=DAILY", 840);
  b.Offer("fresh-express", "meal-delivery", "生鲜半成品到家", {street}, 80, 560, "FREQ=DAILY", 840);
  b.Offer("leiyunshang-pharmacy", "medical", "药品配送", {street}, 40, 280, "FREQ=DAILY", 720);
  b.Offer("huashi-pharmacy", "medical", "慢病配药代办", {street}, 30, 210, "FREQ=DAILY", 720);

  // About 300 workers and volunteers.
  int worker = 0;
  auto staff = [&](const std::string& org, int count, std::vector<std::string> skills) {
    for (int i = 0; i < count; ++i) b.Worker(org, worker++, false, skills);
  };
  // Enough carers for the promises below: long-term care is an hour at home three to seven times
  // a week for about 4,000 elders, meals a 10-minute drop three times a week.
  staff("wlq-care-home", 500, {"nursing", "bathing"});
  staff("wlq-elder-hub", 20, {"visiting", "errands"});
  staff("wlq-canteen-1", 300, {"meal-delivery"});
  staff("wlq-health-centre", 15, {"nursing", "medical"});
  staff("yinfa-bathing", 12, {"bathing"});
  staff("linjia-cleaning", 12, {"cleaning"});
  staff("lelin-social-work", 120, {"visiting", "mental-health"});
  staff("anxin-homeservice", 10, {"cleaning"});
  staff("jiajie-homeservice", 10, {"cleaning"});
  for (size_t i = 0; i < committee_codes.size(); ++i) {
    const std::string team = absl::StrCat("c", i + 1, "-volunteers");
    for (int k = 0; k < 9; ++k) b.Worker(team, worker++, true, {"visiting"});
  }

  // Elders: shares as in central Shanghai streets (about 15% alone, 2% without family, a third
  // in elders-only households; one in five assessed for long-term care).
  for (int i = 0; i < elders; ++i) {
    Rng& rng = b.rng;
    CreateElderRequest r;
    Elder* e = r.mutable_elder();
    const int committee = rng.Uniform(static_cast<int>(committee_codes.size()));
    e->set_region("regions/" + committee_codes[committee]);
    e->set_display_name(absl::StrCat(kSurnames[rng.Uniform(20)], kGiven[rng.Uniform(20)]));
    // (year, sequence) is unique per elder, so no two demo elders share an ID number.
    const int year = 1928 + (i / 1000) % 38, month = 1 + rng.Uniform(12), day = 1 + rng.Uniform(28);
    const int sequence = i % 1000;
    e->set_id_number(
        WithCheckDigit(absl::StrFormat("310101%04d%02d%02d%03d", year, month, day, sequence)));
    e->set_phone(absl::StrFormat("13%d%08d", 5 + rng.Uniform(5), i * 37 % 100000000));
    e->set_address(absl::StrCat("上海市黄浦区", kRoads[rng.Uniform(10)], 1 + rng.Uniform(600), "弄",
                                1 + rng.Uniform(40), "号", 1 + rng.Uniform(6),
                                absl::StrFormat("%02d", 1 + rng.Uniform(4)), "室"));
    *e->mutable_location() = Near(rng, 0.012);
    const double u = rng.Unit();
    e->set_living_situation(u < 0.15   ? LIVING_SITUATION_ALONE
                            : u < 0.17 ? LIVING_SITUATION_NO_FAMILY
                            : u < 0.52 ? LIVING_SITUATION_ELDERS_ONLY
                                       : LIVING_SITUATION_WITH_FAMILY);
    if (rng.Unit() < 0.2) {
      const int grade = 1 + rng.Uniform(6);
      e->set_care_grade(grade);
      e->set_assessment_date(
          absl::StrFormat("2026-%02d-%02d", 1 + rng.Uniform(10), 1 + rng.Uniform(28)));
      if (grade >= 2) e->add_needs("serviceTypes/ltc-home-care");
    }
    if (rng.Unit() < 0.3) e->add_needs("serviceTypes/meal");
    if (e->living_situation() == LIVING_SITUATION_ALONE ||
        e->living_situation() == LIVING_SITUATION_NO_FAMILY) {
      e->add_needs("serviceTypes/visiting");
    }
    if (e->living_situation() != LIVING_SITUATION_NO_FAMILY) {
      Contact* c = e->add_contacts();
      c->set_display_name(absl::StrCat(kSurnames[rng.Uniform(20)], kGiven[rng.Uniform(20)]));
      c->set_relationship(rng.Uniform(2) ? "女儿" : "儿子");
      c->set_phone(absl::StrFormat("13%d%08d", 5 + rng.Uniform(5), (i * 53 + 7) % 100000000));
      c->set_proxy(true);
    }
    for (ConsentPurpose p : {CONSENT_PURPOSE_PERSONAL_DATA, CONSENT_PURPOSE_HEALTH_DATA}) {
      Consent* consent = e->add_consents();
      consent->set_purpose(p);
      consent->set_granted(true);
      consent->set_recorded_by("demo");
    }
    r.set_request_id(absl::StrCat("demo-elder-", i));
    b.street.elders.push_back(std::move(r));
  }
  return std::move(b.street);
}

absl::CivilDay WeekStart(absl::CivilDay day) {
  // absl::Weekday counts from Monday = 0.
  return day - static_cast<int>(absl::GetWeekday(day));
}

DemoCalendar DemoCalendarFor(absl::CivilDay today, std::optional<absl::CivilDay> pinned) {
  DemoCalendar calendar;
  if (pinned.has_value()) {
    calendar.week_start = WeekStart(*pinned);
    calendar.visits_from = calendar.week_start;
  } else {
    calendar.week_start = WeekStart(today);
    calendar.visits_from = today;
  }
  calendar.valid_from = calendar.week_start - 7 * kDemoHistoryWeeks;
  calendar.visit_days = static_cast<int>(calendar.week_start + 14 - calendar.visits_from);
  return calendar;
}

std::vector<scheduling::v1::CreateCommitmentRequest> DemoCommitments(
    const DemoStreet& street, const std::vector<std::string>& elder_names,
    const DemoCalendar& calendar) {
  const std::string valid_from = absl::FormatCivilTime(calendar.valid_from);
  // The recurrences start on the promises' first day, a Monday.
  const std::string monday = absl::FormatCivilTime(calendar.valid_from);
  std::vector<scheduling::v1::CreateCommitmentRequest> out;
  const size_t n = std::min(street.elders.size(), elder_names.size());
  auto add = [&](size_t i, const std::string& kind, const std::string& service,
                 const std::string& owner, const std::string& programme) {
    scheduling::v1::CreateCommitmentRequest r;
    scheduling::v1::Commitment* c = r.mutable_commitment();
    c->set_elder(elder_names[i]);
    c->set_service_type("serviceTypes/" + service);
    c->set_owner_organisation("organisations/" + owner);
    c->set_funding_programme(programme);
    c->set_valid_from(valid_from);
    c->set_tolerance_minutes(15);
    r.set_request_id(absl::StrCat("demo-commitment-", kind, "-", i));
    out.push_back(std::move(r));
    return c;
  };
  for (size_t i = 0; i < n; ++i) {
    const registry::v1::Elder& e = street.elders[i].elder();
    if (elder_names[i].empty()) continue;
    if (e.has_care_grade() && e.care_grade() >= 2) {
      scheduling::v1::Commitment* c = add(i, "ltc", "ltc-home-care", "wlq-care-home", "长护险");
      c->set_care_grade(e.care_grade());  // the grade's days and hour; the time of day spread
      c->mutable_recurrence()->set_dtstart(absl::StrFormat("%sT%02d:00:00", monday, 8 + i % 7));
      c->add_required_skills("nursing");
    }
    if (e.living_situation() == registry::v1::LIVING_SITUATION_ALONE ||
        e.living_situation() == registry::v1::LIVING_SITUATION_NO_FAMILY) {
      scheduling::v1::Commitment* c =
          add(i, "visit", "visiting", "lelin-social-work", "政府购买服务");
      // Weekly, on a weekday that depends on the elder, 14:00-16:00, one hour.
      static constexpr const char* kDays[] = {"MO", "TU", "WE", "TH", "FR"};
      c->mutable_recurrence()->set_rrule(absl::StrCat("FREQ=WEEKLY;BYDAY=", kDays[i % 5]));
      c->mutable_recurrence()->set_dtstart(monday + "T14:00:00");
      c->set_window_minutes(120);
      c->set_duration_minutes(60);
    }
    for (const std::string& need : e.needs()) {
      if (need != "serviceTypes/meal") continue;
      scheduling::v1::Commitment* c = add(i, "meal", "meal-delivery", "wlq-canteen-1", "助餐补贴");
      c->mutable_recurrence()->set_rrule("FREQ=WEEKLY;BYDAY=MO,WE,FR");
      c->mutable_recurrence()->set_dtstart(monday + "T10:30:00");
      c->set_window_minutes(120);
      c->set_duration_minutes(10);
      c->add_required_skills("meal-delivery");
    }
    // A bath given by two carers together, weekly, for some of the most dependent elders.
    if (e.has_care_grade() && e.care_grade() >= 5 && i % 8 == 0) {
      scheduling::v1::Commitment* c = add(i, "bath", "bathing", "yinfa-bathing", "长护险");
      c->mutable_recurrence()->set_rrule(i % 16 == 0 ? "FREQ=WEEKLY;BYDAY=TU"
                                                     : "FREQ=WEEKLY;BYDAY=TH");
      c->mutable_recurrence()->set_dtstart(monday + "T09:00:00");
      c->set_window_minutes(240);
      c->set_duration_minutes(60);
      c->set_workers_required(2);
      c->mutable_synchronisation()->set_type(scheduling::v1::SYNCHRONISATION_TYPE_SIMULTANEOUS);
      c->add_required_skills("bathing");
    }
  }
  return out;
}

namespace {

// A generator of its own for each promise's occurrence: the history of one visit does not depend
// on how many were drawn before it.
Rng OccurrenceRng(int index, const std::string& key) {
  uint64_t h = 14695981039346656037ULL;  // FNV-1a
  for (unsigned char ch : key) h = (h ^ ch) * 1099511628211ULL;
  return Rng(h ^ (0x9E3779B97F4A7C15ULL * static_cast<uint64_t>(index + 1)));
}

google::protobuf::Timestamp At(absl::Time t) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(absl::ToUnixSeconds(t));
  return ts;
}

absl::Time FromTs(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds());
}

// Near the elder's home: within about 30 m, or (away) about 700 m off.
common::v1::LatLng Around(const common::v1::LatLng& home, Rng& rng, bool away) {
  common::v1::LatLng p;
  const double spread = away ? 0.0065 : 0.0003;
  p.set_latitude(home.latitude() +
                 (rng.Unit() < 0.5 ? -spread : spread) * (0.9 + 0.1 * rng.Unit()));
  p.set_longitude(home.longitude() + (rng.Unit() - 0.5) * 0.0003);
  return p;
}

}  // namespace

std::vector<scheduling::v1::ImportedVisit> DemoVisitHistory(
    const scheduling::v1::Commitment& commitment, int index,
    const std::vector<PastOccurrence>& occurrences, const std::vector<std::string>& workers) {
  std::vector<scheduling::v1::ImportedVisit> rows;
  if (workers.empty()) return rows;
  const int team = std::max(1, commitment.workers_required());
  const size_t familiar = static_cast<size_t>(index) % workers.size();
  const bool meal = commitment.service_type() == "serviceTypes/meal-delivery";
  for (const PastOccurrence& o : occurrences) {
    Rng rng = OccurrenceRng(index, o.key);
    scheduling::v1::ImportedVisit row;
    row.set_commitment(commitment.name());
    row.set_occurrence(o.key);
    const double fate = rng.Unit();
    if (fate < 0.02) {
      row.set_state(scheduling::v1::VISIT_STATE_CANCELLED);
      row.set_reason_code(meal ? "ELDER_AWAY" : "ELDER_IN_HOSPITAL");
      rows.push_back(std::move(row));
      continue;
    }
    if (fate < 0.04) {
      row.set_state(scheduling::v1::VISIT_STATE_MISSED);
      rows.push_back(std::move(row));
      continue;
    }
    row.set_state(scheduling::v1::VISIT_STATE_COMPLETED);
    // Arrival: mostly early in the window, some after window and tolerance.
    const double timing = rng.Unit();
    absl::Duration offset =
        absl::Minutes(rng.Uniform(std::max(1, commitment.window_minutes() / 2)));
    if (timing < 0.08) {
      offset = absl::Minutes(commitment.window_minutes() + commitment.tolerance_minutes() + 10 +
                             rng.Uniform(40));
    }
    const bool away = rng.Unit() < 0.025;
    absl::Duration stay = absl::Minutes(commitment.duration_minutes()) * (0.85 + 0.3 * rng.Unit());
    if (rng.Unit() < 0.03) stay = absl::Minutes(commitment.duration_minutes()) * 0.35;
    // The familiar worker, now and then a colleague; a team is the next ones on the list.
    size_t first = familiar;
    if (rng.Unit() < 0.12) first = (familiar + 1 + rng.Uniform(3)) % workers.size();
    const absl::Time in = o.window_start + offset;
    for (int k = 0; k < team && k < static_cast<int>(workers.size()); ++k) {
      scheduling::v1::ImportedAttendance* a = row.add_attendance();
      a->set_worker(workers[(first + k) % workers.size()]);
      const absl::Time arrived = in + absl::Minutes(k == 0 ? 0 : rng.Uniform(4));
      *a->mutable_check_in_time() = At(arrived);
      *a->mutable_check_out_time() = At(in + stay + absl::Minutes(k == 0 ? 2 : rng.Uniform(2)));
      if (commitment.has_home()) {
        *a->mutable_check_in_location() = Around(commitment.home(), rng, away);
        *a->mutable_check_out_location() = Around(commitment.home(), rng, false);
      }
      a->set_method(commitment.has_home() ? scheduling::v1::CHECK_METHOD_APP_GPS
                                          : scheduling::v1::CHECK_METHOD_PHONE);
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<feedback::v1::ImportedFeedback> DemoAnswers(
    const scheduling::v1::Commitment& commitment, int index,
    const std::vector<scheduling::v1::ImportedVisit>& rows, const std::vector<std::string>& visits,
    absl::Time now) {
  static constexpr const char* kPraise[] = {"阿姨很细心", "准时来的，谢谢", "服务很好", ""};
  static constexpr const char* kComplaint[] = {"来得太晚了", "做得很匆忙", "不是平时那位"};
  std::vector<feedback::v1::ImportedFeedback> out;
  for (size_t i = 0; i < rows.size() && i < visits.size(); ++i) {
    const scheduling::v1::ImportedVisit& row = rows[i];
    if (visits[i].empty() || row.state() != scheduling::v1::VISIT_STATE_COMPLETED) continue;
    Rng rng = OccurrenceRng(index + 1000003, row.occurrence());
    if (rng.Unit() >= 0.33) continue;
    absl::Time left = absl::InfinitePast();
    for (const auto& a : row.attendance()) left = std::max(left, FromTs(a.check_out_time()));
    const absl::Time given = left + absl::Minutes(120 + rng.Uniform(22 * 60));
    if (given > now) continue;
    feedback::v1::ImportedFeedback answer;
    feedback::v1::Feedback* f = answer.mutable_feedback();
    f->set_visit(visits[i]);
    f->set_author(commitment.elder());
    f->set_channel(rng.Unit() < 0.7 ? feedback::v1::FEEDBACK_CHANNEL_PHONE_CALL
                                    : feedback::v1::FEEDBACK_CHANNEL_DOOR_VISIT);
    const double mood = rng.Unit();
    if (mood < 0.004) {
      // "Nobody came", against a recorded visit: the contradiction the street must look at.
      f->set_nobody_came(true);
      f->set_faces(1);
      f->set_did_as_promised(feedback::v1::ANSWER_NO);
      f->set_felt_cared_for(feedback::v1::ANSWER_NO);
      f->set_words("没有人来过");
    } else if (mood < 0.10) {
      f->set_faces(1 + rng.Uniform(2));
      f->set_did_as_promised(rng.Unit() < 0.5 ? feedback::v1::ANSWER_PARTLY
                                              : feedback::v1::ANSWER_NO);
      f->set_felt_cared_for(feedback::v1::ANSWER_PARTLY);
      f->set_words(kComplaint[rng.Uniform(3)]);
    } else if (mood < 0.25) {
      f->set_faces(3);
      f->set_did_as_promised(feedback::v1::ANSWER_YES);
      f->set_felt_cared_for(feedback::v1::ANSWER_PARTLY);
    } else {
      f->set_faces(4 + rng.Uniform(2));
      f->set_did_as_promised(feedback::v1::ANSWER_YES);
      f->set_felt_cared_for(feedback::v1::ANSWER_YES);
      f->set_words(kPraise[rng.Uniform(4)]);
    }
    *answer.mutable_answer_time() = At(given);
    out.push_back(std::move(answer));
  }
  return out;
}

}  // namespace linli::demo
