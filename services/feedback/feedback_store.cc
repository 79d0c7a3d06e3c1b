#include "services/feedback/feedback_store.h"
#include "services/feedback/notice_store.h"

#include <functional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/audit.h"
#include "common/idempotency.h"
#include "common/metrics.h"
#include "common/status_macros.h"
#include "common/storage/erase.h"
#include "common/storage/proto_rows.h"

namespace linli::feedback {
namespace {

// Associated data sealing one stored answer or work order: the data is bound to its row, so a
// token copied into another row does not decrypt.
std::string FeedbackAad(const std::string& id) { return absl::StrCat("feedback/", id, "#data"); }
std::string WorkOrderAad(const std::string& id) { return absl::StrCat("workOrders/", id, "#data"); }

// The message in column `data` of `row`, sealed (column `sealed` is 1) or, for a row an older
// replica wrote, in plain bytes (sealed at the next start-up).
template <typename Message>
absl::StatusOr<Message> OpenProtoColumn(const storage::Row& row, size_t data, size_t sealed,
                                        const pii::FieldCipher& cipher, const std::string& aad) {
  if (row.GetInt(sealed) == 0) return storage::ParseProtoColumn<Message>(row, data);
  ASSIGN_OR_RETURN(std::string bytes, cipher.Decrypt(row.GetString(data), aad));
  Message message;
  if (!message.ParseFromString(bytes)) {
    return absl::DataLossError(
        absl::StrCat("stored ", Message::descriptor()->name(), " does not parse"));
  }
  return message;
}

// The counter columns of the first schema (migration 3), "name TYPE NOT NULL DEFAULT 0" each.
std::string CounterColumnsDdl(const char* type) {
  std::string out;
  for (int i = 0; i < kFirstSchemaCounters; ++i) {
    absl::StrAppend(&out, ",\n  ", CounterColumns()[i], " ", type, " NOT NULL DEFAULT 0");
  }
  return out;
}

std::string SqliteSchema() {
  return absl::StrCat(R"sql(CREATE TABLE fb_commitments (
  id TEXT PRIMARY KEY,
  elder TEXT NOT NULL,
  organisation TEXT NOT NULL,
  preferred_worker TEXT NOT NULL,
  service_type TEXT NOT NULL
);
CREATE TABLE fb_elders (
  elder TEXT PRIMARY KEY,
  committee TEXT NOT NULL,
  street TEXT NOT NULL,
  solitary INTEGER NOT NULL,
  proxies TEXT NOT NULL,
  first_seen_us INTEGER NOT NULL,
  last_contact_us INTEGER NOT NULL
);
CREATE INDEX fb_elders_solitary ON fb_elders (solitary, elder);
CREATE TABLE fb_visits (
  id TEXT PRIMARY KEY,
  commitment_id TEXT NOT NULL,
  elder TEXT NOT NULL,
  worker TEXT NOT NULL,
  day_number INTEGER NOT NULL,
  state INTEGER NOT NULL,
  late INTEGER NOT NULL,
  disputed INTEGER NOT NULL,
  last_sequence INTEGER NOT NULL,
  contact_time_us INTEGER NOT NULL
);
CREATE TABLE feedback_answers (
  id TEXT PRIMARY KEY,
  visit_id TEXT NOT NULL,
  author TEXT NOT NULL,
  create_time_us INTEGER NOT NULL,
  data BLOB NOT NULL,
  UNIQUE (visit_id, author)
);
CREATE TABLE daily_counters (
  subject TEXT NOT NULL,
  day_number INTEGER NOT NULL)sql",
                      CounterColumnsDdl("INTEGER"), R"sql(,
  PRIMARY KEY (subject, day_number)
) WITHOUT ROWID;
CREATE TABLE work_orders (
  id TEXT PRIMARY KEY,
  organisation TEXT NOT NULL,
  responsible TEXT NOT NULL,
  committee TEXT NOT NULL,
  street TEXT NOT NULL,
  state INTEGER NOT NULL,
  deadline_us INTEGER NOT NULL,
  create_time_us INTEGER NOT NULL,
  data BLOB NOT NULL
);
CREATE INDEX work_orders_by_responsible ON work_orders (responsible, id);
CREATE INDEX work_orders_by_organisation ON work_orders (organisation, create_time_us);
CREATE INDEX work_orders_by_state ON work_orders (state, deadline_us);
CREATE TABLE alerts (
  id TEXT PRIMARY KEY,
  committee TEXT NOT NULL,
  state INTEGER NOT NULL,
  dedupe_key TEXT NOT NULL UNIQUE,
  data BLOB NOT NULL
);
CREATE INDEX alerts_by_committee ON alerts (committee, id);
CREATE TABLE alert_policies (
  committee TEXT PRIMARY KEY,
  no_contact_days INTEGER NOT NULL
))sql");
}

std::string MysqlSchema() {
  constexpr char kTable[] = ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin";
  return absl::StrCat(R"sql(CREATE TABLE fb_commitments (
  id VARCHAR(64) NOT NULL PRIMARY KEY,
  elder VARCHAR(80) NOT NULL,
  organisation VARCHAR(96) NOT NULL,
  preferred_worker VARCHAR(96) NOT NULL,
  service_type VARCHAR(64) NOT NULL
)sql",
                      kTable, R"sql(;
CREATE TABLE fb_elders (
  elder VARCHAR(80) NOT NULL PRIMARY KEY,
  committee VARCHAR(64) NOT NULL,
  street VARCHAR(64) NOT NULL,
  solitary INT NOT NULL,
  proxies VARCHAR(255) NOT NULL,
  first_seen_us BIGINT NOT NULL,
  last_contact_us BIGINT NOT NULL,
  INDEX fb_elders_solitary (solitary, elder)
)sql",
                      kTable, R"sql(;
CREATE TABLE fb_visits (
  id VARCHAR(64) NOT NULL PRIMARY KEY,
  commitment_id VARCHAR(64) NOT NULL,
  elder VARCHAR(80) NOT NULL,
  worker VARCHAR(96) NOT NULL,
  day_number BIGINT NOT NULL,
  state INT NOT NULL,
  late INT NOT NULL,
  disputed INT NOT NULL,
  last_sequence BIGINT NOT NULL,
  contact_time_us BIGINT NOT NULL
)sql",
                      kTable, R"sql(;
CREATE TABLE feedback_answers (
  id VARCHAR(32) NOT NULL PRIMARY KEY,
  visit_id VARCHAR(64) NOT NULL,
  author VARCHAR(128) NOT NULL,
  create_time_us BIGINT NOT NULL,
  data LONGBLOB NOT NULL,
  UNIQUE KEY feedback_once (visit_id, author)
)sql",
                      kTable, R"sql(;
CREATE TABLE daily_counters (
  subject VARCHAR(128) NOT NULL,
  day_number BIGINT NOT NULL)sql",
                      CounterColumnsDdl("BIGINT"), R"sql(,
  PRIMARY KEY (subject, day_number)
)sql",
                      kTable, R"sql(;
CREATE TABLE work_orders (
  id VARCHAR(32) NOT NULL PRIMARY KEY,
  organisation VARCHAR(96) NOT NULL,
  responsible VARCHAR(96) NOT NULL,
  committee VARCHAR(64) NOT NULL,
  street VARCHAR(64) NOT NULL,
  state INT NOT NULL,
  deadline_us BIGINT NOT NULL,
  create_time_us BIGINT NOT NULL,
  data LONGBLOB NOT NULL,
  INDEX work_orders_by_responsible (responsible, id),
  INDEX work_orders_by_organisation (organisation, create_time_us),
  INDEX work_orders_by_state (state, deadline_us)
)sql",
                      kTable, R"sql(;
