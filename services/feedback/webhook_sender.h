// Delivers notices to webhooks: every due delivery is POSTed, signed (common/auth/
// webhook_signature.h), in order per webhook and recipient — a later notice to the same
// recipient waits until the earlier one is delivered or given up — and retried with backoff and
// jitter (notice_policy.h NextAttempt) until kDeliveryGiveUp. A pass claims the due deliveries
// with a lease in one transaction (several replicas may send at once), sends the (webhook,
// recipient) lanes on `senders` threads, at most `per_webhook` of them to one webhook, so within
// a pass a slow or dead endpoint holds up only its own lanes, records the outcomes in batches
// and hands back the claims it did not attempt. A pass starts no attempt after 10 s, so a slow
// endpoint delays the next pass (the other webhooks' new notices) by at most about 10 s plus one
// attempt's timeout. Every attempt is in the delivery log. A webhook
// with deliver_phone (a street's text-message or voice-call provider) gets, with each notice to an
// elder, the number to reach them by, asked of the Directory for that attempt (an audited read).
//
//   WebhookSender sender(db, clock, cipher, service.notices().signal(), &directory);
//   std::thread t([&] { sender.RunUntil(stopping, absl::Seconds(1)); });
#ifndef LINLI_SERVICES_FEEDBACK_WEBHOOK_SENDER_H_
#define LINLI_SERVICES_FEEDBACK_WEBHOOK_SENDER_H_

#include <string>
#include <vector>

#include "absl/random/random.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "common/clock.h"
#include "common/pii/field_cipher.h"
#include "common/storage/database.h"
#include "services/feedback/directory.h"
#include "services/feedback/notice_store.h"
#include "services/feedback/notice_use_cases.h"

namespace linli::feedback {

struct WebhookSenderOptions {
  absl::Duration connect_timeout = absl::Seconds(5);
  absl::Duration read_timeout = absl::Seconds(10);
  // How long an attempt is claimed for (another replica takes it over after).
  absl::Duration lease = absl::Seconds(60);
  // The CA bundle https:// endpoints are verified against.
  std::string ca_file = "/etc/ssl/certs/ca-certificates.crt";
  // Lanes sent at once, and at most this many of them to one webhook.
  int senders = 8;
  int per_webhook = 4;
};

class WebhookSender {
 public:
  // `directory` gives the phone numbers for deliver_phone webhooks (nullptr: their deliveries
  // fail, "no registry to ask").
  WebhookSender(storage::Database& db, const Clock& clock, const pii::FieldCipher& cipher,
                NoticeSignal& signal, Directory* directory, WebhookSenderOptions options = {})
      : db_(db),
        clock_(clock),
        cipher_(cipher),
        signal_(signal),
        directory_(directory),
        options_(std::move(options)) {}

  // Attempts every delivery due now whose recipient has no earlier one waiting (lanes in
  // parallel); the number of attempts made.
  absl::StatusOr<int> SendDue();
  // Sends until `stopping` is notified: again at once after a pass that attempted something,
  // else when notices are raised here or after `interval`. Errors are logged and retried.
  void RunUntil(absl::Notification& stopping, absl::Duration interval);

 private:
  struct Lane;
  // Sends a lane's claimed deliveries in order until one fails or it is `stop_starting`: the
  // attempts to record go to `outcomes`, the claims not attempted to `unsent`.
  void SendLane(Lane& lane, absl::Time stop_starting, absl::BitGen& random,
                std::vector<DeliveryRow>& outcomes, std::vector<int64_t>& unsent);

  storage::Database& db_;
  const Clock& clock_;
  const pii::FieldCipher& cipher_;
  NoticeSignal& signal_;
  Directory* directory_;
  WebhookSenderOptions options_;
};

}  // namespace linli::feedback

#endif  // LINLI_SERVICES_FEEDBACK_WEBHOOK_SENDER_H_
