// Conformance suite for storage::Database: every test runs against both backends, so services
// can rely on the behaviour documented in database.h whichever URL they are given.
//
//   sqlite: a fresh file in a fresh temporary directory per test (under nested, not yet existing
//           directories, which also checks that OpenDatabase creates them).
//   mysql:  LINLI_TEST_MYSQL_URL (e.g. from `eval "$(scripts/mariadb.sh start)"`), with the
//           database name replaced by a unique one per test, dropped in TearDown. Without the
//           variable the MySQL tests FAIL: a conformance suite that silently skips half of its
//           backends proves nothing.
//
// Where the backends cannot be driven the same way (killing a server connection has no SQLite
// equivalent), a test exercises the same contract through the closest real mechanism of each
// backend and says so.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cfloat>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/status_macros.h"
#include "common/storage/database.h"
#include "gtest/gtest.h"

namespace linli::storage {
namespace {

#define LINLI_TEST_CONCAT_INNER_(a, b) a##b
#define LINLI_TEST_CONCAT_(a, b) LINLI_TEST_CONCAT_INNER_(a, b)

#define ASSERT_OK(expr)                                       \
  do {                                                        \
    const ::absl::Status assert_ok_status_ = (expr);          \
    ASSERT_TRUE(assert_ok_status_.ok()) << assert_ok_status_; \
  } while (0)

#define EXPECT_OK(expr)                                       \
  do {                                                        \
    const ::absl::Status expect_ok_status_ = (expr);          \
    EXPECT_TRUE(expect_ok_status_.ok()) << expect_ok_status_; \
  } while (0)

#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  ASSERT_OK_AND_ASSIGN_IMPL_(LINLI_TEST_CONCAT_(statusor_, __LINE__), lhs, expr)
#define ASSERT_OK_AND_ASSIGN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                               \
  ASSERT_TRUE(statusor.ok()) << statusor.status();      \
  lhs = std::move(statusor).value()

constexpr char kMysqlUrlEnv[] = "LINLI_TEST_MYSQL_URL";
constexpr char kMysqlTableOptions[] = " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4";

// Waits until `count` threads arrived or `timeout` passed (then lets the caller continue anyway;
// used where one backend serialises the threads and they can never all arrive). std::mutex, not
// absl::Mutex, so that ThreadSanitizer understands it (Debian's Abseil is not instrumented).
class Barrier {
 public:
  explicit Barrier(int count) : remaining_(count) {}
  bool ArriveAndWait(absl::Duration timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    if (--remaining_ <= 0) cv_.notify_all();
    return cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                        [this] { return remaining_ <= 0; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int remaining_;
};

// A one-shot event.
class Notification {
 public:
  void Notify() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      notified_ = true;
    }
    cv_.notify_all();
  }
  bool WaitFor(absl::Duration timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout), [this] { return notified_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool notified_ = false;
};

std::string AllBytes() {
  std::string s;
  for (int i = 0; i < 256; ++i) s.push_back(static_cast<char>(i));
  return s;
}

// A TCP port on 127.0.0.1 that nothing listens on (bound, then released).
int ClosedPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = 1;
  if (fd >= 0 && bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  if (fd >= 0) close(fd);
  return port;
}

class StorageConformanceTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (is_mysql()) {
      const char* base = std::getenv(kMysqlUrlEnv);
      if (base == nullptr || *base == '\0') {
        FAIL() << kMysqlUrlEnv
               << " is not set, so the MySQL half of the conformance suite cannot run (and "
                  "does not skip). Start a private server with\n"
                  "  eval \"$(scripts/mariadb.sh start)\"\n"
                  "and stop it afterwards with scripts/mariadb.sh stop \"$LINLI_TEST_MYSQL_DIR\".";
      }
      const std::string base_url = base;
      const size_t slash = base_url.rfind('/');
      ASSERT_NE(slash, std::string::npos) << kMysqlUrlEnv << " has no /DB part: " << base_url;
      db_name_ = UniqueDatabaseName();
      url_ = base_url.substr(0, slash + 1) + db_name_;
    } else {
      std::string dir_template =
          (std::filesystem::temp_directory_path() / "linli-storage-test-XXXXXX").string();
      ASSERT_NE(mkdtemp(dir_template.data()), nullptr) << "mkdtemp failed";
      dir_ = dir_template;
      url_ = "sqlite:" + dir_ + "/nested/dirs/test.db";
    }
    ASSERT_OK_AND_ASSIGN(db_, OpenDatabase(url_));
  }

