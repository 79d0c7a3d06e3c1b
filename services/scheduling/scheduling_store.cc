#include "services/scheduling/scheduling_store.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "common/audit.h"
#include "common/errors.h"
#include "common/idempotency.h"
#include "common/status_macros.h"
#include "common/storage/proto_rows.h"
#include "common/storage/sequence_gate.h"
#include "google/protobuf/util/time_util.h"
#include "services/scheduling/scheduling_util.h"

namespace linli::scheduling {

const std::vector<storage::Migration>& SchedulingMigrations() {
  static const auto* migrations = new std::vector<storage::Migration>{
      {1, "event outbox",
       R"sql(CREATE TABLE outbox_events (
  sequence INTEGER PRIMARY KEY AUTOINCREMENT,
  type TEXT NOT NULL,
  subject TEXT NOT NULL,
  payload BLOB NOT NULL,
  create_time_us INTEGER NOT NULL
))sql",
       R"sql(CREATE TABLE outbox_events (
  sequence BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  type VARCHAR(64) NOT NULL,
  subject VARCHAR(255) NOT NULL,
  payload LONGBLOB NOT NULL,
  create_time_us BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci)sql"},
      IdempotencyMigration(2),
      {3, "commitments and visits",
       R"sql(CREATE TABLE commitments (
  id TEXT PRIMARY KEY,
  elder TEXT NOT NULL,
  state INTEGER NOT NULL,
  data BLOB NOT NULL
);
CREATE INDEX commitments_by_elder ON commitments (elder, id);
CREATE TABLE visits (
  id TEXT PRIMARY KEY,
  commitment_id TEXT NOT NULL,
  elder TEXT NOT NULL,
  occurrence TEXT NOT NULL,
  window_start_us INTEGER NOT NULL,
  state INTEGER NOT NULL,
  data BLOB NOT NULL,
  UNIQUE (commitment_id, occurrence)
);
CREATE INDEX visits_by_elder ON visits (elder, window_start_us, id);
CREATE INDEX visits_by_start ON visits (window_start_us, id))sql",
       R"sql(CREATE TABLE commitments (
  id VARCHAR(32) NOT NULL PRIMARY KEY,
  elder VARCHAR(80) NOT NULL,
  state INT NOT NULL,
  data LONGBLOB NOT NULL,
  INDEX commitments_by_elder (elder, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE visits (
  id VARCHAR(32) NOT NULL PRIMARY KEY,
  commitment_id VARCHAR(32) NOT NULL,
  elder VARCHAR(80) NOT NULL,
  occurrence CHAR(19) NOT NULL,
  window_start_us BIGINT NOT NULL,
  state INT NOT NULL,
  data LONGBLOB NOT NULL,
  UNIQUE KEY visits_occurrence (commitment_id, occurrence),
  INDEX visits_by_elder (elder, window_start_us, id),
  INDEX visits_by_start (window_start_us, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin)sql"},
      {4, "worker bookings by slot",
       R"sql(CREATE TABLE worker_slots (
  worker TEXT NOT NULL,
  slot INTEGER NOT NULL,
  visit_id TEXT NOT NULL,
  PRIMARY KEY (worker, slot)
);
CREATE INDEX worker_slots_by_visit ON worker_slots (visit_id, worker))sql",
       R"sql(CREATE TABLE worker_slots (
  worker VARCHAR(80) NOT NULL,
  slot BIGINT NOT NULL,
  visit_id VARCHAR(32) NOT NULL,
  PRIMARY KEY (worker, slot),
  INDEX worker_slots_by_visit (visit_id, worker)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin)sql"},
      {5, "visit notes",
       R"sql(CREATE TABLE visit_notes (
  id TEXT PRIMARY KEY,
  visit_id TEXT NOT NULL,
  author TEXT NOT NULL,
  create_time_us INTEGER NOT NULL,
  body TEXT NOT NULL
);
CREATE INDEX visit_notes_by_visit ON visit_notes (visit_id, create_time_us, id))sql",
       R"sql(CREATE TABLE visit_notes (
  id VARCHAR(32) NOT NULL PRIMARY KEY,
  visit_id VARCHAR(32) NOT NULL,
  author VARCHAR(80) NOT NULL,
  create_time_us BIGINT NOT NULL,
  body TEXT NOT NULL,
  INDEX visit_notes_by_visit (visit_id, create_time_us, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin)sql"},
      // Rows written before this version get their owner from BackfillCommitmentOwners.
      {6, "commitments by owner organisation",
       R"sql(ALTER TABLE commitments ADD COLUMN owner_organisation TEXT NOT NULL DEFAULT '';
CREATE INDEX commitments_by_owner ON commitments (owner_organisation, id))sql",
       R"sql(ALTER TABLE commitments ADD COLUMN owner_organisation VARCHAR(96) NOT NULL DEFAULT '';
