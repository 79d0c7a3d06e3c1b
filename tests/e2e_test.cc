// End to end: the four real binaries on free loopback ports, once with SQLite files and once with
// the MariaDB that `make test` starts. Regions are created and read through the gateway (gRPC and
// JSON), every service reports SERVING and lists its API through reflection, and SIGTERM stops
// each process with exit code 0.
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>

#include <fstream>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "common/auth/jwt.h"
#include "common/client.h"
#include "common/clock.h"
#include "common/errors.h"
#include "common/grpc_probe.h"
#include "common/grpc_status.h"
#include "common/pii/field_cipher.h"
#include "common/recurrence/rrule.h"
#include "gtest/gtest.h"
#include "linli/feedback/v1/feedback.grpc.pb.h"
#include "linli/gateway/v1/console.grpc.pb.h"
#include "linli/registry/v1/registry.grpc.pb.h"
#include "linli/scheduling/v1/scheduling.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "tests/support/backends.h"
#include "tests/support/platform_pki.h"
#include "tests/support/test_env.h"

namespace linli {
namespace {

using gateway::v1::ConsoleService;

struct Process {
  std::string name;
  std::string api;  // fully-qualified gRPC service name
  std::string address;
  std::optional<testing::ChildProcess> child;
};

class EndToEndTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("e2e");
    const std::string key_file = dir_ + "/pii.key";
    std::ofstream(key_file) << pii::FieldCipher::GenerateKeySpec("k1") << "\n";
    // The gateway's token key set and an admin token for the calls below (the matrix of roles is
    // services/gateway/gateway_authz_test.cc).
    const std::string jwt_keys = dir_ + "/jwt-keys.json";
    token_ = testing::WriteDevKeysAndAdminToken(jwt_keys, "ops/e2e");
    http_port_ = testing::FreePort();
    std::map<std::string, std::string> db_urls;
    for (const char* name : {"registry", "scheduling", "feedback"}) {
      absl::StatusOr<std::string> url =
          testing::FreshDatabaseUrl(GetParam(), absl::StrCat("e2e_", name));
      ASSERT_TRUE(url.ok()) << url.status();
      db_urls[name] = *url;
    }
    const std::pair<const char*, const char*> services[] = {
        {"registry", "linli.registry.v1.RegistryService"},
        {"scheduling", "linli.scheduling.v1.SchedulingService"},
        {"feedback", "linli.feedback.v1.FeedbackService"},
        {"gateway", "linli.gateway.v1.ConsoleService"},
    };
    for (const auto& [name, api] : services) {
      processes_.push_back(Process{name, api, Address(), std::nullopt});
    }
    for (Process& p : processes_) {
      std::vector<std::string> args = {"--listen=" + p.address, "--shutdown_deadline=5s"};
      if (p.name == "gateway") {
        args.push_back(absl::StrCat("--http_listen=127.0.0.1:", http_port_));
        args.push_back("--registry_address=" + processes_[0].address);
        args.push_back("--scheduling_address=" + processes_[1].address);
        args.push_back("--feedback_address=" + processes_[2].address);
        args.push_back("--jwt_keys_file=" + jwt_keys);
      } else {
        args.push_back("--db=" + db_urls[p.name]);
      }
      if (p.name != "gateway") args.push_back("--pii_key_file=" + key_file);
      if (p.name == "scheduling") args.push_back("--registry_address=" + processes_[0].address);
      if (p.name == "feedback") {  // consumes scheduling's events, asks the registry
        args.push_back("--registry_address=" + processes_[0].address);
        args.push_back("--scheduling_address=" + processes_[1].address);
      }
      auto child = testing::ChildProcess::Start(absl::StrCat(LINLI_BIN_DIR, "/linli-", p.name),
                                                args, absl::StrCat(dir_, "/", p.name, ".log"));
      ASSERT_TRUE(child.ok()) << child.status();
      p.child.emplace(std::move(*child));
    }
    for (Process& p : processes_)
      ASSERT_TRUE(testing::WaitServing(p.address, p.api, absl::Seconds(30)))
          << p.name << " never became SERVING; see " << dir_;
    gateway_ = ConsoleService::NewStub(NewChannel(processes_[3].address, {}));
  }