  void TearDown() override {
    if (is_mysql() && db_ != nullptr) {
      EXPECT_OK(db_->ExecRaw("DROP DATABASE IF EXISTS `" + db_name_ + "`"));
    }
    db_.reset();
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  bool is_mysql() const { return GetParam() == "mysql"; }

  // Per-test database name: readable (test name) and unique across concurrent runs (pid).
  static std::string UniqueDatabaseName() {
    static std::atomic<int> counter{0};
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (char& c : name) {
      if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    }
    name = name.substr(0, 36);
    return absl::StrCat("lt_", name, "_", getpid(), "_", counter++);
  }

  const std::string& Ddl(const std::string& sqlite, const std::string& mysql) const {
    return is_mysql() ? mysql : sqlite;
  }

  // CREATE TABLE with the per-backend spelling; MySQL tables get InnoDB + utf8mb4.
  absl::Status CreateTable(const std::string& sqlite, const std::string& mysql) {
    return db_->ExecRaw(is_mysql() ? mysql + kMysqlTableOptions : sqlite);
  }

  absl::StatusOr<std::unique_ptr<Database>> OpenAnother(const OpenOptions& options = {}) {
    return OpenDatabase(url_, options);
  }

  static absl::Status Exec(Database& db, const std::string& sql, std::vector<Value> params = {}) {
    return db.RunInTransaction(
        [&](Transaction& tx) -> absl::Status { return tx.Exec(sql, params).status(); });
  }
  absl::Status Exec(const std::string& sql, std::vector<Value> params = {}) {
    return Exec(*db_, sql, std::move(params));
  }

  static absl::StatusOr<std::vector<Row>> Query(Database& db, const std::string& sql,
                                                std::vector<Value> params = {}) {
    std::vector<Row> rows;
    TransactionOptions options;
    options.read_only = true;
    absl::Status status = db.RunInTransaction(
        [&](Transaction& tx) -> absl::Status {
          ASSIGN_OR_RETURN(rows, tx.Query(sql, params));
          return absl::OkStatus();
        },
        options);
    if (!status.ok()) return status;
    return rows;
  }
  absl::StatusOr<std::vector<Row>> Query(const std::string& sql, std::vector<Value> params = {}) {
    return Query(*db_, sql, std::move(params));
  }

  static absl::StatusOr<int64_t> QueryInt(Database& db, const std::string& sql,
                                          std::vector<Value> params = {}) {
    ASSIGN_OR_RETURN(std::vector<Row> rows, Query(db, sql, std::move(params)));
    if (rows.size() != 1 || rows[0].size() < 1) {
      return absl::InternalError(absl::StrCat("expected one row from: ", sql));
    }
    return rows[0].GetInt(0);
  }
  absl::StatusOr<int64_t> QueryInt(const std::string& sql, std::vector<Value> params = {}) {
    return QueryInt(*db_, sql, std::move(params));
  }

  // MySQL: the server connection id of the transaction's connection.
  static absl::StatusOr<int64_t> ConnectionId(Transaction& tx) {
    ASSIGN_OR_RETURN(std::vector<Row> rows, tx.Query("SELECT CONNECTION_ID()"));
    if (rows.size() != 1) return absl::InternalError("SELECT CONNECTION_ID() returned no row");
    return rows[0].GetInt(0);
  }

  // MySQL: kills connection `id` from `admin` and waits until the server has removed it, so that
  // the next statement on it fails deterministically.
  static absl::Status KillConnection(Database& admin, int64_t id) {
    RETURN_IF_ERROR(admin.ExecRaw(absl::StrCat("KILL ", id)));
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (absl::Now() < deadline) {
      ASSIGN_OR_RETURN(
          int64_t alive,
          QueryInt(admin, "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = ?",
                   {id}));
      if (alive == 0) return absl::OkStatus();
      absl::SleepFor(absl::Milliseconds(10));
    }
    return absl::DeadlineExceededError(absl::StrCat("connection ", id, " still alive"));
  }

  absl::Status CreateCounter() {
    RETURN_IF_ERROR(
        CreateTable("CREATE TABLE counters (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)",
                    "CREATE TABLE counters (id BIGINT PRIMARY KEY, n BIGINT NOT NULL)"));
    return Exec("INSERT INTO counters (id, n) VALUES (1, 0)");
  }

  std::string url_;
  std::string dir_;      // sqlite
  std::string db_name_;  // mysql
  std::unique_ptr<Database> db_;
};

// ---------------------------------------------------------------------------------------------
// Values

TEST_P(StorageConformanceTest, Int64RoundTrip) {
  ASSERT_OK(CreateTable("CREATE TABLE nums (id INTEGER PRIMARY KEY, v INTEGER)",
                        "CREATE TABLE nums (id BIGINT PRIMARY KEY, v BIGINT)"));
  const std::vector<int64_t> values = {0,
                                       1,
                                       -1,
                                       int64_t{1} << 31,
                                       (int64_t{1} << 53) + 1,  // not representable as double
                                       std::numeric_limits<int64_t>::max(),
                                       std::numeric_limits<int64_t>::min(),
                                       -4611686018427387903};
  ASSERT_OK(db_->RunInTransaction([&](Transaction& tx) -> absl::Status {
    for (size_t i = 0; i < values.size(); ++i) {
      ASSIGN_OR_RETURN(int64_t n, tx.Exec("INSERT INTO nums (id, v) VALUES (?, ?)",
                                          {static_cast<int64_t>(i), values[i]}));
      if (n != 1) return absl::InternalError("insert reported != 1 row");
    }
    return absl::OkStatus();
  }));

  ASSERT_OK_AND_ASSIGN(std::vector<Row> rows, Query("SELECT id, v FROM nums ORDER BY id"));
  ASSERT_EQ(rows.size(), values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    ASSERT_TRUE(std::holds_alternative<int64_t>(rows[i].at(1))) << "row " << i;
    EXPECT_EQ(std::get<int64_t>(rows[i].at(1)), values[i]);
    EXPECT_EQ(rows[i].GetInt(1), values[i]);
    EXPECT_EQ(rows[i].GetString(1), absl::StrCat(values[i]));
    // Parameter in the WHERE clause: equality on the exact value finds the row.
    ASSERT_OK_AND_ASSIGN(int64_t id, QueryInt("SELECT id FROM nums WHERE v = ?", {values[i]}));
    EXPECT_EQ(id, static_cast<int64_t>(i));
  }
  // Literals and parameters echoed back by the server.
  ASSERT_OK_AND_ASSIGN(int64_t max_literal, QueryInt("SELECT 9223372036854775807"));
  EXPECT_EQ(max_literal, std::numeric_limits<int64_t>::max());
  ASSERT_OK_AND_ASSIGN(int64_t sum, QueryInt("SELECT v + 1 FROM nums WHERE id = ?", {int64_t{4}}));
  EXPECT_EQ(sum, (int64_t{1} << 53) + 2);
}

TEST_P(StorageConformanceTest, DoubleRoundTrip) {
  ASSERT_OK(CreateTable("CREATE TABLE reals (id INTEGER PRIMARY KEY, d REAL)",
                        "CREATE TABLE reals (id BIGINT PRIMARY KEY, d DOUBLE)"));
  const std::vector<double> values = {0.0,    0.1 + 0.2, 1.0 / 3.0, -2.5e300, 123456789.125,
                                      1e-300, DBL_MAX,   -DBL_MIN,  31.2304};
  ASSERT_OK(db_->RunInTransaction([&](Transaction& tx) -> absl::Status {
    for (size_t i = 0; i < values.size(); ++i) {
      RETURN_IF_ERROR(
          tx.Exec("INSERT INTO reals (id, d) VALUES (?, ?)", {static_cast<int64_t>(i), values[i]})
              .status());
    }
    return absl::OkStatus();
  }));
  ASSERT_OK_AND_ASSIGN(std::vector<Row> rows, Query("SELECT id, d FROM reals ORDER BY id"));
  ASSERT_EQ(rows.size(), values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    ASSERT_TRUE(std::holds_alternative<double>(rows[i].at(1))) << "row " << i;
    EXPECT_EQ(std::get<double>(rows[i].at(1)), values[i]) << "row " << i;  // bit-exact
    EXPECT_EQ(rows[i].GetDouble(1), values[i]);
    ASSERT_OK_AND_ASSIGN(std::vector<Row> by_id,
                         Query("SELECT d FROM reals WHERE id = ?", {static_cast<int64_t>(i)}));
    ASSERT_EQ(by_id.size(), 1u);
    EXPECT_EQ(by_id[0].GetDouble(0), values[i]) << "prepared read of row " << i;
  }
  ASSERT_OK_AND_ASSIGN(std::vector<Row> echo, Query("SELECT ? * 2", {0.1}));
  ASSERT_EQ(echo.size(), 1u);
  EXPECT_EQ(echo[0].GetDouble(0), 0.2);
}

TEST_P(StorageConformanceTest, NullRoundTrip) {
  ASSERT_OK(
      CreateTable("CREATE TABLE maybe (id INTEGER PRIMARY KEY, i INTEGER, d REAL, s TEXT, b BLOB)",
                  "CREATE TABLE maybe (id BIGINT PRIMARY KEY, i BIGINT NULL, d DOUBLE NULL, "
                  "s VARCHAR(64) NULL, b LONGBLOB NULL)"));
  ASSERT_OK(Exec("INSERT INTO maybe (id, i, d, s, b) VALUES (?, ?, ?, ?, ?)",
                 {int64_t{1}, kNull, kNull, kNull, kNull}));
  ASSERT_OK(Exec("INSERT INTO maybe (id, i, d, s, b) VALUES (2, NULL, NULL, NULL, NULL)"));
  ASSERT_OK(Exec("INSERT INTO maybe (id, i, d, s, b) VALUES (?, ?, ?, ?, ?)",
                 {int64_t{3}, int64_t{0}, 0.0, std::string(), std::string()}));

  ASSERT_OK_AND_ASSIGN(std::vector<Row> rows, Query("SELECT i, d, s, b FROM maybe ORDER BY id"));
  ASSERT_EQ(rows.size(), 3u);
  for (int r = 0; r < 2; ++r) {
    for (size_t c = 0; c < 4; ++c) {
      EXPECT_TRUE(rows[r].IsNull(c)) << "row " << r << " col " << c;
      EXPECT_EQ(rows[r].GetInt(c), 0);
      EXPECT_EQ(rows[r].GetDouble(c), 0.0);
      EXPECT_EQ(rows[r].GetString(c), "");
    }
  }
  // Zero and the empty string are not NULL.
  for (size_t c = 0; c < 4; ++c) EXPECT_FALSE(rows[2].IsNull(c)) << "col " << c;
  EXPECT_EQ(rows[2].GetString(2), "");
  EXPECT_EQ(rows[2].GetString(3), "");

  ASSERT_OK_AND_ASSIGN(int64_t nulls, QueryInt("SELECT COUNT(*) FROM maybe WHERE s IS NULL"));
  EXPECT_EQ(nulls, 2);
  ASSERT_OK_AND_ASSIGN(std::vector<Row> echo, Query("SELECT ?", {kNull}));
  ASSERT_EQ(echo.size(), 1u);
  EXPECT_TRUE(echo[0].IsNull(0));
}

TEST_P(StorageConformanceTest, BinaryBytesRoundTrip) {
  ASSERT_OK(CreateTable("CREATE TABLE blobs (id INTEGER PRIMARY KEY, b BLOB NOT NULL)",
                        "CREATE TABLE blobs (id BIGINT PRIMARY KEY, b LONGBLOB NOT NULL)"));
  const std::vector<std::string> values = {
      AllBytes(),           std::string("a\0b\0c", 5),
      std::string(1, '\0'), std::string("\xff\xfe\x80 not utf-8 \xc3", 16),
      std::string(),        std::string(100000, '\0') + "tail",
  };
  ASSERT_OK(db_->RunInTransaction([&](Transaction& tx) -> absl::Status {
    for (size_t i = 0; i < values.size(); ++i) {
      RETURN_IF_ERROR(
          tx.Exec("INSERT INTO blobs (id, b) VALUES (?, ?)", {static_cast<int64_t>(i), values[i]})
              .status());
    }
    return absl::OkStatus();
  }));
  ASSERT_OK_AND_ASSIGN(std::vector<Row> rows,
                       Query("SELECT id, b, LENGTH(b) FROM blobs ORDER BY id"));
  ASSERT_EQ(rows.size(), values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    EXPECT_EQ(rows[i].GetString(1), values[i]) << "row " << i;
    // The server stored every byte (not a string cut at the first NUL).
    EXPECT_EQ(rows[i].GetInt(2), static_cast<int64_t>(values[i].size())) << "row " << i;
    // The same bytes as a parameter find the row again.
    ASSERT_OK_AND_ASSIGN(int64_t id, QueryInt("SELECT id FROM blobs WHERE b = ?", {values[i]}));
    EXPECT_EQ(id, static_cast<int64_t>(i));
  }
}

TEST_P(StorageConformanceTest, Utf8TextRoundTrip) {
  ASSERT_OK(CreateTable("CREATE TABLE texts (id INTEGER PRIMARY KEY, s TEXT NOT NULL)",
                        "CREATE TABLE texts (id BIGINT PRIMARY KEY, s VARCHAR(255) NOT NULL)"));
  const std::string address = "上海市黄浦区 👵";  // 6 CJK (3 bytes) + space + emoji (4 bytes)
  const std::vector<std::string> values = {
      address,
      "家庭 👩‍👩‍👧‍👦 ZWJ sequence",
      "Ωμέγα — ‘quotes’ “double” … ©",
      std::string("nul\0inside", 10),
  };
  ASSERT_OK(db_->RunInTransaction([&](Transaction& tx) -> absl::Status {
    for (size_t i = 0; i < values.size(); ++i) {
      RETURN_IF_ERROR(
          tx.Exec("INSERT INTO texts (id, s) VALUES (?, ?)", {static_cast<int64_t>(i), values[i]})
              .status());
    }
    return absl::OkStatus();
  }));
  ASSERT_OK_AND_ASSIGN(std::vector<Row> rows, Query("SELECT s FROM texts ORDER BY id"));
  ASSERT_EQ(rows.size(), values.size());
  for (size_t i = 0; i < values.size(); ++i) EXPECT_EQ(rows[i].GetString(0), values[i]);

  ASSERT_OK_AND_ASSIGN(int64_t id, QueryInt("SELECT id FROM texts WHERE s = ?", {address}));
  EXPECT_EQ(id, 0);
  // Stored as 8 characters / 23 bytes of UTF-8 (a utf8mb3 column would have rejected the emoji,
  // a latin1 connection would have double-encoded it).
  ASSERT_OK_AND_ASSIGN(int64_t chars,
                       QueryInt(is_mysql() ? "SELECT CHAR_LENGTH(s) FROM texts WHERE id = 0"
                                           : "SELECT length(s) FROM texts WHERE id = 0"));
  EXPECT_EQ(chars, 8);
  ASSERT_OK_AND_ASSIGN(
      int64_t bytes,
      QueryInt(is_mysql() ? "SELECT LENGTH(s) FROM texts WHERE id = 0"
                          : "SELECT length(CAST(s AS BLOB)) FROM texts WHERE id = 0"));
  EXPECT_EQ(bytes, 23);
  // A literal in the SQL text travels through the connection character set unchanged.
  ASSERT_OK_AND_ASSIGN(std::vector<Row> literal, Query("SELECT '" + address + "'"));
  ASSERT_EQ(literal.size(), 1u);
  EXPECT_EQ(literal[0].GetString(0), address);
}

TEST_P(StorageConformanceTest, RowAccessorsConvertLeniently) {
  ASSERT_OK_AND_ASSIGN(std::vector<Row> rows, Query("SELECT 42, '17', 2.5, NULL, 'abc', -3"));
  ASSERT_EQ(rows.size(), 1u);
  const Row& r = rows[0];
  ASSERT_EQ(r.size(), 6u);
  EXPECT_EQ(r.GetInt(0), 42);
  EXPECT_EQ(r.GetString(0), "42");
  EXPECT_EQ(r.GetDouble(0), 42.0);
  EXPECT_EQ(r.GetInt(1), 17);
  EXPECT_EQ(r.GetDouble(1), 17.0);
  EXPECT_EQ(r.GetString(1), "17");
  EXPECT_EQ(r.GetDouble(2), 2.5);  // MySQL reports a DECIMAL (text), SQLite a REAL
  EXPECT_EQ(r.GetString(2), "2.5");
  EXPECT_EQ(r.GetInt(2), 2);
  EXPECT_TRUE(r.IsNull(3));
  EXPECT_EQ(r.GetInt(3), 0);
  EXPECT_EQ(r.GetString(3), "");
  EXPECT_EQ(r.GetInt(4), 0);  // not a number
  EXPECT_EQ(r.GetInt(5), -3);

  // The conversions themselves, independent of any driver.
  const Row made({int64_t{-7}, 1e20, std::string("12.9"), kNull, 0.1 + 0.2});
  EXPECT_EQ(made.GetDouble(0), -7.0);
  EXPECT_EQ(made.GetInt(1), std::numeric_limits<int64_t>::max());  // saturates
  EXPECT_EQ(made.GetInt(2), 12);
  EXPECT_EQ(made.GetDouble(2), 12.9);
  EXPECT_EQ(made.GetString(4), "0.30000000000000004");  // round-trippable
  EXPECT_THROW(made.at(5), std::out_of_range);
}

TEST_P(StorageConformanceTest, ExecReportsAffectedRows) {
  ASSERT_OK(CreateTable("CREATE TABLE kv (k TEXT PRIMARY KEY, v INTEGER)",
                        "CREATE TABLE kv (k VARCHAR(64) PRIMARY KEY, v BIGINT)"));
  ASSERT_OK(db_->RunInTransaction([&](Transaction& tx) -> absl::Status {
    for (const char* k : {"a", "b", "c"}) {
      ASSIGN_OR_RETURN(int64_t n, tx.Exec("INSERT INTO kv (k, v) VALUES (?, 1)", {std::string(k)}));
      EXPECT_EQ(n, 1);
    }
    ASSIGN_OR_RETURN(int64_t updated, tx.Exec("UPDATE kv SET v = 5 WHERE k IN ('a', 'b')"));
    EXPECT_EQ(updated, 2);
    // Matched rows, not changed rows (MySQL: CLIENT_FOUND_ROWS), so "did my UPDATE find the
    // row?" checks work the same on both backends.
    ASSIGN_OR_RETURN(int64_t unchanged,
                     tx.Exec("UPDATE kv SET v = ? WHERE k IN ('a', 'b')", {int64_t{5}}));
    EXPECT_EQ(unchanged, 2);
    ASSIGN_OR_RETURN(int64_t missing,
                     tx.Exec("UPDATE kv SET v = 1 WHERE k = ?", {std::string("zz")}));
    EXPECT_EQ(missing, 0);
    ASSIGN_OR_RETURN(int64_t deleted, tx.Exec("DELETE FROM kv WHERE k = ?", {std::string("c")}));
    EXPECT_EQ(deleted, 1);
    ASSIGN_OR_RETURN(int64_t selected, tx.Exec("SELECT * FROM kv"));
    EXPECT_EQ(selected, 0);  // a query changes nothing (and must not report a stale count)
    ASSIGN_OR_RETURN(int64_t selected_p, tx.Exec("SELECT * FROM kv WHERE v = ?", {int64_t{5}}));
    EXPECT_EQ(selected_p, 0);
    return absl::OkStatus();
  }));
  ASSERT_OK_AND_ASSIGN(int64_t left, QueryInt("SELECT SUM(v) FROM kv"));
  EXPECT_EQ(left, 10);
}

TEST_P(StorageConformanceTest, ReusedStatementsSurviveErrorsAndSchemaChanges) {
  // The MySQL backend keeps prepared statements per connection; the same text must keep working
  // after a failed execution, after a query that was only counted, and after the table changed.
  OpenOptions one;
  one.pool_size = 1;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Database> db, OpenAnother(one));
  ASSERT_OK(CreateTable("CREATE TABLE kv (k TEXT PRIMARY KEY, v INTEGER)",
                        "CREATE TABLE kv (k VARCHAR(64) PRIMARY KEY, v BIGINT)"));
  auto insert = [&](const std::string& k) {
    return db->RunInTransaction([&](Transaction& tx) {
      return tx.Exec("INSERT INTO kv (k, v) VALUES (?, ?)", {k, int64_t{1}}).status();
    });
  };
  auto count = [&](int64_t* n) {
    return db->RunInTransaction([&](Transaction& tx) -> absl::Status {
      RETURN_IF_ERROR(tx.Exec("SELECT k FROM kv WHERE v = ?", {int64_t{1}}).status());
      ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT COUNT(*) FROM kv WHERE v = ?", {int64_t{1}}));
      *n = rows[0].GetInt(0);
      return absl::OkStatus();
    });
  };
  for (int round = 0; round < 3; ++round) {
    ASSERT_OK(insert(absl::StrCat("k", round)));
    EXPECT_EQ(insert(absl::StrCat("k", round)).code(), absl::StatusCode::kAlreadyExists);
    int64_t n = 0;
    ASSERT_OK(count(&n));
    EXPECT_EQ(n, round + 1);
  }
  ASSERT_OK(db_->ExecRaw(is_mysql() ? "ALTER TABLE kv ADD COLUMN note VARCHAR(16)"
                                    : "ALTER TABLE kv ADD COLUMN note TEXT"));
  ASSERT_OK(insert("after-alter"));
  int64_t n = 0;
  ASSERT_OK(count(&n));
  EXPECT_EQ(n, 4);
}

TEST_P(StorageConformanceTest, LastInsertId) {
  ASSERT_OK(
      CreateTable("CREATE TABLE items (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL)",
                  "CREATE TABLE items (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, name "
                  "VARCHAR(64) NOT NULL)"));
  int64_t first = 0, second = 0;
  ASSERT_OK(db_->RunInTransaction([&](Transaction& tx) -> absl::Status {
    RETURN_IF_ERROR(tx.Exec("INSERT INTO items (name) VALUES (?)", {std::string("a")}).status());
    ASSIGN_OR_RETURN(first, tx.LastInsertId());
    RETURN_IF_ERROR(tx.Exec("INSERT INTO items (name) VALUES ('b')").status());
    ASSIGN_OR_RETURN(second, tx.LastInsertId());
    return absl::OkStatus();
  }));
  EXPECT_GT(first, 0);
  EXPECT_EQ(second, first + 1);
  ASSERT_OK_AND_ASSIGN(int64_t id_b, QueryInt("SELECT id FROM items WHERE name = 'b'"));
  EXPECT_EQ(id_b, second);
  int64_t third = 0;
  ASSERT_OK(db_->RunInTransaction([&](Transaction& tx) -> absl::Status {
    RETURN_IF_ERROR(tx.Exec("INSERT INTO items (name) VALUES ('c')").status());
    ASSIGN_OR_RETURN(third, tx.LastInsertId());
    return absl::OkStatus();
  }));
  EXPECT_EQ(third, second + 1);
}

// ---------------------------------------------------------------------------------------------
// Errors and transactions

TEST_P(StorageConformanceTest, UniqueViolationIsAlreadyExistsAndWritesNothing) {
  ASSERT_OK(CreateTable("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE)",
                        "CREATE TABLE users (id BIGINT PRIMARY KEY, email VARCHAR(128) NOT NULL, "
                        "UNIQUE KEY (email))"));
  ASSERT_OK(Exec("INSERT INTO users (id, email) VALUES (1, 'a@x')"));

  for (const auto& [label, duplicate] : std::vector<std::pair<std::string, std::vector<Value>>>{
           {"unique key", {int64_t{3}, std::string("a@x")}},
           {"primary key", {int64_t{1}, std::string("c@x")}}}) {
    int attempts = 0;
    absl::Status status = db_->RunInTransaction([&](Transaction& tx) -> absl::Status {
      ++attempts;
      RETURN_IF_ERROR(tx.Exec("INSERT INTO users (id, email) VALUES (2, 'b@x')").status());
      return tx.Exec("INSERT INTO users (id, email) VALUES (?, ?)", duplicate).status();
    });
    EXPECT_EQ(status.code(), absl::StatusCode::kAlreadyExists) << label << ": " << status;
    EXPECT_EQ(attempts, 1) << label << ": ALREADY_EXISTS must not be retried";
    ASSERT_OK_AND_ASSIGN(int64_t count, QueryInt("SELECT COUNT(*) FROM users"));
    EXPECT_EQ(count, 1) << label << ": the row inserted before the violation was rolled back";
  }

  // The violation undoes only its statement: a body that expects it and carries on commits the
  // rest (insert-if-absent pattern), on both backends.
  ASSERT_OK(db_->RunInTransaction([&](Transaction& tx) -> absl::Status {
    RETURN_IF_ERROR(tx.Exec("INSERT INTO users (id, email) VALUES (4, 'd@x')").status());
    absl::Status dup = tx.Exec("INSERT INTO users (id, email) VALUES (5, 'a@x')").status();
    if (!absl::IsAlreadyExists(dup)) return absl::InternalError("expected ALREADY_EXISTS");
    return tx.Exec("INSERT INTO users (id, email) VALUES (6, 'e@x')").status();
  }));
  ASSERT_OK_AND_ASSIGN(std::vector<Row> ids, Query("SELECT id FROM users ORDER BY id"));
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(ids[0].GetInt(0), 1);
  EXPECT_EQ(ids[1].GetInt(0), 4);
  EXPECT_EQ(ids[2].GetInt(0), 6);
}

TEST_P(StorageConformanceTest, BodyErrorRollsBackAndIsReturnedUnchanged) {
  ASSERT_OK(CreateCounter());
  const absl::Status expected = absl::NotFoundError("no such region: 上海市黄浦区");
  int attempts = 0;
  absl::Status status = db_->RunInTransaction([&](Transaction& tx) -> absl::Status {
    ++attempts;
    RETURN_IF_ERROR(tx.Exec("UPDATE counters SET n = 99 WHERE id = 1").status());
    RETURN_IF_ERROR(tx.Exec("INSERT INTO counters (id, n) VALUES (2, 2)").status());
    return expected;
  });
  EXPECT_EQ(status, expected);
  EXPECT_EQ(attempts, 1);
  ASSERT_OK_AND_ASSIGN(std::vector<Row> rows, Query("SELECT id, n FROM counters"));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].GetInt(1), 0);

  // A driver error (bad SQL) inside the body is INTERNAL on both backends, is not retried, and
  // does not end the transaction: the body may handle it and continue.
  attempts = 0;
  status = db_->RunInTransaction([&](Transaction& tx) -> absl::Status {
    ++attempts;
    absl::Status bad = tx.Exec("UPDATE no_such_table SET x = 1").status();
    EXPECT_EQ(bad.code(), absl::StatusCode::kInternal) << bad;
    return tx.Exec("UPDATE counters SET n = 7 WHERE id = 1").status();
  });
  EXPECT_OK(status);
  EXPECT_EQ(attempts, 1);
  ASSERT_OK_AND_ASSIGN(int64_t n, QueryInt("SELECT n FROM counters WHERE id = 1"));
  EXPECT_EQ(n, 7);
}