CREATE INDEX commitments_by_owner ON commitments (owner_organisation, id))sql"},
      {7, "visit versions (optimistic concurrency)",
       "ALTER TABLE visits ADD COLUMN version INTEGER NOT NULL DEFAULT 0",
       "ALTER TABLE visits ADD COLUMN version BIGINT NOT NULL DEFAULT 0"},
      // Note text sealed with the personal-data keyring; rows written before this version (NULL
      // here, text in `body`) are sealed at start-up by SealPlainVisitNotes, which empties `body`.
      {8, "visit notes sealed", "ALTER TABLE visit_notes ADD COLUMN sealed_body TEXT NULL",
       "ALTER TABLE visit_notes ADD COLUMN sealed_body TEXT NULL"},
      AuditMigration(9),
      // Who came last time (LastCompletedVisit): a commitment's visits by state, newest first.
      {10, "visits by commitment and state",
       "CREATE INDEX visits_by_commitment ON visits (commitment_id, state, window_start_us, id)",
       "CREATE INDEX visits_by_commitment ON visits (commitment_id, state, window_start_us, id)"},
      // The outbox gate (see "The outbox" in scheduling_store.h): one row, held in share mode by
      // the transactions recording events and taken exclusively by ListEvents. Only MySQL locks
      // it; SQLite has the table so that both schemas read the same.
      {11, "outbox gate",
       "CREATE TABLE outbox_gate (id INTEGER PRIMARY KEY);\n"
       "INSERT INTO outbox_gate (id) VALUES (1)",
       "CREATE TABLE outbox_gate (id INT NOT NULL PRIMARY KEY) ENGINE=InnoDB;\n"
       "INSERT INTO outbox_gate (id) VALUES (1)"},
      // Referrals (referral.h). `open_commitment` holds the promise's id while the referral is
      // sent and NULL after: UNIQUE, so a promise has at most one open referral however many
      // staff send one at once.
      {12, "referrals",
       R"sql(CREATE TABLE referrals (
  id TEXT PRIMARY KEY,
  commitment_id TEXT NOT NULL,
  committee TEXT NOT NULL,
  street TEXT NOT NULL,
  from_organisation TEXT NOT NULL,
  to_organisation TEXT NOT NULL,
  provider_commitment_id TEXT NOT NULL,
  state INTEGER NOT NULL,
  open_commitment TEXT NULL UNIQUE,
  respond_by_us INTEGER NOT NULL,
  data BLOB NOT NULL
);
CREATE INDEX referrals_by_committee ON referrals (committee, id);
CREATE INDEX referrals_by_street ON referrals (street, id);
CREATE INDEX referrals_to ON referrals (to_organisation, id);
CREATE INDEX referrals_from ON referrals (from_organisation, id);
CREATE INDEX referrals_of_commitment ON referrals (commitment_id, id);
CREATE INDEX referrals_of_provider_commitment ON referrals (provider_commitment_id);
CREATE INDEX referrals_by_state ON referrals (state, id))sql",
       R"sql(CREATE TABLE referrals (
  id VARCHAR(32) NOT NULL PRIMARY KEY,
  commitment_id VARCHAR(32) NOT NULL,
  committee VARCHAR(80) NOT NULL,
  street VARCHAR(80) NOT NULL,
  from_organisation VARCHAR(96) NOT NULL,
  to_organisation VARCHAR(96) NOT NULL,
  provider_commitment_id VARCHAR(32) NOT NULL,
  state INT NOT NULL,
  open_commitment VARCHAR(32) NULL,
  respond_by_us BIGINT NOT NULL,
  data LONGBLOB NOT NULL,
  UNIQUE KEY referrals_open (open_commitment),
  INDEX referrals_by_committee (committee, id),
  INDEX referrals_by_street (street, id),
  INDEX referrals_to (to_organisation, id),
  INDEX referrals_from (from_organisation, id),
  INDEX referrals_of_commitment (commitment_id, id),
  INDEX referrals_of_provider_commitment (provider_commitment_id),
  INDEX referrals_by_state (state, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin)sql"},
      // A promise written by ImportCommitments holds its natural key (CommitmentKey) in
      // `import_key` while it is not cancelled, NULL after: UNIQUE, so two imports of one roster
      // at once register each promise once (the second finds the first's). NULLs do not collide.
      {13, "imported promises by natural key",
       "ALTER TABLE commitments ADD COLUMN import_key TEXT NULL;\n"
       "CREATE UNIQUE INDEX commitments_by_import_key ON commitments (import_key)",
       "ALTER TABLE commitments ADD COLUMN import_key VARCHAR(320) NULL;\n"
       "CREATE UNIQUE INDEX commitments_by_import_key ON commitments (import_key)"},
  };
  return *migrations;
}

// Why a gate, and why this one. On MySQL/MariaDB (InnoDB) an AUTO_INCREMENT value is taken at
// the INSERT and becomes visible at COMMIT, so a consumer that read sequence M while the
// transaction holding N < M was still open moved its cursor past N for good (and a rolled-back
// transaction leaves a gap that never fills). What was weighed:
//  * Skipping a gap only once it is older than a grace period: needs a bound on how long a
//    transaction stays open (a long materialisation or cancellation would lose events) and holds
//    every consumer back by the grace period after each rollback (deadlock retries roll back).
//  * One exclusive row lock before inserting events: sequences then become visible in order,
//    but every event-writing transaction waits for the previous one from its first event to its
//    commit (check-ins would queue behind a long materialisation), and a transaction that
//    changes more rows after its first event deadlocks with one that changed them first.
//  * A share lock for writers and an exclusive one for the reader (this): writers are not
//    ordered among themselves; only a ListEvents call waits for the transactions recording
//    events at that moment, and new ones wait for it for the few statements it holds the gate.
//    In a lock cycle (a writer holding the gate waits for a row whose holder waits behind the
//    reader) InnoDB rolls back the reader, which changed nothing (seen on MariaDB 10.11), and
//    RunInTransaction runs it again. Nothing depends on a clock, and a rollback delays nothing.
//    The price: a transaction holds the gate from its first event to its end, so a ListEvents
//    call waits for the longest one open, and check-ins arriving meanwhile wait behind it.
//    Record events late in long transactions (ideally one AppendEvents before committing).
//
// The writers' share lock costs no statement of its own (as a separate SELECT it made the
// check-in/out transaction one round trip longer: 3.15 statements per check-in or check-out
// instead of 2.6 in scheduling_bench): see common/storage/sequence_gate.h.
namespace {

std::string InsertEventsSql(size_t rows) {
  std::string sql = absl::StrCat(
      "INSERT INTO outbox_events (type, subject, payload, create_time_us) VALUES (?, ?, ?, ",
      storage::GatedValueSql("outbox_gate"), ")");
  for (size_t i = 1; i < rows; ++i) sql += ", (?, ?, ?, ?)";
  return sql;
}

}  // namespace

absl::Status AppendEvent(storage::Transaction& tx, const OutboxEvent& event) {
  static const std::string* const sql = new std::string(InsertEventsSql(1));
  return tx
      .Exec(*sql, {event.type, event.subject, event.payload, absl::ToUnixMicros(event.create_time)})
      .status();
}

absl::Status AppendEvents(storage::Transaction& tx, const std::vector<OutboxEvent>& events) {
  if (events.empty()) return absl::OkStatus();
  std::vector<storage::Value> params;
  params.reserve(4 * events.size());
  for (const OutboxEvent& event : events) {
    params.emplace_back(event.type);
    params.emplace_back(event.subject);
    params.emplace_back(event.payload);
    params.emplace_back(absl::ToUnixMicros(event.create_time));
  }
  return tx.Exec(InsertEventsSql(events.size()), params).status();
}

