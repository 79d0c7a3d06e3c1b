// Nothing lost under kill -9 (issue 8, evidence 2).
//
// Client threads write through the real linli-scheduling while a loop SIGKILLs and restarts
//   - linli-scheduling itself (ServiceKillLoop, on SQLite and on MariaDB), or
//   - the MariaDB server under scheduling and feedback (DatabaseKillLoop; a private server started
//     with scripts/mariadb.sh, innodb_flush_log_at_trx_commit=1, restarted on the same datadir).
// Each writer repeats one flow: a worker of its own in the registry (never killed), then
// CreateCommitment (request_id) → MaterializeVisits of that commitment (one transaction: the
// visits and their "visit.scheduled" events) → AssignVisit (request_id) on its first visit →
// CheckInVisit → CheckOutVisit. A step that fails with a retryable code (UNAVAILABLE,
// DEADLINE_EXCEEDED, ABORTED) is retried until it succeeds; every acknowledged write is recorded.
// After the loop:
//   - every acknowledged commitment, materialisation, booking, check-in and check-out is there;
//   - multi-row writes are all or nothing: every commitment has either none or all of its visits;
//   - every stored change has its outbox event (exactly one "visit.scheduled" per visit,
//     "visit.assigned", "visit.checked_in", "visit.completed" as the visit's state says), and no
//     event names a visit that does not exist;
//   - linli-feedback's consumer (its own database; on MariaDB it shares the killed server)
//     reaches the last event (GetConsumerStatus).
// No call may end with another code than the retryable ones, OK, or FAILED_PRECONDITION for a
// check-in/out retried after a lost answer.
//
// LINLI_KILL_SERVICE_CYCLES (default 5) and LINLI_KILL_DATABASE_CYCLES (default 4) set the
// number of kills (`make soak` runs 50 of each). MariaDB cases FAIL without LINLI_TEST_MYSQL_URL.
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "common/auth/internal_identity.h"
#include "common/client.h"
#include "common/clock.h"
#include "common/pii/field_cipher.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "linli/feedback/v1/feedback.grpc.pb.h"
#include "linli/registry/v1/registry.grpc.pb.h"
#include "linli/scheduling/v1/scheduling.grpc.pb.h"
#include "tests/private_mariadb.h"
#include "tests/support/backends.h"
#include "tests/support/platform_pki.h"
#include "tests/support/test_env.h"

namespace linli {
namespace {

using scheduling::v1::SchedulingService;

constexpr int kElders = 8;
constexpr int kWriters = 3;
constexpr char kFromDate[] = "2027-01-04";
constexpr int kDays = 14;
// How long one step of a flow keeps retrying before the test gives up on it.
constexpr absl::Duration kStepPatience = absl::Seconds(90);

int EnvInt(const char* name, int fallback) {
  const char* env = std::getenv(name);
  if (env == nullptr || *env == '\0') return fallback;
  int value = std::atoi(env);
  return value > 0 ? value : fallback;
}

bool Retryable(grpc::StatusCode code) {
  return code == grpc::StatusCode::UNAVAILABLE || code == grpc::StatusCode::DEADLINE_EXCEEDED ||
         code == grpc::StatusCode::ABORTED;
}

// A client channel that reconnects quickly once the server is back (the default backoff starts at
// 1 s and grows).
// Over mutual TLS to the backend `peer`, as the operator CLI (tests/support/platform_pki.h).
std::shared_ptr<grpc::Channel> FastReconnectChannel(const std::string& address,
                                                    const std::string& peer) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 500);
  args.SetSslTargetNameOverride(peer);
  auto identity = testing::PlatformPki::Shared().Identity("linli-cli");
  std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(auth::NewPrincipalInterceptor(identity, peer, Clock::Real()));
  return grpc::experimental::CreateCustomChannelWithInterceptors(
      address, identity->ChannelCredentials(), args, std::move(interceptors));
}

// What the writers were told succeeded.
struct Acknowledged {
  std::vector<std::string> commitments;
  std::map<std::string, int> materialised;           // commitment -> created + existing
  std::map<std::string, std::string> assigned;       // visit -> worker
  std::map<std::string, std::string> checked_in;     // visit -> worker
  std::map<std::string, std::string> checked_out;    // visit -> worker
  std::map<std::pair<std::string, int>, int> codes;  // (method, code) -> calls
  std::vector<std::string> unexpected;               // calls that ended with a code not allowed
  int retried_calls = 0;
};