CREATE TABLE alerts (
  id VARCHAR(32) NOT NULL PRIMARY KEY,
  committee VARCHAR(64) NOT NULL,
  state INT NOT NULL,
  dedupe_key VARCHAR(191) NOT NULL,
  data LONGBLOB NOT NULL,
  UNIQUE KEY alerts_once (dedupe_key),
  INDEX alerts_by_committee (committee, id)
)sql",
                      kTable, R"sql(;
CREATE TABLE alert_policies (
  committee VARCHAR(64) NOT NULL PRIMARY KEY,
  no_contact_days INT NOT NULL
)sql",
                      kTable);
}

}  // namespace

const std::vector<storage::Migration>& FeedbackMigrations() {
  static const auto* migrations = new std::vector<storage::Migration>{
      {1, "consumer cursors",
       R"sql(CREATE TABLE consumer_cursors (
  source TEXT PRIMARY KEY,
  sequence INTEGER NOT NULL,
  update_time_us INTEGER NOT NULL
);
INSERT INTO consumer_cursors (source, sequence, update_time_us) VALUES ('scheduling', 0, 0))sql",
       R"sql(CREATE TABLE consumer_cursors (
  source VARCHAR(64) NOT NULL PRIMARY KEY,
  sequence BIGINT NOT NULL,
  update_time_us BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
INSERT INTO consumer_cursors (source, sequence, update_time_us) VALUES ('scheduling', 0, 0))sql"},
      IdempotencyMigration(2),
      {3, "visit projection, answers, daily counters, work orders, alerts", SqliteSchema(),
       MysqlSchema()},
      // Rows written before this version get their elder from BackfillWorkOrderElders.
      {4, "work orders by elder",
       R"sql(ALTER TABLE work_orders ADD COLUMN elder TEXT NOT NULL DEFAULT '';
CREATE INDEX work_orders_by_elder ON work_orders (elder, id))sql",
       R"sql(ALTER TABLE work_orders ADD COLUMN elder VARCHAR(80) NOT NULL DEFAULT '';
CREATE INDEX work_orders_by_elder ON work_orders (elder, id))sql"},
      // Lists scoped to a committee or street (ListWorkOrdersRequest.region).
      {5, "work orders by committee and street",
       R"sql(CREATE INDEX work_orders_by_committee ON work_orders (committee, id);
CREATE INDEX work_orders_by_street ON work_orders (street, id))sql",
       R"sql(CREATE INDEX work_orders_by_committee ON work_orders (committee, id);
CREATE INDEX work_orders_by_street ON work_orders (street, id))sql"},
      // The queue of visits awaiting the elder's answer (VisitsAwaitingAnswer).
      {6, "elders by committee and street, visits by elder",
       R"sql(CREATE INDEX fb_elders_by_committee ON fb_elders (committee);
CREATE INDEX fb_elders_by_street ON fb_elders (street);
CREATE INDEX fb_visits_by_elder ON fb_visits (elder, day_number))sql",
       R"sql(CREATE INDEX fb_elders_by_committee ON fb_elders (committee);
CREATE INDEX fb_elders_by_street ON fb_elders (street);
CREATE INDEX fb_visits_by_elder ON fb_visits (elder, day_number))sql"},
      // The promises of a region (PromisesOfRegion).
      {7, "commitments by elder", "CREATE INDEX fb_commitments_by_elder ON fb_commitments (elder)",
       "CREATE INDEX fb_commitments_by_elder ON fb_commitments (elder)"},
      // Answers and work orders hold the elders' own words: their data is sealed with the
      // personal-data keyring from here on; rows written before are sealed at start-up
      // (SealPlainFeedbackTexts), found by `sealed = 0`.
      {8, "sealed answers and work orders",
       R"sql(ALTER TABLE feedback_answers ADD COLUMN sealed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE feedback_answers ADD COLUMN has_words INTEGER NOT NULL DEFAULT 0;
ALTER TABLE work_orders ADD COLUMN sealed INTEGER NOT NULL DEFAULT 0;
CREATE INDEX feedback_answers_by_sealed ON feedback_answers (sealed, id);
CREATE INDEX feedback_answers_by_time ON feedback_answers (create_time_us);
CREATE INDEX work_orders_by_sealed ON work_orders (sealed, id))sql",
       R"sql(ALTER TABLE feedback_answers ADD COLUMN sealed TINYINT NOT NULL DEFAULT 0;
ALTER TABLE feedback_answers ADD COLUMN has_words TINYINT NOT NULL DEFAULT 0;
ALTER TABLE work_orders ADD COLUMN sealed TINYINT NOT NULL DEFAULT 0;
CREATE INDEX feedback_answers_by_sealed ON feedback_answers (sealed, id);
CREATE INDEX feedback_answers_by_time ON feedback_answers (create_time_us);
CREATE INDEX work_orders_by_sealed ON work_orders (sealed, id))sql"},
      AuditMigration(9),
      // The day board: each visit's arrival window and whether someone is booked, from the
      // events (-1: projected before this version, not known until its next event).
      {10, "visit windows and bookings",
       R"sql(ALTER TABLE fb_visits ADD COLUMN window_start_us INTEGER NOT NULL DEFAULT 0;
ALTER TABLE fb_visits ADD COLUMN window_end_us INTEGER NOT NULL DEFAULT 0;
ALTER TABLE fb_visits ADD COLUMN staffed INTEGER NOT NULL DEFAULT -1)sql",
       R"sql(ALTER TABLE fb_visits ADD COLUMN window_start_us BIGINT NOT NULL DEFAULT 0;
ALTER TABLE fb_visits ADD COLUMN window_end_us BIGINT NOT NULL DEFAULT 0;
ALTER TABLE fb_visits ADD COLUMN staffed TINYINT NOT NULL DEFAULT -1)sql"},
      // Exception review: a visit's review state, the counters of visits under review and
      // rejected, and the review queue (visits by review state).
      {11, "exception review",
       R"sql(ALTER TABLE fb_visits ADD COLUMN review INTEGER NOT NULL DEFAULT 0;
ALTER TABLE daily_counters ADD COLUMN under_review INTEGER NOT NULL DEFAULT 0;
ALTER TABLE daily_counters ADD COLUMN rejected INTEGER NOT NULL DEFAULT 0;
CREATE INDEX fb_visits_by_review ON fb_visits (review, day_number, id))sql",
       R"sql(ALTER TABLE fb_visits ADD COLUMN review TINYINT NOT NULL DEFAULT 0;
ALTER TABLE daily_counters ADD COLUMN under_review BIGINT NOT NULL DEFAULT 0;
ALTER TABLE daily_counters ADD COLUMN rejected BIGINT NOT NULL DEFAULT 0;
CREATE INDEX fb_visits_by_review ON fb_visits (review, day_number, id))sql"},
      // Notices (notice_store.h): the inbox of every recipient, its gate (as scheduling's outbox
      // gate: a reader never gets a sequence while a smaller one can still appear), quiet hours,
      // webhooks and their deliveries; and what the visit projection needs to tell who is late.
      {12, "notices and webhooks", NoticeSchema(storage::Dialect::kSqlite),
       NoticeSchema(storage::Dialect::kMysql)},
      // Make-up visits: a missed visit made good (fb_visits.repaired) and its counter.
      {13, "repaired visits",
       R"sql(ALTER TABLE fb_visits ADD COLUMN repaired INTEGER NOT NULL DEFAULT 0;
ALTER TABLE daily_counters ADD COLUMN repaired INTEGER NOT NULL DEFAULT 0)sql",
       R"sql(ALTER TABLE fb_visits ADD COLUMN repaired TINYINT NOT NULL DEFAULT 0;