absl::Status AppendVisitEvent(storage::Transaction& tx, const std::string& type,
                              const v1::Visit& visit, absl::Time now) {
  return AppendEvent(tx, OutboxEvent{0, type, visit.name(), visit.SerializeAsString(), now});
}

absl::StatusOr<EventPage> ListEvents(storage::Database& db, int64_t after, int limit) {
  // A cursor must not pass a sequence still being written (common/storage/sequence_gate.h).
  // Measured with 4 writers on MariaDB: a poll every 10 ms (a consumer catching up) costs them
  // 2 % of their rate more than a poll without the gate did.
  ASSIGN_OR_RETURN(const int64_t settled,
                   storage::SettledSequence(
                       db, "outbox_gate", "SELECT COALESCE(MAX(sequence), 0) FROM outbox_events"));
  EventPage page;
  RETURN_IF_ERROR(db.RunInTransaction(
      [&](storage::Transaction& tx) -> absl::Status {
        page.events.clear();
        ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT sequence, type, subject, payload, "
                                             "create_time_us FROM outbox_events WHERE sequence > ? "
                                             "AND sequence <= ? ORDER BY sequence LIMIT ?",
                                             {after, settled, static_cast<int64_t>(limit)}));
        page.events.reserve(rows.size());
        for (const storage::Row& row : rows) {
          page.events.push_back(OutboxEvent{row.GetInt(0), row.GetString(1), row.GetString(2),
                                            row.GetString(3), absl::FromUnixMicros(row.GetInt(4))});
        }
        ASSIGN_OR_RETURN(page.last_sequence, LastSequence(tx));
        return absl::OkStatus();
      },
      {.read_only = true}));
  return page;
}

absl::StatusOr<int64_t> LastSequence(storage::Transaction& tx) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT COALESCE(MAX(sequence), 0) FROM outbox_events"));
  return rows.empty() ? 0 : rows[0].GetInt(0);
}

absl::Status InsertCommitment(storage::Transaction& tx, const std::string& id,
                              const v1::Commitment& commitment, const std::string& import_key) {
  return tx
      .Exec(
          "INSERT INTO commitments (id, elder, state, data, owner_organisation, import_key) "
          "VALUES (?, ?, ?, ?, ?, ?)",
          {id, commitment.elder(), static_cast<int64_t>(commitment.state()),
           commitment.SerializeAsString(), commitment.owner_organisation(),
           import_key.empty() ? storage::Value(storage::kNull) : storage::Value(import_key)})
      .status();
}

absl::Status UpdateCommitment(storage::Transaction& tx, const std::string& id,
                              const v1::Commitment& commitment) {
  // A cancelled promise gives its import key up: the same promise may be imported again.
  const char* sql =
      commitment.state() == v1::COMMITMENT_STATE_CANCELLED
          ? "UPDATE commitments SET state = ?, data = ?, import_key = NULL WHERE id = ?"
          : "UPDATE commitments SET state = ?, data = ? WHERE id = ?";
  ASSIGN_OR_RETURN(int64_t n, tx.Exec(sql, {static_cast<int64_t>(commitment.state()),
                                            commitment.SerializeAsString(), id}));
  if (n != 1) return absl::NotFoundError("commitments/" + id + " not found");
  return absl::OkStatus();
}

absl::StatusOr<std::optional<v1::Commitment>> FindCommitment(storage::Transaction& tx,
                                                             const std::string& id) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT data FROM commitments WHERE id = ?", {id}));
  if (rows.empty()) return std::optional<v1::Commitment>();
  ASSIGN_OR_RETURN(v1::Commitment c, storage::ParseProtoColumn<v1::Commitment>(rows[0], 0));
  return std::optional<v1::Commitment>(std::move(c));
}

absl::StatusOr<std::vector<v1::Commitment>> QueryCommitments(storage::Transaction& tx,
                                                             const std::string& elder,
                                                             bool only_active,
                                                             const std::string& after_id,
                                                             int limit) {
  std::string sql = "SELECT data FROM commitments WHERE id > ? ";
  std::vector<storage::Value> params;
  params.reserve(4);
  params.emplace_back(after_id);
  if (!elder.empty()) {
    sql += "AND elder = ? ";
    params.push_back(elder);
  }
  if (only_active) {
    sql += "AND state = ? ";
    params.push_back(static_cast<int64_t>(v1::COMMITMENT_STATE_ACTIVE));
  }
  sql += "ORDER BY id LIMIT ?";
  params.push_back(static_cast<int64_t>(limit));
  ASSIGN_OR_RETURN(auto rows, tx.Query(sql, params));
  std::vector<v1::Commitment> out;
  for (const storage::Row& row : rows) {
    ASSIGN_OR_RETURN(v1::Commitment c, storage::ParseProtoColumn<v1::Commitment>(row, 0));
    out.push_back(std::move(c));
  }
  return out;
}

absl::StatusOr<std::optional<v1::Commitment>> FindLiveCommitment(
    storage::Transaction& tx, const std::string& elder, const std::string& service_type,
    const std::string& owner_organisation, const std::string& valid_from) {
  // Service type and valid_from are inside `data`: the elder's promises (indexed) are read and
  // compared here. An elder has a handful.
  ASSIGN_OR_RETURN(auto rows,
                   tx.Query("SELECT data FROM commitments WHERE elder = ? AND state <> ? "
                            "ORDER BY id",
                            {elder, static_cast<int64_t>(v1::COMMITMENT_STATE_CANCELLED)}));
  absl::CivilDay day;
  const bool dated = absl::ParseCivilTime(valid_from, &day);
  for (const storage::Row& row : rows) {
    ASSIGN_OR_RETURN(v1::Commitment c, storage::ParseProtoColumn<v1::Commitment>(row, 0));
    if (c.service_type() != service_type || c.owner_organisation() != owner_organisation) continue;
    absl::CivilDay from;
    const bool same_day = c.valid_from() == valid_from ||
                          (dated && absl::ParseCivilTime(c.valid_from(), &from) && from == day);
    if (same_day) return std::optional<v1::Commitment>(std::move(c));
  }
  return std::optional<v1::Commitment>();
}

