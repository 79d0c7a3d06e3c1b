// The registry's gRPC surface on a real loopback server, against SQLite and MariaDB.
#include "services/registry/registry_service.h"
#include "tests/support/registry_test_server.h"

#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/client.h"
#include "common/errors.h"
#include "common/grpc_status.h"
#include "common/pii/field_cipher.h"
#include "common/server.h"
#include "grpcpp/create_channel.h"
#include "gtest/gtest.h"
#include "services/registry/registry_store.h"
#include "tests/support/test_env.h"

namespace linli::registry {
namespace {

using v1::CreateRegionRequest;
using v1::CreateRegionResponse;

class RegistryServiceTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto started = RegistryTestServer::Start(GetParam(), "registry", Clock::Real());
    ASSERT_TRUE(started.ok()) << started.status();
    harness_ = std::move(*started);
    url_ = harness_->url;
    db_ = harness_->db.get();
    stub_ = harness_->stub.get();
  }

  grpc::Status Create(const std::string& code, const std::string& display_name,
                      v1::RegionLevel level, const std::string& parent,
                      CreateRegionResponse* response = nullptr,
                      const std::string& request_id = "") {
    CreateRegionRequest request;
    request.mutable_region()->set_code(code);
    request.mutable_region()->set_display_name(display_name);
    request.mutable_region()->set_level(level);
    request.mutable_region()->set_parent(parent);
    request.set_request_id(request_id);
    CreateRegionResponse ignored;
    return Call(request, response != nullptr ? response : &ignored);
  }

  grpc::Status Call(const CreateRegionRequest& request, CreateRegionResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    return stub_->CreateRegion(&context, request, response);
  }

  void CreateDemoTree() {
    ASSERT_TRUE(Create("310000", "上海市", v1::REGION_LEVEL_MUNICIPALITY, "").ok());
    ASSERT_TRUE(Create("310101", "黄浦区", v1::REGION_LEVEL_DISTRICT, "regions/310000").ok());
    ASSERT_TRUE(Create("310101020", "五里桥街道", v1::REGION_LEVEL_STREET, "regions/310101").ok());
  }

  int64_t CountRegions() {
    int64_t count = -1;
    EXPECT_TRUE(db_->RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
                     auto rows = tx.Query("SELECT COUNT(*) FROM regions");
                     if (!rows.ok()) return rows.status();
                     count = (*rows)[0].GetInt(0);
                     return absl::OkStatus();
                   })
                    .ok());
    return count;
  }

  v1::ListRegionsResponse List(const std::string& parent, int page_size, const std::string& token,
                               grpc::Status* status) {
    v1::ListRegionsRequest request;
    request.set_parent(parent);
    request.set_page_size(page_size);
    request.set_page_token(token);
    v1::ListRegionsResponse response;
    grpc::ClientContext context;
    *status = stub_->ListRegions(&context, request, &response);
    return response;
  }

  static std::string ViolatedField(const grpc::Status& status) {
    auto bad_request = GetBadRequest(FromGrpcStatus(status));
    return bad_request.has_value() && bad_request->field_violations_size() > 0
               ? bad_request->field_violations(0).field()
               : "(no field violation)";
  }

  static std::string Reason(const grpc::Status& status) {
    auto info = GetErrorInfo(FromGrpcStatus(status));
    return info.has_value() ? info->reason() : "(no reason)";
  }

  std::unique_ptr<RegistryTestServer> harness_;
  std::string url_;
  storage::Database* db_ = nullptr;
  v1::RegistryService::Stub* stub_ = nullptr;
};

TEST_P(RegistryServiceTest, CreatesAndReadsTheTerritorialTreeInChinese) {
  CreateDemoTree();
  CreateRegionResponse created;
  ASSERT_TRUE(Create("310101020001", "桥一居民区 🏘", v1::REGION_LEVEL_COMMITTEE,
                     "regions/310101020", &created)
                  .ok());
  EXPECT_EQ(created.region().name(), "regions/310101020001");
  EXPECT_GT(created.region().create_time().seconds(), 0);

  v1::GetRegionRequest get;
  get.set_name("regions/310101020001");
  v1::GetRegionResponse got;
  grpc::ClientContext context;
  ASSERT_TRUE(stub_->GetRegion(&context, get, &got).ok());
  EXPECT_EQ(got.region().display_name(), "桥一居民区 🏘");
  EXPECT_EQ(got.region().level(), v1::REGION_LEVEL_COMMITTEE);
  EXPECT_EQ(got.region().parent(), "regions/310101020");
  EXPECT_EQ(got.region().create_time().seconds(), created.region().create_time().seconds());

  get.set_name("regions/999999");
  grpc::ClientContext missing_context;
  grpc::Status missing = stub_->GetRegion(&missing_context, get, &got);
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Reason(missing), "ERROR_REASON_NOT_FOUND");

  get.set_name("310101");
  grpc::ClientContext bad_context;
  grpc::Status bad = stub_->GetRegion(&bad_context, get, &got);
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ViolatedField(bad), "name");
}