ALTER TABLE daily_counters ADD COLUMN repaired BIGINT NOT NULL DEFAULT 0)sql"},
      // Promises moved to another provider by an accepted referral (scheduling's
      // referral.accepted): the old promise ended without being broken.
      {14, "promises moved by referral",
       R"sql(CREATE TABLE fb_moves (
  commitment_id TEXT PRIMARY KEY,
  moved_to TEXT NOT NULL
))sql",
       R"sql(CREATE TABLE fb_moves (
  commitment_id VARCHAR(64) NOT NULL PRIMARY KEY,
  moved_to VARCHAR(80) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin)sql"},
      // The elder's committee and street on each notice: the committee's call list of elders
      // their notices have not reached (notice_store.h, QueryUnreached). Notices raised before
      // have none and are not on it.
      {15, "notices by committee", NoticeRegionSchema(storage::Dialect::kSqlite),
       NoticeRegionSchema(storage::Dialect::kMysql)},
      // Webhooks of a street's text-message or voice-call provider that are given the phone
      // number of the elder each notice is for (webhook_sender.h).
      // An elder a notice was texted to is reached: the call list looks up a notice's
      // deliveries.
      {16, "webhooks with phone numbers",
       "ALTER TABLE webhooks ADD COLUMN deliver_phone INTEGER NOT NULL DEFAULT 0;\n"
       "CREATE INDEX deliveries_by_notice ON webhook_deliveries (notice, state)",
       "ALTER TABLE webhooks ADD COLUMN deliver_phone TINYINT NOT NULL DEFAULT 0;\n"
       "CREATE INDEX deliveries_by_notice ON webhook_deliveries (notice, state)"},
      // Channels: what a webhook's endpoint is (text messages, WeChat, voice calls, a system),
      // and each recipient's kinds muted per channel (notice_policy.h ChannelWants).
      {17, "notice channels",
       "ALTER TABLE webhooks ADD COLUMN channel INTEGER NOT NULL DEFAULT 1;\n"
       "ALTER TABLE notice_preferences ADD COLUMN channels TEXT NOT NULL DEFAULT ''",
       "ALTER TABLE webhooks ADD COLUMN channel TINYINT NOT NULL DEFAULT 1;\n"
       "ALTER TABLE notice_preferences ADD COLUMN channels VARCHAR(200) NOT NULL DEFAULT ''"},
  };
  return *migrations;
}

// --- Cursors -----------------------------------------------------------------------------------

absl::StatusOr<std::vector<ConsumerCursor>> ListCursors(storage::Transaction& tx) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT source, sequence, update_time_us FROM "
                                       "consumer_cursors ORDER BY source"));
  std::vector<ConsumerCursor> cursors;
  for (const storage::Row& row : rows) {
    cursors.push_back(
        ConsumerCursor{row.GetString(0), row.GetInt(1), absl::FromUnixMicros(row.GetInt(2))});
  }
  return cursors;
}

absl::StatusOr<int64_t> GetCursor(storage::Transaction& tx, const std::string& source) {
  ASSIGN_OR_RETURN(auto rows,
                   tx.Query("SELECT sequence FROM consumer_cursors WHERE source = ?", {source}));
  return rows.empty() ? 0 : rows[0].GetInt(0);
}

absl::Status AdvanceCursor(storage::Transaction& tx, const std::string& source, int64_t sequence,
                           absl::Time now) {
  return tx
      .Exec(
          "UPDATE consumer_cursors SET sequence = ?, update_time_us = ? WHERE source = ? AND "
          "sequence < ?",
          {sequence, absl::ToUnixMicros(now), source, sequence})
      .status();
}

// --- Projection ----------------------------------------------------------------------------------

absl::StatusOr<std::optional<CommitmentFacts>> FindCommitmentFacts(storage::Transaction& tx,
                                                                   const std::string& id) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT elder, organisation, preferred_worker, "
                                       "service_type FROM fb_commitments WHERE id = ?",
                                       {id}));
  if (rows.empty()) return std::optional<CommitmentFacts>();
  return std::optional<CommitmentFacts>(CommitmentFacts{
      id, rows[0].GetString(0), rows[0].GetString(1), rows[0].GetString(2), rows[0].GetString(3)});
}

absl::Status InsertCommitmentFacts(storage::Transaction& tx, const CommitmentFacts& f) {
  return tx
      .Exec(
          "INSERT INTO fb_commitments (id, elder, organisation, preferred_worker, service_type) "
          "VALUES (?, ?, ?, ?, ?)",
          {f.id, f.elder, f.organisation, f.preferred_worker, f.service_type})
      .status();
}

namespace {

ElderFacts ElderFromRow(const storage::Row& row) {
  ElderFacts f;
  f.elder = row.GetString(0);
  f.committee = row.GetString(1);
  f.street = row.GetString(2);
  f.solitary = row.GetInt(3) != 0;
  for (absl::string_view part : absl::StrSplit(row.GetString(4), ',', absl::SkipEmpty())) {
    int index = 0;
    if (absl::SimpleAtoi(part, &index)) f.proxy_contacts.push_back(index);
  }
  f.first_seen_us = row.GetInt(5);
  f.last_contact_us = row.GetInt(6);
  return f;
}

constexpr char kSelectElder[] =
    "SELECT elder, committee, street, solitary, proxies, first_seen_us, last_contact_us FROM "
    "fb_elders ";

}  // namespace

absl::StatusOr<std::optional<ElderFacts>> FindElderFacts(storage::Transaction& tx,
                                                         const std::string& elder) {
  ASSIGN_OR_RETURN(auto rows, tx.Query(std::string(kSelectElder) + "WHERE elder = ?", {elder}));
  if (rows.empty()) return std::optional<ElderFacts>();
  return std::optional<ElderFacts>(ElderFromRow(rows[0]));
}

absl::Status InsertElderFacts(storage::Transaction& tx, const ElderFacts& f) {
  return tx
      .Exec(
          "INSERT INTO fb_elders (elder, committee, street, solitary, proxies, first_seen_us, "
          "last_contact_us) VALUES (?, ?, ?, ?, ?, ?, ?)",
          {f.elder, f.committee, f.street, static_cast<int64_t>(f.solitary ? 1 : 0),
           absl::StrJoin(f.proxy_contacts, ","), f.first_seen_us, f.last_contact_us})
      .status();
}

absl::Status RaiseLastContact(storage::Transaction& tx, const std::string& elder,
                              int64_t contact_us) {
  return tx
      .Exec("UPDATE fb_elders SET last_contact_us = ? WHERE elder = ? AND last_contact_us < ?",
            {contact_us, elder, contact_us})
      .status();
}

absl::StatusOr<std::vector<ElderFacts>> SolitaryElders(storage::Transaction& tx) {
  ASSIGN_OR_RETURN(auto rows,
                   tx.Query(std::string(kSelectElder) + "WHERE solitary = 1 ORDER BY elder"));
  std::vector<ElderFacts> out;
  out.reserve(rows.size());
  for (const storage::Row& row : rows) out.push_back(ElderFromRow(row));
  return out;
}