class KillLoopBase {
 protected:
  // Starts the registry (SQLite, never killed), scheduling on `scheduling_db` and feedback on
  // `feedback_db`, and seeds the street, elders.
  void StartAll(const std::string& scheduling_db, const std::string& feedback_db) {
    dir_ = testing::MakeTempDir("kill_loop");
    const std::string key_file = dir_ + "/pii.key";
    std::ofstream(key_file) << pii::FieldCipher::GenerateKeySpec("k1") << "\n";
    registry_address_ = absl::StrCat("127.0.0.1:", testing::FreePort());
    scheduling_address_ = absl::StrCat("127.0.0.1:", testing::FreePort());
    feedback_address_ = absl::StrCat("127.0.0.1:", testing::FreePort());
    auto registry = testing::ChildProcess::Start(
        LINLI_BIN_DIR "/linli-registry",
        {"--listen=" + registry_address_, "--db=sqlite:" + dir_ + "/registry.db",
         "--pii_key_file=" + key_file},
        dir_ + "/registry.log");
    ASSERT_TRUE(registry.ok()) << registry.status();
    registry_.emplace(std::move(*registry));
    scheduling_args_ = {"--listen=" + scheduling_address_, "--db=" + scheduling_db,
                        "--registry_address=" + registry_address_, "--shutdown_deadline=5s",
                        "--pii_key_file=" + key_file};
    ASSERT_NO_FATAL_FAILURE(StartScheduling());
    auto feedback = testing::ChildProcess::Start(
        LINLI_BIN_DIR "/linli-feedback",
        {"--listen=" + feedback_address_, "--db=" + feedback_db,
         "--registry_address=" + registry_address_, "--scheduling_address=" + scheduling_address_,
         "--poll_interval=200ms", "--shutdown_deadline=5s", "--pii_key_file=" + key_file},
        dir_ + "/feedback.log");
    ASSERT_TRUE(feedback.ok()) << feedback.status();
    feedback_.emplace(std::move(*feedback));
    ASSERT_TRUE(testing::WaitServing(registry_address_, "linli.registry.v1.RegistryService"))
        << dir_;
    ASSERT_TRUE(testing::WaitServing(feedback_address_, "linli.feedback.v1.FeedbackService"))
        << dir_;
    registry_stub_ = registry::v1::RegistryService::NewStub(
        testing::PlatformPki::Shared().Channel(registry_address_, "linli-registry"));
    stub_ =
        SchedulingService::NewStub(FastReconnectChannel(scheduling_address_, "linli-scheduling"));
    feedback_stub_ = feedback::v1::FeedbackService::NewStub(
        FastReconnectChannel(feedback_address_, "linli-feedback"));
    ASSERT_TRUE(testing::SeedVisitingStreet(*registry_stub_).ok());
    auto elders = testing::SeedElders(*registry_stub_, kElders, "独居长者");
    ASSERT_TRUE(elders.ok()) << elders.status();
    elders_ = std::move(*elders);
  }

  void StopAll() {
    stop_ = true;
    for (auto& thread : writers_) thread.join();
    writers_.clear();
    for (auto* child : {&feedback_, &scheduling_, &registry_}) {
      if (child->has_value()) {
        (*child)->Signal(SIGTERM);
        (void)(*child)->Wait(absl::Seconds(15));
        child->reset();
      }
    }
  }

  void StartScheduling() {
    auto child = testing::ChildProcess::Start(LINLI_BIN_DIR "/linli-scheduling", scheduling_args_,
                                              absl::StrCat(dir_, "/scheduling.log"));
    ASSERT_TRUE(child.ok()) << child.status();
    scheduling_.emplace(std::move(*child));
    ASSERT_TRUE(testing::WaitServing(scheduling_address_, "linli.scheduling.v1.SchedulingService",
                                     absl::Seconds(90)))
        << "linli-scheduling did not come back; see " << dir_;
  }

