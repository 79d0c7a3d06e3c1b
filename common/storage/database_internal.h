// Internals shared by the storage backends (not part of the public interface; include only from
// common/storage/*.cc).
//
// What lives here and why:
//   * SessionDatabase: ApplyMigrations on MySQL must hold one connection for GET_LOCK ...
//     RELEASE_LOCK, which the public Database interface deliberately cannot express.
//   * RunWithRetries: the retry policy of RunInTransaction is the same for both backends, so it
//     is written once and the backends only implement "one attempt".
//   * ConnectionPool: both backends pool connections (SQLite: one connection per concurrent
//     transaction; MySQL: the server connections), with the same bounded wait.
//   * URL parsing, so that OpenDatabase, RedactUrl and the backends agree on one grammar.
#ifndef LINLI_COMMON_STORAGE_DATABASE_INTERNAL_H_
#define LINLI_COMMON_STORAGE_DATABASE_INTERNAL_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/storage/database.h"

namespace linli::storage::internal {

// Debian's Abseil is built with its own absl::string_view (ABSL_OPTION_USE_STD_STRING_VIEW 0),
// which does not convert from the std::string_view of the public interface. The implementation
// works with absl::string_view and converts at the boundary with this.
inline absl::string_view ToAbsl(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}

// A Database that can also run statements on one dedicated connection in autocommit mode.
// Both backends implement it; ApplyMigrations uses it on MySQL so that GET_LOCK, the DDL and
// RELEASE_LOCK all happen in the same server session.
class SessionDatabase : public Database {
 public:
  // Runs `body` on a single connection. There is no surrounding transaction (each statement
  // commits on its own) and no retry. The connection is discarded afterwards if it broke.
  virtual absl::Status RunOnSession(const std::function<absl::Status(Transaction&)>& body) = 0;
};

// The retry loop of RunInTransaction. `attempt` runs the body once inside a transaction and sets
// *commit_sent to true just before it sends COMMIT. An attempt is repeated (up to
// options.max_attempts, with a small jittered backoff) when it failed with ABORTED (the
// transaction was rolled back: conflict, deadlock, lock timeout, busy database) or with
// UNAVAILABLE before COMMIT was sent. UNAVAILABLE during COMMIT is never retried: the outcome of
// the commit is unknown and the body might otherwise be applied twice.
absl::Status RunWithRetries(const TransactionOptions& options,
                            const std::function<absl::Status(bool* commit_sent)>& attempt);

// Checks the fields of OpenOptions (INVALID_ARGUMENT naming the bad field).
absl::Status ValidateOpenOptions(const OpenOptions& options);

// "sqlite:PATH" -> PATH. INVALID_ARGUMENT when malformed.
absl::StatusOr<std::string> ParseSqliteUrl(absl::string_view url);

// mysql://USER[:PASS]@HOST[:PORT]/DB. USER and PASS may be percent-encoded (%40 for '@', ...).
// The last '@' separates the credentials, so an unencoded '@' or '/' in the password also works.
// HOST may be a bracketed IPv6 literal. PORT defaults to 3306. DB is restricted to letters,
// digits, '_' and '$' (it is interpolated into CREATE DATABASE).
struct MysqlUrl {
  std::string user;
  std::string password;
  std::string host;
  int port = 3306;
  std::string database;
};
absl::StatusOr<MysqlUrl> ParseMysqlUrl(absl::string_view url);

// Splits migration text into statements on ";\n", dropping pieces that are only whitespace.
std::vector<std::string> SplitStatements(absl::string_view text);

// Shortens SQL for error messages.
std::string SqlForMessage(absl::string_view sql);

// Process-wide pool counters of one backend (see PoolStats); pools update them as they go.
struct PoolCounters {
  std::atomic<int64_t> max{0};
  std::atomic<int64_t> open{0};
  std::atomic<int64_t> in_use{0};
  std::atomic<uint64_t> acquired{0};
  std::atomic<uint64_t> wait_timeouts{0};
  std::atomic<uint64_t> wait_nanos{0};
};
// The counters of `backend` ("sqlite", "mysql"), created on first use, never destroyed.
PoolCounters& CountersFor(const std::string& backend);

// A bounded pool of connections of type `Conn`, created lazily by `factory`. Acquire() waits up
// to `wait` for a free connection and then fails with UNAVAILABLE. Connections idle for longer
// than kValidateAfterIdle are checked with `validate` on checkout (a failed check discards the
// connection and creates a new one); one used moments ago is handed out as is (a connection that
// broke anyway fails its first statement, which the transaction runner retries before COMMIT).
// Broken connections are returned with reusable=false and destroyed, freeing their slot.
//
// Uses std::mutex rather than absl::Mutex: Debian's prebuilt Abseil is not instrumented for
// ThreadSanitizer, which then reports false races on absl::Mutex-protected state.
template <typename Conn>
class ConnectionPool {
 public:
  using Factory = std::function<absl::StatusOr<std::unique_ptr<Conn>>()>;
  using Validator = std::function<bool(Conn&)>;

