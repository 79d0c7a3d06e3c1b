#include "services/feedback/webhook_sender.h"

#include <algorithm>
#include <map>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
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
// Deliveries of one lane claimed in one pass (the rest wait for the next pass), and how many
// outcomes are written in one transaction.
constexpr int kLaneClaims = 20;
constexpr size_t kRecordBatch = 200;
constexpr absl::Duration kRecordEvery = absl::Seconds(1);
// A pass starts no attempt after this (an attempt may then still take a timeout), so that a slow
// endpoint delays the next pass, and the other webhooks' new notices, by about this much.
constexpr absl::Duration kPassBudget = absl::Seconds(10);

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

// A claimed delivery and its notice (none when the notice is gone).
struct Claimed {
  DeliveryRow delivery;
  std::optional<v1::Notice> notice;
};

struct WebhookSender::Lane {
  std::string webhook_id;
  std::vector<DeliveryRow> pending;  // in id order
  std::vector<Claimed> claimed;      // the first of `pending`, claimed for this pass
  const std::optional<WebhookRow>* hook = nullptr;
};

void WebhookSender::SendLane(Lane& lane, absl::Time stop_starting, absl::BitGen& random,
                             std::vector<DeliveryRow>& outcomes, std::vector<int64_t>& unsent) {
  static auto& attempts_total = metrics::Registry::Default().AddCounter(
      "linli_webhook_attempts_total", "Webhook delivery attempts, by outcome.", {"outcome"});
  bool stopped = false;
  for (Claimed& c : lane.claimed) {
    const absl::Time now = clock_.Now();
    // After a failure later notices to this recipient wait for its retry; past the pass's
    // budget the rest wait for the next pass.
    if (stopped || now >= stop_starting) {
      stopped = true;
      unsent.push_back(c.delivery.id);
      continue;
    }
    DeliveryRow& d = c.delivery;
    const std::optional<WebhookRow>& hook = *lane.hook;
    Outcome outcome;
    if (!hook.has_value() || hook->deleted || !c.notice.has_value()) {
      outcome.error = "webhook deleted";
      outcome.final = true;
    } else {
      outcome = AddPhone(directory_, hook->webhook, *c.notice);
      if (outcome.error.empty()) outcome = Post(options_, *hook, *c.notice, d.id, now);
    }
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
                                      absl::Uniform(random, 0.5, 1.0));
      if (next.has_value()) {
        d.next_attempt_us = absl::ToUnixMicros(*next);
      } else {
        d.state = v1::DELIVERY_STATE_FAILED;
      }
      stopped = true;
    }
    outcomes.push_back(d);
  }
}