TEST_P(RegistryServiceTest, BadInputNamesTheFieldAndWritesNothing) {
  CreateDemoTree();
  const int64_t before = CountRegions();

  grpc::Status empty_name = Create("310101021", "", v1::REGION_LEVEL_STREET, "regions/310101");
  EXPECT_EQ(empty_name.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ViolatedField(empty_name), "region.display_name");

  grpc::Status unknown_parent =
      Create("310101021", "打浦桥街道", v1::REGION_LEVEL_STREET, "regions/310199");
  EXPECT_EQ(unknown_parent.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ViolatedField(unknown_parent), "region.parent");

  grpc::Status skipped_level =
      Create("310101999", "某居民区", v1::REGION_LEVEL_COMMITTEE, "regions/310101");
  EXPECT_EQ(skipped_level.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ViolatedField(skipped_level), "region.parent");

  grpc::Status no_level =
      Create("310101021", "打浦桥街道", v1::REGION_LEVEL_UNSPECIFIED, "regions/310101");
  EXPECT_EQ(ViolatedField(no_level), "region.level");

  grpc::Status orphan = Create("310102", "某区", v1::REGION_LEVEL_DISTRICT, "");
  EXPECT_EQ(ViolatedField(orphan), "region.parent");

  grpc::Status duplicate = Create("310101", "黄浦区", v1::REGION_LEVEL_DISTRICT, "regions/310000");
  EXPECT_EQ(duplicate.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(Reason(duplicate), "ERROR_REASON_ALREADY_EXISTS");

  EXPECT_EQ(CountRegions(), before);
}

TEST_P(RegistryServiceTest, RequestIdReplaysTheFirstResponseAndRejectsOtherPayloads) {
  CreateDemoTree();
  CreateRegionResponse first;
  ASSERT_TRUE(
      Create("310101021", "打浦桥街道", v1::REGION_LEVEL_STREET, "regions/310101", &first, "req-1")
          .ok());
  for (int i = 0; i < 5; ++i) {
    CreateRegionResponse again;
    ASSERT_TRUE(Create("310101021", "打浦桥街道", v1::REGION_LEVEL_STREET, "regions/310101", &again,
                       "req-1")
                    .ok());
    EXPECT_EQ(again.SerializeAsString(), first.SerializeAsString());
  }
  grpc::Status reused = Create("310101022", "淮海中路街道", v1::REGION_LEVEL_STREET,
                               "regions/310101", nullptr, "req-1");
  EXPECT_EQ(reused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ViolatedField(reused), "request_id");
  EXPECT_EQ(Reason(reused), "ERROR_REASON_REQUEST_ID_REUSED");

  // A failed call stores nothing: the same id may be used again once the input is fixed.
  EXPECT_FALSE(
      Create("310101023", "", v1::REGION_LEVEL_STREET, "regions/310101", nullptr, "req-2").ok());
  EXPECT_TRUE(Create("310101023", "瑞金二路街道", v1::REGION_LEVEL_STREET, "regions/310101",
                     nullptr, "req-2")
                  .ok());
}

TEST_P(RegistryServiceTest, ParallelCallsWithOneRequestIdHaveOneEffect) {
  CreateDemoTree();
  const int64_t before = CountRegions();
  constexpr int kCalls = 20;
  std::vector<CreateRegionResponse> responses(kCalls);
  std::vector<grpc::Status> statuses(kCalls);
  std::vector<std::thread> threads;
  for (int i = 0; i < kCalls; ++i) {
    threads.emplace_back([&, i] {
      statuses[i] = Create("310101024", "豫园街道", v1::REGION_LEVEL_STREET, "regions/310101",
                           &responses[i], "same-id");
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kCalls; ++i) {
    ASSERT_TRUE(statuses[i].ok()) << i << ": " << statuses[i].error_message();
    EXPECT_EQ(responses[i].SerializeAsString(), responses[0].SerializeAsString());
  }
  EXPECT_EQ(CountRegions(), before + 1);
}

TEST_P(RegistryServiceTest, PagesAreCappedStableAndTokensAreChecked) {
  CreateDemoTree();
  // 520 committees under the street, written directly for speed.
  ASSERT_TRUE(db_->RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
                   for (int i = 0; i < 520; ++i) {
                     Region r{absl::StrCat("310101020", 100 + i),
                              absl::StrCat("居民区", i),
                              RegionLevel::kCommittee,
                              "310101020",
                              absl::Now(),
                              absl::StrCat("310000/310101/310101020/310101020", 100 + i, "/")};
                     if (auto s = InsertRegion(tx, r); !s.ok()) return s;
                   }
                   return absl::OkStatus();
                 })
                  .ok());
  grpc::Status status;
  v1::ListRegionsResponse capped = List("regions/310101020", 100000, "", &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(capped.regions_size(), 500);
  EXPECT_FALSE(capped.next_page_token().empty());

  std::set<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    v1::ListRegionsResponse page = List("regions/310101020", 200, token, &status);
    ASSERT_TRUE(status.ok()) << status.error_message();
    for (const auto& r : page.regions()) EXPECT_TRUE(seen.insert(r.code()).second) << r.code();
    token = page.next_page_token();
    ++pages;
  } while (!token.empty());
  EXPECT_EQ(seen.size(), 520u);
  EXPECT_EQ(pages, 3);

  List("", -1, "", &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ViolatedField(status), "page_size");

  List("regions/310101020", 10, "bm90LWEtdG9rZW4", &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ViolatedField(status), "page_token");

  // A genuine token used with another query.
  List("regions/310101", 10, capped.next_page_token(), &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Reason(status), "ERROR_REASON_INVALID_PAGE_TOKEN");

  // A token with one byte changed.
  std::string tampered = capped.next_page_token();
  tampered[tampered.size() / 2] = tampered[tampered.size() / 2] == 'A' ? 'B' : 'A';
  List("regions/310101020", 10, tampered, &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

INSTANTIATE_TEST_SUITE_P(Backends, RegistryServiceTest, ::testing::ValuesIn(testing::Backends()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace linli::registry