absl::StatusOr<std::vector<ElderFacts>> KnownElders(storage::Transaction& tx) {
  ASSIGN_OR_RETURN(auto rows, tx.Query(std::string(kSelectElder) + "ORDER BY elder"));
  std::vector<ElderFacts> out;
  out.reserve(rows.size());
  for (const storage::Row& row : rows) out.push_back(ElderFromRow(row));
  return out;
}

namespace {

// The columns of a projected visit (VisitFromRow reads them in this order).
constexpr char kSelectVisit[] =
    "SELECT v.id, v.commitment_id, v.elder, v.worker, v.day_number, v.state, v.late, v.disputed, "
    "v.last_sequence, v.contact_time_us, v.window_start_us, v.window_end_us, v.staffed, "
    "v.review, v.booked_worker, v.check_in_us, v.duration_minutes, v.repaired";
constexpr size_t kVisitColumns = 18;

ProjectedVisit VisitFromRow(const storage::Row& r) {
  ProjectedVisit v;
  v.id = r.GetString(0);
  v.commitment_id = r.GetString(1);
  v.elder = r.GetString(2);
  v.worker = r.GetString(3);
  v.day = r.GetInt(4);
  v.state = static_cast<VisitState>(r.GetInt(5));
  v.late = r.GetInt(6) != 0;
  v.disputed = r.GetInt(7) != 0;
  v.last_sequence = r.GetInt(8);
  v.contact_time_us = r.GetInt(9);
  v.window_start_us = r.GetInt(10);
  v.window_end_us = r.GetInt(11);
  v.staffed = static_cast<int>(r.GetInt(12));
  v.review = static_cast<int>(r.GetInt(13));
  v.booked_worker = r.GetString(14);
  v.check_in_us = r.GetInt(15);
  v.duration_minutes = static_cast<int>(r.GetInt(16));
  v.repaired = r.GetInt(17) != 0;
  return v;
}

}  // namespace

absl::StatusOr<std::optional<ProjectedVisit>> FindVisit(storage::Transaction& tx,
                                                        const std::string& id) {
  ASSIGN_OR_RETURN(auto rows,
                   tx.Query(std::string(kSelectVisit) + " FROM fb_visits v WHERE v.id = ?", {id}));
  if (rows.empty()) return std::optional<ProjectedVisit>();
  return std::optional<ProjectedVisit>(VisitFromRow(rows[0]));
}

absl::StatusOr<std::vector<ProjectedVisit>> ScheduledVisitsAround(storage::Transaction& tx,
                                                                  absl::Time from, absl::Time to,
                                                                  absl::Time now) {
  ASSIGN_OR_RETURN(
      auto rows,
      tx.Query(std::string(kSelectVisit) + " FROM fb_visits v WHERE v.state = ? AND "
                                           "v.window_start_us >= ? AND v.window_start_us <= ? AND "
                                           "v.window_end_us > ? ORDER BY v.window_start_us, v.id",
               {static_cast<int64_t>(VisitState::kScheduled), absl::ToUnixMicros(from),
                absl::ToUnixMicros(to), absl::ToUnixMicros(now)}));
  std::vector<ProjectedVisit> out;
  out.reserve(rows.size());
  for (const storage::Row& row : rows) out.push_back(VisitFromRow(row));
  return out;
}

absl::StatusOr<std::optional<ProjectedVisit>> VisitInProgressOf(storage::Transaction& tx,
                                                                const std::string& worker) {
  ASSIGN_OR_RETURN(auto rows, tx.Query(std::string(kSelectVisit) +
                                           " FROM fb_visits v WHERE v.worker = ? AND v.state = ? "
                                           "ORDER BY v.check_in_us DESC LIMIT 1",
                                       {worker, static_cast<int64_t>(VisitState::kInProgress)}));
  if (rows.empty()) return std::optional<ProjectedVisit>();
  return std::optional<ProjectedVisit>(VisitFromRow(rows[0]));
}

absl::StatusOr<std::vector<BoardRow>> VisitsOfDay(storage::Transaction& tx,
                                                  const std::string& region, int64_t day) {
  ASSIGN_OR_RETURN(auto rows,
                   tx.Query(std::string(kSelectVisit) +
                                ", e.committee FROM fb_visits v JOIN fb_elders e ON e.elder = "
                                "v.elder WHERE (e.committee = ? OR e.street = ?) AND "
                                "v.day_number = ?",
                            {region, region, day}));
  std::vector<BoardRow> out;
  out.reserve(rows.size());
  for (const storage::Row& row : rows) {
    out.push_back(BoardRow{VisitFromRow(row), row.GetString(kVisitColumns)});
  }
  return out;
}

absl::Status UpsertVisit(storage::Transaction& tx, const ProjectedVisit& v, bool exists) {
  if (exists) {
    return tx
        .Exec(
            "UPDATE fb_visits SET worker = ?, day_number = ?, state = ?, late = ?, "
            "last_sequence = ?, contact_time_us = ?, window_start_us = ?, window_end_us = ?, "
            "staffed = ?, review = ?, booked_worker = ?, check_in_us = ?, duration_minutes = ?, "
            "repaired = ? WHERE id = ?",
            {v.worker, v.day, static_cast<int64_t>(v.state), static_cast<int64_t>(v.late),
             v.last_sequence, v.contact_time_us, v.window_start_us, v.window_end_us,
             static_cast<int64_t>(v.staffed), static_cast<int64_t>(v.review), v.booked_worker,
             v.check_in_us, static_cast<int64_t>(v.duration_minutes),
             static_cast<int64_t>(v.repaired), v.id})
        .status();
  }
  return tx
      .Exec(
          "INSERT INTO fb_visits (id, commitment_id, elder, worker, day_number, state, late, "
          "disputed, last_sequence, contact_time_us, window_start_us, window_end_us, staffed, "
          "review, booked_worker, check_in_us, duration_minutes, repaired) VALUES (?, ?, ?, ?, ?, "
          "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
          {v.id, v.commitment_id, v.elder, v.worker, v.day, static_cast<int64_t>(v.state),
           static_cast<int64_t>(v.late), static_cast<int64_t>(v.disputed), v.last_sequence,
           v.contact_time_us, v.window_start_us, v.window_end_us, static_cast<int64_t>(v.staffed),
           static_cast<int64_t>(v.review), v.booked_worker, v.check_in_us,
           static_cast<int64_t>(v.duration_minutes), static_cast<int64_t>(v.repaired)})
      .status();
}

absl::StatusOr<std::vector<ReviewRow>> VisitsAwaitingReview(
    storage::Transaction& tx, const std::string& region, const std::string& organisation,
    int64_t after_day, const std::string& after_id, int limit) {
  std::string sql =
      "SELECT v.id, v.elder, v.commitment_id, c.organisation, e.committee, v.day_number FROM "
      "fb_visits v JOIN fb_elders e ON e.elder = v.elder JOIN fb_commitments c ON c.id = "
      "v.commitment_id WHERE v.review = ? AND (v.day_number > ? OR (v.day_number = ? AND v.id > "
      "?)) ";
  std::vector<storage::Value> params = {static_cast<int64_t>(kReviewPending), after_day, after_day,
                                        after_id};
  if (!region.empty()) {
    sql += "AND (e.committee = ? OR e.street = ?) ";
    params.emplace_back(region);
    params.emplace_back(region);
  }
  if (!organisation.empty()) {
    sql += "AND c.organisation = ? ";
    params.emplace_back(organisation);
  }
  sql += "ORDER BY v.day_number, v.id LIMIT ?";
  params.emplace_back(static_cast<int64_t>(limit));
  ASSIGN_OR_RETURN(auto rows, tx.Query(sql, params));
  std::vector<ReviewRow> out;
  out.reserve(rows.size());
  for (const storage::Row& row : rows) {
    out.push_back(ReviewRow{row.GetString(0), row.GetString(1), row.GetString(2), row.GetString(3),
                            row.GetString(4), row.GetInt(5)});
  }
  return out;
}

