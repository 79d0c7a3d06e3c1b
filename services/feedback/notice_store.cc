#include "services/feedback/notice_store.h"

#include <limits>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/errors.h"
#include "common/proto_time.h"
#include "common/status_macros.h"
#include "common/storage/sequence_gate.h"

namespace linli::feedback {
namespace {

constexpr char kGate[] = "notice_gate";

std::string NoticeName(int64_t sequence) { return absl::StrCat("notices/", sequence); }

v1::Notice NoticeFromRow(const storage::Row& row) {
  // sequence, data, create_time_us, read_time_us, read_by
  v1::Notice notice;
  notice.ParseFromString(row.GetString(1));
  notice.set_sequence(row.GetInt(0));
  notice.set_name(NoticeName(row.GetInt(0)));
  *notice.mutable_create_time() = ToTimestamp(absl::FromUnixMicros(row.GetInt(2)));
  if (row.GetInt(3) > 0) {
    *notice.mutable_read_time() = ToTimestamp(absl::FromUnixMicros(row.GetInt(3)));
    notice.set_read_by(row.GetString(4));
  }
  return notice;
}

constexpr char kSelectNotice[] =
    "SELECT sequence, data, create_time_us, read_time_us, read_by FROM notices ";

std::string KindsText(const v1::Webhook& webhook) {
  std::vector<std::string> kinds;
  for (int kind : webhook.kinds()) kinds.push_back(absl::StrCat(kind));
  return absl::StrJoin(kinds, ",");
}

std::vector<int> ParseKinds(const std::string& text) {
  std::vector<int> kinds;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    int kind = 0;
    if (absl::SimpleAtoi(part, &kind)) kinds.push_back(kind);
  }
  return kinds;
}

// A recipient's channel preferences as stored: "2:*;4:1,3" (channel 2 muted; kinds 1 and 3 not
// by channel 4).
std::string ChannelsText(const v1::NoticePreferences& p) {
  std::vector<std::string> parts;
  for (const v1::ChannelPreference& c : p.channels()) {
    std::vector<std::string> kinds;
    for (int kind : c.muted_kinds()) kinds.push_back(absl::StrCat(kind));
    if (!c.muted() && kinds.empty()) continue;
    parts.push_back(absl::StrCat(static_cast<int>(c.channel()), ":",
                                 c.muted() ? "*" : absl::StrJoin(kinds, ",")));
  }
  return absl::StrJoin(parts, ";");
}

void ParseChannels(const std::string& text, v1::NoticePreferences& p) {
  for (absl::string_view part : absl::StrSplit(text, ';', absl::SkipEmpty())) {
    const std::pair<std::string, std::string> split = absl::StrSplit(part, absl::MaxSplits(':', 1));
    int channel = 0;
    if (!absl::SimpleAtoi(split.first, &channel)) continue;
    v1::ChannelPreference* c = p.add_channels();
    c->set_channel(static_cast<v1::NoticeChannel>(channel));
    if (split.second == "*") {
      c->set_muted(true);
      continue;
    }
    for (int kind : ParseKinds(split.second)) c->add_muted_kinds(static_cast<v1::NoticeKind>(kind));
  }
}

std::string SecretBinding(const std::string& id) {
  return absl::StrCat("webhooks/", id, "#secret");
}

constexpr char kSelectWebhook[] =
    "SELECT id, recipient, elders_of_region, url, kinds, secret, create_time_us, creator, deleted, "
    "deliver_phone, channel FROM webhooks ";

WebhookRow WebhookFromRow(const storage::Row& row) {
  WebhookRow out;
  out.id = row.GetString(0);
  v1::Webhook& w = out.webhook;
  w.set_name("webhooks/" + out.id);
  w.set_recipient(row.GetString(1));
  w.set_elders_of_region(row.GetInt(2) != 0);
  w.set_url(row.GetString(3));
  for (int kind : ParseKinds(row.GetString(4))) w.add_kinds(static_cast<v1::NoticeKind>(kind));
  *w.mutable_create_time() = ToTimestamp(absl::FromUnixMicros(row.GetInt(6)));
  w.set_creator(row.GetString(7));
  out.deleted = row.GetInt(8) != 0;
  w.set_deliver_phone(row.GetInt(9) != 0);
  w.set_channel(static_cast<v1::NoticeChannel>(row.GetInt(10)));
  return out;
}

constexpr char kSelectDelivery[] =
    "SELECT d.id, d.webhook, d.notice, d.recipient, d.state, d.attempts, d.next_attempt_us, "
    "d.first_attempt_us, d.last_attempt_us, d.delivered_us, d.last_error FROM webhook_deliveries "
    "d ";

DeliveryRow DeliveryFromRow(const storage::Row& r) {
  DeliveryRow d;
  d.id = r.GetInt(0);
  d.webhook_id = r.GetString(1);
  d.notice = r.GetInt(2);
  d.recipient = r.GetString(3);
  d.state = static_cast<int>(r.GetInt(4));
  d.attempts = static_cast<int>(r.GetInt(5));
  d.next_attempt_us = r.GetInt(6);
  d.first_attempt_us = r.GetInt(7);
  d.last_attempt_us = r.GetInt(8);
  d.delivered_us = r.GetInt(9);
  d.last_error = r.GetString(10);
  return d;
}

}  // namespace

