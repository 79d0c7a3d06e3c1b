// A roster as a street keeps it in a spreadsheet: its columns (Chinese headers, or the English
// names), a template to fill in, each row read into the record a service takes, each record
// written back as a row, and the report's words for each column in Chinese. Every roster kind
// (elders, organisations, relations, offerings, workers, commitments) is one Roster value read and
// written by the same functions. No gRPC, no database: the gateway (ConsoleService.ImportRoster)
// and the CLI (`linli import`) share it.
#ifndef LINLI_COMMON_ROSTER_ROSTER_H_
#define LINLI_COMMON_ROSTER_ROSTER_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/roster/csv.h"
#include "google/protobuf/message.h"
#include "google/protobuf/timestamp.pb.h"
#include "linli/common/v1/common.pb.h"

namespace linli::roster {

// One column of a roster.
struct Column {
  const char* header;   // the Chinese header, as the template writes it: "身份证号"
  const char* english;  // the English name a header may use instead: "id_number"
  const char* field;    // the record's field it fills: "elder.id_number"
  const char* example;  // the template's example value
  const char* expect;   // what a value must be, in Chinese (the report's reason_zh)
  bool required;
};

// A kind of roster.
struct Roster {
  // What `linli import` and `linli export` call it: "elders", "organisations", …
  const char* name;
  // Its columns, in template order.
  const std::vector<Column>* columns;
  // The record a row is read into (its default instance: rows are read into copies).
  const google::protobuf::Message* record;
  // Sets `column`'s field of `record` from a cell (trimmed, not empty), or says why it cannot.
  std::optional<std::string> (*fill)(const Column& column, absl::string_view cell,
                                     google::protobuf::Message& record);
  // The record's cells in column order: what `fill` reads back into the same record.
  std::vector<std::string> (*cells)(const google::protobuf::Message& record);
};

// The rosters: elders, organisations, relations, offerings, workers, commitments.
const std::vector<const Roster*>& Rosters();
// The roster called `name`; nullptr for none.
const Roster* FindRoster(absl::string_view name);
// Their names joined by ", " (for messages).
std::string RosterNames();

// The header row of the roster's columns (no BOM, no line break).
std::string HeaderRow(const Roster& roster);
// The template: a UTF-8 BOM (so Excel reads it as UTF-8), the header row and an example row.
std::string Template(const Roster& roster);
// `record` as one row under HeaderRow (no line break).
std::string CsvRow(const Roster& roster, const google::protobuf::Message& record);

// A record read from a row.
struct Row {
  int line = 0;
  std::unique_ptr<google::protobuf::Message> record;
};

// What a roster's rows read as: the records of the rows that read, and the problems of those
// that do not (by line and column, in English and Chinese).
struct ReadRows {
  std::vector<Row> rows;
  std::vector<common::v1::RowProblem> problems;
};

// Reads `records` (the first is the header row) into the roster's records; a data record's
// line in the file is its line in the records plus `line_offset`. INVALID_ARGUMENT for the file
// as a whole: no header, a header naming an unknown or repeated column, a required column
// missing.
absl::StatusOr<ReadRows> Read(const Roster& roster, const std::vector<CsvRecord>& records,
                              int line_offset);

// Fills the column and the Chinese reason of a problem the registry reported by field
// ("elder.consents[0].purpose" -> 同意), unless they are set.
void DescribeProblem(const Roster& roster, common::v1::RowProblem& problem);

// Helpers for the rosters' fill and cells functions.
//
// A cell's items: split on ';' (or the full-width '；'), trimmed, empty ones dropped.
std::vector<std::string> Items(absl::string_view cell);
// A cell of one item per worker ("31.2;31.21", ";电话"): split as Items, empty ones kept in their
// place; none for an empty cell.
std::vector<std::string> PerWorker(absl::string_view cell);
// China keeps one time zone and no summer time: Beijing time, UTC+8.
inline const absl::TimeZone kBeijing = absl::FixedTimeZone(8 * 3600);
// A Beijing time cell ("YYYY-MM-DD HH:MM", seconds and a 'T' allowed) into `out`, or why not.
std::optional<std::string> BeijingTime(absl::string_view cell, google::protobuf::Timestamp& out);
// A timestamp as a Beijing time cell, "YYYY-MM-DD HH:MM".
std::string BeijingTimeCell(const google::protobuf::Timestamp& t);
// A region's resource name from a cell holding its code, with or without "regions/";
// nullopt when it is not digits.
std::optional<std::string> RegionCell(absl::string_view cell);
// The enum value a cell names by one of `words` (Chinese, or English in any case); nullopt for
// none.
std::optional<int> WordCell(const std::map<std::string, int>& words, absl::string_view cell);
// The Chinese word `words` has for `value` (the first that is not ASCII); "" for none.
std::string WordOf(const std::map<std::string, int>& words, int value);
// The words of `words` joined for a reason: "独居, 无子女 (alone, no_family)".
std::string WordList(const std::map<std::string, int>& words);
// A number as a cell: "31.205" (at most 6 decimals, no trailing zeros).
std::string NumberCell(double value);

}  // namespace linli::roster

#endif  // LINLI_COMMON_ROSTER_ROSTER_H_