absl::StatusOr<bool> MarkDisputed(storage::Transaction& tx, const std::string& id) {
  ASSIGN_OR_RETURN(int64_t n, tx.Exec("UPDATE fb_visits SET disputed = 1 WHERE id = ? AND "
                                      "disputed = 0 AND state = ?",
                                      {id, static_cast<int64_t>(VisitState::kCompleted)}));
  return n == 1;
}

// --- Counters ------------------------------------------------------------------------------------

absl::Status AddCounters(storage::Transaction& tx, storage::Dialect dialect,
                         const std::string& subject, int64_t day, const Figures& delta) {
  static const std::string* const sqlite_sql = [] {
    std::string columns, marks, updates;
    for (const char* c : CounterColumns()) {
      absl::StrAppend(&columns, ", ", c);
      absl::StrAppend(&marks, ", ?");
      absl::StrAppend(&updates, updates.empty() ? "" : ", ", c, " = ", c, " + excluded.", c);
    }
    return new std::string(
        absl::StrCat("INSERT INTO daily_counters (subject, day_number", columns, ") VALUES (?, ?",
                     marks, ") ON CONFLICT (subject, day_number) DO UPDATE SET ", updates));
  }();
  static const std::string* const mysql_sql = [] {
    std::string columns, marks, updates;
    for (const char* c : CounterColumns()) {
      absl::StrAppend(&columns, ", ", c);
      absl::StrAppend(&marks, ", ?");
      absl::StrAppend(&updates, updates.empty() ? "" : ", ", c, " = ", c, " + VALUES(", c, ")");
    }
    return new std::string(absl::StrCat("INSERT INTO daily_counters (subject, day_number", columns,
                                        ") VALUES (?, ?", marks, ") ON DUPLICATE KEY UPDATE ",
                                        updates));
  }();
  std::vector<storage::Value> params;
  params.reserve(2 + kCounterCount);
  params.emplace_back(subject);
  params.emplace_back(day);
  for (int64_t v : delta.c) params.emplace_back(v);
  return tx.Exec(dialect == storage::Dialect::kMysql ? *mysql_sql : *sqlite_sql, params).status();
}

absl::StatusOr<Figures> SumCounters(storage::Transaction& tx, const std::string& subject,
                                    int64_t first_day, int64_t last_day) {
  static const std::string* const sql = [] {
    std::string sums;
    for (const char* c : CounterColumns()) {
      absl::StrAppend(&sums, sums.empty() ? "" : ", ", "COALESCE(SUM(", c, "), 0)");
    }
    return new std::string(absl::StrCat("SELECT ", sums,
                                        " FROM daily_counters WHERE subject = ? AND day_number "
                                        ">= ? AND day_number <= ?"));
  }();
  ASSIGN_OR_RETURN(auto rows, tx.Query(*sql, {subject, first_day, last_day}));
  Figures f;
  if (!rows.empty()) {
    for (int i = 0; i < kCounterCount; ++i) f.c[i] = rows[0].GetInt(i);
  }
  return f;
}

absl::StatusOr<std::vector<PromiseRow>> PromisesOfRegion(storage::Transaction& tx,
                                                         storage::Dialect dialect,
                                                         const std::string& region,
                                                         const std::string& organisation,
                                                         const std::string& service_type,
                                                         int64_t first_day, int64_t last_day) {
  std::string sums;
  for (const char* c : CounterColumns()) absl::StrAppend(&sums, ", COALESCE(SUM(d.", c, "), 0)");
  // A commitment's counters are kept under the subject "commitments/ID".
  const char* subject = dialect == storage::Dialect::kMysql ? "CONCAT('commitments/', c.id)"
                                                            : "('commitments/' || c.id)";
  std::string sql = absl::StrCat(
      "SELECT c.id, c.elder, c.organisation, c.preferred_worker, c.service_type, e.committee, "
      "COALESCE(m.moved_to, '')",
      sums,
      " FROM fb_commitments c JOIN fb_elders e ON e.elder = c.elder LEFT JOIN fb_moves m ON "
      "m.commitment_id = c.id LEFT JOIN daily_counters d ON d.subject = ",
      subject,
      " AND d.day_number >= ? AND d.day_number <= ? WHERE (e.committee = ? OR e.street = ?) ");
  std::vector<storage::Value> params = {first_day, last_day, region, region};
  if (!organisation.empty()) {
    sql += "AND c.organisation = ? ";
    params.emplace_back(organisation);
  }
  if (!service_type.empty()) {
    sql += "AND c.service_type = ? ";
    params.emplace_back(service_type);
  }
  sql +=
      "GROUP BY c.id, c.elder, c.organisation, c.preferred_worker, c.service_type, e.committee, "
      "m.moved_to";
  ASSIGN_OR_RETURN(auto rows, tx.Query(sql, params));
  std::vector<PromiseRow> out;
  out.reserve(rows.size());
  for (const storage::Row& row : rows) {
    PromiseRow p;
    p.commitment = CommitmentFacts{row.GetString(0), row.GetString(1), row.GetString(2),
                                   row.GetString(3), row.GetString(4)};
    p.committee = row.GetString(5);
    p.moved_to = row.GetString(6);
    for (int i = 0; i < kCounterCount; ++i) p.figures.c[i] = row.GetInt(7 + i);
    out.push_back(std::move(p));
  }
  return out;
}

absl::Status RecordMove(storage::Transaction& tx, const std::string& commitment_id,
                        const std::string& moved_to) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT moved_to FROM fb_moves WHERE commitment_id = ?",
                                       {commitment_id}));
  if (!rows.empty()) return absl::OkStatus();  // an event applied again
  return tx
      .Exec("INSERT INTO fb_moves (commitment_id, moved_to) VALUES (?, ?)",
            {commitment_id, moved_to})
      .status();
}

void CounterBatch::Add(const std::vector<std::string>& subjects, int64_t day,
                       const Figures& delta) {
  if (delta.IsZero()) return;
  for (const std::string& subject : subjects) rows_[{subject, day}] += delta;
}

absl::Status CounterBatch::Flush(storage::Transaction& tx, storage::Dialect dialect) {
  for (const auto& [key, delta] : rows_) {
    if (delta.IsZero()) continue;
    RETURN_IF_ERROR(AddCounters(tx, dialect, key.first, key.second, delta));
  }
  rows_.clear();
  return absl::OkStatus();
}

// --- Feedback answers ----------------------------------------------------------------------------

absl::Status InsertFeedback(storage::Transaction& tx, const pii::FieldCipher& cipher,
                            const std::string& id, const std::string& visit_id,
                            const v1::Feedback& feedback, absl::Time now) {
  ASSIGN_OR_RETURN(std::string sealed,
                   cipher.Encrypt(feedback.SerializeAsString(), FeedbackAad(id)));
  return tx
      .Exec(
          "INSERT INTO feedback_answers (id, visit_id, author, create_time_us, data, sealed, "
          "has_words) VALUES (?, ?, ?, ?, ?, 1, ?)",
          {id, visit_id, feedback.author(), absl::ToUnixMicros(now), std::move(sealed),
           static_cast<int64_t>(feedback.words().empty() ? 0 : 1)})
      .status();
}

