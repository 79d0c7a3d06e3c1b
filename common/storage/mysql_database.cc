// MySQL / MariaDB backend on MySQL Connector/C++ 1.1.
//
// Rules this file follows, and why (measured against Connector/C++ 1.1.12 + libmariadb 3 on
// Debian 12):
//   * The driver singleton is fetched once under std::call_once (its first call initialises the
//     client library, which is not thread-safe), and every OS thread that touches the driver calls
//     threadInit() once, with threadEnd() at thread exit (a thread_local guard).
//   * "port" must be an int in ConnectOptionsMap; OPT_CHARSET_NAME is utf8mb4 and every new
//     connection also runs SET NAMES, so 4-byte UTF-8 (emoji) survives. OPT_RECONNECT is never
//     used: a silent reconnect would drop the open transaction and keep executing the rest of
//     the body in autocommit mode.
//   * Transactions are delimited with explicit START TRANSACTION / COMMIT / ROLLBACK statements
//     rather than setAutoCommit(false) + Connection::commit(): on a connection killed by the
//     server, Connection::commit() and rollback() returned without throwing, so a lost COMMIT
//     would have been reported as success. A COMMIT sent as a statement fails with 2013 as it
//     must. Connections therefore stay in autocommit mode between transactions, which is also
//     what ExecRaw and ApplyMigrations need.
//   * Transaction statements go through server-side prepared statements (binary protocol: exact
//     int64/double, byte-exact strings with setString), cached per connection so that each use
//     after the first is one round trip, falling back to the text protocol for the few
//     statements the server cannot prepare. ExecRaw and the internal START TRANSACTION /
//     COMMIT / SET statements use the text protocol.
//   * CLIENT_FOUND_ROWS makes UPDATE report matched rather than changed rows, like SQLite.
//   * Connections are pooled; a connection idle for more than a couple of seconds is checked with
//     isValid() (a ping) on checkout and replaced when the server dropped it. A connection that
//     reported 2002/2003/2006/2013 (and similar "lost connection" codes) is discarded.
//   * Every driver call is wrapped in try/catch: no exception leaves this file.
#include "common/storage/mysql_database.h"

#include <cppconn/connection.h>
#include <cppconn/datatype.h>
#include <cppconn/driver.h>
#include <cppconn/exception.h>
#include <cppconn/parameter_metadata.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <cppconn/resultset_metadata.h>
#include <cppconn/statement.h>
#include <mysql_connection.h>
#include <mysql_driver.h>

#include <algorithm>
#include <cstdint>
#include <exception>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/status_macros.h"
#include "common/storage/database.h"
#include "common/storage/database_internal.h"

namespace linli::storage::internal {
namespace {

// ---------------------------------------------------------------------------------------------
// Driver and per-thread initialisation

absl::StatusOr<sql::mysql::MySQL_Driver*> Driver() {
  static std::once_flag once;
  static sql::mysql::MySQL_Driver* driver = nullptr;
  static std::string* error = nullptr;
  std::call_once(once, [] {
    try {
      driver = sql::mysql::get_mysql_driver_instance();
    } catch (const std::exception& e) {
      error = new std::string(e.what());  // intentionally leaked, like the driver singleton
    }
  });
  if (driver == nullptr) {
    return absl::InternalError(absl::StrCat("mysql: cannot load the driver: ",
                                            error != nullptr ? *error : "unknown error"));
  }
  return driver;
}

class DriverThreadGuard {
 public:
  explicit DriverThreadGuard(sql::mysql::MySQL_Driver* driver) : driver_(driver) {
    driver_->threadInit();
  }
  DriverThreadGuard(const DriverThreadGuard&) = delete;
  DriverThreadGuard& operator=(const DriverThreadGuard&) = delete;
  ~DriverThreadGuard() { driver_->threadEnd(); }