absl::Status InsertVisit(storage::Transaction& tx, const VisitRow& row) {
  return tx
      .Exec(
          "INSERT INTO visits (id, commitment_id, elder, occurrence, window_start_us, state, "
          "data) VALUES (?, ?, ?, ?, ?, ?, ?)",
          {row.id, row.commitment_id, row.visit.elder(), row.visit.occurrence(),
           row.window_start_us, static_cast<int64_t>(row.visit.state()),
           row.visit.SerializeAsString()})
      .status();
}

absl::StatusOr<bool> UpdateVisitIf(storage::Transaction& tx, const VisitRow& row,
                                   v1::VisitState expected) {
  ASSIGN_OR_RETURN(int64_t n,
                   tx.Exec("UPDATE visits SET window_start_us = ?, state = ?, data = ?, "
                           "version = version + 1 WHERE id = ? AND state = ? AND version = ?",
                           {row.window_start_us, static_cast<int64_t>(row.visit.state()),
                            row.visit.SerializeAsString(), row.id, static_cast<int64_t>(expected),
                            row.version}));
  return n == 1;
}

namespace {

constexpr char kSelectVisit[] =
    "SELECT id, commitment_id, window_start_us, data, version FROM visits ";

absl::Status WrongState(const std::string& name, v1::VisitState actual, v1::VisitState expected) {
  return absl::FailedPreconditionError(absl::StrCat(
      name, " is ", v1::VisitState_Name(actual), "; this needs ", v1::VisitState_Name(expected)));
}

absl::StatusOr<VisitRow> VisitFromRow(const storage::Row& row) {
  VisitRow v;
  v.id = row.GetString(0);
  v.commitment_id = row.GetString(1);
  v.window_start_us = row.GetInt(2);
  ASSIGN_OR_RETURN(v.visit, storage::ParseProtoColumn<v1::Visit>(row, 3));
  v.version = row.GetInt(4);
  return v;
}

}  // namespace

absl::StatusOr<std::optional<VisitRow>> FindVisit(storage::Transaction& tx, const std::string& id) {
  ASSIGN_OR_RETURN(auto rows, tx.Query(std::string(kSelectVisit) + "WHERE id = ?", {id}));
  if (rows.empty()) return std::optional<VisitRow>();
  ASSIGN_OR_RETURN(VisitRow v, VisitFromRow(rows[0]));
  return std::optional<VisitRow>(std::move(v));
}

absl::StatusOr<std::optional<VisitRow>> FindVisitOfOccurrence(storage::Transaction& tx,
                                                              const std::string& commitment_id,
                                                              const std::string& occurrence) {
  ASSIGN_OR_RETURN(
      auto rows, tx.Query(std::string(kSelectVisit) + "WHERE commitment_id = ? AND occurrence = ?",
                          {commitment_id, occurrence}));
  if (rows.empty()) return std::optional<VisitRow>();
  ASSIGN_OR_RETURN(VisitRow v, VisitFromRow(rows[0]));
  return std::optional<VisitRow>(std::move(v));
}

absl::Status ChangeVisitIn(storage::Transaction& tx, absl::Time now, const std::string& id,
                           const std::string& name, v1::VisitState expected,
                           const std::string& event, const VisitChange& change, v1::Visit* result) {
  ASSIGN_OR_RETURN(std::optional<VisitRow> row, FindVisit(tx, id));
  if (!row.has_value()) return NotFound(name);
  const v1::VisitState read_state = row->visit.state();
  if (expected != v1::VISIT_STATE_UNSPECIFIED && read_state != expected) {
    return WrongState(name, read_state, expected);
  }
  RETURN_IF_ERROR(change(tx, row->visit));
  row->window_start_us =
      google::protobuf::util::TimeUtil::TimestampToMicroseconds(row->visit.window_start());
  ASSIGN_OR_RETURN(bool stored, UpdateVisitIf(tx, *row, read_state));
  if (!stored) {  // changed by a concurrent transaction: retried, then judged on the new state
    return absl::AbortedError(absl::StrCat(name, " changed concurrently"));
  }
  RETURN_IF_ERROR(AppendVisitEvent(tx, event, row->visit, now));
  *result = row->visit;
  return absl::OkStatus();
}

absl::Status ChangeVisit(storage::Database& db, absl::Time now, const std::string& id,
                         const std::string& name, v1::VisitState expected, const std::string& event,
                         const VisitChange& change, v1::Visit* result) {
  return db.RunInTransaction([&](storage::Transaction& tx) {
    return ChangeVisitIn(tx, now, id, name, expected, event, change, result);
  });
}

