// Making rewritten personal data really go from an SQLite file: when a start-up job seals rows
// that were stored in plain text (or erases a person's data), the old bytes must not linger in
// the file's free pages or in the write-ahead log. Nothing to do on MySQL/MariaDB, whose pages
// are the server's business.
//
//   RETURN_IF_ERROR(db.RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
//     RETURN_IF_ERROR(storage::OverwriteFreedBytes(db, tx));
//     ... rewrite the rows ...
//   }));
//   RETURN_IF_ERROR(storage::TruncateWal(db));
#ifndef LINLI_COMMON_STORAGE_ERASE_H_
#define LINLI_COMMON_STORAGE_ERASE_H_

#include "absl/status/status.h"
#include "common/storage/database.h"

namespace linli::storage {

// On SQLite, makes this transaction's connection overwrite the bytes of rewritten rows, so that
// plain text does not linger in the file's free space; nothing elsewhere.
absl::Status OverwriteFreedBytes(Database& db, Transaction& tx);

// On SQLite, copies the pages the WAL holds into the database file and empties the WAL (after
// OverwriteFreedBytes rewrites, so that old page images go too); nothing elsewhere.
absl::Status TruncateWal(Database& db);

}  // namespace linli::storage

#endif  // LINLI_COMMON_STORAGE_ERASE_H_
