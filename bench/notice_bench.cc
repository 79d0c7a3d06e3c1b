// Notices: a district-size burst of late visits told to the elders' webhook, and what an open
// app's stream adds.
//
//   build/bin/notice_bench [--visits 10000] [--wakeups 300]
//
// 1. Burst. A SQLite feedback database holds --visits booked visits whose window opened 20
//    minutes ago, none checked in (each of another elder of one street), and one webhook for the
//    elders of that street (the street's text-message provider) on a loopback HTTP receiver. One
//    notice sweep finds them all (RUNNING_LATE, with their deliveries, in one transaction); the
//    webhook sender then POSTs every notice, signed (one lane per elder; at most 4 lanes at once
//    to the one webhook, WebhookSenderOptions). Prints the sweep's time,
//    the delivery rate, and the delay from the start of the sweep to each notice's arrival at the
//    receiver (p50, p99, max). Target: the burst of one minute is delivered within that minute
//    (rate ≥ visits/60 s).
// 2. Stream. A reader waits in ListNotices (as WatchMyNotices does through the gateway) while one
//    notice at a time is raised and committed; prints the time from the commit to the reader's
//    return, p50 and p99. Target: p50 ≤ 1 ms.
#include <algorithm>
#include <cstdio>
#include <mutex>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench/bench_stats.h"
#include "common/flags.h"
#include "common/log.h"
#include "common/proto_time.h"
#include "common/status_macros.h"
#include "httplib.h"
#include "services/feedback/feedback_store.h"
#include "services/feedback/notice_use_cases.h"
#include "services/feedback/webhook_sender.h"
#include "tests/support/test_env.h"

ABSL_FLAG(int, visits, 10000, "Late visits in the burst.");
ABSL_FLAG(int, wakeups, 300, "Notices raised one at a time for the stream measurement.");
ABSL_FLAG(int, senders, 8, "Webhook lanes sent at once (WebhookSenderOptions.senders).");
ABSL_FLAG(int, per_webhook, 4, "Of them at most this many to one webhook.");

namespace linli::feedback {
namespace {

constexpr char kCommittee[] = "regions/310101020001";
constexpr char kStreet[] = "regions/310101020";
constexpr char kOrg[] = "organisations/bench-provider";

void Die(const absl::Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
    std::exit(1);
  }
}

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t at = std::min(values.size() - 1, static_cast<size_t>(p * values.size()));
  return values[at];
}

std::unique_ptr<storage::Database> FreshDatabase(const char* name) {
  absl::StatusOr<std::string> url = testing::FreshDatabaseUrl("sqlite", name);
  Die(url.status(), "database url");
  auto db = storage::OpenDatabase(*url);
  Die(db.status(), "open database");
  Die(storage::ApplyMigrations(**db, "feedback", FeedbackMigrations()), "migrations");
  return std::move(*db);
}

// Today at 10:00 in Shanghai: outside every elder's default quiet hours, whenever this runs.
absl::Time MorningToday() {
  const absl::TimeZone shanghai = absl::FixedTimeZone(8 * 3600);
  const absl::CivilDay today = absl::ToCivilDay(absl::Now(), shanghai);
  return absl::FromCivil(absl::CivilHour(today) + 10, shanghai);
}

std::vector<std::string>& Summary() {
  static std::vector<std::string> lines;
  return lines;
}