TEST_P(StorageConformanceTest, ParameterCountMismatchIsInvalidArgument) {
  ASSERT_OK(CreateCounter());
  ASSERT_OK(db_->RunInTransaction([&](Transaction& tx) -> absl::Status {
    EXPECT_EQ(tx.Exec("INSERT INTO counters (id, n) VALUES (?, ?)", {int64_t{5}}).status().code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(tx.Query("SELECT n FROM counters WHERE id = ?").status().code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(tx.Query("SELECT n FROM counters", {int64_t{1}}).status().code(),
              absl::StatusCode::kInvalidArgument);
    return absl::OkStatus();
  }));
  ASSERT_OK_AND_ASSIGN(int64_t count, QueryInt("SELECT COUNT(*) FROM counters"));
  EXPECT_EQ(count, 1);
}

TEST_P(StorageConformanceTest, AbortedIsRetriedByRerunningTheBody) {
  ASSERT_OK(CreateTable("CREATE TABLE runs (attempt INTEGER NOT NULL)",
                        "CREATE TABLE runs (attempt BIGINT NOT NULL)"));
  // Fails twice with ABORTED after writing, then succeeds: only the last run's write survives.
  int attempts = 0;
  ASSERT_OK(db_->RunInTransaction([&](Transaction& tx) -> absl::Status {
    ++attempts;
    RETURN_IF_ERROR(tx.Exec("INSERT INTO runs (attempt) VALUES (?)", {int64_t{attempts}}).status());
    if (attempts < 3) return absl::AbortedError("simulated conflict");
    return absl::OkStatus();
  }));
  EXPECT_EQ(attempts, 3);
  ASSERT_OK_AND_ASSIGN(std::vector<Row> rows, Query("SELECT attempt FROM runs"));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].GetInt(0), 3);

  // max_attempts bounds the runs; the last ABORTED is returned.
  attempts = 0;
  TransactionOptions four;
  four.max_attempts = 4;
  absl::Status status = db_->RunInTransaction(
      [&](Transaction& tx) -> absl::Status {
        ++attempts;
        RETURN_IF_ERROR(tx.Exec("INSERT INTO runs (attempt) VALUES (100)").status());
        return absl::AbortedError(absl::StrCat("conflict #", attempts));
      },
      four);
  EXPECT_EQ(status, absl::AbortedError("conflict #4"));
  EXPECT_EQ(attempts, 4);

  // UNAVAILABLE before commit is retried too; other errors are not.
  attempts = 0;
  EXPECT_OK(db_->RunInTransaction([&](Transaction&) -> absl::Status {
    return ++attempts == 1 ? absl::UnavailableError("simulated connection loss") : absl::OkStatus();
  }));
  EXPECT_EQ(attempts, 2);
  attempts = 0;
  EXPECT_EQ(db_->RunInTransaction([&](Transaction&) -> absl::Status {
                 ++attempts;
                 return absl::InternalError("bug");
               })
                .code(),
            absl::StatusCode::kInternal);
  EXPECT_EQ(attempts, 1);
  attempts = 0;
  TransactionOptions once;
  once.max_attempts = 1;
  EXPECT_EQ(db_->RunInTransaction(
                   [&](Transaction&) -> absl::Status {
                     ++attempts;
                     return absl::AbortedError("no retry wanted");
                   },
                   once)
                .code(),
            absl::StatusCode::kAborted);
  EXPECT_EQ(attempts, 1);

  ASSERT_OK_AND_ASSIGN(int64_t count, QueryInt("SELECT COUNT(*) FROM runs"));
  EXPECT_EQ(count, 1);
}

