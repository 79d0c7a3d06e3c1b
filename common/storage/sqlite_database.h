// SQLite backend of storage::Database (SQLite3 C API).
//
// Only the factory is exposed; the classes live in sqlite_database.cc so that <sqlite3.h> does
// not leak into every user of the storage layer.
#ifndef LINLI_COMMON_STORAGE_SQLITE_DATABASE_H_
#define LINLI_COMMON_STORAGE_SQLITE_DATABASE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/storage/database.h"

namespace linli::storage::internal {

// Opens (creating it and its parent directories if needed) the SQLite database file at `path`.
// UNAVAILABLE when the directory or the file cannot be created or opened.
absl::StatusOr<std::unique_ptr<Database>> OpenSqliteDatabase(const std::string& path,
                                                             const OpenOptions& options);

}  // namespace linli::storage::internal

#endif  // LINLI_COMMON_STORAGE_SQLITE_DATABASE_H_
