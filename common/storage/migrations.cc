// ApplyMigrations: versioned schema changes recorded in `schema_migrations`.
//
// Both backends apply pending migrations one at a time, in version order, and record each one
// right after applying it, so a failing migration leaves the earlier ones applied and recorded
// and the next start resumes from it. How concurrent starters are kept apart differs:
//
//   SQLite: DDL is transactional. Each migration runs in its own write transaction
//     (BEGIN IMMEDIATE), which re-reads the recorded versions first; a second process waits for
//     the write lock and then sees the migration already recorded. Each migration is atomic.
//
//   MySQL: DDL commits implicitly, so a transaction cannot protect it. Instead one pooled
//     connection takes the advisory lock GET_LOCK('linli_migrations_<schema>') and keeps it while
//     it reads the recorded versions, applies and records the missing ones, and releases it with
//     RELEASE_LOCK — all on the same session (the lock belongs to the session; if the session
//     dies, the server releases it). A multi-statement migration that fails half-way leaves its
//     first statements applied but the version unrecorded, so MySQL migrations should be single
//     statements or idempotent (CREATE TABLE IF NOT EXISTS, ...).
#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/status_macros.h"
#include "common/storage/database.h"
#include "common/storage/database_internal.h"

namespace linli::storage {
namespace {

constexpr char kSqliteTable[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "schema_name TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL, "
    "applied_at INTEGER NOT NULL, PRIMARY KEY (schema_name, version))";

// utf8mb4_bin: schema names compare byte-wise, as in SQLite ("Registry" != "registry").
constexpr char kMysqlTable[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "schema_name VARCHAR(64) NOT NULL, version INT NOT NULL, name VARCHAR(255) NOT NULL, "
    "applied_at BIGINT NOT NULL, PRIMARY KEY (schema_name, version)) "
    "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin";

constexpr int kLockTimeoutSeconds = 60;

struct Plan {
  std::string schema;
  Dialect dialect;
  std::vector<const Migration*> sorted;  // by version
  std::set<int> known;
};

const std::string& DdlFor(const Migration& m, Dialect dialect) {
  return dialect == Dialect::kMysql && !m.mysql.empty() ? m.mysql : m.sqlite;
}

absl::StatusOr<Plan> MakePlan(Dialect dialect, absl::string_view schema,
                              const std::vector<Migration>& migrations) {
  if (schema.empty() || schema.size() > 64) {
    return absl::InvalidArgumentError(
        absl::StrCat("ApplyMigrations: schema name must be 1-64 bytes, got '", schema, "'"));
  }
  Plan plan{std::string(schema), dialect, {}, {}};
  for (const Migration& m : migrations) {
    if (m.version < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("ApplyMigrations(", schema, "): version must be >= 1, got ", m.version));
    }
    if (!plan.known.insert(m.version).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("ApplyMigrations(", schema, "): duplicate version ", m.version));
    }
    if (m.name.size() > 255) {
      return absl::InvalidArgumentError(absl::StrCat(
          "ApplyMigrations(", schema, "): name of version ", m.version, " exceeds 255 bytes"));
    }
    plan.sorted.push_back(&m);
  }
  std::sort(plan.sorted.begin(), plan.sorted.end(),
            [](const Migration* a, const Migration* b) { return a->version < b->version; });
  return plan;
}

// The recorded versions of the schema. FAILED_PRECONDITION when one of them is unknown to this
// binary: the database was migrated by newer code, and running older code against it is unsafe.
absl::StatusOr<std::set<int>> AppliedVersions(Transaction& tx, const Plan& plan) {
  ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      tx.Query("SELECT version FROM schema_migrations WHERE schema_name = ?", {plan.schema}));
  std::set<int> applied;
  for (const Row& row : rows) {
    const int version = static_cast<int>(row.GetInt(0));
    if (plan.known.count(version) == 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("schema '", plan.schema, "': the database records migration version ",
                       version, " which this binary does not know (latest known: ",
                       plan.known.empty() ? 0 : *plan.known.rbegin(),
                       "); the database was migrated by newer code"));
    }
    applied.insert(version);
  }
  return applied;
}