std::string NoticeSchema(storage::Dialect dialect) {
  if (dialect == storage::Dialect::kSqlite) {
    return R"sql(CREATE TABLE notice_gate (id INTEGER PRIMARY KEY);
INSERT INTO notice_gate (id) VALUES (1);
CREATE TABLE notices (
  sequence INTEGER PRIMARY KEY AUTOINCREMENT,
  recipient TEXT NOT NULL,
  cause TEXT NOT NULL,
  kind INTEGER NOT NULL,
  data BLOB NOT NULL,
  create_time_us INTEGER NOT NULL,
  read_time_us INTEGER NOT NULL DEFAULT 0,
  read_by TEXT NOT NULL DEFAULT '',
  UNIQUE (recipient, cause)
);
CREATE INDEX notices_by_recipient ON notices (recipient, sequence);
CREATE INDEX notices_unread ON notices (recipient, read_time_us, sequence);
CREATE TABLE notice_preferences (
  recipient TEXT PRIMARY KEY,
  quiet_start TEXT NOT NULL,
  quiet_end TEXT NOT NULL
);
CREATE TABLE webhooks (
  id TEXT PRIMARY KEY,
  recipient TEXT NOT NULL,
  elders_of_region INTEGER NOT NULL,
  url TEXT NOT NULL,
  kinds TEXT NOT NULL,
  secret TEXT NOT NULL,
  create_time_us INTEGER NOT NULL,
  creator TEXT NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX webhooks_by_recipient ON webhooks (recipient, deleted);
CREATE TABLE webhook_deliveries (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  webhook TEXT NOT NULL,
  notice INTEGER NOT NULL,
  recipient TEXT NOT NULL,
  hook_recipient TEXT NOT NULL,
  state INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_us INTEGER NOT NULL,
  first_attempt_us INTEGER NOT NULL DEFAULT 0,
  last_attempt_us INTEGER NOT NULL DEFAULT 0,
  delivered_us INTEGER NOT NULL DEFAULT 0,
  lease_until_us INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  UNIQUE (webhook, notice)
);
CREATE INDEX deliveries_by_state ON webhook_deliveries (state, id);
CREATE INDEX deliveries_by_hook_recipient ON webhook_deliveries (hook_recipient, id);
ALTER TABLE fb_visits ADD COLUMN booked_worker TEXT NOT NULL DEFAULT '';
ALTER TABLE fb_visits ADD COLUMN check_in_us INTEGER NOT NULL DEFAULT 0;
ALTER TABLE fb_visits ADD COLUMN duration_minutes INTEGER NOT NULL DEFAULT 0;
CREATE INDEX fb_visits_by_state ON fb_visits (state, window_start_us);
CREATE INDEX fb_visits_by_worker ON fb_visits (worker, state))sql";
  }
  return R"sql(CREATE TABLE notice_gate (id INT NOT NULL PRIMARY KEY) ENGINE=InnoDB;
INSERT INTO notice_gate (id) VALUES (1);
CREATE TABLE notices (
  sequence BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  recipient VARCHAR(80) NOT NULL,
  cause VARCHAR(160) NOT NULL,
  kind INT NOT NULL,
  data MEDIUMBLOB NOT NULL,
  create_time_us BIGINT NOT NULL,
  read_time_us BIGINT NOT NULL DEFAULT 0,
  read_by VARCHAR(120) NOT NULL DEFAULT '',
  UNIQUE KEY notices_by_cause (recipient, cause),
  KEY notices_by_recipient (recipient, sequence),
  KEY notices_unread (recipient, read_time_us, sequence)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE notice_preferences (
  recipient VARCHAR(80) NOT NULL PRIMARY KEY,
  quiet_start VARCHAR(5) NOT NULL,
  quiet_end VARCHAR(5) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE webhooks (
  id VARCHAR(64) NOT NULL PRIMARY KEY,
  recipient VARCHAR(80) NOT NULL,
  elders_of_region TINYINT NOT NULL,
  url VARCHAR(500) NOT NULL,
  kinds VARCHAR(64) NOT NULL,
  secret TEXT NOT NULL,
  create_time_us BIGINT NOT NULL,
  creator VARCHAR(120) NOT NULL,
  deleted TINYINT NOT NULL DEFAULT 0,
  KEY webhooks_by_recipient (recipient, deleted)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE webhook_deliveries (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  webhook VARCHAR(64) NOT NULL,
  notice BIGINT NOT NULL,
  recipient VARCHAR(80) NOT NULL,
  hook_recipient VARCHAR(80) NOT NULL,
  state INT NOT NULL,
  attempts INT NOT NULL DEFAULT 0,
  next_attempt_us BIGINT NOT NULL,
  first_attempt_us BIGINT NOT NULL DEFAULT 0,
  last_attempt_us BIGINT NOT NULL DEFAULT 0,
  delivered_us BIGINT NOT NULL DEFAULT 0,
  lease_until_us BIGINT NOT NULL DEFAULT 0,
  last_error VARCHAR(300) NOT NULL DEFAULT '',
  UNIQUE KEY deliveries_once (webhook, notice),
  KEY deliveries_by_state (state, id),
  KEY deliveries_by_hook_recipient (hook_recipient, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
ALTER TABLE fb_visits ADD COLUMN booked_worker VARCHAR(80) NOT NULL DEFAULT '';
ALTER TABLE fb_visits ADD COLUMN check_in_us BIGINT NOT NULL DEFAULT 0;
ALTER TABLE fb_visits ADD COLUMN duration_minutes INT NOT NULL DEFAULT 0;
CREATE INDEX fb_visits_by_state ON fb_visits (state, window_start_us);
CREATE INDEX fb_visits_by_worker ON fb_visits (worker, state))sql";
}

// --- Notices -------------------------------------------------------------------------------------

absl::StatusOr<std::optional<v1::Notice>> InsertNoticeOnce(storage::Transaction& tx,
                                                           const NoticeDraft& draft,
                                                           const v1::NoticePreferences& preferences,
                                                           absl::Time now) {
  const v1::Notice& n = draft.notice;
  ASSIGN_OR_RETURN(auto existing,
                   tx.Query("SELECT sequence FROM notices WHERE recipient = ? AND cause = ?",
                            {n.recipient(), draft.cause}));
  if (!existing.empty()) return std::optional<v1::Notice>();
  static const std::string* const insert = new std::string(
      absl::StrCat("INSERT INTO notices (recipient, cause, kind, data, committee, street, "
                   "create_time_us) VALUES (?, ?, ?, ?, ?, ?, ",
                   storage::GatedValueSql(kGate), ")"));
  RETURN_IF_ERROR(tx.Exec(*insert, {n.recipient(), draft.cause, static_cast<int64_t>(n.kind()),
                                    n.SerializeAsString(), draft.committee, draft.street,
                                    absl::ToUnixMicros(now)})
                      .status());
  ASSIGN_OR_RETURN(int64_t sequence, tx.LastInsertId());
  v1::Notice stored = n;
  stored.set_sequence(sequence);
  stored.set_name(NoticeName(sequence));
  *stored.mutable_create_time() = ToTimestamp(now);

  // The webhooks that want it: the recipient's own, and those of the elder's committee or street
  // for "the elders of a region".
  // The recipient's channel preferences decide for each webhook's channel.
  ASSIGN_OR_RETURN(auto hooks,
                   tx.Query("SELECT id, recipient, elders_of_region, kinds, channel FROM "
                            "webhooks WHERE deleted = 0 AND recipient IN (?, ?, ?)",
                            {n.recipient(), draft.committee, draft.street}));
  const int64_t due = absl::ToUnixMicros(DeliverableAt(preferences, n.urgent(), now));
  for (const storage::Row& hook : hooks) {
    if (!WebhookWants(hook.GetString(1), hook.GetInt(2) != 0, ParseKinds(hook.GetString(3)),
                      draft) ||
        !ChannelWants(preferences, static_cast<v1::NoticeChannel>(hook.GetInt(4)), n)) {
      continue;
    }
    RETURN_IF_ERROR(tx.Exec("INSERT INTO webhook_deliveries (webhook, notice, recipient, "
                            "hook_recipient, state, next_attempt_us) VALUES (?, ?, ?, ?, ?, ?)",
                            {hook.GetString(0), sequence, n.recipient(), hook.GetString(1),
                             static_cast<int64_t>(v1::DELIVERY_STATE_PENDING), due})
                        .status());
  }
  return std::optional<v1::Notice>(std::move(stored));
}

absl::StatusOr<std::vector<v1::Notice>> QueryNotices(storage::Transaction& tx,
                                                     const NoticeQuery& q) {
  std::string sql = std::string(kSelectNotice) + "WHERE recipient = ?";
  std::vector<storage::Value> params = {q.recipient};
  if (q.unread_only) sql += " AND read_time_us = 0";
  if (q.newest_first) {
    if (q.before_sequence > 0) {
      sql += " AND sequence < ?";
      params.emplace_back(q.before_sequence);
    }
    sql += " ORDER BY sequence DESC LIMIT ?";
  } else {
    sql += " AND sequence > ? AND sequence <= ? ORDER BY sequence LIMIT ?";
    params.emplace_back(q.after_sequence);
    params.emplace_back(q.settled);
  }
  params.emplace_back(static_cast<int64_t>(q.limit));
  ASSIGN_OR_RETURN(auto rows, tx.Query(sql, params));
  std::vector<v1::Notice> out;
  out.reserve(rows.size());
  for (const storage::Row& row : rows) out.push_back(NoticeFromRow(row));
  return out;
}

std::string NoticeRegionSchema(storage::Dialect dialect) {
  const char* text = dialect == storage::Dialect::kMysql ? "VARCHAR(80)" : "TEXT";
  return absl::StrCat("ALTER TABLE notices ADD COLUMN committee ", text,
                      " NOT NULL DEFAULT '';\n"
                      "ALTER TABLE notices ADD COLUMN street ",
                      text,
                      " NOT NULL DEFAULT '';\n"
                      "CREATE INDEX notices_unread_by_committee ON notices "
                      "(committee, read_time_us, create_time_us);\n"
                      "CREATE INDEX notices_unread_by_street ON notices "
                      "(street, read_time_us, create_time_us)");
}

namespace {

// A notice to an elder not reached yet: unread (by the elder or anyone on their behalf) and not
// delivered to a webhook that texts or calls them (deliver_phone). Parameter: DELIVERED.
constexpr char kNotReached[] =
    "read_time_us = 0 AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d JOIN webhooks w ON "
    "w.id = d.webhook WHERE d.notice = notices.sequence AND d.state = ? AND w.deliver_phone = 1)";

}  // namespace

absl::StatusOr<std::vector<UnreachedRow>> QueryUnreached(storage::Transaction& tx,
                                                         const std::string& region,
                                                         absl::Time cutoff, int64_t after_oldest_us,
                                                         const std::string& after_elder,
                                                         int limit) {
  // Elders' notices only: the committee's and street's own inboxes carry the same columns.
  std::string sql = absl::StrCat(
      "SELECT recipient, MIN(committee), COUNT(*), MIN(create_time_us) FROM notices "
      "WHERE (committee = ? OR street = ?) AND create_time_us <= ? AND recipient LIKE 'elders/%' "
      "AND ",
      kNotReached, " GROUP BY recipient");
  std::vector<storage::Value> params = {region, region, absl::ToUnixMicros(cutoff),
                                        static_cast<int64_t>(v1::DELIVERY_STATE_DELIVERED)};
  if (!after_elder.empty()) {
    sql += " HAVING MIN(create_time_us) > ? OR (MIN(create_time_us) = ? AND recipient > ?)";
    params.emplace_back(after_oldest_us);
    params.emplace_back(after_oldest_us);
    params.emplace_back(after_elder);
  }
  sql += " ORDER BY MIN(create_time_us), recipient LIMIT ?";
  params.emplace_back(static_cast<int64_t>(limit));
  ASSIGN_OR_RETURN(auto rows, tx.Query(sql, params));
  std::vector<UnreachedRow> out;
  out.reserve(rows.size());
  for (const storage::Row& row : rows) {
    out.push_back(UnreachedRow{row.GetString(0), row.GetString(1), static_cast<int>(row.GetInt(2)),
                               row.GetInt(3)});
  }
  return out;
}

absl::StatusOr<std::vector<v1::Notice>> UnreachedNotices(storage::Transaction& tx,
                                                         const std::vector<std::string>& elders,
                                                         absl::Time cutoff) {
  if (elders.empty()) return std::vector<v1::Notice>();
  std::vector<storage::Value> params(elders.begin(), elders.end());
  params.emplace_back(absl::ToUnixMicros(cutoff));
  params.emplace_back(static_cast<int64_t>(v1::DELIVERY_STATE_DELIVERED));
  ASSIGN_OR_RETURN(auto rows, tx.Query(absl::StrCat(kSelectNotice, "WHERE recipient IN ",
                                                    storage::InList(elders.size()),
                                                    " AND create_time_us <= ? AND ", kNotReached,
                                                    " ORDER BY sequence DESC"),
                                       params));
  std::vector<v1::Notice> out;
  out.reserve(rows.size());
  for (const storage::Row& row : rows) out.push_back(NoticeFromRow(row));
  return out;
}

absl::StatusOr<int> CountUnread(storage::Transaction& tx, const std::string& recipient) {
  ASSIGN_OR_RETURN(auto rows,
                   tx.Query("SELECT COUNT(*) FROM notices WHERE recipient = ? AND read_time_us = 0",
                            {recipient}));
  return rows.empty() ? 0 : static_cast<int>(rows[0].GetInt(0));
}

absl::StatusOr<int64_t> SettledNotices(storage::Database& db) {
  return storage::SettledSequence(db, kGate, "SELECT COALESCE(MAX(sequence), 0) FROM notices");
}

absl::StatusOr<int> MarkRead(storage::Transaction& tx, const std::string& recipient,
                             const std::vector<int64_t>& sequences, int64_t up_to,
                             const std::string& actor, absl::Time now) {
  int marked = 0;
  const int64_t now_us = absl::ToUnixMicros(now);
  for (int64_t sequence : sequences) {
    ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT read_time_us FROM notices WHERE sequence = ? AND "
                                         "recipient = ?",
                                         {sequence, recipient}));
    if (rows.empty()) return NotFound(NoticeName(sequence));
    if (rows[0].GetInt(0) != 0) continue;
    ASSIGN_OR_RETURN(int64_t n, tx.Exec("UPDATE notices SET read_time_us = ?, read_by = ? WHERE "
                                        "sequence = ? AND read_time_us = 0",
                                        {now_us, actor, sequence}));
    marked += static_cast<int>(n);
  }
  if (up_to > 0) {
    ASSIGN_OR_RETURN(int64_t n, tx.Exec("UPDATE notices SET read_time_us = ?, read_by = ? WHERE "
                                        "recipient = ? AND read_time_us = 0 AND sequence <= ?",
                                        {now_us, actor, recipient, up_to}));
    marked += static_cast<int>(n);
  }
  return marked;
}

absl::StatusOr<std::optional<v1::Notice>> FindNotice(storage::Transaction& tx, int64_t sequence) {
  ASSIGN_OR_RETURN(auto rows,
                   tx.Query(std::string(kSelectNotice) + "WHERE sequence = ?", {sequence}));
  if (rows.empty()) return std::optional<v1::Notice>();
  return std::optional<v1::Notice>(NoticeFromRow(rows[0]));
}

// --- Preferences ---------------------------------------------------------------------------------

absl::StatusOr<v1::NoticePreferences> FindPreferences(storage::Transaction& tx,
                                                      const std::string& recipient) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT quiet_start, quiet_end, channels FROM "
                                       "notice_preferences "
                                       "WHERE recipient = ?",
                                       {recipient}));
  if (rows.empty()) return DefaultPreferences(recipient);
  v1::NoticePreferences p;
  p.set_recipient(recipient);
  p.set_quiet_start(rows[0].GetString(0));
  p.set_quiet_end(rows[0].GetString(1));
  ParseChannels(rows[0].GetString(2), p);
  return p;
}

