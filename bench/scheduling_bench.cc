// Scheduling's write path against the raw insert rate of the same database, in the same run.
//
//   build/bin/scheduling_bench [--visits 3000] [--threads 4] [--rounds 9]
//
// For SQLite, and for MariaDB when LINLI_TEST_MYSQL_URL is set (`make bench` starts one):
//   raw       one INSERT of a visit-sized row per transaction (the database's own write rate),
//             from the same number of threads, into a table of the same shape as the visits'
//             (a key and a blob), with the same durability settings
//   persist   check-in then check-out of every visit through the service's own persistence
//             (SchedulingServiceImpl::CheckIn/CheckOut: validation, rules, one transaction that
//             reads the visit, updates it and appends its outbox event) — the target's measure
//   rpc       the same through CheckInVisit/CheckOutVisit over gRPC on loopback (adds the RPC
//             stack, the request log line, and client and server on the same 2 cores)
// Raw and persist take turns in `rounds` rounds (each writes 2 * visits / rounds rows; which one
// goes first alternates), after one raw round that is not counted (SQLite's first fsyncs, while
// the WAL file grows, are slower than later ones), so that load from other programs on the
// shared machine falls on both alike. It prints writes/s of each (all rounds together), the
// median of the rounds' persist/raw ratios (target: >= 0.5x on MariaDB, >= 1x on SQLite, whose
// writers queue anyway so that a shared transaction must pay for itself) with the lowest and
// highest, the rpc rate against raw, and how many check-ins/outs the persist transactions carried
// on average (per-commit: the group commit's batch); on MariaDB also the statements the server
// executed per row written by each (from its Questions counter: START TRANSACTION and COMMIT
// included), a figure the machine's load does not move.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/client.h"
#include "common/clock.h"
#include "common/errors.h"
#include "common/flags.h"
#include "common/grpc_status.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/server.h"
#include "common/status_macros.h"
#include "services/scheduling/scheduling_service.h"
#include "services/scheduling/scheduling_store.h"
#include "services/scheduling/scheduling_util.h"
#include "tests/support/test_env.h"

ABSL_FLAG(int, visits, 3000, "Visits checked in and out per backend.");
ABSL_FLAG(int, threads, 4, "Concurrent callers.");
ABSL_FLAG(int, rounds, 9, "Rounds in which raw inserts and check-ins/outs take turns.");
ABSL_FLAG(int, parallel_commits, 0,
          "Check-in/out transactions running at once (0: the service's default).");

ABSL_FLAG(int, gather_us, -1,
          "Microseconds a check-in/out transaction waits for others to join it while another "
          "one runs (-1: the service's default).");

namespace linli::scheduling {
namespace {

// Runs `op(i)` for i in [0, n) on `threads` threads; returns the elapsed time and counts failures.
absl::Duration RunParallel(int n, int threads, const std::function<absl::Status(int)>& op,
                           int64_t* failures) {
  std::atomic<int> next{0};
  std::atomic<int64_t> failed{0};
  const absl::Time start = absl::Now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      for (int i = next.fetch_add(1); i < n; i = next.fetch_add(1)) {
        if (absl::Status s = op(i); !s.ok()) {
          if (failed.fetch_add(1) == 0)
            std::fprintf(stderr, "first failure: %s\n", s.ToString().c_str());
        }
      }
    });
  }
  for (std::thread& w : workers) w.join();
  *failures = failed.load();
  return absl::Now() - start;
}

// Statements the MariaDB server has executed so far (its Questions counter; the bench is its
// only client). -1 on SQLite.
int64_t ServerStatements(storage::Database& db) {
  if (db.dialect() != storage::Dialect::kMysql) return -1;
  int64_t questions = -1;
  const absl::Status status = db.RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(auto rows, tx.Query("SHOW GLOBAL STATUS LIKE 'Questions'"));
    if (!rows.empty()) questions = std::strtoll(rows[0].GetString(1).c_str(), nullptr, 10);
    return absl::OkStatus();
  });
  return status.ok() ? questions : -1;
}