namespace {

// The smallest power of two >= n. IN lists are padded to it (repeating their last value, which
// changes nothing), so that a handful of statement texts serve every batch size: prepared
// statements are cached by their text.
size_t PaddedSize(size_t n) {
  size_t padded = 1;
  while (padded < n) padded *= 2;
  return padded;
}

// `values` padded to PaddedSize by repeating the last one.
std::vector<storage::Value> Padded(std::vector<storage::Value> values) {
  const size_t padded = PaddedSize(values.size());
  if (values.empty()) return values;
  values.reserve(padded);
  while (values.size() < padded) values.push_back(values.back());
  return values;
}

// A visit of a batch as changed in memory, to be stored if its row is still `read_state` at
// `row.version`.
struct StagedVisit {
  const VisitRow* row;
  v1::VisitState read_state;
};

// UpdateVisitIf for several visits in one statement: each row is set to its own values (CASE on
// the id) only where it still has the state and version it was read with. Returns the number of
// rows stored; fewer than staged.size() means some changed concurrently (which ones is not
// known, so the caller rolls back and stores them one by one).
absl::StatusOr<int64_t> UpdateVisitsIf(storage::Transaction& tx,
                                       const std::vector<StagedVisit>& staged) {
  std::string window = "window_start_us = CASE id";
  std::string state = "state = CASE id";
  std::string data = "data = CASE id";
  std::string where;
  std::vector<storage::Value> window_params, state_params, data_params, where_params;
  window_params.reserve(2 * staged.size());
  state_params.reserve(2 * staged.size());
  data_params.reserve(2 * staged.size());
  where_params.reserve(3 * staged.size());
  for (size_t i = 0; i < staged.size(); ++i) {
    const VisitRow& row = *staged[i].row;
    absl::StrAppend(&window, " WHEN ? THEN ?");
    absl::StrAppend(&state, " WHEN ? THEN ?");
    absl::StrAppend(&data, " WHEN ? THEN ?");
    absl::StrAppend(&where, i == 0 ? "" : " OR ", "(id = ? AND state = ? AND version = ?)");
    window_params.emplace_back(row.id);
    window_params.emplace_back(row.window_start_us);
    state_params.emplace_back(row.id);
    state_params.emplace_back(static_cast<int64_t>(row.visit.state()));
    data_params.emplace_back(row.id);
    data_params.emplace_back(row.visit.SerializeAsString());
    where_params.emplace_back(row.id);
    where_params.emplace_back(static_cast<int64_t>(staged[i].read_state));
    where_params.emplace_back(row.version);
  }
  const std::string sql = absl::StrCat("UPDATE visits SET ", window, " END, ", state, " END, ",
                                       data, " END, version = version + 1 WHERE ", where);
  std::vector<storage::Value> params;
  params.reserve(9 * staged.size());
  for (auto* part : {&window_params, &state_params, &data_params, &where_params}) {
    for (storage::Value& v : *part) params.push_back(std::move(v));
  }
  return tx.Exec(sql, params);
}

// One attempt at a batch (see ChangeVisitsTogether). With `together`, two or more visits are
// stored by one UPDATE (a single one by the plain guarded UPDATE, which is cheaper to plan);
// when that finds fewer rows than it should, it returns `kSomeChanged` (the caller
// rolls back and tries again with `together` false: a guarded update each, which tells which
// visits changed).
constexpr absl::string_view kSomeChanged = "a visit of the batch changed concurrently";

absl::Status ApplyVisitChanges(storage::Transaction& tx,
                               const std::vector<PendingVisitChange*>& sorted, bool together,
                               const VisitCache* cache, std::vector<VisitRow>* stored_rows) {
  stored_rows->clear();
  // Visits this process stored last are taken from the cache (only in the first, together,
  // attempt); the others are read.
  std::vector<VisitRow> visits;
  std::vector<bool> from_cache;
  std::vector<storage::Value> ids;
  visits.reserve(sorted.size());
  ids.reserve(PaddedSize(sorted.size()));
  for (const PendingVisitChange* item : sorted) {
    std::optional<VisitRow> hit;
    if (together && cache != nullptr) hit = cache->Find(item->id);
    if (hit.has_value()) {
      visits.push_back(std::move(*hit));
      from_cache.push_back(true);
    } else {
      ids.emplace_back(item->id);
    }
  }
  if (!ids.empty()) {
    ids = Padded(std::move(ids));
    ASSIGN_OR_RETURN(
        auto rows,
        tx.Query(absl::StrCat(kSelectVisit, "WHERE id IN ", storage::InList(ids.size())), ids));
    for (const storage::Row& row : rows) {
      ASSIGN_OR_RETURN(VisitRow v, VisitFromRow(row));
      visits.push_back(std::move(v));
      from_cache.push_back(false);
    }
  }
  // The changed visits, in the order of `sorted`, with their items.
  std::vector<VisitRow> changed;
  std::vector<StagedVisit> staged;
  std::vector<PendingVisitChange*> staged_items;
  changed.reserve(sorted.size());
  for (PendingVisitChange* item : sorted) {  // outcomes of an earlier attempt do not count
    item->status = absl::OkStatus();
    item->conflicted = false;
    auto found = std::find_if(visits.begin(), visits.end(),
                              [&](const VisitRow& v) { return v.id == item->id; });
    if (found == visits.end()) {
      item->status = NotFound(item->name);
      continue;
    }
    const bool cached = from_cache[found - visits.begin()];
    VisitRow& row = changed.emplace_back(*found);
    const v1::VisitState read_state = row.visit.state();
    if (item->expected != v1::VISIT_STATE_UNSPECIFIED && read_state != item->expected) {
      item->status = WrongState(item->name, read_state, item->expected);
    } else {
      item->status = item->change(row.visit);
    }
    if (!item->status.ok()) {
      // A refusal is only final on the stored visit: a cached one may be out of date (another
      // replica may have changed it), so the batch is run again on what the database holds.
      if (cached) return absl::AbortedError(kSomeChanged);
      changed.pop_back();
      continue;
    }
    row.window_start_us =
        google::protobuf::util::TimeUtil::TimestampToMicroseconds(row.visit.window_start());
    staged.push_back(StagedVisit{nullptr, read_state});
    staged_items.push_back(item);
  }
  for (size_t i = 0; i < staged.size(); ++i) staged[i].row = &changed[i];  // no more reallocation
  if (staged.empty()) return absl::OkStatus();

  std::vector<bool> stored(staged.size(), true);
  if (together) {
    // Every visit must still be as read (or as cached): else the batch is rolled back and run
    // again, visit by visit, on what the database holds.
    int64_t n = 0;
    if (staged.size() == 1) {
      ASSIGN_OR_RETURN(bool one, UpdateVisitIf(tx, *staged[0].row, staged[0].read_state));
      n = one ? 1 : 0;
    } else {
      ASSIGN_OR_RETURN(n, UpdateVisitsIf(tx, staged));
    }
    if (n != static_cast<int64_t>(staged.size())) return absl::AbortedError(kSomeChanged);
  } else {
    for (size_t i = 0; i < staged.size(); ++i) {
      ASSIGN_OR_RETURN(stored[i], UpdateVisitIf(tx, *staged[i].row, staged[i].read_state));
    }
  }
  std::vector<OutboxEvent> events;
  std::vector<storage::Value> over;
  events.reserve(staged.size());
  for (size_t i = 0; i < staged.size(); ++i) {
    PendingVisitChange* item = staged_items[i];
    if (!stored[i]) {
      item->conflicted = true;
      continue;
    }
    VisitRow& row = changed[i];
    // Slots exist only for booked workers: a booking adds the assignment to the visit in the
    // transaction that inserts its slots, through the same version guard, so a visit stored at
    // the version read without assignments has none to release.
    if (row.visit.state() == v1::VISIT_STATE_COMPLETED && row.visit.assignments_size() > 0) {
      over.emplace_back(item->id);
    }
    events.push_back(
        OutboxEvent{0, item->event, row.visit.name(), row.visit.SerializeAsString(), item->now});
    item->result = row.visit;
    ++row.version;  // as stored
    stored_rows->push_back(std::move(row));
  }
  if (!over.empty()) {
    over = Padded(std::move(over));
    RETURN_IF_ERROR(tx.Exec(absl::StrCat("DELETE FROM worker_slots WHERE visit_id IN ",
                                         storage::InList(over.size())),
                            over)
                        .status());
  }
  return AppendEvents(tx, events);
}

}  // namespace