  // SIGKILLs linli-scheduling and starts it again on the same port and database.
  void KillAndRestartScheduling() {
    ASSERT_TRUE(scheduling_->Signal(SIGKILL));
    ASSERT_TRUE(scheduling_->Wait(absl::Seconds(10)).ok()) << "SIGKILL did not end the process";
    scheduling_.reset();
    ASSERT_NO_FATAL_FAILURE(StartScheduling());
  }

  // Calls `call` (a fresh context each attempt) until it ends with a code that is not retryable
  // or kStepPatience has passed; records every outcome.
  grpc::Status Call(const std::string& method, bool failed_precondition_after_retry_ok,
                    const std::function<grpc::Status(grpc::ClientContext*)>& call) {
    const absl::Time begin = absl::Now();
    bool retried = false;
    while (true) {
      auto context = NewClientContext(nullptr, absl::Seconds(3));
      grpc::Status status = call(context.get());
      const grpc::StatusCode code = status.error_code();
      {
        std::lock_guard<std::mutex> lock(mu_);
        ++acked_.codes[{method, code}];
        const bool allowed = code == grpc::StatusCode::OK || Retryable(code) ||
                             (code == grpc::StatusCode::FAILED_PRECONDITION && retried &&
                              failed_precondition_after_retry_ok);
        if (!allowed) {
          acked_.unexpected.push_back(
              absl::StrCat(method, ": code ", code, " ", status.error_message()));
        }
        if (Retryable(code)) ++acked_.retried_calls;
      }
      if (!Retryable(code) || absl::Now() - begin > kStepPatience) return status;
      retried = true;
      absl::SleepFor(absl::Milliseconds(20));
    }
  }

  // One flow of writer `t`, iteration `k`.
  void Flow(int t, int k) {
    const std::string id = absl::StrCat("kl-", t, "-", k);
    // The worker lives in the registry, which is never killed.
    registry::v1::CreateWorkerRequest worker_request;
    worker_request.set_request_id(id + "-w");
    worker_request.mutable_worker()->set_display_name(absl::StrCat("社工", t, "-", k));
    worker_request.mutable_worker()->set_organisation("organisations/lelin");
    worker_request.mutable_worker()->add_skills("visiting");
    registry::v1::CreateWorkerResponse worker_response;
    grpc::Status s = Call("CreateWorker", false, [&](grpc::ClientContext* c) {
      return registry_stub_->CreateWorker(c, worker_request, &worker_response);
    });
    if (!s.ok()) return;
    const std::string worker = worker_response.worker().name();

    scheduling::v1::CreateCommitmentRequest create;
    create.set_request_id(id + "-c");
    scheduling::v1::Commitment* c = create.mutable_commitment();
    c->set_elder(elders_[(t * 31 + k) % kElders]);
    c->set_service_type("serviceTypes/visiting");
    c->set_owner_organisation("organisations/lelin");
    c->set_valid_from(kFromDate);
    c->set_care_grade(4);  // five visits a week
    scheduling::v1::CreateCommitmentResponse created;
    s = Call("CreateCommitment", false, [&](grpc::ClientContext* ctx) {
      return stub_->CreateCommitment(ctx, create, &created);
    });
    if (!s.ok()) return;
    const std::string commitment = created.commitment().name();
    Ack([&] { acked_.commitments.push_back(commitment); });

    scheduling::v1::MaterializeVisitsRequest materialize;
    materialize.set_commitment(commitment);
    materialize.set_from_date(kFromDate);
    materialize.set_days(kDays);
    scheduling::v1::MaterializeVisitsResponse materialized;
    s = Call("MaterializeVisits", false, [&](grpc::ClientContext* ctx) {
      return stub_->MaterializeVisits(ctx, materialize, &materialized);
    });
    if (!s.ok()) return;
    Ack([&] {
      acked_.materialised[commitment] = materialized.created() + materialized.existing();
    });

    scheduling::v1::ListVisitsRequest list;
    list.set_commitment(commitment);
    list.set_page_size(1);
    scheduling::v1::ListVisitsResponse listed;
    s = Call("ListVisits", false,
             [&](grpc::ClientContext* ctx) { return stub_->ListVisits(ctx, list, &listed); });
    if (!s.ok() || listed.visits_size() == 0) return;
    const std::string visit = listed.visits(0).name();

    scheduling::v1::AssignVisitRequest assign;
    assign.set_name(visit);
    assign.set_worker(worker);
    assign.set_request_id(id + "-a");
    scheduling::v1::AssignVisitResponse assigned;
    s = Call("AssignVisit", false,
             [&](grpc::ClientContext* ctx) { return stub_->AssignVisit(ctx, assign, &assigned); });
    if (!s.ok()) return;
    Ack([&] { acked_.assigned[visit] = worker; });

    // No request_id here: a retry after a lost answer finds the visit already in progress
    // (FAILED_PRECONDITION), and the check-out below still applies.
    scheduling::v1::CheckInVisitRequest check_in;
    check_in.set_name(visit);
    check_in.set_worker(worker);
    check_in.set_method(scheduling::v1::CHECK_METHOD_PHONE);
    scheduling::v1::CheckInVisitResponse in;
    s = Call("CheckInVisit", true,
             [&](grpc::ClientContext* ctx) { return stub_->CheckInVisit(ctx, check_in, &in); });
    if (s.ok()) Ack([&] { acked_.checked_in[visit] = worker; });
    if (!s.ok() && s.error_code() != grpc::StatusCode::FAILED_PRECONDITION) return;

    scheduling::v1::CheckOutVisitRequest check_out;
    check_out.set_name(visit);
    check_out.set_worker(worker);
    check_out.set_method(scheduling::v1::CHECK_METHOD_PHONE);
    scheduling::v1::CheckOutVisitResponse out;
    s = Call("CheckOutVisit", true,
             [&](grpc::ClientContext* ctx) { return stub_->CheckOutVisit(ctx, check_out, &out); });
    if (s.ok()) Ack([&] { acked_.checked_out[visit] = worker; });
  }

