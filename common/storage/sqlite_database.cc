// SQLite backend.
//
// Concurrency model:
//   * A small pool of connections (up to OpenOptions.pool_size), one per concurrent
//     transaction, so read-only transactions run in parallel under WAL.
//   * Writers of the same Database first take an in-process "writer gate" (a mutex with a
//     timeout). SQLite allows one writer per file anyway; queueing writers on a mutex is fair and
//     immediate, whereas letting them collide inside SQLite would make them poll the busy handler
//     (sleep-and-retry), which is slow and can starve a thread past busy_timeout.
//   * Writers of other Database objects or other processes on the same file are serialised by
//     SQLite itself: BEGIN IMMEDIATE takes the write lock up front and waits up to
//     busy_timeout (sqlite3_busy_timeout) before failing with SQLITE_BUSY -> ABORTED (retried).
//
// Every connection runs PRAGMA journal_mode=WAL (readers never block the writer and vice
// versa), synchronous=FULL (a committed transaction survives power loss) and foreign_keys=ON.
//
// Strings are bound as TEXT when they are valid UTF-8 without NUL bytes and as BLOB otherwise.
// TEXT keeps SQLite's text semantics (comparison with literals, length() in characters), BLOB
// keeps arbitrary bytes intact; the choice depends only on the bytes, so the same key always
// binds the same way and equality lookups work. Both read back as std::string.
#include "common/storage/sqlite_database.h"

#include <sqlite3.h>

#include <algorithm>
#include <climits>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/status_macros.h"
#include "common/storage/database.h"
#include "common/storage/database_internal.h"

