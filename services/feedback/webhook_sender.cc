#include "services/feedback/webhook_sender.h"

#include <map>
#include <optional>
#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/auth/webhook_signature.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/status_macros.h"
#include "google/protobuf/util/json_util.h"
#include "httplib.h"
#include "services/feedback/notice_store.h"

namespace linli::feedback {
namespace {

constexpr int kPassSize = 1000;

// "https://host:port/path?q" -> ("https://host:port", "/path?q").
std::pair<std::string, std::string> SplitUrl(const std::string& url) {
  const size_t scheme = url.find("://");
  const size_t path = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (path == std::string::npos) return {url, "/"};
  return {url.substr(0, path), url.substr(path)};
}

struct Outcome {
  bool delivered = false;
  std::string error;
  bool final = false;  // failed for good: not retried
};

// For a deliver_phone webhook and a notice to an elder: sets notice.phone from the directory (an
// audited read). An error (final when the elder has no phone on record) when it cannot be had.
Outcome AddPhone(Directory* directory, const v1::Webhook& webhook, v1::Notice& notice) {
  Outcome outcome;
  if (!webhook.deliver_phone() || !absl::StartsWith(notice.recipient(), "elders/")) {
    return outcome;
  }
  if (directory == nullptr) {
    outcome.error = "no registry to ask for the phone number";
    return outcome;
  }
  absl::StatusOr<std::string> phone = directory->PhoneToReach(
      notice.recipient(), absl::StrCat("webhook:", webhook.name()),
      absl::StrCat("通知投递 delivery of ", notice.name(), " to ", webhook.name()));
  if (absl::IsNotFound(phone.status()) || (phone.ok() && phone->empty())) {
    outcome.error = absl::StrCat(notice.recipient(), " has no phone on record");
    outcome.final = true;  // asking again will not help; the elder stays on the call list
  } else if (!phone.ok()) {
    outcome.error = std::string(phone.status().message());
  } else {
    notice.set_phone(*phone);
  }
  return outcome;
}

// One signed POST of `notice` to the webhook (delivery `id`, at `now`).
Outcome Post(const WebhookSenderOptions& options, const WebhookRow& hook, const v1::Notice& notice,
             int64_t id, absl::Time now) {
  Outcome outcome;
  std::string body;
  google::protobuf::util::JsonPrintOptions json;
  json.preserve_proto_field_names = false;
  if (!google::protobuf::util::MessageToJsonString(notice, &body, json).ok()) {
    outcome.error = "notice does not encode as JSON";
    return outcome;
  }
  const int64_t timestamp = absl::ToUnixSeconds(now);
  const auto [origin, path] = SplitUrl(hook.webhook.url());
  httplib::Client client(origin);
  client.set_connection_timeout(absl::ToChronoSeconds(options.connect_timeout));
  client.set_read_timeout(absl::ToChronoSeconds(options.read_timeout));
  client.set_follow_location(false);
  if (absl::StartsWith(origin, "https://")) {
    client.enable_server_certificate_verification(true);
    client.set_ca_cert_path(options.ca_file.c_str());
  }
  httplib::Headers headers = {
      {auth::kWebhookDeliveryHeader, absl::StrCat("webhookDeliveries/", id)},
      {auth::kWebhookTimestampHeader, absl::StrCat(timestamp)},
      {auth::kWebhookSignatureHeader, auth::SignWebhook(hook.secret, timestamp, body)},
      {"User-Agent", "linli-webhooks/1"}};
  httplib::Result result = client.Post(path, headers, body, "application/json");
  if (!result) {
    outcome.error = httplib::to_string(result.error());
  } else if (result->status >= 200 && result->status < 300) {
    outcome.delivered = true;
  } else {
    outcome.error = absl::StrCat("HTTP ", result->status);
  }
  return outcome;
}

}  // namespace

absl::StatusOr<int> WebhookSender::SendDue() {
  std::vector<DeliveryRow> pending;
  RETURN_IF_ERROR(db_.RunInTransaction(
      [&](storage::Transaction& tx) -> absl::Status {
        ASSIGN_OR_RETURN(pending, PendingDeliveries(tx, kPassSize));
        return absl::OkStatus();
      },
      {.read_only = true}));
  static auto& attempts_total = metrics::Registry::Default().AddCounter(
      "linli_webhook_attempts_total", "Webhook delivery attempts, by outcome.", {"outcome"});
  std::set<std::pair<std::string, std::string>> blocked;  // (webhook, recipient) waiting
  std::map<std::string, std::optional<WebhookRow>> hooks;
  int attempted = 0;
  for (DeliveryRow& d : pending) {
    const auto key = std::make_pair(d.webhook_id, d.recipient);
    if (blocked.contains(key)) continue;
    const absl::Time now = clock_.Now();
    if (d.next_attempt_us > absl::ToUnixMicros(now)) {
      blocked.insert(key);  // later notices to this recipient wait for this one
      continue;
    }
    bool claimed = false;
    std::optional<v1::Notice> notice;
    RETURN_IF_ERROR(db_.RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
      ASSIGN_OR_RETURN(claimed, ClaimDelivery(tx, d.id, now, now + options_.lease));
      if (!claimed) return absl::OkStatus();
      ASSIGN_OR_RETURN(notice, FindNotice(tx, d.notice));
      if (!hooks.contains(d.webhook_id)) {
        ASSIGN_OR_RETURN(hooks[d.webhook_id], FindWebhook(tx, cipher_, d.webhook_id));
      }
      return absl::OkStatus();
    }));
    if (!claimed) {
      blocked.insert(key);  // another replica is sending it
      continue;
    }
    const std::optional<WebhookRow>& hook = hooks[d.webhook_id];
    Outcome outcome;
    if (!hook.has_value() || hook->deleted || !notice.has_value()) {
      outcome.error = "webhook deleted";
      outcome.final = true;
    } else {
      outcome = AddPhone(directory_, hook->webhook, *notice);
      if (outcome.error.empty()) outcome = Post(options_, *hook, *notice, d.id, now);
    }
    ++attempted;
    attempts_total.WithLabels({outcome.delivered ? "delivered" : "failed"}).Increment();
    const absl::Time done = clock_.Now();
    d.attempts += 1;
    d.last_attempt_us = absl::ToUnixMicros(done);
    if (d.first_attempt_us == 0) d.first_attempt_us = absl::ToUnixMicros(now);
    if (outcome.delivered) {
      d.state = v1::DELIVERY_STATE_DELIVERED;
      d.delivered_us = absl::ToUnixMicros(done);
      d.last_error.clear();
    } else {
      d.last_error = outcome.error;
      std::optional<absl::Time> next =
          outcome.final ? std::nullopt
                        : NextAttempt(d.attempts, absl::FromUnixMicros(d.first_attempt_us), done,
                                      absl::Uniform(random_, 0.5, 1.0));
      if (next.has_value()) {
        d.next_attempt_us = absl::ToUnixMicros(*next);
      } else {
        d.state = v1::DELIVERY_STATE_FAILED;
      }
      blocked.insert(key);
    }
    RETURN_IF_ERROR(db_.RunInTransaction(
        [&](storage::Transaction& tx) -> absl::Status { return UpdateDelivery(tx, d); }));
  }
  return attempted;
}

void WebhookSender::RunUntil(absl::Notification& stopping, absl::Duration interval) {
  uint64_t seen = signal_.generation();
  while (!stopping.HasBeenNotified()) {
    absl::StatusOr<int> attempted = SendDue();
    if (!attempted.ok()) {
      LogWarning("webhook deliveries failed; retrying",
                 {{"error", std::string(attempted.status().message())}});
    } else if (*attempted > 0) {
      continue;
    }
    seen = signal_.WaitPast(seen, interval);
  }
}

}  // namespace linli::feedback