  // A call context carrying the admin token.
  std::unique_ptr<grpc::ClientContext> Authed(int seconds) const {
    auto context = NewClientContext(nullptr, absl::Seconds(seconds));
    context->AddMetadata("authorization", "Bearer " + token_);
    return context;
  }

  static std::string Address() { return absl::StrCat("127.0.0.1:", testing::FreePort()); }

  grpc::Status CreateRegion(const std::string& code, const std::string& display_name,
                            registry::v1::RegionLevel level, const std::string& parent) {
    gateway::v1::CreateRegionRequest request;
    request.mutable_region()->set_code(code);
    request.mutable_region()->set_display_name(display_name);
    request.mutable_region()->set_level(level);
    request.mutable_region()->set_parent(parent);
    gateway::v1::CreateRegionResponse response;
    auto context = Authed(10);
    return gateway_->CreateRegion(context.get(), request, &response);
  }

  httplib::Result PostJson(const std::string& path, const std::string& body) {
    httplib::Client client("127.0.0.1", http_port_);
    client.set_read_timeout(10, 0);
    return client.Post(path.c_str(), {{"Authorization", "Bearer " + token_}}, body,
                       "application/json");
  }

  // SIGTERM, then exit code 0 within the grace period and no process left.
  void StopCleanly(Process& p) {
    ASSERT_TRUE(p.child.has_value());
    pid_t pid = p.child->pid();
    ASSERT_TRUE(p.child->Signal(SIGTERM));
    absl::StatusOr<int> status = p.child->Wait(absl::Seconds(15));
    ASSERT_TRUE(status.ok()) << p.name << " did not exit after SIGTERM";
    EXPECT_TRUE(WIFEXITED(*status)) << p.name;
    EXPECT_EQ(WEXITSTATUS(*status), 0) << p.name << "; log in " << dir_;
    EXPECT_EQ(kill(pid, 0), -1) << p.name << " still exists";
    p.child.reset();
  }

  std::string dir_;
  std::string token_;
  int http_port_ = 0;
  std::vector<Process> processes_;
  std::unique_ptr<ConsoleService::Stub> gateway_;
};