struct Figures {
  double raw_per_s = 0;
  double persist_per_s = 0;
  double ratio = 0;  // median of the rounds' persist/raw ratios
  double min_ratio = 0;
  double max_ratio = 0;
  double rpc_per_s = 0;
  double persist_per_commit = 0;  // check-ins/outs per transaction in the persist run
  // MariaDB only: statements the server executed per row written (START and COMMIT included).
  double raw_statements = 0;
  double persist_statements = 0;
  int64_t failures = 0;
};

absl::StatusOr<Figures> Measure(const std::string& backend, int n, int threads, int rounds) {
  ASSIGN_OR_RETURN(std::string url, testing::FreshDatabaseUrl(backend, "scheduling_bench"));
  storage::OpenOptions open;
  open.pool_size = threads + 2;
  ASSIGN_OR_RETURN(auto db, storage::OpenDatabase(url, open));
  RETURN_IF_ERROR(storage::ApplyMigrations(*db, "scheduling", SchedulingMigrations()));
  RETURN_IF_ERROR(db->ExecRaw(
      backend == "mysql"
          ? "CREATE TABLE bench_raw (id VARCHAR(32) NOT NULL PRIMARY KEY, data LONGBLOB NOT NULL) "
            "ENGINE=InnoDB"
          : "CREATE TABLE bench_raw (id TEXT PRIMARY KEY, data BLOB NOT NULL)"));

  // 2n visits of one commitment, windows opening now (check-in needs no registry call): the
  // first n for the persist run, the others for the rpc run.
  const absl::Time now = absl::Now();
  std::vector<std::string> names(2 * n);
  std::string sample;
  for (int done = 0; done < 2 * n;) {
    const int batch_end = std::min(2 * n, done + 500);
    RETURN_IF_ERROR(db->RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
      for (int i = done; i < batch_end; ++i) {
        VisitRow row;
        row.id = NewId(Clock::Real());
        row.commitment_id = "bench";
        row.window_start_us = absl::ToUnixMicros(now);
        row.visit.set_name("visits/" + row.id);
        row.visit.set_commitment("commitments/bench");
        row.visit.set_elder("elders/bench");
        row.visit.set_service_type("serviceTypes/visiting");
        row.visit.set_occurrence(absl::StrFormat("2026-12-01T09:%05d", i));
        *row.visit.mutable_window_start() = ToTimestamp(now);
        *row.visit.mutable_window_end() = ToTimestamp(now + absl::Hours(2));
        row.visit.set_duration_minutes(60);
        row.visit.set_workers_required(1);
        row.visit.set_state(v1::VISIT_STATE_SCHEDULED);
        RETURN_IF_ERROR(InsertVisit(tx, row));
        names[i] = row.visit.name();
        if (sample.empty()) sample = row.visit.SerializeAsString();
      }
      return absl::OkStatus();
    }));
    done = batch_end;
    std::fprintf(stderr, "\r%s: seeding visits %d/%d", backend.c_str(), done, 2 * n);
  }
  std::fprintf(stderr, "\n");

  Figures f;
  int64_t failures = 0;
  // A visit after check-out is about twice the seeded size; the raw rows use that size.
  const std::string payload = sample + sample;
  int raw_rows = 0;
  // Inserts `count` raw rows; returns the time taken.
  auto measure_raw = [&](int count) {
    const int base = raw_rows;
    raw_rows += count;
    const absl::Duration raw = RunParallel(
        count, threads,
        [&](int i) {
          return db->RunInTransaction([&](storage::Transaction& tx) {
            return tx
                .Exec("INSERT INTO bench_raw (id, data) VALUES (?, ?)",
                      {absl::StrCat("raw", base + i), payload})
                .status();
          });
        },
        &failures);
    f.failures += failures;
    return raw;
  };

  SchedulingOptions service_options;
  service_options.parallel_visit_commits = absl::GetFlag(FLAGS_parallel_commits);
  const pii::FieldCipher note_cipher = *pii::FieldCipher::FromSpec(
      pii::FieldCipher::GenerateKeySpec("k1"));  // seals visit notes (none written here)
  service_options.visit_commit_gather = absl::Microseconds(absl::GetFlag(FLAGS_gather_us));
  SchedulingServiceImpl service(
      *db, Clock::Real(), note_cipher,
      registry::v1::RegistryService::NewStub(NewChannel("127.0.0.1:1", {})),  // never called
      service_options);
  ServerOptions options;
  options.service_name = "scheduling";
  options.listen_address = "127.0.0.1:0";
  ASSIGN_OR_RETURN(auto server, GrpcServer::Start(options, {&service}));
  auto stub =
      v1::SchedulingService::NewStub(NewChannel(absl::StrCat("127.0.0.1:", server->port()), {}));
  auto check_in = [&](int i) {
    v1::CheckInVisitRequest in;
    in.set_name(names[i]);
    in.set_worker("workers/bench");
    in.set_method(v1::CHECK_METHOD_APP_GPS);
    in.mutable_location()->set_latitude(31.2);
    in.mutable_location()->set_longitude(121.48);
    return in;
  };
  auto check_out = [&](int i) {
    v1::CheckOutVisitRequest out;
    out.set_name(names[i]);
    out.set_worker("workers/bench");
    out.set_method(v1::CHECK_METHOD_APP_GPS);
    out.mutable_location()->set_latitude(31.2);
    out.mutable_location()->set_longitude(121.48);
    return out;
  };
  // Visits [first, first + count) checked in and out; returns the time taken.
  auto measure_persist = [&](int first, int count) {
    const absl::Duration persist = RunParallel(
        count, threads,
        [&](int i) -> absl::Status {
          v1::Visit visit;
          RETURN_IF_ERROR(service.CheckIn(check_in(first + i), &visit));
          return service.CheckOut(check_out(first + i), &visit);
        },
        &failures);
    f.failures += failures;
    return persist;
  };
  measure_raw(2 * std::max(1, n / rounds));  // not counted
  // The statements of one ServerStatements call itself, subtracted from each phase's count.
  const int64_t probe_start = ServerStatements(*db);
  const int64_t probe = ServerStatements(*db) - probe_start;
  int64_t raw_statements = 0, persist_statements = 0;
  // Runs `phase` and adds the statements it made the server execute to *total.
  auto counted = [&](int64_t* total, const std::function<absl::Duration()>& phase) {
    const int64_t before = ServerStatements(*db);
    const absl::Duration took = phase();
    *total += ServerStatements(*db) - before - probe;
    return took;
  };
  absl::Duration raw_total, persist_total;
  int raw_count = 0, persist_count = 0;
  std::vector<double> ratios;
  for (int round = 0; round < rounds; ++round) {
    const int first = n * round / rounds;
    const int count = n * (round + 1) / rounds - first;
    if (count == 0) continue;
    absl::Duration raw, persist;
    auto raw_phase = [&] { return measure_raw(2 * count); };
    auto persist_phase = [&] { return measure_persist(first, count); };
    if (round % 2 == 0) {
      raw = counted(&raw_statements, raw_phase);
      persist = counted(&persist_statements, persist_phase);
    } else {
      persist = counted(&persist_statements, persist_phase);
      raw = counted(&raw_statements, raw_phase);
    }
    raw_total += raw;
    persist_total += persist;
    raw_count += 2 * count;
    persist_count += 2 * count;
    ratios.push_back(absl::FDivDuration(raw, persist));  // same writes: time ratio = rate ratio
  }
  if (probe_start >= 0) {
    f.raw_statements = static_cast<double>(raw_statements) / raw_count;
    f.persist_statements = static_cast<double>(persist_statements) / persist_count;
  }
  f.raw_per_s = raw_count / absl::ToDoubleSeconds(raw_total);
  f.persist_per_s = persist_count / absl::ToDoubleSeconds(persist_total);
  std::sort(ratios.begin(), ratios.end());
  f.ratio = ratios.size() % 2 == 1
                ? ratios[ratios.size() / 2]
                : (ratios[ratios.size() / 2 - 1] + ratios[ratios.size() / 2]) / 2;
  f.min_ratio = ratios.front();
  f.max_ratio = ratios.back();
  const auto [commits, changes] = service.VisitCommitCounts();
  f.persist_per_commit = commits > 0 ? static_cast<double>(changes) / commits : 0;
  const absl::Duration rpc = RunParallel(
      n, threads,
      [&](int i) -> absl::Status {
        v1::CheckInVisitResponse in_response;
        grpc::ClientContext c1;
        grpc::Status s = stub->CheckInVisit(&c1, check_in(n + i), &in_response);
        if (!s.ok()) return FromGrpcStatus(s);
        v1::CheckOutVisitResponse out_response;
        grpc::ClientContext c2;
        return FromGrpcStatus(stub->CheckOutVisit(&c2, check_out(n + i), &out_response));
      },
      &failures);
  f.failures += failures;
  f.rpc_per_s = 2 * n / absl::ToDoubleSeconds(rpc);
  server->Shutdown();
  return f;
}

