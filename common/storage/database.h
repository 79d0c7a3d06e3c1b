// Storage: one interface, two backends selected by URL.
//
//   sqlite:PATH                          embedded default (WAL, synchronous=FULL, busy timeout)
//   mysql://USER:PASS@HOST:PORT/DB       MySQL / MariaDB through MySQL Connector/C++ 1.1
//
// Services write portable SQL (`?` placeholders, INSERT/SELECT/UPDATE/DELETE) against
// `Transaction`; the backends differ only in the DDL of their migrations.
//
// Example:
//   ASSIGN_OR_RETURN(auto db, storage::OpenDatabase("sqlite:var/registry.db"));
//   RETURN_IF_ERROR(storage::ApplyMigrations(*db, "registry", kRegistryMigrations));
//   absl::Status s = db->RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
//     ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT name FROM regions WHERE code = ?", {code}));
//     ...
//     return absl::OkStatus();
//   });
//
// Error mapping (the same for both backends, so callers never look at driver codes):
//   unique / primary key violation            -> ALREADY_EXISTS
//   deadlock, lock wait timeout, SQLITE_BUSY  -> ABORTED   (RunInTransaction retries these)
//   server unreachable, connection lost       -> UNAVAILABLE (retried when it happened before
//                                                commit; never retried after COMMIT was sent)
//   anything else from the driver             -> INTERNAL
#ifndef LINLI_COMMON_STORAGE_DATABASE_H_
#define LINLI_COMMON_STORAGE_DATABASE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace linli::storage {

// A bound parameter or a result cell. Strings are byte strings (TEXT or BLOB); both backends
// store UTF-8 (utf8mb4 on MySQL) and arbitrary bytes unchanged.
using Value = std::variant<std::monostate, int64_t, double, std::string>;

inline constexpr std::monostate kNull{};

// One result row. Accessors convert leniently (an integer column read as string gives its
// decimal text) because the two drivers report column types differently.
class Row {
 public:
  Row() = default;
  explicit Row(std::vector<Value> values) : values_(std::move(values)) {}

  size_t size() const { return values_.size(); }
  bool IsNull(size_t i) const;
  int64_t GetInt(size_t i) const;  // NULL -> 0
  double GetDouble(size_t i) const;
  std::string GetString(size_t i) const;  // NULL -> ""
  const Value& at(size_t i) const { return values_.at(i); }

 private:
  std::vector<Value> values_;
};

enum class Dialect { kSqlite, kMysql };

// The handle a transaction body works with. Only valid inside RunInTransaction's callback.
class Transaction {
 public:
  virtual ~Transaction() = default;
  // Executes a statement; returns the number of affected rows.
  virtual absl::StatusOr<int64_t> Exec(std::string_view sql,
                                       const std::vector<Value>& params = {}) = 0;
  // Executes a query and returns all rows.
  virtual absl::StatusOr<std::vector<Row>> Query(std::string_view sql,
                                                 const std::vector<Value>& params = {}) = 0;
  // The auto-increment id produced by the last INSERT on this transaction.
  virtual absl::StatusOr<int64_t> LastInsertId() = 0;
};

struct TransactionOptions {
  // How many times the whole body runs at most when it fails with ABORTED (conflict), or with
  // UNAVAILABLE before commit.
  int max_attempts = 5;
  // The body only reads (SQLite: BEGIN DEFERRED instead of BEGIN IMMEDIATE).
  bool read_only = false;
};

class Database {
 public:
  virtual ~Database() = default;

  virtual Dialect dialect() const = 0;

  // Runs `body` inside one transaction. Commits when `body` returns OK, rolls back otherwise and
  // returns body's status unchanged. The body may run more than once (see TransactionOptions),
  // so it must not have effects outside the transaction other than assigning its results.
  virtual absl::Status RunInTransaction(const std::function<absl::Status(Transaction&)>& body,
                                        const TransactionOptions& options = {}) = 0;

  // Runs a single statement outside any explicit transaction, without retries (DDL, GET_LOCK).
  virtual absl::Status ExecRaw(std::string_view sql) = 0;
};

struct OpenOptions {
  // MySQL: maximum pooled connections.
  int pool_size = 8;
  // How long to wait for a free pooled connection or a locked SQLite database.
  absl::Duration busy_timeout = absl::Seconds(5);
  // MySQL: connect timeout for new connections.
  absl::Duration connect_timeout = absl::Seconds(3);
};

// Opens the database named by `url`. For sqlite: creates parent directories and the file.
// INVALID_ARGUMENT for a malformed URL; UNAVAILABLE when the server cannot be reached.
absl::StatusOr<std::unique_ptr<Database>> OpenDatabase(std::string_view url,
                                                       const OpenOptions& options = {});

// A schema version. `sqlite` and `mysql` hold the DDL for each backend: one or more statements
// separated by ";\n". When `mysql` is empty the `sqlite` text is used for both.
struct Migration {
  int version;
  std::string name;
  std::string sqlite;
  std::string mysql;
};

// Applies the migrations of `schema` (a service name) that are not yet recorded in the table
// `schema_migrations` (schema, version, name, applied_at), in version order. Safe when several
// processes start at once (MySQL: GET_LOCK; SQLite: an immediate transaction). Fails with
// FAILED_PRECONDITION when the database records a version this binary does not know (the
// database is newer than the code).
absl::Status ApplyMigrations(Database& db, std::string_view schema,
                             const std::vector<Migration>& migrations);

// Connection-pool figures of this process, summed over the open databases of one backend
// ("sqlite" or "mysql"), for monitoring (the server runtime exports them on /metrics).
struct PoolStats {
  std::string backend;
  int64_t max = 0;                   // sum of pool_size over open databases
  int64_t open = 0;                  // connections open (idle + in use)
  int64_t in_use = 0;                // connections leased to a transaction right now
  uint64_t acquired_total = 0;       // successful checkouts
  uint64_t wait_timeouts_total = 0;  // checkouts that gave up (every connection stayed busy)
  double wait_seconds_total = 0;     // time spent waiting for a connection
};
// One entry per backend that has been used by this process.
std::vector<PoolStats> ConnectionPoolStats();

// Password-free form of a URL, for logs.
std::string RedactUrl(std::string_view url);

// "(?, ?, …)" with n markers, for `column IN (…)` with n parameters.
std::string InList(size_t n);

}  // namespace linli::storage

#endif  // LINLI_COMMON_STORAGE_DATABASE_H_
