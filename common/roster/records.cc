#include "common/roster/records.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "linli/feedback/v1/feedback.pb.h"
#include "linli/gateway/v1/console.pb.h"
#include "linli/registry/v1/registry.pb.h"
#include "linli/scheduling/v1/scheduling.pb.h"

namespace linli::roster {
namespace {

namespace reg = registry::v1;
namespace sch = scheduling::v1;
namespace fb = feedback::v1;

const std::vector<Column> kOrganisationColumns = {
    {"编号", "id", "organisation.id", "wlq-elder-canteen",
     "编号必填：1～64 个小写字母、数字或“-”，不与别的单位重复", true},
    {"名称", "display_name", "organisation.display_name", "五里桥长者食堂",
     "名称必填，最多 128 个字", true},
    {"类型", "kind", "organisation.kind", "养老机构",
     "类型应为：政府部门、街道办事处、街道科室、公共服务中心、养老机构、议事组织、居委会、业委会、"
     "物业公司、社会组织、社会企业、商业服务商、志愿者队伍、自治团队、社区基金会、热线",
     true},
    {"性质", "sector", "organisation.sector", "社会", "性质应为：公共、商业、社会", true},
    {"所在区域", "region", "organisation.region", "310101020",
     "所在区域应为已登记的区域编码（如 310101020），且在你的辖区内", true},
    {"条线", "lines", "organisation.lines", "civil-affairs",
     "条线应为已登记的条线编号，多个用分号分隔", false},
    {"上级单位", "parent", "organisation.parent", "wlq-service-office",
     "上级单位应为已登记（或本表前面几行）的单位编号", false},
    {"统一社会信用代码", "credit_code", "organisation.credit_code", "52310101MJ50001234",
     "统一社会信用代码应为 18 位数字或大写字母，末位校验码正确，且不与别的单位重复", false},
    {"纬度", "latitude", "organisation.location.latitude", "31.2035", "纬度应为 -90 到 90 之间的数",
     false},
    {"经度", "longitude", "organisation.location.longitude", "121.4862",
     "经度应为 -180 到 180 之间的数", false},
};

const std::vector<Column> kRelationColumns = {
    {"单位", "source", "relation.source", "wlq-service-office",
     "单位应为已登记的单位编号（如 wlq-elder-canteen），不是单位名称", true},
    {"关系", "type", "relation.type", "资助",
     "关系应为：行政隶属、条线指导、联席会议成员、资助、合作、服务片区", true},
    {"对象", "target", "relation.target", "wlq-elder-canteen",
     "对象应为已登记的单位编号；关系为“服务片区”时填区域编码", true},
    {"备注", "note", "relation.note", "政府购买服务", "备注最多 256 个字", false},
};

const std::vector<Column> kOfferingColumns = {
    {"单位", "organisation", "offering.organisation", "wlq-elder-canteen",
     "单位应为已登记的单位编号（如 wlq-elder-canteen），不是单位名称", true},
    {"服务类型", "service_type", "offering.service_type", "meal-delivery",
     "服务类型应为已登记的服务类型编码，如 meal-delivery", true},
    {"名称", "display_name", "offering.display_name", "五里桥长者食堂 午餐送餐",
     "名称最多 128 个字", false},
    {"服务范围", "covered_regions", "offering.covered_regions", "310101020",
     "服务范围应为已登记的区域编码，多个用分号分隔，且在你的辖区内", true},
    {"每日容量", "capacity_per_day", "offering.capacity_per_day", "40",
     "每日容量应为不小于 0 的整数，0 为不限", false},
    {"每周容量", "capacity_per_week", "offering.capacity_per_week", "200",
     "每周容量应为不小于 0 的整数，0 为不限", false},
    {"开放规则", "rrule", "offering.schedule.rrule", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
     "开放规则应为 RFC 5545 的重复规则，如 FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", false},
    {"开始时间", "dtstart", "offering.schedule.dtstart", "2026-01-05T10:30:00",
     "开始时间应为 YYYY-MM-DDTHH:MM:SS 格式的本地时间", false},
    {"时长（分钟）", "duration_minutes", "offering.schedule.duration_minutes", "120",
     "时长应为 1 到 1440 的整数（分钟）", false},
    {"所需技能", "required_skills", "offering.required_skills", "meal-delivery",
     "所需技能多个用分号分隔", false},
};

const std::vector<Column> kWorkerColumns = {
    {"姓名", "display_name", "worker.display_name", "李梅", "姓名必填", true},
    {"单位", "organisation", "worker.organisation", "wlq-elder-canteen",
     "单位应为已登记的单位编号（如 wlq-elder-canteen），不是单位名称", true},
    {"电话", "phone", "worker.phone", "13700001234",
     "电话必填：11 位手机号，或 0 开头的区号加“-”和 7～8 位号码；同一单位内不重复", true},
    {"志愿者", "volunteer", "worker.volunteer", "否", "志愿者填“是”或“否”", false},
    {"技能", "skills", "worker.skills", "meal-delivery;visiting", "技能多个用分号分隔", false},
    {"可服务规则", "availability_rrule", "worker.availability.rrule",
     "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
     "可服务规则应为 RFC 5545 的重复规则，如 FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", false},
    {"可服务开始", "availability_dtstart", "worker.availability.dtstart", "2026-01-05T08:00:00",
     "可服务开始应为 YYYY-MM-DDTHH:MM:SS 格式的本地时间", false},
    {"可服务时长（分钟）", "availability_minutes", "worker.availability.duration_minutes", "540",
     "可服务时长应为 1 到 1440 的整数（分钟）", false},
    {"出发地纬度", "base_latitude", "worker.base_location.latitude", "31.2035",
     "出发地纬度应为 -90 到 90 之间的数", false},
    {"出发地经度", "base_longitude", "worker.base_location.longitude", "121.4862",
     "出发地经度应为 -180 到 180 之间的数", false},
    {"状态", "status", "worker.status", "在岗", "状态应为：在岗、暂停、离职", false},
};

const std::vector<Column> kCommitmentColumns = {
    {"身份证号", "id_number", "commitment.elder", "310101194503121238",
     "身份证号必填：已登记、在你辖区内的老人的 18 位身份证号", true},
    {"服务类型", "service_type", "commitment.service_type", "meal-delivery",
     "服务类型应为已登记的服务类型编码，如 meal-delivery", true},
    {"服务单位", "owner_organisation", "commitment.owner_organisation", "wlq-elder-canteen",
     "服务单位应为已登记的单位编号（如 wlq-elder-canteen），不是单位名称", true},
    {"开始日期", "valid_from", "commitment.valid_from", "2026-12-07",
     "开始日期必填，格式为 YYYY-MM-DD", true},
    {"结束日期", "valid_until", "commitment.valid_until", "",
     "结束日期格式为 YYYY-MM-DD，不早于开始日期", false},
    {"资金来源", "funding_programme", "commitment.funding_programme", "助餐补贴",
     "资金来源最多 64 个字", false},
    {"照护等级", "care_grade", "commitment.care_grade", "",
     "照护等级应为 0 到 6 的整数；2～6 级未填重复规则时按长护险默认频次", false},
    {"重复规则", "rrule", "commitment.recurrence.rrule", "FREQ=WEEKLY;BYDAY=MO,WE,FR",
     "重复规则应为 RFC 5545 的重复规则，如 FREQ=WEEKLY;BYDAY=MO,WE,FR；未填照护等级时必填", false},
    {"首次时间", "dtstart", "commitment.recurrence.dtstart", "2026-12-07T10:30:00",
     "首次时间应为 YYYY-MM-DDTHH:MM:SS 格式的本地时间", false},
    {"时间窗（分钟）", "window_minutes", "commitment.window_minutes", "120",
     "时间窗应为 0 到 1440 的整数（分钟）：上门可以在这段时间内开始", false},
    {"时长（分钟）", "duration_minutes", "commitment.duration_minutes", "10",
     "时长应为 1 到 1440 的整数（分钟）", false},
    {"人数", "workers_required", "commitment.workers_required", "1",
     "人数应为 1 或 2；2 人时两人同时开始", false},
    {"所需技能", "required_skills", "commitment.required_skills", "meal-delivery",
     "所需技能多个用分号分隔", false},
    {"容差（分钟）", "tolerance_minutes", "commitment.tolerance_minutes", "15",
     "容差应为不小于 0 的整数（分钟）：晚到多久仍算准时", false},
};

const std::vector<Column> kVisitColumns = {
    {"身份证号", "id_number", "visit.elder", "310101194503121238",
     "身份证号必填：已登记、在你辖区内的老人的 18 位身份证号", true},
    {"服务类型", "service_type", "visit.service_type", "meal-delivery",
     "服务类型应为已登记的服务类型编码，如 meal-delivery", true},
    {"服务单位", "owner_organisation", "visit.owner_organisation", "wlq-elder-canteen",
     "服务单位应为已登记的单位编号（如 wlq-elder-canteen），不是单位名称", true},
    {"计划时间", "occurrence", "visit.occurrence", "2026-11-02T10:30:00",
     "计划时间必填：该老人这项服务承诺排定的一次上门，格式 YYYY-MM-DDTHH:MM:SS，且已经过去", true},
    {"结果", "outcome", "visit.state", "完成", "结果应为：完成、未上门、取消", true},
    {"工作人员电话", "worker_phones", "visit.attendance.worker", "13700001234",
     "完成的上门必填：上门人员在服务单位登记的电话，两人上门用分号分隔；未上门或取消的不填", false},
    {"到达时间", "check_in_times", "visit.attendance.check_in_time", "2026-11-02 10:41",
     "到达时间应为 YYYY-MM-DD HH:MM（北京时间），每位上门人员一个，用分号分隔，且已经过去", false},
    {"离开时间", "check_out_times", "visit.attendance.check_out_time", "2026-11-02 10:52",
     "离开时间应为 YYYY-MM-DD HH:MM（北京时间），不早于到达时间，每位上门人员一个，用分号分隔",
     false},
    {"到达纬度", "check_in_latitudes", "visit.attendance.check_in_location.latitude", "31.2031",
     "到达纬度应为 -90 到 90 之间的数，每位上门人员一个，用分号分隔", false},
    {"到达经度", "check_in_longitudes", "visit.attendance.check_in_location.longitude", "121.4871",
     "到达经度应为 -180 到 180 之间的数，每位上门人员一个，用分号分隔", false},
    {"签到方式", "method", "visit.attendance.method", "机构记录",
     "签到方式应为：机构记录、手机定位、电话、家属代签；不填按机构记录", false},
    {"取消原因", "reason_code", "visit.reason_code", "",
     "取消的上门必填：原因代码，2～32 位大写字母、数字或下划线，如 ELDER_IN_HOSPITAL", false},
};

const std::vector<Column> kAnswerColumns = {
    {"身份证号", "id_number", "visit.elder", "310101194503121238",
     "身份证号必填：已登记、在你辖区内的老人的 18 位身份证号", true},
    {"服务类型", "service_type", "visit.service_type", "meal-delivery",
     "服务类型应为已登记的服务类型编码，如 meal-delivery", true},
    {"服务单位", "owner_organisation", "visit.owner_organisation", "wlq-elder-canteen",
     "服务单位应为已登记的单位编号（如 wlq-elder-canteen），不是单位名称", true},
    {"计划时间", "occurrence", "visit.occurrence", "2026-11-02T10:30:00",
     "计划时间必填：所评价那次上门的计划时间，格式 "
     "YYYY-MM-DDTHH:MM:SS；这次上门须已完成（已签到或已导入）",
     true},
    {"评价时间", "answer_time", "feedback.answer_time", "2026-11-02 15:00",
     "评价时间必填：YYYY-MM-DD HH:MM（北京时间），不早于上门签到，不晚于现在", true},
    {"满意度", "faces", "feedback.faces", "5", "满意度应为 1 到 5 的整数（5 最满意）", true},
    {"按约服务", "did_as_promised", "feedback.did_as_promised", "是", "按约服务应为：是、部分、否",
     false},
    {"感到关心", "felt_cared_for", "feedback.felt_cared_for", "是", "感到关心应为：是、部分、否",
     false},
    {"说没人来", "nobody_came", "feedback.nobody_came", "否", "说没人来填“是”或“否”", false},
    {"评价方式", "channel", "feedback.channel", "电话",
     "评价方式应为：电话、上门、应用；不填按电话", false},
    {"留言", "words", "feedback.words", "送餐准时，饭菜是热的", "留言最多 500 个字", false},
};

const std::map<std::string, int>& Answers() {
  static const auto* words = new std::map<std::string, int>{
      {"是", fb::ANSWER_YES},  {"部分", fb::ANSWER_PARTLY},   {"否", fb::ANSWER_NO},
      {"yes", fb::ANSWER_YES}, {"partly", fb::ANSWER_PARTLY}, {"no", fb::ANSWER_NO},
  };
  return *words;
}

const std::map<std::string, int>& AnswerChannels() {
  static const auto* words = new std::map<std::string, int>{
      {"电话", fb::FEEDBACK_CHANNEL_PHONE_CALL},
      {"上门", fb::FEEDBACK_CHANNEL_DOOR_VISIT},
      {"应用", fb::FEEDBACK_CHANNEL_APP},
      {"phone_call", fb::FEEDBACK_CHANNEL_PHONE_CALL},
      {"door_visit", fb::FEEDBACK_CHANNEL_DOOR_VISIT},
      {"app", fb::FEEDBACK_CHANNEL_APP},
  };
  return *words;
}

const std::map<std::string, int>& VisitOutcomes() {
  static const auto* words = new std::map<std::string, int>{
      {"完成", sch::VISIT_STATE_COMPLETED},   {"已完成", sch::VISIT_STATE_COMPLETED},
      {"未上门", sch::VISIT_STATE_MISSED},    {"取消", sch::VISIT_STATE_CANCELLED},
      {"已取消", sch::VISIT_STATE_CANCELLED}, {"completed", sch::VISIT_STATE_COMPLETED},
      {"missed", sch::VISIT_STATE_MISSED},    {"cancelled", sch::VISIT_STATE_CANCELLED},
  };
  return *words;
}

const std::map<std::string, int>& CheckMethods() {
  static const auto* words = new std::map<std::string, int>{
      {"机构记录", sch::CHECK_METHOD_PARTNER_REPORT},
      {"手机定位", sch::CHECK_METHOD_APP_GPS},
      {"电话", sch::CHECK_METHOD_PHONE},
      {"家属代签", sch::CHECK_METHOD_FAMILY_PROXY},
      {"partner_report", sch::CHECK_METHOD_PARTNER_REPORT},
      {"app_gps", sch::CHECK_METHOD_APP_GPS},
      {"phone", sch::CHECK_METHOD_PHONE},
      {"family_proxy", sch::CHECK_METHOD_FAMILY_PROXY},
  };
  return *words;
}

const std::map<std::string, int>& OrganisationKinds() {
  static const auto* words = new std::map<std::string, int>{
      {"政府部门", reg::ORGANISATION_KIND_GOVERNMENT},
      {"街道办事处", reg::ORGANISATION_KIND_STREET_OFFICE},
      {"街道科室", reg::ORGANISATION_KIND_STREET_OFFICE_DEPARTMENT},
      {"公共服务中心", reg::ORGANISATION_KIND_PUBLIC_CENTRE},
      {"养老机构", reg::ORGANISATION_KIND_ELDER_CARE_FACILITY},
      {"议事组织", reg::ORGANISATION_KIND_DELIBERATIVE_BODY},
      {"居委会", reg::ORGANISATION_KIND_NEIGHBOURHOOD_COMMITTEE},
      {"业委会", reg::ORGANISATION_KIND_OWNERS_COMMITTEE},
      {"物业公司", reg::ORGANISATION_KIND_PROPERTY_COMPANY},
      {"社会组织", reg::ORGANISATION_KIND_SOCIAL_ORGANISATION},
      {"社会企业", reg::ORGANISATION_KIND_SOCIAL_ENTERPRISE},
      {"商业服务商", reg::ORGANISATION_KIND_COMMERCIAL_PROVIDER},
      {"志愿者队伍", reg::ORGANISATION_KIND_VOLUNTEER_TEAM},
      {"自治团队", reg::ORGANISATION_KIND_SELF_GOVERNANCE_TEAM},
      {"社区基金会", reg::ORGANISATION_KIND_COMMUNITY_FOUNDATION},
      {"热线", reg::ORGANISATION_KIND_HOTLINE},
  };
  // The English words: the enum's names without their prefix, lower case ("street_office").
  static const auto* all = [] {
    auto* both = new std::map<std::string, int>(*words);
    const auto* type = reg::OrganisationKind_descriptor();
    for (int i = 1; i < type->value_count(); ++i) {
      both->emplace(
          absl::AsciiStrToLower(absl::StripPrefix(type->value(i)->name(), "ORGANISATION_KIND_")),
          type->value(i)->number());
    }
    return both;
  }();
  return *all;
}

const std::map<std::string, int>& Sectors() {
  static const auto* words = new std::map<std::string, int>{
      {"公共", reg::SECTOR_PUBLIC},           {"商业", reg::SECTOR_COMMERCIAL},
      {"社会", reg::SECTOR_SOCIAL},           {"public", reg::SECTOR_PUBLIC},
      {"commercial", reg::SECTOR_COMMERCIAL}, {"social", reg::SECTOR_SOCIAL},
  };
  return *words;
}

const std::map<std::string, int>& RelationTypes() {
  static const auto* words = new std::map<std::string, int>{
      {"行政隶属", reg::RELATION_TYPE_ADMINISTRATIVE},
      {"条线指导", reg::RELATION_TYPE_LINE_GUIDANCE},
      {"联席会议成员", reg::RELATION_TYPE_JOINT_MEETING_MEMBER},
      {"资助", reg::RELATION_TYPE_FUNDS},
      {"合作", reg::RELATION_TYPE_PARTNER},
      {"服务片区", reg::RELATION_TYPE_SERVES_REGION},
      {"administrative", reg::RELATION_TYPE_ADMINISTRATIVE},
      {"line_guidance", reg::RELATION_TYPE_LINE_GUIDANCE},
      {"joint_meeting_member", reg::RELATION_TYPE_JOINT_MEETING_MEMBER},
      {"funds", reg::RELATION_TYPE_FUNDS},
      {"partner", reg::RELATION_TYPE_PARTNER},
      {"serves_region", reg::RELATION_TYPE_SERVES_REGION},
  };
  return *words;
}

const std::map<std::string, int>& WorkerStatuses() {
  static const auto* words = new std::map<std::string, int>{
      {"在岗", reg::WORKER_STATUS_ACTIVE},       {"暂停", reg::WORKER_STATUS_INACTIVE},
      {"离职", reg::WORKER_STATUS_LEFT},         {"active", reg::WORKER_STATUS_ACTIVE},
      {"inactive", reg::WORKER_STATUS_INACTIVE}, {"left", reg::WORKER_STATUS_LEFT},
  };
  return *words;
}

const std::map<std::string, int>& YesNo() {
  static const auto* words = new std::map<std::string, int>{
      {"是", 1}, {"否", 0}, {"yes", 1}, {"no", 0}, {"true", 1}, {"false", 0}, {"1", 1}, {"0", 0},
  };
  return *words;
}

// "organisations/{id}" from a cell holding the id, with or without the prefix.
std::string OrganisationCell(absl::string_view cell) {
  return absl::StrCat("organisations/", absl::StripPrefix(cell, "organisations/"));
}

std::string IdOf(absl::string_view name) {
  const size_t slash = name.find('/');
  return std::string(slash == absl::string_view::npos ? name : name.substr(slash + 1));
}

// A latitude or longitude into `set` (a setter of LatLng).
std::optional<std::string> Coordinate(absl::string_view cell, common::v1::LatLng& point,
                                      void (common::v1::LatLng::*set)(double)) {
  double value;
  if (!absl::SimpleAtod(cell, &value)) return "must be a number";
  (point.*set)(value);
  return std::nullopt;
}

std::optional<std::string> Count(absl::string_view cell, int32_t* out) {
  if (!absl::SimpleAtoi(cell, out) || *out < 0) return "must be a whole number, 0 or more";
  return std::nullopt;
}

// A schedule's column ("….rrule", "….dtstart", "….duration_minutes").
std::optional<std::string> FillSchedule(absl::string_view field, absl::string_view cell,
                                        reg::Schedule& schedule) {
  if (absl::EndsWith(field, ".rrule")) {
    schedule.set_rrule(std::string(cell));
  } else if (absl::EndsWith(field, ".dtstart")) {
    schedule.set_dtstart(std::string(cell));
  } else {
    int32_t minutes;
    if (!absl::SimpleAtoi(cell, &minutes)) return "must be a whole number of minutes";
    schedule.set_duration_minutes(minutes);
  }
  return std::nullopt;
}

std::optional<std::string> FillOrganisation(const Column& column, absl::string_view cell,
                                            google::protobuf::Message& record) {
  reg::Organisation& o = static_cast<reg::Organisation&>(record);
  const absl::string_view field = column.field;
  if (field == "organisation.id") {
    o.set_id(IdOf(cell));
  } else if (field == "organisation.display_name") {
    o.set_display_name(std::string(cell));
  } else if (field == "organisation.kind") {
    std::optional<int> kind = WordCell(OrganisationKinds(), cell);
    if (!kind) return "must be " + WordList(OrganisationKinds());
    o.set_kind(static_cast<reg::OrganisationKind>(*kind));
  } else if (field == "organisation.sector") {
    std::optional<int> sector = WordCell(Sectors(), cell);
    if (!sector) return "must be " + WordList(Sectors());
    o.set_sector(static_cast<reg::Sector>(*sector));
  } else if (field == "organisation.region") {
    std::optional<std::string> region = RegionCell(cell);
    if (!region) return "must be a region's code such as 310101020";
    o.set_region(*region);
  } else if (field == "organisation.lines") {
    for (const std::string& line : Items(cell)) {
      o.add_lines(absl::StrCat("lines/", absl::StripPrefix(line, "lines/")));
    }
  } else if (field == "organisation.parent") {
    o.set_parent(OrganisationCell(cell));
  } else if (field == "organisation.credit_code") {
    o.set_credit_code(std::string(cell));
  } else if (field == "organisation.location.latitude") {
    return Coordinate(cell, *o.mutable_location(), &common::v1::LatLng::set_latitude);
  } else if (field == "organisation.location.longitude") {
    return Coordinate(cell, *o.mutable_location(), &common::v1::LatLng::set_longitude);
  }
  return std::nullopt;
}

std::vector<std::string> OrganisationCells(const google::protobuf::Message& record) {
  const reg::Organisation& o = static_cast<const reg::Organisation&>(record);
  std::vector<std::string> lines;
  for (const std::string& line : o.lines()) lines.push_back(IdOf(line));
  const bool located = o.has_location();
  return {o.id(),
          o.display_name(),
          WordOf(OrganisationKinds(), o.kind()),
          WordOf(Sectors(), o.sector()),
          IdOf(o.region()),
          absl::StrJoin(lines, ";"),
          IdOf(o.parent()),
          o.credit_code(),
          located ? NumberCell(o.location().latitude()) : "",
          located ? NumberCell(o.location().longitude()) : ""};
}

std::optional<std::string> FillRelation(const Column& column, absl::string_view cell,
                                        google::protobuf::Message& record) {
  reg::Relation& r = static_cast<reg::Relation&>(record);
  const absl::string_view field = column.field;
  if (field == "relation.source") {
    r.set_source(OrganisationCell(cell));
  } else if (field == "relation.type") {
    std::optional<int> type = WordCell(RelationTypes(), cell);
    if (!type) return "must be " + WordList(RelationTypes());
    r.set_type(static_cast<reg::RelationType>(*type));
  } else if (field == "relation.target") {
    // A region's code is all digits; anything else names an organisation (one whose id is all
    // digits is written "organisations/123").
    std::optional<std::string> region = RegionCell(cell);
    r.set_target(region && !absl::StartsWith(cell, "organisations/") ? *region
                                                                     : OrganisationCell(cell));
  } else if (field == "relation.note") {
    r.set_note(std::string(cell));
  }
  return std::nullopt;
}

std::vector<std::string> RelationCells(const google::protobuf::Message& record) {
  const reg::Relation& r = static_cast<const reg::Relation&>(record);
  return {IdOf(r.source()), WordOf(RelationTypes(), r.type()), IdOf(r.target()), r.note()};
}

std::optional<std::string> FillOffering(const Column& column, absl::string_view cell,
                                        google::protobuf::Message& record) {
  reg::Offering& o = static_cast<reg::Offering&>(record);
  const absl::string_view field = column.field;
  if (field == "offering.organisation") {
    o.set_organisation(OrganisationCell(cell));
  } else if (field == "offering.service_type") {
    o.set_service_type(absl::StrCat("serviceTypes/", absl::StripPrefix(cell, "serviceTypes/")));
  } else if (field == "offering.display_name") {
    o.set_display_name(std::string(cell));
  } else if (field == "offering.covered_regions") {
    for (const std::string& item : Items(cell)) {
      std::optional<std::string> region = RegionCell(item);
      if (!region) return absl::StrCat("\"", item, "\" is not a region's code such as 310101020");
      o.add_covered_regions(*region);
    }
  } else if (field == "offering.capacity_per_day" || field == "offering.capacity_per_week") {
    int32_t count;
    if (std::optional<std::string> why = Count(cell, &count)) return why;
    if (field == "offering.capacity_per_day") {
      o.set_capacity_per_day(count);
    } else {
      o.set_capacity_per_week(count);
    }
  } else if (absl::StartsWith(field, "offering.schedule.")) {
    return FillSchedule(field, cell, *o.mutable_schedule());
  } else if (field == "offering.required_skills") {
    for (const std::string& skill : Items(cell)) o.add_required_skills(skill);
  }
  return std::nullopt;
}

std::vector<std::string> ScheduleCells(const reg::Schedule& s, bool present) {
  if (!present) return {"", "", ""};
  return {s.rrule(), s.dtstart(), s.duration_minutes() ? absl::StrCat(s.duration_minutes()) : ""};
}

std::vector<std::string> OfferingCells(const google::protobuf::Message& record) {
  const reg::Offering& o = static_cast<const reg::Offering&>(record);
  std::vector<std::string> regions;
  for (const std::string& region : o.covered_regions()) regions.push_back(IdOf(region));
  std::vector<std::string> cells = {IdOf(o.organisation()),
                                    IdOf(o.service_type()),
                                    o.display_name(),
                                    absl::StrJoin(regions, ";"),
                                    absl::StrCat(o.capacity_per_day()),
                                    absl::StrCat(o.capacity_per_week())};
  for (std::string& cell : ScheduleCells(o.schedule(), o.has_schedule())) {
    cells.push_back(std::move(cell));
  }
  cells.push_back(absl::StrJoin(o.required_skills(), ";"));
  return cells;
}

std::optional<std::string> FillWorker(const Column& column, absl::string_view cell,
                                      google::protobuf::Message& record) {
  reg::Worker& w = static_cast<reg::Worker&>(record);
  const absl::string_view field = column.field;
  if (field == "worker.display_name") {
    w.set_display_name(std::string(cell));
  } else if (field == "worker.organisation") {
    w.set_organisation(OrganisationCell(cell));
  } else if (field == "worker.phone") {
    w.set_phone(std::string(cell));
  } else if (field == "worker.volunteer") {
    std::optional<int> yes = WordCell(YesNo(), cell);
    if (!yes) return "must be 是 or 否 (yes or no)";
    w.set_volunteer(*yes == 1);
  } else if (field == "worker.skills") {
    for (const std::string& skill : Items(cell)) w.add_skills(skill);
  } else if (absl::StartsWith(field, "worker.availability.")) {
    return FillSchedule(field, cell, *w.mutable_availability());
  } else if (field == "worker.base_location.latitude") {
    return Coordinate(cell, *w.mutable_base_location(), &common::v1::LatLng::set_latitude);
  } else if (field == "worker.base_location.longitude") {
    return Coordinate(cell, *w.mutable_base_location(), &common::v1::LatLng::set_longitude);
  } else if (field == "worker.status") {
    std::optional<int> status = WordCell(WorkerStatuses(), cell);
    if (!status) return "must be " + WordList(WorkerStatuses());
    w.set_status(static_cast<reg::WorkerStatus>(*status));
  }
  return std::nullopt;
}

std::vector<std::string> WorkerCells(const google::protobuf::Message& record) {
  const reg::Worker& w = static_cast<const reg::Worker&>(record);
  std::vector<std::string> cells = {w.display_name(), IdOf(w.organisation()), w.phone(),
                                    w.volunteer() ? "是" : "否", absl::StrJoin(w.skills(), ";")};
  for (std::string& cell : ScheduleCells(w.availability(), w.has_availability())) {
    cells.push_back(std::move(cell));
  }
  const bool located = w.has_base_location();
  cells.push_back(located ? NumberCell(w.base_location().latitude()) : "");
  cells.push_back(located ? NumberCell(w.base_location().longitude()) : "");
  cells.push_back(WordOf(WorkerStatuses(), w.status()));
  return cells;
}

// A resident ID number as a cell: 17 digits and a digit or X (checked by the registry).
bool LooksLikeIdNumber(absl::string_view cell) {
  if (cell.size() != 18) return false;
  for (size_t i = 0; i < 18; ++i) {
    const char c = cell[i];
    if (!absl::ascii_isdigit(c) && !(i == 17 && (c == 'X' || c == 'x'))) return false;
  }
  return true;
}

std::optional<std::string> FillCommitment(const Column& column, absl::string_view cell,
                                          google::protobuf::Message& record) {
  sch::Commitment& c = static_cast<sch::Commitment&>(record);
  const absl::string_view field = column.field;
  if (field == "commitment.elder") {
    // The ID number stands for the elder until the importer finds the elder's name.
    if (!LooksLikeIdNumber(cell)) return "must be an 18-character resident ID number";
    c.set_elder(absl::AsciiStrToUpper(cell));
  } else if (field == "commitment.service_type") {
    c.set_service_type(absl::StrCat("serviceTypes/", absl::StripPrefix(cell, "serviceTypes/")));
  } else if (field == "commitment.owner_organisation") {
    c.set_owner_organisation(OrganisationCell(cell));
  } else if (field == "commitment.valid_from") {
    c.set_valid_from(std::string(cell));
  } else if (field == "commitment.valid_until") {
    c.set_valid_until(std::string(cell));
  } else if (field == "commitment.funding_programme") {
    c.set_funding_programme(std::string(cell));
  } else if (field == "commitment.care_grade") {
    int32_t grade;
    if (!absl::SimpleAtoi(cell, &grade) || grade < 0 || grade > 6) {
      return "must be a whole number from 0 to 6";
    }
    c.set_care_grade(grade);
  } else if (field == "commitment.recurrence.rrule") {
    c.mutable_recurrence()->set_rrule(std::string(cell));
  } else if (field == "commitment.recurrence.dtstart") {
    c.mutable_recurrence()->set_dtstart(std::string(cell));
  } else if (field == "commitment.required_skills") {
    for (const std::string& skill : Items(cell)) c.add_required_skills(skill);
  } else {
    int32_t count;
    if (std::optional<std::string> why = Count(cell, &count)) return why;
    if (field == "commitment.window_minutes") {
      c.set_window_minutes(count);
    } else if (field == "commitment.duration_minutes") {
      c.set_duration_minutes(count);
    } else if (field == "commitment.tolerance_minutes") {
      c.set_tolerance_minutes(count);
    } else if (field == "commitment.workers_required") {
      if (count != 1 && count != 2) return "must be 1 or 2";
      c.set_workers_required(count);
      // Two carers start together (a bath); the roster has no column for staggered starts.
      if (count == 2) {
        c.mutable_synchronisation()->set_type(sch::SYNCHRONISATION_TYPE_SIMULTANEOUS);
      }
    }
  }
  return std::nullopt;
}

std::vector<std::string> CommitmentCells(const google::protobuf::Message& record) {
  const sch::Commitment& c = static_cast<const sch::Commitment&>(record);
  auto number = [](int32_t n) { return n != 0 ? absl::StrCat(n) : std::string(); };
  return {c.elder(),
          IdOf(c.service_type()),
          IdOf(c.owner_organisation()),
          c.valid_from(),
          c.valid_until(),
          c.funding_programme(),
          c.has_care_grade() ? absl::StrCat(c.care_grade()) : "",
          c.recurrence().rrule(),
          c.recurrence().dtstart(),
          number(c.window_minutes()),
          number(c.duration_minutes()),
          number(c.workers_required()),
          absl::StrJoin(c.required_skills(), ";"),
          number(c.tolerance_minutes())};
}

// The attendance `i` of `v`, added (with its siblings) when the row has fewer: by default the
// provider's own record (CHECK_METHOD_PARTNER_REPORT), the 签到方式 column may say otherwise.
sch::ImportedAttendance& AttendanceAt(sch::ImportedVisit& v, int i) {
  while (v.attendance_size() <= i) v.add_attendance()->set_method(sch::CHECK_METHOD_PARTNER_REPORT);
  return *v.mutable_attendance(i);
}

std::optional<std::string> FillVisit(const Column& column, absl::string_view cell,
                                     google::protobuf::Message& record) {
  sch::ImportedVisit& v = static_cast<sch::ImportedVisit&>(record);
  const absl::string_view field = column.field;
  if (field == "visit.elder") {
    // The ID number stands for the elder until the importer finds the elder's name.
    if (!LooksLikeIdNumber(cell)) return "must be an 18-character resident ID number";
    v.set_elder(absl::AsciiStrToUpper(cell));
  } else if (field == "visit.service_type") {
    v.set_service_type(absl::StrCat("serviceTypes/", absl::StripPrefix(cell, "serviceTypes/")));
  } else if (field == "visit.owner_organisation") {
    v.set_owner_organisation(OrganisationCell(cell));
  } else if (field == "visit.occurrence") {
    v.set_occurrence(std::string(cell));
  } else if (field == "visit.state") {
    std::optional<int> state = WordCell(VisitOutcomes(), cell);
    if (!state) return "must be " + WordList(VisitOutcomes());
    v.set_state(static_cast<sch::VisitState>(*state));
  } else if (field == "visit.reason_code") {
    v.set_reason_code(absl::AsciiStrToUpper(cell));
  } else {
    // One item per worker, in the order of the phones (an empty item leaves that worker's out).
    const std::vector<std::string> items = PerWorker(cell);
    if (items.size() > 2) return "holds more than two items: at most two workers come at once";
    for (int i = 0; i < static_cast<int>(items.size()); ++i) {
      if (items[i].empty()) continue;
      sch::ImportedAttendance& a = AttendanceAt(v, i);
      std::optional<std::string> why;
      if (field == "visit.attendance.worker") {
        // The phone stands for the worker until the importer finds the worker's name.
        a.set_worker(items[i]);
      } else if (field == "visit.attendance.check_in_time") {
        why = BeijingTime(items[i], *a.mutable_check_in_time());
      } else if (field == "visit.attendance.check_out_time") {
        why = BeijingTime(items[i], *a.mutable_check_out_time());
      } else if (field == "visit.attendance.check_in_location.latitude") {
        why =
            Coordinate(items[i], *a.mutable_check_in_location(), &common::v1::LatLng::set_latitude);
      } else if (field == "visit.attendance.check_in_location.longitude") {
        why = Coordinate(items[i], *a.mutable_check_in_location(),
                         &common::v1::LatLng::set_longitude);
      } else if (field == "visit.attendance.method") {
        std::optional<int> method = WordCell(CheckMethods(), items[i]);
        if (!method) why = "must be " + WordList(CheckMethods());
        a.set_method(static_cast<sch::CheckMethod>(method.value_or(0)));
      }
      if (why) return why;
    }
  }
  return std::nullopt;
}

// A visit is imported, not exported: its cells are what `fill` reads back, for tests and the
// template's checks.
std::vector<std::string> VisitCells(const google::protobuf::Message& record) {
  const sch::ImportedVisit& v = static_cast<const sch::ImportedVisit&>(record);
  std::vector<std::string> phones, ins, outs, lats, lngs, methods;
  for (const sch::ImportedAttendance& a : v.attendance()) {
    phones.push_back(a.worker());
    ins.push_back(a.has_check_in_time() ? BeijingTimeCell(a.check_in_time()) : "");
    outs.push_back(a.has_check_out_time() ? BeijingTimeCell(a.check_out_time()) : "");
    lats.push_back(a.has_check_in_location() ? NumberCell(a.check_in_location().latitude()) : "");
    lngs.push_back(a.has_check_in_location() ? NumberCell(a.check_in_location().longitude()) : "");
    methods.push_back(WordOf(CheckMethods(), a.method()));
  }
  auto join = [](const std::vector<std::string>& items) {
    return std::all_of(items.begin(), items.end(), [](const auto& s) { return s.empty(); })
               ? std::string()
               : absl::StrJoin(items, ";");
  };
  return {v.elder(),
          IdOf(v.service_type()),
          IdOf(v.owner_organisation()),
          v.occurrence(),
          WordOf(VisitOutcomes(), v.state()),
          join(phones),
          join(ins),
          join(outs),
          join(lats),
          join(lngs),
          join(methods),
          v.reason_code()};
}

std::optional<std::string> FillAnswer(const Column& column, absl::string_view cell,
                                      google::protobuf::Message& record) {
  gateway::v1::AnswerRosterRow& row = static_cast<gateway::v1::AnswerRosterRow&>(record);
  fb::Feedback& f = *row.mutable_answer()->mutable_feedback();
  const absl::string_view field = column.field;
  if (field == "visit.elder") {
    if (!LooksLikeIdNumber(cell)) return "must be an 18-character resident ID number";
    row.set_id_number(absl::AsciiStrToUpper(cell));
  } else if (field == "visit.service_type") {
    row.set_service_type(absl::StrCat("serviceTypes/", absl::StripPrefix(cell, "serviceTypes/")));
  } else if (field == "visit.owner_organisation") {
    row.set_owner_organisation(OrganisationCell(cell));
  } else if (field == "visit.occurrence") {
    row.set_occurrence(std::string(cell));
  } else if (field == "feedback.answer_time") {
    return BeijingTime(cell, *row.mutable_answer()->mutable_answer_time());
  } else if (field == "feedback.faces") {
    int32_t faces;
    if (!absl::SimpleAtoi(cell, &faces) || faces < 1 || faces > 5) {
      return "must be a whole number from 1 to 5";
    }
    f.set_faces(faces);
  } else if (field == "feedback.did_as_promised" || field == "feedback.felt_cared_for") {
    std::optional<int> answer = WordCell(Answers(), cell);
    if (!answer) return "must be " + WordList(Answers());
    if (field == "feedback.did_as_promised") {
      f.set_did_as_promised(static_cast<fb::Answer>(*answer));
    } else {
      f.set_felt_cared_for(static_cast<fb::Answer>(*answer));
    }
  } else if (field == "feedback.nobody_came") {
    std::optional<int> yes = WordCell(YesNo(), cell);
    if (!yes) return "must be 是 or 否 (yes or no)";
    f.set_nobody_came(*yes == 1);
  } else if (field == "feedback.channel") {
    std::optional<int> channel = WordCell(AnswerChannels(), cell);
    if (!channel) return "must be " + WordList(AnswerChannels());
    f.set_channel(static_cast<fb::FeedbackChannel>(*channel));
  } else if (field == "feedback.words") {
    f.set_words(std::string(cell));
  }
  return std::nullopt;
}

std::vector<std::string> AnswerCells(const google::protobuf::Message& record) {
  const auto& row = static_cast<const gateway::v1::AnswerRosterRow&>(record);
  const fb::Feedback& f = row.answer().feedback();
  const bool timed = row.answer().has_answer_time();
  return {row.id_number(),
          IdOf(row.service_type()),
          IdOf(row.owner_organisation()),
          row.occurrence(),
          timed ? BeijingTimeCell(row.answer().answer_time()) : "",
          f.faces() != 0 ? absl::StrCat(f.faces()) : "",
          WordOf(Answers(), f.did_as_promised()),
          WordOf(Answers(), f.felt_cared_for()),
          WordOf(YesNo(), f.nobody_came() ? 1 : 0),
          WordOf(AnswerChannels(), f.channel()),
          f.words()};
}

}  // namespace

const Roster& AnswersRoster() {
  static const Roster roster{"answers", &kAnswerColumns,
                             &gateway::v1::AnswerRosterRow::default_instance(), &FillAnswer,
                             &AnswerCells};
  return roster;
}

const Roster& VisitsRoster() {
  static const Roster roster{"visits", &kVisitColumns, &sch::ImportedVisit::default_instance(),
                             &FillVisit, &VisitCells};
  return roster;
}

const Roster& CommitmentsRoster() {
  static const Roster roster{"commitments", &kCommitmentColumns,
                             &sch::Commitment::default_instance(), &FillCommitment,
                             &CommitmentCells};
  return roster;
}

const Roster& OrganisationsRoster() {
  static const Roster roster{"organisations", &kOrganisationColumns,
                             &reg::Organisation::default_instance(), &FillOrganisation,
                             &OrganisationCells};
  return roster;
}

const Roster& RelationsRoster() {
  static const Roster roster{"relations", &kRelationColumns, &reg::Relation::default_instance(),
                             &FillRelation, &RelationCells};
  return roster;
}

const Roster& OfferingsRoster() {
  static const Roster roster{"offerings", &kOfferingColumns, &reg::Offering::default_instance(),
                             &FillOffering, &OfferingCells};
  return roster;
}

const Roster& WorkersRoster() {
  static const Roster roster{"workers", &kWorkerColumns, &reg::Worker::default_instance(),
                             &FillWorker, &WorkerCells};
  return roster;
}

}  // namespace linli::roster
