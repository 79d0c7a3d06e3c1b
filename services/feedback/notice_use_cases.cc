#include "services/feedback/notice_use_cases.h"

#include <algorithm>
#include <map>
#include <optional>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/errors.h"
#include "common/ids.h"
#include "common/proto_time.h"
#include "common/status_macros.h"
#include "openssl/rand.h"

namespace linli::feedback {
namespace {

// How long a waiting read sleeps between looks at the table when nothing in this process wakes
// it (notices raised by another replica).
constexpr absl::Duration kPollWhileWaiting = absl::Seconds(1);
// Scheduled visits the sweep looks at: windows opening from this long ago...
constexpr absl::Duration kSweepLookBack = absl::Hours(12);

absl::StatusOr<std::string> NewSecret() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return absl::InternalError("RAND_bytes failed");
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
}

}  // namespace

void NoticeSignal::Notify() {
  absl::MutexLock lock(&mu_);
  ++generation_;
}

uint64_t NoticeSignal::generation() const {
  absl::MutexLock lock(&mu_);
  return generation_;
}

uint64_t NoticeSignal::WaitPast(uint64_t seen, absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto past = [this, seen]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return generation_ > seen; };
  mu_.AwaitWithTimeout(absl::Condition(&past), timeout);
  return generation_;
}

absl::StatusOr<int> NoticeUseCases::Raise(storage::Transaction& tx,
                                          const std::vector<NoticeDraft>& drafts, absl::Time now) {
  int raised = 0;
  std::map<std::string, v1::NoticePreferences> preferences;
  for (const NoticeDraft& draft : drafts) {
    const std::string& recipient = draft.notice.recipient();
    auto it = preferences.find(recipient);
    if (it == preferences.end()) {
      ASSIGN_OR_RETURN(v1::NoticePreferences p, FindPreferences(tx, recipient));
      it = preferences.emplace(recipient, std::move(p)).first;
    }
    ASSIGN_OR_RETURN(std::optional<v1::Notice> stored,
                     InsertNoticeOnce(tx, draft, it->second, now));
    if (stored.has_value()) ++raised;
  }
  return raised;
}

absl::StatusOr<bool> NoticeUseCases::RaiseAlert(storage::Transaction& tx, const AlertRow& row,
                                                absl::Time now) {
  ASSIGN_OR_RETURN(bool inserted, InsertAlertOnce(tx, row));
  if (!inserted || !IsSafetyAlert(row.alert.kind()) || row.alert.committee().empty()) {
    return inserted;
  }
  std::string street;
  if (!row.alert.elder().empty()) {
    ASSIGN_OR_RETURN(std::optional<ElderFacts> elder, FindElderFacts(tx, row.alert.elder()));
    if (elder.has_value()) street = elder->street;
  }
  RETURN_IF_ERROR(Raise(tx, {SafetyNotice(row.alert, street)}, now).status());
  return true;
}

absl::StatusOr<int> NoticeUseCases::Sweep(absl::Time now) {
  // Found in a read-only transaction (the consumer keeps writing meanwhile), raised in one write
  // transaction; a draft raised meanwhile by another replica is not raised twice.
  std::vector<NoticeDraft> drafts;
  RETURN_IF_ERROR(db_.RunInTransaction(
      [&](storage::Transaction& tx) -> absl::Status {
        drafts.clear();
        ASSIGN_OR_RETURN(
            std::vector<ProjectedVisit> visits,
            ScheduledVisitsAround(tx, now - kSweepLookBack, now + kUnstaffedLead, now));
        std::map<std::string, std::optional<CommitmentFacts>> commitments;
        std::map<std::string, std::optional<ElderFacts>> elders;
        for (const ProjectedVisit& visit : visits) {
          auto c = commitments.find(visit.commitment_id);
          if (c == commitments.end()) {
            ASSIGN_OR_RETURN(auto found, FindCommitmentFacts(tx, visit.commitment_id));
            c = commitments.emplace(visit.commitment_id, std::move(found)).first;
          }
          auto e = elders.find(visit.elder);
          if (e == elders.end()) {
            ASSIGN_OR_RETURN(auto found, FindElderFacts(tx, visit.elder));
            e = elders.emplace(visit.elder, std::move(found)).first;
          }
          if (!c->second.has_value() || !e->second.has_value()) continue;
          std::optional<absl::Time> expected;
          if (visit.staffed == 1 && !visit.booked_worker.empty()) {
            ASSIGN_OR_RETURN(std::optional<ProjectedVisit> current,
                             VisitInProgressOf(tx, visit.booked_worker));
            expected = ExpectedArrival(current.has_value() ? &*current : nullptr);
          }
          for (NoticeDraft& d : VisitSweepNotices(visit, *c->second, *e->second, now, expected)) {
            drafts.push_back(std::move(d));
          }
        }
        ASSIGN_OR_RETURN(std::vector<AlertRow> open,
                         QueryAlerts(tx, "", "", v1::ALERT_STATE_OPEN, "", 10000));
        for (const AlertRow& row : open) {
          if (!IsSafetyAlert(row.alert.kind())) continue;
          std::string street;
          if (!row.alert.elder().empty()) {
            ASSIGN_OR_RETURN(std::optional<ElderFacts> elder,
                             FindElderFacts(tx, row.alert.elder()));
            if (elder.has_value()) street = elder->street;
          }
          if (auto d = EscalatedSafetyNotice(row.alert, street, now))
            drafts.push_back(std::move(*d));
        }
        return absl::OkStatus();
      },
      {.read_only = true}));
  if (drafts.empty()) return 0;
  int raised = 0;
  RETURN_IF_ERROR(db_.RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(raised, Raise(tx, drafts, now));
    return absl::OkStatus();
  }));
  if (raised > 0) Committed();
  return raised;
}

