// Several replicas, one database: two linli-scheduling processes (plus linli-registry) on the
// MariaDB that `make test` starts, behind one linli-gateway given both replicas' addresses
// (--scheduling_address=ipv4:A,B: its channel balances round robin over them). Both replicas start
// at the same moment (their migrations serialise on GET_LOCK), take concurrent idempotent writes
// sent through the gateway (ConsoleService.CreateCommitment with request_ids), and one is killed
// with SIGKILL half-way. Calls that were not acknowledged are retried through the gateway with the
// same request_id (the gateway itself retries UNAVAILABLE on the other replica first). Afterwards:
// every call is acknowledged, none was applied twice, a replay of every request_id returns the
// original answer, and visits materialised concurrently by both replicas exist exactly once.
//
// MariaDB only: SQLite is one file for one process by design (docs/OPERATIONS.md).
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/auth/jwt.h"
#include "common/client.h"
#include "common/grpc_probe.h"
#include "common/pii/field_cipher.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "linli/gateway/v1/console.grpc.pb.h"
#include "linli/registry/v1/registry.grpc.pb.h"
#include "linli/scheduling/v1/scheduling.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "tests/support/backends.h"
#include "tests/support/platform_pki.h"
#include "tests/support/test_env.h"

namespace linli {
namespace {

using scheduling::v1::SchedulingService;

constexpr int kCommitments = 48;
constexpr int kThreads = 6;

struct Replica {
  std::string address;
  int metrics_port = 0;
  std::optional<testing::ChildProcess> child;
  std::unique_ptr<SchedulingService::Stub> stub;
};

class MultiReplicaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("multi_replica");
    key_file_ = dir_ + "/pii.key";
    const std::string& key_file = key_file_;
    std::ofstream(key_file) << pii::FieldCipher::GenerateKeySpec("k1") << "\n";
    absl::StatusOr<std::string> registry_db = testing::FreshDatabaseUrl("mysql", "mr_registry");
    ASSERT_TRUE(registry_db.ok()) << registry_db.status();
    absl::StatusOr<std::string> scheduling_db = testing::FreshDatabaseUrl("mysql", "mr_scheduling");
    ASSERT_TRUE(scheduling_db.ok()) << scheduling_db.status();
    scheduling_db_ = *scheduling_db;

    registry_address_ = absl::StrCat("127.0.0.1:", testing::FreePort());
    auto registry = testing::ChildProcess::Start(
        LINLI_BIN_DIR "/linli-registry",
        {"--listen=" + registry_address_, "--db=" + *registry_db, "--pii_key_file=" + key_file},
        dir_ + "/registry.log");
    ASSERT_TRUE(registry.ok()) << registry.status();
    registry_.emplace(std::move(*registry));
    // Both replicas at once, on one (new) database: both run the migrations concurrently.
    for (int i = 0; i < 2; ++i) {
      Replica& r = replicas_[i];
      r.address = absl::StrCat("127.0.0.1:", testing::FreePort());
      r.metrics_port = testing::FreePort();
      auto child = testing::ChildProcess::Start(
          LINLI_BIN_DIR "/linli-scheduling",
          {"--listen=" + r.address, "--db=" + *scheduling_db,
           "--registry_address=" + registry_address_, "--shutdown_deadline=5s",
           "--pii_key_file=" + key_file,
           absl::StrCat("--metrics_listen=127.0.0.1:", r.metrics_port)},
          absl::StrCat(dir_, "/scheduling-", i, ".log"));
      ASSERT_TRUE(child.ok()) << child.status();
      r.child.emplace(std::move(*child));
    }
    ASSERT_TRUE(testing::WaitServing(registry_address_, "linli.registry.v1.RegistryService"))
        << dir_;
    for (Replica& r : replicas_) {
      ASSERT_TRUE(testing::WaitServing(r.address, "linli.scheduling.v1.SchedulingService")) << dir_;
      r.stub = SchedulingService::NewStub(
          testing::PlatformPki::Shared().Channel(r.address, "linli-scheduling"));
    }
    StartGateway();
    SeedRegistry();
  }

