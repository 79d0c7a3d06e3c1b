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
//       [&](storage::Transaction& tx) -> absl::Status { ...; return absl::OkStatus(); }, clock_));
//
// The clock is the service's own (injected) clock, never defaulted: the stored time and the
// retention check must read the same clock, or a test at a fixed date breaks a week later.
//
// Stored responses are kept for kIdempotencyRetention (a retry after that is a new call) and are
// tagged with the resource they created (the `name` of the response's message field), so that
// erasing a person's data can also redact the stored copies (RedactIdempotentResponses): a late
// retry then gets the redacted response and re-creates nothing.
//
// Each service's schema includes IdempotencyMigration() in one of its migrations.
#ifndef LINLI_COMMON_IDEMPOTENCY_H_
#define LINLI_COMMON_IDEMPOTENCY_H_

#include <functional>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/storage/database.h"
#include "google/protobuf/message.h"

namespace linli {

// DDL of the idempotency_keys table, for a service's migration list.
storage::Migration IdempotencyMigration(int version);

// How long a request_id is remembered.
inline constexpr absl::Duration kIdempotencyRetention = absl::Hours(24);

// Replaces the stored responses of `method` about `resource` (e.g. "elders/123") with
// `replacement` (the same response type), inside the caller's transaction; used when the
// resource's personal data is erased.
absl::Status RedactIdempotentResponses(storage::Transaction& tx, absl::string_view method,
                                       absl::string_view resource,
                                       const google::protobuf::Message& replacement);

// Rewrites the stored responses of `method` in place, inside the caller's transaction: `rewrite`
// gets each one parsed into a copy of `prototype` (the method's response type) and returns true
// when it changed it; returns how many were rewritten. For the start-up jobs that take personal
// data out of replies stored before it was sealed (the call puts it back from its own request,
// which a retry must repeat exactly). A response that does not parse is left alone.
absl::StatusOr<int> RewriteIdempotentResponses(
    storage::Transaction& tx, absl::string_view method, const google::protobuf::Message& prototype,
    const std::function<bool(google::protobuf::Message&)>& rewrite);

// Validates a request_id: empty (no idempotency) or 1-128 printable ASCII characters.
absl::Status ValidateRequestId(absl::string_view request_id);

// Runs `body` in one transaction with `response` recorded under (method, request_id). With an
// empty request_id it simply runs `body` in a transaction. `request` is fingerprinted with a
// deterministic serialization.
absl::Status RunIdempotent(storage::Database& db, absl::string_view method,
                           absl::string_view request_id, const google::protobuf::Message& request,
                           google::protobuf::Message* response,
                           const std::function<absl::Status(storage::Transaction&)>& body,
                           const Clock& clock);

// The response stored for a retry of (method, request_id, request): true with `response` filled,
// false when there is none (no request_id, never seen, or expired); INVALID_ARGUMENT when the id
// was used with another request. For calls that check something outside their transaction (a
// registry lookup) before RunIdempotent: a retry gets its first answer even when that check
// would now fail or cannot be made.
absl::StatusOr<bool> FindIdempotentResponse(storage::Database& db, absl::string_view method,
                                            absl::string_view request_id,
                                            const google::protobuf::Message& request,
                                            google::protobuf::Message* response,
                                            const Clock& clock);

}  // namespace linli

#endif  // LINLI_COMMON_IDEMPOTENCY_H_