absl::Status StorePreferences(storage::Transaction& tx, storage::Dialect dialect,
                              const v1::NoticePreferences& p) {
  const char* sql =
      dialect == storage::Dialect::kMysql
          ? "INSERT INTO notice_preferences (recipient, quiet_start, quiet_end, channels) VALUES "
            "(?, ?, ?, ?) ON DUPLICATE KEY UPDATE quiet_start = VALUES(quiet_start), quiet_end = "
            "VALUES(quiet_end), channels = VALUES(channels)"
          : "INSERT INTO notice_preferences (recipient, quiet_start, quiet_end, channels) VALUES "
            "(?, ?, ?, ?) ON CONFLICT (recipient) DO UPDATE SET quiet_start = "
            "excluded.quiet_start, quiet_end = excluded.quiet_end, channels = excluded.channels";
  return tx.Exec(sql, {p.recipient(), p.quiet_start(), p.quiet_end(), ChannelsText(p)}).status();
}

// --- Webhooks ------------------------------------------------------------------------------------

absl::Status InsertWebhook(storage::Transaction& tx, const pii::FieldCipher& cipher,
                           const WebhookRow& row) {
  ASSIGN_OR_RETURN(std::string sealed, cipher.Encrypt(row.secret, SecretBinding(row.id)));
  const v1::Webhook& w = row.webhook;
  return tx
      .Exec(
          "INSERT INTO webhooks (id, recipient, elders_of_region, url, kinds, secret, "
          "create_time_us, creator, deliver_phone, channel) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
          {row.id, w.recipient(), static_cast<int64_t>(w.elders_of_region()), w.url(), KindsText(w),
           sealed, absl::ToUnixMicros(FromTimestamp(w.create_time())), w.creator(),
           static_cast<int64_t>(w.deliver_phone()), static_cast<int64_t>(w.channel())})
      .status();
}