absl::StatusOr<std::vector<v1::Feedback>> QueryFeedback(storage::Transaction& tx,
                                                        const pii::FieldCipher& cipher,
                                                        const FeedbackQuery& query) {
  std::string sql =
      "SELECT a.id, a.data, a.sealed FROM feedback_answers a JOIN fb_visits v ON v.id = "
      "a.visit_id ";
  std::vector<storage::Value> params;
  if (!query.region.empty()) {
    sql += "JOIN fb_elders e ON e.elder = v.elder WHERE (e.committee = ? OR e.street = ?) ";
    params.emplace_back(query.region);
    params.emplace_back(query.region);
  } else {
    sql += "WHERE 1 = 1 ";
  }
  if (!query.elder.empty()) {
    sql += "AND v.elder = ? ";
    params.emplace_back(query.elder);
  }
  if (query.with_words_only) sql += "AND a.has_words = 1 ";
  sql += "AND a.create_time_us >= ? ";
  params.emplace_back(query.since_us);
  if (!query.before_id.empty()) {
    sql += "AND (a.create_time_us < ? OR (a.create_time_us = ? AND a.id < ?)) ";
    params.emplace_back(query.before_us);
    params.emplace_back(query.before_us);
    params.emplace_back(query.before_id);
  }
  sql += "ORDER BY a.create_time_us DESC, a.id DESC LIMIT ?";
  params.emplace_back(static_cast<int64_t>(query.limit));
  ASSIGN_OR_RETURN(auto rows, tx.Query(sql, params));
  std::vector<v1::Feedback> out;
  out.reserve(rows.size());
  for (const storage::Row& row : rows) {
    ASSIGN_OR_RETURN(v1::Feedback answer, OpenProtoColumn<v1::Feedback>(
                                              row, 1, 2, cipher, FeedbackAad(row.GetString(0))));
    out.push_back(std::move(answer));
  }
  return out;
}

absl::StatusOr<std::vector<AwaitingAnswer>> VisitsAwaitingAnswer(storage::Transaction& tx,
                                                                 const std::string& region,
                                                                 int64_t first_day,
                                                                 int64_t last_day) {
  // An answer in the elder's voice is one whose author is the elder or a proxy contact
  // ("elders/…"); the worker's own answer ("workers/…") does not take a visit off the queue.
  ASSIGN_OR_RETURN(
      auto visits,
      tx.Query(
          "SELECT v.id, v.elder, v.commitment_id, v.worker, v.day_number, e.solitary FROM "
          "fb_visits v JOIN fb_elders e ON e.elder = v.elder WHERE (e.committee = ? OR "
          "e.street = ?) AND v.state = ? AND v.day_number BETWEEN ? AND ? AND NOT EXISTS "
          "(SELECT 1 FROM feedback_answers a WHERE a.visit_id = v.id AND a.author LIKE "
          "'elders/%')",
          {region, region, static_cast<int64_t>(VisitState::kCompleted), first_day, last_day}));
  std::vector<AwaitingAnswer> out;
  if (visits.empty()) return out;
  ASSIGN_OR_RETURN(
      auto disputed,
      tx.Query("SELECT v.elder, COUNT(*) FROM fb_visits v JOIN fb_elders e ON e.elder = v.elder "
               "WHERE (e.committee = ? OR e.street = ?) AND v.disputed = 1 AND v.day_number "
               "BETWEEN ? AND ? GROUP BY v.elder",
               {region, region, first_day, last_day}));
  ASSIGN_OR_RETURN(
      auto answered,
      tx.Query("SELECT v.elder, MAX(a.create_time_us) FROM feedback_answers a JOIN fb_visits v ON "
               "v.id = a.visit_id JOIN fb_elders e ON e.elder = v.elder WHERE (e.committee = ? OR "
               "e.street = ?) AND a.author LIKE 'elders/%' GROUP BY v.elder",
               {region, region}));
  std::map<std::string, int> disputes;
  for (const storage::Row& row : disputed) {
    disputes[row.GetString(0)] = static_cast<int>(row.GetInt(1));
  }
  std::map<std::string, int64_t> last_answer;
  for (const storage::Row& row : answered) last_answer[row.GetString(0)] = row.GetInt(1);
  out.reserve(visits.size());
  for (const storage::Row& row : visits) {
    AwaitingAnswer a;
    a.visit_id = row.GetString(0);
    a.elder = row.GetString(1);
    a.commitment_id = row.GetString(2);
    a.worker = row.GetString(3);
    a.day = row.GetInt(4);
    a.solitary = row.GetInt(5) != 0;
    if (auto it = disputes.find(a.elder); it != disputes.end()) a.disputed_visits = it->second;
    if (auto it = last_answer.find(a.elder); it != last_answer.end()) a.last_answer_us = it->second;
    out.push_back(std::move(a));
  }
  return out;
}

absl::StatusOr<int64_t> CountFeedback(storage::Transaction& tx) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT COUNT(*) FROM feedback_answers"));
  return rows.empty() ? 0 : rows[0].GetInt(0);
}

// --- Work orders ---------------------------------------------------------------------------------

namespace {

constexpr char kSelectWorkOrder[] =
    "SELECT id, organisation, committee, street, data, sealed FROM work_orders ";

absl::StatusOr<WorkOrderRow> WorkOrderFromRow(const storage::Row& row,
                                              const pii::FieldCipher& cipher) {
  WorkOrderRow w;
  w.id = row.GetString(0);
  w.organisation = row.GetString(1);
  w.committee = row.GetString(2);
  w.street = row.GetString(3);
  ASSIGN_OR_RETURN(w.order, OpenProtoColumn<v1::WorkOrder>(row, 4, 5, cipher, WorkOrderAad(w.id)));
  return w;
}

absl::StatusOr<std::vector<WorkOrderRow>> WorkOrdersFromRows(const std::vector<storage::Row>& rows,
                                                             const pii::FieldCipher& cipher) {
  std::vector<WorkOrderRow> out;
  out.reserve(rows.size());
  for (const storage::Row& row : rows) {
    ASSIGN_OR_RETURN(WorkOrderRow w, WorkOrderFromRow(row, cipher));
    out.push_back(std::move(w));
  }
  return out;
}

int64_t Micros(const google::protobuf::Timestamp& t) {
  return t.seconds() * 1000000 + t.nanos() / 1000;
}

}  // namespace

absl::Status InsertWorkOrder(storage::Transaction& tx, const pii::FieldCipher& cipher,
                             const WorkOrderRow& row) {
  ASSIGN_OR_RETURN(std::string sealed,
                   cipher.Encrypt(row.order.SerializeAsString(), WorkOrderAad(row.id)));
  return tx
      .Exec(
          "INSERT INTO work_orders (id, organisation, responsible, committee, street, state, "
          "deadline_us, create_time_us, data, elder, sealed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, "
          "?, 1)",
          {row.id, row.organisation, row.order.responsible_organisation(), row.committee,
           row.street, static_cast<int64_t>(row.order.state()), Micros(row.order.deadline()),
           Micros(row.order.create_time()), std::move(sealed), row.order.elder()})
      .status();
}

absl::Status UpdateWorkOrder(storage::Transaction& tx, const pii::FieldCipher& cipher,
                             const WorkOrderRow& row) {
  ASSIGN_OR_RETURN(std::string sealed,
                   cipher.Encrypt(row.order.SerializeAsString(), WorkOrderAad(row.id)));
  ASSIGN_OR_RETURN(
      int64_t n,
      tx.Exec("UPDATE work_orders SET responsible = ?, state = ?, deadline_us = ?, "
              "data = ?, sealed = 1 WHERE id = ?",
              {row.order.responsible_organisation(), static_cast<int64_t>(row.order.state()),
               Micros(row.order.deadline()), std::move(sealed), row.id}));
  if (n != 1) return absl::NotFoundError("workOrders/" + row.id + " not found");
  return absl::OkStatus();
}

