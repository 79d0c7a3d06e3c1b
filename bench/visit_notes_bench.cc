// The price of keeping visit notes private, one run, printed figures (not a pass/fail test).
//
//   build/bin/visit_notes_bench [--legacy_notes 5000] [--reads 1000] [--notes_per_visit 5]
//
// On SQLite and (with LINLI_TEST_MYSQL_URL, as `make bench` sets it) MariaDB, against the real
// service over loopback gRPC:
//   sealing at start-up  SealPlainVisitNotes over --legacy_notes notes written in plain text the
//                        way the version before sealing did: notes sealed per second;
//   reads                ListVisitNotes of a visit with --notes_per_visit notes (decrypting
//                        each, one audit row written in the same transaction) vs GetVisit of the
//                        same visit (a read-only transaction): p50 and p99 of sequential calls,
//                        the two taken in turns of 50 so that load from elsewhere falls on both.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/client.h"
#include "common/clock.h"
#include "common/flags.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/server.h"
#include "common/status_macros.h"
#include "services/scheduling/scheduling_service.h"
#include "services/scheduling/scheduling_store.h"
#include "services/scheduling/scheduling_util.h"
#include "services/scheduling/visit_notes.h"
#include "tests/support/test_env.h"

ABSL_FLAG(int, legacy_notes, 5000, "Plain-text notes sealed by SealPlainVisitNotes.");
ABSL_FLAG(int, reads, 1000, "Sequential calls of each read workload.");
ABSL_FLAG(int, notes_per_visit, 5, "Notes on the visit ListVisitNotes reads.");

namespace linli::scheduling {
namespace {

struct Figures {
  double sealed_per_s = 0;
  absl::Duration notes_p50, notes_p99, visit_p50, visit_p99;
};

absl::Duration Percentile(std::vector<absl::Duration> samples, double p) {
  std::sort(samples.begin(), samples.end());
  return samples[std::min(samples.size() - 1, static_cast<size_t>(p * samples.size()))];
}

absl::StatusOr<Figures> Measure(const std::string& backend) {
  const int legacy = absl::GetFlag(FLAGS_legacy_notes);
  const int reads = absl::GetFlag(FLAGS_reads);
  ASSIGN_OR_RETURN(std::string url, testing::FreshDatabaseUrl(backend, "notes_bench"));
  ASSIGN_OR_RETURN(auto db, storage::OpenDatabase(url));
  RETURN_IF_ERROR(storage::ApplyMigrations(*db, "scheduling", SchedulingMigrations()));
  ASSIGN_OR_RETURN(pii::FieldCipher cipher,
                   pii::FieldCipher::FromSpec(pii::FieldCipher::GenerateKeySpec("k1")));

  // One visit the bench worker is booked on; the legacy notes hang on other visit ids.
  const absl::Time now = absl::Now();
  VisitRow row;
  row.id = NewId(Clock::Real());
  row.commitment_id = "bench";
  row.window_start_us = absl::ToUnixMicros(now);
  row.visit.set_name("visits/" + row.id);
  row.visit.set_commitment("commitments/bench");
  row.visit.set_elder("elders/bench");
  row.visit.set_service_type("serviceTypes/visiting");
  row.visit.set_occurrence("2026-12-01T09:00:00");
  *row.visit.mutable_window_start() = ToTimestamp(now);
  *row.visit.mutable_window_end() = ToTimestamp(now + absl::Hours(2));
  row.visit.set_duration_minutes(60);
  row.visit.set_workers_required(1);
  row.visit.set_state(v1::VISIT_STATE_SCHEDULED);
  row.visit.add_assignments()->set_worker("workers/bench");
  RETURN_IF_ERROR(
      db->RunInTransaction([&](storage::Transaction& tx) { return InsertVisit(tx, row); }));
  const std::string text = "血压偏高 150/95，已告知女儿；下次带血压计复测，提醒按时服药。";
  for (int done = 0; done < legacy;) {
    const int end = std::min(legacy, done + 500);
    RETURN_IF_ERROR(db->RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
      for (int i = done; i < end; ++i) {
        RETURN_IF_ERROR(tx.Exec("INSERT INTO visit_notes (id, visit_id, author, create_time_us, "
                                "body) VALUES (?, ?, 'workers/bench', ?, ?)",
                                {absl::StrFormat("legacy%08d", i), absl::StrCat("old", i / 4),
                                 absl::ToUnixMicros(now), text})
                            .status());
      }
      return absl::OkStatus();
    }));
    done = end;
  }
  Figures f;
  const absl::Time seal_start = absl::Now();
  ASSIGN_OR_RETURN(int sealed, SealPlainVisitNotes(*db, cipher));
  f.sealed_per_s = sealed / absl::ToDoubleSeconds(absl::Now() - seal_start);
  if (sealed != legacy) return absl::InternalError(absl::StrCat("sealed ", sealed, " of ", legacy));