// MySQL: the server kills the transaction's connection mid-body; the next statement fails with
// UNAVAILABLE, the body returns it, and RunInTransaction reruns the body on a new connection.
// SQLite has no connection to lose, so the body reports UNAVAILABLE itself.
TEST_P(StorageConformanceTest, ConnectionLostInsideBodyIsRetriedOnFreshConnection) {
  ASSERT_OK(CreateTable("CREATE TABLE log (id INTEGER PRIMARY KEY, attempt INTEGER NOT NULL)",
                        "CREATE TABLE log (id BIGINT PRIMARY KEY, attempt BIGINT NOT NULL)"));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Database> admin, OpenAnother());
  int attempts = 0;
  std::vector<int64_t> connection_ids;
  absl::Status lost;
  ASSERT_OK(db_->RunInTransaction([&](Transaction& tx) -> absl::Status {
    ++attempts;
    RETURN_IF_ERROR(tx.Exec("INSERT INTO log (id, attempt) VALUES (?, ?)",
                            {int64_t{attempts}, int64_t{attempts}})
                        .status());
    if (is_mysql()) {
      ASSIGN_OR_RETURN(int64_t id, ConnectionId(tx));
      connection_ids.push_back(id);
      if (attempts == 1) RETURN_IF_ERROR(KillConnection(*admin, id));
    } else if (attempts == 1) {
      return absl::UnavailableError("simulated connection loss");
    }
    absl::Status second = tx.Exec("INSERT INTO log (id, attempt) VALUES (?, ?)",
                                  {int64_t{100 + attempts}, int64_t{attempts}})
                              .status();
    if (attempts == 1) lost = second;
    return second;
  }));
  EXPECT_EQ(attempts, 2);
  if (is_mysql()) {
    EXPECT_EQ(lost.code(), absl::StatusCode::kUnavailable) << lost;
    ASSERT_EQ(connection_ids.size(), 2u);
    EXPECT_NE(connection_ids[0], connection_ids[1]);
  }
  ASSERT_OK_AND_ASSIGN(std::vector<Row> rows, Query("SELECT id, attempt FROM log ORDER BY id"));
  ASSERT_EQ(rows.size(), 2u);  // only the second run's two rows
  EXPECT_EQ(rows[0].GetInt(0), 2);
  EXPECT_EQ(rows[1].GetInt(0), 102);
}