absl::Status NoticeUseCases::List(const v1::ListNoticesRequest& request,
                                  v1::ListNoticesResponse* response) {
  NoticeQuery query;
  query.recipient = request.recipient();
  query.after_sequence = request.after_sequence();
  query.newest_first = request.newest_first();
  query.before_sequence = request.before_sequence();
  query.unread_only = request.unread_only();
  query.limit = request.page_size() > 0 ? request.page_size() : 50;
  const absl::Duration wait =
      request.newest_first() ? absl::ZeroDuration() : absl::Seconds(request.wait_seconds());
  const Stopwatch waited;
  uint64_t seen = signal_.generation();
  while (true) {
    if (!query.newest_first) {
      ASSIGN_OR_RETURN(query.settled, SettledNotices(db_));
    }
    RETURN_IF_ERROR(db_.RunInTransaction(
        [&](storage::Transaction& tx) -> absl::Status {
          response->Clear();
          ASSIGN_OR_RETURN(std::vector<v1::Notice> notices, QueryNotices(tx, query));
          for (v1::Notice& n : notices) *response->add_notices() = std::move(n);
          ASSIGN_OR_RETURN(int unread, CountUnread(tx, query.recipient));
          response->set_unread_count(unread);
          return absl::OkStatus();
        },
        {.read_only = true}));
    const absl::Duration left = wait - waited.Elapsed();
    if (response->notices_size() > 0 || left <= absl::ZeroDuration()) return absl::OkStatus();
    seen = signal_.WaitPast(seen, std::min(left, kPollWhileWaiting));
  }
}

absl::StatusOr<v1::MarkNoticesReadResponse> NoticeUseCases::MarkRead(
    const std::string& recipient, const std::vector<int64_t>& sequences, int64_t up_to,
    const std::string& actor) {
  const absl::Time now = clock_.Now();
  v1::MarkNoticesReadResponse response;
  RETURN_IF_ERROR(db_.RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(int marked, feedback::MarkRead(tx, recipient, sequences, up_to, actor, now));
    response.set_marked(marked);
    ASSIGN_OR_RETURN(int unread, CountUnread(tx, recipient));
    response.set_unread_count(unread);
    return absl::OkStatus();
  }));
  return response;
}

namespace {

// The page key of an unreached elder: "OLDEST_US|elders/ID".
std::string UnreachedKey(const UnreachedRow& row) {
  return absl::StrCat(row.oldest_us, "|", row.elder);
}

}  // namespace

absl::StatusOr<v1::ListUnreachedEldersResponse> NoticeUseCases::Unreached(const std::string& region,
                                                                          absl::Duration unread_for,
                                                                          const Page& page) {
  int64_t after_oldest_us = 0;
  std::string after_elder;
  if (!page.after.empty()) {
    const std::vector<std::string> parts = absl::StrSplit(page.after, absl::MaxSplits('|', 1));
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &after_oldest_us) || parts[1].empty()) {
      return InvalidField("page_token", "is not a token of this list");
    }
    after_elder = parts[1];
  }
  const absl::Time cutoff = clock_.Now() - unread_for;
  v1::ListUnreachedEldersResponse response;
  RETURN_IF_ERROR(db_.RunInTransaction(
      [&](storage::Transaction& tx) -> absl::Status {
        response.Clear();
        ASSIGN_OR_RETURN(
            std::vector<UnreachedRow> rows,
            QueryUnreached(tx, region, cutoff, after_oldest_us, after_elder, page.limit()));
        response.set_next_page_token(page.Finish(rows, UnreachedKey));
        std::vector<std::string> elders;
        elders.reserve(rows.size());
        for (const UnreachedRow& row : rows) elders.push_back(row.elder);
        // What to say on the phone (the newest of an elder's notices) and whether any is urgent.
        ASSIGN_OR_RETURN(std::vector<v1::Notice> notices, UnreachedNotices(tx, elders, cutoff));
        std::map<std::string, v1::UnreachedElder*> by_elder;
        for (const UnreachedRow& row : rows) {
          v1::UnreachedElder& elder = *response.add_elders();
          elder.set_elder(row.elder);
          elder.set_committee(row.committee);
          elder.set_unread_count(row.unread);
          *elder.mutable_oldest_unread_time() = ToTimestamp(absl::FromUnixMicros(row.oldest_us));
          by_elder[row.elder] = &elder;
        }
        for (const v1::Notice& notice : notices) {  // newest first
          v1::UnreachedElder* elder = by_elder[notice.recipient()];
          if (!elder->has_latest()) *elder->mutable_latest() = notice;
          if (notice.urgent()) elder->set_urgent(true);
        }
        return absl::OkStatus();
      },
      {.read_only = true}));
  return response;
}