  SchedulingServiceImpl service(
      *db, Clock::Real(), cipher,
      registry::v1::RegistryService::NewStub(NewChannel("127.0.0.1:1", {})));  // never called
  ServerOptions options;
  options.service_name = "scheduling";
  options.listen_address = "127.0.0.1:0";
  ASSIGN_OR_RETURN(auto server, GrpcServer::Start(options, {&service}));
  auto stub =
      v1::SchedulingService::NewStub(NewChannel(absl::StrCat("127.0.0.1:", server->port()), {}));
  for (int i = 0; i < absl::GetFlag(FLAGS_notes_per_visit); ++i) {
    v1::AddVisitNoteRequest add;
    add.set_visit(row.visit.name());
    add.set_author("workers/bench");
    add.set_text(text);
    v1::AddVisitNoteResponse added;
    grpc::ClientContext context;
    grpc::Status s = stub->AddVisitNote(&context, add, &added);
    if (!s.ok()) return absl::InternalError(s.error_message());
  }
  std::vector<absl::Duration> notes, visit;
  auto timed = [](const std::function<grpc::Status()>& call, std::vector<absl::Duration>& out) {
    const absl::Time start = absl::Now();
    grpc::Status s = call();
    out.push_back(absl::Now() - start);
    return s;
  };
  while (static_cast<int>(notes.size()) < reads) {
    for (int i = 0; i < 50; ++i) {
      grpc::Status s = timed(
          [&] {
            v1::ListVisitNotesRequest q;
            q.set_visit(row.visit.name());
            q.set_reason("bench");
            v1::ListVisitNotesResponse r;
            grpc::ClientContext context;
            context.AddMetadata(kActorKey, "worker:workers/bench");
            return stub->ListVisitNotes(&context, q, &r);
          },
          notes);
      if (!s.ok()) return absl::InternalError(s.error_message());
    }
    for (int i = 0; i < 50; ++i) {
      grpc::Status s = timed(
          [&] {
            v1::GetVisitRequest q;
            q.set_name(row.visit.name());
            v1::GetVisitResponse r;
            grpc::ClientContext context;
            return stub->GetVisit(&context, q, &r);
          },
          visit);
      if (!s.ok()) return absl::InternalError(s.error_message());
    }
  }
  server->Shutdown();
  f.notes_p50 = Percentile(notes, 0.5);
  f.notes_p99 = Percentile(notes, 0.99);
  f.visit_p50 = Percentile(visit, 0.5);
  f.visit_p99 = Percentile(visit, 0.99);
  return f;
}

int Main() {
  SetLogService("bench");
  std::vector<std::string> backends = {"sqlite"};
  if (std::getenv("LINLI_TEST_MYSQL_URL") != nullptr) backends.push_back("mysql");
  std::printf("\nvisit notes: %d plain-text notes sealed; %d reads of %d notes vs GetVisit\n",
              absl::GetFlag(FLAGS_legacy_notes), absl::GetFlag(FLAGS_reads),
              absl::GetFlag(FLAGS_notes_per_visit));
  std::printf("%-8s %14s %22s %22s %8s\n", "backend", "sealed/s", "ListVisitNotes p50/p99",
              "GetVisit p50/p99", "p50 x");
  int status = 0;
  // Machine-readable lines for the table at the end of `make bench` (scripts/bench.sh).
  std::vector<std::string> summary;
  for (const std::string& backend : backends) {
    absl::StatusOr<Figures> f = Measure(backend);
    if (!f.ok()) {
      std::printf("%-8s failed: %s\n", backend.c_str(), f.status().ToString().c_str());
      status = 1;
      continue;
    }
    std::printf("%-8s %14.0f %10.3f/%7.3f ms %10.3f/%7.3f ms %7.2fx\n", backend.c_str(),
                f->sealed_per_s, absl::ToDoubleMilliseconds(f->notes_p50),
                absl::ToDoubleMilliseconds(f->notes_p99), absl::ToDoubleMilliseconds(f->visit_p50),
                absl::ToDoubleMilliseconds(f->visit_p99),
                absl::FDivDuration(f->notes_p50, f->visit_p50));
    summary.push_back(
        absl::StrFormat("SUMMARY notes.sealed_per_s.%s %.0f - info", backend, f->sealed_per_s));
    summary.push_back(absl::StrFormat("SUMMARY notes.list_vs_get_visit_p50.%s %.2fx - info",
                                      backend, absl::FDivDuration(f->notes_p50, f->visit_p50)));
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
  linli::ParseFlags(argc, argv, "visit_notes_bench: sealing and audited reads of visit notes");
  return linli::scheduling::Main();
}