  // The gateway with both replicas behind one scheduling address, and an admin token for it.
  void StartGateway() {
    const std::string secret = "multi-replica-secret-0123456789ab";
    const std::string jwt_keys = dir_ + "/jwt-keys.json";
    std::ofstream(jwt_keys) << nlohmann::json{{"keys",
                                               {{{"kid", "dev"},
                                                 {"alg", "HS256"},
                                                 {"k", auth::Base64UrlEncode(secret)}}}}}
                                   .dump();
    token_ = *auth::SignJwt(*auth::JwtKey::Hmac("dev", secret),
                            {{"iss", "linli-dev"},
                             {"aud", "linli-gateway"},
                             {"sub", "ops/multi-replica"},
                             {"role", "admin"},
                             {"exp", absl::ToUnixSeconds(absl::Now()) + 3600},
                             {"iat", absl::ToUnixSeconds(absl::Now())}});
    gateway_address_ = absl::StrCat("127.0.0.1:", testing::FreePort());
    auto child = testing::ChildProcess::Start(
        LINLI_BIN_DIR "/linli-gateway",
        {"--listen=" + gateway_address_,
         absl::StrCat("--http_listen=127.0.0.1:", testing::FreePort()),
         "--registry_address=" + registry_address_,
         absl::StrCat("--scheduling_address=ipv4:", replicas_[0].address, ",",
                      replicas_[1].address),
         absl::StrCat("--feedback_address=127.0.0.1:", testing::FreePort()),
         "--jwt_keys_file=" + jwt_keys, "--rate_limit_per_second=100000",
         "--rate_limit_burst=100000", "--backend_timeout=10s", "--shutdown_deadline=5s"},
        dir_ + "/gateway.log");
    ASSERT_TRUE(child.ok()) << child.status();
    gateway_process_.emplace(std::move(*child));
    ASSERT_TRUE(testing::WaitServing(gateway_address_, "linli.gateway.v1.ConsoleService")) << dir_;
    gateway_ = gateway::v1::ConsoleService::NewStub(NewChannel(gateway_address_, {}));
  }

  // A context for a gateway call with the admin token.
  std::unique_ptr<grpc::ClientContext> Authed(absl::Duration timeout) const {
    auto context = NewClientContext(nullptr, timeout);
    context->AddMetadata("authorization", "Bearer " + token_);
    return context;
  }

  void TearDown() override {
    if (gateway_process_.has_value()) {
      gateway_process_->Signal(SIGTERM);
      (void)gateway_process_->Wait(absl::Seconds(10));
    }
    for (Replica& r : replicas_) {
      if (r.child.has_value()) {
        r.child->Signal(SIGTERM);
        (void)r.child->Wait(absl::Seconds(10));
      }
    }
    if (registry_.has_value()) {
      registry_->Signal(SIGTERM);
      (void)registry_->Wait(absl::Seconds(10));
    }
  }

  // A district, a street, a committee, an organisation, a service and one elder per commitment.
  void SeedRegistry() {
    auto registry = registry::v1::RegistryService::NewStub(
        testing::PlatformPki::Shared().Channel(registry_address_, "linli-registry"));
    auto call = [](auto method) {
      auto context = NewClientContext(nullptr, absl::Seconds(10));
      return method(context.get());
    };
    {
      absl::Status seeded = testing::SeedVisitingStreet(*registry);
      ASSERT_TRUE(seeded.ok()) << seeded;
    }
    for (int i = 0; i <= kCommitments; ++i) {  // one more for the traced call
      registry::v1::CreateElderRequest create;
      create.mutable_elder()->set_display_name(absl::StrCat("长者", i));
      create.mutable_elder()->set_region("regions/310101020002");
      registry::v1::CreateElderResponse created;
      grpc::Status s =
          call([&](grpc::ClientContext* c) { return registry->CreateElder(c, create, &created); });
      ASSERT_TRUE(s.ok()) << s.error_message();
      elders_.push_back(created.elder().name());
    }
  }

  scheduling::v1::CreateCommitmentRequest CommitmentRequest(int i) const {
    scheduling::v1::CreateCommitmentRequest request;
    request.set_request_id(absl::StrCat("mr-commitment-", i));
    scheduling::v1::Commitment* c = request.mutable_commitment();
    c->set_elder(elders_[i]);
    c->set_service_type("serviceTypes/visiting");
    c->set_owner_organisation("organisations/lelin");
    c->set_valid_from("2026-12-01");
    c->set_care_grade(4);  // five visits a week
    return request;
  }

  // Scrapes a replica's /metrics and returns the value of the series starting with `prefix`.
  double Metric(const Replica& r, const std::string& series) {
    httplib::Client http("127.0.0.1", r.metrics_port);
    auto got = http.Get("/metrics");
    if (!got || got->status != 200) return -1;
    size_t at = got->body.find("\n" + series + " ");
    if (at == std::string::npos) return -1;
    return std::stod(got->body.substr(at + series.size() + 2));
  }

