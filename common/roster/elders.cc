#include "common/roster/elders.h"

#include <algorithm>
#include <map>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/errors.h"

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
    {"纬度", "latitude", "elder.location.latitude", "31.2050", "纬度应为 -90 到 90 之间的数",
     false},
    {"经度", "longitude", "elder.location.longitude", "121.4800", "经度应为 -180 到 180 之间的数",
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

const std::map<std::string, reg::LivingSituation>& LivingSituations() {
  static const auto* words = new std::map<std::string, reg::LivingSituation>{
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

const std::map<std::string, reg::ConsentPurpose>& ConsentPurposes() {
  static const auto* words = new std::map<std::string, reg::ConsentPurpose>{
      {"个人信息", reg::CONSENT_PURPOSE_PERSONAL_DATA},
      {"健康信息", reg::CONSENT_PURPOSE_HEALTH_DATA},
      {"共享给服务方", reg::CONSENT_PURPOSE_SHARE_WITH_PROVIDERS},
      {"personal_data", reg::CONSENT_PURPOSE_PERSONAL_DATA},
      {"health_data", reg::CONSENT_PURPOSE_HEALTH_DATA},
      {"share_with_providers", reg::CONSENT_PURPOSE_SHARE_WITH_PROVIDERS},
  };
  return *words;
}

// A cell's items: split on ';' (or the full-width '；'), trimmed, empty ones dropped.
std::vector<std::string> Items(absl::string_view cell) {
  std::string text(cell);
  for (size_t at; (at = text.find("；")) != std::string::npos;) text.replace(at, 3, ";");
  std::vector<std::string> items;
  for (absl::string_view item : absl::StrSplit(text, ';')) {
    item = absl::StripAsciiWhitespace(item);
    if (!item.empty()) items.emplace_back(item);
  }
  return items;
}

common::v1::RowProblem Problem(int line, const Column& column, std::string reason) {
  common::v1::RowProblem p;
  p.set_line(line);
  p.set_column(column.header);
  p.set_field(column.field);
  p.set_reason(std::move(reason));
  p.set_reason_zh(column.expect);
  return p;
}

// Sets the field of `column` in `elder` from `cell` (not empty), or says why it cannot.
std::optional<std::string> Fill(const Column& column, absl::string_view cell, reg::Elder& elder) {
  const absl::string_view field = column.field;
  if (field == "elder.display_name") {
    elder.set_display_name(std::string(cell));
  } else if (field == "elder.id_number") {
    elder.set_id_number(std::string(cell));
  } else if (field == "elder.phone") {
    elder.set_phone(std::string(cell));
  } else if (field == "elder.region") {
    std::string code(absl::StripPrefix(cell, "regions/"));
    if (code.empty() || !std::all_of(code.begin(), code.end(), absl::ascii_isdigit)) {
      return "must be a committee's code such as 310101020001";
    }
    elder.set_region("regions/" + code);
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
    auto it = LivingSituations().find(absl::AsciiStrToLower(cell));
    if (it == LivingSituations().end()) it = LivingSituations().find(std::string(cell));
    if (it == LivingSituations().end()) {
      return "must be 独居, 无子女, 纯老家庭 or 与家人同住 (alone, no_family, elders_only, "
             "with_family)";
    }
    elder.set_living_situation(it->second);
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
      auto it = ConsentPurposes().find(absl::AsciiStrToLower(item));
      if (it == ConsentPurposes().end()) it = ConsentPurposes().find(item);
      if (it == ConsentPurposes().end()) {
        return absl::StrCat("\"", item,
                            "\" is not a purpose: 个人信息, 健康信息 or 共享给服务方 "
                            "(personal_data, health_data, share_with_providers)");
      }
      reg::Consent* consent = elder.add_consents();
      consent->set_purpose(it->second);
      consent->set_granted(true);
    }
  }
  return std::nullopt;
}

}  // namespace

const std::vector<Column>& ElderColumns() { return kColumns; }

std::string ElderHeaderRow() {
  std::vector<std::string> headers;
  for (const Column& c : kColumns) headers.push_back(CsvField(c.header));
  return absl::StrJoin(headers, ",");
}

std::string ElderTemplate() {
  std::vector<std::string> examples;
  for (const Column& c : kColumns) examples.push_back(CsvField(c.example));
  return absl::StrCat("\xEF\xBB\xBF", ElderHeaderRow(), "\r\n", absl::StrJoin(examples, ","),
                      "\r\n");
}

std::string ElderCsvRow(const reg::Elder& e) {
  auto word = [](const auto& words, int value) {
    for (const auto& [text, v] : words) {
      if (v == value && !absl::ascii_isalpha(static_cast<unsigned char>(text[0]))) return text;
    }
    return std::string();
  };
  std::vector<std::string> needs, contacts, consents;
  for (const std::string& n : e.needs()) needs.emplace_back(absl::StripPrefix(n, "serviceTypes/"));
  for (const reg::Contact& c : e.contacts()) {
    contacts.push_back(absl::StrCat(c.display_name(), "/", c.relationship(), "/", c.phone(),
                                    c.proxy() ? "/代理" : ""));
  }
  for (const reg::Consent& c : e.consents()) {
    if (c.granted()) consents.push_back(word(ConsentPurposes(), c.purpose()));
  }
  const bool located = e.has_location();
  const std::vector<std::string> cells = {
      e.display_name(),
      e.id_number(),
      e.phone(),
      std::string(absl::StripPrefix(e.region(), "regions/")),
      e.address(),
      located ? absl::StrFormat("%.6f", e.location().latitude()) : "",
      located ? absl::StrFormat("%.6f", e.location().longitude()) : "",
      e.living_situation() == reg::LIVING_SITUATION_UNSPECIFIED
          ? ""
          : word(LivingSituations(), e.living_situation()),
      e.has_care_grade() ? absl::StrCat(e.care_grade()) : "",
      e.assessment_date(),
      absl::StrJoin(needs, ";"),
      absl::StrJoin(contacts, ";"),
      absl::StrJoin(consents, ";")};
  std::vector<std::string> quoted;
  for (const std::string& cell : cells) quoted.push_back(CsvField(cell));
  return absl::StrJoin(quoted, ",");
}

absl::StatusOr<ElderRoster> ReadElders(const std::vector<CsvRecord>& records, int line_offset) {
  if (records.empty()) return InvalidField("csv", "is empty: the header row is missing");
  // Which column each position is.
  std::vector<const Column*> at;
  std::map<const Column*, std::string> seen;
  for (const std::string& raw : records[0].fields) {
    const std::string header(absl::StripAsciiWhitespace(raw));
    const Column* found = nullptr;
    for (const Column& c : kColumns) {
      if (header == c.header || absl::AsciiStrToLower(header) == c.english) found = &c;
    }
    if (found == nullptr) {
      std::vector<std::string> names;
      for (const Column& c : kColumns) names.push_back(c.header);
      return InvalidField("csv", absl::StrCat("the header names an unknown column \"", header,
                                              "\"; the columns are ", absl::StrJoin(names, ",")));
    }
    if (!seen.emplace(found, header).second) {
      return InvalidField("csv",
                          absl::StrCat("the header names the column \"", header, "\" twice"));
    }
    at.push_back(found);
  }
  for (const Column& c : kColumns) {
    if (c.required && !seen.count(&c)) {
      return InvalidField("csv", absl::StrCat("the header has no column \"", c.header, "\" (",
                                              c.english, "), which is required"));
    }
  }

  ElderRoster roster;
  for (size_t r = 1; r < records.size(); ++r) {
    const CsvRecord& record = records[r];
    const int line = record.line + line_offset;
    ElderRow row;
    row.line = line;
    bool bad = false;
    if (record.fields.size() > at.size()) {
      common::v1::RowProblem p;
      p.set_line(line);
      p.set_reason(absl::StrCat("has ", record.fields.size(), " cells, the header ", at.size()));
      p.set_reason_zh(
          absl::StrCat("这一行有 ", record.fields.size(), " 列，表头只有 ", at.size(), " 列"));
      roster.problems.push_back(std::move(p));
      continue;
    }
    for (size_t i = 0; i < record.fields.size(); ++i) {
      const std::string cell(absl::StripAsciiWhitespace(record.fields[i]));
      if (cell.empty()) continue;
      if (std::optional<std::string> why = Fill(*at[i], cell, row.elder)) {
        roster.problems.push_back(Problem(line, *at[i], *why));
        bad = true;
      }
    }
    for (const Column& c : kColumns) {
      if (!c.required || !seen.count(&c)) continue;
      const size_t i = std::find(at.begin(), at.end(), &c) - at.begin();
      if (i >= record.fields.size() || absl::StripAsciiWhitespace(record.fields[i]).empty()) {
        roster.problems.push_back(Problem(line, c, "is required"));
        bad = true;
      }
    }
    if (!bad) roster.rows.push_back(std::move(row));
  }
  return roster;
}

void DescribeElderProblem(common::v1::RowProblem& problem) {
  if (!problem.column().empty() && !problem.reason_zh().empty()) return;
  const Column* best = nullptr;
  for (const Column& c : kColumns) {
    const absl::string_view field = c.field;
    // "elder.contacts[1].phone" is the column of "elder.contacts"; "elder.location" that of
    // the latitude (the first of its two columns).
    if (absl::StartsWith(problem.field(), field) ||
        (absl::StartsWith(field, problem.field()) && !problem.field().empty())) {
      if (best == nullptr || std::string(c.field).size() > std::string(best->field).size()) {
        best = &c;
      }
    }
  }
  if (best == nullptr) {
    if (problem.reason_zh().empty()) problem.set_reason_zh("这一行不能导入");
    return;
  }
  if (problem.column().empty()) problem.set_column(best->header);
  if (problem.reason_zh().empty()) problem.set_reason_zh(best->expect);
}

}  // namespace linli::roster
