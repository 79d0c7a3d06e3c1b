// Faults under load, MariaDB only: linli-scheduling runs on a private MariaDB that this test starts
// itself (scripts/mariadb.sh) so that it can kill it. While CreateCommitment / ListVisits calls
// run, the database is SIGKILLed for a few seconds and then restarted on the same port and
// datadir. Callers see only UNAVAILABLE or DEADLINE_EXCEEDED (never INTERNAL or UNKNOWN), calls
// succeed again soon after the restart without restarting the service, and every acknowledged
// write is in the database. Then SIGTERM during a long call: the call completes and the process
// exits 0.
//
// Like every MySQL test it FAILS without LINLI_TEST_MYSQL_URL (set by `make test`), which says
// that MariaDB is installed here. LINLI_FAULT_OUTAGE_SECONDS (default 5) and
// LINLI_FAULT_HEALTHY_SECONDS (default 2) scale the phases (`make soak`).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/client.h"
#include "common/grpc_probe.h"
#include "common/pii/field_cipher.h"
#include "gtest/gtest.h"
#include "linli/registry/v1/registry.grpc.pb.h"
#include "linli/scheduling/v1/scheduling.grpc.pb.h"
#include "tests/private_mariadb.h"
#include "tests/support/backends.h"
#include "tests/support/platform_pki.h"
#include "tests/support/test_env.h"

namespace linli {
namespace {

using scheduling::v1::SchedulingService;

constexpr int kElders = 40;
constexpr int kLoadThreads = 3;

double EnvSeconds(const char* name, double fallback) {
  const char* env = std::getenv(name);
  if (env == nullptr || *env == '\0') return fallback;
  double value = std::atof(env);
  return value > 0 ? value : fallback;
}

class FaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* mysql = std::getenv("LINLI_TEST_MYSQL_URL");
    ASSERT_TRUE(mysql != nullptr && *mysql != '\0')
        << "LINLI_TEST_MYSQL_URL is not set: run with `make test` (a MariaDB test never skips)";
    ASSERT_TRUE(db_.Start().ok());
    dir_ = testing::MakeTempDir("fault");
    const std::string key_file = dir_ + "/pii.key";
    std::ofstream(key_file) << pii::FieldCipher::GenerateKeySpec("k1") << "\n";
    // The registry stays on SQLite: only scheduling's database fails.
    registry_address_ = absl::StrCat("127.0.0.1:", testing::FreePort());
    auto registry = testing::ChildProcess::Start(
        LINLI_BIN_DIR "/linli-registry",
        {"--listen=" + registry_address_, "--db=sqlite:" + dir_ + "/registry.db",
         "--pii_key_file=" + key_file},
        dir_ + "/registry.log");
    ASSERT_TRUE(registry.ok()) << registry.status();
    registry_.emplace(std::move(*registry));
    scheduling_address_ = absl::StrCat("127.0.0.1:", testing::FreePort());
    auto scheduling = testing::ChildProcess::Start(
        LINLI_BIN_DIR "/linli-scheduling",
        {"--listen=" + scheduling_address_, "--db=" + db_.Url("fault_scheduling"),
         "--registry_address=" + registry_address_, "--shutdown_deadline=60s",
         "--pii_key_file=" + key_file},
        dir_ + "/scheduling.log");
    ASSERT_TRUE(scheduling.ok()) << scheduling.status();
    scheduling_.emplace(std::move(*scheduling));
    ASSERT_TRUE(testing::WaitServing(registry_address_, "linli.registry.v1.RegistryService"))
        << dir_;
    ASSERT_TRUE(testing::WaitServing(scheduling_address_, "linli.scheduling.v1.SchedulingService"))
        << dir_;
    stub_ = SchedulingService::NewStub(
        testing::PlatformPki::Shared().Channel(scheduling_address_, "linli-scheduling"));
    Seed();
  }

  void TearDown() override {
    for (auto* child : {&scheduling_, &registry_}) {
      if (child->has_value()) {
        (*child)->Signal(SIGTERM);
        (void)(*child)->Wait(absl::Seconds(10));
      }
    }
    db_.Stop();
  }

  void Seed() {
    auto registry = registry::v1::RegistryService::NewStub(
        testing::PlatformPki::Shared().Channel(registry_address_, "linli-registry"));
    ASSERT_TRUE(testing::SeedVisitingStreet(*registry).ok());
    auto elders = testing::SeedElders(*registry, kElders, "长者");
    ASSERT_TRUE(elders.ok()) << elders.status();
    elders_ = std::move(*elders);
  }

  scheduling::v1::CreateCommitmentRequest CommitmentRequest(int elder,
                                                            const std::string& request_id) const {
    scheduling::v1::CreateCommitmentRequest request;
    request.set_request_id(request_id);
    scheduling::v1::Commitment* c = request.mutable_commitment();
    c->set_elder(elders_[elder % kElders]);
    c->set_service_type("serviceTypes/visiting");
    c->set_owner_organisation("organisations/lelin");
    c->set_valid_from("2026-12-01");
    c->set_care_grade(4);  // five visits a week
    return request;
  }

