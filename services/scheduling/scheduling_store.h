// Scheduling's tables. Today: the transactional outbox (events recorded in the same transaction
// as the change they describe, read by consumers with a cursor).
#ifndef LINLI_SERVICES_SCHEDULING_SCHEDULING_STORE_H_
#define LINLI_SERVICES_SCHEDULING_SCHEDULING_STORE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/storage/database.h"
#include "linli/scheduling/v1/scheduling.pb.h"

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

// --- Commitments ------------------------------------------------------------------------------

absl::Status InsertCommitment(storage::Transaction& tx, const std::string& id,
                              const v1::Commitment& commitment);
absl::Status UpdateCommitment(storage::Transaction& tx, const std::string& id,
                              const v1::Commitment& commitment);
absl::StatusOr<std::optional<v1::Commitment>> FindCommitment(storage::Transaction& tx,
                                                             const std::string& id);
// Commitments with id > after (optionally of one elder / only active), ordered by id.
absl::StatusOr<std::vector<v1::Commitment>> QueryCommitments(storage::Transaction& tx,
                                                             const std::string& elder,
                                                             bool only_active,
                                                             const std::string& after_id,
                                                             int limit);

// --- Visits -----------------------------------------------------------------------------------

// A visit row: the proto plus the keys queries use.
struct VisitRow {
  std::string id;
  std::string commitment_id;
  v1::Visit visit;
  int64_t window_start_us = 0;
};
// ALREADY_EXISTS when the commitment already has a visit for this occurrence.
absl::Status InsertVisit(storage::Transaction& tx, const VisitRow& row);
absl::Status UpdateVisit(storage::Transaction& tx, const VisitRow& row);
absl::StatusOr<std::optional<VisitRow>> FindVisit(storage::Transaction& tx, const std::string& id);
// Occurrence keys of a commitment's visits in [from_key, to_key).
absl::StatusOr<std::vector<std::string>> OccurrenceKeys(storage::Transaction& tx,
                                                        const std::string& commitment_id,
                                                        const std::string& from_key,
                                                        const std::string& to_key);
// The one way a single visit changes: in one transaction, find it (NOT_FOUND naming `name`),
// require `expected` state (FAILED_PRECONDITION otherwise), let `change` edit it (its error aborts
// the whole change), store it and record `event` in the outbox. `result` gets the new visit.
absl::Status ChangeVisit(storage::Database& db, absl::Time now, const std::string& id,
                         const std::string& name, v1::VisitState expected, const std::string& event,
                         const std::function<absl::Status(v1::Visit&)>& change, v1::Visit* result);

struct VisitFilter {
  std::string commitment_id;  // "" = any
  std::string elder;          // "" = any
  int64_t from_us = INT64_MIN;
  int64_t to_us = INT64_MAX;
  int state = 0;  // 0 = any
};
// Ordered by (window_start_us, id), after the key (after_start_us, after_id).
absl::StatusOr<std::vector<VisitRow>> QueryVisits(storage::Transaction& tx,
                                                  const VisitFilter& filter, int64_t after_start_us,
                                                  const std::string& after_id, int limit);

}  // namespace linli::scheduling

#endif  // LINLI_SERVICES_SCHEDULING_SCHEDULING_STORE_H_