namespace linli::storage::internal {
namespace {

// One open sqlite3 handle. Used by one thread at a time (the pool hands it out exclusively), so
// it is opened with SQLITE_OPEN_NOMUTEX.
struct StmtFinalizer {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

struct SqliteConn {
  sqlite3* db = nullptr;
  // Prepared statements by SQL text. Services issue a small fixed set of statements, so
  // preparing each once per connection saves most of the per-call work of short queries.
  std::unordered_map<std::string, StmtPtr> statements;
  // Current PRAGMA query_only setting, so it is only issued when a transaction needs the other.
  bool query_only = false;
  SqliteConn() = default;
  SqliteConn(const SqliteConn&) = delete;
  SqliteConn& operator=(const SqliteConn&) = delete;
  ~SqliteConn() {
    statements.clear();  // finalize before closing
    if (db != nullptr) sqlite3_close_v2(db);
  }
};

// The most statements cached per connection; beyond it statements are prepared per call.
constexpr size_t kMaxCachedStatements = 256;

absl::StatusCode CodeFor(int rc) {
  switch (rc) {  // extended result codes are enabled on every connection
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
    case SQLITE_CONSTRAINT_ROWID:
      return absl::StatusCode::kAlreadyExists;
    default:
      break;
  }
  switch (rc & 0xff) {
    case SQLITE_BUSY:    // another connection holds the lock past busy_timeout, or a stale
    case SQLITE_LOCKED:  // snapshot tried to write: the transaction must start over
      return absl::StatusCode::kAborted;
    default:
      return absl::StatusCode::kInternal;
  }
}

absl::Status SqliteError(int rc, sqlite3* db, absl::string_view what, absl::string_view sql) {
  const char* detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  std::string message = absl::StrCat("sqlite: ", what);
  if (!sql.empty()) absl::StrAppend(&message, " [", SqlForMessage(sql), "]");
  absl::StrAppend(&message, ": ", detail, " (code ", rc, ")");
  return absl::Status(CodeFor(rc), message);
}

bool IsUtf8WithoutNul(absl::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == 0) return false;
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      const unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    const bool overlong =
        (len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000);
    if (overlong || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

absl::Status Bind(sqlite3* db, sqlite3_stmt* stmt, absl::string_view sql,
                  const std::vector<Value>& params) {
  const int expected = sqlite3_bind_parameter_count(stmt);
  if (expected != static_cast<int>(params.size())) {
    return absl::InvalidArgumentError(absl::StrCat("sqlite: statement [", SqlForMessage(sql),
                                                   "] has ", expected, " parameters, got ",
                                                   params.size()));
  }
  for (int i = 0; i < expected; ++i) {
    const Value& v = params[i];
    int rc;
    if (const int64_t* n = std::get_if<int64_t>(&v)) {
      rc = sqlite3_bind_int64(stmt, i + 1, *n);
    } else if (const double* d = std::get_if<double>(&v)) {
      rc = sqlite3_bind_double(stmt, i + 1, *d);
    } else if (const std::string* s = std::get_if<std::string>(&v)) {
      // sqlite3_bind_blob with size 0 would bind NULL for a null pointer; s->data() is never
      // null, and an empty string is valid UTF-8 anyway, so "" binds as empty TEXT.
      if (IsUtf8WithoutNul(*s)) {
        rc = sqlite3_bind_text64(stmt, i + 1, s->data(), s->size(), SQLITE_TRANSIENT, SQLITE_UTF8);
      } else {
        rc = sqlite3_bind_blob64(stmt, i + 1, s->data(), s->size(), SQLITE_TRANSIENT);
      }
    } else {
      rc = sqlite3_bind_null(stmt, i + 1);
    }
    if (rc != SQLITE_OK) return SqliteError(rc, db, absl::StrCat("bind parameter ", i + 1), sql);
  }
  return absl::OkStatus();
}

Value ColumnValue(sqlite3_stmt* stmt, int i) {
  switch (sqlite3_column_type(stmt, i)) {
    case SQLITE_INTEGER:
      return int64_t{sqlite3_column_int64(stmt, i)};
    case SQLITE_FLOAT:
      return sqlite3_column_double(stmt, i);
    case SQLITE_TEXT: {
      const unsigned char* p = sqlite3_column_text(stmt, i);
      const int n = sqlite3_column_bytes(stmt, i);  // after column_text, as the docs require
      return std::string(reinterpret_cast<const char*>(p), p != nullptr ? n : 0);
    }
    case SQLITE_BLOB: {
      const void* p = sqlite3_column_blob(stmt, i);
      const int n = sqlite3_column_bytes(stmt, i);
      return std::string(static_cast<const char*>(p), p != nullptr ? n : 0);
    }
    default:
      return kNull;
  }
}

// Prepares, binds and steps one statement. Collects rows into `rows` (if not null) and stores the
// number of rows the statement inserted/updated/deleted into `changes` (if not null).
absl::Status StepStatement(sqlite3* db, sqlite3_stmt* stmt, absl::string_view sql,
                           const std::vector<Value>& params, std::vector<Row>* rows,
                           int64_t* changes);

// Resets a cached statement when a call is done with it, so it holds no lock and no bindings.
struct StmtReset {
  void operator()(sqlite3_stmt* stmt) const {
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
  }
};

absl::Status RunStatement(SqliteConn* conn, absl::string_view sql, const std::vector<Value>& params,
                          std::vector<Row>* rows, int64_t* changes) {
  sqlite3* const db = conn->db;
  if (sql.size() > INT_MAX) return absl::InvalidArgumentError("sqlite: statement too long");
  std::string key(sql);
  if (auto cached = conn->statements.find(key); cached != conn->statements.end()) {
    std::unique_ptr<sqlite3_stmt, StmtReset> in_use(cached->second.get());
    return StepStatement(db, in_use.get(), sql, params, rows, changes);
  }
  sqlite3_stmt* raw = nullptr;
  const char* tail = nullptr;
  int rc = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &raw, &tail);
  StmtPtr stmt(raw);
  if (rc != SQLITE_OK) return SqliteError(rc, db, "prepare", sql);
  if (stmt == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("sqlite: empty statement [", SqlForMessage(sql), "]"));
  }
  // Refuse a second statement instead of silently ignoring it (MySQL would reject it too).
  const absl::string_view rest(tail, sql.data() + sql.size() - tail);
  if (!absl::StripAsciiWhitespace(rest).empty()) {
    sqlite3_stmt* extra = nullptr;
    const int extra_rc =
        sqlite3_prepare_v2(db, rest.data(), static_cast<int>(rest.size()), &extra, nullptr);
    const bool has_extra = extra != nullptr;
    sqlite3_finalize(extra);
    if (extra_rc != SQLITE_OK || has_extra) {
      return absl::InvalidArgumentError(absl::StrCat(
          "sqlite: only one statement per call is allowed [", SqlForMessage(sql), "]"));
    }
  }
  if (conn->statements.size() < kMaxCachedStatements) {
    sqlite3_stmt* kept = stmt.get();
    conn->statements.emplace(std::move(key), std::move(stmt));
    std::unique_ptr<sqlite3_stmt, StmtReset> in_use(kept);
    return StepStatement(db, in_use.get(), sql, params, rows, changes);
  }
  return StepStatement(db, stmt.get(), sql, params, rows, changes);
}

absl::Status StepStatement(sqlite3* db, sqlite3_stmt* stmt, absl::string_view sql,
                           const std::vector<Value>& params, std::vector<Row>* rows,
                           int64_t* changes) {
  RETURN_IF_ERROR(Bind(db, stmt, sql, params));
  int rc = SQLITE_OK;

  const sqlite3_int64 total_before = sqlite3_total_changes64(db);
  const int columns = sqlite3_column_count(stmt);
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    if (rows == nullptr) continue;
    std::vector<Value> values;
    values.reserve(columns);
    for (int i = 0; i < columns; ++i) values.push_back(ColumnValue(stmt, i));
    rows->emplace_back(std::move(values));
  }
  if (rc != SQLITE_DONE) return SqliteError(rc, db, "execute", sql);
  if (changes != nullptr) {
    // sqlite3_changes() keeps the count of the last INSERT/UPDATE/DELETE, so a SELECT or DDL
    // would report a stale number; the total counter tells whether this statement changed rows.
    *changes = sqlite3_total_changes64(db) == total_before ? 0 : sqlite3_changes64(db);
  }
  return absl::OkStatus();
}

// Rolls back if a transaction is still open. Returns false when the connection is still inside
// a transaction afterwards (it must then be discarded rather than pooled).
bool RollbackIfOpen(SqliteConn* conn) {
  if (sqlite3_get_autocommit(conn->db) != 0) return true;
  (void)RunStatement(conn, "ROLLBACK", {}, nullptr, nullptr);
  return sqlite3_get_autocommit(conn->db) != 0;
}

class SqliteTransaction : public Transaction {
 public:
  SqliteTransaction(SqliteConn* conn, bool in_transaction)
      : conn_(conn), db_(conn->db), in_transaction_(in_transaction) {}