  void Ack(const std::function<void()>& record) {
    std::lock_guard<std::mutex> lock(mu_);
    record();
    ++acks_;
  }

  void StartWriters() {
    for (int t = 0; t < kWriters; ++t) {
      writers_.emplace_back([this, t] {
        for (int k = 0; !stop_.load(); ++k) Flow(t, k);
      });
    }
  }

  // Waits until the writers got at least one more acknowledgement than `since`.
  bool WaitProgress(int64_t since, absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      if (acks_.load() > since) return true;
      absl::SleepFor(absl::Milliseconds(10));
    }
    return false;
  }

  // Runs `cycles` kills with `kill_and_restart` while the writers write, then stops the writers.
  void Loop(int cycles, const std::function<void()>& kill_and_restart) {
    absl::BitGen gen;
    StartWriters();
    const absl::Time begin = absl::Now();
    for (int cycle = 0; cycle < cycles; ++cycle) {
      ASSERT_TRUE(WaitProgress(acks_.load(), absl::Seconds(90)))
          << "no write was acknowledged before kill " << cycle << "; see " << dir_;
      // Kill at a random moment of the writes.
      absl::SleepFor(absl::Milliseconds(absl::Uniform(gen, 100, 700)));
      ASSERT_NO_FATAL_FAILURE(kill_and_restart());
      ++kills_;
    }
    ASSERT_TRUE(WaitProgress(acks_.load(), absl::Seconds(90))) << "no write after the last kill";
    absl::SleepFor(absl::Milliseconds(300));
    stop_ = true;
    for (auto& thread : writers_) thread.join();
    writers_.clear();
    loop_time_ = absl::Now() - begin;
  }

  // Every commitment, visit and event in scheduling, and the checks of the header comment.
  void VerifyNothingLost(const std::string& label) {
    std::lock_guard<std::mutex> lock(mu_);
    // Commitments.
    std::set<std::string> commitments;
    std::string token;
    do {
      scheduling::v1::ListCommitmentsRequest request;
      request.set_page_size(100);
      request.set_page_token(token);
      scheduling::v1::ListCommitmentsResponse response;
      grpc::Status s = CallOnce(
          [&](grpc::ClientContext* c) { return stub_->ListCommitments(c, request, &response); });
      ASSERT_TRUE(s.ok()) << s.error_code() << " " << s.error_message();
      for (const auto& c : response.commitments()) commitments.insert(c.name());
      token = response.next_page_token();
    } while (!token.empty());
    int lost = 0;
    for (const std::string& name : acked_.commitments) {
      if (commitments.count(name) == 0) {
        ++lost;
        ADD_FAILURE() << "acknowledged " << name << " is not stored";
      }
    }

    // Visits, per commitment: none or all.
    std::map<std::string, scheduling::v1::Visit> visits;
    std::map<std::string, int> per_commitment;
    for (const std::string& commitment : commitments) {
      std::string page;
      int count = 0;
      do {
        scheduling::v1::ListVisitsRequest request;
        request.set_commitment(commitment);
        request.set_page_size(100);
        request.set_page_token(page);
        scheduling::v1::ListVisitsResponse response;
        grpc::Status s = CallOnce(
            [&](grpc::ClientContext* c) { return stub_->ListVisits(c, request, &response); });
        ASSERT_TRUE(s.ok()) << s.error_code() << " " << s.error_message();
        for (const auto& v : response.visits()) {
          visits[v.name()] = v;
          ++count;
        }
        page = response.next_page_token();
      } while (!page.empty());
      per_commitment[commitment] = count;
    }
    ASSERT_FALSE(acked_.materialised.empty()) << "no materialisation was acknowledged";
    const int full = acked_.materialised.begin()->second;
    EXPECT_GT(full, 0);
    for (const auto& [commitment, n] : acked_.materialised) {
      EXPECT_EQ(n, full) << commitment << ": every commitment has the same rule and dates";
      if (per_commitment[commitment] != full) {
        ++lost;
        ADD_FAILURE() << commitment << ": acknowledged " << full << " visits, stored "
                      << per_commitment[commitment];
      }
    }
    int partial = 0, materialised_unacknowledged = 0;
    for (const auto& [commitment, n] : per_commitment) {
      if (n != 0 && n != full) {
        ++partial;
        ADD_FAILURE() << commitment << " has " << n << " of " << full << " visits";
      }
      if (n == full && acked_.materialised.count(commitment) == 0) ++materialised_unacknowledged;
    }

    // Bookings, check-ins and check-outs.
    auto find = [&](const std::string& name) -> const scheduling::v1::Visit* {
      auto it = visits.find(name);
      return it == visits.end() ? nullptr : &it->second;
    };
    for (const auto& [name, worker] : acked_.assigned) {
      const scheduling::v1::Visit* v = find(name);
      bool kept = false;
      if (v != nullptr && v->state() == scheduling::v1::VISIT_STATE_SCHEDULED) {
        for (const auto& a : v->assignments()) kept = kept || a.worker() == worker;
      } else if (v != nullptr) {
        kept = v->check_in().worker() == worker;
      }
      if (!kept) {
        ++lost;
        ADD_FAILURE() << "acknowledged booking of " << worker << " on " << name << " is lost";
      }
    }
    for (const auto& [name, worker] : acked_.checked_in) {
      const scheduling::v1::Visit* v = find(name);
      if (v == nullptr || v->check_in().worker() != worker ||
          (v->state() != scheduling::v1::VISIT_STATE_IN_PROGRESS &&
           v->state() != scheduling::v1::VISIT_STATE_COMPLETED)) {
        ++lost;
        ADD_FAILURE() << "acknowledged check-in of " << name << " is lost";
      }
    }
    for (const auto& [name, worker] : acked_.checked_out) {
      const scheduling::v1::Visit* v = find(name);
      if (v == nullptr || v->check_out().worker() != worker ||
          v->state() != scheduling::v1::VISIT_STATE_COMPLETED) {
        ++lost;
        ADD_FAILURE() << "acknowledged check-out of " << name << " is lost";
      }
    }

    // The outbox: every event, in order.
    std::map<std::string, std::multiset<std::string>> events;  // visit -> event types
    int64_t after = 0, last_sequence = 0, event_count = 0;
    while (true) {
      scheduling::v1::ListEventsRequest request;
      request.set_after_sequence(after);
      request.set_page_size(1000);
      scheduling::v1::ListEventsResponse response;
      grpc::Status s = CallOnce(
          [&](grpc::ClientContext* c) { return stub_->ListEvents(c, request, &response); });
      ASSERT_TRUE(s.ok()) << s.error_code() << " " << s.error_message();
      last_sequence = response.last_sequence();
      if (response.events_size() == 0) break;
      for (const auto& e : response.events()) {
        EXPECT_GT(e.sequence(), after) << "events out of order";
        after = e.sequence();
        events[e.subject()].insert(e.type());
        ++event_count;
      }
    }
    EXPECT_EQ(after, last_sequence);
    int missing_events = 0;
    for (const auto& [name, v] : visits) {
      const std::multiset<std::string>& types = events[name];
      auto expect = [&](const std::string& type, bool wanted) {
        const size_t n = types.count(type);
        if (wanted ? n != 1 : n != 0) {
          ++missing_events;
          ADD_FAILURE() << name << " (state " << v.state() << ") has " << n << " " << type
                        << " events";
        }
      };
      expect("visit.scheduled", true);
      const bool checked_in = v.has_check_in() && !v.check_in().worker().empty();
      if (v.assignments_size() > 0 || checked_in) {
        if (types.count("visit.assigned") < 1) {
          ++missing_events;
          ADD_FAILURE() << name << " is booked but has no visit.assigned event";
        }
      }
      expect("visit.checked_in", checked_in);
      expect("visit.completed", v.state() == scheduling::v1::VISIT_STATE_COMPLETED);
    }
    for (const auto& [subject, types] : events) {
      if (visits.count(subject) == 0) {
        ++missing_events;
        ADD_FAILURE() << "events of " << subject << ", which is not stored";
      }
    }

    // Delivery: feedback's consumer reaches the last event.
    const absl::Time waited = absl::Now();
    int64_t delivered = -1;
    while (absl::Now() - waited < absl::Seconds(90)) {
      feedback::v1::GetConsumerStatusResponse status;
      grpc::Status s = CallOnce([&](grpc::ClientContext* c) {
        return feedback_stub_->GetConsumerStatus(c, {}, &status);
      });
      if (s.ok()) {
        for (const auto& cursor : status.cursors()) {
          if (cursor.source() == "scheduling") delivered = cursor.sequence();
        }
      }
      if (delivered >= last_sequence) break;
      absl::SleepFor(absl::Milliseconds(100));
    }
    EXPECT_EQ(delivered, last_sequence) << "feedback's consumer did not reach the last event";

    EXPECT_EQ(lost, 0);
    EXPECT_EQ(partial, 0);
    EXPECT_EQ(missing_events, 0);
    for (const std::string& u : acked_.unexpected) ADD_FAILURE() << u;
    int ok_calls = 0, failed_calls = 0;
    for (const auto& [key, count] : acked_.codes) {
      (key.second == grpc::StatusCode::OK ? ok_calls : failed_calls) += count;
    }
    std::printf(
        "kill loop %s: %d kills in %.1f s; acknowledged %zu commitments, %zu materialisations "
        "(%d visits each), %zu bookings, %zu check-ins, %zu check-outs; lost %d, partial %d "
        "(%d commitments fully materialised without an answer); %zu visits, %lld events, every "
        "change with its event (%d missing), feedback consumer at %lld of %lld (%.1f s after the "
        "writes); calls %d OK, %d retryable failures, %zu unexpected\n",
        label.c_str(), kills_, absl::ToDoubleSeconds(loop_time_), acked_.commitments.size(),
        acked_.materialised.size(), full, acked_.assigned.size(), acked_.checked_in.size(),
        acked_.checked_out.size(), lost, partial, materialised_unacknowledged, visits.size(),
        static_cast<long long>(event_count), missing_events, static_cast<long long>(delivered),
        static_cast<long long>(last_sequence), absl::ToDoubleSeconds(absl::Now() - waited),
        ok_calls, failed_calls, acked_.unexpected.size());
  }

  // One read after the loop (the service is up; a short retry for a connection being re-made).
  grpc::Status CallOnce(const std::function<grpc::Status(grpc::ClientContext*)>& call) {
    grpc::Status status;
    for (int attempt = 0; attempt < 50; ++attempt) {
      auto context = NewClientContext(nullptr, absl::Seconds(10));
      status = call(context.get());
      if (!Retryable(status.error_code())) return status;
      absl::SleepFor(absl::Milliseconds(100));
    }
    return status;
  }

  std::string dir_;
  std::string registry_address_, scheduling_address_, feedback_address_;
  std::vector<std::string> scheduling_args_;
  std::optional<testing::ChildProcess> registry_, scheduling_, feedback_;
  std::unique_ptr<registry::v1::RegistryService::Stub> registry_stub_;
  std::unique_ptr<SchedulingService::Stub> stub_;
  std::unique_ptr<feedback::v1::FeedbackService::Stub> feedback_stub_;
  std::vector<std::string> elders_;

  std::atomic<bool> stop_{false};
  std::vector<std::thread> writers_;
  std::atomic<int64_t> acks_{0};
  std::mutex mu_;
  Acknowledged acked_;
  int kills_ = 0;
  absl::Duration loop_time_;
};

