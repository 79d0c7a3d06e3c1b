// Feedback: perception-index read latency against history size, and event consumption rate.
//
//   build/bin/feedback_bench [--small 10000] [--large 1000000] [--reads 2000] [--events 60000]
//
// 1. Index reads. Two SQLite feedback databases in the same run, with the same density per
//    elder (one answer a day over the last --days days) but --small and --large feedback rows
//    in total (so 100 times more elders in the large one). Answers and their daily counters are
//    written day by day, as they would arrive, with the store functions the service uses. Then
//    GetPerceptionIndex (30-day window) of random elders and of the organisation, over loopback
//    gRPC to a real FeedbackService, alternating rounds between the two databases; prints p50 /
//    mean and large ÷ small.
// 2. Consumption. A real SchedulingService over a SQLite outbox holding --events visit events
//    (scheduled, checked in, completed for 4 visits of each commitment); feedback's
//    SchedulingConsumer polls ListEvents (pages of 1000) and applies them to a fresh SQLite
//    database. Prints events/s. The commitments' and elders' facts are stored beforehand, as
//    they are after the first sight of each commitment.
#include <algorithm>
#include <cstdio>
#include <random>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench/bench_stats.h"
#include "common/client.h"
#include "common/flags.h"
#include "common/log.h"
#include "common/server.h"
#include "common/status_macros.h"
#include "google/protobuf/util/time_util.h"
#include "services/feedback/consumer.h"
#include "services/feedback/feedback_service.h"
#include "services/feedback/feedback_store.h"
#include "services/scheduling/scheduling_service.h"
#include "services/scheduling/scheduling_store.h"
#include "tests/support/test_env.h"

ABSL_FLAG(int, small, 10000, "Feedback rows of the small history.");
ABSL_FLAG(int, large, 1000000, "Feedback rows of the large history.");
ABSL_FLAG(int, days, 40, "Days of answers per elder (one a day).");
ABSL_FLAG(int, reads, 2000, "Index reads per database per round (5 rounds).");
ABSL_FLAG(int, events, 60000, "Scheduling events to consume.");

namespace linli::feedback {
namespace {

using bench::Median;

using google::protobuf::util::TimeUtil;

constexpr char kOrg[] = "organisations/bench-provider";
constexpr char kCommittee[] = "regions/310101020001";
constexpr char kStreet[] = "regions/310101020";

void Die(const absl::Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
    std::exit(1);
  }
}

// A feedback database with `rows` answers: rows / days elders, each answering once a day on the
// `days` days up to `today`.
std::unique_ptr<storage::Database> BuildHistory(int rows, int days, int64_t today,
                                                const pii::FieldCipher& cipher,
                                                std::vector<std::string>* elders) {
  absl::StatusOr<std::string> url = testing::FreshDatabaseUrl("sqlite", "fb_bench_history");
  Die(url.status(), "url");
  auto db = storage::OpenDatabase(*url);
  Die(db.status(), "open");
  Die(storage::ApplyMigrations(**db, "feedback", FeedbackMigrations()), "migrate");
  const int n_elders = std::max(1, rows / days);
  std::mt19937 random(7);
  const absl::Time start = absl::Now();
  // Day by day, as answers arrive: one elder's days are not written next to each other.
  for (int d = days - 1; d >= 0; --d) {
    const int64_t day = today - d;
    Die((*db)->RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
      CounterBatch counters;
      for (int e = 0; e < n_elders; ++e) {
        const std::string elder = absl::StrFormat("elders/%032x", e);
        const std::string commitment = absl::StrFormat("commitments/%032x", e);
        const std::string visit = absl::StrFormat("%024x%08x", e, d);
        v1::Feedback f;
        f.set_visit("visits/" + visit);
        f.set_author(elder);
        f.set_channel(v1::FEEDBACK_CHANNEL_APP);
        f.set_faces(1 + static_cast<int>(random() % 5));
        f.set_did_as_promised(static_cast<v1::Answer>(1 + random() % 3));
        f.set_felt_cared_for(static_cast<v1::Answer>(1 + random() % 3));
        RETURN_IF_ERROR(InsertFeedback(tx, cipher, visit, visit, f, start));
        ProjectedVisit pv;
        pv.state = VisitState::kCompleted;
        pv.worker = "workers/w1";
        pv.late = random() % 10 == 0;
        Figures delta = VisitContribution(pv, "workers/w1");
        delta += AnswerContribution(f.faces(), f.did_as_promised(), f.felt_cared_for());
        counters.Add(SubjectKeys({commitment, elder, kOrg, kCommittee, kStreet}, "workers/w1"), day,
                     delta);
      }
      return counters.Flush(tx, storage::Dialect::kSqlite);
    }),
        "load");
  }
  if (elders != nullptr) {
    for (int e = 0; e < n_elders; ++e) elders->push_back(absl::StrFormat("elders/%032x", e));
  }
  std::printf("  loaded %d feedback rows (%d elders × %d days) in %.1f s\n", n_elders * days,
              n_elders, days, absl::ToDoubleSeconds(absl::Now() - start));
  return std::move(*db);
}