std::optional<VisitRow> VisitCache::Find(const std::string& id) const {
  absl::MutexLock lock(&mu_);
  auto it = rows_.find(id);
  if (it == rows_.end()) return std::nullopt;
  return it->second;
}

void VisitCache::Put(VisitRow row) {
  absl::MutexLock lock(&mu_);
  if (rows_.size() >= capacity_ && rows_.count(row.id) == 0) rows_.clear();  // rarely: start over
  std::string id = row.id;
  rows_.insert_or_assign(std::move(id), std::move(row));
}

void VisitCache::Erase(const std::string& id) {
  absl::MutexLock lock(&mu_);
  rows_.erase(id);
}

void ChangeVisitsTogether(storage::Database& db, const std::vector<PendingVisitChange*>& batch,
                          VisitCache* cache) {
  if (batch.empty()) return;
  // Rows are updated in id order, so that two batches (of two replicas) never wait on each other
  // in a cycle.
  std::vector<PendingVisitChange*> sorted = batch;
  std::sort(sorted.begin(), sorted.end(),
            [](const PendingVisitChange* a, const PendingVisitChange* b) { return a->id < b->id; });
  // One UPDATE stores the whole batch; only when another transaction changed one of its visits
  // since the read (or since it was cached) is the batch rolled back and run again (by
  // RunInTransaction's retry) on freshly read rows with an UPDATE per visit, which tells the
  // changed ones apart.
  bool together = true;
  std::vector<VisitRow> stored_rows;
  const absl::Status status = db.RunInTransaction([&](storage::Transaction& tx) {
    absl::Status applied = ApplyVisitChanges(tx, sorted, together, cache, &stored_rows);
    if (together && absl::IsAborted(applied) && applied.message() == kSomeChanged) together = false;
    return applied;
  });
  if (cache != nullptr) {
    // Only committed rows are cached, and only visits a check may still change (in progress).
    for (PendingVisitChange* item : batch) cache->Erase(item->id);
    if (status.ok()) {
      for (VisitRow& row : stored_rows) {
        if (row.visit.state() == v1::VISIT_STATE_IN_PROGRESS) cache->Put(std::move(row));
      }
    }
  }
  if (status.ok()) return;
  for (PendingVisitChange* item : batch) {  // rolled back: nothing of the batch was stored
    item->status = status;
    item->conflicted = false;
  }
}

namespace {

// [first, last) slot numbers covering [start, end), rounded outwards.
std::pair<int64_t, int64_t> SlotRange(absl::Time start, absl::Time end) {
  const int64_t slot_us = int64_t{kBookingSlotMinutes} * 60 * 1000000;
  auto floor_div = [](int64_t a, int64_t b) {
    return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
  };
  const int64_t first = floor_div(absl::ToUnixMicros(start), slot_us);
  const int64_t last = -floor_div(-absl::ToUnixMicros(end), slot_us);
  return {first, std::max(last, first + 1)};
}

absl::Status DoubleBooked(const std::string& worker, const std::string& other_visit) {
  return WithReason(absl::FailedPreconditionError(absl::StrCat(
                        "worker: ", worker, " is already booked at that time",
                        other_visit.empty() ? "" : absl::StrCat(" (visits/", other_visit, ")"))),
                    common::v1::ERROR_REASON_WORKER_DOUBLE_BOOKED);
}

}  // namespace

absl::Status BookWorker(storage::Transaction& tx, const std::string& worker,
                        const std::string& visit_id, absl::Time start, absl::Time end) {
  const auto [first, last] = SlotRange(start, end);
  // The read names the other visit in the error; the primary key is what guarantees it.
  ASSIGN_OR_RETURN(auto taken, tx.Query("SELECT visit_id FROM worker_slots WHERE worker = ? AND "
                                        "slot >= ? AND slot < ? LIMIT 1",
                                        {worker, first, last}));
  if (!taken.empty()) return DoubleBooked(worker, taken[0].GetString(0));
  // At most kRowsPerInsert rows per statement, so a handful of statement texts cover every
  // duration (prepared statements are cached by text).
  constexpr int64_t kRowsPerInsert = 60;
  for (int64_t chunk = first; chunk < last; chunk += kRowsPerInsert) {
    const int64_t chunk_end = std::min(last, chunk + kRowsPerInsert);
    std::string sql = "INSERT INTO worker_slots (worker, slot, visit_id) VALUES ";
    std::vector<storage::Value> params;
    params.reserve(static_cast<size_t>(chunk_end - chunk) * 3);
    for (int64_t slot = chunk; slot < chunk_end; ++slot) {
      absl::StrAppend(&sql, slot == chunk ? "" : ", ", "(?, ?, ?)");
      params.emplace_back(worker);
      params.emplace_back(slot);
      params.emplace_back(visit_id);
    }
    absl::Status inserted = tx.Exec(sql, params).status();
    if (absl::IsAlreadyExists(inserted)) return DoubleBooked(worker, "");
    RETURN_IF_ERROR(inserted);
  }
  return absl::OkStatus();
}

absl::Status ReleaseBookings(storage::Transaction& tx, const std::string& visit_id,
                             const std::string& worker) {
  if (worker.empty()) {
    return tx.Exec("DELETE FROM worker_slots WHERE visit_id = ?", {visit_id}).status();
  }
  return tx.Exec("DELETE FROM worker_slots WHERE visit_id = ? AND worker = ?", {visit_id, worker})
      .status();
}

absl::StatusOr<std::vector<std::string>> BookedVisitIds(storage::Transaction& tx,
                                                        const std::string& worker, absl::Time from,
                                                        absl::Time to) {
  const auto [first, last] = SlotRange(from, to);
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT DISTINCT visit_id FROM worker_slots WHERE worker = "
                                       "? AND slot >= ? AND slot < ? ORDER BY visit_id",
                                       {worker, first, last}));
  std::vector<std::string> ids;
  ids.reserve(rows.size());
  for (const storage::Row& row : rows) ids.push_back(row.GetString(0));
  return ids;
}

