#include "common/roster/export.h"

#include <xlsxwriter.h>

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "common/roster/csv.h"

namespace linli::roster {
namespace {

namespace v1 = registry::v1;

// The enum value's name without its type prefix, lower case: "LIVING_SITUATION_ALONE" -> "alone".
std::string EnumWord(const std::string& name, const char* prefix) {
  std::string word = name.rfind(prefix, 0) == 0 ? name.substr(std::string(prefix).size()) : name;
  return absl::AsciiStrToLower(word);
}

std::string Time(const google::protobuf::Timestamp& t) {
  return t.seconds() == 0 ? "" : BeijingTimeCell(t);
}

std::string CsvCell(const std::string& value) {
  std::string cell = value;
  // A cell a spreadsheet would run as a formula (OWASP's CSV injection list), unless it is just a
  // number such as -12 or 31.2.
  double number;
  const bool is_number = cell.find_first_not_of("0123456789.+-eE") == std::string::npos &&
                         absl::SimpleAtod(cell, &number);
  const bool formula = !cell.empty() &&
                       std::string_view("=+-@\t\r").find(cell[0]) != std::string_view::npos &&
                       !is_number;
  if (formula) cell = "'" + cell;
  return CsvField(cell);
}

}  // namespace

Table EldersTable(const std::vector<v1::Elder>& elders) {
  Table table;
  table.header = {"编号 name",
                  "姓名 display_name",
                  "居委 region",
                  "地址 address",
                  "电话 phone",
                  "身份证号 id_number",
                  "居住情况 living_situation",
                  "需求 needs",
                  "联系人 contacts",
                  "状态 status",
                  "状态日期 status_date",
                  "登记时间 create_time"};
  for (const v1::Elder& e : elders) {
    std::vector<std::string> contacts;
    for (const v1::Contact& c : e.contacts()) {
      contacts.push_back(absl::StrCat(c.display_name(), " ", c.relationship(), " ", c.phone(),
                                      c.proxy() ? " 代办 proxy" : ""));
    }
    const v1::ElderStatus status =
        e.status() == v1::ELDER_STATUS_UNSPECIFIED ? v1::ELDER_STATUS_ACTIVE : e.status();
    table.rows.push_back(
        {e.name(), e.display_name(), e.region(), e.address(), e.phone(), e.id_number(),
         EnumWord(v1::LivingSituation_Name(e.living_situation()), "LIVING_SITUATION_"),
         absl::StrJoin(e.needs(), "; "), absl::StrJoin(contacts, "; "),
         e.erased() ? "erased" : EnumWord(v1::ElderStatus_Name(status), "ELDER_STATUS_"),
         e.status_date(), Time(e.create_time())});
  }
  return table;
}

Table RosterTable(const Roster& roster,
                  const std::vector<const google::protobuf::Message*>& records) {
  Table table;
  for (const Column& c : *roster.columns) table.header.push_back(c.header);
  for (const google::protobuf::Message* record : records) {
    table.rows.push_back(roster.cells(*record));
  }
  return table;
}

std::string ToCsv(const Table& table) {
  std::string out = "\xEF\xBB\xBF";
  auto line = [&](const std::vector<std::string>& cells) {
    std::vector<std::string> quoted;
    quoted.reserve(cells.size());
    for (const std::string& cell : cells) quoted.push_back(CsvCell(cell));
    absl::StrAppend(&out, absl::StrJoin(quoted, ","), "\r\n");
  };
  line(table.header);
  for (const auto& row : table.rows) line(row);
  return out;
}

namespace {

absl::Status WriteXlsx(const Table& table, const std::string& sheet, const std::string& path) {
  lxw_workbook* workbook = workbook_new(path.c_str());
  if (workbook == nullptr) {
    return absl::InternalError(absl::StrCat("cannot create ", path));
  }
  lxw_worksheet* worksheet = workbook_add_worksheet(workbook, sheet.c_str());
  lxw_format* bold = workbook_add_format(workbook);
  format_set_bold(bold);
  std::vector<size_t> widths(table.header.size(), 8);
  auto write = [&](lxw_row_t r, const std::vector<std::string>& cells, lxw_format* format) {
    for (size_t c = 0; c < cells.size(); ++c) {
      if (cells[c].empty()) continue;
      worksheet_write_string(worksheet, r, static_cast<lxw_col_t>(c), cells[c].c_str(), format);
      if (c < widths.size()) widths[c] = std::max(widths[c], std::min<size_t>(cells[c].size(), 48));
    }
  };
  write(0, table.header, bold);
  for (size_t r = 0; r < table.rows.size(); ++r) {
    write(static_cast<lxw_row_t>(r + 1), table.rows[r], nullptr);
  }
  for (size_t c = 0; c < widths.size(); ++c) {
    worksheet_set_column(worksheet, static_cast<lxw_col_t>(c), static_cast<lxw_col_t>(c),
                         static_cast<double>(widths[c]), nullptr);
  }
  worksheet_freeze_panes(worksheet, 1, 0);
  if (!table.header.empty()) {
    worksheet_autofilter(worksheet, 0, 0, static_cast<lxw_row_t>(table.rows.size()),
                         static_cast<lxw_col_t>(table.header.size() - 1));
  }
  lxw_error error = workbook_close(workbook);
  if (error != LXW_NO_ERROR) {
    return absl::InternalError(absl::StrCat("writing ", path, ": ", lxw_strerror(error)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> ToXlsx(const Table& table, const std::string& sheet) {
  // libxlsxwriter 1.1 writes workbooks to files only.
  std::string path = (std::filesystem::temp_directory_path() / "linli-export-XXXXXX").string();
  const int fd = mkstemp(path.data());
  if (fd < 0) return absl::InternalError("cannot make a temporary file for the workbook");
  close(fd);
  absl::Status written = WriteXlsx(table, sheet, path);
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  std::error_code ignored;
  std::filesystem::remove(path, ignored);
  if (!written.ok()) return written;
  return bytes.str();
}

}  // namespace linli::roster