absl::StatusOr<std::optional<WorkOrderRow>> FindWorkOrder(storage::Transaction& tx,
                                                          const pii::FieldCipher& cipher,
                                                          const std::string& id) {
  ASSIGN_OR_RETURN(auto rows, tx.Query(std::string(kSelectWorkOrder) + "WHERE id = ?", {id}));
  if (rows.empty()) return std::optional<WorkOrderRow>();
  ASSIGN_OR_RETURN(WorkOrderRow w, WorkOrderFromRow(rows[0], cipher));
  return std::optional<WorkOrderRow>(std::move(w));
}

absl::StatusOr<std::vector<WorkOrderRow>> QueryWorkOrders(storage::Transaction& tx,
                                                          const pii::FieldCipher& cipher,
                                                          const std::string& responsible, int state,
                                                          const std::string& after_id, int limit,
                                                          const std::string& elder,
                                                          const std::string& region) {
  std::string sql = std::string(kSelectWorkOrder) + "WHERE id > ? ";
  std::vector<storage::Value> params;
  params.reserve(7);
  params.emplace_back(after_id);
  if (!region.empty()) {
    sql += "AND (committee = ? OR street = ?) ";
    params.emplace_back(region);
    params.emplace_back(region);
  }
  if (!responsible.empty()) {
    sql += "AND responsible = ? ";
    params.emplace_back(responsible);
  }
  if (!elder.empty()) {
    sql += "AND elder = ? ";
    params.emplace_back(elder);
  }
  if (state != 0) {
    sql += "AND state = ? ";
    params.emplace_back(static_cast<int64_t>(state));
  }
  sql += "ORDER BY id LIMIT ?";
  params.emplace_back(static_cast<int64_t>(limit));
  ASSIGN_OR_RETURN(auto rows, tx.Query(sql, params));
  return WorkOrdersFromRows(rows, cipher);
}

absl::StatusOr<std::map<std::string, int>> OpenComplaintsByCommitment(
    storage::Transaction& tx, const pii::FieldCipher& cipher, const std::string& region) {
  ASSIGN_OR_RETURN(
      auto rows,
      tx.Query(absl::StrCat(kSelectWorkOrder,
                            "WHERE (committee = ? OR street = ?) AND state IN (?, ?, ?, ?)"),
               {region, region, static_cast<int64_t>(v1::WORK_ORDER_STATE_ACCEPTED),
                static_cast<int64_t>(v1::WORK_ORDER_STATE_CLASSIFIED),
                static_cast<int64_t>(v1::WORK_ORDER_STATE_ROUTED),
                static_cast<int64_t>(v1::WORK_ORDER_STATE_ESCALATED)}));
  std::map<std::string, int> open;
  for (const storage::Row& row : rows) {
    ASSIGN_OR_RETURN(WorkOrderRow w, WorkOrderFromRow(row, cipher));
    ++open[w.order.commitment()];
  }
  return open;
}

absl::StatusOr<std::vector<WorkOrderRow>> OverdueWorkOrders(storage::Transaction& tx,
                                                            const pii::FieldCipher& cipher,
                                                            absl::Time now) {
  ASSIGN_OR_RETURN(auto rows, tx.Query(std::string(kSelectWorkOrder) +
                                           "WHERE state IN (?, ?) AND deadline_us < ? ORDER BY id",
                                       {static_cast<int64_t>(v1::WORK_ORDER_STATE_CLASSIFIED),
                                        static_cast<int64_t>(v1::WORK_ORDER_STATE_ROUTED),
                                        absl::ToUnixMicros(now)}));
  return WorkOrdersFromRows(rows, cipher);
}

absl::StatusOr<std::vector<WorkOrderRow>> WorkOrdersOfPeriod(storage::Transaction& tx,
                                                             const pii::FieldCipher& cipher,
                                                             const std::string& organisation,
                                                             absl::Time from, absl::Time to) {
  ASSIGN_OR_RETURN(
      auto rows,
      tx.Query(std::string(kSelectWorkOrder) + "WHERE organisation = ? AND create_time_us >= ? AND "
                                               "create_time_us < ? ORDER BY id",
               {organisation, absl::ToUnixMicros(from), absl::ToUnixMicros(to)}));
  return WorkOrdersFromRows(rows, cipher);
}

// --- Alerts --------------------------------------------------------------------------------------

absl::StatusOr<bool> InsertAlertOnce(storage::Transaction& tx, const AlertRow& row) {
  ASSIGN_OR_RETURN(auto existing,
                   tx.Query("SELECT id FROM alerts WHERE dedupe_key = ?", {row.dedupe_key}));
  if (!existing.empty()) return false;
  RETURN_IF_ERROR(tx.Exec("INSERT INTO alerts (id, committee, state, dedupe_key, data) VALUES (?, "
                          "?, ?, ?, ?)",
                          {row.id, row.alert.committee(), static_cast<int64_t>(row.alert.state()),
                           row.dedupe_key, row.alert.SerializeAsString()})
                      .status());
  // Counted when written (a transaction rolled back after this would over-count by one).
  static auto& raised = metrics::Registry::Default().AddCounter(
      "linli_alerts_raised_total", "Safety-net alerts raised, by kind.", {"kind"});
  raised.WithLabels({v1::AlertKind_Name(row.alert.kind())}).Increment();
  return true;
}

absl::Status UpdateAlert(storage::Transaction& tx, const AlertRow& row) {
  ASSIGN_OR_RETURN(int64_t n, tx.Exec("UPDATE alerts SET state = ?, data = ? WHERE id = ?",
                                      {static_cast<int64_t>(row.alert.state()),
                                       row.alert.SerializeAsString(), row.id}));
  if (n != 1) return absl::NotFoundError("alerts/" + row.id + " not found");
  return absl::OkStatus();
}