absl::StatusOr<std::vector<std::string>> OccurrenceKeys(storage::Transaction& tx,
                                                        const std::string& commitment_id,
                                                        const std::string& from_key,
                                                        const std::string& to_key) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT occurrence FROM visits WHERE commitment_id = ? AND "
                                       "occurrence >= ? AND occurrence < ?",
                                       {commitment_id, from_key, to_key}));
  std::vector<std::string> keys;
  for (const storage::Row& row : rows) keys.push_back(row.GetString(0));
  return keys;
}

absl::StatusOr<std::vector<VisitRow>> QueryVisits(storage::Transaction& tx,
                                                  const VisitFilter& filter, int64_t after_start_us,
                                                  const std::string& after_id, int limit) {
  std::string sql = std::string(kSelectVisit) +
                    "WHERE (window_start_us > ? OR (window_start_us = ? AND id > ?)) "
                    "AND window_start_us >= ? AND window_start_us < ? ";
  std::vector<storage::Value> params = {after_start_us, after_start_us, after_id, filter.from_us,
                                        filter.to_us};
  if (!filter.commitment_id.empty()) {
    sql += "AND commitment_id = ? ";
    params.push_back(filter.commitment_id);
  }
  if (!filter.elder.empty()) {
    sql += "AND elder = ? ";
    params.push_back(filter.elder);
  }
  if (!filter.owner_organisation.empty()) {
    sql += "AND commitment_id IN (SELECT id FROM commitments WHERE owner_organisation = ?) ";
    params.push_back(filter.owner_organisation);
  }
  if (filter.state != 0) {
    sql += "AND state = ? ";
    params.push_back(static_cast<int64_t>(filter.state));
  }
  sql += "ORDER BY window_start_us, id LIMIT ?";
  params.push_back(static_cast<int64_t>(limit));
  ASSIGN_OR_RETURN(auto rows, tx.Query(sql, params));
  std::vector<VisitRow> out;
  for (const storage::Row& row : rows) {
    ASSIGN_OR_RETURN(VisitRow v, VisitFromRow(row));
    out.push_back(std::move(v));
  }
  return out;
}

absl::StatusOr<std::optional<VisitRow>> LastCompletedVisit(storage::Transaction& tx,
                                                           const std::string& elder,
                                                           const std::string& commitment_id,
                                                           int64_t before_us) {
  // visits_by_commitment (commitment_id, state, window_start_us, id), read backwards from
  // `before_us`: one index step however long the history. `elder` is a check on the row.
  ASSIGN_OR_RETURN(
      auto rows,
      tx.Query(std::string(kSelectVisit) +
                   "WHERE commitment_id = ? AND state = ? AND window_start_us < ? "
                   "AND elder = ? ORDER BY window_start_us DESC, id DESC LIMIT 1",
               {commitment_id, static_cast<int64_t>(v1::VISIT_STATE_COMPLETED), before_us, elder}));
  if (rows.empty()) return std::optional<VisitRow>();
  ASSIGN_OR_RETURN(VisitRow row, VisitFromRow(rows[0]));
  return std::optional<VisitRow>(std::move(row));
}

absl::Status InsertVisitNote(storage::Transaction& tx, const std::string& id,
                             const std::string& visit_id, const v1::VisitNote& note,
                             const std::string& sealed_text) {
  return tx
      .Exec(
          "INSERT INTO visit_notes (id, visit_id, author, create_time_us, body, sealed_body) "
          "VALUES (?, ?, ?, ?, '', ?)",
          {id, visit_id, note.author(), absl::ToUnixMicros(FromTimestamp(note.create_time())),
           sealed_text})
      .status();
}

absl::StatusOr<std::vector<StoredVisitNote>> QueryVisitNotes(storage::Transaction& tx,
                                                             const std::string& visit_id,
                                                             int limit) {
  ASSIGN_OR_RETURN(auto rows,
                   tx.Query("SELECT id, author, create_time_us, body, sealed_body FROM visit_notes "
                            "WHERE visit_id = ? ORDER BY create_time_us, id LIMIT ?",
                            {visit_id, static_cast<int64_t>(limit)}));
  std::vector<StoredVisitNote> notes;
  notes.reserve(rows.size());
  for (const storage::Row& row : rows) {
    StoredVisitNote& stored = notes.emplace_back();
    stored.id = row.GetString(0);
    stored.visit_id = visit_id;
    stored.note.set_name(absl::StrCat("visits/", visit_id, "/notes/", stored.id));
    stored.note.set_author(row.GetString(1));
    *stored.note.mutable_create_time() = ToTimestamp(absl::FromUnixMicros(row.GetInt(2)));
    stored.sealed = !row.IsNull(4);
    stored.text = stored.sealed ? row.GetString(4) : row.GetString(3);
  }
  return notes;
}

absl::StatusOr<std::vector<StoredVisitNote>> QueryPlainVisitNotes(storage::Transaction& tx,
                                                                  const std::string& after_id,
                                                                  int limit) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT id, visit_id, body FROM visit_notes WHERE "
                                       "sealed_body IS NULL AND id > ? ORDER BY id LIMIT ?",
                                       {after_id, static_cast<int64_t>(limit)}));
  std::vector<StoredVisitNote> notes;
  notes.reserve(rows.size());
  for (const storage::Row& row : rows) {
    StoredVisitNote& stored = notes.emplace_back();
    stored.id = row.GetString(0);
    stored.visit_id = row.GetString(1);
    stored.note.set_name(absl::StrCat("visits/", stored.visit_id, "/notes/", stored.id));
    stored.sealed = false;
    stored.text = row.GetString(2);
  }
  return notes;
}

absl::StatusOr<bool> SealVisitNote(storage::Transaction& tx, const std::string& id,
                                   const std::string& sealed_text) {
  ASSIGN_OR_RETURN(int64_t n, tx.Exec("UPDATE visit_notes SET sealed_body = ?, body = '' "
                                      "WHERE id = ? AND sealed_body IS NULL",
                                      {sealed_text, id}));
  return n > 0;
}