absl::Status Annotate(const absl::Status& status, const Plan& plan, const Migration& m) {
  return absl::Status(status.code(), absl::StrCat("migration ", plan.schema, " v", m.version, " (",
                                                  m.name, "): ", status.message()));
}

// Runs the statements of `m` and records it.
absl::Status ApplyOne(Transaction& tx, const Plan& plan, const Migration& m) {
  for (const std::string& statement : internal::SplitStatements(DdlFor(m, plan.dialect))) {
    absl::StatusOr<int64_t> result = tx.Exec(statement);
    if (!result.ok()) return Annotate(result.status(), plan, m);
  }
  absl::StatusOr<int64_t> recorded = tx.Exec(
      "INSERT INTO schema_migrations (schema_name, version, name, applied_at) "
      "VALUES (?, ?, ?, ?)",
      {plan.schema, int64_t{m.version}, m.name, absl::ToUnixMicros(Clock::Real().Now())});
  if (!recorded.ok()) return Annotate(recorded.status(), plan, m);
  return absl::OkStatus();
}

// SQLite (and any Database that is not one of ours): one write transaction per migration.
absl::Status ApplyTransactional(Database& db, const Plan& plan) {
  RETURN_IF_ERROR(db.ExecRaw(plan.dialect == Dialect::kMysql ? kMysqlTable : kSqliteTable));
  TransactionOptions options;
  options.max_attempts = 10;  // concurrent starters queue on the write lock
  for (;;) {
    bool done = false;
    RETURN_IF_ERROR(db.RunInTransaction(
        [&](Transaction& tx) -> absl::Status {
          done = false;
          ASSIGN_OR_RETURN(std::set<int> applied, AppliedVersions(tx, plan));
          for (const Migration* m : plan.sorted) {
            if (applied.count(m->version) == 0) return ApplyOne(tx, plan, *m);
          }
          done = true;
          return absl::OkStatus();
        },
        options));
    if (done) return absl::OkStatus();
  }
}

// GET_LOCK names are limited to 64 characters; long schema names are shortened with a stable
// hash (FNV-1a) so that every process derives the same name.
std::string LockName(absl::string_view schema) {
  std::string name = absl::StrCat("linli_migrations_", schema);
  if (name.size() <= 64) return name;
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : schema) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return absl::StrCat("linli_migrations_", schema.substr(0, 30), "_", absl::Hex(hash));
}

absl::Status ApplyMysqlLocked(Transaction& session, const Plan& plan) {
  RETURN_IF_ERROR(session.Exec(kMysqlTable).status());
  ASSIGN_OR_RETURN(std::set<int> applied, AppliedVersions(session, plan));
  for (const Migration* m : plan.sorted) {
    if (applied.count(m->version) != 0) continue;
    RETURN_IF_ERROR(ApplyOne(session, plan, *m));
  }
  return absl::OkStatus();
}

absl::Status ApplyMysql(internal::SessionDatabase& db, const Plan& plan) {
  const std::string lock = LockName(plan.schema);
  return db.RunOnSession([&](Transaction& session) -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<Row> got,
                     session.Query("SELECT GET_LOCK(?, ?)", {lock, int64_t{kLockTimeoutSeconds}}));
    if (got.empty() || got[0].IsNull(0) || got[0].GetInt(0) != 1) {
      return absl::DeadlineExceededError(absl::StrCat("ApplyMigrations(", plan.schema,
                                                      "): another process held the lock '", lock,
                                                      "' for ", kLockTimeoutSeconds, "s"));
    }
    const absl::Status status = ApplyMysqlLocked(session, plan);
    // Best effort: if this fails the session is gone, and the server released the lock with it.
    (void)session.Query("SELECT RELEASE_LOCK(?)", {lock});
    return status;
  });
}

}  // namespace

absl::Status ApplyMigrations(Database& db, std::string_view schema,
                             const std::vector<Migration>& migrations) {
  ASSIGN_OR_RETURN(Plan plan, MakePlan(db.dialect(), internal::ToAbsl(schema), migrations));
  if (plan.dialect == Dialect::kMysql) {
    if (auto* session_db = dynamic_cast<internal::SessionDatabase*>(&db)) {
      return ApplyMysql(*session_db, plan);
    }
  }
  return ApplyTransactional(db, plan);
}

}  // namespace linli::storage