absl::StatusOr<std::optional<WebhookRow>> FindWebhook(storage::Transaction& tx,
                                                      const pii::FieldCipher& cipher,
                                                      const std::string& id) {
  ASSIGN_OR_RETURN(auto rows, tx.Query(std::string(kSelectWebhook) + "WHERE id = ?", {id}));
  if (rows.empty()) return std::optional<WebhookRow>();
  WebhookRow row = WebhookFromRow(rows[0]);
  ASSIGN_OR_RETURN(row.secret, cipher.Decrypt(rows[0].GetString(5), SecretBinding(row.id)));
  return std::optional<WebhookRow>(std::move(row));
}

absl::StatusOr<std::vector<WebhookRow>> WebhooksOf(storage::Transaction& tx,
                                                   const std::string& recipient) {
  ASSIGN_OR_RETURN(auto rows,
                   tx.Query(std::string(kSelectWebhook) +
                                "WHERE recipient = ? AND deleted = 0 ORDER BY create_time_us, id",
                            {recipient}));
  std::vector<WebhookRow> out;
  for (const storage::Row& row : rows) out.push_back(WebhookFromRow(row));
  return out;
}

absl::Status DeleteWebhookRow(storage::Transaction& tx, const std::string& id, absl::Time now) {
  RETURN_IF_ERROR(tx.Exec("UPDATE webhooks SET deleted = 1 WHERE id = ?", {id}).status());
  return tx
      .Exec(
          "UPDATE webhook_deliveries SET state = ?, last_error = ?, last_attempt_us = "
          "CASE WHEN last_attempt_us = 0 THEN ? ELSE last_attempt_us END WHERE webhook = ? AND "
          "state = ?",
          {static_cast<int64_t>(v1::DELIVERY_STATE_FAILED), std::string("webhook deleted"),
           absl::ToUnixMicros(now), id, static_cast<int64_t>(v1::DELIVERY_STATE_PENDING)})
      .status();
}

