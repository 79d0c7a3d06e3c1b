// request_id idempotency through the real binaries: linli-registry and linli-scheduling on
// loopback, once with SQLite files and once with the MariaDB of `make test`.
//
// For CreateOrganisation, CreateElder (registry), CreateCommitment and AssignVisit (scheduling):
//  - a lost response: the first call gives up after 1 ms (the server may still commit), then the
//    client retries the same request_id many times; exactly one effect is visible through the List
//    RPCs and every answer is byte-identical;
//  - 50 parallel calls with one request_id: one effect, 50 identical answers;
//  - the same request_id with a different payload: INVALID_ARGUMENT,
//  ERROR_REASON_REQUEST_ID_REUSED.
//
// LINLI_IDEMPOTENCY_RETRIES scales the retries (default 1000; `make soak` raises it).
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <optional>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/client.h"
#include "common/errors.h"
#include "common/grpc_probe.h"
#include "common/grpc_status.h"
#include "common/pii/field_cipher.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "gtest/gtest.h"
#include "linli/registry/v1/registry.grpc.pb.h"
#include "linli/scheduling/v1/scheduling.grpc.pb.h"
#include "tests/support/backends.h"
#include "tests/support/platform_pki.h"
#include "tests/support/test_env.h"

namespace linli {
namespace {

using registry::v1::RegistryService;
using scheduling::v1::SchedulingService;

constexpr int kParallel = 50;
constexpr char kCommittee[] = "regions/310101020002";

int Retries() {
  const char* env = std::getenv("LINLI_IDEMPOTENCY_RETRIES");
  if (env == nullptr || *env == '\0') return 1000;
  return std::max(1, std::atoi(env));
}

// Serialises deterministically, so that equal messages give equal bytes.
std::string Bytes(const google::protobuf::Message& message) {
  std::string out;
  google::protobuf::io::StringOutputStream stream(&out);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  message.SerializeToCodedStream(&coded);
  coded.Trim();
  return out;
}

// One unary call: context in, status out, the response written to `response`.
template <typename Response>
using Call = std::function<grpc::Status(grpc::ClientContext*, Response*)>;

// The lost response: a first call with a 1 ms deadline (the client gives up, the server may still
// commit), then `retries` calls with the same request. Returns the bytes of the (single) answer;
// fails the test if any retry fails or answers differently.
template <typename Response>
std::string LostResponseThenRetries(const Call<Response>& call, int retries, int* first_outcome) {
  {
    Response response;
    auto context = NewClientContext(nullptr, absl::Milliseconds(1));
    grpc::Status s = call(context.get(), &response);
    *first_outcome = s.error_code();
    EXPECT_TRUE(s.ok() || s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED)
        << s.error_code() << " " << s.error_message();
  }
  std::string first;
  int differing = 0;
  for (int i = 0; i < retries; ++i) {
    Response response;
    auto context = NewClientContext(nullptr, absl::Seconds(10));
    grpc::Status s = call(context.get(), &response);
    if (!s.ok()) {
      ADD_FAILURE() << "retry " << i << ": " << s.error_code() << " " << s.error_message();
      break;
    }
    const std::string bytes = Bytes(response);
    if (i == 0) {
      first = bytes;
    } else if (bytes != first) {
      ++differing;
    }
  }
  EXPECT_EQ(differing, 0) << "retries answered differently from the first retry";
  EXPECT_FALSE(first.empty());
  return first;
}

// `kParallel` calls with one request at once. Returns the bytes of the answer; fails the test if a
// call fails or the answers differ.
template <typename Response>
std::string Parallel(const Call<Response>& call) {
  std::vector<std::string> answers(kParallel);
  std::vector<grpc::Status> statuses(kParallel);
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  threads.reserve(kParallel);
  for (int t = 0; t < kParallel; ++t) {
    threads.emplace_back([&, t] {
      Response response;
      auto context = NewClientContext(nullptr, absl::Seconds(30));
      ++ready;
      while (ready.load() < kParallel) std::this_thread::yield();
      statuses[t] = call(context.get(), &response);
      answers[t] = Bytes(response);
    });
  }
  for (auto& thread : threads) thread.join();
  std::set<std::string> distinct;
  for (int t = 0; t < kParallel; ++t) {
    EXPECT_TRUE(statuses[t].ok()) << "call " << t << ": " << statuses[t].error_code() << " "
                                  << statuses[t].error_message();
    if (statuses[t].ok()) distinct.insert(answers[t]);
  }
  EXPECT_EQ(distinct.size(), 1u) << "parallel calls with one request_id answered differently";
  return distinct.empty() ? std::string() : *distinct.begin();
}

// The reason of an INVALID_ARGUMENT answer, or a description of what came instead.
std::string ReuseReason(const grpc::Status& s) {
  if (s.error_code() != grpc::StatusCode::INVALID_ARGUMENT) {
    return absl::StrCat("code ", s.error_code(), " ", s.error_message());
  }
  std::optional<google::rpc::ErrorInfo> info = GetErrorInfo(FromGrpcStatus(s));
  return info.has_value() ? info->reason() : "no ErrorInfo";
}

class IdempotencyTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("idempotency");
    const std::string key_file = dir_ + "/pii.key";
    std::ofstream(key_file) << pii::FieldCipher::GenerateKeySpec("k1") << "\n";
    absl::StatusOr<std::string> registry_db = testing::FreshDatabaseUrl(GetParam(), "idem_reg");
    ASSERT_TRUE(registry_db.ok()) << registry_db.status();
    absl::StatusOr<std::string> scheduling_db = testing::FreshDatabaseUrl(GetParam(), "idem_sch");
    ASSERT_TRUE(scheduling_db.ok()) << scheduling_db.status();