namespace {

absl::StatusOr<std::vector<AlertRow>> AlertsFromRows(const std::vector<storage::Row>& rows) {
  std::vector<AlertRow> out;
  out.reserve(rows.size());
  for (const storage::Row& row : rows) {
    AlertRow a;
    a.id = row.GetString(0);
    a.dedupe_key = row.GetString(1);
    ASSIGN_OR_RETURN(a.alert, storage::ParseProtoColumn<v1::Alert>(row, 2));
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace

absl::StatusOr<std::optional<AlertRow>> FindAlert(storage::Transaction& tx, const std::string& id) {
  ASSIGN_OR_RETURN(auto rows,
                   tx.Query("SELECT id, dedupe_key, data FROM alerts WHERE id = ?", {id}));
  ASSIGN_OR_RETURN(std::vector<AlertRow> alerts, AlertsFromRows(rows));
  if (alerts.empty()) return std::optional<AlertRow>();
  return std::optional<AlertRow>(std::move(alerts[0]));
}

absl::StatusOr<std::vector<AlertRow>> QueryAlerts(storage::Transaction& tx,
                                                  const std::string& committee,
                                                  const std::string& region, int state,
                                                  const std::string& before_id, int limit) {
  std::string sql = "SELECT id, dedupe_key, data FROM alerts WHERE 1 = 1 ";
  std::vector<storage::Value> params;
  params.reserve(6);
  if (!committee.empty()) {
    sql += "AND committee = ? ";
    params.emplace_back(committee);
  }
  if (!region.empty()) {
    // Every alert is about an elder feedback knows, so a street's committees are those of its
    // elders.
    sql +=
        "AND (committee = ? OR committee IN (SELECT committee FROM fb_elders WHERE street = "
        "?)) ";
    params.emplace_back(region);
    params.emplace_back(region);
  }
  if (!before_id.empty()) {
    sql += "AND id < ? ";
    params.emplace_back(before_id);
  }
  if (state != 0) {
    sql += "AND state = ? ";
    params.emplace_back(static_cast<int64_t>(state));
  }
  sql += "ORDER BY id DESC LIMIT ?";
  params.emplace_back(static_cast<int64_t>(limit));
  ASSIGN_OR_RETURN(auto rows, tx.Query(sql, params));
  return AlertsFromRows(rows);
}

absl::StatusOr<std::map<std::string, int>> AlertPolicies(storage::Transaction& tx) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT committee, no_contact_days FROM alert_policies"));
  std::map<std::string, int> out;
  for (const storage::Row& row : rows) out[row.GetString(0)] = static_cast<int>(row.GetInt(1));
  return out;
}

absl::Status SetAlertPolicy(storage::Transaction& tx, storage::Dialect dialect,
                            const std::string& committee, int days) {
  const char* sql = dialect == storage::Dialect::kMysql
                        ? "INSERT INTO alert_policies (committee, no_contact_days) VALUES (?, ?) "
                          "ON DUPLICATE KEY UPDATE no_contact_days = VALUES(no_contact_days)"
                        : "INSERT INTO alert_policies (committee, no_contact_days) VALUES (?, ?) "
                          "ON CONFLICT (committee) DO UPDATE SET no_contact_days = "
                          "excluded.no_contact_days";
  return tx.Exec(sql, {committee, static_cast<int64_t>(days)}).status();
}

absl::StatusOr<int> BackfillWorkOrderElders(storage::Database& db, const pii::FieldCipher& cipher) {
  constexpr int kBatch = 500;
  int filled = 0;
  std::string after_id;
  for (bool more = true; more;) {
    RETURN_IF_ERROR(db.RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
      ASSIGN_OR_RETURN(auto rows, tx.Query(std::string(kSelectWorkOrder) +
                                               "WHERE elder = '' AND id > ? ORDER BY id LIMIT ?",
                                           {after_id, static_cast<int64_t>(kBatch)}));
      ASSIGN_OR_RETURN(std::vector<WorkOrderRow> orders, WorkOrdersFromRows(rows, cipher));
      more = static_cast<int>(orders.size()) == kBatch;
      for (const WorkOrderRow& w : orders) {
        after_id = w.id;
        if (w.order.elder().empty()) continue;
        ASSIGN_OR_RETURN(int64_t n, tx.Exec("UPDATE work_orders SET elder = ? WHERE id = ?",
                                            {w.order.elder(), w.id}));
        filled += static_cast<int>(n);
      }
      return absl::OkStatus();
    }));
  }
  return filled;
}

}  // namespace linli::feedback

namespace linli::feedback {
namespace {

// Seals, in batches of its own transactions, the rows of `table` still stored in plain bytes:
// `seal` gets a row (id, data) and returns the extra assignments and values of its UPDATE (beyond
// data and sealed). Returns how many rows it sealed.
absl::StatusOr<int> SealPlainRows(
    storage::Database& db, const char* table,
    const std::function<absl::StatusOr<std::pair<std::string, std::vector<storage::Value>>>(
        const std::string& id, const std::string& data)>& seal) {
  constexpr int kBatch = 200;
  int sealed = 0;
  for (bool more = true; more;) {
    int batch_sealed = 0;
    RETURN_IF_ERROR(db.RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
      batch_sealed = 0;
      RETURN_IF_ERROR(storage::OverwriteFreedBytes(db, tx));
      ASSIGN_OR_RETURN(auto rows, tx.Query(absl::StrCat("SELECT id, data FROM ", table,
                                                        " WHERE sealed = 0 ORDER BY id LIMIT ?"),
                                           {static_cast<int64_t>(kBatch)}));
      more = static_cast<int>(rows.size()) == kBatch;
      for (const storage::Row& row : rows) {
        ASSIGN_OR_RETURN(auto update, seal(row.GetString(0), row.GetString(1)));
        std::vector<storage::Value> params = std::move(update.second);
        params.emplace_back(row.GetString(0));
        // Only while still plain: a replica starting at the same time may have sealed it.
        ASSIGN_OR_RETURN(int64_t n,
                         tx.Exec(absl::StrCat("UPDATE ", table, " SET sealed = 1, ", update.first,
                                              " WHERE id = ? AND sealed = 0"),
                                 params));
        batch_sealed += static_cast<int>(n);
      }
      return absl::OkStatus();
    }));
    sealed += batch_sealed;
  }
  return sealed;
}

}  // namespace

absl::StatusOr<int> SealPlainFeedbackTexts(storage::Database& db, const pii::FieldCipher& cipher) {
  using Update = std::pair<std::string, std::vector<storage::Value>>;
  ASSIGN_OR_RETURN(
      const int answers,
      SealPlainRows(db, "feedback_answers",
                    [&](const std::string& id, const std::string& data) -> absl::StatusOr<Update> {
                      v1::Feedback answer;
                      if (!answer.ParseFromString(data)) {
                        return absl::DataLossError("stored Feedback does not parse");
                      }
                      ASSIGN_OR_RETURN(std::string token, cipher.Encrypt(data, FeedbackAad(id)));
                      return Update{
                          "data = ?, has_words = ?",
                          {std::move(token), static_cast<int64_t>(answer.words().empty() ? 0 : 1)}};
                    }));
  ASSIGN_OR_RETURN(
      const int orders,
      SealPlainRows(db, "work_orders",
                    [&](const std::string& id, const std::string& data) -> absl::StatusOr<Update> {
                      ASSIGN_OR_RETURN(std::string token, cipher.Encrypt(data, WorkOrderAad(id)));
                      return Update{"data = ?", {std::move(token)}};
                    }));
  // Replies stored for request_id retries (kept 24 h) before sealing hold the words: the calls
  // put them back from their own requests.
  int redacted = 0;
  RETURN_IF_ERROR(db.RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
    RETURN_IF_ERROR(storage::OverwriteFreedBytes(db, tx));
    ASSIGN_OR_RETURN(const int feedback,
                     RewriteIdempotentResponses(
                         tx, "SubmitFeedback", v1::SubmitFeedbackResponse(),
                         [](google::protobuf::Message& message) {
                           auto& reply = static_cast<v1::SubmitFeedbackResponse&>(message);
                           if (reply.feedback().words().empty()) {
                             return false;
                           }
                           reply.mutable_feedback()->clear_words();
                           return true;
                         }));
    ASSIGN_OR_RETURN(const int complaints,
                     RewriteIdempotentResponses(
                         tx, "CreateWorkOrder", v1::CreateWorkOrderResponse(),
                         [](google::protobuf::Message& message) {
                           auto& reply = static_cast<v1::CreateWorkOrderResponse&>(message);
                           if (reply.work_order().description().empty()) return false;
                           reply.mutable_work_order()->clear_description();
                           return true;
                         }));
    redacted = feedback + complaints;
    return absl::OkStatus();
  }));
  if (answers > 0 || orders > 0 || redacted > 0) {
    // The WAL still holds the pages as they were: copy the rewritten ones home and empty it.
    RETURN_IF_ERROR(storage::TruncateWal(db));
  }
  return answers + orders;
}

}  // namespace linli::feedback