 private:
  sql::mysql::MySQL_Driver* driver_;
};

// Call at the top of every entry point that may reach the driver on this thread.
absl::Status EnsureDriverThread() {
  ASSIGN_OR_RETURN(sql::mysql::MySQL_Driver * driver, Driver());
  thread_local DriverThreadGuard guard(driver);
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Error mapping

// The connection is unusable after these: the server is unreachable, went away, or killed us.
bool IsConnectionError(int code) {
  switch (code) {
    case 2002:  // CR_CONNECTION_ERROR: can't connect (refused / socket)
    case 2003:  // CR_CONN_HOST_ERROR: can't connect to host
    case 2005:  // CR_UNKNOWN_HOST
    case 2006:  // CR_SERVER_GONE_ERROR
    case 2013:  // CR_SERVER_LOST
    case 2055:  // CR_SERVER_LOST_EXTENDED
    case 1053:  // ER_SERVER_SHUTDOWN
    case 1927:  // ER_CONNECTION_KILLED (MariaDB)
    case 4031:  // ER_CLIENT_INTERACTION_TIMEOUT (MySQL 8)
      return true;
    default:
      return false;
  }
}

absl::Status MysqlError(const sql::SQLException& e, absl::string_view what, absl::string_view sql) {
  const int code = e.getErrorCode();
  absl::StatusCode status_code = absl::StatusCode::kInternal;
  if (IsConnectionError(code)) {
    status_code = absl::StatusCode::kUnavailable;
  } else if (code == 1062 || code == 1022 || code == 1586) {  // ER_DUP_ENTRY, ER_DUP_KEY, ...
    status_code = absl::StatusCode::kAlreadyExists;
  } else if (code == 1213 || code == 1205) {  // ER_LOCK_DEADLOCK, ER_LOCK_WAIT_TIMEOUT
    status_code = absl::StatusCode::kAborted;
  } else if (dynamic_cast<const sql::InvalidArgumentException*>(&e) != nullptr) {
    status_code = absl::StatusCode::kInvalidArgument;
  }
  std::string message = absl::StrCat("mysql: ", what);
  if (!sql.empty()) absl::StrAppend(&message, " [", SqlForMessage(sql), "]");
  absl::StrAppend(&message, ": ", e.what(), " (error ", code, ", SQLSTATE ", e.getSQLState(), ")");
  return absl::Status(status_code, message);
}

absl::Status UnexpectedException(const std::exception& e, absl::string_view what) {
  return absl::InternalError(absl::StrCat("mysql: ", what, ": unexpected exception: ", e.what()));
}

// ---------------------------------------------------------------------------------------------
// Statements

// Converts the current row of `rs` using the column types reported by the server.
std::vector<Row> ReadRows(sql::ResultSet& rs) {
  sql::ResultSetMetaData* meta = rs.getMetaData();  // owned by the result set
  const unsigned columns = meta->getColumnCount();
  std::vector<int> types(columns);
  std::vector<bool> is_signed(columns);
  for (unsigned i = 0; i < columns; ++i) {
    types[i] = meta->getColumnType(i + 1);
    is_signed[i] = meta->isSigned(i + 1);
  }
  std::vector<Row> rows;
  while (rs.next()) {
    std::vector<Value> values;
    values.reserve(columns);
    for (unsigned i = 0; i < columns; ++i) {
      const uint32_t col = i + 1;
      if (rs.isNull(col)) {
        values.emplace_back(kNull);
        continue;
      }
      switch (types[i]) {
        case sql::DataType::TINYINT:
        case sql::DataType::SMALLINT:
        case sql::DataType::MEDIUMINT:
        case sql::DataType::INTEGER:
        case sql::DataType::BIGINT:
        case sql::DataType::YEAR:
          if (types[i] == sql::DataType::BIGINT && !is_signed[i]) {
            // BIGINT UNSIGNED (e.g. LAST_INSERT_ID()): keep values above INT64_MAX as text.
            const uint64_t u = rs.getUInt64(col);
            if (u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
              values.emplace_back(static_cast<int64_t>(u));
            } else {
              values.emplace_back(absl::StrCat(u));
            }
          } else {
            values.emplace_back(static_cast<int64_t>(rs.getInt64(col)));
          }
          break;
        case sql::DataType::REAL:
        case sql::DataType::DOUBLE:
          values.emplace_back(static_cast<double>(rs.getDouble(col)));
          break;
        case sql::DataType::SQLNULL:
          values.emplace_back(kNull);
          break;
        default:  // (VAR)CHAR, TEXT, BLOB, DECIMAL (exact, as text), dates, JSON, ...
          values.emplace_back(rs.getString(col).asStdString());
          break;
      }
    }
    rows.emplace_back(std::move(values));
  }
  return rows;
}

// Text protocol. Collects rows (if any and if `rows` is set) and the affected row count.
// On failure the driver's error number is stored in *error_code (if set).
absl::Status RunText(sql::Connection& conn, absl::string_view sql, std::vector<Row>* rows,
                     int64_t* changes, int* error_code = nullptr) {
  try {
    std::unique_ptr<sql::Statement> stmt(conn.createStatement());
    const bool has_result = stmt->execute(sql::SQLString(sql.data(), sql.size()));
    if (has_result) {
      std::unique_ptr<sql::ResultSet> rs(stmt->getResultSet());
      std::vector<Row> read = ReadRows(*rs);
      if (rows != nullptr) *rows = std::move(read);
      if (changes != nullptr) *changes = 0;
    } else if (changes != nullptr) {
      const uint64_t n = stmt->getUpdateCount();
      *changes = n == ~uint64_t{0} ? 0 : static_cast<int64_t>(n);
    }
    return absl::OkStatus();
  } catch (const sql::SQLException& e) {
    if (error_code != nullptr) *error_code = e.getErrorCode();
    return MysqlError(e, "execute", sql);
  } catch (const std::exception& e) {
    return UnexpectedException(e, absl::StrCat("execute [", SqlForMessage(sql), "]"));
  }
}

struct MysqlConn {
  std::unique_ptr<sql::Connection> conn;
  // Server-side prepared statements by SQL text, kept for the connection's life (a statement is
  // prepared once, then each use is one round trip). At most kMaxStatements; then all are
  // dropped and re-prepared on demand.
  struct Prepared {
    std::unique_ptr<sql::PreparedStatement> stmt;
    int parameters = 0;
    bool returns_rows = false;  // a query: its result set must always be read
  };
  static constexpr size_t kMaxStatements = 256;
  std::unordered_map<std::string, Prepared> statements;

  MysqlConn() = default;
  MysqlConn(const MysqlConn&) = delete;
  MysqlConn& operator=(const MysqlConn&) = delete;
  ~MysqlConn() {
    if (conn == nullptr) return;
    (void)EnsureDriverThread();
    try {
      statements.clear();  // statements go before their connection
    } catch (...) {
    }
    try {
      conn->close();
    } catch (...) {  // already broken: nothing to do
    }
    try {
      conn.reset();
    } catch (...) {
    }
  }
};

// Binary protocol (server-side prepared statement).
absl::Status RunPrepared(MysqlConn& conn, absl::string_view sql, const std::vector<Value>& params,
                         std::vector<Row>* rows, int64_t* changes, int* error_code) {
  const std::string key(sql);
  try {
    auto cached = conn.statements.find(key);
    if (cached == conn.statements.end()) {
      if (conn.statements.size() >= MysqlConn::kMaxStatements) conn.statements.clear();
      MysqlConn::Prepared prepared;
      prepared.stmt.reset(conn.conn->prepareStatement(sql::SQLString(sql.data(), sql.size())));
      prepared.parameters = prepared.stmt->getParameterMetaData()->getParameterCount();
      sql::ResultSetMetaData* columns = prepared.stmt->getMetaData();  // owned by the statement
      prepared.returns_rows = columns != nullptr && columns->getColumnCount() > 0;
      cached = conn.statements.emplace(key, std::move(prepared)).first;
    }
    sql::PreparedStatement* stmt = cached->second.stmt.get();
    const int expected = cached->second.parameters;
    if (expected != static_cast<int>(params.size())) {
      return absl::InvalidArgumentError(absl::StrCat("mysql: statement [", SqlForMessage(sql),
                                                     "] has ", expected, " parameters, got ",
                                                     params.size()));
    }
    stmt->clearParameters();
    for (size_t i = 0; i < params.size(); ++i) {
      const unsigned index = static_cast<unsigned>(i + 1);
      const Value& v = params[i];
      if (const int64_t* n = std::get_if<int64_t>(&v)) {
        stmt->setInt64(index, *n);
      } else if (const double* d = std::get_if<double>(&v)) {
        stmt->setDouble(index, *d);
      } else if (const std::string* s = std::get_if<std::string>(&v)) {
        stmt->setString(index, sql::SQLString(*s));  // sent with its length: '\0'-safe
      } else {
        stmt->setNull(index, sql::DataType::SQLNULL);
      }
    }
    // A cached statement must not be left with unread results, so a query's result set is always
    // read (and dropped when the caller wanted only a count: a query changes nothing).
    if (rows != nullptr || cached->second.returns_rows) {
      std::vector<Row> read;
      if (stmt->execute()) {
        std::unique_ptr<sql::ResultSet> rs(stmt->getResultSet());
        read = ReadRows(*rs);
      }
      if (rows != nullptr) *rows = std::move(read);
      if (changes != nullptr) *changes = 0;
    } else {
      const int n = stmt->executeUpdate();
      if (changes != nullptr) *changes = std::max(0, n);
    }
    return absl::OkStatus();
  } catch (const sql::SQLException& e) {
    if (error_code != nullptr) *error_code = e.getErrorCode();
    conn.statements.erase(key);  // whatever went wrong, prepare afresh next time
    return MysqlError(e, "execute", sql);
  } catch (const std::exception& e) {
    conn.statements.erase(key);
    return UnexpectedException(e, absl::StrCat("execute [", SqlForMessage(sql), "]"));
  }
}

// ---------------------------------------------------------------------------------------------
// Connections

absl::StatusOr<std::unique_ptr<MysqlConn>> Connect(const MysqlUrl& url, const OpenOptions& options,
                                                   bool use_schema) {
  RETURN_IF_ERROR(EnsureDriverThread());
  ASSIGN_OR_RETURN(sql::mysql::MySQL_Driver * driver, Driver());
  const std::string target = absl::StrCat(url.user, "@", url.host, ":", url.port);
  auto conn = std::make_unique<MysqlConn>();
  try {
    sql::ConnectOptionsMap connect_options;
    connect_options["hostName"] = sql::SQLString(url.host);
    connect_options["userName"] = sql::SQLString(url.user);
    connect_options["password"] = sql::SQLString(url.password);
    connect_options["port"] = url.port;  // must be an int, not a string
    const int64_t timeout_s = std::clamp<int64_t>(
        absl::ToInt64Seconds(absl::Ceil(options.connect_timeout, absl::Seconds(1))), 1, 3600);
    connect_options["OPT_CONNECT_TIMEOUT"] = static_cast<int>(timeout_s);
    connect_options["OPT_CHARSET_NAME"] = sql::SQLString("utf8mb4");
    connect_options["CLIENT_FOUND_ROWS"] = true;
    if (use_schema) connect_options["schema"] = sql::SQLString(url.database);
    conn->conn.reset(driver->connect(connect_options));
  } catch (const sql::SQLException& e) {
    absl::Status status = MysqlError(e, absl::StrCat("connect to ", target), "");
    // Any client-side (2xxx) failure while connecting means "could not reach the server".
    if (e.getErrorCode() >= 2000 && e.getErrorCode() < 3000) {
      return absl::UnavailableError(status.message());
    }
    return status;
  } catch (const std::exception& e) {
    return UnexpectedException(e, absl::StrCat("connect to ", target));
  }
  if (conn->conn == nullptr) {
    return absl::UnavailableError(absl::StrCat("mysql: connect to ", target, " failed"));
  }
  RETURN_IF_ERROR(
      RunText(*conn->conn, "SET NAMES utf8mb4 COLLATE utf8mb4_unicode_ci", nullptr, nullptr));
  RETURN_IF_ERROR(RunText(*conn->conn, "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
                          nullptr, nullptr));
  return conn;
}

bool IsValid(MysqlConn& conn) {
  if (!EnsureDriverThread().ok()) return false;
  try {
    return conn.conn->isValid();
  } catch (...) {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Transaction and Database

class MysqlTransaction : public Transaction {
 public:
  MysqlTransaction(MysqlConn& conn, bool in_transaction)
      : conn_(conn), in_transaction_(in_transaction) {}

  absl::StatusOr<int64_t> Exec(std::string_view sql_text,
                               const std::vector<Value>& params) override {
    const absl::string_view sql = ToAbsl(sql_text);
    RETURN_IF_ERROR(poisoned_);
    RETURN_IF_ERROR(EnsureDriverThread());
    int64_t changes = 0;
    RETURN_IF_ERROR(Run(sql, params, nullptr, &changes));
    return changes;
  }

  absl::StatusOr<std::vector<Row>> Query(std::string_view sql_text,
                                         const std::vector<Value>& params) override {
    const absl::string_view sql = ToAbsl(sql_text);
    RETURN_IF_ERROR(poisoned_);
    RETURN_IF_ERROR(EnsureDriverThread());
    std::vector<Row> rows;
    RETURN_IF_ERROR(Run(sql, params, &rows, nullptr));
    return rows;
  }

  absl::StatusOr<int64_t> LastInsertId() override {
    ASSIGN_OR_RETURN(std::vector<Row> rows, Query("SELECT LAST_INSERT_ID()", {}));
    if (rows.empty() || rows[0].size() != 1) {
      return absl::InternalError("mysql: SELECT LAST_INSERT_ID() returned no value");
    }
    return rows[0].GetInt(0);
  }

  // True once the connection reported that it is gone; it must not go back to the pool.
  bool lost() const { return lost_; }
  // Not OK once the server has rolled the whole transaction back (deadlock, lost connection):
  // further statements would run outside the transaction, so they are refused, and the
  // transaction is not committed even if the body swallows the error.
  const absl::Status& poisoned() const { return poisoned_; }

 private:
  // Server-side prepared statements for everything (the binary protocol is exact for int64 and
  // double, and a '?' without a value is reported the same way as on SQLite); statements the
  // server cannot prepare (ER_UNSUPPORTED_PS) fall back to the text protocol when they have no
  // parameters.
  absl::Status Run(absl::string_view sql, const std::vector<Value>& params, std::vector<Row>* rows,
                   int64_t* changes) {
    int code = 0;
    absl::Status status = RunPrepared(conn_, sql, params, rows, changes, &code);
    if (code == 1295 && params.empty()) {
      code = 0;
      status = RunText(*conn_.conn, sql, rows, changes, &code);
    }
    return Check(std::move(status), code);
  }

  absl::Status Check(absl::Status status, int driver_code) {
    if (absl::IsUnavailable(status)) {
      lost_ = true;
      poisoned_ = status;
    } else if (in_transaction_ && driver_code == 1213) {
      poisoned_ = status;  // InnoDB rolled back the whole transaction to break the deadlock
    }
    return status;
  }

  MysqlConn& conn_;
  const bool in_transaction_;
  bool lost_ = false;
  absl::Status poisoned_;
};

class MysqlDatabase : public SessionDatabase {
 public:
  MysqlDatabase(MysqlUrl url, const OpenOptions& options)
      : url_(std::move(url)),
        options_(options),
        pool_(
            "mysql", options.pool_size, options.busy_timeout,
            [this] { return Connect(url_, options_, /*use_schema=*/true); }, IsValid) {}

  ~MysqlDatabase() override { (void)EnsureDriverThread(); }  // pool_ closes connections next

  void AddConnection(std::unique_ptr<MysqlConn> conn) { pool_.AddIdle(std::move(conn)); }

  Dialect dialect() const override { return Dialect::kMysql; }

  absl::Status RunInTransaction(const std::function<absl::Status(Transaction&)>& body,
                                const TransactionOptions& options) override {
    return RunWithRetries(options,
                          [&](bool* commit_sent) { return Attempt(body, options, commit_sent); });
  }

  absl::Status ExecRaw(std::string_view sql_text) override {
    const absl::string_view sql = ToAbsl(sql_text);
    RETURN_IF_ERROR(EnsureDriverThread());
    ASSIGN_OR_RETURN(std::unique_ptr<MysqlConn> conn, pool_.Acquire());
    Lease<MysqlConn> lease(&pool_, std::move(conn));
    absl::Status status = RunText(*lease->conn, sql, nullptr, nullptr);
    if (absl::IsUnavailable(status)) lease.MarkBroken();
    return status;
  }

  absl::Status RunOnSession(const std::function<absl::Status(Transaction&)>& body) override {
    RETURN_IF_ERROR(EnsureDriverThread());
    ASSIGN_OR_RETURN(std::unique_ptr<MysqlConn> conn, pool_.Acquire());
    Lease<MysqlConn> lease(&pool_, std::move(conn));
    MysqlTransaction session(*lease, /*in_transaction=*/false);
    absl::Status status = body(session);
    if (session.lost()) lease.MarkBroken();
    return status;
  }

 private:
  absl::Status Attempt(const std::function<absl::Status(Transaction&)>& body,
                       const TransactionOptions& options, bool* commit_sent) {
    RETURN_IF_ERROR(EnsureDriverThread());
    // READ ONLY makes InnoDB skip transaction-id allocation and rejects writes (error 1792), as
    // PRAGMA query_only does on SQLite. A connection that was used moments ago is not pinged on
    // checkout; if it broke since, START fails before anything happened, so the attempt simply
    // continues on a checked (or new) connection.
    const char* begin = options.read_only ? "START TRANSACTION READ ONLY" : "START TRANSACTION";
    ASSIGN_OR_RETURN(std::unique_ptr<MysqlConn> conn, pool_.Acquire());
    std::optional<Lease<MysqlConn>> leased(std::in_place, &pool_, std::move(conn));
    absl::Status status = RunText(*(*leased)->conn, begin, nullptr, nullptr);
    if (absl::IsUnavailable(status)) {
      leased->MarkBroken();
      leased.reset();
      ASSIGN_OR_RETURN(conn, pool_.Acquire(/*validate_always=*/true));
      leased.emplace(&pool_, std::move(conn));
      status = RunText(*(*leased)->conn, begin, nullptr, nullptr);
    }
    Lease<MysqlConn>& lease = *leased;
    sql::Connection& c = *lease->conn;
    if (!status.ok()) {
      if (absl::IsUnavailable(status)) lease.MarkBroken();
      return status;
    }
    MysqlTransaction tx(*lease, /*in_transaction=*/true);
    status = body(tx);
    if (status.ok() && !tx.poisoned().ok()) status = tx.poisoned();
    if (tx.lost()) lease.MarkBroken();
    if (status.ok()) {
      *commit_sent = true;  // from here on a lost connection leaves the outcome unknown
      status = RunText(c, "COMMIT", nullptr, nullptr);
      if (absl::IsUnavailable(status)) {
        lease.MarkBroken();
        return absl::UnavailableError(absl::StrCat(
            status.message(), " (during COMMIT: the transaction may or may not have committed)"));
      }
    }
    if (!status.ok() && !lease.broken()) {
      const absl::Status rollback = RunText(c, "ROLLBACK", nullptr, nullptr);
      if (!rollback.ok()) lease.MarkBroken();
    }
    return status;
  }

  const MysqlUrl url_;
  const OpenOptions options_;
  ConnectionPool<MysqlConn> pool_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Database>> OpenMysqlDatabase(const MysqlUrl& url,
                                                            const OpenOptions& options) {
  RETURN_IF_ERROR(EnsureDriverThread());
  // Connect without a schema first: the database may not exist yet.
  ASSIGN_OR_RETURN(std::unique_ptr<MysqlConn> first, Connect(url, options, /*use_schema=*/false));
  const absl::Status created = RunText(*first->conn,
                                       absl::StrCat("CREATE DATABASE IF NOT EXISTS `", url.database,
                                                    "` CHARACTER SET utf8mb4 COLLATE "
                                                    "utf8mb4_unicode_ci"),
                                       nullptr, nullptr);
  // A user without the CREATE privilege can still use an existing database, so only fail when
  // the database cannot be selected either.
  const absl::Status used =
      RunText(*first->conn, absl::StrCat("USE `", url.database, "`"), nullptr, nullptr);
  if (!used.ok()) return created.ok() ? used : created;
  auto db = std::make_unique<MysqlDatabase>(url, options);
  db->AddConnection(std::move(first));
  return db;
}

}  // namespace linli::storage::internal