absl::StatusOr<int> BackfillCommitmentOwners(storage::Database& db) {
  constexpr int kBatch = 500;
  int filled = 0;
  std::string after_id;
  for (bool more = true; more;) {
    RETURN_IF_ERROR(db.RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
      ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT id, data FROM commitments WHERE "
                                           "owner_organisation = '' AND id > ? ORDER BY id LIMIT ?",
                                           {after_id, static_cast<int64_t>(kBatch)}));
      more = static_cast<int>(rows.size()) == kBatch;
      for (const storage::Row& row : rows) {
        after_id = row.GetString(0);
        ASSIGN_OR_RETURN(v1::Commitment commitment,
                         storage::ParseProtoColumn<v1::Commitment>(row, 1));
        if (commitment.owner_organisation().empty()) continue;
        ASSIGN_OR_RETURN(int64_t n,
                         tx.Exec("UPDATE commitments SET owner_organisation = ? WHERE id = ?",
                                 {commitment.owner_organisation(), after_id}));
        filled += static_cast<int>(n);
      }
      return absl::OkStatus();
    }));
  }
  return filled;
}

namespace {

std::string CommitmentId(const std::string& name) {
  return name.size() > 12 ? name.substr(12) : std::string();
}
storage::Value OpenCommitment(const v1::Referral& referral) {
  if (referral.state() != v1::REFERRAL_STATE_SENT) return storage::kNull;
  return CommitmentId(referral.commitment());
}

absl::StatusOr<std::vector<v1::Referral>> ParseReferrals(const std::vector<storage::Row>& rows) {
  return storage::ParseProtoColumns<v1::Referral>(rows, 0);
}

absl::StatusOr<std::optional<v1::Referral>> FirstReferral(const std::vector<storage::Row>& rows) {
  if (rows.empty()) return std::optional<v1::Referral>();
  ASSIGN_OR_RETURN(v1::Referral r, storage::ParseProtoColumn<v1::Referral>(rows[0], 0));
  return std::optional<v1::Referral>(std::move(r));
}

}  // namespace

absl::Status InsertReferral(storage::Transaction& tx, const std::string& id,
                            const v1::Referral& referral) {
  return tx
      .Exec(
          "INSERT INTO referrals (id, commitment_id, committee, street, from_organisation, "
          "to_organisation, provider_commitment_id, state, open_commitment, respond_by_us, data) "
          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
          {id, CommitmentId(referral.commitment()), referral.committee(), referral.street(),
           referral.from_organisation(), referral.to_organisation(),
           CommitmentId(referral.provider_commitment()), static_cast<int64_t>(referral.state()),
           OpenCommitment(referral),
           google::protobuf::util::TimeUtil::TimestampToMicroseconds(referral.respond_by()),
           referral.SerializeAsString()})
      .status();
}

absl::StatusOr<bool> UpdateReferralIf(storage::Transaction& tx, const std::string& id,
                                      const v1::Referral& referral, v1::ReferralState expected) {
  ASSIGN_OR_RETURN(int64_t n,
                   tx.Exec("UPDATE referrals SET state = ?, open_commitment = ?, "
                           "provider_commitment_id = ?, data = ? WHERE id = ? AND state = ?",
                           {static_cast<int64_t>(referral.state()), OpenCommitment(referral),
                            CommitmentId(referral.provider_commitment()),
                            referral.SerializeAsString(), id, static_cast<int64_t>(expected)}));
  return n == 1;
}

absl::StatusOr<std::optional<v1::Referral>> FindReferral(storage::Transaction& tx,
                                                         const std::string& id) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT data FROM referrals WHERE id = ?", {id}));
  return FirstReferral(rows);
}

absl::StatusOr<std::optional<v1::Referral>> FindOpenReferral(storage::Transaction& tx,
                                                             const std::string& commitment_id) {
  ASSIGN_OR_RETURN(
      auto rows, tx.Query("SELECT data FROM referrals WHERE open_commitment = ?", {commitment_id}));
  return FirstReferral(rows);
}

absl::StatusOr<std::optional<v1::Referral>> FindReferralOfProviderCommitment(
    storage::Transaction& tx, const std::string& provider_commitment_id) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT data FROM referrals WHERE provider_commitment_id "
                                       "= ? LIMIT 1",
                                       {provider_commitment_id}));
  return FirstReferral(rows);
}

absl::StatusOr<std::vector<v1::Referral>> QueryReferrals(storage::Transaction& tx,
                                                         const ReferralFilter& filter,
                                                         const std::string& before_id, int limit) {
  std::string sql = "SELECT data FROM referrals WHERE 1 = 1";
  std::vector<storage::Value> params;
  if (!before_id.empty()) {
    sql += " AND id < ?";
    params.emplace_back(before_id);
  }
  if (!filter.region.empty()) {
    sql += " AND (committee = ? OR street = ?)";
    params.emplace_back(filter.region);
    params.emplace_back(filter.region);
  }
  const std::pair<const char*, const std::string*> equal[] = {
      {"to_organisation", &filter.to_organisation},
      {"from_organisation", &filter.from_organisation},
      {"commitment_id", &filter.commitment_id}};
  for (const auto& [column, value] : equal) {
    if (value->empty()) continue;
    absl::StrAppend(&sql, " AND ", column, " = ?");
    params.emplace_back(*value);
  }
  if (!filter.states.empty()) {
    sql += " AND state IN (";
    for (size_t i = 0; i < filter.states.size(); ++i) {
      sql += i == 0 ? "?" : ", ?";
      params.emplace_back(static_cast<int64_t>(filter.states[i]));
    }
    sql += ")";
  }
  sql += " ORDER BY id DESC LIMIT ?";
  params.emplace_back(static_cast<int64_t>(limit));
  ASSIGN_OR_RETURN(auto rows, tx.Query(sql, params));
  return ParseReferrals(rows);
}

absl::StatusOr<std::vector<v1::Referral>> ReferralsInState(storage::Transaction& tx,
                                                           v1::ReferralState state,
                                                           const std::string& after_id, int limit) {
  ASSIGN_OR_RETURN(auto rows,
                   tx.Query("SELECT data FROM referrals WHERE state = ? AND id > ? ORDER BY id "
                            "LIMIT ?",
                            {static_cast<int64_t>(state), after_id, static_cast<int64_t>(limit)}));
  return ParseReferrals(rows);
}

}  // namespace linli::scheduling