TEST_P(EndToEndTest, RegionsThroughTheGatewayHealthReflectionAndCleanShutdown) {
  for (Process& p : processes_) {
    const std::string peer = testing::PeerOfApi(p.api);
    auto channel = peer.empty() ? NewChannel(p.address, {})
                                : testing::PlatformPki::Shared().Channel(p.address, peer);
    auto overall = CheckHealth(*channel, "", absl::Seconds(2));
    ASSERT_TRUE(overall.ok()) << p.name << ": " << overall.status();
    EXPECT_EQ(*overall, HealthStatus::kServing) << p.name;
    auto services = ListServices(*channel, absl::Seconds(2));
    ASSERT_TRUE(services.ok()) << p.name << ": " << services.status();
    EXPECT_NE(std::find(services->begin(), services->end(), p.api), services->end()) << p.name;
  }

  // gRPC through the gateway, Chinese names end to end.
  ASSERT_TRUE(CreateRegion("310000", "上海市", registry::v1::REGION_LEVEL_MUNICIPALITY, "").ok());
  ASSERT_TRUE(
      CreateRegion("310101", "黄浦区", registry::v1::REGION_LEVEL_DISTRICT, "regions/310000").ok());
  ASSERT_TRUE(
      CreateRegion("310101020", "五里桥街道", registry::v1::REGION_LEVEL_STREET, "regions/310101")
          .ok());
  gateway::v1::GetRegionRequest get;
  get.set_name("regions/310101020");
  gateway::v1::GetRegionResponse got;
  auto get_context = Authed(10);
  ASSERT_TRUE(gateway_->GetRegion(get_context.get(), get, &got).ok());
  EXPECT_EQ(got.region().display_name(), "五里桥街道");
  EXPECT_EQ(got.region().parent(), "regions/310101");

  // Without a token: UNAUTHENTICATED over gRPC, 401 over JSON.
  {
    grpc::ClientContext anonymous;
    EXPECT_EQ(gateway_->GetRegion(&anonymous, get, &got).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
    httplib::Client client("127.0.0.1", http_port_);
    auto refused = client.Post("/linli.gateway.v1.ConsoleService/GetRegion",
                               R"({"name":"regions/310101"})", "application/json");
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->status, 401);
    EXPECT_EQ(nlohmann::json::parse(refused->body)["code"], "unauthenticated");
  }

  // Bad input: the backend's field violation reaches the gateway's caller intact.
  grpc::Status bad = CreateRegion("310101020009", "某居民区", registry::v1::REGION_LEVEL_COMMITTEE,
                                  "regions/310101");
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  auto bad_request = GetBadRequest(FromGrpcStatus(bad));
  ASSERT_TRUE(bad_request.has_value());
  EXPECT_EQ(bad_request->field_violations(0).field(), "region.parent");

  // Connect-style JSON on the HTTP port.
  auto created = PostJson("/linli.gateway.v1.ConsoleService/CreateRegion",
                          R"({"region":{"code":"310101020001","displayName":"桥一居民区",)"
                          R"("level":"REGION_LEVEL_COMMITTEE","parent":"regions/310101020"},)"
                          R"("requestId":"e2e-1"})");
  ASSERT_TRUE(created);
  EXPECT_EQ(created->status, 200) << created->body;
  auto listed =
      PostJson("/linli.gateway.v1.ConsoleService/ListRegions", R"({"parent":"regions/310101020"})");
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->status, 200) << listed->body;
  auto list_json = nlohmann::json::parse(listed->body);
  ASSERT_EQ(list_json["regions"].size(), 1u);
  EXPECT_EQ(list_json["regions"][0]["displayName"], "桥一居民区");

  auto missing =
      PostJson("/linli.gateway.v1.ConsoleService/GetRegion", R"({"name":"regions/999999"})");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(nlohmann::json::parse(missing->body)["code"], "not_found");

  auto invalid = PostJson("/linli.gateway.v1.ConsoleService/ListRegions", R"({"pageSize":-5})");
  ASSERT_TRUE(invalid);
  EXPECT_EQ(invalid->status, 400);
  auto invalid_json = nlohmann::json::parse(invalid->body);
  EXPECT_EQ(invalid_json["code"], "invalid_argument");
  bool names_page_size = false;
  for (const auto& detail : invalid_json["details"]) {
    if (detail["type"] == "google.rpc.BadRequest") {
      names_page_size = detail["debug"]["fieldViolations"][0]["field"] == "page_size";
    }
  }
  EXPECT_TRUE(names_page_size) << invalid->body;

  auto malformed = PostJson("/linli.gateway.v1.ConsoleService/ListRegions", R"({"pageSize":)");
  ASSERT_TRUE(malformed);
  EXPECT_EQ(malformed->status, 400);
  // A header gRPC cannot carry is refused, not forwarded (gRPC would abort the process).
  {
    httplib::Client client("127.0.0.1", http_port_);
    httplib::Headers headers = {{"X-Request-Id", "%01abc"}};
    auto refused = client.Post("/linli.gateway.v1.ConsoleService/GetRegion", headers,
                               R"({"name":"regions/310101"})", "application/json");
    ASSERT_TRUE(refused) << "the gateway did not answer";
    EXPECT_EQ(refused->status, 400);
    EXPECT_EQ(nlohmann::json::parse(refused->body)["code"], "invalid_argument");
  }
  // Thousands of bad entries still give INVALID_ARGUMENT (details are bounded).
  {
    nlohmann::json many = {{"region", "regions/310101020"}, {"lines", nlohmann::json::array()}};
    for (int i = 0; i < 3000; ++i) many["lines"].push_back("not a line");
    auto invalid_many = PostJson("/linli.gateway.v1.ConsoleService/GetMap", many.dump());
    ASSERT_TRUE(invalid_many);
    EXPECT_EQ(invalid_many->status, 400) << invalid_many->body.substr(0, 200);
  }
  auto unknown = PostJson("/linli.gateway.v1.ConsoleService/Nope", "{}");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);

  // Personal data: registered at the registry, read in full through the gateway (audited); the
  // plaintext ID number and phone must appear in no log line.
  const std::string id_number = "31010119450101106X";  // valid GB 11643 check character
  const std::string phone = "13912345678";
  std::string elder_name;
  {
    auto registry = registry::v1::RegistryService::NewStub(
        testing::PlatformPki::Shared().Channel(processes_[0].address, "linli-registry"));
    ASSERT_TRUE(CreateRegion("310101020002", "桥二居民区", registry::v1::REGION_LEVEL_COMMITTEE,
                             "regions/310101020")
                    .ok());
    registry::v1::CreateElderRequest create;
    registry::v1::Elder* elder = create.mutable_elder();
    elder->set_display_name("王秀英");
    elder->set_region("regions/310101020002");
    elder->set_id_number(id_number);
    elder->set_phone(phone);
    elder->set_address("上海市黄浦区局门路100弄1号101室");
    elder->add_consents()->set_purpose(registry::v1::CONSENT_PURPOSE_PERSONAL_DATA);
    elder->mutable_consents(0)->set_granted(true);
    registry::v1::CreateElderResponse created_elder;
    auto create_context = Authed(10);
    grpc::Status created_status =
        registry->CreateElder(create_context.get(), create, &created_elder);
    ASSERT_TRUE(created_status.ok()) << created_status.error_message();
    EXPECT_EQ(created_elder.elder().phone(), "139****5678");
    elder_name = created_elder.elder().name();
    // What a commitment refers to: an organisation and a service.
    registry::v1::CreateOrganisationRequest org;
    org.mutable_organisation()->set_id("lelin");
    org.mutable_organisation()->set_display_name("乐龄社工服务社");
    org.mutable_organisation()->set_kind(registry::v1::ORGANISATION_KIND_SOCIAL_ORGANISATION);
    org.mutable_organisation()->set_sector(registry::v1::SECTOR_SOCIAL);
    org.mutable_organisation()->set_region("regions/310101020");
    registry::v1::CreateOrganisationResponse org_out;
    auto org_context = Authed(10);
    ASSERT_TRUE(registry->CreateOrganisation(org_context.get(), org, &org_out).ok());
    registry::v1::CreateServiceTypeRequest type;
    type.mutable_service_type()->set_code("visiting");
    type.mutable_service_type()->set_display_name("探访");
    registry::v1::CreateServiceTypeResponse type_out;
    auto type_context = Authed(10);
    ASSERT_TRUE(registry->CreateServiceType(type_context.get(), type, &type_out).ok());
    registry::v1::GetElderRequest full;
    full.set_name(created_elder.elder().name());
    full.set_view(registry::v1::ELDER_VIEW_FULL);
    full.set_reason("e2e: check the contact number");
    registry::v1::GetElderResponse full_elder;
    auto full_context = Authed(10);
    full_context->AddMetadata("x-linli-actor", "forged-admin");  // must not be trusted
    ASSERT_TRUE(gateway_->GetElder(full_context.get(), full, &full_elder).ok());
    EXPECT_EQ(full_elder.elder().id_number(), id_number);
    registry::v1::ListAuditEntriesRequest audit_request;
    audit_request.set_elder(created_elder.elder().name());
    registry::v1::ListAuditEntriesResponse audit;
    auto audit_context = Authed(10);
    ASSERT_TRUE(gateway_->ListAuditEntries(audit_context.get(), audit_request, &audit).ok());
    ASSERT_EQ(audit.entries_size(), 1);
    EXPECT_EQ(audit.entries(0).actor(), "admin:ops/e2e");  // the principal, not the forged header
    EXPECT_EQ(audit.entries(0).reason(), "e2e: check the contact number");
  }

  // A promise made at scheduling, its visits read through the gateway.
  {
    auto scheduling = scheduling::v1::SchedulingService::NewStub(
        testing::PlatformPki::Shared().Channel(processes_[1].address, "linli-scheduling"));
    scheduling::v1::CreateCommitmentRequest create;
    scheduling::v1::Commitment* c = create.mutable_commitment();
    c->set_elder(elder_name);
    c->set_service_type("serviceTypes/visiting");
    c->set_owner_organisation("organisations/lelin");  // created above
    c->set_valid_from("2026-12-01");
    c->set_care_grade(4);  // five visits a week
    scheduling::v1::CreateCommitmentResponse created_commitment;
    auto c1 = Authed(10);
    ASSERT_TRUE(scheduling->CreateCommitment(c1.get(), create, &created_commitment).ok());
    scheduling::v1::MaterializeVisitsRequest materialize;
    materialize.set_from_date("2026-12-07");  // a Monday
    materialize.set_days(7);
    scheduling::v1::MaterializeVisitsResponse materialized;
    auto c2 = Authed(10);
    ASSERT_TRUE(scheduling->MaterializeVisits(c2.get(), materialize, &materialized).ok());
    EXPECT_EQ(materialized.created(), 5);
    auto listed_visits =
        PostJson("/linli.gateway.v1.ConsoleService/ListVisits",
                 absl::StrCat(R"({"elder":")", elder_name, R"(","fromDate":"2026-12-07"})"));
    ASSERT_TRUE(listed_visits);
    ASSERT_EQ(listed_visits->status, 200) << listed_visits->body;
    EXPECT_EQ(nlohmann::json::parse(listed_visits->body)["visits"].size(), 5u);
  }

  // Registry stops first: the gateway still answers, with UNAVAILABLE rather than INTERNAL.
  StopCleanly(processes_[0]);
  auto down_context = Authed(5);
  grpc::Status down = gateway_->GetRegion(down_context.get(), get, &got);
  EXPECT_EQ(down.error_code(), grpc::StatusCode::UNAVAILABLE) << down.error_message();

  gateway_.reset();
  for (size_t i = 1; i < processes_.size(); ++i) StopCleanly(processes_[i]);

  for (const Process& p : processes_) {
    std::ifstream in(absl::StrCat(dir_, "/", p.name, ".log"));
    std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_FALSE(log.empty()) << p.name;
    EXPECT_EQ(log.find(id_number), std::string::npos) << p.name << " logged an ID number";
    EXPECT_EQ(log.find(phone), std::string::npos) << p.name << " logged a phone number";
  }
}