  absl::StatusOr<int64_t> Exec(std::string_view sql_text,
                               const std::vector<Value>& params) override {
    const absl::string_view sql = ToAbsl(sql_text);
    RETURN_IF_ERROR(poisoned_);
    int64_t changes = 0;
    RETURN_IF_ERROR(Check(RunStatement(conn_, sql, params, nullptr, &changes)));
    return changes;
  }

  absl::StatusOr<std::vector<Row>> Query(std::string_view sql_text,
                                         const std::vector<Value>& params) override {
    const absl::string_view sql = ToAbsl(sql_text);
    RETURN_IF_ERROR(poisoned_);
    std::vector<Row> rows;
    RETURN_IF_ERROR(Check(RunStatement(conn_, sql, params, &rows, nullptr)));
    return rows;
  }

  absl::StatusOr<int64_t> LastInsertId() override {
    RETURN_IF_ERROR(poisoned_);
    return int64_t{sqlite3_last_insert_rowid(db_)};
  }

  // Not OK when SQLite rolled the whole transaction back on its own (e.g. SQLITE_FULL, some
  // SQLITE_BUSY cases): later statements would run outside any transaction, so they are refused
  // and the transaction is not committed even if the body ignores the error.
  const absl::Status& poisoned() const { return poisoned_; }

 private:
  absl::Status Check(absl::Status status) {
    if (!status.ok() && in_transaction_ && sqlite3_get_autocommit(db_) != 0) {
      poisoned_ = absl::Status(status.code(),
                               absl::StrCat(status.message(), " (transaction was rolled back)"));
    }
    return status;
  }

