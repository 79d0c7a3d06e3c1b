// The elders' roster as a committee keeps it in a spreadsheet: its columns (Chinese headers, or
// the English names), a template to fill in, each row read into the Elder that CreateElder takes,
// and the report's words for each column in Chinese. No gRPC, no database: the gateway
// (ConsoleService.ImportRoster) and the CLI (`linli import`) share it.
#ifndef LINLI_COMMON_ROSTER_ELDERS_H_
#define LINLI_COMMON_ROSTER_ELDERS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/roster/csv.h"
#include "linli/common/v1/common.pb.h"
#include "linli/registry/v1/registry.pb.h"

namespace linli::roster {

// One column of a roster.
struct Column {
  const char* header;   // the Chinese header, as the template writes it: "身份证号"
  const char* english;  // the English name a header may use instead: "id_number"
  const char* field;    // the Elder field it fills: "elder.id_number"
  const char* example;  // the template's example value
  const char* expect;   // what a value must be, in Chinese (the report's reason_zh)
  bool required;
};

// The columns of the elders' roster, in template order.
const std::vector<Column>& ElderColumns();

// The template: a UTF-8 BOM (so Excel reads it as UTF-8), the header row and an example row.
std::string ElderTemplate();

// The header row of the roster's columns (no BOM, no line break).
std::string ElderHeaderRow();
// `elder` as one row under ElderHeaderRow (no line break): what ReadElders reads back into the
// same elder (consents as granted purposes, without who recorded them).
std::string ElderCsvRow(const registry::v1::Elder& elder);

// An elder read from a row.
struct ElderRow {
  int line = 0;
  registry::v1::Elder elder;
};

// What a roster's rows read as: the elders of the rows that read, and the problems of those
// that do not (by line and column, in English and Chinese).
struct ElderRoster {
  std::vector<ElderRow> rows;
  std::vector<common::v1::RowProblem> problems;
};

// Reads `records` (the first is the header row) into elders; a data record's line in the file
// is its line in the records plus `line_offset`. INVALID_ARGUMENT for the file as a whole: no
// header, a header naming an unknown or repeated column, a required column missing.
absl::StatusOr<ElderRoster> ReadElders(const std::vector<CsvRecord>& records, int line_offset);

// Fills the column and the Chinese reason of a problem the registry reported by field
// ("elder.consents[0].purpose" -> 同意), unless they are set.
void DescribeElderProblem(common::v1::RowProblem& problem);

}  // namespace linli::roster

#endif  // LINLI_COMMON_ROSTER_ELDERS_H_