int Main() {
  SetLogService("bench");
  const int n = absl::GetFlag(FLAGS_visits);
  const int threads = absl::GetFlag(FLAGS_threads);
  const int rounds = std::max(1, absl::GetFlag(FLAGS_rounds));
  std::vector<std::string> backends = {"sqlite"};
  if (std::getenv("LINLI_TEST_MYSQL_URL") != nullptr) backends.push_back("mysql");
  std::printf("\nscheduling write path: %d visits checked in and out, %d callers, %d rounds\n", n,
              threads, rounds);
  std::printf("%-8s %13s %10s %7s %12s %8s %8s %10s %8s %s\n", "backend", "raw inserts/s",
              "persist/s", "ratio", "(rounds)", "rpc/s", "ratio", "per-commit", "failures",
              "target persist vs raw");
  int status = 0;
  // Machine-readable lines for the table at the end of `make bench` (scripts/bench.sh):
  // SUMMARY <name> <value> <target> <met|missed|info>.
  std::vector<std::string> summary;
  for (const std::string& backend : backends) {
    absl::StatusOr<Figures> f = Measure(backend, n, threads, rounds);
    if (!f.ok()) {
      std::printf("%-8s failed: %s\n", backend.c_str(), f.status().ToString().c_str());
      status = 1;
      continue;
    }
    const double ratio = f->ratio;
    const double target = backend == "sqlite" ? 1.0 : 0.5;
    const bool met = ratio >= target;
    std::printf("%-8s %13.0f %10.0f %6.2fx %12s %8.0f %7.2fx %10.2f %8lld %s\n", backend.c_str(),
                f->raw_per_s, f->persist_per_s, ratio,
                absl::StrFormat("%.2f-%.2f", f->min_ratio, f->max_ratio).c_str(), f->rpc_per_s,
                f->rpc_per_s / f->raw_per_s, f->persist_per_commit,
                static_cast<long long>(f->failures),
                absl::StrFormat(">= %.2fx %s", target, met ? "met" : "NOT met").c_str());
    if (f->raw_statements > 0) {
      std::printf(
          "%-8s statements per row written: raw %.2f, persist %.2f (check-in + check-out)\n",
          backend.c_str(), f->raw_statements, f->persist_statements);
    }
    summary.push_back(
        absl::StrFormat("SUMMARY scheduling.checkin_persist_vs_raw.%s %.2fx >=%.2fx %s", backend,
                        ratio, target, met ? "met" : "missed"));
    summary.push_back(absl::StrFormat("SUMMARY scheduling.checkin_rpc_vs_raw.%s %.2fx - info",
                                      backend, f->rpc_per_s / f->raw_per_s));
  }
  if (backends.size() == 1) {
    std::printf("(MariaDB skipped: LINLI_TEST_MYSQL_URL is not set; `make bench` starts one)\n");
  }
  for (const std::string& line : summary) std::printf("%s\n", line.c_str());
  return status;
}

}  // namespace
}  // namespace linli::scheduling

int main(int argc, char** argv) {
  linli::ParseFlags(argc, argv, "scheduling_bench: write path vs raw inserts");
  return linli::scheduling::Main();
}
