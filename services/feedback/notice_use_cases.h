// The notice use cases: raising notices inside the transaction of what causes them (the event
// consumer, work orders, alerts) and by the sweep (running late, nobody coming, safety
// escalated); every recipient's inbox with waiting reads for an open app's stream; quiet hours;
// webhooks and their delivery log. Rules: notice_policy.h. Tables: notice_store.h. Delivery:
// webhook_sender.h. No gRPC: requests arrive validated by the adapter (feedback_notices.cc).
#ifndef LINLI_SERVICES_FEEDBACK_NOTICE_USE_CASES_H_
#define LINLI_SERVICES_FEEDBACK_NOTICE_USE_CASES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "common/pagination.h"
#include "common/pii/field_cipher.h"
#include "common/storage/database.h"
#include "linli/feedback/v1/feedback.pb.h"
#include "services/feedback/feedback_store.h"
#include "services/feedback/notice_policy.h"
#include "services/feedback/notice_store.h"

namespace linli::feedback {

// Wakes the readers waiting for new notices and the webhook sender when notices were committed
// in this process (other replicas' notices are found by polling).
class NoticeSignal {
 public:
  void Notify();
  uint64_t generation() const;
  // Waits until the generation is past `seen` or `timeout` passes; the generation then.
  uint64_t WaitPast(uint64_t seen, absl::Duration timeout) const;

 private:
  mutable absl::Mutex mu_;
  uint64_t generation_ = 0;
};

class NoticeUseCases {
 public:
  // `cipher` seals the webhooks' signing secrets.
  NoticeUseCases(storage::Database& db, const Clock& clock, const pii::FieldCipher& cipher)
      : db_(db), clock_(clock), cipher_(cipher) {}

  // Raises `drafts` inside the caller's transaction (once per recipient and cause, with their
  // webhook deliveries); how many were new. Call Committed() once the transaction committed.
  absl::StatusOr<int> Raise(storage::Transaction& tx, const std::vector<NoticeDraft>& drafts,
                            absl::Time now);
  void Committed() { signal_.Notify(); }
  // Inserts the alert of `row` unless its key was raised before (true when inserted) and, for a
  // safety alert, raises the committee's notice; inside the caller's transaction.
  absl::StatusOr<bool> RaiseAlert(storage::Transaction& tx, const AlertRow& row, absl::Time now);
  NoticeSignal& signal() { return signal_; }

  // The time-based notices as of `now`: visits running late or with nobody coming, safety alerts
  // not acknowledged in time. How many were raised.
  absl::StatusOr<int> Sweep(absl::Time now);

  // A page of the recipient's notices; an oldest-first read with wait_seconds waits for the
  // first one.
  absl::Status List(const v1::ListNoticesRequest& request, v1::ListNoticesResponse* response);
  // Marks notices read by `actor`; `sequences` from the request's names.
  absl::StatusOr<v1::MarkNoticesReadResponse> MarkRead(const std::string& recipient,
                                                       const std::vector<int64_t>& sequences,
                                                       int64_t up_to, const std::string& actor);
  // The elders of `region` whose notices nobody opened for `unread_for`: a page of the call
  // list (page.after: the previous page's last key, see UnreachedKey in the .cc).
  absl::StatusOr<v1::ListUnreachedEldersResponse> Unreached(const std::string& region,
                                                            absl::Duration unread_for,
                                                            const Page& page);
  absl::StatusOr<v1::NoticePreferences> Preferences(const std::string& recipient);
  absl::StatusOr<v1::NoticePreferences> SetPreferences(const v1::NoticePreferences& preferences);

  absl::StatusOr<v1::CreateWebhookResponse> CreateWebhook(const v1::Webhook& webhook,
                                                          const std::string& actor);
  absl::StatusOr<std::vector<v1::Webhook>> Webhooks(const std::string& recipient);
  // NOT_FOUND unless the webhook is the recipient's.
  absl::Status DeleteWebhook(const std::string& id, const std::string& recipient);
  absl::StatusOr<std::vector<DeliveryRow>> Deliveries(const std::string& recipient,
                                                      const std::string& webhook_id, int state,
                                                      int64_t before_id, int limit);
  // Due now again; NOT_FOUND unless it is a delivery of one of the recipient's webhooks.
  absl::StatusOr<v1::WebhookDelivery> RetryDelivery(int64_t id, const std::string& recipient);

 private:
  storage::Database& db_;
  const Clock& clock_;
  const pii::FieldCipher& cipher_;
  NoticeSignal signal_;
};

}  // namespace linli::feedback

#endif  // LINLI_SERVICES_FEEDBACK_NOTICE_USE_CASES_H_