// SIGKILL + restart of linli-scheduling, on each storage backend.
class ServiceKillLoopTest : public KillLoopBase, public ::testing::TestWithParam<std::string> {
 protected:
  void TearDown() override { StopAll(); }
};

TEST_P(ServiceKillLoopTest, AcknowledgedWritesAndTheirEventsSurvive) {
  absl::StatusOr<std::string> scheduling_db =
      testing::FreshDatabaseUrl(GetParam(), "kill_scheduling");
  ASSERT_TRUE(scheduling_db.ok()) << scheduling_db.status();
  absl::StatusOr<std::string> feedback_db = testing::FreshDatabaseUrl(GetParam(), "kill_feedback");
  ASSERT_TRUE(feedback_db.ok()) << feedback_db.status();
  ASSERT_NO_FATAL_FAILURE(StartAll(*scheduling_db, *feedback_db));
  const int cycles = EnvInt("LINLI_KILL_SERVICE_CYCLES", 5);
  ASSERT_NO_FATAL_FAILURE(Loop(cycles, [&] { KillAndRestartScheduling(); }));
  VerifyNothingLost("of linli-scheduling on " + GetParam());
}

INSTANTIATE_TEST_SUITE_P(Backends, ServiceKillLoopTest, ::testing::ValuesIn(testing::Backends()),
                         [](const auto& info) { return info.param; });