  // Every commitment of every elder, through ListCommitments.
  std::set<std::string> AllCommitments() {
    std::set<std::string> names;
    for (const std::string& elder : elders_) {
      std::string token;
      do {
        scheduling::v1::ListCommitmentsRequest request;
        request.set_elder(elder);
        request.set_page_size(100);
        request.set_page_token(token);
        scheduling::v1::ListCommitmentsResponse response;
        auto context = NewClientContext(nullptr, absl::Seconds(10));
        grpc::Status s = stub_->ListCommitments(context.get(), request, &response);
        EXPECT_TRUE(s.ok()) << s.error_code() << " " << s.error_message();
        if (!s.ok()) break;
        for (const auto& c : response.commitments()) names.insert(c.name());
        token = response.next_page_token();
      } while (!token.empty());
    }
    return names;
  }

  testing::PrivateMariaDb db_;
  std::string dir_;
  std::string registry_address_;
  std::string scheduling_address_;
  std::optional<testing::ChildProcess> registry_;
  std::optional<testing::ChildProcess> scheduling_;
  std::unique_ptr<SchedulingService::Stub> stub_;
  std::vector<std::string> elders_;
};

enum Phase { kHealthy = 0, kOutage = 1, kRecovering = 2 };

TEST_F(FaultTest, DatabaseOutageGivesRetryableErrorsAndRecoversWithoutRestart) {
  const absl::Duration healthy = absl::Seconds(EnvSeconds("LINLI_FAULT_HEALTHY_SECONDS", 2));
  const absl::Duration outage = absl::Seconds(EnvSeconds("LINLI_FAULT_OUTAGE_SECONDS", 5));
  std::atomic<int> phase{kHealthy};
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::vector<std::string> acknowledged;
  std::map<std::pair<int, int>, int> codes;  // (phase, code) -> calls
  std::vector<absl::Duration> latencies;     // every call, whatever its outcome
  const absl::Duration kCallDeadline = absl::Seconds(2);
  std::optional<absl::Time> first_success_after_restart;
  std::vector<std::thread> threads;
  for (int t = 0; t < kLoadThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int n = 0; !stop.load(); ++n) {
        const int at_start = phase.load();
        scheduling::v1::CreateCommitmentResponse created;
        const absl::Time create_start = absl::Now();
        auto context = NewClientContext(nullptr, kCallDeadline);
        grpc::Status s = stub_->CreateCommitment(
            context.get(), CommitmentRequest(t * 7 + n, absl::StrCat("fault-", t, "-", n)),
            &created);
        const absl::Duration create_latency = absl::Now() - create_start;
        scheduling::v1::ListVisitsRequest list;
        list.set_elder(elders_[(t + n) % kElders]);
        list.set_page_size(10);
        scheduling::v1::ListVisitsResponse listed;
        const absl::Time list_start = absl::Now();
        auto list_context = NewClientContext(nullptr, kCallDeadline);
        grpc::Status l = stub_->ListVisits(list_context.get(), list, &listed);
        const absl::Duration list_latency = absl::Now() - list_start;
        {
          std::lock_guard<std::mutex> lock(mu);
          latencies.push_back(create_latency);
          latencies.push_back(list_latency);
          if (s.ok()) acknowledged.push_back(created.commitment().name());
          ++codes[{at_start, s.error_code()}];
          ++codes[{at_start, l.error_code()}];
          if (s.ok() && l.ok() && at_start == kRecovering && !first_success_after_restart) {
            first_success_after_restart = absl::Now();
          }
        }
        absl::SleepFor(absl::Milliseconds(10));
      }
    });
  }
  absl::SleepFor(healthy);
  const size_t acknowledged_before_outage = [&] {
    std::lock_guard<std::mutex> lock(mu);
    return acknowledged.size();
  }();
  phase = kOutage;
  ASSERT_TRUE(db_.Kill()) << "could not kill the private MariaDB";
  const absl::Time down = absl::Now();
  absl::SleepFor(outage);
  phase = kRecovering;
  const absl::Time restart = absl::Now();
  ASSERT_TRUE(db_.Restart().ok());
  while (absl::Now() - restart < absl::Seconds(20)) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (first_success_after_restart.has_value()) break;
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  absl::SleepFor(absl::Seconds(1));  // some more load on the recovered database
  stop = true;
  for (auto& thread : threads) thread.join();

  // The service was never restarted.
  EXPECT_FALSE(scheduling_->Wait(absl::ZeroDuration()).ok()) << "linli-scheduling exited";

  EXPECT_GT(acknowledged_before_outage, 0u);
  // Any phase: a call that started before the kill may fail during it. Only retryable codes.
  int outage_failures = 0;
  for (const auto& [key, count] : codes) {
    const auto [when, code] = key;
    if (when == kOutage && code != grpc::StatusCode::OK) outage_failures += count;
    EXPECT_TRUE(code == grpc::StatusCode::OK || code == grpc::StatusCode::UNAVAILABLE ||
                code == grpc::StatusCode::DEADLINE_EXCEEDED)
        << count << " calls in phase " << when << " ended with code " << code;
  }
  EXPECT_GT(outage_failures, 0) << "calls during the outage succeeded: was the database down?";
  // Callers are answered within their deadline, outage or not (p99 of every call; the slack is
  // for the client's own scheduling on a busy machine).
  std::sort(latencies.begin(), latencies.end());
  ASSERT_FALSE(latencies.empty());
  const absl::Duration p99 = latencies[latencies.size() * 99 / 100];
  EXPECT_LE(p99, kCallDeadline + absl::Milliseconds(250)) << "p99 " << p99;
  ASSERT_TRUE(first_success_after_restart.has_value()) << "no call succeeded after the restart";
  const absl::Duration recovery = *first_success_after_restart - restart;
  EXPECT_LE(recovery, absl::Seconds(10)) << "calls did not succeed within 10 s of the restart";

  // Every acknowledged write survived the kill (innodb_flush_log_at_trx_commit=1).
  const std::set<std::string> stored = AllCommitments();
  int missing = 0;
  for (const std::string& name : acknowledged) {
    if (stored.count(name) == 0) {
      ++missing;
      ADD_FAILURE() << "acknowledged " << name << " is not in the database";
      if (missing > 5) break;
    }
  }
  EXPECT_EQ(missing, 0);
  std::string summary;
  for (const auto& [key, count] : codes) {
    absl::StrAppend(&summary, " phase", key.first, "/code", key.second, "=", count);
  }
  std::printf(
      "fault: %zu commitments acknowledged (%zu before the outage), outage %.1f s, first success "
      "%.2f s after the restart (down at %s); call latency p50 %.1f ms, p99 %.1f ms, max %.1f ms "
      "(deadline %.0f ms); calls:%s\n",
      acknowledged.size(), acknowledged_before_outage, absl::ToDoubleSeconds(outage),
      absl::ToDoubleSeconds(recovery),
      absl::FormatTime("%H:%M:%S", down, absl::UTCTimeZone()).c_str(),
      absl::ToDoubleMilliseconds(latencies[latencies.size() / 2]), absl::ToDoubleMilliseconds(p99),
      absl::ToDoubleMilliseconds(latencies.back()), absl::ToDoubleMilliseconds(kCallDeadline),
      summary.c_str());
}