  ConnectionPool(std::string name, int max_size, absl::Duration wait, Factory factory,
                 Validator validate)
      : name_(std::move(name)),
        max_size_(max_size),
        wait_(wait),
        factory_(std::move(factory)),
        validate_(std::move(validate)),
        counters_(CountersFor(name_)) {
    counters_.max.fetch_add(max_size_, std::memory_order_relaxed);
  }

  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  static constexpr std::chrono::seconds kValidateAfterIdle{2};

  // Idle connections are destroyed here; the owner must have returned every leased one.
  ~ConnectionPool() {
    counters_.max.fetch_sub(max_size_, std::memory_order_relaxed);
    counters_.open.fetch_sub(static_cast<int64_t>(idle_.size()), std::memory_order_relaxed);
  }

  // Adds an already open connection (e.g. the one OpenDatabase used to check the server).
  void AddIdle(std::unique_ptr<Conn> conn) {
    std::lock_guard<std::mutex> lock(mu_);
    ++open_;
    counters_.open.fetch_add(1, std::memory_order_relaxed);
    idle_.push_back({std::move(conn), std::chrono::steady_clock::now()});
  }

  // `validate_always`: check an idle connection even if it was used moments ago.
  absl::StatusOr<std::unique_ptr<Conn>> Acquire(bool validate_always = false) {
    std::unique_ptr<Conn> conn;
    bool fresh = false;  // used within kValidateAfterIdle
    {
      std::unique_lock<std::mutex> lock(mu_);
      const auto start = std::chrono::steady_clock::now();
      const auto deadline = start + absl::ToChronoNanoseconds(wait_);
      auto has_room = [this] { return !idle_.empty() || open_ < max_size_; };
      const bool got_room = cv_.wait_until(lock, deadline, has_room);
      counters_.wait_nanos.fetch_add(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                         std::chrono::steady_clock::now() - start)
                                         .count(),
                                     std::memory_order_relaxed);
      if (!got_room) {
        counters_.wait_timeouts.fetch_add(1, std::memory_order_relaxed);
        return absl::UnavailableError(absl::StrCat(name_, ": all ", max_size_,
                                                   " connections stayed busy for ",
                                                   absl::FormatDuration(wait_)));
      }
      if (!idle_.empty()) {
        conn = std::move(idle_.back().first);
        fresh = !validate_always &&
                std::chrono::steady_clock::now() - idle_.back().second < kValidateAfterIdle;
        idle_.pop_back();
      } else {
        ++open_;  // reserve the slot; the connection is created outside the lock
        counters_.open.fetch_add(1, std::memory_order_relaxed);
      }
    }
    if (conn != nullptr) {
      if (fresh || validate_(*conn)) return Leased(std::move(conn));
      conn.reset();  // broken while idle (server restart, idle timeout): replace it
    }
    absl::StatusOr<std::unique_ptr<Conn>> created = factory_();
    if (!created.ok()) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        --open_;
        counters_.open.fetch_sub(1, std::memory_order_relaxed);
      }
      cv_.notify_one();
      return created;
    }
    return Leased(std::move(*created));
  }

  void Release(std::unique_ptr<Conn> conn, bool reusable) {
    if (!reusable) conn.reset();  // close outside the lock
    counters_.in_use.fetch_sub(1, std::memory_order_relaxed);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (reusable) {
        idle_.push_back({std::move(conn), std::chrono::steady_clock::now()});
      } else {
        --open_;
        counters_.open.fetch_sub(1, std::memory_order_relaxed);
      }
    }
    cv_.notify_one();
  }

 private:
  std::unique_ptr<Conn> Leased(std::unique_ptr<Conn> conn) {
    counters_.acquired.fetch_add(1, std::memory_order_relaxed);
    counters_.in_use.fetch_add(1, std::memory_order_relaxed);
    return conn;
  }

  const std::string name_;
  const int max_size_;
  const absl::Duration wait_;
  const Factory factory_;
  const Validator validate_;
  PoolCounters& counters_;

  std::mutex mu_;
  std::condition_variable cv_;
  int open_ = 0;  // idle + leased + being created; guarded by mu_
  // Idle connections with the time they were returned; guarded by mu_.
  std::vector<std::pair<std::unique_ptr<Conn>, std::chrono::steady_clock::time_point>> idle_;
};

// A connection leased from a ConnectionPool; returns it on destruction (or destroys it when
// MarkBroken() was called).
template <typename Conn>
class Lease {
 public:
  Lease(ConnectionPool<Conn>* pool, std::unique_ptr<Conn> conn)
      : pool_(pool), conn_(std::move(conn)) {}
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  ~Lease() { pool_->Release(std::move(conn_), !broken_); }

  Conn& operator*() const { return *conn_; }
  Conn* operator->() const { return conn_.get(); }
  void MarkBroken() { broken_ = true; }
  void Unbreak() { broken_ = false; }
  bool broken() const { return broken_; }

 private:
  ConnectionPool<Conn>* pool_;
  std::unique_ptr<Conn> conn_;
  bool broken_ = false;
};

}  // namespace linli::storage::internal

#endif  // LINLI_COMMON_STORAGE_DATABASE_INTERNAL_H_
