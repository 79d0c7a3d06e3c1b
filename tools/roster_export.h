// Rosters as tables for people: the street's elders, organisations and workers as the caller sees
// them (masked by the gateway), written as CSV (UTF-8 with the BOM Excel looks for) or as an
// Excel workbook (libxlsxwriter). No gRPC: the `linli export` command fetches the records.
#ifndef LINLI_TOOLS_ROSTER_EXPORT_H_
#define LINLI_TOOLS_ROSTER_EXPORT_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "linli/registry/v1/registry.pb.h"

namespace linli::cli {

// A header row (each cell "中文 english") and the rows under it.
struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};

Table EldersTable(const std::vector<registry::v1::Elder>& elders);
Table OrganisationsTable(const std::vector<registry::v1::Organisation>& organisations);
Table WorkersTable(const std::vector<registry::v1::Worker>& workers);

// RFC 4180 CSV with CRLF line ends, preceded by the UTF-8 BOM. A cell a spreadsheet would run as
// a formula (starting with =, +, @, or - not followed by a digit) is prefixed with '.
std::string ToCsv(const Table& table);

// Writes `table` as one worksheet named `sheet` of a new workbook at `path`: the header bold and
// frozen, with a filter. INTERNAL with libxlsxwriter's message when the file cannot be written.
absl::Status WriteXlsx(const Table& table, const std::string& sheet, const std::string& path);

}  // namespace linli::cli

#endif  // LINLI_TOOLS_ROSTER_EXPORT_H_
