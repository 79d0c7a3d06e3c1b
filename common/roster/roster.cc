#include "common/roster/roster.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "common/errors.h"
#include "common/roster/elders.h"
#include "common/roster/records.h"

namespace linli::roster {
namespace {

common::v1::RowProblem Problem(int line, const Column& column, std::string reason) {
  common::v1::RowProblem p;
  p.set_line(line);
  p.set_column(column.header);
  p.set_field(column.field);
  p.set_reason(std::move(reason));
  p.set_reason_zh(column.expect);
  return p;
}

bool IsAscii(absl::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

}  // namespace

const std::vector<const Roster*>& Rosters() {
  static const auto* all = new std::vector<const Roster*>{
      &EldersRoster(),  &OrganisationsRoster(), &RelationsRoster(), &OfferingsRoster(),
      &WorkersRoster(), &CommitmentsRoster(),   &VisitsRoster(),    &AnswersRoster()};
  return *all;
}

const Roster* FindRoster(absl::string_view name) {
  for (const Roster* roster : Rosters()) {
    if (name == roster->name) return roster;
  }
  return nullptr;
}

std::string RosterNames() {
  std::vector<std::string> names;
  for (const Roster* roster : Rosters()) names.push_back(roster->name);
  return absl::StrJoin(names, ", ");
}

std::string HeaderRow(const Roster& roster) {
  std::vector<std::string> headers;
  for (const Column& c : *roster.columns) headers.push_back(CsvField(c.header));
  return absl::StrJoin(headers, ",");
}

std::string Template(const Roster& roster) {
  std::vector<std::string> examples;
  for (const Column& c : *roster.columns) examples.push_back(CsvField(c.example));
  return absl::StrCat("\xEF\xBB\xBF", HeaderRow(roster), "\r\n", absl::StrJoin(examples, ","),
                      "\r\n");
}

std::string CsvRow(const Roster& roster, const google::protobuf::Message& record) {
  std::vector<std::string> quoted;
  for (const std::string& cell : roster.cells(record)) quoted.push_back(CsvField(cell));
  return absl::StrJoin(quoted, ",");
}

absl::StatusOr<ReadRows> Read(const Roster& roster, const std::vector<CsvRecord>& records,
                              int line_offset) {
  const std::vector<Column>& columns = *roster.columns;
  if (records.empty()) return InvalidField("csv", "is empty: the header row is missing");
  // Which column each position is.
  std::vector<const Column*> at;
  std::map<const Column*, std::string> seen;
  for (const std::string& raw : records[0].fields) {
    const std::string header(absl::StripAsciiWhitespace(raw));
    const Column* found = nullptr;
    for (const Column& c : columns) {
      if (header == c.header || absl::AsciiStrToLower(header) == c.english) found = &c;
    }
    if (found == nullptr) {
      std::vector<std::string> names;
      for (const Column& c : columns) names.push_back(c.header);
      return InvalidField("csv", absl::StrCat("the header names an unknown column \"", header,
                                              "\"; the columns of ", roster.name, " are ",
                                              absl::StrJoin(names, ",")));
    }
    if (!seen.emplace(found, header).second) {
      return InvalidField("csv",
                          absl::StrCat("the header names the column \"", header, "\" twice"));
    }
    at.push_back(found);
  }
  for (const Column& c : columns) {
    if (c.required && !seen.count(&c)) {
      return InvalidField("csv", absl::StrCat("the header has no column \"", c.header, "\" (",
                                              c.english, "), which is required"));
    }
  }

  ReadRows read;
  for (size_t r = 1; r < records.size(); ++r) {
    const CsvRecord& record = records[r];
    const int line = record.line + line_offset;
    if (record.fields.size() > at.size()) {
      common::v1::RowProblem p;
      p.set_line(line);
      p.set_reason(absl::StrCat("has ", record.fields.size(), " cells, the header ", at.size()));
      p.set_reason_zh(
          absl::StrCat("这一行有 ", record.fields.size(), " 列，表头只有 ", at.size(), " 列"));
      read.problems.push_back(std::move(p));
      continue;
    }
    Row row;
    row.line = line;
    row.record.reset(roster.record->New());
    bool bad = false;
    std::vector<bool> refused(at.size(), false);  // the cells reported already
    for (size_t i = 0; i < record.fields.size(); ++i) {
      const std::string cell(absl::StripAsciiWhitespace(record.fields[i]));
      if (cell.empty()) continue;
      if (std::optional<std::string> why = roster.fill(*at[i], cell, *row.record)) {
        read.problems.push_back(Problem(line, *at[i], *why));
        refused[i] = bad = true;
      }
    }
    // A location takes both of its columns: a latitude without its longitude is no place (nor,
    // in columns of one item per worker, a worker's latitude without the same worker's
    // longitude).
    for (size_t i = 0; i < at.size(); ++i) {
      const absl::string_view field = at[i]->field;
      if (!absl::EndsWith(field, ".latitude") && !absl::EndsWith(field, ".longitude")) continue;
      const bool latitude = absl::EndsWith(field, ".latitude");
      const std::string other =
          absl::StrCat(field.substr(0, field.rfind('.')), latitude ? ".longitude" : ".latitude");
      auto given = [&](size_t j) {
        return j < record.fields.size() && !absl::StripAsciiWhitespace(record.fields[j]).empty();
      };
      size_t j = 0;
      while (j < at.size() && at[j]->field != other) ++j;
      auto paired = [&] {
        const std::vector<std::string> mine = PerWorker(record.fields[i]);
        const std::vector<std::string> theirs = PerWorker(record.fields[j]);
        if (mine.size() != theirs.size()) return false;
        for (size_t k = 0; k < mine.size(); ++k) {
          if (mine[k].empty() != theirs[k].empty()) return false;
        }
        return true;
      };
      if (given(i) && !refused[i] && (!given(j) || (latitude && !paired()))) {
        read.problems.push_back(
            Problem(line, *at[i],
                    absl::StrCat("is given without its ", latitude ? "longitude" : "latitude")));
        bad = true;
      }
    }
    for (const Column& c : columns) {
      if (!c.required || !seen.count(&c)) continue;
      const size_t i = std::find(at.begin(), at.end(), &c) - at.begin();
      if (i >= record.fields.size() || absl::StripAsciiWhitespace(record.fields[i]).empty()) {
        read.problems.push_back(Problem(line, c, "is required"));
        bad = true;
      }
    }
    if (!bad) read.rows.push_back(std::move(row));
  }
  return read;
}

void DescribeProblem(const Roster& roster, common::v1::RowProblem& problem) {
  if (!problem.column().empty() && !problem.reason_zh().empty()) return;
  // Without its indexes: "visit.attendance[1].check_in_time" -> "visit.attendance.check_in_time".
  std::string named;
  for (absl::string_view rest = problem.field(); !rest.empty();) {
    const size_t open = rest.find('[');
    absl::StrAppend(&named, rest.substr(0, open));
    if (open == absl::string_view::npos) break;
    const size_t close = rest.find(']', open);
    if (close == absl::string_view::npos) break;
    rest.remove_prefix(close + 1);
  }
  // "elder.contacts[1].phone" is the column of "elder.contacts" (the longest field that starts
  // the problem's); "elder.location" that of the latitude (the first of its two columns).
  const Column* starts = nullptr;
  const Column* within = nullptr;
  for (const Column& c : *roster.columns) {
    const absl::string_view field = c.field;
    if (absl::StartsWith(named, field) &&
        (starts == nullptr || field.size() > std::string(starts->field).size())) {
      starts = &c;
    }
    // A problem of the record as a whole ("feedback") has no column.
    if (within == nullptr && absl::StrContains(named, '.') && absl::StartsWith(field, named)) {
      within = &c;
    }
  }
  const Column* best = starts != nullptr ? starts : within;
  if (best == nullptr) {
    if (problem.reason_zh().empty()) problem.set_reason_zh("这一行不能导入");
    return;
  }
  if (problem.column().empty()) problem.set_column(best->header);
  if (problem.reason_zh().empty()) problem.set_reason_zh(best->expect);
}

std::vector<std::string> Items(absl::string_view cell) {
  std::vector<std::string> items = PerWorker(cell);
  items.erase(std::remove(items.begin(), items.end(), ""), items.end());
  return items;
}

std::vector<std::string> PerWorker(absl::string_view cell) {
  const std::string text = absl::StrReplaceAll(cell, {{"；", ";"}});
  if (absl::StripAsciiWhitespace(text).empty()) return {};
  std::vector<std::string> items;
  for (absl::string_view item : absl::StrSplit(text, ';')) {
    items.emplace_back(absl::StripAsciiWhitespace(item));
  }
  return items;
}

std::optional<std::string> BeijingTime(absl::string_view cell, google::protobuf::Timestamp& out) {
  const std::string text = absl::StrReplaceAll(cell, {{"T", " "}});
  absl::Time t;
  std::string error;
  if (!absl::ParseTime("%Y-%m-%d %H:%M:%S", text, kBeijing, &t, &error) &&
      !absl::ParseTime("%Y-%m-%d %H:%M", text, kBeijing, &t, &error)) {
    return "must be a Beijing time \"YYYY-MM-DD HH:MM\"";
  }
  out.set_seconds(absl::ToUnixSeconds(t));
  out.set_nanos(0);
  return std::nullopt;
}

std::string BeijingTimeCell(const google::protobuf::Timestamp& t) {
  return absl::FormatTime("%Y-%m-%d %H:%M", absl::FromUnixSeconds(t.seconds()), kBeijing);
}

std::optional<std::string> RegionCell(absl::string_view cell) {
  const absl::string_view code = absl::StripPrefix(cell, "regions/");
  if (code.empty() || !std::all_of(code.begin(), code.end(), absl::ascii_isdigit)) {
    return std::nullopt;
  }
  return absl::StrCat("regions/", code);
}

std::optional<int> WordCell(const std::map<std::string, int>& words, absl::string_view cell) {
  auto it = words.find(std::string(cell));
  if (it == words.end() && IsAscii(cell)) it = words.find(absl::AsciiStrToLower(cell));
  if (it == words.end()) return std::nullopt;
  return it->second;
}

std::string WordOf(const std::map<std::string, int>& words, int value) {
  for (const auto& [text, v] : words) {
    if (v == value && !IsAscii(text)) return text;
  }
  return "";
}

std::string WordList(const std::map<std::string, int>& words) {
  std::vector<std::pair<int, std::string>> chinese, english;
  for (const auto& [text, v] : words) (IsAscii(text) ? english : chinese).emplace_back(v, text);
  std::sort(chinese.begin(), chinese.end());
  std::sort(english.begin(), english.end());
  auto join = [](const std::vector<std::pair<int, std::string>>& list) {
    std::vector<std::string> texts;
    for (const auto& [v, text] : list) texts.push_back(text);
    return absl::StrJoin(texts, ", ");
  };
  return absl::StrCat(join(chinese), " (", join(english), ")");
}

std::string NumberCell(double value) {
  std::string text = absl::StrFormat("%.6f", value);
  while (!text.empty() && text.back() == '0') text.pop_back();
  if (!text.empty() && text.back() == '.') text.pop_back();
  return text;
}

}  // namespace linli::roster