    registry_address_ = absl::StrCat("127.0.0.1:", testing::FreePort());
    auto registry =
        testing::ChildProcess::Start(LINLI_BIN_DIR "/linli-registry",
                                     {"--listen=" + registry_address_, "--db=" + *registry_db,
                                      "--pii_key_file=" + key_file, "--shutdown_deadline=5s"},
                                     dir_ + "/registry.log");
    ASSERT_TRUE(registry.ok()) << registry.status();
    registry_child_.emplace(std::move(*registry));
    scheduling_address_ = absl::StrCat("127.0.0.1:", testing::FreePort());
    auto scheduling =
        testing::ChildProcess::Start(LINLI_BIN_DIR "/linli-scheduling",
                                     {"--listen=" + scheduling_address_, "--db=" + *scheduling_db,
                                      "--registry_address=" + registry_address_,
                                      "--shutdown_deadline=5s", "--pii_key_file=" + key_file},
                                     dir_ + "/scheduling.log");
    ASSERT_TRUE(scheduling.ok()) << scheduling.status();
    scheduling_child_.emplace(std::move(*scheduling));
    ASSERT_TRUE(testing::WaitServing(registry_address_, "linli.registry.v1.RegistryService"))
        << dir_;
    ASSERT_TRUE(testing::WaitServing(scheduling_address_, "linli.scheduling.v1.SchedulingService"))
        << dir_;
    registry_ = RegistryService::NewStub(
        testing::PlatformPki::Shared().Channel(registry_address_, "linli-registry"));
    scheduling_ = SchedulingService::NewStub(
        testing::PlatformPki::Shared().Channel(scheduling_address_, "linli-scheduling"));
    SeedRegistry();
  }

  void TearDown() override {
    for (auto* child : {&scheduling_child_, &registry_child_}) {
      if (child->has_value()) {
        (*child)->Signal(SIGTERM);
        (void)(*child)->Wait(absl::Seconds(10));
      }
    }
  }

  // Regions down to a committee, the organisation "lelin", the service type "visiting".
  void SeedRegistry() {
    absl::Status seeded = testing::SeedVisitingStreet(*registry_);
    ASSERT_TRUE(seeded.ok()) << seeded;
  }

  static registry::v1::CreateOrganisationRequest OrganisationRequest(
      const std::string& id, const std::string& request_id) {
    registry::v1::CreateOrganisationRequest request;
    request.set_request_id(request_id);
    request.mutable_organisation()->set_id(id);
    request.mutable_organisation()->set_display_name("乐龄社工服务社");
    request.mutable_organisation()->set_kind(registry::v1::ORGANISATION_KIND_SOCIAL_ORGANISATION);
    request.mutable_organisation()->set_sector(registry::v1::SECTOR_SOCIAL);
    request.mutable_organisation()->set_region("regions/310101020");
    return request;
  }

  static registry::v1::CreateElderRequest ElderRequest(const std::string& display_name,
                                                       const std::string& request_id) {
    registry::v1::CreateElderRequest request;
    request.set_request_id(request_id);
    request.mutable_elder()->set_display_name(display_name);
    request.mutable_elder()->set_region(kCommittee);
    return request;
  }

