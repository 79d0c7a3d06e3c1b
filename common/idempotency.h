// request_id idempotency (AIP-155) for mutating calls, one mechanism for every service.
//
// The first call with a request_id claims the id inside the same transaction as its effect and
// stores its response; a retry with the same id and the same request gets the stored response
// again; the same id with a different request is INVALID_ARGUMENT (ERROR_REASON_REQUEST_ID_REUSED).
// Concurrent calls with one id: the database's primary key on the claim serialises them, the
// loser's transaction is retried and then finds the winner's response. A call that fails stores
// nothing, so it may be retried with the same id.
//
//   CreateRegionResponse response;
//   RETURN_IF_ERROR(RunIdempotent(db, "CreateRegion", request.request_id(), request, &response,
//       [&](storage::Transaction& tx) -> absl::Status { ...; return absl::OkStatus(); }));
//
// Each service's schema includes IdempotencyMigrationSql() in one of its migrations.
#ifndef LINLI_COMMON_IDEMPOTENCY_H_
#define LINLI_COMMON_IDEMPOTENCY_H_

#include <functional>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/clock.h"
#include "common/storage/database.h"
#include "google/protobuf/message.h"

namespace linli {

// DDL of the idempotency_keys table, for a service's migration list.
storage::Migration IdempotencyMigration(int version);

// Validates a request_id: empty (no idempotency) or 1-128 printable ASCII characters.
absl::Status ValidateRequestId(absl::string_view request_id);

// Runs `body` in one transaction with `response` recorded under (method, request_id). With an
// empty request_id it simply runs `body` in a transaction. `request` is fingerprinted with a
// deterministic serialization.
absl::Status RunIdempotent(storage::Database& db, absl::string_view method,
                           absl::string_view request_id, const google::protobuf::Message& request,
                           google::protobuf::Message* response,
                           const std::function<absl::Status(storage::Transaction&)>& body,
                           const Clock& clock = Clock::Real());

}  // namespace linli

#endif  // LINLI_COMMON_IDEMPOTENCY_H_
