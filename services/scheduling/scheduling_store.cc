#include "services/scheduling/scheduling_store.h"

#include "common/idempotency.h"
#include "common/status_macros.h"

namespace linli::scheduling {

const std::vector<storage::Migration>& SchedulingMigrations() {
  static const auto* migrations = new std::vector<storage::Migration>{
      {1, "event outbox",
       R"sql(CREATE TABLE outbox_events (
  sequence INTEGER PRIMARY KEY AUTOINCREMENT,
  type TEXT NOT NULL,
  subject TEXT NOT NULL,
  payload BLOB NOT NULL,
  create_time_us INTEGER NOT NULL
))sql",
       R"sql(CREATE TABLE outbox_events (
  sequence BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  type VARCHAR(64) NOT NULL,
  subject VARCHAR(255) NOT NULL,
  payload LONGBLOB NOT NULL,
  create_time_us BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci)sql"},
      IdempotencyMigration(2),
  };
  return *migrations;
}

absl::StatusOr<int64_t> AppendEvent(storage::Transaction& tx, const OutboxEvent& event) {
  RETURN_IF_ERROR(
      tx.Exec("INSERT INTO outbox_events (type, subject, payload, create_time_us) "
              "VALUES (?, ?, ?, ?)",
              {event.type, event.subject, event.payload, absl::ToUnixMicros(event.create_time)})
          .status());
  return tx.LastInsertId();
}

absl::StatusOr<std::vector<OutboxEvent>> ListEvents(storage::Transaction& tx, int64_t after,
                                                    int limit) {
  ASSIGN_OR_RETURN(auto rows,
                   tx.Query("SELECT sequence, type, subject, payload, create_time_us FROM "
                            "outbox_events WHERE sequence > ? ORDER BY sequence LIMIT ?",
                            {after, static_cast<int64_t>(limit)}));
  std::vector<OutboxEvent> events;
  for (const storage::Row& row : rows) {
    events.push_back(OutboxEvent{row.GetInt(0), row.GetString(1), row.GetString(2),
                                 row.GetString(3), absl::FromUnixMicros(row.GetInt(4))});
  }
  return events;
}

absl::StatusOr<int64_t> LastSequence(storage::Transaction& tx) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT COALESCE(MAX(sequence), 0) FROM outbox_events"));
  return rows.empty() ? 0 : rows[0].GetInt(0);
}

}  // namespace linli::scheduling