v1::WebhookDelivery DeliveryRow::ToProto() const {
  v1::WebhookDelivery d;
  d.set_name(absl::StrCat("webhookDeliveries/", id));
  d.set_webhook("webhooks/" + webhook_id);
  d.set_notice(NoticeName(notice));
  d.set_recipient(recipient);
  d.set_state(static_cast<v1::DeliveryState>(state));
  d.set_attempts(attempts);
  if (state == v1::DELIVERY_STATE_PENDING) {
    *d.mutable_next_attempt_time() = ToTimestamp(absl::FromUnixMicros(next_attempt_us));
  }
  if (last_attempt_us > 0) {
    *d.mutable_last_attempt_time() = ToTimestamp(absl::FromUnixMicros(last_attempt_us));
  }
  d.set_last_error(last_error);
  if (delivered_us > 0) {
    *d.mutable_delivered_time() = ToTimestamp(absl::FromUnixMicros(delivered_us));
  }
  return d;
}

absl::StatusOr<std::vector<DeliveryRow>> QueryDeliveries(storage::Transaction& tx,
                                                         const std::string& recipient,
                                                         const std::string& webhook_id, int state,
                                                         int64_t before_id, int limit) {
  std::string sql = std::string(kSelectDelivery) + "WHERE d.hook_recipient = ?";
  std::vector<storage::Value> params = {recipient};
  if (!webhook_id.empty()) {
    sql += " AND d.webhook = ?";
    params.emplace_back(webhook_id);
  }
  if (state != 0) {
    sql += " AND d.state = ?";
    params.emplace_back(static_cast<int64_t>(state));
  }
  if (before_id > 0) {
    sql += " AND d.id < ?";
    params.emplace_back(before_id);
  }
  sql += " ORDER BY d.id DESC LIMIT ?";
  params.emplace_back(static_cast<int64_t>(limit));
  ASSIGN_OR_RETURN(auto rows, tx.Query(sql, params));
  std::vector<DeliveryRow> out;
  for (const storage::Row& row : rows) out.push_back(DeliveryFromRow(row));
  return out;
}