  SqliteConn* const conn_;
  sqlite3* const db_;
  const bool in_transaction_;
  absl::Status poisoned_;
};

// Serialises the write transactions of one SqliteDatabase (see the file comment). Detects a
// write transaction started from inside another one on the same thread, which would otherwise
// wait for itself. (std::mutex rather than absl::Mutex: see ConnectionPool.)
class WriterGate {
 public:
  absl::Status Lock(absl::Duration timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    if (held_ && owner_ == std::this_thread::get_id()) {
      return absl::FailedPreconditionError(
          "sqlite: nested write transaction on the same Database and thread");
    }
    if (!cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout), [this] { return !held_; })) {
      return absl::AbortedError(
          absl::StrCat("sqlite: another write transaction of this process held the database for ",
                       absl::FormatDuration(timeout)));
    }
    held_ = true;
    owner_ = std::this_thread::get_id();
    return absl::OkStatus();
  }

  void Unlock() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      held_ = false;
      owner_ = std::thread::id();
    }
    cv_.notify_one();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool held_ = false;      // guarded by mu_
  std::thread::id owner_;  // guarded by mu_
};

class WriterGateHold {
 public:
  explicit WriterGateHold(WriterGate* gate) : gate_(gate) {}
  WriterGateHold(const WriterGateHold&) = delete;
  WriterGateHold& operator=(const WriterGateHold&) = delete;
  ~WriterGateHold() {
    if (gate_ != nullptr) gate_->Unlock();
  }

 private:
  WriterGate* gate_;
};

absl::StatusOr<std::unique_ptr<SqliteConn>> OpenConnection(const std::string& path,
                                                           absl::Duration busy_timeout) {
  auto conn = std::make_unique<SqliteConn>();
  const int rc =
      sqlite3_open_v2(path.c_str(), &conn->db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    return absl::UnavailableError(
        absl::StrCat("sqlite: cannot open '", path,
                     "': ", conn->db != nullptr ? sqlite3_errmsg(conn->db) : sqlite3_errstr(rc)));
  }
  sqlite3_extended_result_codes(conn->db, 1);
  // Set before the PRAGMAs: switching to WAL needs a lock another opener may briefly hold.
  const int64_t busy_ms = std::min<int64_t>(absl::ToInt64Milliseconds(busy_timeout), INT_MAX);
  sqlite3_busy_timeout(conn->db, static_cast<int>(busy_ms));

  std::vector<Row> mode;
  RETURN_IF_ERROR(RunStatement(conn.get(), "PRAGMA journal_mode=WAL", {}, &mode, nullptr));
  const std::string journal = mode.empty() ? "" : absl::AsciiStrToLower(mode[0].GetString(0));
  if (journal != "wal") {
    return absl::FailedPreconditionError(absl::StrCat("sqlite: cannot enable WAL on '", path,
                                                      "' (journal_mode is '", journal, "')"));
  }
  RETURN_IF_ERROR(RunStatement(conn.get(), "PRAGMA synchronous=FULL", {}, nullptr, nullptr));
  RETURN_IF_ERROR(RunStatement(conn.get(), "PRAGMA foreign_keys=ON", {}, nullptr, nullptr));
  return conn;
}

class SqliteDatabase : public SessionDatabase {
 public:
  SqliteDatabase(std::string path, const OpenOptions& options)
      : path_(std::move(path)),
        options_(options),
        pool_(
            "sqlite", options.pool_size, options.busy_timeout,
            [this] { return OpenConnection(path_, options_.busy_timeout); },
            [](SqliteConn&) { return true; }) {}

  void AddConnection(std::unique_ptr<SqliteConn> conn) { pool_.AddIdle(std::move(conn)); }

  Dialect dialect() const override { return Dialect::kSqlite; }

  absl::Status RunInTransaction(const std::function<absl::Status(Transaction&)>& body,
                                const TransactionOptions& options) override {
    return RunWithRetries(options,
                          [&](bool* commit_sent) { return Attempt(body, options, commit_sent); });
  }

