// Feedback's notice tables: every recipient's notices (one per recipient and cause), the gate
// that keeps their sequence safe to follow with a cursor (common/storage/sequence_gate.h), quiet
// hours, webhooks (signing secrets sealed with the personal-data keyring) and the deliveries of
// notices to webhooks, written in the notice's transaction.
#ifndef LINLI_SERVICES_FEEDBACK_NOTICE_STORE_H_
#define LINLI_SERVICES_FEEDBACK_NOTICE_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/pii/field_cipher.h"
#include "common/storage/database.h"
#include "linli/feedback/v1/feedback.pb.h"
#include "services/feedback/notice_policy.h"

namespace linli::feedback {

// Migration 12's statements for `dialect`.
std::string NoticeSchema(storage::Dialect dialect);

// --- Notices -------------------------------------------------------------------------------------

// Inserts `draft` at `now` unless its recipient already has a notice of its cause, with one
// pending delivery for each webhook that wants it, due when `preferences` allow; the notice as
// stored (name, sequence, create_time set), or nullopt when it existed.
absl::StatusOr<std::optional<v1::Notice>> InsertNoticeOnce(storage::Transaction& tx,
                                                           const NoticeDraft& draft,
                                                           const v1::NoticePreferences& preferences,
                                                           absl::Time now);

struct NoticeQuery {
  std::string recipient;
  int64_t after_sequence = 0;
  bool newest_first = false;
  int64_t before_sequence = 0;  // newest first: below this (0: from the newest)
  int64_t settled = INT64_MAX;  // oldest first: at most this (SettledNotices)
  bool unread_only = false;
  int limit = 50;
};
absl::StatusOr<std::vector<v1::Notice>> QueryNotices(storage::Transaction& tx,
                                                     const NoticeQuery& query);
absl::StatusOr<int> CountUnread(storage::Transaction& tx, const std::string& recipient);
// The sequence up to which notices are final (see the header comment). Its own transactions.
absl::StatusOr<int64_t> SettledNotices(storage::Database& db);
// Marks read the recipient's unread notices among `sequences`, or all up to `up_to` when it is
// positive; how many changed. NOT_FOUND names a sequence that is not the recipient's.
absl::StatusOr<int> MarkRead(storage::Transaction& tx, const std::string& recipient,
                             const std::vector<int64_t>& sequences, int64_t up_to,
                             const std::string& actor, absl::Time now);

// Migration 15's statements for `dialect`: the elder's committee and street on each notice, so
// that a committee finds the elders its notices have not reached.
std::string NoticeRegionSchema(storage::Dialect dialect);

// An elder with notices not reached since at least a cutoff: unread (by the elder or anyone for
// them) and not delivered to a webhook that texts or calls them (deliver_phone).
struct UnreachedRow {
  std::string elder;      // the recipient, "elders/…"
  std::string committee;  // "regions/…"
  int unread = 0;         // unread notices raised at or before the cutoff
  int64_t oldest_us = 0;  // the oldest of them
};
// The elders of `region` (a committee or a street, "regions/…") with notices not reached since
// `cutoff` or earlier, the longest unreached first (then by elder), after the key
// (`after_oldest_us`, `after_elder`) of the previous page (after_elder empty: from the first);
// at most `limit`.
absl::StatusOr<std::vector<UnreachedRow>> QueryUnreached(storage::Transaction& tx,
                                                         const std::string& region,
                                                         absl::Time cutoff, int64_t after_oldest_us,
                                                         const std::string& after_elder, int limit);
// The notices of `elders` not reached, raised at or before `cutoff`, newest first (one query
// for a page of the call list).
absl::StatusOr<std::vector<v1::Notice>> UnreachedNotices(storage::Transaction& tx,
                                                         const std::vector<std::string>& elders,
                                                         absl::Time cutoff);

// --- Preferences ---------------------------------------------------------------------------------

// The recipient's stored preferences, or DefaultPreferences.
absl::StatusOr<v1::NoticePreferences> FindPreferences(storage::Transaction& tx,
                                                      const std::string& recipient);
absl::Status StorePreferences(storage::Transaction& tx, storage::Dialect dialect,
                              const v1::NoticePreferences& preferences);

// --- Webhooks ------------------------------------------------------------------------------------

struct WebhookRow {
  std::string id;
  v1::Webhook webhook;  // name set
  std::string secret;   // opened
  bool deleted = false;
};
absl::Status InsertWebhook(storage::Transaction& tx, const pii::FieldCipher& cipher,
                           const WebhookRow& row);
absl::StatusOr<std::optional<WebhookRow>> FindWebhook(storage::Transaction& tx,
                                                      const pii::FieldCipher& cipher,
                                                      const std::string& id);
// Active webhooks of `recipient`, oldest first (secrets not opened).
absl::StatusOr<std::vector<WebhookRow>> WebhooksOf(storage::Transaction& tx,
                                                   const std::string& recipient);
// Marks the webhook deleted and fails its pending deliveries.
absl::Status DeleteWebhookRow(storage::Transaction& tx, const std::string& id, absl::Time now);

struct DeliveryRow {
  int64_t id = 0;
  std::string webhook_id;
  int64_t notice = 0;
  std::string recipient;  // the notice's
  int state = 0;          // v1::DeliveryState
  int attempts = 0;
  int64_t next_attempt_us = 0;
  int64_t first_attempt_us = 0;
  int64_t last_attempt_us = 0;
  int64_t delivered_us = 0;
  std::string last_error;
  v1::WebhookDelivery ToProto() const;
};
// The deliveries of the webhooks of `recipient` (only `webhook_id` and `state` when set), newest
// first, below `before_id` (0: from the newest).
absl::StatusOr<std::vector<DeliveryRow>> QueryDeliveries(storage::Transaction& tx,
                                                         const std::string& recipient,
                                                         const std::string& webhook_id, int state,
                                                         int64_t before_id, int limit);
absl::StatusOr<std::optional<DeliveryRow>> FindDelivery(storage::Transaction& tx, int64_t id);
// Pending deliveries in id order, at most `limit`, with the webhook's recipient.
absl::StatusOr<std::vector<DeliveryRow>> PendingDeliveries(storage::Transaction& tx, int limit);
// Claims a pending delivery that is due at `now` for an attempt until `lease_until` unless
// another sender holds it; true when claimed.
absl::StatusOr<bool> ClaimDelivery(storage::Transaction& tx, int64_t id, absl::Time now,
                                   absl::Time lease_until);
// Stores the outcome of an attempt made under the claim that lasts until `lease_until`, and ends
// the claim; false (nothing written) when the claim was lost (expired and taken over).
absl::StatusOr<bool> RecordAttempt(storage::Transaction& tx, const DeliveryRow& d,
                                   absl::Time lease_until);
absl::Status UpdateDelivery(storage::Transaction& tx, const DeliveryRow& row);
// Hands back a claim (until `lease_until`) that was not attempted: the delivery is due again.
absl::Status ReleaseDelivery(storage::Transaction& tx, int64_t id, absl::Time lease_until);
// The stored notice of `sequence`.
absl::StatusOr<std::optional<v1::Notice>> FindNotice(storage::Transaction& tx, int64_t sequence);

}  // namespace linli::feedback

#endif  // LINLI_SERVICES_FEEDBACK_NOTICE_STORE_H_