absl::StatusOr<std::optional<DeliveryRow>> FindDelivery(storage::Transaction& tx, int64_t id) {
  ASSIGN_OR_RETURN(auto rows, tx.Query(std::string(kSelectDelivery) + "WHERE d.id = ?", {id}));
  if (rows.empty()) return std::optional<DeliveryRow>();
  return std::optional<DeliveryRow>(DeliveryFromRow(rows[0]));
}

absl::StatusOr<std::vector<DeliveryRow>> PendingDeliveries(storage::Transaction& tx, int limit) {
  ASSIGN_OR_RETURN(
      auto rows,
      tx.Query(std::string(kSelectDelivery) + "WHERE d.state = ? ORDER BY d.id LIMIT ?",
               {static_cast<int64_t>(v1::DELIVERY_STATE_PENDING), static_cast<int64_t>(limit)}));
  std::vector<DeliveryRow> out;
  for (const storage::Row& row : rows) out.push_back(DeliveryFromRow(row));
  return out;
}

absl::StatusOr<bool> ClaimDelivery(storage::Transaction& tx, int64_t id, absl::Time now,
                                   absl::Time lease_until) {
  ASSIGN_OR_RETURN(
      int64_t n, tx.Exec("UPDATE webhook_deliveries SET lease_until_us = ? WHERE id = ? AND "
                         "state = ? AND lease_until_us <= ? AND next_attempt_us <= ?",
                         {absl::ToUnixMicros(lease_until), id,
                          static_cast<int64_t>(v1::DELIVERY_STATE_PENDING), absl::ToUnixMicros(now),
                          absl::ToUnixMicros(now)}));
  return n == 1;
}

