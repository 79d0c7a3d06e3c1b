#include "common/storage/erase.h"

namespace linli::storage {

absl::Status OverwriteFreedBytes(Database& db, Transaction& tx) {
  if (db.dialect() != Dialect::kSqlite) return absl::OkStatus();
  return tx.Query("PRAGMA secure_delete = ON", {}).status();
}

absl::Status TruncateWal(Database& db) {
  if (db.dialect() != Dialect::kSqlite) return absl::OkStatus();
  return db.ExecRaw("PRAGMA wal_checkpoint(TRUNCATE)");
}

}  // namespace linli::storage