struct Server {
  std::unique_ptr<FeedbackServiceImpl> service;
  std::unique_ptr<GrpcServer> server;
  std::unique_ptr<v1::FeedbackService::Stub> stub;
};

Server Serve(storage::Database& db, const Clock& clock, const pii::FieldCipher& cipher) {
  Server s;
  s.service = std::make_unique<FeedbackServiceImpl>(
      db, clock, cipher, registry::v1::RegistryService::NewStub(NewChannel("127.0.0.1:1", {})));
  ServerOptions options;
  options.service_name = "feedback";
  options.listen_address = "127.0.0.1:0";
  auto server = GrpcServer::Start(options, {s.service.get()});
  Die(server.status(), "serve");
  s.server = std::move(*server);
  s.stub =
      v1::FeedbackService::NewStub(NewChannel(absl::StrCat("127.0.0.1:", s.server->port()), {}));
  return s;
}

// Latencies (µs) of `n` index reads of random elders (every 10th read: the organisation).
std::vector<double> Reads(Server& s, const std::vector<std::string>& elders, int n,
                          std::mt19937& random) {
  std::vector<double> us;
  us.reserve(n);
  for (int i = 0; i < n; ++i) {
    v1::GetPerceptionIndexRequest request;
    request.set_subject(i % 10 == 0 ? std::string(kOrg) : elders[random() % elders.size()]);
    request.set_window_days(30);
    v1::GetPerceptionIndexResponse response;
    grpc::ClientContext context;
    const absl::Time t0 = absl::Now();
    grpc::Status status = s.stub->GetPerceptionIndex(&context, request, &response);
    us.push_back(absl::ToDoubleMicroseconds(absl::Now() - t0));
    if (!status.ok() || !response.index().has_value()) {
      std::fprintf(stderr, "read failed: %s\n", status.error_message().c_str());
      std::exit(1);
    }
  }
  return us;
}

double Mean(const std::vector<double>& v) {
  double sum = 0;
  for (double x : v) sum += x;
  return v.empty() ? 0 : sum / static_cast<double>(v.size());
}

// Machine-readable lines for the table at the end of `make bench` (scripts/bench.sh), printed
// at the end of main: SUMMARY <name> <value> <target> <met|missed|info>.
std::vector<std::string>& Summary() {
  static std::vector<std::string> lines;
  return lines;
}