  static scheduling::v1::CreateCommitmentRequest CommitmentRequest(const std::string& elder,
                                                                   const std::string& request_id,
                                                                   int care_grade) {
    scheduling::v1::CreateCommitmentRequest request;
    request.set_request_id(request_id);
    scheduling::v1::Commitment* c = request.mutable_commitment();
    c->set_elder(elder);
    c->set_service_type("serviceTypes/visiting");
    c->set_owner_organisation("organisations/lelin");
    c->set_valid_from("2026-12-01");
    c->set_care_grade(care_grade);
    return request;
  }

  // A new elder (without request_id); its resource name.
  std::string NewElder(const std::string& display_name) {
    registry::v1::CreateElderResponse response;
    auto context = NewClientContext(nullptr, absl::Seconds(10));
    grpc::Status s =
        registry_->CreateElder(context.get(), ElderRequest(display_name, ""), &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response.elder().name();
  }

  // Names of every elder in the committee, through ListElders.
  std::vector<std::string> ListElderNames() {
    std::vector<std::string> names;
    std::string token;
    do {
      registry::v1::ListEldersRequest request;
      request.set_region(kCommittee);
      request.set_page_size(100);
      request.set_page_token(token);
      registry::v1::ListEldersResponse response;
      auto context = NewClientContext(nullptr, absl::Seconds(10));
      grpc::Status s = registry_->ListElders(context.get(), request, &response);
      EXPECT_TRUE(s.ok()) << s.error_message();
      if (!s.ok()) break;
      for (const auto& elder : response.elders()) names.push_back(elder.name());
      token = response.next_page_token();
    } while (!token.empty());
    return names;
  }

  std::vector<std::string> ListOrganisationIds() {
    std::vector<std::string> ids;
    std::string token;
    do {
      registry::v1::ListOrganisationsRequest request;
      request.set_page_size(100);
      request.set_page_token(token);
      registry::v1::ListOrganisationsResponse response;
      auto context = NewClientContext(nullptr, absl::Seconds(10));
      grpc::Status s = registry_->ListOrganisations(context.get(), request, &response);
      EXPECT_TRUE(s.ok()) << s.error_message();
      if (!s.ok()) break;
      for (const auto& org : response.organisations()) ids.push_back(org.id());
      token = response.next_page_token();
    } while (!token.empty());
    return ids;
  }

  std::vector<std::string> ListCommitmentNames(const std::string& elder) {
    scheduling::v1::ListCommitmentsRequest request;
    request.set_elder(elder);
    request.set_page_size(100);
    scheduling::v1::ListCommitmentsResponse response;
    auto context = NewClientContext(nullptr, absl::Seconds(10));
    grpc::Status s = scheduling_->ListCommitments(context.get(), request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    std::vector<std::string> names;
    for (const auto& c : response.commitments()) names.push_back(c.name());
    return names;
  }

  Call<registry::v1::CreateElderResponse> CreateElderCall(
      const registry::v1::CreateElderRequest& request) {
    return [this, request](grpc::ClientContext* c, registry::v1::CreateElderResponse* r) {
      return registry_->CreateElder(c, request, r);
    };
  }
  Call<registry::v1::CreateOrganisationResponse> CreateOrganisationCall(
      const registry::v1::CreateOrganisationRequest& request) {
    return [this, request](grpc::ClientContext* c, registry::v1::CreateOrganisationResponse* r) {
      return registry_->CreateOrganisation(c, request, r);
    };
  }
  Call<scheduling::v1::CreateCommitmentResponse> CreateCommitmentCall(
      const scheduling::v1::CreateCommitmentRequest& request) {
    return [this, request](grpc::ClientContext* c, scheduling::v1::CreateCommitmentResponse* r) {
      return scheduling_->CreateCommitment(c, request, r);
    };
  }
  Call<scheduling::v1::AssignVisitResponse> AssignVisitCall(
      const scheduling::v1::AssignVisitRequest& request) {
    return [this, request](grpc::ClientContext* c, scheduling::v1::AssignVisitResponse* r) {
      return scheduling_->AssignVisit(c, request, r);
    };
  }

  std::string dir_;
  std::string registry_address_;
  std::string scheduling_address_;
  std::optional<testing::ChildProcess> registry_child_;
  std::optional<testing::ChildProcess> scheduling_child_;
  std::unique_ptr<RegistryService::Stub> registry_;
  std::unique_ptr<SchedulingService::Stub> scheduling_;
};

TEST_P(IdempotencyTest, RegistryCreatesApplyOnceWhateverTheRetries) {
  const int retries = Retries();
  const size_t elders_before = ListElderNames().size();
  const size_t orgs_before = ListOrganisationIds().size();

  // CreateElder, response lost, then retried.
  int first_outcome = 0;
  const auto elder_request = ElderRequest("张阿婆", "idem-elder-lost");
  const std::string elder_bytes =
      LostResponseThenRetries(CreateElderCall(elder_request), retries, &first_outcome);
  registry::v1::CreateElderResponse elder;
  ASSERT_TRUE(elder.ParseFromString(elder_bytes));
  std::vector<std::string> elders = ListElderNames();
  EXPECT_EQ(elders.size(), elders_before + 1) << "one elder whatever the retries";
  EXPECT_EQ(std::count(elders.begin(), elders.end(), elder.elder().name()), 1);

  // CreateElder, 50 at once.
  const std::string parallel_bytes =
      Parallel(CreateElderCall(ElderRequest("李阿公", "idem-elder-parallel")));
  EXPECT_NE(parallel_bytes, elder_bytes);
  EXPECT_EQ(ListElderNames().size(), elders_before + 2) << "50 parallel calls, one elder";

  // CreateOrganisation, response lost, then retried; and 50 at once.
  const std::string org_bytes =
      LostResponseThenRetries(CreateOrganisationCall(OrganisationRequest("anxin", "idem-org-lost")),
                              retries, &first_outcome);
  registry::v1::CreateOrganisationResponse org;
  ASSERT_TRUE(org.ParseFromString(org_bytes));
  EXPECT_EQ(org.organisation().id(), "anxin");
  Parallel(CreateOrganisationCall(OrganisationRequest("huiling", "idem-org-parallel")));
  std::vector<std::string> orgs = ListOrganisationIds();
  EXPECT_EQ(orgs.size(), orgs_before + 2);
  EXPECT_EQ(std::count(orgs.begin(), orgs.end(), "anxin"), 1);
  EXPECT_EQ(std::count(orgs.begin(), orgs.end(), "huiling"), 1);

  // The same ids with other payloads are refused, and change nothing.
  {
    registry::v1::CreateElderResponse response;
    auto context = NewClientContext(nullptr, absl::Seconds(10));
    grpc::Status s =
        registry_->CreateElder(context.get(), ElderRequest("王阿婆", "idem-elder-lost"), &response);
    EXPECT_EQ(ReuseReason(s), "ERROR_REASON_REQUEST_ID_REUSED");
  }
  {
    registry::v1::CreateOrganisationResponse response;
    auto context = NewClientContext(nullptr, absl::Seconds(10));
    grpc::Status s = registry_->CreateOrganisation(
        context.get(), OrganisationRequest("other", "idem-org-lost"), &response);
    EXPECT_EQ(ReuseReason(s), "ERROR_REASON_REQUEST_ID_REUSED");
  }
  EXPECT_EQ(ListElderNames().size(), elders_before + 2);
  EXPECT_EQ(ListOrganisationIds().size(), orgs_before + 2);
  std::printf("idempotency[%s]: registry, %d retries per lost response (first call: code %d)\n",
              GetParam().c_str(), retries, first_outcome);
}

TEST_P(IdempotencyTest, SchedulingCommitmentsAndAssignmentsApplyOnce) {
  const int retries = Retries();
  const std::string lost_elder = NewElder("赵阿婆");
  const std::string parallel_elder = NewElder("钱阿公");
  ASSERT_FALSE(HasFailure());
  // The channel is connected before the 1 ms call, so that the call reaches the server.
  EXPECT_TRUE(ListCommitmentNames(lost_elder).empty());

  // CreateCommitment, response lost, then retried.
  int first_outcome = 0;
  const std::string commitment_bytes = LostResponseThenRetries(
      CreateCommitmentCall(CommitmentRequest(lost_elder, "idem-commitment-lost", 4)), retries,
      &first_outcome);
  scheduling::v1::CreateCommitmentResponse commitment;
  ASSERT_TRUE(commitment.ParseFromString(commitment_bytes));
  EXPECT_EQ(ListCommitmentNames(lost_elder),
            std::vector<std::string>{commitment.commitment().name()});

  // CreateCommitment, 50 at once.
  scheduling::v1::CreateCommitmentResponse parallel;
  ASSERT_TRUE(parallel.ParseFromString(Parallel(
      CreateCommitmentCall(CommitmentRequest(parallel_elder, "idem-commitment-parallel", 4)))));
  EXPECT_EQ(ListCommitmentNames(parallel_elder),
            std::vector<std::string>{parallel.commitment().name()});

  // Same id, other payload (another care grade).
  {
    scheduling::v1::CreateCommitmentResponse response;
    auto context = NewClientContext(nullptr, absl::Seconds(10));
    grpc::Status s = scheduling_->CreateCommitment(
        context.get(), CommitmentRequest(lost_elder, "idem-commitment-lost", 2), &response);
    EXPECT_EQ(ReuseReason(s), "ERROR_REASON_REQUEST_ID_REUSED");
    EXPECT_EQ(ListCommitmentNames(lost_elder).size(), 1u);
  }

  // AssignVisit: visits of one week, a worker, two Monday visits (one per commitment).
  {
    scheduling::v1::MaterializeVisitsRequest request;
    request.set_from_date("2026-12-07");  // a Monday
    request.set_days(7);
    scheduling::v1::MaterializeVisitsResponse response;
    auto context = NewClientContext(nullptr, absl::Seconds(30));
    grpc::Status s = scheduling_->MaterializeVisits(context.get(), request, &response);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  std::string worker;
  {
    registry::v1::CreateWorkerRequest request;
    request.mutable_worker()->set_display_name("王社工");
    request.mutable_worker()->set_organisation("organisations/lelin");
    request.mutable_worker()->add_skills("visiting");
    registry::v1::CreateWorkerResponse response;
    auto context = NewClientContext(nullptr, absl::Seconds(10));
    grpc::Status s = registry_->CreateWorker(context.get(), request, &response);
    ASSERT_TRUE(s.ok()) << s.error_message();
    worker = response.worker().name();
  }
  auto monday_visit = [&](const std::string& commitment_name) -> scheduling::v1::Visit {
    scheduling::v1::ListVisitsRequest request;
    request.set_commitment(commitment_name);
    request.set_from_date("2026-12-07");
    request.set_to_date("2026-12-08");
    scheduling::v1::ListVisitsResponse response;
    auto context = NewClientContext(nullptr, absl::Seconds(10));
    grpc::Status s = scheduling_->ListVisits(context.get(), request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(response.visits_size(), 1) << commitment_name;
    return response.visits_size() > 0 ? response.visits(0) : scheduling::v1::Visit();
  };
  const std::string visit = monday_visit(commitment.commitment().name()).name();
  ASSERT_FALSE(visit.empty());
  scheduling::v1::AssignVisitRequest assign;
  assign.set_name(visit);
  assign.set_worker(worker);
  assign.set_request_id("idem-assign-lost");
  scheduling::v1::AssignVisitResponse assigned;
  ASSERT_TRUE(assigned.ParseFromString(
      LostResponseThenRetries(AssignVisitCall(assign), retries, &first_outcome)));
  EXPECT_EQ(assigned.visit().assignments_size(), 1);
  EXPECT_EQ(monday_visit(commitment.commitment().name()).assignments_size(), 1)
      << "one assignment whatever the retries";

  // The same id for another visit is refused and assigns nothing there.
  const std::string other_visit = monday_visit(parallel.commitment().name()).name();
  ASSERT_FALSE(other_visit.empty());
  {
    scheduling::v1::AssignVisitRequest other = assign;
    other.set_name(other_visit);
    scheduling::v1::AssignVisitResponse response;
    auto context = NewClientContext(nullptr, absl::Seconds(10));
    grpc::Status s = scheduling_->AssignVisit(context.get(), other, &response);
    EXPECT_EQ(ReuseReason(s), "ERROR_REASON_REQUEST_ID_REUSED");
    EXPECT_EQ(monday_visit(parallel.commitment().name()).assignments_size(), 0);
  }
  std::printf("idempotency[%s]: scheduling, %d retries per lost response (first call: code %d)\n",
              GetParam().c_str(), retries, first_outcome);
}

INSTANTIATE_TEST_SUITE_P(Backends, IdempotencyTest, ::testing::ValuesIn(testing::Backends()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace linli