// A failure while committing is returned as is and never retried (the body could otherwise be
// applied twice). MySQL: the connection dies right before COMMIT -> UNAVAILABLE. SQLite: COMMIT
// itself fails on a deferred foreign key -> INTERNAL. Either way nothing is written and the next
// transaction works.
TEST_P(StorageConformanceTest, FailureDuringCommitIsNotRetried) {
  ASSERT_OK(CreateTable("CREATE TABLE parent (id INTEGER PRIMARY KEY)",
                        "CREATE TABLE parent (id BIGINT PRIMARY KEY)"));
  ASSERT_OK(
      CreateTable("CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER "
                  "REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)",
                  "CREATE TABLE child (id BIGINT PRIMARY KEY, parent_id BIGINT)"));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Database> admin, OpenAnother());
  int attempts = 0;
  absl::Status status = db_->RunInTransaction([&](Transaction& tx) -> absl::Status {
    ++attempts;
    RETURN_IF_ERROR(tx.Exec("INSERT INTO child (id, parent_id) VALUES (1, 42)").status());
    if (is_mysql()) {
      ASSIGN_OR_RETURN(int64_t id, ConnectionId(tx));
      RETURN_IF_ERROR(KillConnection(*admin, id));
    }
    return absl::OkStatus();
  });
  EXPECT_EQ(attempts, 1);
  EXPECT_EQ(status.code(),
            is_mysql() ? absl::StatusCode::kUnavailable : absl::StatusCode::kInternal)
      << status;
  if (is_mysql()) {
    EXPECT_NE(status.message().find("COMMIT"), absl::string_view::npos) << status;
  }
  ASSERT_OK_AND_ASSIGN(int64_t count, QueryInt("SELECT COUNT(*) FROM child"));
  EXPECT_EQ(count, 0);
  ASSERT_OK(Exec("INSERT INTO parent (id) VALUES (42)"));
  ASSERT_OK(Exec("INSERT INTO child (id, parent_id) VALUES (1, 42)"));
}

// With a single pooled connection, the connection is reused after every kind of failure.
// MySQL additionally has it killed while idle in the pool: checkout notices (isValid) and
// replaces it.
TEST_P(StorageConformanceTest, SingleConnectionPoolRecoversAfterFailures) {
  ASSERT_OK(CreateCounter());
  OpenOptions one;
  one.pool_size = 1;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Database> db, OpenAnother(one));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Database> admin, OpenAnother());

  EXPECT_EQ(db->RunInTransaction([](Transaction& tx) -> absl::Status {
                RETURN_IF_ERROR(tx.Exec("UPDATE counters SET n = n + 1").status());
                return absl::CancelledError("changed my mind");
              }).code(),
            absl::StatusCode::kCancelled);
  EXPECT_EQ(Exec(*db, "INSERT INTO counters (id, n) VALUES (1, 5)").code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(Exec(*db, "THIS IS NOT SQL").code(), absl::StatusCode::kInternal);

  int64_t first_id = 0;
  if (is_mysql()) {
    ASSERT_OK(db->RunInTransaction([&](Transaction& tx) -> absl::Status {
      ASSIGN_OR_RETURN(first_id, ConnectionId(tx));
      return absl::OkStatus();
    }));
    ASSERT_OK(KillConnection(*admin, first_id));
  }
  int64_t second_id = 0;
  TransactionOptions once;  // the replacement must work on the first attempt
  once.max_attempts = 1;
  ASSERT_OK(db->RunInTransaction(
      [&](Transaction& tx) -> absl::Status {
        if (is_mysql()) {
          ASSIGN_OR_RETURN(second_id, ConnectionId(tx));
        }
        return tx.Exec("UPDATE counters SET n = n + 1 WHERE id = 1").status();
      },
      once));
  if (is_mysql()) {
    EXPECT_NE(first_id, second_id);
  }
  ASSERT_OK_AND_ASSIGN(int64_t n, QueryInt(*db, "SELECT n FROM counters WHERE id = 1"));
  EXPECT_EQ(n, 1);
  EXPECT_OK(db->ExecRaw("UPDATE counters SET n = n + 1 WHERE id = 1"));
  ASSERT_OK_AND_ASSIGN(n, QueryInt(*db, "SELECT n FROM counters WHERE id = 1"));
  EXPECT_EQ(n, 2);
}

