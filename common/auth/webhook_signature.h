// The signature of a webhook delivery (FeedbackService webhooks): hex HMAC-SHA256 of
// "{timestamp}.{body}" keyed with the webhook's signing secret, sent as
//   Linli-Timestamp: 1767000000
//   Linli-Signature: v1=<64 hex digits>
// A receiver recomputes it, compares in constant time, and refuses a timestamp far from its own
// clock (a replayed request).
//
//   std::string signature = SignWebhook(secret, timestamp, body);        // the sender
//   absl::Status ok = VerifyWebhook(secret, headers_ts, headers_sig, body, now, absl::Minutes(5));
#ifndef LINLI_COMMON_AUTH_WEBHOOK_SIGNATURE_H_
#define LINLI_COMMON_AUTH_WEBHOOK_SIGNATURE_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace linli::auth {

inline constexpr char kWebhookTimestampHeader[] = "Linli-Timestamp";
inline constexpr char kWebhookSignatureHeader[] = "Linli-Signature";
inline constexpr char kWebhookDeliveryHeader[] = "Linli-Delivery";

// "v1=" followed by the hex HMAC-SHA256 of "{timestamp}.{body}".
std::string SignWebhook(absl::string_view secret, int64_t timestamp, absl::string_view body);

// OK when `signature` is SignWebhook(secret, timestamp, body) and the timestamp (decimal unix
// seconds) lies within `tolerance` of `now`; UNAUTHENTICATED saying which check failed.
absl::Status VerifyWebhook(absl::string_view secret, absl::string_view timestamp,
                           absl::string_view signature, absl::string_view body, absl::Time now,
                           absl::Duration tolerance);

}  // namespace linli::auth

#endif  // LINLI_COMMON_AUTH_WEBHOOK_SIGNATURE_H_