void IndexReads() {
  const absl::Time now = absl::Now();
  const FakeClock clock(now);
  const int64_t today = LocalDay(now);
  std::printf("Index read latency (GetPerceptionIndex, 30-day window, loopback gRPC, SQLite)\n");
  // Seals the answers, as the service does.
  const pii::FieldCipher cipher =
      *pii::FieldCipher::FromSpec(pii::FieldCipher::GenerateKeySpec("k1"));
  std::vector<std::string> small_elders, large_elders;
  auto small = BuildHistory(absl::GetFlag(FLAGS_small), absl::GetFlag(FLAGS_days), today, cipher,
                            &small_elders);
  auto large = BuildHistory(absl::GetFlag(FLAGS_large), absl::GetFlag(FLAGS_days), today, cipher,
                            &large_elders);
  Server small_server = Serve(*small, clock, cipher);
  Server large_server = Serve(*large, clock, cipher);
  std::mt19937 random(11);
  Reads(small_server, small_elders, 200, random);  // warm up both
  Reads(large_server, large_elders, 200, random);
  std::vector<double> a, b;
  for (int round = 0; round < 5; ++round) {
    auto x = Reads(small_server, small_elders, absl::GetFlag(FLAGS_reads), random);
    auto y = Reads(large_server, large_elders, absl::GetFlag(FLAGS_reads), random);
    a.insert(a.end(), x.begin(), x.end());
    b.insert(b.end(), y.begin(), y.end());
  }
  std::printf("  %8d rows: p50 %.0f µs, mean %.0f µs\n", absl::GetFlag(FLAGS_small), Median(a),
              Mean(a));
  std::printf("  %8d rows: p50 %.0f µs, mean %.0f µs\n", absl::GetFlag(FLAGS_large), Median(b),
              Mean(b));
  std::printf("  ratio large/small: p50 %.2f×, mean %.2f× (target ≤ 1.2×)\n", Median(b) / Median(a),
              Mean(b) / Mean(a));
  const double ratio = Median(b) / Median(a);
  Summary().push_back(
      absl::StrFormat("SUMMARY feedback.index_read_p50_%dk_vs_%dk_rows %.2fx <=1.20x %s",
                      absl::GetFlag(FLAGS_large) / 1000, absl::GetFlag(FLAGS_small) / 1000, ratio,
                      ratio <= 1.2 ? "met" : "missed"));
  small_server.server->Shutdown();
  large_server.server->Shutdown();
}

// Facts are never fetched in the measured run: they are stored beforehand.
class StoredFactsOnly : public FactsSource {
 public:
  absl::StatusOr<CommitmentFacts> Commitment(const std::string& id) override {
    return absl::InternalError("unexpected fetch of commitment " + id);
  }
  absl::StatusOr<ElderFacts> Elder(const std::string& elder) override {
    return absl::InternalError("unexpected fetch of elder " + elder);
  }
};

