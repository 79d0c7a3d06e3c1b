// Protobuf messages stored in a column: services keep a resource's proto next to the columns
// their queries filter on, and parse it back here.
//
//   ASSIGN_OR_RETURN(v1::Elder stub, ParseProtoColumn<v1::Elder>(row, 5));
#ifndef LINLI_COMMON_STORAGE_PROTO_ROWS_H_
#define LINLI_COMMON_STORAGE_PROTO_ROWS_H_

#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/storage/database.h"

namespace linli::storage {

// DATA_LOSS when the bytes do not parse as a Message (a corrupt row, never bad input).
template <typename Message>
absl::StatusOr<Message> ParseProtoColumn(const Row& row, size_t column) {
  Message message;
  if (!message.ParseFromString(row.GetString(column))) {
    return absl::DataLossError(
        absl::StrCat("stored ", Message::descriptor()->name(), " does not parse"));
  }
  return message;
}

// ParseProtoColumn over every row.
template <typename Message>
absl::StatusOr<std::vector<Message>> ParseProtoColumns(const std::vector<Row>& rows,
                                                       size_t column) {
  std::vector<Message> out;
  out.reserve(rows.size());
  for (const Row& row : rows) {
    absl::StatusOr<Message> m = ParseProtoColumn<Message>(row, column);
    if (!m.ok()) return m.status();
    out.push_back(std::move(*m));
  }
  return out;
}

}  // namespace linli::storage

#endif  // LINLI_COMMON_STORAGE_PROTO_ROWS_H_