// `make run`'s demo street lives in the present, whatever the date (`make test-future` runs this
// with every process's clock 400 days ahead): `linli seed-demo` makes promises valid from four
// Mondays before this week's (Asia/Shanghai), imports their past (each visit of a closed window
// completed, missed or cancelled, and the elders' answers) and materialises visits from today
// through the Sunday of next week; run again (a later `make run`), it adds nothing it already made.
TEST_P(EndToEndTest, TheDemoStreetLivesInTheCurrentWeekWithItsPast) {
  auto seed = [&](const std::string& log) {
    auto child = testing::ChildProcess::Start(
        LINLI_BIN_DIR "/linli",
        {"--registry_address=" + processes_[0].address,
         "--scheduling_address=" + processes_[1].address,
         "--feedback_address=" + processes_[2].address, "--demo_elders=300", "seed-demo"},
        absl::StrCat(dir_, "/", log));
    ASSERT_TRUE(child.ok()) << child.status();
    absl::StatusOr<int> exit_status = child->Wait(absl::Minutes(5));
    ASSERT_TRUE(exit_status.ok()) << "seed-demo did not finish; see " << dir_ << "/" << log;
    ASSERT_TRUE(WIFEXITED(*exit_status) && WEXITSTATUS(*exit_status) == 0)
        << "seed-demo failed; see " << dir_ << "/" << log;
  };
  auto shanghai_today = [] {
    return absl::ToCivilDay(Clock::Real().Now(), recurrence::ShanghaiTimeZone());
  };
  const absl::CivilDay before = shanghai_today();
  ASSERT_NO_FATAL_FAILURE(seed("seed-1.log"));
  const absl::CivilDay after = shanghai_today();  // differs only across midnight

  auto scheduling = scheduling::v1::SchedulingService::NewStub(
      testing::PlatformPki::Shared().Channel(processes_[1].address, "linli-scheduling"));
  scheduling::v1::ListCommitmentsRequest list;
  list.set_page_size(1000);
  scheduling::v1::ListCommitmentsResponse commitments;
  {
    auto context = NewClientContext(nullptr, absl::Seconds(30));
    ASSERT_TRUE(scheduling->ListCommitments(context.get(), list, &commitments).ok());
  }
  ASSERT_GT(commitments.commitments_size(), 10);
  const std::string valid_from = commitments.commitments(0).valid_from();
  auto four_weeks_before_monday = [](absl::CivilDay day) {
    return day - static_cast<int>(absl::GetWeekday(day)) - 28;
  };
  EXPECT_TRUE(valid_from == absl::FormatCivilTime(four_weeks_before_monday(before)) ||
              valid_from == absl::FormatCivilTime(four_weeks_before_monday(after)))
      << valid_from << " is not four weeks before this week's Monday (today " << before << ")";
  absl::CivilDay first_day;
  ASSERT_TRUE(absl::ParseCivilTime(valid_from, &first_day));
  const absl::CivilDay monday = first_day + 28;
  const absl::CivilDay today = before;
  for (const auto& c : commitments.commitments()) EXPECT_EQ(c.valid_from(), valid_from);

  // Every visit, by day: the past's from the first day, then from today through next week's
  // Sunday; none before the street started, none of the past still waiting for someone.
  int still_scheduled = 0;
  auto count_visits = [&](absl::CivilDay from, absl::CivilDay to) {
    scheduling::v1::ListVisitsRequest request;
    request.set_from_date(absl::FormatCivilTime(from));
    request.set_to_date(absl::FormatCivilTime(to));
    request.set_page_size(1000);
    int n = 0;
    absl::CivilDay last = from;
    do {
      scheduling::v1::ListVisitsResponse page;
      auto context = NewClientContext(nullptr, absl::Seconds(30));
      grpc::Status status = scheduling->ListVisits(context.get(), request, &page);
      EXPECT_TRUE(status.ok()) << status.error_message();
      if (!status.ok()) break;
      for (const auto& v : page.visits()) {
        last = std::max(last, absl::ToCivilDay(absl::FromUnixSeconds(v.window_start().seconds()),
                                               recurrence::ShanghaiTimeZone()));
        still_scheduled += v.state() == scheduling::v1::VISIT_STATE_SCHEDULED;
      }
      n += page.visits_size();
      request.set_page_token(page.next_page_token());
    } while (!request.page_token().empty());
    return std::make_pair(n, last);
  };
  EXPECT_EQ(count_visits(first_day - 7, first_day).first, 0) << "visits before the street started";
  const int past = count_visits(first_day, first_day + 21).first;
  EXPECT_GT(past, 100) << "three weeks of history";
  EXPECT_EQ(still_scheduled, 0) << "a visit of the past was left scheduled";
  const auto [visits, last_day] = count_visits(today, monday + 21);
  EXPECT_GT(visits, 0);
  EXPECT_EQ(last_day, monday + 13) << "the last visit is not on next week's Sunday";

  // The elders' answers about the past are feedback's.
  auto feedback = feedback::v1::FeedbackService::NewStub(
      testing::PlatformPki::Shared().Channel(processes_[2].address, "linli-feedback"));
  feedback::v1::ListFeedbackRequest answers_request;
  answers_request.set_region("regions/310101020");
  answers_request.set_window_days(40);
  answers_request.set_page_size(500);
  feedback::v1::ListFeedbackResponse answers;
  {
    auto context = NewClientContext(nullptr, absl::Seconds(30));
    grpc::Status status = feedback->ListFeedback(context.get(), answers_request, &answers);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  EXPECT_GT(answers.feedback_size(), 20);

  ASSERT_NO_FATAL_FAILURE(seed("seed-2.log"));
  EXPECT_EQ(count_visits(today, monday + 21).first, visits) << "a second seed-demo added visits";
  EXPECT_EQ(count_visits(first_day, first_day + 21).first, past)
      << "a second seed-demo added a past";
}

// Visit notes are personal data: linli-scheduling does not start without a usable keyring, says
// why, and touches no database before it has one.
TEST(SchedulingStartTest, RefusesToStartWithoutThePersonalDataKeyring) {
  const std::string dir = testing::MakeTempDir("scheduling_no_key");
  std::ofstream(dir + "/bad.key") << "k1:not-a-key\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "--pii_key_file (LINLI_PII_KEY_FILE) is required"},
      {"--pii_key_file=" + dir + "/missing.key", "cannot load the personal-data keyring"},
      {"--pii_key_file=" + dir + "/bad.key", "cannot load the personal-data keyring"}};
  for (size_t i = 0; i < cases.size(); ++i) {
    const auto& [key_flag, message] = cases[i];
    std::vector<std::string> args = {absl::StrCat("--listen=127.0.0.1:", testing::FreePort()),
                                     absl::StrCat("--db=sqlite:", dir, "/scheduling", i, ".db")};
    if (!key_flag.empty()) args.push_back(key_flag);
    const std::string log_path = absl::StrCat(dir, "/scheduling", i, ".log");
    auto child = testing::ChildProcess::Start(LINLI_BIN_DIR "/linli-scheduling", args, log_path);
    ASSERT_TRUE(child.ok()) << child.status();
    absl::StatusOr<int> exit_status = child->Wait(absl::Seconds(20));
    ASSERT_TRUE(exit_status.ok()) << "linli-scheduling kept running with " << key_flag;
    EXPECT_TRUE(WIFEXITED(*exit_status) && WEXITSTATUS(*exit_status) != 0) << key_flag;
    std::ifstream log_file(log_path);
    const std::string log((std::istreambuf_iterator<char>(log_file)),
                          std::istreambuf_iterator<char>());
    EXPECT_NE(log.find(message), std::string::npos) << log;
    EXPECT_FALSE(std::ifstream(absl::StrCat(dir, "/scheduling", i, ".db")).good())
        << "the database was opened before the keyring was checked";
  }
}

