// Reading the rosters a street keeps in spreadsheets: text in whatever encoding Excel wrote it
// (UTF-8 with or without a BOM, or GB18030 on a Chinese Windows), and CSV as RFC 4180 writes it
// (commas, double-quoted fields with "" inside and line breaks, CRLF or LF).
#ifndef LINLI_COMMON_ROSTER_CSV_H_
#define LINLI_COMMON_ROSTER_CSV_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace linli::roster {

enum class Encoding { kUtf8, kUtf8WithBom, kGb18030 };

// "UTF-8", "UTF-8 with BOM", "GB18030".
const char* EncodingName(Encoding encoding);

// The text as UTF-8: a UTF-8 BOM is dropped; valid UTF-8 is taken as it is; anything else is
// converted from GB18030 (glibc's iconv). INVALID_ARGUMENT when it is neither.
absl::StatusOr<std::string> DecodeText(absl::string_view bytes, Encoding* encoding);

// One CSV record: its fields and the line (1-based) it starts on.
struct CsvRecord {
  int line = 0;
  std::vector<std::string> fields;
  // Where the record starts and ends in the text (its line break excluded).
  size_t begin = 0;
  size_t end = 0;
};

// The records of `text`; blank lines are skipped, a record's fields are kept as written (no
// trimming). INVALID_ARGUMENT naming the line for a quote left open or a quote inside an
// unquoted field.
absl::StatusOr<std::vector<CsvRecord>> ParseCsv(absl::string_view text);

// A field as CSV writes it: quoted when it holds a comma, a quote or a line break.
std::string CsvField(absl::string_view value);

}  // namespace linli::roster

#endif  // LINLI_COMMON_ROSTER_CSV_H_
