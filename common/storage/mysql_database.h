// MySQL / MariaDB backend of storage::Database (MySQL Connector/C++ 1.1).
//
// Only the factory is exposed; the classes live in mysql_database.cc so that the connector
// headers (which pull in Boost) do not leak into every user of the storage layer.
#ifndef LINLI_COMMON_STORAGE_MYSQL_DATABASE_H_
#define LINLI_COMMON_STORAGE_MYSQL_DATABASE_H_

#include <memory>

#include "absl/status/statusor.h"
#include "common/storage/database.h"
#include "common/storage/database_internal.h"

namespace linli::storage::internal {

// Connects to the server, creates the database if missing (utf8mb4) and returns a pooled
// Database. UNAVAILABLE when the server cannot be reached within options.connect_timeout.
absl::StatusOr<std::unique_ptr<Database>> OpenMysqlDatabase(const MysqlUrl& url,
                                                            const OpenOptions& options);

}  // namespace linli::storage::internal

#endif  // LINLI_COMMON_STORAGE_MYSQL_DATABASE_H_