void Burst() {
  const int visits = absl::GetFlag(FLAGS_visits);
  const FakeClock clock(MorningToday());
  const absl::Time now = clock.Now();
  const pii::FieldCipher cipher =
      *pii::FieldCipher::FromSpec(pii::FieldCipher::GenerateKeySpec("k1"));
  auto db = FreshDatabase("notice_burst");
  Die(db->RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
    for (int i = 0; i < visits; ++i) {
      const std::string id = absl::StrCat("v", i);
      const std::string elder = absl::StrCat("elders/e", i);
      RETURN_IF_ERROR(InsertCommitmentFacts(
          tx, CommitmentFacts{absl::StrCat("c", i), elder, kOrg, "", "serviceTypes/meal"}));
      RETURN_IF_ERROR(InsertElderFacts(
          tx, ElderFacts{elder, kCommittee, kStreet, false, {}, absl::ToUnixMicros(now), 0}));
      ProjectedVisit v;
      v.id = id;
      v.commitment_id = absl::StrCat("c", i);
      v.elder = elder;
      v.state = VisitState::kScheduled;
      v.day = LocalDay(now);
      v.window_start_us = absl::ToUnixMicros(now - absl::Minutes(20));
      v.window_end_us = absl::ToUnixMicros(now + absl::Minutes(100));
      v.staffed = 1;
      v.booked_worker = absl::StrCat("workers/w", i % 500);
      v.duration_minutes = 30;
      v.last_sequence = i + 1;
      RETURN_IF_ERROR(UpsertVisit(tx, v, false));
    }
    return absl::OkStatus();
  }),
      "seed visits");

  // The street's message provider.
  std::mutex mu;
  std::vector<double> arrivals_ms;
  std::optional<Stopwatch> since_event;  // started at the sweep
  httplib::Server receiver;
  receiver.Post("/sms", [&](const httplib::Request&, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mu);
    arrivals_ms.push_back(absl::ToDoubleMilliseconds(since_event->Elapsed()));
    res.status = 204;
  });
  const int port = receiver.bind_to_any_port("127.0.0.1");
  std::thread serving([&] { receiver.listen_after_bind(); });
  while (!receiver.is_running()) absl::SleepFor(absl::Milliseconds(5));

  NoticeUseCases notices(*db, clock, cipher);
  v1::Webhook hook;
  hook.set_recipient(kStreet);
  hook.set_elders_of_region(true);
  hook.set_url(absl::StrCat("http://127.0.0.1:", port, "/sms"));
  Die(notices.CreateWebhook(hook, "staff/bench").status(), "create webhook");

  std::printf("Burst: %d booked visits 20 minutes late, one street's SMS webhook (SQLite)\n",
              visits);
  since_event.emplace();
  absl::StatusOr<int> raised = notices.Sweep(now);
  Die(raised.status(), "sweep");
  const double sweep_ms = absl::ToDoubleMilliseconds(since_event->Elapsed());
  WebhookSenderOptions options;
  options.senders = absl::GetFlag(FLAGS_senders);
  options.per_webhook = absl::GetFlag(FLAGS_per_webhook);
  WebhookSender sender(*db, clock, cipher, notices.signal(), /*directory=*/nullptr, options);
  for (;;) {
    absl::StatusOr<int> attempted = sender.SendDue();
    Die(attempted.status(), "send");
    if (*attempted == 0) break;
  }
  const double total_ms = absl::ToDoubleMilliseconds(since_event->Elapsed());
  receiver.stop();
  serving.join();
  const size_t arrived = arrivals_ms.size();
  const double rate = 1000.0 * static_cast<double>(arrived) / total_ms;
  std::printf("  notices raised: %d in %.0f ms (one transaction, with their deliveries)\n", *raised,
              sweep_ms);
  std::printf("  delivered: %zu in %.1f s, %.0f/s\n", arrived, total_ms / 1000, rate);
  std::printf("  delay from the sweep's start to arrival: p50 %.1f s, p99 %.1f s, max %.1f s\n",
              Percentile(arrivals_ms, 0.5) / 1000, Percentile(arrivals_ms, 0.99) / 1000,
              Percentile(arrivals_ms, 1.0) / 1000);
  const double needed = visits / 60.0;
  Summary().push_back(
      absl::StrFormat("SUMMARY notice.burst_delivery_rate %.0f/s >=%.0f/s %s", rate, needed,
                      rate >= needed && arrived == static_cast<size_t>(visits) ? "met" : "missed"));
  Summary().push_back(absl::StrFormat("SUMMARY notice.burst_delay_p99 %.1fs info info",
                                      Percentile(arrivals_ms, 0.99) / 1000));
}

void Stream() {
  const int wakeups = absl::GetFlag(FLAGS_wakeups);
  const FakeClock clock(MorningToday());
  const pii::FieldCipher cipher =
      *pii::FieldCipher::FromSpec(pii::FieldCipher::GenerateKeySpec("k1"));
  auto db = FreshDatabase("notice_stream");
  NoticeUseCases notices(*db, clock, cipher);
  std::printf("Stream: a waiting read woken by each of %d notices raised one at a time\n", wakeups);
  std::vector<double> wake_us;
  int64_t after = 0;
  for (int i = 0; i < wakeups; ++i) {
    std::optional<Stopwatch> committed;
    std::mutex mu;
    v1::ListNoticesResponse got;
    std::thread reader([&] {
      v1::ListNoticesRequest request;
      request.set_recipient("elders/reader");
      request.set_after_sequence(after);
      request.set_wait_seconds(10);
      Die(notices.List(request, &got), "wait");
      std::lock_guard<std::mutex> lock(mu);
      wake_us.push_back(absl::ToDoubleMicroseconds(committed->Elapsed()));
    });
    absl::SleepFor(absl::Milliseconds(2));  // the reader is waiting
    NoticeDraft draft;
    draft.cause = absl::StrCat("bench:", i);
    draft.notice.set_recipient("elders/reader");
    draft.notice.set_kind(v1::NOTICE_KIND_RUNNING_LATE);
    draft.notice.set_text("您的上门服务，服务人员还没有到。");
    {
      // Held until the stopwatch runs, so that a reader finding the notice on its own (its
      // once-a-second look) cannot read the stopwatch before.
      std::lock_guard<std::mutex> lock(mu);
      Die(db->RunInTransaction([&](storage::Transaction& tx) {
        return notices.Raise(tx, {draft}, clock.Now()).status();
      }),
          "raise");
      committed.emplace();
    }
    notices.Committed();
    reader.join();
    if (got.notices_size() != 1) Die(absl::InternalError("reader got no notice"), "stream");
    after = got.notices(0).sequence();
  }
  const double p50 = Percentile(wake_us, 0.5);
  std::printf("  commit to the reader's answer: p50 %.0f µs, p99 %.0f µs (target p50 ≤ 1000 µs)\n",
              p50, Percentile(wake_us, 0.99));
  Summary().push_back(absl::StrFormat("SUMMARY notice.stream_added_p50 %.0fus <=1000us %s", p50,
                                      p50 <= 1000 ? "met" : "missed"));
}

}  // namespace
}  // namespace linli::feedback

int main(int argc, char** argv) {
  linli::ParseFlags(argc, argv,
                    "notice_bench: a burst of late-visit notices to a webhook, and the stream's "
                    "wake-up latency. Flags: --visits --wakeups");
  linli::SetLogService("notice_bench");
  linli::feedback::Burst();
  linli::feedback::Stream();
  for (const std::string& line : linli::feedback::Summary()) std::printf("%s\n", line.c_str());
  return 0;
}
