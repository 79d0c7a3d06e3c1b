// Scheduling's tables. Today: the transactional outbox (events recorded in the same transaction
// as the change they describe, read by consumers with a cursor).
#ifndef LINLI_SERVICES_SCHEDULING_SCHEDULING_STORE_H_
#define LINLI_SERVICES_SCHEDULING_SCHEDULING_STORE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/storage/database.h"

namespace linli::scheduling {

const std::vector<storage::Migration>& SchedulingMigrations();

struct OutboxEvent {
  int64_t sequence = 0;
  std::string type;
  std::string subject;
  std::string payload;
  absl::Time create_time;
};

// Records an event inside the caller's transaction; the sequence is assigned by the database.
absl::StatusOr<int64_t> AppendEvent(storage::Transaction& tx, const OutboxEvent& event);

// Events with sequence > after, in order, at most `limit`.
absl::StatusOr<std::vector<OutboxEvent>> ListEvents(storage::Transaction& tx, int64_t after,
                                                    int limit);

// Highest recorded sequence (0 when empty).
absl::StatusOr<int64_t> LastSequence(storage::Transaction& tx);

}  // namespace linli::scheduling

#endif  // LINLI_SERVICES_SCHEDULING_SCHEDULING_STORE_H_
