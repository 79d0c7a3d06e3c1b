// Feedback's tables. Today: the cursors of the upstream event streams it consumes (stored in the
// same transaction as the effects of the events, so applying an event and moving the cursor are
// one atomic step).
#ifndef LINLI_SERVICES_FEEDBACK_FEEDBACK_STORE_H_
#define LINLI_SERVICES_FEEDBACK_FEEDBACK_STORE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/storage/database.h"

namespace linli::feedback {

const std::vector<storage::Migration>& FeedbackMigrations();

struct ConsumerCursor {
  std::string source;
  int64_t sequence = 0;
  absl::Time update_time;
};

absl::StatusOr<std::vector<ConsumerCursor>> ListCursors(storage::Transaction& tx);

}  // namespace linli::feedback

#endif  // LINLI_SERVICES_FEEDBACK_FEEDBACK_STORE_H_
