#include "common/roster/elders.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "linli/registry/v1/registry.pb.h"

namespace linli::roster {
namespace {

namespace reg = registry::v1;

const std::vector<Column> kColumns = {
    {"姓名", "name", "elder.display_name", "王秀英", "姓名必填", true},
    {"身份证号", "id_number", "elder.id_number", "310101194503121238",
     "身份证号无效：应为 18 位，出生日期真实且不晚于今天，校验码正确", false},
    {"电话", "phone", "elder.phone", "13912345678",
     "电话无效：应为 11 位手机号，或 0 开头的区号加“-”和 7～8 位号码", false},
    {"居委会", "committee", "elder.region", "310101020001",
     "居委会无效：应为已登记的居委会编码，如 310101020001", true},
    {"地址", "address", "elder.address", "上海市黄浦区鲁班路100弄5号302室",
     "地址无效：最多 256 个字", false},
    {"纬度", "latitude", "elder.location.latitude", "31.205", "纬度应为 -90 到 90 之间的数", false},
    {"经度", "longitude", "elder.location.longitude", "121.48", "经度应为 -180 到 180 之间的数",
     false},
    {"居住情况", "living_situation", "elder.living_situation", "独居",
     "居住情况应为：独居、无子女、纯老家庭、与家人同住", false},
    {"照护等级", "care_grade", "elder.care_grade", "3", "照护等级应为 0 到 6 的整数", false},
    {"评估日期", "assessment_date", "elder.assessment_date", "2025-03-15",
     "评估日期应为 YYYY-MM-DD 格式的日期", false},
    {"需求", "needs", "elder.needs", "meal-delivery;visiting",
     "需求应为已登记的服务类型编码，多个用分号分隔", false},
    {"联系人", "contacts", "elder.contacts", "王磊/儿子/13812345678/代理",
     "联系人应写成 姓名/关系/电话[/代理]，多人用分号分隔", false},
    {"同意", "consents", "elder.consents", "个人信息;健康信息",
     "同意应为：个人信息、健康信息、共享给服务方，多个用分号分隔；有身份证号、电话、地址或联系人"
     "电话须同意“个人信息”，有照护等级须同意“健康信息”",
     false},
};

const std::map<std::string, int>& LivingSituations() {
  static const auto* words = new std::map<std::string, int>{
      {"独居", reg::LIVING_SITUATION_ALONE},
      {"无子女", reg::LIVING_SITUATION_NO_FAMILY},
      {"纯老家庭", reg::LIVING_SITUATION_ELDERS_ONLY},
      {"与家人同住", reg::LIVING_SITUATION_WITH_FAMILY},
      {"alone", reg::LIVING_SITUATION_ALONE},
      {"no_family", reg::LIVING_SITUATION_NO_FAMILY},
      {"elders_only", reg::LIVING_SITUATION_ELDERS_ONLY},
      {"with_family", reg::LIVING_SITUATION_WITH_FAMILY},
  };
  return *words;
}

const std::map<std::string, int>& ConsentPurposes() {
  static const auto* words = new std::map<std::string, int>{
      {"个人信息", reg::CONSENT_PURPOSE_PERSONAL_DATA},
      {"健康信息", reg::CONSENT_PURPOSE_HEALTH_DATA},
      {"共享给服务方", reg::CONSENT_PURPOSE_SHARE_WITH_PROVIDERS},
      {"personal_data", reg::CONSENT_PURPOSE_PERSONAL_DATA},
      {"health_data", reg::CONSENT_PURPOSE_HEALTH_DATA},
      {"share_with_providers", reg::CONSENT_PURPOSE_SHARE_WITH_PROVIDERS},
  };
  return *words;
}

std::optional<std::string> Fill(const Column& column, absl::string_view cell,
                                google::protobuf::Message& record) {
  reg::Elder& elder = static_cast<reg::Elder&>(record);
  const absl::string_view field = column.field;
  if (field == "elder.display_name") {
    elder.set_display_name(std::string(cell));
  } else if (field == "elder.id_number") {
    elder.set_id_number(std::string(cell));
  } else if (field == "elder.phone") {
    elder.set_phone(std::string(cell));
  } else if (field == "elder.region") {
    std::optional<std::string> region = RegionCell(cell);
    if (!region) return "must be a committee's code such as 310101020001";
    elder.set_region(*region);
  } else if (field == "elder.address") {
    elder.set_address(std::string(cell));
  } else if (field == "elder.location.latitude" || field == "elder.location.longitude") {
    double value;
    if (!absl::SimpleAtod(cell, &value)) return "must be a number";
    if (field == "elder.location.latitude") {
      elder.mutable_location()->set_latitude(value);
    } else {
      elder.mutable_location()->set_longitude(value);
    }
  } else if (field == "elder.living_situation") {
    std::optional<int> situation = WordCell(LivingSituations(), cell);
    if (!situation) return "must be " + WordList(LivingSituations());
    elder.set_living_situation(static_cast<reg::LivingSituation>(*situation));
  } else if (field == "elder.care_grade") {
    int grade;
    if (!absl::SimpleAtoi(cell, &grade)) return "must be a whole number from 0 to 6";
    elder.set_care_grade(grade);
  } else if (field == "elder.assessment_date") {
    elder.set_assessment_date(std::string(cell));
  } else if (field == "elder.needs") {
    for (const std::string& code : Items(cell)) {
      elder.add_needs("serviceTypes/" + std::string(absl::StripPrefix(code, "serviceTypes/")));
    }
  } else if (field == "elder.contacts") {
    for (const std::string& item : Items(cell)) {
      std::vector<std::string> parts = absl::StrSplit(item, '/');
      if (parts.size() < 3 || parts.size() > 4) {
        return absl::StrCat("\"", item, "\" must be name/relationship/phone[/代理]");
      }
      reg::Contact* contact = elder.add_contacts();
      contact->set_display_name(std::string(absl::StripAsciiWhitespace(parts[0])));
      contact->set_relationship(std::string(absl::StripAsciiWhitespace(parts[1])));
      contact->set_phone(std::string(absl::StripAsciiWhitespace(parts[2])));
      if (parts.size() == 4) {
        const std::string proxy(absl::StripAsciiWhitespace(parts[3]));
        if (proxy != "代理" && absl::AsciiStrToLower(proxy) != "proxy") {
          return absl::StrCat("\"", item, "\": the fourth part may only be 代理 (proxy)");
        }
        contact->set_proxy(true);
      }
    }
  } else if (field == "elder.consents") {
    for (const std::string& item : Items(cell)) {
      std::optional<int> purpose = WordCell(ConsentPurposes(), item);
      if (!purpose) {
        return absl::StrCat("\"", item, "\" is not a purpose: ", WordList(ConsentPurposes()));
      }
      reg::Consent* consent = elder.add_consents();
      consent->set_purpose(static_cast<reg::ConsentPurpose>(*purpose));
      consent->set_granted(true);
    }
  }
  return std::nullopt;
}

std::vector<std::string> Cells(const google::protobuf::Message& record) {
  const reg::Elder& e = static_cast<const reg::Elder&>(record);
  std::vector<std::string> needs, contacts, consents;
  for (const std::string& n : e.needs()) needs.emplace_back(absl::StripPrefix(n, "serviceTypes/"));
  for (const reg::Contact& c : e.contacts()) {
    contacts.push_back(absl::StrCat(c.display_name(), "/", c.relationship(), "/", c.phone(),
                                    c.proxy() ? "/代理" : ""));
  }
  for (const reg::Consent& c : e.consents()) {
    if (c.granted()) consents.push_back(WordOf(ConsentPurposes(), c.purpose()));
  }
  const bool located = e.has_location();
  return {e.display_name(),
          e.id_number(),
          e.phone(),
          std::string(absl::StripPrefix(e.region(), "regions/")),
          e.address(),
          located ? NumberCell(e.location().latitude()) : "",
          located ? NumberCell(e.location().longitude()) : "",
          WordOf(LivingSituations(), e.living_situation()),
          e.has_care_grade() ? absl::StrCat(e.care_grade()) : "",
          e.assessment_date(),
          absl::StrJoin(needs, ";"),
          absl::StrJoin(contacts, ";"),
          absl::StrJoin(consents, ";")};
}

}  // namespace

const Roster& EldersRoster() {
  static const Roster roster{"elders", &kColumns, &reg::Elder::default_instance(), &Fill, &Cells};
  return roster;
}

}  // namespace linli::roster