// SIGKILL + restart of the MariaDB server under scheduling and feedback.
class DatabaseKillLoopTest : public KillLoopBase, public ::testing::Test {
 protected:
  void TearDown() override {
    StopAll();
    db_.Stop();
  }
  testing::PrivateMariaDb db_;
};

TEST_F(DatabaseKillLoopTest, AcknowledgedWritesAndTheirEventsSurvive) {
  const char* mysql = std::getenv("LINLI_TEST_MYSQL_URL");
  ASSERT_TRUE(mysql != nullptr && *mysql != '\0')
      << "LINLI_TEST_MYSQL_URL is not set: run with `make test` (a MariaDB test never skips)";
  ASSERT_TRUE(db_.Start().ok());
  ASSERT_NO_FATAL_FAILURE(StartAll(db_.Url("kill_scheduling"), db_.Url("kill_feedback")));
  const int cycles = EnvInt("LINLI_KILL_DATABASE_CYCLES", 4);
  absl::BitGen gen;
  absl::Duration recovery_total, recovery_max;
  ASSERT_NO_FATAL_FAILURE(Loop(cycles, [&] {
    ASSERT_TRUE(db_.Kill()) << "could not kill the private MariaDB";
    absl::SleepFor(absl::Milliseconds(absl::Uniform(gen, 0, 500)));
    const absl::Time restarted = absl::Now();
    ASSERT_TRUE(db_.Restart().ok());
    ASSERT_TRUE(db_.WaitReady(absl::Seconds(60))) << "MariaDB did not come back; " << db_.dir();
    const absl::Duration recovery = absl::Now() - restarted;
    recovery_total += recovery;
    recovery_max = std::max(recovery_max, recovery);
  }));
  // The services were never restarted.
  EXPECT_FALSE(scheduling_->Wait(absl::ZeroDuration()).ok()) << "linli-scheduling exited";
  EXPECT_FALSE(feedback_->Wait(absl::ZeroDuration()).ok()) << "linli-feedback exited";
  VerifyNothingLost("of MariaDB");
  std::printf("kill loop of MariaDB: crash recovery to a ping %.2f s on average, %.2f s at most\n",
              absl::ToDoubleSeconds(recovery_total / std::max(1, kills_)),
              absl::ToDoubleSeconds(recovery_max));
}

}  // namespace
}  // namespace linli