absl::StatusOr<bool> RecordAttempt(storage::Transaction& tx, const DeliveryRow& d,
                                   absl::Time lease_until) {
  ASSIGN_OR_RETURN(
      int64_t n,
      tx.Exec("UPDATE webhook_deliveries SET state = ?, attempts = ?, next_attempt_us = ?, "
              "first_attempt_us = ?, last_attempt_us = ?, delivered_us = ?, last_error = ?, "
              "lease_until_us = 0 WHERE id = ? AND lease_until_us = ?",
              {static_cast<int64_t>(d.state), static_cast<int64_t>(d.attempts), d.next_attempt_us,
               d.first_attempt_us, d.last_attempt_us, d.delivered_us, d.last_error.substr(0, 300),
               d.id, absl::ToUnixMicros(lease_until)}));
  return n == 1;
}

absl::Status ReleaseDelivery(storage::Transaction& tx, int64_t id, absl::Time lease_until) {
  return tx
      .Exec(
          "UPDATE webhook_deliveries SET lease_until_us = 0 WHERE id = ? AND state = ? AND "
          "lease_until_us = ?",
          {id, static_cast<int64_t>(v1::DELIVERY_STATE_PENDING), absl::ToUnixMicros(lease_until)})
      .status();
}

absl::Status UpdateDelivery(storage::Transaction& tx, const DeliveryRow& d) {
  return tx
      .Exec(
          "UPDATE webhook_deliveries SET state = ?, attempts = ?, next_attempt_us = ?, "
          "first_attempt_us = ?, last_attempt_us = ?, delivered_us = ?, last_error = ?, "
          "lease_until_us = 0 WHERE id = ?",
          {static_cast<int64_t>(d.state), static_cast<int64_t>(d.attempts), d.next_attempt_us,
           d.first_attempt_us, d.last_attempt_us, d.delivered_us, d.last_error.substr(0, 300),
           d.id})
      .status();
}

}  // namespace linli::feedback