void Consumption() {
  std::printf("Event consumption (scheduling ListEvents over loopback gRPC -> SQLite)\n");
  const int n_events = absl::GetFlag(FLAGS_events);
  const int commitments = std::max(1, n_events / 12);  // 4 visits × 3 events each
  const absl::Time base = absl::Now() - absl::Hours(24 * 20);
  // Scheduling's outbox.
  absl::StatusOr<std::string> sched_url = testing::FreshDatabaseUrl("sqlite", "fb_bench_sched");
  Die(sched_url.status(), "url");
  auto sched_db = storage::OpenDatabase(*sched_url);
  Die(sched_db.status(), "open");
  Die(storage::ApplyMigrations(**sched_db, "scheduling", scheduling::SchedulingMigrations()),
      "migrate");
  // Feedback's database with the facts.
  absl::StatusOr<std::string> url = testing::FreshDatabaseUrl("sqlite", "fb_bench_consume");
  Die(url.status(), "url");
  auto db = storage::OpenDatabase(*url);
  Die(db.status(), "open");
  Die(storage::ApplyMigrations(**db, "feedback", FeedbackMigrations()), "migrate");
  Die((*db)->RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
    for (int c = 0; c < commitments; ++c) {
      const std::string elder = absl::StrFormat("elders/%032x", c);
      RETURN_IF_ERROR(
          InsertCommitmentFacts(tx, CommitmentFacts{absl::StrFormat("%032x", c), elder, kOrg,
                                                    "workers/w1", "serviceTypes/visiting"}));
      ElderFacts e;
      e.elder = elder;
      e.committee = kCommittee;
      e.street = kStreet;
      e.solitary = c % 7 == 0;
      RETURN_IF_ERROR(InsertElderFacts(tx, e));
    }
    return absl::OkStatus();
  }),
      "facts");
  int64_t written = 0;
  Die((*sched_db)->RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
    written = 0;
    for (int step = 0; step < 3; ++step) {
      for (int c = 0; c < commitments; ++c) {
        for (int v = 0; v < 4; ++v) {
          scheduling::v1::Visit visit;
          visit.set_name(absl::StrFormat("visits/%024x%08x", c, v));
          visit.set_commitment(absl::StrFormat("commitments/%032x", c));
          visit.set_elder(absl::StrFormat("elders/%032x", c));
          const absl::Time start = base + absl::Hours(24 * (v * 2 + c % 3));
          *visit.mutable_window_start() =
              TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(start));
          std::string type = "visit.scheduled";
          visit.set_state(scheduling::v1::VISIT_STATE_SCHEDULED);
          if (step >= 1) {
            visit.mutable_check_in()->set_worker(c % 4 == 0 ? "workers/w2" : "workers/w1");
            *visit.mutable_check_in()->mutable_time() = visit.window_start();
            visit.set_state(scheduling::v1::VISIT_STATE_IN_PROGRESS);
            type = "visit.checked_in";
          }
          if (step == 2) {
            visit.set_state(scheduling::v1::VISIT_STATE_COMPLETED);
            type = "visit.completed";
          }
          RETURN_IF_ERROR(scheduling::AppendVisitEvent(tx, type, visit, base));
          ++written;
        }
      }
    }
    return absl::OkStatus();
  }),
      "outbox");
  const pii::FieldCipher note_cipher = *pii::FieldCipher::FromSpec(
      pii::FieldCipher::GenerateKeySpec("k1"));  // seals visit notes (none written here)
  scheduling::SchedulingServiceImpl sched_service(
      **sched_db, Clock::Real(), note_cipher,
      registry::v1::RegistryService::NewStub(NewChannel("127.0.0.1:1", {})));
  ServerOptions options;
  options.service_name = "scheduling";
  options.listen_address = "127.0.0.1:0";
  auto sched_server = GrpcServer::Start(options, {&sched_service});
  Die(sched_server.status(), "serve");
  auto sched_stub = scheduling::v1::SchedulingService::NewStub(
      NewChannel(absl::StrCat("127.0.0.1:", (*sched_server)->port()), {}));
  StoredFactsOnly facts;
  EventApplier applier(**db, facts, Clock::Real());
  SchedulingConsumer consumer(**db, applier, sched_stub.get(), 1000);
  const absl::Time t0 = absl::Now();
  int64_t applied = 0;
  for (;;) {
    absl::StatusOr<int> n = consumer.PollOnce();
    Die(n.status(), "poll");
    if (*n == 0) break;
    applied += *n;
  }
  const double seconds = absl::ToDoubleSeconds(absl::Now() - t0);
  std::printf(
      "  %lld events (%d commitments × 4 visits × 3 events) in %.2f s: %.0f events/s "
      "(target ≥ 5000)\n",
      static_cast<long long>(applied), commitments, seconds,
      static_cast<double>(applied) / seconds);
  const double rate = static_cast<double>(applied) / seconds;
  Summary().push_back(absl::StrFormat("SUMMARY feedback.event_consumption %.0f/s >=5000/s %s", rate,
                                      rate >= 5000 ? "met" : "missed"));
  (*sched_server)->Shutdown();
}

}  // namespace
}  // namespace linli::feedback

int main(int argc, char** argv) {
  linli::ParseFlags(argc, argv,
                    "feedback_bench: index read latency vs history size, event consumption. "
                    "Flags: --small --large --days --reads --events");
  linli::SetLogService("feedback_bench");
  linli::feedback::Consumption();
  linli::feedback::IndexReads();
  for (const std::string& line : linli::feedback::Summary()) std::printf("%s\n", line.c_str());
  return 0;
}