TEST_P(StorageConformanceTest, ReadOnlyTransactionsReadAndRefuseWrites) {
  ASSERT_OK(CreateCounter());
  TransactionOptions read_only;
  read_only.read_only = true;
  int64_t seen = -1;
  ASSERT_OK(db_->RunInTransaction(
      [&](Transaction& tx) -> absl::Status {
        ASSIGN_OR_RETURN(std::vector<Row> rows, tx.Query("SELECT n FROM counters WHERE id = 1"));
        seen = rows.at(0).GetInt(0);
        return absl::OkStatus();
      },
      read_only));
  EXPECT_EQ(seen, 0);
  int attempts = 0;
  absl::Status status = db_->RunInTransaction(
      [&](Transaction& tx) -> absl::Status {
        ++attempts;
        return tx.Exec("UPDATE counters SET n = 1 WHERE id = 1").status();
      },
      read_only);
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal) << status;
  EXPECT_EQ(attempts, 1);
  ASSERT_OK_AND_ASSIGN(int64_t n, QueryInt("SELECT n FROM counters WHERE id = 1"));
  EXPECT_EQ(n, 0);
  // The connection is writable again for ordinary transactions.
  ASSERT_OK(Exec("UPDATE counters SET n = 2 WHERE id = 1"));
}

// ---------------------------------------------------------------------------------------------
// Concurrency

constexpr int kThreads = 8;
constexpr int kIncrementsPerThread = 50;

TEST_P(StorageConformanceTest, ConcurrentAtomicIncrementsAreExact) {
  ASSERT_OK(CreateCounter());
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kIncrementsPerThread; ++i) {
        absl::Status s = db_->RunInTransaction([](Transaction& tx) -> absl::Status {
          ASSIGN_OR_RETURN(int64_t n, tx.Exec("UPDATE counters SET n = n + 1 WHERE id = 1"));
          return n == 1 ? absl::OkStatus() : absl::InternalError("counter row not matched");
        });
        if (!s.ok()) {
          ++failures;
          ADD_FAILURE() << s;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  ASSERT_OK_AND_ASSIGN(int64_t n, QueryInt("SELECT n FROM counters WHERE id = 1"));
  EXPECT_EQ(n, kThreads * kIncrementsPerThread);
}

// Read, compute in C++, write back: correct only if concurrent transactions cannot interleave
// between the read and the write (SQLite: BEGIN IMMEDIATE; MySQL: SELECT ... FOR UPDATE), with
// conflicts retried.
TEST_P(StorageConformanceTest, ConcurrentReadModifyWriteIsExact) {
  ASSERT_OK(CreateCounter());
  const std::string select =
      std::string("SELECT n FROM counters WHERE id = ?") + (is_mysql() ? " FOR UPDATE" : "");
  std::atomic<int> failures{0};
  std::atomic<int> attempts{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kIncrementsPerThread; ++i) {
        absl::Status s = db_->RunInTransaction([&](Transaction& tx) -> absl::Status {
          ++attempts;
          ASSIGN_OR_RETURN(std::vector<Row> rows, tx.Query(select, {int64_t{1}}));
          if (rows.size() != 1) return absl::InternalError("counter row missing");
          const int64_t next = rows[0].GetInt(0) + 1;
          return tx.Exec("UPDATE counters SET n = ? WHERE id = ?", {next, int64_t{1}}).status();
        });
        if (!s.ok()) {
          ++failures;
          ADD_FAILURE() << s;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GE(attempts.load(), kThreads * kIncrementsPerThread);
  ASSERT_OK_AND_ASSIGN(int64_t n, QueryInt("SELECT n FROM counters WHERE id = 1"));
  EXPECT_EQ(n, kThreads * kIncrementsPerThread);
}

// Two transactions update rows a and b in opposite order. On MySQL both hold their first row
// when they ask for the second: InnoDB picks a deadlock victim (1213 -> ABORTED) and
// RunInTransaction reruns it. On SQLite writers are serialised and never deadlock. Both must
// end with both updates applied exactly once.
TEST_P(StorageConformanceTest, DeadlockVictimIsRetried) {
  ASSERT_OK(CreateCounter());
  ASSERT_OK(Exec("INSERT INTO counters (id, n) VALUES (2, 0)"));
  Barrier both_hold_first_row(2);
  std::atomic<int> attempts{0};
  absl::Status results[2];
  auto run = [&](int index, int64_t first, int64_t second) {
    bool first_attempt = true;
    results[index] = db_->RunInTransaction([&](Transaction& tx) -> absl::Status {
      ++attempts;
      RETURN_IF_ERROR(tx.Exec("UPDATE counters SET n = n + 1 WHERE id = ?", {first}).status());
      if (first_attempt) {
        first_attempt = false;
        both_hold_first_row.ArriveAndWait(absl::Seconds(2));
      }
      return tx.Exec("UPDATE counters SET n = n + 1 WHERE id = ?", {second}).status();
    });
  };
  std::thread a(run, 0, 1, 2);
  std::thread b(run, 1, 2, 1);
  a.join();
  b.join();
  EXPECT_OK(results[0]);
  EXPECT_OK(results[1]);
  if (is_mysql()) {
    EXPECT_GE(attempts.load(), 3) << "expected a deadlock victim to be rerun";
  }
  ASSERT_OK_AND_ASSIGN(std::vector<Row> rows, Query("SELECT n FROM counters ORDER BY id"));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].GetInt(0), 2);
  EXPECT_EQ(rows[1].GetInt(0), 2);
}

// A writer blocked by another Database's open write transaction gives up with ABORTED after a
// bounded wait (SQLite: busy_timeout -> SQLITE_BUSY; MySQL: innodb_lock_wait_timeout -> 1205),
// and succeeds once the lock is released.
TEST_P(StorageConformanceTest, LockConflictIsAbortedAfterBoundedWait) {
  ASSERT_OK(CreateCounter());
  OpenOptions impatient;
  impatient.busy_timeout = absl::Milliseconds(200);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Database> other, OpenAnother(impatient));

  Notification locked, release;
  absl::Status holder_status;
  std::thread holder([&] {
    holder_status = db_->RunInTransaction([&](Transaction& tx) -> absl::Status {
      RETURN_IF_ERROR(tx.Exec("UPDATE counters SET n = n + 1 WHERE id = 1").status());
      locked.Notify();
      release.WaitFor(absl::Seconds(30));
      return absl::OkStatus();
    });
  });
  ASSERT_TRUE(locked.WaitFor(absl::Seconds(10)));

  auto contend = [&](Transaction& tx) -> absl::Status {
    if (is_mysql()) RETURN_IF_ERROR(tx.Exec("SET SESSION innodb_lock_wait_timeout = 1").status());
    return tx.Exec("UPDATE counters SET n = n + 10 WHERE id = 1").status();
  };
  TransactionOptions once;
  once.max_attempts = 1;
  const absl::Time start = absl::Now();
  absl::Status status = other->RunInTransaction(contend, once);
  const absl::Duration waited = absl::Now() - start;
  EXPECT_EQ(status.code(), absl::StatusCode::kAborted) << status;
  EXPECT_LT(waited, absl::Seconds(5));

  release.Notify();
  holder.join();
  EXPECT_OK(holder_status);
  EXPECT_OK(other->RunInTransaction(contend));
  ASSERT_OK_AND_ASSIGN(int64_t n, QueryInt("SELECT n FROM counters WHERE id = 1"));
  EXPECT_EQ(n, 11);
}

// All pooled connections busy: a transaction waits busy_timeout for one, then UNAVAILABLE.
TEST_P(StorageConformanceTest, ExhaustedPoolIsUnavailableAfterBusyTimeout) {
  ASSERT_OK(CreateCounter());
  OpenOptions small;
  small.pool_size = 1;
  small.busy_timeout = absl::Milliseconds(300);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Database> db, OpenAnother(small));
  TransactionOptions read_only;
  read_only.read_only = true;

  Notification holding, release;
  std::thread holder([&] {
    EXPECT_OK(db->RunInTransaction(
        [&](Transaction& tx) -> absl::Status {
          RETURN_IF_ERROR(tx.Query("SELECT n FROM counters").status());
          holding.Notify();
          release.WaitFor(absl::Seconds(30));
          return absl::OkStatus();
        },
        read_only));
  });
  ASSERT_TRUE(holding.WaitFor(absl::Seconds(10)));
  TransactionOptions once = read_only;
  once.max_attempts = 1;
  const absl::Time start = absl::Now();
  absl::Status status = db->RunInTransaction(
      [](Transaction& tx) { return tx.Query("SELECT n FROM counters").status(); }, once);
  const absl::Duration waited = absl::Now() - start;
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_GE(waited, absl::Milliseconds(250));
  EXPECT_LT(waited, absl::Seconds(5));
  release.Notify();
  holder.join();
  EXPECT_OK(Exec(*db, "UPDATE counters SET n = 1"));
}