  // Pooled connections keep their PRAGMA query_only setting; it is switched only when a use
  // needs the other one. A connection whose switch failed is dropped, never reused.
  static absl::Status SetQueryOnly(Lease<SqliteConn>& lease, bool query_only) {
    if (lease->query_only == query_only) return absl::OkStatus();
    lease.MarkBroken();
    RETURN_IF_ERROR(RunStatement(
        &*lease, query_only ? "PRAGMA query_only=1" : "PRAGMA query_only=0", {}, nullptr, nullptr));
    lease->query_only = query_only;
    lease.Unbreak();
    return absl::OkStatus();
  }
  static absl::Status AllowWrites(Lease<SqliteConn>& lease) { return SetQueryOnly(lease, false); }

  absl::Status ExecRaw(std::string_view sql_text) override {
    const absl::string_view sql = ToAbsl(sql_text);
    ASSIGN_OR_RETURN(std::unique_ptr<SqliteConn> conn, pool_.Acquire());
    Lease<SqliteConn> lease(&pool_, std::move(conn));
    RETURN_IF_ERROR(AllowWrites(lease));
    absl::Status status = RunStatement(&*lease, sql, {}, nullptr, nullptr);
    if (!RollbackIfOpen(&*lease)) lease.MarkBroken();  // e.g. a raw "BEGIN"
    return status;
  }

  absl::Status RunOnSession(const std::function<absl::Status(Transaction&)>& body) override {
    ASSIGN_OR_RETURN(std::unique_ptr<SqliteConn> conn, pool_.Acquire());
    Lease<SqliteConn> lease(&pool_, std::move(conn));
    RETURN_IF_ERROR(AllowWrites(lease));
    SqliteTransaction session(&*lease, /*in_transaction=*/false);
    absl::Status status = body(session);
    if (!RollbackIfOpen(&*lease)) lease.MarkBroken();
    return status;
  }

 private:
  absl::Status Attempt(const std::function<absl::Status(Transaction&)>& body,
                       const TransactionOptions& options, bool* commit_sent) {
    std::optional<WriterGateHold> hold;
    if (!options.read_only) {
      RETURN_IF_ERROR(gate_.Lock(options_.busy_timeout));
      hold.emplace(&gate_);
    }
    ASSIGN_OR_RETURN(std::unique_ptr<SqliteConn> conn, pool_.Acquire());
    Lease<SqliteConn> lease(&pool_, std::move(conn));
    SqliteConn* db = &*lease;

    // IMMEDIATE takes the write lock now (waiting up to busy_timeout), so a writer never fails
    // half-way with a lock upgrade conflict; DEFERRED lets read-only bodies run in parallel.
    // query_only makes a write in a read-only body fail (as START TRANSACTION READ ONLY does on
    // MySQL) instead of silently writing without the writer gate.
    RETURN_IF_ERROR(SetQueryOnly(lease, options.read_only));
    absl::Status status = RunStatement(db, options.read_only ? "BEGIN DEFERRED" : "BEGIN IMMEDIATE",
                                       {}, nullptr, nullptr);
    if (status.ok()) {
      SqliteTransaction tx(db, /*in_transaction=*/true);
      status = body(tx);
      if (status.ok() && !tx.poisoned().ok()) status = tx.poisoned();
      if (status.ok()) {
        *commit_sent = true;
        status = RunStatement(db, "COMMIT", {}, nullptr, nullptr);
      }
    }
    if (!RollbackIfOpen(db)) lease.MarkBroken();

    return status;
  }

  const std::string path_;
  const OpenOptions options_;
  WriterGate gate_;
  ConnectionPool<SqliteConn> pool_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Database>> OpenSqliteDatabase(const std::string& path,
                                                             const OpenOptions& options) {
  if (sqlite3_threadsafe() == 0) {
    return absl::FailedPreconditionError("sqlite: library was built without thread support");
  }
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) {
      return absl::UnavailableError(
          absl::StrCat("sqlite: cannot create directory '", parent.string(), "': ", ec.message()));
    }
  }
  // Open one connection now so that a bad path fails here rather than in the first transaction.
  ASSIGN_OR_RETURN(std::unique_ptr<SqliteConn> first, OpenConnection(path, options.busy_timeout));
  auto db = std::make_unique<SqliteDatabase>(path, options);
  db->AddConnection(std::move(first));
  return db;
}

}  // namespace linli::storage::internal