absl::StatusOr<int> WebhookSender::SendDue() {
  std::vector<DeliveryRow> pending;
  RETURN_IF_ERROR(db_.RunInTransaction(
      [&](storage::Transaction& tx) -> absl::Status {
        ASSIGN_OR_RETURN(pending, PendingDeliveries(tx, kPassSize));
        return absl::OkStatus();
      },
      {.read_only = true}));
  // The lanes, in the order of their first delivery.
  std::vector<Lane> lanes;
  std::map<std::pair<std::string, std::string>, size_t> lane_of;
  std::map<std::string, std::optional<WebhookRow>> hooks;
  for (DeliveryRow& d : pending) {
    const auto key = std::make_pair(d.webhook_id, d.recipient);
    auto [it, added] = lane_of.emplace(key, lanes.size());
    if (added) lanes.push_back(Lane{d.webhook_id, {}, {}, nullptr});
    hooks.emplace(d.webhook_id, std::nullopt);
    lanes[it->second].pending.push_back(std::move(d));
  }
  if (lanes.empty()) return 0;

  // One transaction claims each lane's due deliveries, up to its first one not due or held by
  // another replica (at most kLaneClaims: the rest come in the next pass), with their notices
  // and webhooks.
  const absl::Time now = clock_.Now();
  const absl::Time lease_until = now + options_.lease;
  RETURN_IF_ERROR(db_.RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
    for (auto& [id, hook] : hooks) {
      ASSIGN_OR_RETURN(hook, FindWebhook(tx, cipher_, id));
    }
    for (Lane& lane : lanes) {
      lane.claimed.clear();
      for (const DeliveryRow& d : lane.pending) {
        if (d.next_attempt_us > absl::ToUnixMicros(now) ||
            static_cast<int>(lane.claimed.size()) == kLaneClaims) {
          break;
        }
        ASSIGN_OR_RETURN(bool claimed, ClaimDelivery(tx, d.id, now, lease_until));
        if (!claimed) break;  // another replica is sending it, or has made it wait
        // Read again under the claim: another replica may have attempted it since the list.
        ASSIGN_OR_RETURN(std::optional<DeliveryRow> current, FindDelivery(tx, d.id));
        if (!current.has_value()) break;
        ASSIGN_OR_RETURN(std::optional<v1::Notice> notice, FindNotice(tx, d.notice));
        lane.claimed.push_back(Claimed{std::move(*current), std::move(notice)});
      }
    }
    return absl::OkStatus();
  }));
  for (Lane& lane : lanes) lane.hook = &hooks.at(lane.webhook_id);

  // Each sender takes the first lane not taken whose webhook has fewer than per_webhook lanes in
  // flight. No attempt starts kPassBudget after the pass began (nor near the lease's end): the
  // next pass comes soon for the webhooks that are not slow. What was attempted is recorded in
  // batches (the delivery log, the next attempts) at least every kRecordEvery, each under its
  // claim (a claim lost meanwhile records nothing); claims not attempted are handed back.
  const absl::Time stop_starting = std::min(now + kPassBudget, lease_until);
  absl::Time last_record = now;
  absl::Mutex mu;
  absl::CondVar lane_done;
  size_t first_open = 0;  // lanes before it are all taken
  std::vector<bool> taken(lanes.size(), false);
  std::map<std::string, int> in_flight;
  std::vector<DeliveryRow> outcomes;
  std::vector<int64_t> unsent;
  int attempted = 0;
  absl::Status failure;
  const int per_webhook = std::max(1, options_.per_webhook);
  auto record = [&](std::vector<DeliveryRow> rows, std::vector<int64_t> released) {
    if (rows.empty() && released.empty()) return absl::OkStatus();
    return db_.RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
      for (const DeliveryRow& d : rows) {
        ASSIGN_OR_RETURN(bool recorded, RecordAttempt(tx, d, lease_until));
        if (!recorded) {
          LogWarning("webhook delivery claim lost before its attempt was recorded",
                     {{"delivery", absl::StrCat("webhookDeliveries/", d.id)}});
        }
      }
      for (int64_t id : released) RETURN_IF_ERROR(ReleaseDelivery(tx, id, lease_until));
      return absl::OkStatus();
    });
  };
  auto next_lane = [&]() -> Lane* {
    absl::MutexLock lock(&mu);
    for (;;) {
      while (first_open < lanes.size() && taken[first_open]) ++first_open;
      if (first_open == lanes.size()) return nullptr;
      for (size_t i = first_open; i < lanes.size(); ++i) {
        if (taken[i] || in_flight[lanes[i].webhook_id] >= per_webhook) continue;
        taken[i] = true;
        ++in_flight[lanes[i].webhook_id];
        return &lanes[i];
      }
      // Every open lane's webhook is busy: wait for a lane to finish.
      lane_done.Wait(&mu);
    }
  };
  auto sender = [&] {
    absl::BitGen random;  // jitter
    while (Lane* lane = next_lane()) {
      std::vector<DeliveryRow> sent;
      std::vector<int64_t> not_sent;
      SendLane(*lane, stop_starting, random, sent, not_sent);
      std::vector<DeliveryRow> batch;
      std::vector<int64_t> released;
      {
        absl::MutexLock lock(&mu);
        --in_flight[lane->webhook_id];
        attempted += static_cast<int>(sent.size());
        outcomes.insert(outcomes.end(), sent.begin(), sent.end());
        unsent.insert(unsent.end(), not_sent.begin(), not_sent.end());
        const absl::Time at = clock_.Now();
        if (outcomes.size() >= kRecordBatch || at - last_record >= kRecordEvery) {
          batch.swap(outcomes);
          released.swap(unsent);
          last_record = at;
        }
        lane_done.SignalAll();
      }
      if (absl::Status recorded = record(std::move(batch), std::move(released)); !recorded.ok()) {
        absl::MutexLock lock(&mu);
        if (failure.ok()) failure = recorded;
      }
    }
  };
  const int threads =
      static_cast<int>(std::min<size_t>(std::max(1, options_.senders), lanes.size()));
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back(sender);
  sender();
  for (std::thread& t : pool) t.join();
  RETURN_IF_ERROR(record(std::move(outcomes), std::move(unsent)));
  if (!failure.ok()) return failure;
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