// A backend serves only mutual TLS with the platform's identity: without one it does not start
// (unless told --insecure_internal, for single-process tests), and says which flags it needs.
TEST(BackendStartTest, RefusesToStartWithoutAPlatformIdentity) {
  const std::string dir = testing::MakeTempDir("registry_no_identity");
  const std::string log_path = dir + "/registry.log";
  std::ofstream(dir + "/pii.key") << pii::FieldCipher::GenerateKeySpec("k1") << "\n";
  auto child = testing::ChildProcess::Start(
      LINLI_BIN_DIR "/linli-registry",
      {absl::StrCat("--listen=127.0.0.1:", testing::FreePort()), "--db=sqlite:" + dir + "/r.db",
       "--pii_key_file=" + dir + "/pii.key", "--internal_ca_file="},
      log_path);
  ASSERT_TRUE(child.ok()) << child.status();
  absl::StatusOr<int> exit_status = child->Wait(absl::Seconds(20));
  ASSERT_TRUE(exit_status.ok()) << "linli-registry kept running without an identity";
  EXPECT_TRUE(WIFEXITED(*exit_status) && WEXITSTATUS(*exit_status) != 0);
  std::ifstream log_file(log_path);
  const std::string log((std::istreambuf_iterator<char>(log_file)),
                        std::istreambuf_iterator<char>());
  EXPECT_NE(log.find("the platform identity is required"), std::string::npos) << log;
}

INSTANTIATE_TEST_SUITE_P(Backends, EndToEndTest, ::testing::ValuesIn(testing::Backends()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace linli