// ---------------------------------------------------------------------------------------------
// Migrations

std::vector<Migration> NotesMigrations(int up_to) {
  std::vector<Migration> all = {
      {1, "create notes",
       "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);\n"
       "CREATE INDEX notes_body ON notes (body);\n",
       "CREATE TABLE notes (id BIGINT PRIMARY KEY, body VARCHAR(255) NOT NULL) "
       "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;\n"
       "CREATE INDEX notes_body ON notes (body)"},
      {2, "seed", "INSERT INTO notes (id, body) VALUES (1, 'seed')", ""},
      {3, "second note", "INSERT INTO notes (id, body) VALUES (2, '第二')", ""},
  };
  all.resize(up_to);
  return all;
}

TEST_P(StorageConformanceTest, MigrationsAreAppliedOnceAndRecorded) {
  const int64_t before = absl::ToUnixMicros(absl::Now());
  ASSERT_OK(ApplyMigrations(*db_, "notes", NotesMigrations(2)));
  const int64_t after = absl::ToUnixMicros(absl::Now());

  ASSERT_OK_AND_ASSIGN(
      std::vector<Row> recorded,
      Query("SELECT version, name, applied_at FROM schema_migrations WHERE schema_name = ? "
            "ORDER BY version",
            {std::string("notes")}));
  ASSERT_EQ(recorded.size(), 2u);
  EXPECT_EQ(recorded[0].GetInt(0), 1);
  EXPECT_EQ(recorded[0].GetString(1), "create notes");
  EXPECT_EQ(recorded[1].GetInt(0), 2);
  EXPECT_EQ(recorded[1].GetString(1), "seed");
  for (const Row& r : recorded) {
    EXPECT_GE(r.GetInt(2), before);
    EXPECT_LE(r.GetInt(2), after);
  }
  ASSERT_OK_AND_ASSIGN(int64_t notes, QueryInt("SELECT COUNT(*) FROM notes"));
  EXPECT_EQ(notes, 1);

  // Re-applying is a no-op: no statement runs again (the seed INSERT would fail or duplicate).
  ASSERT_OK(ApplyMigrations(*db_, "notes", NotesMigrations(2)));
  ASSERT_OK_AND_ASSIGN(std::vector<Row> again,
                       Query("SELECT version, applied_at FROM schema_migrations "
                             "WHERE schema_name = 'notes' ORDER BY version"));
  ASSERT_EQ(again.size(), 2u);
  EXPECT_EQ(again[0].GetInt(1), recorded[0].GetInt(2));
  EXPECT_EQ(again[1].GetInt(1), recorded[1].GetInt(2));

  // A new version applies only itself.
  ASSERT_OK(ApplyMigrations(*db_, "notes", NotesMigrations(3)));
  ASSERT_OK_AND_ASSIGN(notes, QueryInt("SELECT COUNT(*) FROM notes"));
  EXPECT_EQ(notes, 2);
  ASSERT_OK_AND_ASSIGN(std::vector<Row> second, Query("SELECT body FROM notes WHERE id = 2"));
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].GetString(0), "第二");

  // Schemas are independent: another service's version 1 is not "already applied".
  ASSERT_OK(ApplyMigrations(*db_, "tags",
                            {{1, "create tags", "CREATE TABLE tags (name TEXT PRIMARY KEY)",
                              "CREATE TABLE tags (name VARCHAR(64) PRIMARY KEY) ENGINE=InnoDB"}}));
  ASSERT_OK_AND_ASSIGN(int64_t versions, QueryInt("SELECT COUNT(*) FROM schema_migrations"));
  EXPECT_EQ(versions, 4);
  ASSERT_OK(Exec("INSERT INTO tags (name) VALUES ('x')"));

  // Invalid input is rejected before touching the database.
  EXPECT_EQ(ApplyMigrations(*db_, "", NotesMigrations(1)).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      ApplyMigrations(*db_, "dup", {{1, "a", "SELECT 1", ""}, {1, "b", "SELECT 1", ""}}).code(),
      absl::StatusCode::kInvalidArgument);
}

TEST_P(StorageConformanceTest, DatabaseNewerThanCodeIsFailedPrecondition) {
  ASSERT_OK(ApplyMigrations(*db_, "notes", NotesMigrations(3)));
  absl::Status status = ApplyMigrations(*db_, "notes", NotesMigrations(2));
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_NE(status.message().find("version 3"), absl::string_view::npos) << status;
  ASSERT_OK_AND_ASSIGN(int64_t notes, QueryInt("SELECT COUNT(*) FROM notes"));
  EXPECT_EQ(notes, 2);
}

TEST_P(StorageConformanceTest, FailedMigrationKeepsEarlierOnesAndResumes) {
  std::vector<Migration> migrations = NotesMigrations(1);
  migrations.push_back({2, "broken", "INSERT INTO no_such_table VALUES (1)", ""});
  absl::Status status = ApplyMigrations(*db_, "notes", migrations);
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal) << status;
  EXPECT_NE(status.message().find("notes v2 (broken)"), absl::string_view::npos) << status;
  ASSERT_OK_AND_ASSIGN(std::vector<Row> versions,
                       Query("SELECT version FROM schema_migrations WHERE schema_name = 'notes'"));
  ASSERT_EQ(versions.size(), 1u);
  EXPECT_EQ(versions[0].GetInt(0), 1);

  ASSERT_OK(ApplyMigrations(*db_, "notes", NotesMigrations(2)));  // the fixed version 2
  ASSERT_OK_AND_ASSIGN(int64_t count, QueryInt("SELECT COUNT(*) FROM schema_migrations"));
  EXPECT_EQ(count, 2);
}

// Several processes starting at once (here: Database objects x threads): every call succeeds
// and each migration runs exactly once (version 1 has no IF NOT EXISTS; version 2 appends a
// row).
TEST_P(StorageConformanceTest, ConcurrentMigrationsApplyExactlyOnce) {
  const std::vector<Migration> migrations = {
      {1, "create log",
       "CREATE TABLE applied_log (id INTEGER PRIMARY KEY AUTOINCREMENT, note TEXT NOT NULL)",
       "CREATE TABLE applied_log (id BIGINT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(64) NOT NULL) "
       "ENGINE=InnoDB"},
      {2, "append", "INSERT INTO applied_log (note) VALUES ('v2')", ""},
      {3, "append again", "INSERT INTO applied_log (note) VALUES ('v3')", ""},
  };
  constexpr int kDatabases = 4;
  constexpr int kThreadsPerDatabase = 2;
  std::vector<std::unique_ptr<Database>> dbs;
  for (int i = 0; i < kDatabases; ++i) {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Database> db, OpenAnother());
    dbs.push_back(std::move(db));
  }
  Barrier start(kDatabases * kThreadsPerDatabase);
  std::vector<absl::Status> results(kDatabases * kThreadsPerDatabase);
  std::vector<std::thread> threads;
  for (int i = 0; i < kDatabases * kThreadsPerDatabase; ++i) {
    threads.emplace_back([&, i] {
      start.ArriveAndWait(absl::Seconds(10));
      results[i] = ApplyMigrations(*dbs[i % kDatabases], "race", migrations);
    });
  }
  for (std::thread& t : threads) t.join();
  for (const absl::Status& s : results) EXPECT_OK(s);
  ASSERT_OK_AND_ASSIGN(std::vector<Row> log, Query("SELECT note FROM applied_log ORDER BY id"));
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0].GetString(0), "v2");
  EXPECT_EQ(log[1].GetString(0), "v3");
  ASSERT_OK_AND_ASSIGN(
      int64_t recorded,
      QueryInt("SELECT COUNT(*) FROM schema_migrations WHERE schema_name = 'race'"));
  EXPECT_EQ(recorded, 3);
}

// ---------------------------------------------------------------------------------------------
// URLs and connection settings