  std::string dir_;
  std::string key_file_;  // the personal-data keyring of the registry and the replicas
  std::string registry_address_;
  std::string scheduling_db_;
  std::optional<testing::ChildProcess> registry_;
  Replica replicas_[2];
  std::string gateway_address_;
  std::string token_;
  std::optional<testing::ChildProcess> gateway_process_;
  std::unique_ptr<gateway::v1::ConsoleService::Stub> gateway_;
  std::vector<std::string> elders_;
};

TEST_F(MultiReplicaTest, KillingAReplicaLosesNoAcknowledgedCallAndDuplicatesNothing) {
  // Phase 1: concurrent CreateCommitment calls with request_ids through the gateway, which
  // balances them over both replicas; replica 0 is SIGKILLed once half of them are acknowledged.
  // A call without an answer (the replica died under it) is retried through the gateway with the
  // same request_id.
  std::mutex mu;
  std::map<int, std::string> acknowledged;  // call -> commitment name
  std::atomic<int> next{0};
  std::atomic<int> acked{0};
  std::atomic<int> retried{0};
  std::atomic<int> unexpected{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = next++; i < kCommitments; i = next++) {
        const scheduling::v1::CreateCommitmentRequest request = CommitmentRequest(i);
        for (int attempt = 0; attempt < 5; ++attempt) {
          scheduling::v1::CreateCommitmentResponse response;
          auto context = Authed(absl::Seconds(20));
          grpc::Status s = gateway_->CreateCommitment(context.get(), request, &response);
          if (s.ok()) {
            std::lock_guard<std::mutex> lock(mu);
            acknowledged[i] = response.commitment().name();
            ++acked;
            break;
          }
          if (s.error_code() != grpc::StatusCode::UNAVAILABLE &&
              s.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED &&
              s.error_code() != grpc::StatusCode::CANCELLED &&
              s.error_code() != grpc::StatusCode::UNKNOWN) {
            ++unexpected;
            ADD_FAILURE() << "call " << i << ": " << s.error_code() << " " << s.error_message();
            break;
          }
          ++retried;  // no answer: the same request_id again
          absl::SleepFor(absl::Milliseconds(100));
        }
      }
    });
  }
  while (acked.load() < kCommitments / 2 && next.load() < kCommitments) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  const int acked_at_kill = acked.load();
  // The gateway really spread the calls: the killed replica served some of them. (Asked before
  // the kill: its log lines of the last 50 ms die with it.)
  const double served_by_killed =
      Metric(replicas_[0],
             "linli_rpc_server_handled_total{method=\"/linli.scheduling.v1.SchedulingService/"
             "CreateCommitment\",code=\"OK\"}");
  ASSERT_TRUE(replicas_[0].child->Signal(SIGKILL));
  for (auto& thread : threads) thread.join();
  auto reaped = replicas_[0].child->Wait(absl::Seconds(10));
  ASSERT_TRUE(reaped.ok());
  EXPECT_TRUE(WIFSIGNALED(*reaped));
  replicas_[0].child.reset();
  ASSERT_EQ(unexpected.load(), 0);
  EXPECT_LT(acked_at_kill, kCommitments) << "the kill came after the last call; nothing was tested";
  EXPECT_GT(served_by_killed, 0) << "replica 0 served no call through the gateway; logs in "
                                 << dir_;

  // Every call acknowledged, with distinct commitments.
  ASSERT_EQ(acknowledged.size(), static_cast<size_t>(kCommitments));
  std::set<std::string> names;
  for (const auto& [i, name] : acknowledged) names.insert(name);
  EXPECT_EQ(names.size(), static_cast<size_t>(kCommitments));

  // Nothing applied twice: exactly one commitment per elder in the database.
  Replica& survivor = replicas_[1];
  for (int i = 0; i < kCommitments; ++i) {
    scheduling::v1::ListCommitmentsRequest list;
    list.set_elder(elders_[i]);
    list.set_page_size(100);
    scheduling::v1::ListCommitmentsResponse listed;
    auto context = NewClientContext(nullptr, absl::Seconds(10));
    grpc::Status s = survivor.stub->ListCommitments(context.get(), list, &listed);
    ASSERT_TRUE(s.ok()) << s.error_message();
    ASSERT_EQ(listed.commitments_size(), 1) << elders_[i] << " has a duplicate commitment";
    EXPECT_EQ(listed.commitments(0).name(), acknowledged[i]);
  }
  // Replaying every request_id on the survivor gives the original answers.
  for (int i = 0; i < kCommitments; ++i) {
    scheduling::v1::CreateCommitmentResponse response;
    auto context = NewClientContext(nullptr, absl::Seconds(10));
    grpc::Status s =
        survivor.stub->CreateCommitment(context.get(), CommitmentRequest(i), &response);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(response.commitment().name(), acknowledged[i]) << "request_id replay " << i;
  }

  // Phase 2: a replacement replica joins (the database is already migrated), and both
  // materialise the same week at the same time, several times over: each occurrence becomes
  // exactly one visit.
  replicas_[0].address = absl::StrCat("127.0.0.1:", testing::FreePort());
  replicas_[0].metrics_port = testing::FreePort();
  {
    auto child = testing::ChildProcess::Start(
        LINLI_BIN_DIR "/linli-scheduling",
        {"--listen=" + replicas_[0].address, "--db=" + scheduling_db_,
         "--registry_address=" + registry_address_, "--pii_key_file=" + key_file_,
         absl::StrCat("--metrics_listen=127.0.0.1:", replicas_[0].metrics_port)},
        dir_ + "/scheduling-0b.log");
    ASSERT_TRUE(child.ok()) << child.status();
    replicas_[0].child.emplace(std::move(*child));
    ASSERT_TRUE(
        testing::WaitServing(replicas_[0].address, "linli.scheduling.v1.SchedulingService"));
    replicas_[0].stub = SchedulingService::NewStub(
        testing::PlatformPki::Shared().Channel(replicas_[0].address, "linli-scheduling"));
  }
  std::atomic<int> created{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> materialisers;
  for (int t = 0; t < 4; ++t) {
    materialisers.emplace_back([&, t] {
      scheduling::v1::MaterializeVisitsRequest request;
      request.set_from_date("2026-12-07");  // a Monday
      request.set_days(7);
      scheduling::v1::MaterializeVisitsResponse response;
      auto context = NewClientContext(nullptr, absl::Seconds(30));
      grpc::Status s = replicas_[t % 2].stub->MaterializeVisits(context.get(), request, &response);
      if (s.ok()) {
        created += response.created();
      } else {
        ++failures;
        ADD_FAILURE() << "materialise on replica " << t % 2 << ": " << s.error_code() << " "
                      << s.error_message();
      }
    });
  }
  for (auto& thread : materialisers) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(created.load(), kCommitments * 5) << "visits created once, whichever replica did it";
  for (int i = 0; i < kCommitments; ++i) {
    scheduling::v1::ListVisitsRequest list;
    list.set_commitment(acknowledged[i]);
    list.set_page_size(100);
    scheduling::v1::ListVisitsResponse listed;
    auto context = NewClientContext(nullptr, absl::Seconds(10));
    ASSERT_TRUE(replicas_[i % 2].stub->ListVisits(context.get(), list, &listed).ok());
    std::set<std::string> occurrences;
    for (const auto& visit : listed.visits()) occurrences.insert(visit.occurrence());
    EXPECT_EQ(listed.visits_size(), 5) << acknowledged[i];
    EXPECT_EQ(occurrences.size(), static_cast<size_t>(listed.visits_size()))
        << acknowledged[i] << " has two visits for one occurrence";
  }
  // Phase 3: both replicas book one worker on every Monday visit (all at the same hour) at once
  // — half the bookers through the gateway (ConsoleService.AssignVisit with request_ids, reaching
  // the surviving replica 1), half straight on the replacement replica 0: the database's slot keys
  // let exactly one booking through, whichever replica made it.
  // (Concurrent sweeps on several replicas marking a visit once are tested on MariaDB in
  // scheduling_test, ConcurrentSweepsMarkEachVisitMissedOnce.)
  std::string worker;
  {
    auto registry = registry::v1::RegistryService::NewStub(
        testing::PlatformPki::Shared().Channel(registry_address_, "linli-registry"));
    registry::v1::CreateWorkerRequest request;
    request.mutable_worker()->set_display_name("王社工");
    request.mutable_worker()->set_organisation("organisations/lelin");
    request.mutable_worker()->add_skills("visiting");
    registry::v1::CreateWorkerResponse response;
    auto context = NewClientContext(nullptr, absl::Seconds(10));
    ASSERT_TRUE(registry->CreateWorker(context.get(), request, &response).ok());
    worker = response.worker().name();
  }
  std::vector<std::string> monday;
  for (int i = 0; i < kCommitments; ++i) {
    scheduling::v1::ListVisitsRequest list;
    list.set_commitment(acknowledged[i]);
    list.set_from_date("2026-12-07");
    list.set_to_date("2026-12-08");
    scheduling::v1::ListVisitsResponse listed;
    auto context = NewClientContext(nullptr, absl::Seconds(10));
    ASSERT_TRUE(replicas_[0].stub->ListVisits(context.get(), list, &listed).ok());
    ASSERT_EQ(listed.visits_size(), 1) << acknowledged[i];
    monday.push_back(listed.visits(0).name());
  }
  std::atomic<int> booked{0}, refused{0}, other{0};
  std::vector<std::thread> bookers;
  for (int t = 0; t < 8; ++t) {
    bookers.emplace_back([&, t] {
      for (size_t i = t; i < monday.size(); i += 8) {
        scheduling::v1::AssignVisitRequest request;
        request.set_name(monday[i]);
        request.set_worker(worker);
        request.set_request_id(absl::StrCat("mr-assign-", i));
        scheduling::v1::AssignVisitResponse response;
        grpc::Status s;
        if (t % 2 == 1) {
          s = gateway_->AssignVisit(Authed(absl::Seconds(30)).get(), request, &response);
        } else {
          auto context = NewClientContext(nullptr, absl::Seconds(30));
          s = replicas_[0].stub->AssignVisit(context.get(), request, &response);
        }
        if (s.ok()) {
          ++booked;
        } else if (s.error_code() == grpc::StatusCode::FAILED_PRECONDITION) {
          ++refused;
        } else {
          ++other;
          ADD_FAILURE() << s.error_code() << " " << s.error_message();
        }
      }
    });
  }
  for (auto& thread : bookers) thread.join();
  EXPECT_EQ(booked.load(), 1) << "one worker, one hour: exactly one booking may win";
  EXPECT_EQ(refused.load(), kCommitments - 1);
  EXPECT_EQ(other.load(), 0);

  // The request id travels: a call to scheduling with an x-request-id reaches the registry
  // (scheduling checks the elder there) under the same id, and both services log it.
  {
    scheduling::v1::CreateCommitmentResponse response;
    auto context = NewClientContext(nullptr, absl::Seconds(10));
    context->AddMetadata("x-request-id", "mr-trace-7f3a");
    grpc::Status s =
        survivor.stub->CreateCommitment(context.get(), CommitmentRequest(kCommitments), &response);
    ASSERT_TRUE(s.ok()) << s.error_message();
    auto read = [](const std::string& path) {
      std::ifstream in(path);
      return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    };
    auto has_line = [](const std::string& log, const std::string& a, const std::string& b) {
      std::istringstream lines(log);
      for (std::string line; std::getline(lines, line);) {
        if (line.find(a) != std::string::npos && line.find(b) != std::string::npos) return true;
      }
      return false;
    };
    // Services write their log lines in batches, within 50 ms (common/log.h).
    auto logged = [&](const std::string& path, const std::string& a, const std::string& b) {
      for (int i = 0; i < 100; ++i) {
        if (has_line(read(path), a, b)) return true;
        absl::SleepFor(absl::Milliseconds(50));
      }
      return false;
    };
    const std::string trace = "\"request_id\":\"mr-trace-7f3a\"";
    EXPECT_TRUE(logged(dir_ + "/scheduling-1.log", trace, "SchedulingService/CreateCommitment"));
    EXPECT_TRUE(logged(dir_ + "/registry.log", trace, "/linli.registry.v1.RegistryService/"))
        << "the registry call made for it carries the same request id; logs in " << dir_;
  }

  // Both live replicas served calls and report them on /metrics.
  for (Replica& r : replicas_) {
    EXPECT_GT(Metric(r, "linli_db_pool_acquired_total{backend=\"mysql\"}"), 0) << r.address;
    EXPECT_GE(Metric(r, "linli_outbox_head_sequence{outbox=\"scheduling\"}"), 0) << r.address;
  }
  RecordProperty("retried_calls", retried.load());
  std::printf(
      "multi-replica: %d commitments through the gateway (%d acknowledged before the SIGKILL), "
      "%d calls retried by the client after it\n",
      kCommitments, acked_at_kill, retried.load());
}

}  // namespace
}  // namespace linli
