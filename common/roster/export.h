// Rosters as tables for people: the street's records as the caller sees them (masked by the
// registry), written as CSV (UTF-8 with the BOM Excel looks for) or as an Excel workbook
// (libxlsxwriter). No gRPC: ConsoleService.ExportRoster fetches the records.
#ifndef LINLI_COMMON_ROSTER_EXPORT_H_
#define LINLI_COMMON_ROSTER_EXPORT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/roster/roster.h"
#include "linli/registry/v1/registry.pb.h"

namespace linli::roster {

// A header row (each cell "中文 english") and the rows under it.
struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};

// Elders with what the registry adds to a roster row: their resource name, status and when
// they were registered (the ID number and phone as masked as the caller saw them).
Table EldersTable(const std::vector<registry::v1::Elder>& elders);
// Records of `roster` in its own columns, the header Chinese: what its import reads back.
Table RosterTable(const Roster& roster,
                  const std::vector<const google::protobuf::Message*>& records);

// RFC 4180 CSV with CRLF line ends, preceded by the UTF-8 BOM. A cell a spreadsheet would run as
// a formula (starting with =, +, @, or - not followed by a digit) is prefixed with '.
std::string ToCsv(const Table& table);

// `table` as the bytes of a workbook with one worksheet named `sheet`: the header bold and
// frozen, with a filter. INTERNAL with libxlsxwriter's message when it cannot be written (the
// workbook is made in a temporary file).
absl::StatusOr<std::string> ToXlsx(const Table& table, const std::string& sheet);

}  // namespace linli::roster

#endif  // LINLI_COMMON_ROSTER_EXPORT_H_
