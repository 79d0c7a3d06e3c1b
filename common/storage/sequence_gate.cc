#include "common/storage/sequence_gate.h"

#include <limits>

#include "absl/strings/str_cat.h"

namespace linli::storage {

std::string GatedValueSql(absl::string_view gate_table) {
  return absl::StrCat("? + (SELECT 0 FROM ", gate_table,
                      " WHERE id = 1 /*! LOCK IN SHARE MODE */)");
}

absl::StatusOr<int64_t> SettledSequence(Database& db, absl::string_view gate_table,
                                        absl::string_view max_sql) {
  if (db.dialect() != Dialect::kMysql) return std::numeric_limits<int64_t>::max();
  int64_t settled = 0;
  // Granted once every transaction holding the gate has ended; new ones wait until this one
  // commits (InnoDB queues their share requests behind this one). Its own transaction, so that
  // writers wait only for these two statements and not for the caller's read. The MAX is a
  // statement of its own: folded into the locking SELECT as a subquery, MariaDB computed it
  // before the lock was granted.
  absl::Status status = db.RunInTransaction([&](Transaction& tx) -> absl::Status {
    absl::StatusOr<std::vector<Row>> gate =
        tx.Query(absl::StrCat("SELECT id FROM ", gate_table, " WHERE id = 1 FOR UPDATE"));
    if (!gate.ok()) return gate.status();
    // Without its row the gate would hold nothing back: refuse rather than skip rows.
    if (gate->size() != 1) {
      return absl::InternalError(absl::StrCat(gate_table, " has lost its row (id 1)"));
    }
    absl::StatusOr<std::vector<Row>> max = tx.Query(std::string(max_sql));
    if (!max.ok()) return max.status();
    settled = max->empty() ? 0 : (*max)[0].GetInt(0);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return settled;
}

}  // namespace linli::storage
