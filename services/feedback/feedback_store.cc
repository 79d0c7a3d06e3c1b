#include "services/feedback/feedback_store.h"

#include "common/idempotency.h"
#include "common/status_macros.h"

namespace linli::feedback {

const std::vector<storage::Migration>& FeedbackMigrations() {
  static const auto* migrations = new std::vector<storage::Migration>{
      {1, "consumer cursors",
       R"sql(CREATE TABLE consumer_cursors (
  source TEXT PRIMARY KEY,
  sequence INTEGER NOT NULL,
  update_time_us INTEGER NOT NULL
);
INSERT INTO consumer_cursors (source, sequence, update_time_us) VALUES ('scheduling', 0, 0))sql",
       R"sql(CREATE TABLE consumer_cursors (
  source VARCHAR(64) NOT NULL PRIMARY KEY,
  sequence BIGINT NOT NULL,
  update_time_us BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
INSERT INTO consumer_cursors (source, sequence, update_time_us) VALUES ('scheduling', 0, 0))sql"},
      IdempotencyMigration(2),
  };
  return *migrations;
}

absl::StatusOr<std::vector<ConsumerCursor>> ListCursors(storage::Transaction& tx) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT source, sequence, update_time_us FROM "
                                       "consumer_cursors ORDER BY source"));
  std::vector<ConsumerCursor> cursors;
  for (const storage::Row& row : rows) {
    cursors.push_back(
        ConsumerCursor{row.GetString(0), row.GetInt(1), absl::FromUnixMicros(row.GetInt(2))});
  }
  return cursors;
}

}  // namespace linli::feedback