absl::StatusOr<v1::NoticePreferences> NoticeUseCases::Preferences(const std::string& recipient) {
  v1::NoticePreferences out;
  RETURN_IF_ERROR(db_.RunInTransaction(
      [&](storage::Transaction& tx) -> absl::Status {
        ASSIGN_OR_RETURN(out, FindPreferences(tx, recipient));
        return absl::OkStatus();
      },
      {.read_only = true}));
  return out;
}

absl::StatusOr<v1::NoticePreferences> NoticeUseCases::SetPreferences(
    const v1::NoticePreferences& preferences) {
  RETURN_IF_ERROR(db_.RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
    return StorePreferences(tx, db_.dialect(), preferences);
  }));
  return preferences;
}

absl::StatusOr<v1::CreateWebhookResponse> NoticeUseCases::CreateWebhook(const v1::Webhook& webhook,
                                                                        const std::string& actor) {
  WebhookRow row;
  row.id = NewId(clock_);
  row.webhook = webhook;
  row.webhook.set_name("webhooks/" + row.id);
  *row.webhook.mutable_create_time() = ToTimestamp(clock_.Now());
  row.webhook.set_creator(actor);
  if (row.webhook.channel() == v1::NOTICE_CHANNEL_UNSPECIFIED) {
    row.webhook.set_channel(v1::NOTICE_CHANNEL_WEBHOOK);
  }
  ASSIGN_OR_RETURN(row.secret, NewSecret());
  RETURN_IF_ERROR(db_.RunInTransaction(
      [&](storage::Transaction& tx) -> absl::Status { return InsertWebhook(tx, cipher_, row); }));
  v1::CreateWebhookResponse response;
  *response.mutable_webhook() = row.webhook;
  response.set_signing_secret(row.secret);
  return response;
}

absl::StatusOr<std::vector<v1::Webhook>> NoticeUseCases::Webhooks(const std::string& recipient) {
  std::vector<v1::Webhook> out;
  RETURN_IF_ERROR(db_.RunInTransaction(
      [&](storage::Transaction& tx) -> absl::Status {
        out.clear();
        ASSIGN_OR_RETURN(std::vector<WebhookRow> rows, WebhooksOf(tx, recipient));
        for (WebhookRow& r : rows) out.push_back(std::move(r.webhook));
        return absl::OkStatus();
      },
      {.read_only = true}));
  return out;
}

absl::Status NoticeUseCases::DeleteWebhook(const std::string& id, const std::string& recipient) {
  const absl::Time now = clock_.Now();
  return db_.RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(std::optional<WebhookRow> row, FindWebhook(tx, cipher_, id));
    if (!row.has_value() || row->deleted || row->webhook.recipient() != recipient) {
      return NotFound("webhooks/" + id);
    }
    return DeleteWebhookRow(tx, id, now);
  });
}

absl::StatusOr<std::vector<DeliveryRow>> NoticeUseCases::Deliveries(const std::string& recipient,
                                                                    const std::string& webhook_id,
                                                                    int state, int64_t before_id,
                                                                    int limit) {
  std::vector<DeliveryRow> out;
  RETURN_IF_ERROR(db_.RunInTransaction(
      [&](storage::Transaction& tx) -> absl::Status {
        ASSIGN_OR_RETURN(out, QueryDeliveries(tx, recipient, webhook_id, state, before_id, limit));
        return absl::OkStatus();
      },
      {.read_only = true}));
  return out;
}

absl::StatusOr<v1::WebhookDelivery> NoticeUseCases::RetryDelivery(int64_t id,
                                                                  const std::string& recipient) {
  const absl::Time now = clock_.Now();
  v1::WebhookDelivery out;
  RETURN_IF_ERROR(db_.RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(std::optional<DeliveryRow> row, FindDelivery(tx, id));
    const std::string name = absl::StrCat("webhookDeliveries/", id);
    if (!row.has_value()) return NotFound(name);
    ASSIGN_OR_RETURN(std::optional<WebhookRow> hook, FindWebhook(tx, cipher_, row->webhook_id));
    if (!hook.has_value() || hook->webhook.recipient() != recipient) return NotFound(name);
    if (hook->deleted) {
      return absl::FailedPreconditionError(
          absl::StrCat(name, " belongs to a deleted webhook; create a new one"));
    }
    if (row->state == v1::DELIVERY_STATE_PENDING) {
      return absl::FailedPreconditionError(absl::StrCat(name, " is already pending"));
    }
    row->state = v1::DELIVERY_STATE_PENDING;
    row->next_attempt_us = absl::ToUnixMicros(now);
    row->first_attempt_us = 0;  // a fresh three days of retries
    RETURN_IF_ERROR(UpdateDelivery(tx, *row));
    out = row->ToProto();
    return absl::OkStatus();
  }));
  Committed();
  return out;
}

}  // namespace linli::feedback