TEST_F(FaultTest, SigtermLetsTheCallInFlightFinishAndExitsZero) {
  // Enough commitments that materialising nine weeks of visits takes a while.
  for (int i = 0; i < 3 * kElders; ++i) {
    scheduling::v1::CreateCommitmentResponse response;
    auto context = NewClientContext(nullptr, absl::Seconds(10));
    grpc::Status s = stub_->CreateCommitment(
        context.get(), CommitmentRequest(i, absl::StrCat("sigterm-", i)), &response);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  grpc::Status status;
  scheduling::v1::MaterializeVisitsResponse response;
  std::atomic<bool> started{false};
  absl::Time begin, end;
  std::thread call([&] {
    scheduling::v1::MaterializeVisitsRequest request;
    request.set_from_date("2026-12-07");
    request.set_days(62);
    auto context = NewClientContext(nullptr, absl::Seconds(60));
    begin = absl::Now();
    started = true;
    status = stub_->MaterializeVisits(context.get(), request, &response);
    end = absl::Now();
  });
  while (!started.load()) std::this_thread::yield();
  absl::SleepFor(absl::Milliseconds(200));
  const absl::Time signalled = absl::Now();
  ASSERT_TRUE(scheduling_->Signal(SIGTERM));
  call.join();
  EXPECT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
  EXPECT_GT(response.created(), 0);
  EXPECT_GT(end, signalled) << "the call ended before SIGTERM: nothing was in flight";
  absl::StatusOr<int> exit_status = scheduling_->Wait(absl::Seconds(60));
  ASSERT_TRUE(exit_status.ok()) << "linli-scheduling did not exit after SIGTERM";
  EXPECT_TRUE(WIFEXITED(*exit_status) && WEXITSTATUS(*exit_status) == 0) << *exit_status;
  scheduling_.reset();
  std::printf("fault: SIGTERM %.0f ms into a %.0f ms MaterializeVisits (%d visits); exit 0\n",
              absl::ToDoubleMilliseconds(signalled - begin),
              absl::ToDoubleMilliseconds(end - begin), response.created());
}

}  // namespace
}  // namespace linli