TEST_P(StorageConformanceTest, MalformedUrlsAreInvalidArgument) {
  struct Case {
    std::string url;
    std::string mentions;  // what the message must name
  };
  const std::vector<Case> cases = {
      {"", "empty URL"},
      {"no-scheme-here", "missing scheme"},
      {"s3cr3t@db:3306/x", "missing scheme"},
      {"postgres://u:s3cr3t@h:5432/db", "unknown scheme 'postgres'"},
      {"sqlite:", "empty path"},
      {"sqlite://var/db.sqlite", "without '//'"},
      {"sqlite::memory:", "in-memory"},
      {"mysql:/u:s3cr3t@h:3306/db", "not a mysql:// URL"},
      {"mysql://h:3306/db", "USER@"},
      {"mysql://:s3cr3t@h:3306/db", "empty user"},
      {"mysql://u:s3cr3t@:3306/db", "empty host"},
      {"mysql://u:s3cr3t@h:port/db", "port 'port'"},
      {"mysql://u:s3cr3t@h:0/db", "port '0'"},
      {"mysql://u:s3cr3t@h:70000/db", "port '70000'"},
      {"mysql://u:s3cr3t@h:/db", "port ''"},
      {"mysql://u:s3cr3t@h:3306", "missing '/DB'"},
      {"mysql://u:s3cr3t@h:3306/", "empty database name"},
      {"mysql://u:s3cr3t@h:3306/bad-name", "database name 'bad-name'"},
      {"mysql://u:s3cr3t@h:3306/db`;DROP", "database name"},
      {"mysql://u:s3cr3t@h:3306/db?ssl=1", "query parameters"},
      {"mysql://u:s3cr3t%zz@h:3306/db", "percent-escape in password"},
      {"mysql://u:s3cr3t@::1:3306/db", "IPv6"},
      {"mysql://u:s3cr3t@[::1:3306/db", "unterminated '['"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<std::unique_ptr<Database>> db = OpenDatabase(c.url);
    ASSERT_FALSE(db.ok()) << c.url;
    EXPECT_EQ(db.status().code(), absl::StatusCode::kInvalidArgument)
        << c.url << ": " << db.status();
    EXPECT_NE(db.status().message().find(c.mentions), absl::string_view::npos)
        << c.url << ": " << db.status();
    EXPECT_EQ(db.status().message().find("s3cr3t"), absl::string_view::npos)
        << "password leaked: " << db.status();
  }
  OpenOptions bad;
  bad.pool_size = 0;
  EXPECT_EQ(OpenDatabase(url_, bad).status().code(), absl::StatusCode::kInvalidArgument);
  bad = OpenOptions();
  bad.connect_timeout = absl::ZeroDuration();
  EXPECT_EQ(OpenDatabase(url_, bad).status().code(), absl::StatusCode::kInvalidArgument);
}

// MySQL: nothing listens on the port -> UNAVAILABLE well within connect_timeout. SQLite: the
// file cannot be created (its parent is a regular file) -> UNAVAILABLE.
TEST_P(StorageConformanceTest, UnreachableDatabaseIsUnavailable) {
  OpenOptions options;
  options.connect_timeout = absl::Seconds(2);
  std::string url;
  if (is_mysql()) {
    url = absl::StrCat("mysql://linli:linli@127.0.0.1:", ClosedPort(), "/linli_unreachable");
  } else {
    const std::string file = dir_ + "/plain-file";
    std::ofstream(file) << "not a directory";
    url = "sqlite:" + file + "/sub/test.db";
  }
  const absl::Time start = absl::Now();
  absl::StatusOr<std::unique_ptr<Database>> db = OpenDatabase(url, options);
  const absl::Duration took = absl::Now() - start;
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), absl::StatusCode::kUnavailable) << db.status();
  EXPECT_LT(took, options.connect_timeout + absl::Seconds(1));
}

TEST_P(StorageConformanceTest, RedactUrlHidesPassword) {
  EXPECT_EQ(RedactUrl("mysql://linli:s3cr3t@db.internal:3306/registry"),
            "mysql://linli:****@db.internal:3306/registry");
  EXPECT_EQ(RedactUrl("mysql://linli:p@ss/w0rd@h:1/db"), "mysql://linli:****@h:1/db");
  EXPECT_EQ(RedactUrl("mysql://linli:p%40ss@h/db"), "mysql://linli:****@h/db");
  EXPECT_EQ(RedactUrl("mysql://linli@h:3306/db"), "mysql://linli@h:3306/db");
  EXPECT_EQ(RedactUrl("sqlite:var/registry.db"), "sqlite:var/registry.db");
  EXPECT_EQ(RedactUrl("sqlite:/data/a:b@c.db"), "sqlite:/data/a:b@c.db");
  // Malformed URLs (they end up in INVALID_ARGUMENT messages) are redacted too.
  for (const char* malformed : {"mysql:/u:s3cr3t@h:3306/db", "linli:s3cr3t@h:3306/db",
                                "s3cr3t@h:3306/db", "mysql://u:s3cr3t@h:3306/db?x=@"}) {
    EXPECT_EQ(RedactUrl(malformed).find("s3cr3t"), std::string::npos) << RedactUrl(malformed);
  }
  EXPECT_EQ(RedactUrl(url_).find("linli:linli@"), std::string::npos) << RedactUrl(url_);

  if (is_mysql()) {
    // A rejected login names the user and host, never the password.
    std::string wrong = url_;
    const size_t colon = wrong.find(':', std::string("mysql://").size());
    const size_t at = wrong.rfind('@');
    ASSERT_NE(colon, std::string::npos);
    ASSERT_NE(at, std::string::npos);
    wrong = wrong.substr(0, colon + 1) + "Wr0ngPassw0rd" + wrong.substr(at);
    absl::StatusOr<std::unique_ptr<Database>> db = OpenDatabase(wrong);
    ASSERT_FALSE(db.ok());
    EXPECT_EQ(db.status().message().find("Wr0ngPassw0rd"), absl::string_view::npos) << db.status();
  }
}

TEST_P(StorageConformanceTest, ConnectionSettings) {
  if (is_mysql()) {
    ASSERT_OK_AND_ASSIGN(std::vector<Row> rows,
                         Query("SELECT @@character_set_connection, @@character_set_results, "
                               "@@character_set_client, @@autocommit"));
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].GetString(0), "utf8mb4");
    EXPECT_EQ(rows[0].GetString(1), "utf8mb4");
    EXPECT_EQ(rows[0].GetString(2), "utf8mb4");
    ASSERT_OK_AND_ASSIGN(std::vector<Row> isolation, Query("SELECT @@tx_isolation"));
    ASSERT_EQ(isolation.size(), 1u);
    EXPECT_EQ(isolation[0].GetString(0), "READ-COMMITTED");
    ASSERT_OK_AND_ASSIGN(std::vector<Row> charset,
                         Query("SELECT DEFAULT_CHARACTER_SET_NAME FROM information_schema.SCHEMATA "
                               "WHERE SCHEMA_NAME = DATABASE()"));
    ASSERT_EQ(charset.size(), 1u);
    EXPECT_EQ(charset[0].GetString(0), "utf8mb4");
  } else {
    EXPECT_TRUE(std::filesystem::exists(dir_ + "/nested/dirs/test.db"));
    ASSERT_OK_AND_ASSIGN(std::vector<Row> mode, Query("PRAGMA journal_mode"));
    ASSERT_EQ(mode.size(), 1u);
    EXPECT_EQ(mode[0].GetString(0), "wal");
    ASSERT_OK_AND_ASSIGN(int64_t synchronous, QueryInt("PRAGMA synchronous"));
    EXPECT_EQ(synchronous, 2);  // FULL
    ASSERT_OK_AND_ASSIGN(int64_t busy, QueryInt("PRAGMA busy_timeout"));
    EXPECT_EQ(busy, 5000);
  }
  // Foreign keys are enforced on both (SQLite needs PRAGMA foreign_keys=ON per connection).
  ASSERT_OK(CreateTable("CREATE TABLE owners (id INTEGER PRIMARY KEY)",
                        "CREATE TABLE owners (id BIGINT PRIMARY KEY)"));
  ASSERT_OK(CreateTable(
      "CREATE TABLE pets (id INTEGER PRIMARY KEY, owner_id INTEGER NOT NULL REFERENCES owners(id))",
      "CREATE TABLE pets (id BIGINT PRIMARY KEY, owner_id BIGINT NOT NULL, "
      "FOREIGN KEY (owner_id) REFERENCES owners(id))"));
  absl::Status orphan = Exec("INSERT INTO pets (id, owner_id) VALUES (1, 7)");
  EXPECT_EQ(orphan.code(), absl::StatusCode::kInternal) << orphan;
  ASSERT_OK_AND_ASSIGN(int64_t pets, QueryInt("SELECT COUNT(*) FROM pets"));
  EXPECT_EQ(pets, 0);
}

INSTANTIATE_TEST_SUITE_P(Backends, StorageConformanceTest, ::testing::Values("sqlite", "mysql"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace linli::storage
