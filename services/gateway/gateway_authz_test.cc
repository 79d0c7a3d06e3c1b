// The gateway's authentication and authorisation, against real registry, scheduling and feedback
// processes (SQLite) and the gateway's services in this process on a loopback port.
//
// The matrix: every method of every linli.gateway.v1 service, read from the descriptor pool,
// must have an authorisation rule; called without credentials it is UNAUTHENTICATED; called as
// every role (except admin, who may see everything) with the ids of another street's elder,
// organisation, commitment and regions, it is PERMISSION_DENIED or NOT_FOUND. A new method
// without a rule, or whose handler does not pass the gate, fails here.
#include <signal.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <set>

#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "common/auth/api_keys.h"
#include "common/auth/jwt.h"
#include "common/client.h"
#include "common/grpc_probe.h"
#include "common/pii/field_cipher.h"
#include "common/server.h"
#include "common/storage/database.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/dynamic_message.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/impl/codegen/proto_utils.h"
#include "gtest/gtest.h"
#include "linli/feedback/v1/feedback.grpc.pb.h"
#include "linli/gateway/v1/console.grpc.pb.h"
#include "linli/gateway/v1/elder_app.grpc.pb.h"
#include "linli/gateway/v1/partner.grpc.pb.h"
#include "linli/gateway/v1/worker_app.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "services/gateway/console_service.h"
#include "services/gateway/elder_app_service.h"
#include "services/gateway/gate.h"
#include "services/gateway/gateway_server.h"
#include "services/gateway/http_json.h"
#include "services/gateway/partner_service.h"
#include "services/gateway/worker_app_service.h"
#include "tests/support/backends.h"
#include "tests/support/platform_pki.h"
#include "tests/support/test_env.h"

namespace linli::gateway {
namespace {

using auth::Role;
using google::protobuf::Message;
using MessageStub = grpc::TemplatedGenericStub<Message, Message>;

const std::string kSecret = "matrix-test-secret-0123456789abcdef";
constexpr char kPepper[] = "matrix-test-pepper";

std::string Address() { return absl::StrCat("127.0.0.1:", testing::FreePort()); }

// A call context carrying `token` as its bearer token.
std::unique_ptr<grpc::ClientContext> As(const std::string& token) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->AddMetadata("authorization", "Bearer " + token);
  return context;
}

// How a roster is imported (ImportRosterRequest's switches).
struct Switches {
  bool dry_run = false;
  bool skip_bad_rows = false;
};

// ConsoleService.ImportRoster of `csv` as a roster of `kind` by the bearer of `token`; `response`
// is cleared first.
grpc::Status ImportRoster(v1::ConsoleService::StubInterface& stub, const std::string& token,
                          v1::RosterKind kind, const std::string& csv,
                          v1::ImportRosterResponse* response, Switches switches = {}) {
  v1::ImportRosterRequest request;
  request.set_kind(kind);
  request.set_csv(csv);
  request.set_dry_run(switches.dry_run);
  request.set_skip_bad_rows(switches.skip_bad_rows);
  *response = {};
  return stub.ImportRoster(As(token).get(), request, response);
}

// Backends, data of two streets, and the gateway, shared by every test of the suite.
class World {
 public:
  static World& Get() {
    static World* world = new World();
    return *world;
  }

  std::string dir;
  std::string registry_address, scheduling_address, feedback_address;
  std::optional<testing::ChildProcess> registry_process, scheduling_process, feedback_process;
  std::shared_ptr<registry::v1::RegistryService::Stub> registry;
  std::shared_ptr<scheduling::v1::SchedulingService::Stub> scheduling;
  std::shared_ptr<feedback::v1::FeedbackService::Stub> feedback;
  // Ids: home street 310101020 / committee 310101020001; foreign street 310101021 / 310101021001.
  std::string home_elder, foreign_elder, foreign_commitment, home_commitment;
  // Today's visit of the foreign commitment.
  std::string foreign_visit;
  std::string api_keys_path, partner_key;
  std::unique_ptr<Gate> gate;
  std::unique_ptr<ConsoleServiceImpl> console;
  std::unique_ptr<ElderAppServiceImpl> elder_app;
  std::unique_ptr<PartnerServiceImpl> partner;
  std::unique_ptr<WorkerAppServiceImpl> worker_app;
  std::unique_ptr<GatewayServer> server;
  std::unique_ptr<HttpJsonServer> http;
  std::shared_ptr<grpc::Channel> channel;
  std::string error;  // set when the world could not be built

  // A token for `role` scoped to the home street/committee.
  std::string Token(Role role, nlohmann::json extra = nlohmann::json::object()) const {
    auto key = auth::JwtKey::Hmac("test", kSecret);
    const int64_t now = absl::ToUnixSeconds(absl::Now());
    nlohmann::json claims = {{"iss", "linli-test"},
                             {"aud", "linli-gateway"},
                             {"role", auth::RoleName(role)},
                             {"iat", now},
                             {"exp", now + 600}};
    switch (role) {
      case Role::kElder:
        claims["sub"] = home_elder;
        break;
      case Role::kFamily:
        claims["sub"] = "families/f1";
        claims["elders"] = {home_elder};
        break;
      case Role::kWorker:
        claims["sub"] = "workers/w1";
        claims["region"] = "310101020001";
        break;
      case Role::kCommitteeStaff:
        claims["sub"] = "staff/committee";
        claims["region"] = "310101020001";
        break;
      default:
        claims["sub"] = absl::StrCat("staff/", auth::RoleName(role));
        claims["region"] = "310101020";
    }
    for (auto& [k, v] : extra.items()) claims[k] = v;
    return *auth::SignJwt(*key, claims);
  }

  std::string Credential(Role role) const {
    return role == Role::kPartner ? partner_key : Token(role);
  }

 private:
  World() {
    // A backend's port is chosen free, then bound by its process a moment later: another test
    // running at the same time may take it in between. Such a start is tried again on new ports.
    for (int attempt = 1; attempt <= 3; ++attempt) {
      absl::Status built = Build();
      if (built.ok()) {
        error.clear();
        return;
      }
      error = built.ToString();
      http.reset();
      server.reset();
      registry.reset();
      scheduling.reset();
      feedback.reset();
      registry_process.reset();
      scheduling_process.reset();
      feedback_process.reset();
    }
  }

  absl::Status Call(const grpc::Status& status, const char* what) {
    if (status.ok()) return absl::OkStatus();
    return absl::InternalError(absl::StrCat(what, ": ", status.error_message()));
  }

  absl::Status Build() {
    dir = testing::MakeTempDir("gateway_authz");
    std::ofstream(dir + "/pii.key") << pii::FieldCipher::GenerateKeySpec("k1") << "\n";
    registry_address = Address();
    scheduling_address = Address();
    auto r = testing::ChildProcess::Start(
        absl::StrCat(LINLI_BIN_DIR, "/linli-registry"),
        {"--listen=" + registry_address, "--db=sqlite:" + dir + "/registry.db",
         "--pii_key_file=" + dir + "/pii.key"},
        dir + "/registry.log");
    if (!r.ok()) return r.status();
    registry_process.emplace(std::move(*r));
    auto s = testing::ChildProcess::Start(
        absl::StrCat(LINLI_BIN_DIR, "/linli-scheduling"),
        {"--listen=" + scheduling_address, "--db=sqlite:" + dir + "/scheduling.db",
         "--registry_address=" + registry_address, "--pii_key_file=" + dir + "/pii.key",
         // Today's visits stay open to check-ins whatever the hour the suite runs: no sweep
         // marks them missed while the tests run.
         "--sweep_interval=24h"},
        dir + "/scheduling.log");
    if (!s.ok()) return s.status();
    scheduling_process.emplace(std::move(*s));
    feedback_address = Address();
    auto f = testing::ChildProcess::Start(
        absl::StrCat(LINLI_BIN_DIR, "/linli-feedback"),
        {"--listen=" + feedback_address, "--db=sqlite:" + dir + "/feedback.db",
         "--registry_address=" + registry_address, "--scheduling_address=" + scheduling_address,
         "--poll_interval=100ms", "--pii_key_file=" + dir + "/pii.key"},
        dir + "/feedback.log");
    if (!f.ok()) return f.status();
    feedback_process.emplace(std::move(*f));
    if (!testing::WaitServing(registry_address, "linli.registry.v1.RegistryService") ||
        !testing::WaitServing(scheduling_address, "linli.scheduling.v1.SchedulingService") ||
        !testing::WaitServing(feedback_address, "linli.feedback.v1.FeedbackService")) {
      return absl::UnavailableError("backends did not start; logs in " + dir);
    }
    // The in-process gateway's channels: mutual TLS as linli-gateway, as in a deployment.
    const testing::PlatformPki& pki = testing::PlatformPki::Shared();
    registry = registry::v1::RegistryService::NewStub(
        pki.Channel(registry_address, "linli-registry", "linli-gateway"));
    scheduling = scheduling::v1::SchedulingService::NewStub(
        pki.Channel(scheduling_address, "linli-scheduling", "linli-gateway"));
    feedback = feedback::v1::FeedbackService::NewStub(
        pki.Channel(feedback_address, "linli-feedback", "linli-gateway"));

    using registry::v1::RegionLevel;
    const std::tuple<const char*, const char*, RegionLevel, const char*> regions[] = {
        {"310000", "上海市", registry::v1::REGION_LEVEL_MUNICIPALITY, ""},
        {"310101", "黄浦区", registry::v1::REGION_LEVEL_DISTRICT, "regions/310000"},
        {"310101020", "五里桥街道", registry::v1::REGION_LEVEL_STREET, "regions/310101"},
        {"310101021", "打浦桥街道", registry::v1::REGION_LEVEL_STREET, "regions/310101"},
        {"310101020001", "桥一居民区", registry::v1::REGION_LEVEL_COMMITTEE, "regions/310101020"},
        {"310101021001", "打一居民区", registry::v1::REGION_LEVEL_COMMITTEE, "regions/310101021"},
    };
    for (const auto& [code, label, level, parent] : regions) {
      registry::v1::CreateRegionRequest q;
      q.mutable_region()->set_code(code);
      q.mutable_region()->set_display_name(label);
      q.mutable_region()->set_level(level);
      q.mutable_region()->set_parent(parent);
      registry::v1::CreateRegionResponse a;
      if (auto st = Call(
              registry->CreateRegion(NewClientContext(nullptr, absl::Seconds(10)).get(), q, &a),
              "CreateRegion");
          !st.ok())
        return st;
    }
    for (const auto& [id, region] :
         {std::pair{"homeorg", "regions/310101020"}, std::pair{"farorg", "regions/310101021"}}) {
      registry::v1::CreateOrganisationRequest q;
      q.mutable_organisation()->set_id(id);
      q.mutable_organisation()->set_display_name(absl::StrCat(id, " 社工服务社"));
      q.mutable_organisation()->set_kind(registry::v1::ORGANISATION_KIND_SOCIAL_ORGANISATION);
      q.mutable_organisation()->set_sector(registry::v1::SECTOR_SOCIAL);
      q.mutable_organisation()->set_region(region);
      registry::v1::CreateOrganisationResponse a;
      if (auto st = Call(registry->CreateOrganisation(
                             NewClientContext(nullptr, absl::Seconds(10)).get(), q, &a),
                         "CreateOrganisation");
          !st.ok())
        return st;
    }
    {
      registry::v1::CreateServiceTypeRequest q;
      q.mutable_service_type()->set_code("visiting");
      q.mutable_service_type()->set_display_name("探访");
      registry::v1::CreateServiceTypeResponse a;
      if (auto st = Call(registry->CreateServiceType(
                             NewClientContext(nullptr, absl::Seconds(10)).get(), q, &a),
                         "CreateServiceType");
          !st.ok())
        return st;
    }
    for (auto [target, region, label] :
         {std::tuple{&home_elder, "regions/310101020001", "李桂英"},
          std::tuple{&foreign_elder, "regions/310101021001", "张阿婆"}}) {
      registry::v1::CreateElderRequest q;
      q.mutable_elder()->set_display_name(label);
      q.mutable_elder()->set_region(region);
      auto* contact = q.mutable_elder()->add_contacts();
      contact->set_display_name("李明");
      contact->set_relationship("儿子");
      registry::v1::CreateElderResponse a;
      if (auto st =
              Call(registry->CreateElder(NewClientContext(nullptr, absl::Seconds(10)).get(), q, &a),
                   "CreateElder");
          !st.ok())
        return st;
      *target = a.elder().name();
    }
    for (auto [target, elder, org] :
         {std::tuple{&foreign_commitment, foreign_elder, "organisations/farorg"},
          std::tuple{&home_commitment, home_elder, "organisations/homeorg"}}) {
      scheduling::v1::CreateCommitmentRequest q;
      q.mutable_commitment()->set_elder(elder);
      q.mutable_commitment()->set_service_type("serviceTypes/visiting");
      q.mutable_commitment()->set_owner_organisation(org);
      q.mutable_commitment()->set_valid_from("2026-01-01");
      q.mutable_commitment()->set_care_grade(6);  // every day
      if (elder == home_elder) q.mutable_commitment()->set_preferred_worker("workers/w1");
      scheduling::v1::CreateCommitmentResponse a;
      if (auto st = Call(scheduling->CreateCommitment(
                             NewClientContext(nullptr, absl::Seconds(10)).get(), q, &a),
                         "CreateCommitment");
          !st.ok())
        return st;
      *target = a.commitment().name();
    }
    {
      // Visits from today on, so the elder page has upcoming visits.
      scheduling::v1::MaterializeVisitsRequest q;
      q.set_from_date(absl::FormatTime("%Y-%m-%d", absl::Now(), absl::FixedTimeZone(8 * 3600)));
      q.set_days(7);
      scheduling::v1::MaterializeVisitsResponse a;
      if (auto st = Call(scheduling->MaterializeVisits(
                             NewClientContext(nullptr, absl::Seconds(10)).get(), q, &a),
                         "MaterializeVisits");
          !st.ok())
        return st;
    }

    {
      scheduling::v1::ListVisitsRequest q;
      q.set_commitment(foreign_commitment);
      scheduling::v1::ListVisitsResponse a;
      if (auto st = Call(
              scheduling->ListVisits(NewClientContext(nullptr, absl::Seconds(10)).get(), q, &a),
              "ListVisits");
          !st.ok())
        return st;
      if (a.visits_size() == 0) return absl::InternalError("no visit of the foreign commitment");
      foreign_visit = a.visits(0).name();
    }

    // Partner key for the home organisation.
    api_keys_path = dir + "/api-keys";
    partner_key = auth::NewApiKey("homeorg");
    auto parts = auth::ParseApiKey(partner_key);
    std::ofstream(api_keys_path) << auth::FormatApiKeyEntry(
                                        {"homeorg",
                                         "organisations/homeorg",
                                         "310101020",
                                         {"offerings.read", "workorders.write", "workorders.read",
                                          "offerings.write", "visits.read", "visits.write",
                                          "notices.read"},
                                         auth::HashApiSecret(kPepper, parts->secret),
                                         ""})
                                 << "\n";

    auth::JwtKeySet keys;
    keys.Add(*auth::JwtKey::Hmac("test", kSecret));
    GateOptions options;
    options.issuer = "linli-test";
    options.rate_per_second = 1000;
    options.burst = 1000;
    // Hundreds of calls with bad credentials from 127.0.0.1 below; the per-address limit has
    // its own tests (gateway_limits_test).
    options.unauthenticated_rate_per_second = 0;
    auto relations =
        std::make_shared<Relations>(registry, scheduling, absl::Seconds(5), Clock::Real());
    gate = std::make_unique<Gate>(std::move(keys),
                                  std::make_unique<auth::ApiKeyStore>(api_keys_path, kPepper),
                                  options, relations, Clock::Real());
    const Backends backends{.gate = gate.get(),
                            .registry = registry,
                            .scheduling = scheduling,
                            .feedback = feedback,
                            .backend_timeout = absl::Seconds(5),
                            .clock = &Clock::Real()};
    console = std::make_unique<ConsoleServiceImpl>(backends);
    elder_app = std::make_unique<ElderAppServiceImpl>(backends);
    partner = std::make_unique<PartnerServiceImpl>(backends);
    worker_app = std::make_unique<WorkerAppServiceImpl>(backends);
    ServerOptions server_options;
    server_options.service_name = "gateway";
    server_options.listen_address = "127.0.0.1:0";
    server_options.shutdown_deadline = absl::Seconds(1);
    auto started = GatewayServer::Start(
        server_options, {console.get(), elder_app.get(), partner.get(), worker_app.get()}, 2);
    if (!started.ok()) return started.status();
    server = std::move(*started);
    channel = NewChannel(absl::StrCat("127.0.0.1:", server->port()), {});
    auto http_started = HttpJsonServer::Start(
        "127.0.0.1:0",
        {"linli.gateway.v1.ConsoleService", "linli.gateway.v1.ElderAppService",
         "linli.gateway.v1.PartnerService", "linli.gateway.v1.WorkerAppService"},
        *server, absl::Seconds(10), 64 * 1024);
    if (!http_started.ok()) return http_started.status();
    http = std::move(*http_started);
    return absl::OkStatus();
  }
};

// Calls `method` with `request` and the given authorization value (none when empty).
grpc::Status CallMethod(const google::protobuf::MethodDescriptor* method, const Message& request,
                        const std::string& credential) {
  World& world = World::Get();
  MessageStub stub(world.channel);
  auto* factory = google::protobuf::MessageFactory::generated_factory();
  std::unique_ptr<Message> response(factory->GetPrototype(method->output_type())->New());
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  if (!credential.empty()) context.AddMetadata("authorization", "Bearer " + credential);
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, absl::StrCat("/", method->service()->full_name(), "/", method->name()),
                 grpc::StubOptions(), &request, response.get(),
                 [&done](grpc::Status status) { done.set_value(std::move(status)); });
  return done.get_future().get();
}

// The request of `method` with every id field naming the foreign street's things.
std::unique_ptr<Message> ForeignRequest(const google::protobuf::MethodDescriptor* method) {
  World& world = World::Get();
  auto* factory = google::protobuf::MessageFactory::generated_factory();
  std::unique_ptr<Message> request(factory->GetPrototype(method->input_type())->New());
  const std::map<std::string, std::string> by_type = {
      {"GetRegionRequest", "regions/310101021"},
      {"GetElderRequest", world.foreign_elder},
      {"GetOrganisationRequest", "organisations/farorg"},
      {"GetCommitmentRequest", world.foreign_commitment},
      {"CancelCommitmentRequest", world.foreign_commitment},
      {"RetireOrganisationRequest", "organisations/farorg"},
  };
  const std::map<std::string, std::string> by_field = {
      {"elder", world.foreign_elder},
      {"region", "regions/310101021001"},
      {"parent", "regions/310101021"},
      {"organisation", "organisations/farorg"},
      {"commitment", world.foreign_commitment},
      {"reason", "matrix test of the gateway"},
      {"committee", "regions/310101021001"},
      {"subject", world.foreign_elder},
      {"responsible_organisation", "organisations/farorg"},
      {"visit", world.foreign_visit},
      {"author", world.foreign_elder},
      {"owner_organisation", "organisations/farorg"},
      {"source", "organisations/farorg"},
      {"target", "organisations/farorg"},
  };
  const std::map<std::string, std::string> updated_records = {
      {"Organisation", "organisations/farorg"},
      {"Elder", world.foreign_elder},
      {"Worker", "workers/farworker"},
  };
  // The request's own string fields, and those of the messages it carries (a feedback answer, a
  // work order, an elder to register): their author, elder, region or commitment too.
  std::function<void(Message*, int)> fill = [&](Message* message, int depth) {
    const auto* type = message->GetDescriptor();
    const auto* reflection = message->GetReflection();
    for (int i = 0; i < type->field_count(); ++i) {
      const auto* field = type->field(i);
      if (field->is_repeated()) continue;
      if (field->type() == google::protobuf::FieldDescriptor::TYPE_MESSAGE) {
        if (depth == 0 && field->message_type()->file()->package() != "google.protobuf") {
          fill(reflection->MutableMessage(message, field), depth + 1);
        }
        continue;
      }
      if (field->type() != google::protobuf::FieldDescriptor::TYPE_STRING) continue;
      std::string value;
      if (field->name() == "name") {
        if (depth > 0) {
          // A nested message's own name is output only, except the record an update names.
          auto it = updated_records.find(type->name());
          if (!absl::StartsWith(request->GetDescriptor()->name(), "Update") ||
              it == updated_records.end()) {
            continue;
          }
          reflection->SetString(message, field, it->second);
          continue;
        }
        auto it = by_type.find(type->name());
        value = it != by_type.end() ? it->second : world.foreign_elder;
      } else if (auto it = by_field.find(field->name()); it != by_field.end()) {
        value = it->second;
      }
      if (!value.empty()) reflection->SetString(message, field, value);
    }
  };
  fill(request.get(), 0);
  return request;
}

std::vector<const google::protobuf::MethodDescriptor*> PublicMethods() {
  std::vector<const google::protobuf::MethodDescriptor*> methods;
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  for (const char* name : {"linli/gateway/v1/console.proto", "linli/gateway/v1/elder_app.proto",
                           "linli/gateway/v1/partner.proto", "linli/gateway/v1/worker_app.proto"}) {
    const auto* file = pool->FindFileByName(name);
    EXPECT_NE(file, nullptr) << name;
    if (file == nullptr) continue;
    EXPECT_EQ(file->package(), "linli.gateway.v1");
    for (int s = 0; s < file->service_count(); ++s) {
      for (int m = 0; m < file->service(s)->method_count(); ++m) {
        methods.push_back(file->service(s)->method(m));
      }
    }
  }
  return methods;
}

const google::protobuf::MethodDescriptor* ConsoleMethod(const char* name) {
  return google::protobuf::DescriptorPool::generated_pool()
      ->FindServiceByName("linli.gateway.v1.ConsoleService")
      ->FindMethodByName(name);
}

std::string FullName(const google::protobuf::MethodDescriptor* method) {
  return absl::StrCat("/", method->service()->full_name(), "/", method->name());
}

// Stops the servers and the backend processes the (leaked) world started.
class StopWorld : public ::testing::Environment {
 public:
  void TearDown() override {
    World& world = World::Get();
    if (world.http) world.http->Stop();
    if (world.server) world.server->Shutdown();
    // Every channel to the backends goes before the backends do: a channel that sees its backend
    // vanish reconnects on a gRPC thread, and a TLS handshake racing the process's exit (when
    // libcrypto has already cleaned up) crashes it.
    world.http.reset();
    world.server.reset();
    world.worker_app.reset();
    world.partner.reset();
    world.elder_app.reset();
    world.console.reset();
    world.gate.reset();
    world.channel.reset();
    world.registry.reset();
    world.scheduling.reset();
    world.feedback.reset();
    world.registry_process.reset();
    world.scheduling_process.reset();
    world.feedback_process.reset();
  }
};
[[maybe_unused]] ::testing::Environment* const kStopWorld =
    ::testing::AddGlobalTestEnvironment(new StopWorld);

class GatewayAuthz : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(World::Get().error.empty()) << World::Get().error; }
};

TEST_F(GatewayAuthz, EveryPublicMethodHasARuleAndEveryRuleAMethod) {
  const auto methods = PublicMethods();
  EXPECT_GE(methods.size(), 20u);
  for (const auto* method : methods) {
    EXPECT_EQ(AuthorisationRules().count(FullName(method)), 1u)
        << FullName(method) << " has no authorisation rule (services/gateway/authz_rules.cc)";
  }
  for (const auto& [name, rule] : AuthorisationRules()) {
    bool exists = false;
    for (const auto* method : methods) exists |= FullName(method) == name;
    EXPECT_TRUE(exists) << "rule for a method that does not exist: " << name;
    EXPECT_FALSE(rule.roles.empty()) << name;
  }
}

TEST_F(GatewayAuthz, WithoutOrWithBadCredentialsEveryMethodIsUnauthenticated) {
  World& world = World::Get();
  nlohmann::json expired = {{"exp", absl::ToUnixSeconds(absl::Now()) - 3600}};
  nlohmann::json other_audience = {{"aud", "someone-else"}};
  // A token that never needs to expire, or does not say when it was issued, is no credential.
  nlohmann::json until_2099 = {{"exp", 4070908800}};
  nlohmann::json no_iat = {{"iat", nullptr}};
  nlohmann::json staff_for_a_week = {{"exp", absl::ToUnixSeconds(absl::Now()) + 7 * 24 * 3600}};
  for (const auto* method : PublicMethods()) {
    auto request = ForeignRequest(method);
    for (const std::string& credential :
         {std::string(), std::string("garbage"), world.Token(Role::kAdmin, expired),
          world.Token(Role::kAdmin, other_audience), world.Token(Role::kAdmin, until_2099),
          world.Token(Role::kAdmin, no_iat), world.Token(Role::kStreetStaff, staff_for_a_week),
          std::string("lk.homeorg.") + std::string(43, 'A')}) {
      grpc::Status status = CallMethod(method, *request, credential);
      EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
          << FullName(method) << " with \"" << credential.substr(0, 20)
          << "\": " << status.error_message();
    }
  }
}

TEST_F(GatewayAuthz, EveryRoleWithForeignIdsIsRefused) {
  World& world = World::Get();
  int calls = 0;
  for (const auto* method : PublicMethods()) {
    const Rule& rule = AuthorisationRules().at(FullName(method));
    auto request = ForeignRequest(method);
    for (Role role : auth::kAllRoles) {
      if (role == Role::kAdmin) continue;  // admins may see every street
      const bool allowed =
          std::find(rule.roles.begin(), rule.roles.end(), role) != rule.roles.end();
      grpc::Status status = CallMethod(method, *request, world.Credential(role));
      ++calls;
      const std::string where = absl::StrCat(FullName(method), " as ", auth::RoleName(role), ": ",
                                             status.error_code(), " ", status.error_message());
      if (!allowed) {
        EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << where;
      } else if (rule.unscoped) {
        EXPECT_NE(status.error_code(), grpc::StatusCode::INTERNAL) << where;
        EXPECT_NE(status.error_code(), grpc::StatusCode::UNKNOWN) << where;
        EXPECT_NE(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << where;
      } else {
        // Refused: denied, not found, or (a field left without a name of its kind) bad input.
        EXPECT_TRUE(status.error_code() == grpc::StatusCode::PERMISSION_DENIED ||
                    status.error_code() == grpc::StatusCode::NOT_FOUND ||
                    (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT &&
                     absl::StrContains(status.error_message(), "must be named")))
            << where;
      }
    }
  }
  EXPECT_GE(calls, 100);
}

TEST_F(GatewayAuthz, OwnThingsAreReachableAndTheActorIsThePrincipal) {
  World& world = World::Get();
  const std::string street = world.Token(Role::kStreetStaff);
  // Street staff read their own elder in full (audited under their name).
  registry::v1::GetElderRequest get;
  get.set_name(world.home_elder);
  get.set_view(registry::v1::ELDER_VIEW_FULL);
  get.set_reason("回访核对联系方式");
  auto* method = ConsoleMethod("GetElder");
  grpc::Status status = CallMethod(method, get, street);
  EXPECT_TRUE(status.ok()) << status.error_message();
  registry::v1::ListAuditEntriesRequest audit;
  audit.set_elder(world.home_elder);
  registry::v1::ListAuditEntriesResponse entries;
  auto context = NewClientContext(nullptr, absl::Seconds(10));
  ASSERT_TRUE(world.registry->ListAuditEntries(context.get(), audit, &entries).ok());
  ASSERT_GE(entries.entries_size(), 1);
  EXPECT_EQ(entries.entries(entries.entries_size() - 1).actor(), "street_staff:staff/street_staff");
  // A full read without a reason is refused by the registry, not the gate.
  get.clear_reason();
  EXPECT_EQ(CallMethod(method, get, street).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // Committee staff reach their committee's elder but not a region above them.
  v1::ListRegionsRequest regions;
  regions.set_parent("regions/310101020");
  EXPECT_EQ(CallMethod(ConsoleMethod("ListRegions"), regions, world.Token(Role::kCommitteeStaff))
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(CallMethod(ConsoleMethod("ListRegions"), regions, street).ok());
  // A region-less admin-looking token cannot create regions unless it is admin.
  v1::CreateRegionRequest create;
  create.mutable_region()->set_code("310101020002");
  create.mutable_region()->set_display_name("桥二居民区");
  create.mutable_region()->set_level(registry::v1::REGION_LEVEL_COMMITTEE);
  create.mutable_region()->set_parent("regions/310101020");
  auto* create_method = ConsoleMethod("CreateRegion");
  EXPECT_EQ(CallMethod(create_method, create, street).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(CallMethod(create_method, create, world.Token(Role::kAdmin)).ok());
}

// A roster names its committees in the file: committee staff import into their own committee
// only, street staff into their street's; a row elsewhere is refused by line and column, and a
// roster with a refused row writes nothing.
TEST_F(GatewayAuthz, RosterImportsStayInsideTheCallersRegion) {
  World& world = World::Get();
  auto stub = v1::ConsoleService::NewStub(world.channel);
  auto import = [&](Role role, const std::string& csv, bool dry_run,
                    v1::ImportRosterResponse* response) {
    return ImportRoster(*stub, world.Token(role), v1::ROSTER_KIND_ELDERS, csv, response,
                        {.dry_run = dry_run});
  };
  const std::string header = "姓名,居委会,居住情况\n";
  const std::string home = "钱阿婆,310101020001,独居\n";
  const std::string foreign = "孙老伯,310101021001,独居\n";
  v1::ImportRosterResponse response;
  for (Role role : {Role::kCommitteeStaff, Role::kStreetStaff}) {
    grpc::Status status = import(role, header + home + foreign, /*dry_run=*/false, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    ASSERT_EQ(response.problems_size(), 1) << auth::RoleName(role);
    EXPECT_EQ(response.problems(0).line(), 3);
    EXPECT_EQ(response.problems(0).column(), "居委会");
    EXPECT_EQ(response.problems(0).reason_zh(), "居委会不在你的辖区内");
    EXPECT_FALSE(response.written());
    EXPECT_EQ(response.encoding(), "UTF-8");
  }
  // Admins import anywhere (a dry run here, to leave the world's data as it is).
  ASSERT_TRUE(import(Role::kAdmin, header + home + foreign, /*dry_run=*/true, &response).ok());
  EXPECT_EQ(response.problems_size(), 0);
  EXPECT_EQ(response.created(), 2);
  // Other roles may not import at all; a file that is no roster is INVALID_ARGUMENT.
  for (Role role : {Role::kElder, Role::kFamily, Role::kWorker}) {
    EXPECT_EQ(import(role, header + home, true, &response).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  EXPECT_EQ(import(Role::kStreetStaff, "生日\n1940-01-01\n", true, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

// The street builds its map from its spreadsheets: organisations (a parent in an earlier row),
// their ties, offerings and workers, each imported twice with nothing changed the second time;
// rows outside the street are refused with nothing written; committee staff import volunteers
// only. Then it exports what it sees, in the columns the import reads back.
TEST_F(GatewayAuthz, StreetImportsItsMapAndExportsWhatItSees) {
  World& world = World::Get();
  auto stub = v1::ConsoleService::NewStub(world.channel);
  auto import = [&](Role role, v1::RosterKind kind, const std::string& csv,
                    v1::ImportRosterResponse* response) {
    return ImportRoster(*stub, world.Token(role), kind, csv, response);
  };
  const std::string organisations =
      "编号,名称,类型,性质,所在区域,上级单位,统一社会信用代码\n"
      "rost-office,五里桥社区服务办,街道科室,公共,310101020,,\n"
      "rost-canteen,五里桥长者食堂,养老机构,社会,310101020001,rost-office,52310101MJ50001234\n";
  const std::vector<std::pair<v1::RosterKind, std::string>> rosters = {
      {v1::ROSTER_KIND_ORGANISATIONS, organisations},
      {v1::ROSTER_KIND_RELATIONS,
       "单位,关系,对象,备注\nrost-office,资助,rost-canteen,政府购买服务\n"
       "rost-canteen,服务片区,310101020001,\n"},
      {v1::ROSTER_KIND_OFFERINGS,
       "单位,服务类型,名称,服务范围,每日容量\nrost-canteen,visiting,上门探访,310101020001,8\n"},
      {v1::ROSTER_KIND_WORKERS,
       "姓名,单位,电话,志愿者\n李梅,rost-canteen,13700001234,否\n"
       "赵强,rost-canteen,13700005678,是\n"}};
  for (const auto& [kind, csv] : rosters) {
    SCOPED_TRACE(v1::RosterKind_Name(kind));
    const int rows = static_cast<int>(std::count(csv.begin(), csv.end(), '\n')) - 1;
    v1::ImportRosterResponse response;
    grpc::Status status = import(Role::kStreetStaff, kind, csv, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    ASSERT_EQ(response.problems_size(), 0) << response.problems(0).DebugString();
    EXPECT_EQ(response.created(), rows);
    EXPECT_TRUE(response.written());
    ASSERT_TRUE(import(Role::kStreetStaff, kind, csv, &response).ok());
    EXPECT_EQ(response.created(), 0) << "the same roster again changes nothing";
    EXPECT_EQ(response.existing(), rows);
  }
  registry::v1::GetOrganisationRequest get;
  get.set_name("organisations/rost-canteen");
  registry::v1::GetOrganisationResponse canteen;
  auto context = NewClientContext(nullptr, absl::Seconds(10));
  ASSERT_TRUE(world.registry->GetOrganisation(context.get(), get, &canteen).ok());
  EXPECT_EQ(canteen.organisation().parent(), "organisations/rost-office");
  EXPECT_EQ(canteen.organisation().credit_code(), "52310101MJ50001234");

  // A row in another street: refused by line and column, nothing of the file written.
  v1::ImportRosterResponse refused;
  ASSERT_TRUE(import(Role::kStreetStaff, v1::ROSTER_KIND_ORGANISATIONS,
                     "编号,名称,类型,性质,所在区域\nrost-new,新单位,社会组织,社会,310101020\n"
                     "rost-far,外街单位,社会组织,社会,310101021\n",
                     &refused)
                  .ok());
  ASSERT_EQ(refused.problems_size(), 1);
  EXPECT_EQ(refused.problems(0).line(), 3);
  EXPECT_EQ(refused.problems(0).column(), "所在区域");
  EXPECT_FALSE(refused.written());
  get.set_name("organisations/rost-new");
  context = NewClientContext(nullptr, absl::Seconds(10));
  EXPECT_EQ(world.registry->GetOrganisation(context.get(), get, &canteen).error_code(),
            grpc::StatusCode::NOT_FOUND);
  // Committee staff: volunteers only, and no organisations.
  EXPECT_EQ(import(Role::kCommitteeStaff, v1::ROSTER_KIND_ORGANISATIONS, organisations, &refused)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(import(Role::kCommitteeStaff, v1::ROSTER_KIND_WORKERS,
                     "姓名,单位,电话,志愿者\n钱芳,rost-canteen,13700009999,否\n", &refused)
                  .ok());
  ASSERT_EQ(refused.problems_size(), 1);
  EXPECT_EQ(refused.problems(0).column(), "志愿者");
  EXPECT_FALSE(refused.written());

  // Export: what the caller sees, masked, in the columns the import reads back.
  auto export_roster = [&](Role role, v1::RosterKind kind, v1::RosterFormat format,
                           const std::string& region, v1::ExportRosterResponse* response) {
    v1::ExportRosterRequest request;
    request.set_kind(kind);
    request.set_format(format);
    request.set_region(region);
    return stub->ExportRoster(As(world.Token(role)).get(), request, response);
  };
  v1::ExportRosterResponse exported;
  ASSERT_TRUE(export_roster(Role::kStreetStaff, v1::ROSTER_KIND_ORGANISATIONS,
                            v1::ROSTER_FORMAT_CSV, "", &exported)
                  .ok());
  EXPECT_EQ(exported.content_type(), "text/csv; charset=utf-8");
  EXPECT_TRUE(absl::StartsWith(exported.file_name(), "organisations-310101020-"));
  EXPECT_NE(exported.content().find("rost-canteen"), std::string::npos);
  EXPECT_EQ(exported.content().find("farorg"), std::string::npos) << "another street's";
  EXPECT_LT(exported.content().find("rost-office,"), exported.content().find("rost-canteen,"))
      << "a parent before its organisation";
  v1::ImportRosterResponse again;
  ASSERT_TRUE(
      import(Role::kStreetStaff, v1::ROSTER_KIND_ORGANISATIONS, exported.content(), &again).ok());
  EXPECT_EQ(again.problems_size(), 0) << again.problems(0).DebugString();
  EXPECT_EQ(again.created(), 0);
  EXPECT_EQ(again.existing(), exported.rows());

  ASSERT_TRUE(export_roster(Role::kStreetStaff, v1::ROSTER_KIND_WORKERS, v1::ROSTER_FORMAT_CSV, "",
                            &exported)
                  .ok());
  EXPECT_NE(exported.content().find("李梅"), std::string::npos);
  EXPECT_EQ(exported.content().find("13700001234"), std::string::npos) << "phones are masked";
  EXPECT_NE(exported.content().find("137****1234"), std::string::npos);
  ASSERT_TRUE(export_roster(Role::kStreetStaff, v1::ROSTER_KIND_RELATIONS, v1::ROSTER_FORMAT_XLSX,
                            "regions/310101020", &exported)
                  .ok());
  EXPECT_EQ(exported.content().substr(0, 4), std::string("PK\x03\x04", 4));
  EXPECT_TRUE(absl::EndsWith(exported.file_name(), ".xlsx"));
  EXPECT_GE(exported.rows(), 2);
  ASSERT_TRUE(export_roster(Role::kCommitteeStaff, v1::ROSTER_KIND_ELDERS, v1::ROSTER_FORMAT_CSV,
                            "", &exported)
                  .ok());
  EXPECT_GE(exported.rows(), 1);
  EXPECT_NE(exported.content().find("310101020001"), std::string::npos);
  EXPECT_EQ(exported.content().find("310101021001"), std::string::npos);
  // Another street's region, or no format: refused.
  EXPECT_EQ(export_roster(Role::kStreetStaff, v1::ROSTER_KIND_ELDERS, v1::ROSTER_FORMAT_CSV,
                          "regions/310101021", &exported)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(export_roster(Role::kStreetStaff, v1::ROSTER_KIND_ELDERS, v1::ROSTER_FORMAT_UNSPECIFIED,
                          "", &exported)
                .error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

// A committee's promises come in by roster, each naming its elder by ID number: found only in
// the caller's region (the lookup audited), the owner checked as CreateCommitment's rule does,
// each row checked as CreateCommitment checks one; the same roster again changes nothing; a row
// of an elder elsewhere is refused as unknown and nothing of the file is written.
TEST_F(GatewayAuthz, PromisesComeInByRosterForTheCallersElders) {
  World& world = World::Get();
  auto stub = v1::ConsoleService::NewStub(world.channel);
  auto import = [&](Role role, v1::RosterKind kind, const std::string& csv, bool dry_run,
                    v1::ImportRosterResponse* response) {
    return ImportRoster(*stub, world.Token(role), kind, csv, response, {.dry_run = dry_run});
  };
  // Two elders of the committee and one of another street, by roster (as admin: anywhere).
  v1::ImportRosterResponse response;
  grpc::Status status = import(Role::kAdmin, v1::ROSTER_KIND_ELDERS,
                               "姓名,居委会,身份证号,同意\n"
                               "承诺甲,310101020001,31010119480512002X,个人信息\n"
                               "承诺乙,310101020001,310101195003150010,个人信息\n"
                               "承诺丙,310101021001,310101194701010010,个人信息\n",
                               false, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.problems_size(), 0) << response.problems(0).DebugString();

  const std::string header =
      "身份证号,服务类型,服务单位,开始日期,照护等级,重复规则,首次时间,时长（分钟）\n";
  const std::string rows =
      "31010119480512002X,visiting,homeorg,2026-12-07,3,,,\n"
      "310101195003150010,visiting,homeorg,2026-12-07,,FREQ=WEEKLY;BYDAY=TU,2026-12-08T14:00:00,"
      "60\n";
  status =
      import(Role::kCommitteeStaff, v1::ROSTER_KIND_COMMITMENTS, header + rows, false, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.problems_size(), 0) << response.problems(0).DebugString();
  EXPECT_EQ(response.created(), 2);
  EXPECT_TRUE(response.written());
  ASSERT_TRUE(
      import(Role::kCommitteeStaff, v1::ROSTER_KIND_COMMITMENTS, header + rows, false, &response)
          .ok());
  EXPECT_EQ(response.created(), 0) << "the same roster again changes nothing";
  EXPECT_EQ(response.existing(), 2);
  // An elder of another street is not found for the committee, nor for the street; an owner
  // that does not exist is refused by column; nothing of the file is written.
  v1::ImportRosterResponse refused;
  ASSERT_TRUE(import(Role::kStreetStaff, v1::ROSTER_KIND_COMMITMENTS,
                     header +
                         "31010119480512002X,visiting,homeorg,2026-12-14,,FREQ=DAILY,"
                         "2026-12-14T11:00:00,10\n"
                         "310101194701010010,visiting,homeorg,2026-12-07,,FREQ=WEEKLY;BYDAY=MO,"
                         "2026-12-07T09:00:00,60\n"
                         "310101195003150010,visiting,nosuchorg,2026-12-21,,FREQ=WEEKLY;BYDAY=MO,"
                         "2026-12-21T09:00:00,60\n",
                     false, &refused)
                  .ok());
  std::vector<std::pair<int, std::string>> problems;
  for (const auto& p : refused.problems()) problems.push_back({p.line(), p.column()});
  EXPECT_EQ(problems, (std::vector<std::pair<int, std::string>>{{3, "身份证号"}, {4, "服务单位"}}));
  EXPECT_FALSE(refused.written());
  EXPECT_EQ(refused.created(), 1) << "the good row would be created";
  // A bad cell is refused by the file's reading, with its column.
  ASSERT_TRUE(import(Role::kStreetStaff, v1::ROSTER_KIND_COMMITMENTS,
                     header + "31010119480512002,visiting,homeorg,2026-12-07,3,,,\n", true,
                     &refused)
                  .ok());
  ASSERT_EQ(refused.problems_size(), 1);
  EXPECT_EQ(refused.problems(0).column(), "身份证号");
  // The promises go out again, their elders' ID numbers masked (ExportCarePromises below);
  // elders, families and workers import nothing.
  v1::ExportRosterRequest export_request;
  export_request.set_kind(v1::ROSTER_KIND_COMMITMENTS);
  export_request.set_format(v1::ROSTER_FORMAT_CSV);
  v1::ExportRosterResponse exported;
  status = stub->ExportRoster(As(world.Token(Role::kStreetStaff)).get(), export_request, &exported);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_NE(exported.content().find("310***********002X,visiting,homeorg,2026-12-07"),
            std::string::npos);
  EXPECT_EQ(exported.content().find("31010119480512002X"), std::string::npos);
  for (Role role : {Role::kElder, Role::kFamily, Role::kWorker}) {
    EXPECT_EQ(import(role, v1::ROSTER_KIND_COMMITMENTS, header + rows, true, &refused).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
}

// A provider's past visits come in by roster through the gateway: each row's elder found by ID
// number in the caller's region, its promise by service type and owner, its workers by phone
// among the owner's; each visit replayed by the live rules and known again on a second import.
// Then the elder's answers about them, by a roster naming each visit the same way.
TEST_F(GatewayAuthz, PastVisitsAndAnswersComeInByRosterForTheStreetsPromises) {
  World& world = World::Get();
  auto stub = v1::ConsoleService::NewStub(world.channel);
  auto import = [&](Role role, v1::RosterKind kind, const std::string& csv, bool skip_bad_rows,
                    v1::ImportRosterResponse* response) {
    return ImportRoster(*stub, world.Token(role), kind, csv, response,
                        {.skip_bad_rows = skip_bad_rows});
  };
  // Dates around today (the suite runs on any date): a daily promise from two weeks ago.
  const absl::TimeZone beijing = absl::FixedTimeZone(8 * 3600);
  const absl::CivilDay today = absl::ToCivilDay(absl::Now(), beijing);
  auto day = [&](int offset) { return absl::FormatCivilTime(today + offset); };
  v1::ImportRosterResponse response;
  ASSERT_TRUE(import(Role::kAdmin, v1::ROSTER_KIND_ELDERS,
                     "姓名,居委会,身份证号,同意\n上门甲,310101020001,310101194203040014,个人信息\n",
                     false, &response)
                  .ok());
  ASSERT_EQ(response.problems_size(), 0) << response.problems(0).DebugString();
  ASSERT_TRUE(import(Role::kStreetStaff, v1::ROSTER_KIND_WORKERS,
                     "姓名,单位,电话\n王护理员,homeorg,13700009876\n", false, &response)
                  .ok());
  ASSERT_EQ(response.problems_size(), 0) << response.problems(0).DebugString();
  ASSERT_TRUE(import(Role::kStreetStaff, v1::ROSTER_KIND_COMMITMENTS,
                     absl::StrCat("身份证号,服务类型,服务单位,开始日期,重复规则,首次时间,"
                                  "时间窗（分钟）,时长（分钟）\n"
                                  "310101194203040014,visiting,homeorg,",
                                  day(-14), ",FREQ=DAILY,", day(-14), "T09:00:00,120,45\n"),
                     false, &response)
                  .ok());
  ASSERT_EQ(response.problems_size(), 0) << response.problems(0).DebugString();

  const std::string header =
      "身份证号,服务类型,服务单位,计划时间,结果,工作人员电话,到达时间,离开时间,到达纬度,到达经度\n";
  const std::string good = absl::StrCat(
      "310101194203040014,visiting,homeorg,", day(-3), "T09:00:00,完成,137 0000 9876,", day(-3),
      " 09:10,", day(-3), " 10:05,31.2,121.48\n",  // a phone written with spaces is the same
      "310101194203040014,visiting,homeorg,", day(-2), "T09:00:00,未上门,,,,,\n");
  const std::string bad = absl::StrCat(
      // Not an occurrence of the promise; nobody of homeorg has this phone; no such elder here
      // (an elder of the other street is not found either).
      "310101194203040014,visiting,homeorg,", day(-2), "T09:30:00,未上门,,,,,\n",
      "310101194203040014,visiting,homeorg,", day(-1), "T09:00:00,完成,13700000000,", day(-1),
      " 09:10,", day(-1), " 10:05,,\n", "310101194701010010,visiting,homeorg,", day(-1),
      "T09:00:00,未上门,,,,,\n");
  ASSERT_TRUE(
      import(Role::kStreetStaff, v1::ROSTER_KIND_VISITS, header + good + bad, false, &response)
          .ok());
  std::vector<std::pair<int, std::string>> problems;
  for (const auto& p : response.problems()) problems.push_back({p.line(), p.column()});
  EXPECT_EQ(problems, (std::vector<std::pair<int, std::string>>{
                          {4, "计划时间"}, {5, "工作人员电话"}, {6, "身份证号"}}));
  for (const auto& p : response.problems()) EXPECT_FALSE(p.reason_zh().empty());
  EXPECT_EQ(response.created(), 2);
  EXPECT_FALSE(response.written()) << "a bad row and no skip_bad_rows: nothing written";
  ASSERT_TRUE(
      import(Role::kStreetStaff, v1::ROSTER_KIND_VISITS, header + good + bad, true, &response)
          .ok());
  EXPECT_EQ(response.created(), 2);
  EXPECT_TRUE(response.written());
  // The same file again changes nothing.
  ASSERT_TRUE(
      import(Role::kStreetStaff, v1::ROSTER_KIND_VISITS, header + good, false, &response).ok());
  EXPECT_EQ(response.problems_size(), 0);
  EXPECT_EQ(response.created(), 0);
  EXPECT_EQ(response.existing(), 2);

  // Scheduling holds them as the live checks would have left them.
  scheduling::v1::ListVisitsRequest list;
  list.set_elder([&] {
    registry::v1::FindEldersByIdNumberRequest find;
    find.add_id_numbers("310101194203040014");
    find.set_reason("test");
    registry::v1::FindEldersByIdNumberResponse found;
    EXPECT_TRUE(
        world.registry
            ->FindEldersByIdNumber(NewClientContext(nullptr, absl::Seconds(10)).get(), find, &found)
            .ok());
    return found.elders_size() == 1 ? found.elders(0) : std::string();
  }());
  scheduling::v1::ListVisitsResponse visits;
  ASSERT_TRUE(world.scheduling
                  ->ListVisits(NewClientContext(nullptr, absl::Seconds(10)).get(), list, &visits)
                  .ok());
  std::map<std::string, const scheduling::v1::Visit*> by_occurrence;
  for (const auto& v : visits.visits()) by_occurrence[v.occurrence()] = &v;
  const scheduling::v1::Visit* kept = by_occurrence[day(-3) + "T09:00:00"];
  ASSERT_NE(kept, nullptr);
  EXPECT_EQ(kept->state(), scheduling::v1::VISIT_STATE_COMPLETED);
  EXPECT_EQ(kept->check_in().method(), scheduling::v1::CHECK_METHOD_PARTNER_REPORT);
  EXPECT_EQ(absl::FormatTime("%Y-%m-%d %H:%M",
                             absl::FromUnixSeconds(kept->check_in().time().seconds()), beijing),
            day(-3) + " 09:10");
  const scheduling::v1::Visit* missed = by_occurrence[day(-2) + "T09:00:00"];
  ASSERT_NE(missed, nullptr);
  EXPECT_EQ(missed->state(), scheduling::v1::VISIT_STATE_MISSED);

  // The elder's answers about them come in by their own roster, the committee's too, once
  // feedback has read the visits from scheduling's events (moments later: asked again until
  // then).
  const std::string answers_header =
      "身份证号,服务类型,服务单位,计划时间,评价时间,满意度,按约服务,说没人来,留言\n";
  const std::string answer = absl::StrCat("310101194203040014,visiting,homeorg,", day(-3),
                                          "T09:00:00,", day(-3), " 15:00,4,是,否,来得准时\n");
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  do {
    ASSERT_TRUE(import(Role::kCommitteeStaff, v1::ROSTER_KIND_ANSWERS, answers_header + answer,
                       false, &response)
                    .ok());
    if (response.problems_size() == 0) break;
    absl::SleepFor(absl::Milliseconds(200));
  } while (absl::Now() < deadline);
  ASSERT_EQ(response.problems_size(), 0) << response.problems(0).DebugString();
  EXPECT_EQ(response.created(), 1);
  EXPECT_TRUE(response.written());
  ASSERT_TRUE(
      import(Role::kStreetStaff, v1::ROSTER_KIND_ANSWERS, answers_header + answer, false, &response)
          .ok());
  EXPECT_EQ(response.existing(), 1) << "the same answer again changes nothing";
  EXPECT_EQ(response.created(), 0);
  // An answer about the missed visit, about a visit nobody recorded, before the visit began:
  // each refused in its column, nothing written.
  ASSERT_TRUE(import(Role::kStreetStaff, v1::ROSTER_KIND_ANSWERS,
                     absl::StrCat(answers_header, "310101194203040014,visiting,homeorg,", day(-2),
                                  "T09:00:00,", day(-2), " 15:00,1,否,是,\n",
                                  "310101194203040014,visiting,homeorg,", day(-5), "T09:00:00,",
                                  day(-5), " 15:00,3,,,\n", "310101194203040014,visiting,homeorg,",
                                  day(-3), "T09:00:00,", day(-3), " 08:00,5,,,\n"),
                     true, &response)
                  .ok());
  problems.clear();
  for (const auto& p : response.problems()) problems.push_back({p.line(), p.column()});
  EXPECT_EQ(problems, (std::vector<std::pair<int, std::string>>{
                          {2, "计划时间"}, {3, "计划时间"}, {4, "评价时间"}}));
  EXPECT_EQ(response.created(), 0);
  EXPECT_FALSE(response.written());

  // Past visits are the street's: committee staff do not import them; nobody exports them.
  EXPECT_EQ(import(Role::kCommitteeStaff, v1::ROSTER_KIND_VISITS, header + good, false, &response)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::ExportRosterRequest export_request;
  export_request.set_format(v1::ROSTER_FORMAT_CSV);
  v1::ExportRosterResponse exported;
  for (v1::RosterKind kind : {v1::ROSTER_KIND_VISITS, v1::ROSTER_KIND_ANSWERS}) {
    export_request.set_kind(kind);
    EXPECT_EQ(
        stub->ExportRoster(As(world.Token(Role::kStreetStaff)).get(), export_request, &exported)
            .error_code(),
        grpc::StatusCode::INVALID_ARGUMENT);
  }
}

// The care promises go out as a roster as the caller sees them: the active promises of the
// caller's region's elders only (each elder named by the ID number as ListElders masks it for the
// caller), of one organisation when one is named (in the caller's region); a cancelled promise
// is no longer on the roster. A street of its own with two committees, so the counts are exact.
TEST_F(GatewayAuthz, CarePromisesAreExportedMaskedForTheCallersRegionOnly) {
  World& world = World::Get();
  auto stub = v1::ConsoleService::NewStub(world.channel);
  using registry::v1::RegionLevel;
  for (const auto& [code, label, level, parent] :
       {std::tuple{"310101022", "导出街道", registry::v1::REGION_LEVEL_STREET, "regions/310101"},
        std::tuple{"310101022001", "导出一居", registry::v1::REGION_LEVEL_COMMITTEE,
                   "regions/310101022"},
        std::tuple{"310101022002", "导出二居", registry::v1::REGION_LEVEL_COMMITTEE,
                   "regions/310101022"}}) {
    registry::v1::CreateRegionRequest q;
    q.mutable_region()->set_code(code);
    q.mutable_region()->set_display_name(label);
    q.mutable_region()->set_level(level);
    q.mutable_region()->set_parent(parent);
    registry::v1::CreateRegionResponse a;
    grpc::Status status =
        world.registry->CreateRegion(NewClientContext(nullptr, absl::Seconds(10)).get(), q, &a);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  for (const char* id : {"exportorg", "exportorg2"}) {
    registry::v1::CreateOrganisationRequest q;
    q.mutable_organisation()->set_id(id);
    q.mutable_organisation()->set_display_name(absl::StrCat(id, " 助老服务社"));
    q.mutable_organisation()->set_kind(registry::v1::ORGANISATION_KIND_SOCIAL_ORGANISATION);
    q.mutable_organisation()->set_sector(registry::v1::SECTOR_SOCIAL);
    q.mutable_organisation()->set_region("regions/310101022");
    registry::v1::CreateOrganisationResponse a;
    grpc::Status status = world.registry->CreateOrganisation(
        NewClientContext(nullptr, absl::Seconds(10)).get(), q, &a);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  const std::string street =
      world.Token(Role::kStreetStaff, {{"sub", "staff/export-street"}, {"region", "310101022"}});
  const std::string committee = world.Token(
      Role::kCommitteeStaff, {{"sub", "staff/export-committee"}, {"region", "310101022001"}});
  auto import = [&](const std::string& token, v1::RosterKind kind, const std::string& csv) {
    v1::ImportRosterResponse response;
    grpc::Status status = ImportRoster(*stub, token, kind, csv, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.problems_size(), 0)
        << (response.problems_size() > 0 ? response.problems(0).DebugString() : "");
    EXPECT_TRUE(response.written());
  };
  // Two elders of the first committee, one of the second.
  import(street, v1::ROSTER_KIND_ELDERS,
         "姓名,居委会,身份证号,同意\n"
         "导出甲,310101022001,310101194103070419,个人信息\n"
         "导出乙,310101022001,310101194208180526,个人信息\n"
         "导出丙,310101022002,310101194402260634,个人信息\n");
  // 甲: one promise of each organisation; 乙: two, the first cancelled below; 丙: one.
  import(street, v1::ROSTER_KIND_COMMITMENTS,
         "身份证号,服务类型,服务单位,开始日期,重复规则,首次时间,时长（分钟）\n"
         "310101194103070419,visiting,exportorg,2026-12-07,FREQ=WEEKLY;BYDAY=MO,"
         "2026-12-07T09:00:00,60\n"
         "310101194103070419,visiting,exportorg2,2026-12-08,FREQ=WEEKLY;BYDAY=TU,"
         "2026-12-08T09:00:00,45\n"
         "310101194208180526,visiting,exportorg,2026-12-09,FREQ=WEEKLY;BYDAY=WE,"
         "2026-12-09T09:00:00,30\n"
         "310101194208180526,visiting,exportorg,2026-12-10,FREQ=WEEKLY;BYDAY=TH,"
         "2026-12-10T09:00:00,30\n"
         "310101194402260634,visiting,exportorg,2026-12-11,FREQ=WEEKLY;BYDAY=FR,"
         "2026-12-11T09:00:00,90\n");
  // The ID numbers as ListElders shows them to staff, by elder.
  std::map<std::string, std::string> names;  // ID number as shown -> elder
  {
    registry::v1::ListEldersRequest q;
    q.set_region("regions/310101022");
    registry::v1::ListEldersResponse a;
    grpc::Status status = stub->ListElders(As(street).get(), q, &a);
    ASSERT_TRUE(status.ok()) << status.error_message();
    ASSERT_EQ(a.elders_size(), 3);
    for (const auto& e : a.elders()) {
      EXPECT_EQ(e.id_number().find("1941030704"), std::string::npos) << "masked";
      names[e.id_number()] = e.name();
    }
  }
  const std::string jia = "310***********0419", yi = "310***********0526",
                    bing = "310***********0634";
  ASSERT_EQ(names.size(), 3u);
  ASSERT_EQ(names.count(jia) + names.count(yi) + names.count(bing), 3u)
      << "ListElders masks ID numbers as expected below";
  {
    scheduling::v1::ListCommitmentsRequest q;
    q.set_elder(names[yi]);
    scheduling::v1::ListCommitmentsResponse a;
    grpc::Status status = world.scheduling->ListCommitments(
        NewClientContext(nullptr, absl::Seconds(10)).get(), q, &a);
    ASSERT_TRUE(status.ok()) << status.error_message();
    ASSERT_EQ(a.commitments_size(), 2);
    std::string first;
    for (const auto& c : a.commitments()) {
      if (c.valid_from() == "2026-12-09") first = c.name();
    }
    ASSERT_FALSE(first.empty());
    scheduling::v1::CancelCommitmentRequest end;
    end.set_name(first);
    end.set_reason("老人改为每周四上门");
    scheduling::v1::CancelCommitmentResponse ended;
    status = stub->CancelCommitment(As(street).get(), end, &ended);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }

  auto export_roster = [&](const std::string& token, v1::RosterFormat format,
                           const std::string& organisation, v1::ExportRosterResponse* response) {
    v1::ExportRosterRequest request;
    request.set_kind(v1::ROSTER_KIND_COMMITMENTS);
    request.set_format(format);
    request.set_organisation(organisation);
    *response = {};
    return stub->ExportRoster(As(token).get(), request, response);
  };
  // The file's data lines (after the BOM and the header), CRLF-ended.
  auto lines = [](const std::string& csv) {
    std::vector<std::string> out;
    size_t start = csv.find("\r\n");
    while (start != std::string::npos && start + 2 < csv.size()) {
      const size_t end = csv.find("\r\n", start + 2);
      out.push_back(csv.substr(start + 2, end - start - 2));
      start = end;
    }
    return out;
  };

  // The first committee's staff: their two elders' three active promises, nothing of the
  // second committee's elder, the cancelled promise left out.
  v1::ExportRosterResponse exported;
  grpc::Status status = export_roster(committee, v1::ROSTER_FORMAT_CSV, "", &exported);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(exported.content_type(), "text/csv; charset=utf-8");
  EXPECT_TRUE(absl::StartsWith(exported.file_name(), "commitments-310101022001-"))
      << exported.file_name();
  EXPECT_TRUE(absl::StartsWith(exported.content(),
                               "\xEF\xBB\xBF身份证号,服务类型,服务单位,开始日期,结束日期"))
      << exported.content();
  EXPECT_EQ(exported.rows(), 3);
  std::vector<std::string> rows = lines(exported.content());
  ASSERT_EQ(rows.size(), 3u) << exported.content();
  std::multiset<std::string> starts;
  for (const std::string& row : rows) {
    const std::string id = row.substr(0, row.find(','));
    EXPECT_TRUE(id == jia || id == yi) << row;
    starts.insert(row.substr(0, row.find(",2026-12-") + 11));
  }
  EXPECT_EQ(starts, (std::multiset<std::string>{jia + ",visiting,exportorg,2026-12-07",
                                                jia + ",visiting,exportorg2,2026-12-08",
                                                yi + ",visiting,exportorg,2026-12-10"}));
  EXPECT_EQ(exported.content().find("2026-12-09"), std::string::npos) << "cancelled";
  EXPECT_EQ(exported.content().find(bing), std::string::npos) << "another committee's elder";
  EXPECT_EQ(exported.content().find("1941030704"), std::string::npos) << "nothing unmasked";
  EXPECT_NE(exported.content().find(
                jia + ",visiting,exportorg,2026-12-07,,,,FREQ=WEEKLY;BYDAY=MO,2026-12-07T09:00:00"),
            std::string::npos)
      << exported.content();

  // The street's staff: every committee's, as .xlsx too; one organisation's when named.
  status = export_roster(street, v1::ROSTER_FORMAT_CSV, "", &exported);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(exported.rows(), 4);
  EXPECT_EQ(lines(exported.content()).size(), 4u);
  EXPECT_NE(exported.content().find(bing + ",visiting,exportorg,2026-12-11"), std::string::npos);
  EXPECT_EQ(exported.content().find("2026-12-09"), std::string::npos) << "cancelled";
  EXPECT_EQ(exported.content().find("homeorg"), std::string::npos) << "another street's";
  status = export_roster(street, v1::ROSTER_FORMAT_XLSX, "", &exported);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(exported.content().substr(0, 4), std::string("PK\x03\x04", 4));
  EXPECT_EQ(exported.rows(), 4);
  status = export_roster(street, v1::ROSTER_FORMAT_CSV, "organisations/exportorg2", &exported);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(exported.rows(), 1);
  EXPECT_TRUE(absl::StartsWith(exported.file_name(), "commitments-exportorg2-"))
      << exported.file_name();
  EXPECT_NE(exported.content().find(jia + ",visiting,exportorg2,2026-12-08"), std::string::npos);
  status = export_roster(committee, v1::ROSTER_FORMAT_CSV, "organisations/exportorg", &exported);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(exported.rows(), 2) << exported.content();

  // Another street's staff see none of these, and may not name this street's organisation.
  status = export_roster(world.Token(Role::kStreetStaff), v1::ROSTER_FORMAT_CSV, "", &exported);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(exported.content().find("exportorg"), std::string::npos);
  EXPECT_EQ(exported.content().find(jia), std::string::npos);
  EXPECT_EQ(export_roster(world.Token(Role::kStreetStaff), v1::ROSTER_FORMAT_CSV,
                          "organisations/exportorg", &exported)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::ExportRosterRequest elsewhere;
  elsewhere.set_kind(v1::ROSTER_KIND_COMMITMENTS);
  elsewhere.set_format(v1::ROSTER_FORMAT_CSV);
  elsewhere.set_region("regions/310101022002");
  EXPECT_EQ(stub->ExportRoster(As(committee).get(), elsewhere, &exported).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // A region below the caller's narrows the file: the street asks for its second committee.
  status = stub->ExportRoster(As(street).get(), elsewhere, &exported);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(exported.rows(), 1);
  EXPECT_NE(exported.content().find(bing), std::string::npos);
}

TEST_F(GatewayAuthz, ElderPageAndFamily) {
  World& world = World::Get();
  auto stub = v1::ElderAppService::NewStub(world.channel);
  for (Role role : {Role::kElder, Role::kFamily}) {
    v1::GetElderPageRequest request;
    request.set_elder(world.home_elder);
    v1::GetElderPageResponse page;
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + world.Token(role));
    grpc::Status status = stub->GetElderPage(&context, request, &page);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(page.profile().name(), world.home_elder);
    EXPECT_EQ(page.missing_parts_size(), 0);
    EXPECT_EQ(page.index().subject(), world.home_elder);
    EXPECT_EQ(page.index().window_days(), 30);
    ASSERT_EQ(page.commitments_size(), 1);
    EXPECT_EQ(page.commitments(0).name(), world.home_commitment);
    EXPECT_GE(page.upcoming_visits_size(), 6);  // daily visits over the next 7 days
    EXPECT_EQ(page.upcoming_visits(0).organisation(), "organisations/homeorg");
    v1::ListMyFamilyRequest family_request;
    family_request.set_elder(world.home_elder);
    v1::ListMyFamilyResponse family;
    grpc::ClientContext family_context;
    family_context.AddMetadata("authorization", "Bearer " + world.Token(role));
    ASSERT_TRUE(stub->ListMyFamily(&family_context, family_request, &family).ok());
    ASSERT_EQ(family.contacts_size(), 1);
    EXPECT_EQ(family.contacts(0).relationship(), "儿子");
  }
  v1::ListMyUpcomingVisitsRequest bad;
  bad.set_elder(world.home_elder);
  bad.set_days(99);
  v1::ListMyUpcomingVisitsResponse ignored;
  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer " + world.Token(Role::kElder));
  EXPECT_EQ(stub->ListMyUpcomingVisits(&context, bad, &ignored).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

// The visits of `commitment` on the day `days_from_today` days from today (Shanghai), read from
// scheduling directly.
scheduling::v1::ListVisitsResponse VisitsOn(const std::string& commitment, int days_from_today) {
  const absl::TimeZone shanghai = absl::FixedTimeZone(8 * 3600);
  const absl::CivilDay day = absl::ToCivilDay(absl::Now(), shanghai) + days_from_today;
  scheduling::v1::ListVisitsRequest request;
  request.set_commitment(commitment);
  request.set_from_date(absl::FormatCivilTime(day));
  request.set_to_date(absl::FormatCivilTime(day + 1));
  scheduling::v1::ListVisitsResponse response;
  auto context = NewClientContext(nullptr, absl::Seconds(10));
  grpc::Status status = World::Get().scheduling->ListVisits(context.get(), request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return response;
}

std::string Day(int days_from_today) {
  return absl::FormatCivilTime(absl::ToCivilDay(absl::Now(), absl::FixedTimeZone(8 * 3600)) +
                               days_from_today);
}

// A care-grade-6 promise of the home elder by the home organisation, valid from today, with
// `shape` applied, and its visits of the next `days` days materialised; returns its name.
std::string HomePromiseWithVisits(
    int days, const std::function<void(scheduling::v1::Commitment&)>& shape = nullptr) {
  World& world = World::Get();
  scheduling::v1::CreateCommitmentRequest q;
  q.mutable_commitment()->set_elder(world.home_elder);
  q.mutable_commitment()->set_service_type("serviceTypes/visiting");
  q.mutable_commitment()->set_owner_organisation("organisations/homeorg");
  q.mutable_commitment()->set_valid_from(Day(0));
  q.mutable_commitment()->set_care_grade(6);
  if (shape) shape(*q.mutable_commitment());
  scheduling::v1::CreateCommitmentResponse a;
  auto context = NewClientContext(nullptr, absl::Seconds(10));
  grpc::Status status = world.scheduling->CreateCommitment(context.get(), q, &a);
  EXPECT_TRUE(status.ok()) << status.error_message();
  scheduling::v1::MaterializeVisitsRequest m;
  m.set_from_date(Day(0));
  m.set_days(days);
  m.set_commitment(a.commitment().name());
  scheduling::v1::MaterializeVisitsResponse made;
  auto context2 = NewClientContext(nullptr, absl::Seconds(10));
  status = world.scheduling->MaterializeVisits(context2.get(), m, &made);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return a.commitment().name();
}

// A worker of `organisation` registered in the registry; returns "workers/{id}".
std::string NewWorker(const std::string& organisation, const std::string& label) {
  registry::v1::CreateWorkerRequest request;
  request.mutable_worker()->set_display_name(label);
  request.mutable_worker()->set_organisation(organisation);
  registry::v1::CreateWorkerResponse response;
  auto context = NewClientContext(nullptr, absl::Seconds(10));
  grpc::Status status = World::Get().registry->CreateWorker(context.get(), request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return response.worker().name();
}

// Feedback learns of commitments and visits from scheduling's event stream: retries `call` (with
// a fresh context each time) while it is NOT_FOUND or FAILED_PRECONDITION, up to 30 s.
template <typename Call>
grpc::Status Eventually(Call call) {
  grpc::Status status;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  do {
    status = call();
    if (status.error_code() != grpc::StatusCode::FAILED_PRECONDITION &&
        status.error_code() != grpc::StatusCode::NOT_FOUND)
      break;
    absl::SleepFor(absl::Milliseconds(100));
  } while (absl::Now() < deadline);
  return status;
}

// Before PartnerKeysAreScopedAndRevocable, which revokes the key.
TEST_F(GatewayAuthz, PartnerSubmitsWorkOrdersAndSeesOnlyItsOwn) {
  World& world = World::Get();
  auto stub = v1::PartnerService::NewStub(world.channel);
  auto as_partner = [&] {
    auto context = std::make_unique<grpc::ClientContext>();
    context->AddMetadata("x-api-key", world.partner_key);
    return context;
  };
  v1::SubmitWorkOrderRequest submit;
  submit.set_commitment(world.home_commitment);
  submit.set_description("市民来电：老人反映上门服务人员迟到");
  submit.set_external_reference("12345-20261127-0001");
  submit.set_request_id("ticket-0001");
  v1::SubmitWorkOrderResponse submitted;
  grpc::Status status =
      Eventually([&] { return stub->SubmitWorkOrder(as_partner().get(), submit, &submitted); });
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(submitted.work_order().source(), feedback::v1::WORK_ORDER_SOURCE_HOTLINE_12345);
  EXPECT_EQ(submitted.work_order().state(), feedback::v1::WORK_ORDER_STATE_ACCEPTED);
  EXPECT_EQ(submitted.work_order().elder(), world.home_elder);
  EXPECT_EQ(submitted.work_order().external_reference(), "12345-20261127-0001");
  // The same ticket again: the same work order.
  v1::SubmitWorkOrderResponse again;
  ASSERT_TRUE(stub->SubmitWorkOrder(as_partner().get(), submit, &again).ok());
  EXPECT_EQ(again.work_order().name(), submitted.work_order().name());

  v1::GetWorkOrderStatusRequest get;
  get.set_name(submitted.work_order().name());
  v1::GetWorkOrderStatusResponse got;
  status = stub->GetWorkOrderStatus(as_partner().get(), get, &got);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(got.work_order().name(), submitted.work_order().name());
  ASSERT_GE(got.work_order().history_size(), 1);

  // The partner hears of its complaint's steps in its own inbox ("partners/{key id}"), which is
  // not its organisation's: a notice of one cannot be marked read through the other.
  v1::ListPartnerNoticesRequest inbox;
  inbox.set_inbox(v1::PARTNER_INBOX_PARTNER);
  feedback::v1::ListNoticesResponse notices;
  status = stub->ListMyNotices(as_partner().get(), inbox, &notices);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const feedback::v1::Notice* heard = nullptr;
  for (const feedback::v1::Notice& n : notices.notices()) {
    EXPECT_EQ(n.recipient(), "partners/homeorg");
    if (n.subject() == submitted.work_order().name()) heard = &n;
  }
  ASSERT_NE(heard, nullptr);
  EXPECT_EQ(heard->kind(), feedback::v1::NOTICE_KIND_WORK_ORDER);
  EXPECT_EQ(heard->work_order_state(), feedback::v1::WORK_ORDER_STATE_ACCEPTED);
  EXPECT_FALSE(heard->has_read_time());
  inbox.set_inbox(v1::PARTNER_INBOX_UNSPECIFIED);  // the key names one: the organisation's
  feedback::v1::ListNoticesResponse organisation;
  ASSERT_TRUE(stub->ListMyNotices(as_partner().get(), inbox, &organisation).ok());
  for (const feedback::v1::Notice& n : organisation.notices()) {
    EXPECT_EQ(n.recipient(), "organisations/homeorg");
  }
  v1::MarkPartnerNoticesReadRequest read;
  read.set_inbox(v1::PARTNER_INBOX_ORGANISATION);
  read.add_names(heard->name());
  feedback::v1::MarkNoticesReadResponse marked;
  EXPECT_EQ(stub->MarkMyNoticesRead(as_partner().get(), read, &marked).error_code(),
            grpc::StatusCode::NOT_FOUND);
  read.set_inbox(v1::PARTNER_INBOX_PARTNER);
  status = stub->MarkMyNoticesRead(as_partner().get(), read, &marked);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(marked.marked(), 1);
  inbox.set_inbox(static_cast<v1::PartnerInbox>(7));
  EXPECT_EQ(stub->ListMyNotices(as_partner().get(), inbox, &notices).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  // A work order someone else submitted is not found for the partner.
  feedback::v1::CreateWorkOrderRequest other;
  other.mutable_work_order()->set_source(feedback::v1::WORK_ORDER_SOURCE_STAFF);
  other.mutable_work_order()->set_commitment(world.home_commitment);
  other.mutable_work_order()->set_description("居委会登记的投诉");
  feedback::v1::CreateWorkOrderResponse created;
  ASSERT_TRUE(Eventually([&] {
                auto context = NewClientContext(nullptr, absl::Seconds(10));
                context->AddMetadata("x-linli-actor", "committee_staff:staff/committee");
                return world.feedback->CreateWorkOrder(context.get(), other, &created);
              }).ok());
  get.set_name(created.work_order().name());
  EXPECT_EQ(stub->GetWorkOrderStatus(as_partner().get(), get, &got).error_code(),
            grpc::StatusCode::NOT_FOUND);
  // Bad input is the backend's INVALID_ARGUMENT, not INTERNAL.
  submit.set_description("x");
  submit.set_request_id("ticket-0002");
  EXPECT_EQ(stub->SubmitWorkOrder(as_partner().get(), submit, &submitted).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

// Before PartnerKeysAreScopedAndRevocable, which revokes the key.
TEST_F(GatewayAuthz, PartnerSyncsItsOfferingsAndReportsItsDeliveries) {
  World& world = World::Get();
  auto stub = v1::PartnerService::NewStub(world.channel);
  auto as_partner = [&] {
    auto context = std::make_unique<grpc::ClientContext>();
    context->AddMetadata("x-api-key", world.partner_key);
    return context;
  };
  // One offering of the key's organisation and one of another.
  std::string mine, theirs;
  for (auto [target, org] :
       {std::pair{&mine, "organisations/homeorg"}, std::pair{&theirs, "organisations/farorg"}}) {
    registry::v1::CreateOfferingRequest q;
    q.mutable_offering()->set_organisation(org);
    q.mutable_offering()->set_service_type("serviceTypes/visiting");
    q.mutable_offering()->add_covered_regions("regions/310101020");
    q.mutable_offering()->set_capacity_per_day(10);
    q.mutable_offering()->set_capacity_per_week(50);
    registry::v1::CreateOfferingResponse a;
    auto context = NewClientContext(nullptr, absl::Seconds(10));
    ASSERT_TRUE(world.registry->CreateOffering(context.get(), q, &a).ok());
    *target = a.offering().name();
  }
  v1::UpdateMyOfferingRequest update;
  update.mutable_offering()->set_name(mine);
  update.mutable_offering()->set_capacity_per_day(40);
  update.mutable_offering()->set_capacity_per_week(1);  // not in the mask: unchanged
  update.mutable_offering()->mutable_schedule()->set_rrule("FREQ=WEEKLY;BYDAY=MO,WE,FR");
  update.mutable_offering()->mutable_schedule()->set_dtstart("2026-01-05T11:00:00");
  update.mutable_offering()->mutable_schedule()->set_duration_minutes(120);
  update.mutable_update_mask()->add_paths("capacity_per_day");
  update.mutable_update_mask()->add_paths("schedule");
  update.set_request_id("sync-1");
  v1::UpdateMyOfferingResponse updated;
  grpc::Status status = stub->UpdateMyOffering(as_partner().get(), update, &updated);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(updated.offering().capacity_per_day(), 40);
  EXPECT_EQ(updated.offering().capacity_per_week(), 50);
  EXPECT_EQ(updated.offering().schedule().rrule(), "FREQ=WEEKLY;BYDAY=MO,WE,FR");
  EXPECT_EQ(updated.offering().organisation(), "organisations/homeorg");
  // The same request_id again: the same answer, nothing else changes.
  v1::UpdateMyOfferingResponse again;
  ASSERT_TRUE(stub->UpdateMyOffering(as_partner().get(), update, &again).ok());
  EXPECT_EQ(again.SerializeAsString(), updated.SerializeAsString());
  // The change is what ListMyOfferings shows.
  v1::ListMyOfferingsResponse listed;
  ASSERT_TRUE(stub->ListMyOfferings(as_partner().get(), {}, &listed).ok());
  bool seen = false;
  for (const auto& o : listed.offerings()) {
    if (o.name() == mine) seen = o.capacity_per_day() == 40;
  }
  EXPECT_TRUE(seen);
  // Another organisation's offering: not found; unchangeable or bad fields: named.
  update.mutable_offering()->set_name(theirs);
  update.clear_request_id();
  EXPECT_EQ(stub->UpdateMyOffering(as_partner().get(), update, &updated).error_code(),
            grpc::StatusCode::NOT_FOUND);
  update.mutable_offering()->set_name(mine);
  update.mutable_update_mask()->add_paths("organisation");
  EXPECT_EQ(stub->UpdateMyOffering(as_partner().get(), update, &updated).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  update.mutable_update_mask()->clear_paths();
  update.mutable_update_mask()->add_paths("capacity_per_day");
  update.mutable_offering()->set_capacity_per_day(-1);
  EXPECT_EQ(stub->UpdateMyOffering(as_partner().get(), update, &updated).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  {
    registry::v1::ListOfferingsRequest q;
    q.set_organisation("organisations/farorg");
    registry::v1::ListOfferingsResponse a;
    auto context = NewClientContext(nullptr, absl::Seconds(10));
    ASSERT_TRUE(world.registry->ListOfferings(context.get(), q, &a).ok());
    ASSERT_EQ(a.offerings_size(), 1);
    EXPECT_EQ(a.offerings(0).capacity_per_day(), 10);  // untouched
  }

  // Deliveries: only the visits of the organisation's own commitments, without personal data.
  v1::ListMyDeliveriesRequest list;
  list.set_date(Day(2));
  v1::ListMyDeliveriesResponse deliveries;
  status = stub->ListMyDeliveries(as_partner().get(), list, &deliveries);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const auto home_visits = VisitsOn(world.home_commitment, 2);
  ASSERT_EQ(home_visits.visits_size(), 1);
  const std::string visit = home_visits.visits(0).name();
  bool found = false;
  for (const auto& d : deliveries.deliveries()) {
    EXPECT_NE(d.commitment(), world.foreign_commitment);
    found |= d.visit() == visit;
  }
  EXPECT_TRUE(found);
  list.set_date("2026-13-01");
  EXPECT_EQ(stub->ListMyDeliveries(as_partner().get(), list, &deliveries).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  // A delivery reported by the organisation's worker goes through the visit verification.
  const std::string courier = NewWorker("organisations/homeorg", "送餐员 王师傅");
  const std::string stranger = NewWorker("organisations/farorg", "别家的人");
  v1::ReportDeliveryRequest report;
  report.set_visit(visit);
  report.set_worker(stranger);
  v1::ReportDeliveryResponse reported;
  EXPECT_EQ(stub->ReportDelivery(as_partner().get(), report, &reported).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  report.set_worker(courier);
  status = stub->ReportDelivery(as_partner().get(), report, &reported);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(reported.delivery().visit(), visit);
  EXPECT_EQ(reported.delivery().state(), scheduling::v1::VISIT_STATE_COMPLETED);
  EXPECT_EQ(reported.delivery().arrival_method(), scheduling::v1::CHECK_METHOD_PARTNER_REPORT);
  EXPECT_NE(std::find(reported.delivery().exceptions().begin(),
                      reported.delivery().exceptions().end(), "PARTNER_REPORTED"),
            reported.delivery().exceptions().end());
  // Reported again: the same delivery, nothing rewritten.
  v1::ReportDeliveryResponse repeated;
  ASSERT_TRUE(stub->ReportDelivery(as_partner().get(), report, &repeated).ok());
  EXPECT_EQ(repeated.delivery().arrival_time().seconds(),
            reported.delivery().arrival_time().seconds());
  const auto stored = VisitsOn(world.home_commitment, 2);
  ASSERT_EQ(stored.visits_size(), 1);
  EXPECT_EQ(stored.visits(0).check_out().worker(), courier);
  // Another organisation's visit: not found, and untouched.
  report.set_visit(world.foreign_visit);
  EXPECT_EQ(stub->ReportDelivery(as_partner().get(), report, &reported).error_code(),
            grpc::StatusCode::NOT_FOUND);
  scheduling::v1::GetVisitRequest get;
  get.set_name(world.foreign_visit);
  scheduling::v1::GetVisitResponse foreign;
  auto context = NewClientContext(nullptr, absl::Seconds(10));
  ASSERT_TRUE(world.scheduling->GetVisit(context.get(), get, &foreign).ok());
  EXPECT_FALSE(foreign.visit().has_check_in());
}

TEST_F(GatewayAuthz, PartnerKeysAreScopedAndRevocable) {
  World& world = World::Get();
  auto stub = v1::PartnerService::NewStub(world.channel);
  v1::ListMyOfferingsRequest request;
  v1::ListMyOfferingsResponse response;
  {
    grpc::ClientContext context;
    context.AddMetadata("x-api-key", world.partner_key);
    grpc::Status status = stub->ListMyOfferings(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
  }
  // Revoked by editing the file: refused at once, no restart.
  std::ofstream(world.api_keys_path + ".new") << "# all keys revoked\n";
  ASSERT_EQ(std::rename((world.api_keys_path + ".new").c_str(), world.api_keys_path.c_str()), 0);
  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer " + world.partner_key);
  EXPECT_EQ(stub->ListMyOfferings(&context, request, &response).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(GatewayAuthz, ConsoleReadsFeedbackOfItsRegionOnly) {
  World& world = World::Get();
  auto stub = v1::ConsoleService::NewStub(world.channel);
  const std::string committee = world.Token(Role::kCommitteeStaff);
  const std::string street = world.Token(Role::kStreetStaff);
  feedback::v1::ListAlertsRequest alerts;
  alerts.set_committee("regions/310101020001");
  feedback::v1::ListAlertsResponse listed;
  grpc::Status status = stub->ListAlerts(As(committee).get(), alerts, &listed);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(stub->ListAlerts(As(street).get(), alerts, &listed).ok());
  alerts.set_committee("regions/310101021001");
  EXPECT_EQ(stub->ListAlerts(As(committee).get(), alerts, &listed).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // A street's alerts (every committee's) for its street staff only.
  feedback::v1::ListAlertsRequest street_alerts;
  street_alerts.set_region("regions/310101020");
  status = stub->ListAlerts(As(street).get(), street_alerts, &listed);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(stub->ListAlerts(As(committee).get(), street_alerts, &listed).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  street_alerts.set_region("regions/310101021");
  EXPECT_EQ(stub->ListAlerts(As(street).get(), street_alerts, &listed).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  alerts.set_committee("regions/310101020001");
  alerts.set_page_size(-1);  // the backend's validation comes through
  EXPECT_EQ(stub->ListAlerts(As(committee).get(), alerts, &listed).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  feedback::v1::GetPerceptionIndexRequest index;
  feedback::v1::GetPerceptionIndexResponse index_response;
  for (const std::string& subject :
       {world.home_elder, world.home_commitment, std::string("regions/310101020001"),
        std::string("organisations/homeorg")}) {
    index.set_subject(subject);
    status = stub->GetPerceptionIndex(As(street).get(), index, &index_response);
    EXPECT_TRUE(status.ok()) << subject << ": " << status.error_message();
    EXPECT_EQ(index_response.index().subject(), subject);
    feedback::v1::GetPerceptionTrendRequest trend;
    trend.set_subject(subject);
    trend.set_weeks(4);
    feedback::v1::GetPerceptionTrendResponse weeks;
    status = stub->GetPerceptionTrend(As(street).get(), trend, &weeks);
    EXPECT_TRUE(status.ok()) << subject << ": " << status.error_message();
    EXPECT_EQ(weeks.weeks_size(), 4) << subject;
  }
  for (const std::string& subject : {world.foreign_elder, world.foreign_commitment,
                                     std::string("regions/310101021"), std::string("workers/w1")}) {
    index.set_subject(subject);
    status = stub->GetPerceptionIndex(As(street).get(), index, &index_response);
    EXPECT_TRUE(status.error_code() == grpc::StatusCode::PERMISSION_DENIED ||
                status.error_code() == grpc::StatusCode::NOT_FOUND)
        << subject << ": " << status.error_code();
  }
  feedback::v1::GetPromiseLedgerRequest ledger;
  ledger.set_subject(world.home_commitment);
  ledger.set_window_days(7);
  feedback::v1::GetPromiseLedgerResponse ledger_response;
  status = stub->GetPromiseLedger(As(committee).get(), ledger, &ledger_response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(ledger_response.ledger().window_days(), 7);
  ledger.set_subject(world.foreign_commitment);
  EXPECT_EQ(stub->GetPromiseLedger(As(committee).get(), ledger, &ledger_response).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // Work orders: the rows of the caller's region (ListWorkOrdersShowsOnlyTheCallersRows), with
  // or without an organisation in scope; an organisation or region outside it is refused.
  feedback::v1::ListWorkOrdersRequest orders;
  feedback::v1::ListWorkOrdersResponse orders_response;
  status = stub->ListWorkOrders(As(street).get(), orders, &orders_response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  orders.set_responsible_organisation("organisations/homeorg");
  status = stub->ListWorkOrders(As(street).get(), orders, &orders_response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  orders.set_responsible_organisation("organisations/farorg");
  EXPECT_EQ(stub->ListWorkOrders(As(street).get(), orders, &orders_response).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  orders.clear_responsible_organisation();
  orders.set_region("regions/310101021001");
  EXPECT_EQ(stub->ListWorkOrders(As(street).get(), orders, &orders_response).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

// The console's writes reach only the caller's region: visits (through their elder), workers
// (through their organisation), work orders (through their elder) and commitments of another
// street are refused; the caller's own are reachable.
TEST_F(GatewayAuthz, ConsoleWritesStayInTheirRegion) {
  World& world = World::Get();
  auto stub = v1::ConsoleService::NewStub(world.channel);
  const std::string street = world.Token(Role::kStreetStaff);
  auto visits_of = [&](const std::string& commitment) {
    scheduling::v1::ListVisitsRequest q;
    q.set_commitment(commitment);
    scheduling::v1::ListVisitsResponse a;
    EXPECT_TRUE(
        world.scheduling->ListVisits(NewClientContext(nullptr, absl::Seconds(10)).get(), q, &a)
            .ok());
    return a;
  };
  const scheduling::v1::ListVisitsResponse home = visits_of(world.home_commitment);
  const scheduling::v1::ListVisitsResponse foreign = visits_of(world.foreign_commitment);
  ASSERT_GE(home.visits_size(), 2);
  ASSERT_GE(foreign.visits_size(), 1);
  // The last visit of the week (today's belongs to the worker-app tests).
  const std::string last = home.visits(home.visits_size() - 1).name();
  std::map<std::string, std::string> workers;  // organisation id -> worker
  for (const char* org : {"homeorg", "farorg"}) {
    registry::v1::CreateWorkerRequest q;
    q.mutable_worker()->set_display_name(absl::StrCat(org, " 社工"));
    q.mutable_worker()->set_organisation(absl::StrCat("organisations/", org));
    registry::v1::CreateWorkerResponse a;
    ASSERT_TRUE(
        world.registry->CreateWorker(NewClientContext(nullptr, absl::Seconds(10)).get(), q, &a)
            .ok());
    workers[org] = a.worker().name();
  }

  scheduling::v1::GetVisitRequest get;
  scheduling::v1::GetVisitResponse got;
  get.set_name(last);
  grpc::Status status = stub->GetVisit(As(street).get(), get, &got);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(got.visit().elder(), world.home_elder);
  get.set_name(foreign.visits(0).name());
  EXPECT_EQ(stub->GetVisit(As(street).get(), get, &got).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  get.set_name("visits/nope");
  EXPECT_EQ(stub->GetVisit(As(street).get(), get, &got).error_code(), grpc::StatusCode::NOT_FOUND);

  scheduling::v1::AssignVisitRequest assign;
  scheduling::v1::AssignVisitResponse assigned;
  assign.set_name(foreign.visits(0).name());
  assign.set_worker(workers["homeorg"]);
  EXPECT_EQ(stub->AssignVisit(As(street).get(), assign, &assigned).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  assign.set_name(last);
  assign.set_worker(workers["farorg"]);
  EXPECT_EQ(stub->AssignVisit(As(street).get(), assign, &assigned).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  assign.set_worker(workers["homeorg"]);
  assign.set_request_id("console-assign-1");
  status = stub->AssignVisit(As(street).get(), assign, &assigned);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(assigned.visit().assignments_size(), 1);

  scheduling::v1::CancelVisitRequest cancel;
  cancel.set_name(foreign.visits(0).name());
  cancel.set_reason_code("ELDER_IN_HOSPITAL");
  scheduling::v1::CancelVisitResponse cancelled;
  EXPECT_EQ(stub->CancelVisit(As(street).get(), cancel, &cancelled).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  scheduling::v1::RescheduleVisitRequest reschedule;
  reschedule.set_name(foreign.visits(0).name());
  reschedule.set_reason_code("ELDER_REQUEST");
  scheduling::v1::RescheduleVisitResponse rescheduled;
  EXPECT_EQ(stub->RescheduleVisit(As(street).get(), reschedule, &rescheduled).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  scheduling::v1::SwapVisitWorkersRequest swap;
  swap.set_first(last);
  swap.set_second(foreign.visits(0).name());
  scheduling::v1::SwapVisitWorkersResponse swapped;
  EXPECT_EQ(stub->SwapVisitWorkers(As(street).get(), swap, &swapped).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  scheduling::v1::ReleaseWorkerRequest release;
  release.set_worker(workers["farorg"]);
  release.set_from_date(home.visits(home.visits_size() - 1).occurrence().substr(0, 10));
  release.set_days(1);
  release.set_reason_code("WORKER_ILL");
  scheduling::v1::ReleaseWorkerResponse released;
  EXPECT_EQ(stub->ReleaseWorker(As(street).get(), release, &released).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  release.set_worker(workers["homeorg"]);
  status = stub->ReleaseWorker(As(street).get(), release, &released);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(released.visits_size(), 1);
  EXPECT_EQ(released.visits(0).name(), last);

  scheduling::v1::CancelCommitmentRequest end;
  end.set_name(world.foreign_commitment);
  end.set_reason("不再需要");
  scheduling::v1::CancelCommitmentResponse ended;
  EXPECT_EQ(stub->CancelCommitment(As(street).get(), end, &ended).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // Work orders through their elder.
  std::map<std::string, std::string> orders;  // commitment -> work order
  for (const std::string& commitment : {world.home_commitment, world.foreign_commitment}) {
    feedback::v1::CreateWorkOrderRequest q;
    q.mutable_work_order()->set_source(feedback::v1::WORK_ORDER_SOURCE_STAFF);
    q.mutable_work_order()->set_commitment(commitment);
    q.mutable_work_order()->set_description("探访时间不固定");
    feedback::v1::CreateWorkOrderResponse a;
    status = Eventually([&] {
      return world.feedback->CreateWorkOrder(NewClientContext(nullptr, absl::Seconds(10)).get(), q,
                                             &a);
    });
    ASSERT_TRUE(status.ok()) << status.error_message();
    orders[commitment] = a.work_order().name();
  }
  feedback::v1::GetWorkOrderRequest order;
  feedback::v1::GetWorkOrderResponse order_out;
  order.set_name(orders[world.home_commitment]);
  status = stub->GetWorkOrder(As(street).get(), order, &order_out);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(order_out.work_order().elder(), world.home_elder);
  order.set_name(orders[world.foreign_commitment]);
  EXPECT_EQ(stub->GetWorkOrder(As(street).get(), order, &order_out).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  feedback::v1::ClassifyWorkOrderRequest classify;
  classify.set_name(orders[world.foreign_commitment]);
  classify.set_category(feedback::v1::WORK_ORDER_CATEGORY_OTHER);
  feedback::v1::ClassifyWorkOrderResponse classified;
  EXPECT_EQ(stub->ClassifyWorkOrder(As(street).get(), classify, &classified).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  classify.set_name(orders[world.home_commitment]);
  status = stub->ClassifyWorkOrder(As(street).get(), classify, &classified);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(classified.work_order().history().rbegin()->actor(), "street_staff:staff/street_staff");

  // Alerts: a missing one is NOT_FOUND; a sweep as of another time is for admins.
  feedback::v1::AcknowledgeAlertRequest ack;
  ack.set_name("alerts/nope");
  feedback::v1::AcknowledgeAlertResponse acked;
  EXPECT_EQ(stub->AcknowledgeAlert(As(street).get(), ack, &acked).error_code(),
            grpc::StatusCode::NOT_FOUND);
  feedback::v1::SweepAlertsRequest sweep;
  feedback::v1::SweepAlertsResponse swept;
  status = stub->SweepAlerts(As(street).get(), sweep, &swept);
  EXPECT_TRUE(status.ok()) << status.error_message();
  sweep.mutable_as_of()->set_seconds(absl::ToUnixSeconds(absl::Now()) + 86400);
  EXPECT_EQ(stub->SweepAlerts(As(street).get(), sweep, &swept).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  status = stub->SweepAlerts(As(world.Token(Role::kAdmin)).get(), sweep, &swept);
  EXPECT_TRUE(status.ok()) << status.error_message();
}

// Street staff build their street's map through the console: organisations, relations,
// offerings and workers inside it, nothing outside it; committee staff register volunteers of
// their committee's organisations; the taxonomy is the admins'.
TEST_F(GatewayAuthz, StaffBuildTheirStreetsMapAndNothingElse) {
  World& world = World::Get();
  auto stub = v1::ConsoleService::NewStub(world.channel);
  const std::string street = world.Token(Role::kStreetStaff);
  const std::string committee = world.Token(Role::kCommitteeStaff);

  registry::v1::CreateOrganisationRequest org;
  org.mutable_organisation()->set_id("qiaoyi-volunteers");
  org.mutable_organisation()->set_display_name("桥一志愿者服务队");
  org.mutable_organisation()->set_kind(registry::v1::ORGANISATION_KIND_VOLUNTEER_TEAM);
  org.mutable_organisation()->set_sector(registry::v1::SECTOR_SOCIAL);
  org.mutable_organisation()->set_region("regions/310101020001");
  org.set_request_id("authz-build-org-1");
  registry::v1::CreateOrganisationResponse created_org;
  grpc::Status status = stub->CreateOrganisation(As(committee).get(), org, &created_org);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << status.error_message();
  status = stub->CreateOrganisation(As(street).get(), org, &created_org);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const std::string team = created_org.organisation().name();
  registry::v1::CreateOrganisationRequest elsewhere = org;
  elsewhere.mutable_organisation()->set_id("qiaoyi-elsewhere");
  elsewhere.mutable_organisation()->set_region("regions/310101021001");
  elsewhere.set_request_id("authz-build-org-2");
  EXPECT_EQ(stub->CreateOrganisation(As(street).get(), elsewhere, &created_org).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  registry::v1::CreateRelationRequest relation;
  relation.mutable_relation()->set_source(team);
  relation.mutable_relation()->set_target("organisations/homeorg");
  relation.mutable_relation()->set_type(registry::v1::RELATION_TYPE_PARTNER);
  registry::v1::CreateRelationResponse related;
  status = stub->CreateRelation(As(street).get(), relation, &related);
  EXPECT_TRUE(status.ok()) << status.error_message();
  relation.mutable_relation()->set_source("organisations/farorg");
  relation.mutable_relation()->set_target(team);
  EXPECT_EQ(stub->CreateRelation(As(street).get(), relation, &related).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  relation.mutable_relation()->set_source(team);
  relation.mutable_relation()->set_target("organisations/farorg");  // a street beside, not above
  EXPECT_EQ(stub->CreateRelation(As(street).get(), relation, &related).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  registry::v1::CreateOfferingRequest offering;
  offering.mutable_offering()->set_organisation(team);
  offering.mutable_offering()->set_service_type("serviceTypes/visiting");
  offering.mutable_offering()->add_covered_regions("regions/310101020001");
  offering.mutable_offering()->set_capacity_per_day(4);
  registry::v1::CreateOfferingResponse offered;
  status = stub->CreateOffering(As(street).get(), offering, &offered);
  ASSERT_TRUE(status.ok()) << status.error_message();
  offering.mutable_offering()->add_covered_regions("regions/310101021001");
  EXPECT_EQ(stub->CreateOffering(As(street).get(), offering, &offered).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  registry::v1::UpdateOfferingRequest update;
  update.mutable_offering()->set_name(offered.offering().name());
  update.mutable_offering()->set_capacity_per_day(6);
  update.mutable_update_mask()->add_paths("capacity_per_day");
  registry::v1::UpdateOfferingResponse updated;
  EXPECT_EQ(stub->UpdateOffering(As(street).get(), update, &updated).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);    // staff name the organisation
  update.set_organisation("organisations/homeorg");  // in the street, but not the offering's
  EXPECT_EQ(stub->UpdateOffering(As(street).get(), update, &updated).error_code(),
            grpc::StatusCode::NOT_FOUND);
  update.set_organisation(team);
  status = stub->UpdateOffering(As(street).get(), update, &updated);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(updated.offering().capacity_per_day(), 6);

  registry::v1::CreateWorkerRequest worker;
  worker.mutable_worker()->set_display_name("志愿者 陈阿姨");
  worker.mutable_worker()->set_organisation(team);
  registry::v1::CreateWorkerResponse registered;
  EXPECT_EQ(stub->CreateWorker(As(committee).get(), worker, &registered).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);  // staff, not a volunteer
  worker.mutable_worker()->set_volunteer(true);
  status = stub->CreateWorker(As(committee).get(), worker, &registered);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(registered.worker().organisation(), team);
  worker.mutable_worker()->set_organisation("organisations/homeorg");  // the street's, above
  EXPECT_EQ(stub->CreateWorker(As(committee).get(), worker, &registered).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  worker.mutable_worker()->set_volunteer(false);
  status = stub->CreateWorker(As(street).get(), worker, &registered);
  EXPECT_TRUE(status.ok()) << status.error_message();

  registry::v1::CreateServiceTypeRequest type;
  type.mutable_service_type()->set_code("authz-build");
  type.mutable_service_type()->set_display_name("测试服务");
  registry::v1::CreateServiceTypeResponse typed;
  EXPECT_EQ(stub->CreateServiceType(As(street).get(), type, &typed).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  status = stub->CreateServiceType(As(world.Token(Role::kAdmin)).get(), type, &typed);
  EXPECT_TRUE(status.ok()) << status.error_message();
}

TEST_F(GatewayAuthz, StaffKeepTheirStreetsRecordsUpToDate) {
  World& world = World::Get();
  auto stub = v1::ConsoleService::NewStub(world.channel);
  const std::string street = world.Token(Role::kStreetStaff);
  const std::string committee = world.Token(Role::kCommitteeStaff);
  auto backend = [] { return NewClientContext(nullptr, absl::Seconds(10)); };

  // An organisation of the street: renamed by street staff with the etag of their read.
  registry::v1::CreateOrganisationRequest org;
  org.mutable_organisation()->set_id("upkeep-centre");
  org.mutable_organisation()->set_display_name("桥一助老点");
  org.mutable_organisation()->set_kind(registry::v1::ORGANISATION_KIND_SOCIAL_ORGANISATION);
  org.mutable_organisation()->set_sector(registry::v1::SECTOR_SOCIAL);
  org.mutable_organisation()->set_region("regions/310101020001");
  registry::v1::CreateOrganisationResponse created;
  ASSERT_TRUE(stub->CreateOrganisation(As(street).get(), org, &created).ok());
  registry::v1::UpdateOrganisationRequest rename;
  *rename.mutable_organisation() = created.organisation();
  rename.mutable_organisation()->set_display_name("桥一居民区助老服务点");
  rename.mutable_update_mask()->add_paths("display_name");
  registry::v1::UpdateOrganisationResponse renamed;
  EXPECT_EQ(stub->UpdateOrganisation(As(committee).get(), rename, &renamed).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);  // the street keeps organisations
  grpc::Status status = stub->UpdateOrganisation(As(street).get(), rename, &renamed);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(renamed.organisation().display_name(), "桥一居民区助老服务点");
  EXPECT_EQ(stub->UpdateOrganisation(As(street).get(), rename, &renamed).error_code(),
            grpc::StatusCode::ABORTED);  // a stale etag, through the gateway too

  // A volunteer kept by committee staff; a staff worker is the street's.
  registry::v1::CreateWorkerRequest volunteer;
  volunteer.mutable_worker()->set_display_name("志愿者 王阿姨");
  volunteer.mutable_worker()->set_organisation(created.organisation().name());
  volunteer.mutable_worker()->set_volunteer(true);
  *volunteer.mutable_worker()->mutable_base_location() = [] {
    common::v1::LatLng p;
    p.set_latitude(31.201234);
    p.set_longitude(121.481234);
    return p;
  }();
  registry::v1::CreateWorkerResponse hired;
  ASSERT_TRUE(stub->CreateWorker(As(committee).get(), volunteer, &hired).ok());
  registry::v1::UpdateWorkerRequest skills;
  skills.mutable_worker()->set_name(hired.worker().name());
  skills.mutable_worker()->set_etag(hired.worker().etag());
  skills.mutable_worker()->add_skills("companionship");
  skills.mutable_update_mask()->add_paths("skills");
  registry::v1::UpdateWorkerResponse changed;
  status = stub->UpdateWorker(As(committee).get(), skills, &changed);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(changed.worker().skills(0), "companionship");
  EXPECT_DOUBLE_EQ(changed.worker().base_location().latitude(), 31.2);  // coarsened for staff
  registry::v1::UpdateWorkerRequest to_staff = skills;
  to_staff.mutable_worker()->set_etag(changed.worker().etag());
  to_staff.mutable_update_mask()->add_paths("volunteer");  // volunteer=false: made staff
  EXPECT_EQ(stub->UpdateWorker(As(committee).get(), to_staff, &changed).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  status = stub->UpdateWorker(As(street).get(), to_staff, &changed);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_FALSE(changed.worker().volunteer());

  // An elder of the committee with a promise: corrected, consent withdrawn, then deceased.
  registry::v1::CreateElderRequest register_elder;
  register_elder.mutable_elder()->set_display_name("赵金凤");
  register_elder.mutable_elder()->set_region("regions/310101020001");
  registry::v1::CreateElderResponse registered;
  ASSERT_TRUE(stub->RegisterElder(As(committee).get(), register_elder, &registered).ok());
  const std::string elder = registered.elder().name();
  scheduling::v1::CreateCommitmentRequest promise;
  promise.mutable_commitment()->set_elder(elder);
  promise.mutable_commitment()->set_service_type("serviceTypes/visiting");
  promise.mutable_commitment()->set_owner_organisation("organisations/homeorg");
  promise.mutable_commitment()->set_valid_from("2026-01-01");
  promise.mutable_commitment()->set_care_grade(6);
  scheduling::v1::CreateCommitmentResponse promised;
  status = stub->CreateCommitment(As(committee).get(), promise, &promised);
  ASSERT_TRUE(status.ok()) << status.error_message();

  registry::v1::UpdateElderRequest correct;
  correct.mutable_elder()->set_name(elder);
  correct.mutable_elder()->set_etag(registered.elder().etag());
  correct.mutable_elder()->set_living_situation(registry::v1::LIVING_SITUATION_ALONE);
  correct.mutable_update_mask()->add_paths("living_situation");
  correct.set_reason("老伴去世后独居");
  registry::v1::UpdateElderResponse corrected;
  status = stub->UpdateElder(As(committee).get(), correct, &corrected);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(corrected.elder().living_situation(), registry::v1::LIVING_SITUATION_ALONE);
  registry::v1::UpdateElderRequest move = correct;
  move.mutable_elder()->set_etag(corrected.elder().etag());
  move.mutable_elder()->set_region("regions/310101021001");  // another street's committee
  move.mutable_update_mask()->add_paths("region");
  EXPECT_EQ(stub->UpdateElder(As(committee).get(), move, &corrected).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  registry::v1::RecordConsentRequest consent;
  consent.set_name(elder);
  consent.set_purpose(registry::v1::CONSENT_PURPOSE_SHARE_WITH_PROVIDERS);
  consent.set_granted(true);
  consent.set_reason("本人在居委签字同意");
  registry::v1::RecordConsentResponse consented;
  status = stub->RecordConsent(As(committee).get(), consent, &consented);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(consented.elder().consents_size(), 1);
  EXPECT_EQ(consented.elder().consents(0).recorded_by(), "committee_staff:staff/committee");

  registry::v1::RetireElderRequest retire;
  retire.set_name(elder);
  retire.set_status(registry::v1::ELDER_STATUS_DECEASED);
  retire.set_effective_date("2026-01-02");
  retire.set_reason("家属告知居委");
  retire.set_etag(consented.elder().etag());
  v1::RetireElderResponse retired;
  status = stub->RetireElder(As(committee).get(), retire, &retired);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(retired.elder().status(), registry::v1::ELDER_STATUS_DECEASED);
  EXPECT_EQ(std::vector<std::string>(retired.closed_commitments().begin(),
                                     retired.closed_commitments().end()),
            std::vector<std::string>{promised.commitment().name()});
  scheduling::v1::GetCommitmentRequest get;
  get.set_name(promised.commitment().name());
  scheduling::v1::GetCommitmentResponse got;
  ASSERT_TRUE(world.scheduling->GetCommitment(backend().get(), get, &got).ok());
  EXPECT_EQ(got.commitment().state(), scheduling::v1::COMMITMENT_STATE_CANCELLED);
  // A retry finds nothing left to close and succeeds.
  status = stub->RetireElder(As(committee).get(), retire, &retired);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(retired.closed_commitments_size(), 0);
  // No new promise is made to an elder who died.
  promise.mutable_commitment()->set_valid_from("2026-01-03");
  EXPECT_EQ(stub->CreateCommitment(As(committee).get(), promise, &promised).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);

  // Its ties and offerings end too; staff name the organisation they belong to.
  registry::v1::CreateRelationRequest tie;
  tie.mutable_relation()->set_source(created.organisation().name());
  tie.mutable_relation()->set_target("organisations/homeorg");
  tie.mutable_relation()->set_type(registry::v1::RELATION_TYPE_PARTNER);
  registry::v1::CreateRelationResponse tied;
  ASSERT_TRUE(stub->CreateRelation(As(street).get(), tie, &tied).ok());
  registry::v1::RetireRelationRequest untie;
  untie.set_name(tied.relation().name());
  untie.set_etag(tied.relation().etag());
  untie.set_reason("合作结束");
  registry::v1::RetireRelationResponse untied;
  EXPECT_EQ(stub->RetireRelation(As(street).get(), untie, &untied).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);  // no organisation named
  untie.set_organisation(created.organisation().name());
  status = stub->RetireRelation(As(street).get(), untie, &untied);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(untied.relation().retired());
  registry::v1::CreateOfferingRequest offer;
  offer.mutable_offering()->set_organisation(created.organisation().name());
  offer.mutable_offering()->set_service_type("serviceTypes/visiting");
  offer.mutable_offering()->add_covered_regions("regions/310101020001");
  registry::v1::CreateOfferingResponse offered;
  ASSERT_TRUE(stub->CreateOffering(As(street).get(), offer, &offered).ok());
  registry::v1::RetireOfferingRequest stop;
  stop.set_name(offered.offering().name());
  stop.set_etag(offered.offering().etag());
  stop.set_reason("探访服务停止");
  stop.set_organisation("organisations/homeorg");  // the street's, but not the offering's
  registry::v1::RetireOfferingResponse stopped;
  EXPECT_EQ(stub->RetireOffering(As(street).get(), stop, &stopped).error_code(),
            grpc::StatusCode::NOT_FOUND);
  stop.set_organisation(created.organisation().name());
  EXPECT_EQ(stub->RetireOffering(As(committee).get(), stop, &stopped).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  status = stub->RetireOffering(As(street).get(), stop, &stopped);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(stopped.offering().retired());

  // Retiring an organisation is the street's.
  registry::v1::RetireOrganisationRequest close;
  close.set_name(created.organisation().name());
  close.set_etag(renamed.organisation().etag());
  close.set_reason("服务点撤并");
  registry::v1::RetireOrganisationResponse closed;
  EXPECT_EQ(stub->RetireOrganisation(As(committee).get(), close, &closed).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  status = stub->RetireOrganisation(As(street).get(), close, &closed);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(closed.organisation().retired());
}

TEST_F(GatewayAuthz, ElderRaisesAndFollowsOwnComplaints) {
  World& world = World::Get();
  auto stub = v1::ElderAppService::NewStub(world.channel);
  v1::RaiseComplaintRequest raise;
  raise.set_elder(world.home_elder);
  raise.set_commitment(world.home_commitment);
  raise.set_description("上周三没有人来，电话也没人接");
  v1::RaiseComplaintResponse raised;
  grpc::Status status = Eventually(
      [&] { return stub->RaiseComplaint(As(world.Token(Role::kElder)).get(), raise, &raised); });
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(raised.work_order().source(), feedback::v1::WORK_ORDER_SOURCE_APP);
  EXPECT_EQ(raised.work_order().elder(), world.home_elder);
  ASSERT_GE(raised.work_order().history_size(), 1);
  EXPECT_EQ(raised.work_order().history(0).actor(), "elder:" + world.home_elder);
  // Someone else's promise, even named under one's own elder: refused.
  raise.set_commitment(world.foreign_commitment);
  EXPECT_EQ(stub->RaiseComplaint(As(world.Token(Role::kFamily)).get(), raise, &raised).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  v1::GetMyComplaintRequest get;
  get.set_elder(world.home_elder);
  get.set_name(raised.work_order().name());
  v1::GetMyComplaintResponse got;
  status = stub->GetMyComplaint(As(world.Token(Role::kFamily)).get(), get, &got);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(got.work_order().description(), "上周三没有人来，电话也没人接");
  // Family of another elder, asking under their own elder: not found.
  const std::string other_family =
      world.Token(Role::kFamily, {{"sub", "families/f2"}, {"elders", {world.foreign_elder}}});
  get.set_elder(world.foreign_elder);
  EXPECT_EQ(stub->GetMyComplaint(As(other_family).get(), get, &got).error_code(),
            grpc::StatusCode::NOT_FOUND);

  // My complaints: every one about the elder, in order, for the elder and the family alike.
  raise.set_commitment(world.home_commitment);
  raise.set_description("送来的饭是凉的");
  v1::RaiseComplaintResponse second;
  ASSERT_TRUE(stub->RaiseComplaint(As(world.Token(Role::kElder)).get(), raise, &second).ok());
  for (Role role : {Role::kElder, Role::kFamily}) {
    v1::ListMyComplaintsRequest list;
    list.set_elder(world.home_elder);
    list.set_page_size(1);
    std::vector<std::string> names;
    do {
      v1::ListMyComplaintsResponse page;
      status = stub->ListMyComplaints(As(world.Token(role)).get(), list, &page);
      ASSERT_TRUE(status.ok()) << status.error_message();
      for (const auto& order : page.work_orders()) {
        EXPECT_EQ(order.elder(), world.home_elder);
        names.push_back(order.name());
      }
      list.set_page_token(page.next_page_token());
    } while (!list.page_token().empty());
    // Other tests of this process may have added complaints about the elder too.
    auto first_at = std::find(names.begin(), names.end(), raised.work_order().name());
    auto second_at = std::find(names.begin(), names.end(), second.work_order().name());
    ASSERT_NE(first_at, names.end());
    ASSERT_NE(second_at, names.end());
    EXPECT_LT(first_at, second_at);
    EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), names.size());
  }
  // Filtered by state; another elder's are refused; the foreign elder has none of these.
  v1::ListMyComplaintsRequest accepted;
  accepted.set_elder(world.home_elder);
  accepted.set_state(feedback::v1::WORK_ORDER_STATE_CLOSED);
  v1::ListMyComplaintsResponse none;
  ASSERT_TRUE(stub->ListMyComplaints(As(world.Token(Role::kElder)).get(), accepted, &none).ok());
  EXPECT_EQ(none.work_orders_size(), 0);
  accepted.set_elder(world.foreign_elder);
  EXPECT_EQ(
      stub->ListMyComplaints(As(world.Token(Role::kFamily)).get(), accepted, &none).error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  accepted.clear_state();
  ASSERT_TRUE(stub->ListMyComplaints(As(other_family).get(), accepted, &none).ok());
  EXPECT_EQ(none.work_orders_size(), 0);
  // The family sees the names of the contacts they can answer as.
  v1::ListMyFamilyRequest family_request;
  family_request.set_elder(world.home_elder);
  v1::ListMyFamilyResponse family;
  ASSERT_TRUE(
      stub->ListMyFamily(As(world.Token(Role::kFamily)).get(), family_request, &family).ok());
  ASSERT_EQ(family.contact_names_size(), family.contacts_size());
  EXPECT_EQ(family.contact_names(0), world.home_elder + "/contacts/0");
}

TEST_F(GatewayAuthz, JsonPathHasTheSameAuthenticationAndAuthorisation) {
  World& world = World::Get();
  httplib::Client client("127.0.0.1", world.http->port());
  const std::string path = "/linli.gateway.v1.ElderAppService/ListMyFamily";
  const std::string body = nlohmann::json{{"elder", world.home_elder}}.dump();
  auto none = client.Post(path.c_str(), body, "application/json");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 401);
  EXPECT_EQ(nlohmann::json::parse(none->body)["code"], "unauthenticated");
  httplib::Headers family = {{"Authorization", "Bearer " + world.Token(Role::kFamily)}};
  auto ok = client.Post(path.c_str(), family, body, "application/json");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->body;
  auto foreign =
      client.Post(path.c_str(), family, nlohmann::json{{"elder", world.foreign_elder}}.dump(),
                  "application/json");
  ASSERT_TRUE(foreign);
  EXPECT_EQ(foreign->status, 403);
  EXPECT_EQ(nlohmann::json::parse(foreign->body)["code"], "permission_denied");
  // Bad input: wrong type, malformed JSON, oversized body: 4xx with a message. (Unknown fields
  // are ignored, as Connect servers do: services/gateway/http_connect_test.cc.)
  for (const std::string& bad : {std::string(R"({"elder":5})"), std::string(R"({"elder":)")}) {
    auto refused = client.Post(path.c_str(), family, bad, "application/json");
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->status, 400) << bad;
    EXPECT_EQ(nlohmann::json::parse(refused->body)["code"], "invalid_argument") << bad;
  }
  auto huge = client.Post(path.c_str(), family, std::string(200 * 1024, ' '), "application/json");
  ASSERT_TRUE(huge);
  EXPECT_EQ(huge->status, 413);
  EXPECT_EQ(nlohmann::json::parse(huge->body, nullptr, false).value("code", ""),
            "resource_exhausted");
}

// A self-signed certificate for 127.0.0.1 (P-256), written as cert.pem and key.pem in `dir`.
void WriteSelfSignedCertificate(const std::string& dir) {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  X509* cert = X509_new();
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509_sign(cert, key, EVP_sha256());
  FILE* out = std::fopen((dir + "/cert.pem").c_str(), "w");
  PEM_write_X509(out, cert);
  std::fclose(out);
  out = std::fopen((dir + "/key.pem").c_str(), "w");
  PEM_write_PrivateKey(out, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(out);
  X509_free(cert);
  EVP_PKEY_free(key);
}

TEST_F(GatewayAuthz, JsonOverHttpsByConfiguration) {
  World& world = World::Get();
  const std::string dir = testing::MakeTempDir("gateway_tls");
  WriteSelfSignedCertificate(dir);
  auto https =
      HttpJsonServer::Start("127.0.0.1:0", {"linli.gateway.v1.ElderAppService"}, *world.server,
                            absl::Seconds(10), 64 * 1024, {dir + "/cert.pem", dir + "/key.pem"});
  ASSERT_TRUE(https.ok()) << https.status();
  httplib::SSLClient client("127.0.0.1", (*https)->port());
  client.set_ca_cert_path((dir + "/cert.pem").c_str());
  client.enable_server_certificate_verification(true);
  httplib::Headers family = {{"Authorization", "Bearer " + world.Token(Role::kFamily)}};
  auto ok = client.Post("/linli.gateway.v1.ElderAppService/ListMyFamily", family,
                        nlohmann::json{{"elder", world.home_elder}}.dump(), "application/json");
  ASSERT_TRUE(ok) << httplib::to_string(ok.error());
  EXPECT_EQ(ok->status, 200) << ok->body;
  // Plain HTTP to the HTTPS port gets no JSON answer.
  httplib::Client plain("127.0.0.1", (*https)->port());
  plain.set_read_timeout(2, 0);
  auto refused = plain.Post("/linli.gateway.v1.ElderAppService/ListMyFamily", family, "{}",
                            "application/json");
  EXPECT_TRUE(!refused || refused->status != 200);
  // A key without its certificate is refused at start-up.
  EXPECT_FALSE(HttpJsonServer::Start("127.0.0.1:0", {}, *world.server, absl::Seconds(1), 1024,
                                     {"", dir + "/key.pem"})
                   .ok());
  EXPECT_FALSE(HttpJsonServer::Start("127.0.0.1:0", {}, *world.server, absl::Seconds(1), 1024,
                                     {dir + "/key.pem", dir + "/key.pem"})
                   .ok());
  (*https)->Stop();
}

TEST_F(GatewayAuthz, RateLimitPerPrincipal) {
  World& world = World::Get();
  auth::JwtKeySet keys;
  keys.Add(*auth::JwtKey::Hmac("test", kSecret));
  GateOptions options;
  options.issuer = "linli-test";
  options.rate_per_second = 0.01;
  options.burst = 3;
  FakeClock clock(absl::Now());
  Gate gate(std::move(keys), nullptr, options,
            std::make_shared<Relations>(world.registry, world.scheduling, absl::Seconds(5), clock),
            clock);
  // The gate alone, on a real server context: a tiny service whose handler only admits.
  class Probe final : public v1::ConsoleService::Service {
   public:
    explicit Probe(Gate* gate) : gate_(gate) {}
    grpc::Status ListLines(grpc::ServerContext* context,
                           const registry::v1::ListLinesRequest* request,
                           registry::v1::ListLinesResponse*) override {
      return gate_->Run(context, "/linli.gateway.v1.ConsoleService/ListLines", *request,
                        [](const auth::Principal&) { return grpc::Status::OK; });
    }
    Gate* gate_;
  } probe(&gate);
  ServerOptions server_options;
  server_options.service_name = "probe";
  server_options.listen_address = "127.0.0.1:0";
  server_options.shutdown_deadline = absl::Seconds(1);
  auto server = GrpcServer::Start(server_options, {&probe});
  ASSERT_TRUE(server.ok());
  auto stub =
      v1::ConsoleService::NewStub(NewChannel(absl::StrCat("127.0.0.1:", (*server)->port()), {}));
  auto call = [&](const std::string& token) {
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + token);
    registry::v1::ListLinesResponse response;
    return stub->ListLines(&context, {}, &response).error_code();
  };
  const std::string a = world.Token(Role::kStreetStaff);
  const std::string b = world.Token(Role::kCommitteeStaff);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(call(a), grpc::StatusCode::OK);
  EXPECT_EQ(call(a), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(call(b), grpc::StatusCode::OK);  // another principal has its own bucket
  clock.Advance(absl::Seconds(150));         // 1.5 tokens refilled: one call
  EXPECT_EQ(call(a), grpc::StatusCode::OK);
  EXPECT_EQ(call(a), grpc::StatusCode::RESOURCE_EXHAUSTED);
  (*server)->Shutdown();
}

TEST_F(GatewayAuthz, WorkerChecksInAndOutOnlyAtTheirOwnPromise) {
  World& world = World::Get();
  auto stub = v1::WorkerAppService::NewStub(world.channel);
  const std::string worker = world.Token(Role::kWorker);
  const std::string other_worker = world.Token(Role::kWorker, {{"sub", "workers/w2"}});
  const scheduling::v1::ListVisitsResponse today = VisitsOn(world.home_commitment, 0);
  ASSERT_EQ(today.visits_size(), 1);  // a daily promise
  v1::WorkerCheckInRequest in;
  in.set_commitment(world.home_commitment);
  in.set_visit(today.visits(0).name());
  in.set_method(scheduling::v1::CHECK_METHOD_APP_GPS);
  v1::WorkerCheckInResponse checked_in;
  EXPECT_EQ(stub->CheckIn(As(other_worker).get(), in, &checked_in).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // A visit of another promise named under one's own promise is not found.
  v1::WorkerCheckInRequest smuggled = in;
  smuggled.set_visit("visits/not-of-this-promise");
  EXPECT_EQ(stub->CheckIn(As(worker).get(), smuggled, &checked_in).error_code(),
            grpc::StatusCode::NOT_FOUND);
  // A worker does not choose how the visit is verified: a phone or family-proxy check (which
  // would complete the visit without any exception) is for staff to record.
  for (auto method : {scheduling::v1::CHECK_METHOD_FAMILY_PROXY, scheduling::v1::CHECK_METHOD_PHONE,
                      scheduling::v1::CHECK_METHOD_PARTNER_REPORT}) {
    v1::WorkerCheckInRequest self_declared = in;
    self_declared.set_method(method);
    grpc::Status refused = stub->CheckIn(As(worker).get(), self_declared, &checked_in);
    EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << method;
    EXPECT_TRUE(absl::StrContains(refused.error_message(), "GPS")) << refused.error_message();
  }
  grpc::Status status = stub->CheckIn(As(worker).get(), in, &checked_in);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(checked_in.visit().state(), scheduling::v1::VISIT_STATE_IN_PROGRESS);
  EXPECT_EQ(checked_in.visit().check_in().method(), scheduling::v1::CHECK_METHOD_APP_GPS);
  EXPECT_EQ(checked_in.visit().check_in().worker(), "workers/w1");  // the caller, always
  v1::WorkerCheckOutRequest out;
  out.set_commitment(world.home_commitment);
  out.set_visit(in.visit());
  out.set_method(scheduling::v1::CHECK_METHOD_APP_GPS);
  v1::WorkerCheckOutResponse checked_out;
  status = stub->CheckOut(As(worker).get(), out, &checked_out);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(checked_out.visit().state(), scheduling::v1::VISIT_STATE_COMPLETED);
}

// Completes today's visit itself unless WorkerChecksInAndOutOnlyAtTheirOwnPromise did.
// Today's visit of the home commitment, done by its familiar worker through the worker app
// (unless an earlier step of the same test process did it); its name.
std::string CompleteTodaysHomeVisit() {
  World& world = World::Get();
  const scheduling::v1::ListVisitsResponse today = VisitsOn(world.home_commitment, 0);
  EXPECT_EQ(today.visits_size(), 1);
  if (today.visits_size() != 1) return "";
  if (today.visits(0).state() == scheduling::v1::VISIT_STATE_SCHEDULED) {
    auto worker = v1::WorkerAppService::NewStub(world.channel);
    v1::WorkerCheckInRequest in;
    in.set_commitment(world.home_commitment);
    in.set_visit(today.visits(0).name());
    in.set_method(scheduling::v1::CHECK_METHOD_APP_GPS);
    v1::WorkerCheckInResponse checked_in;
    EXPECT_TRUE(worker->CheckIn(As(world.Token(Role::kWorker)).get(), in, &checked_in).ok());
    v1::WorkerCheckOutRequest out;
    out.set_commitment(world.home_commitment);
    out.set_visit(in.visit());
    out.set_method(scheduling::v1::CHECK_METHOD_APP_GPS);
    v1::WorkerCheckOutResponse checked_out;
    EXPECT_TRUE(worker->CheckOut(As(world.Token(Role::kWorker)).get(), out, &checked_out).ok());
  }
  return today.visits(0).name();
}

TEST_F(GatewayAuthz, ElderGivesFeedbackOnlyOnOwnVisits) {
  World& world = World::Get();
  const std::string visit = CompleteTodaysHomeVisit();
  ASSERT_FALSE(visit.empty());
  auto stub = v1::ElderAppService::NewStub(world.channel);
  v1::SubmitVisitFeedbackRequest request;
  request.set_elder(world.home_elder);
  request.set_visit(visit);
  request.set_faces(5);
  request.set_did_as_promised(feedback::v1::ANSWER_YES);
  request.set_felt_cared_for(feedback::v1::ANSWER_YES);
  request.set_words("小王很耐心，谢谢");
  request.set_request_id("feedback-1");
  // Feedback learns of the completed visit from scheduling's event stream: wait for it.
  v1::SubmitVisitFeedbackResponse response;
  grpc::Status status = Eventually([&] {
    return stub->SubmitVisitFeedback(As(world.Token(Role::kElder)).get(), request, &response);
  });
  ASSERT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
  EXPECT_EQ(response.feedback().author(), world.home_elder);
  EXPECT_EQ(response.feedback().channel(), feedback::v1::FEEDBACK_CHANNEL_APP);
  EXPECT_EQ(response.feedback().elder(), world.home_elder);
  EXPECT_EQ(response.feedback().faces(), 5);
  // A second answer by the same elder (new request id) is ALREADY_EXISTS.
  request.set_request_id("feedback-2");
  EXPECT_EQ(stub->SubmitVisitFeedback(As(world.Token(Role::kElder)).get(), request, &response)
                .error_code(),
            grpc::StatusCode::ALREADY_EXISTS);
  // Another elder naming this visit under themself: not found.
  v1::SubmitVisitFeedbackRequest stranger = request;
  stranger.set_elder(world.foreign_elder);
  stranger.set_request_id("feedback-3");
  EXPECT_EQ(
      stub->SubmitVisitFeedback(As(world.Token(Role::kElder, {{"sub", world.foreign_elder}})).get(),
                                stranger, &response)
          .error_code(),
      grpc::StatusCode::NOT_FOUND);
  // Family: the proxy must be a contact of the elder; a contact not marked proxy is not found.
  request.set_request_id("feedback-4");
  request.set_proxy_contact("elders/other/contacts/0");
  EXPECT_EQ(stub->SubmitVisitFeedback(As(world.Token(Role::kFamily)).get(), request, &response)
                .error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  request.set_proxy_contact(world.home_elder + "/contacts/0");
  EXPECT_EQ(stub->SubmitVisitFeedback(As(world.Token(Role::kFamily)).get(), request, &response)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);
}

// "Who is coming" on the elder page and in the upcoming visits is the visit's booking (both
// workers of a two-worker visit, by name), not the promise's familiar worker, which stays as it is.
TEST_F(GatewayAuthz, UpcomingVisitsShowTheBookedWorkersByName) {
  World& world = World::Get();
  auto stub = v1::ElderAppService::NewStub(world.channel);
  const std::string wang = NewWorker("organisations/homeorg", "助浴员 王阿姨");
  const std::string zhao = NewWorker("organisations/homeorg", "助浴员 赵师傅");
  const std::string bath = HomePromiseWithVisits(4, [&](scheduling::v1::Commitment& c) {
    c.set_workers_required(2);
    c.mutable_synchronisation()->set_type(scheduling::v1::SYNCHRONISATION_TYPE_ORDERED);
    c.mutable_synchronisation()->set_max_gap_minutes(30);
    c.set_preferred_worker(zhao);
  });
  const auto day = VisitsOn(bath, 2);
  ASSERT_EQ(day.visits_size(), 1);
  const scheduling::v1::Visit& visit = day.visits(0);
  // Zhao booked ten minutes after Wang: the page lists Wang first.
  const int64_t start = visit.window_start().seconds();
  for (const auto& [worker, at] : {std::pair{zhao, start + 600}, std::pair{wang, start}}) {
    scheduling::v1::AssignVisitRequest q;
    q.set_name(visit.name());
    q.set_worker(worker);
    q.mutable_start()->set_seconds(at);
    scheduling::v1::AssignVisitResponse assigned;
    auto context = NewClientContext(nullptr, absl::Seconds(10));
    grpc::Status status = world.scheduling->AssignVisit(context.get(), q, &assigned);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  auto check = [&](const google::protobuf::RepeatedPtrField<v1::UpcomingVisit>& visits) {
    int seen = 0;
    for (const v1::UpcomingVisit& v : visits) {
      if (v.commitment() == world.home_commitment) {
        EXPECT_EQ(v.preferred_worker(), "workers/w1");  // the familiar worker, as promised
      }
      if (v.visit() != visit.name()) continue;
      ++seen;
      EXPECT_EQ(v.preferred_worker(), zhao);
      ASSERT_EQ(v.booked_workers_size(), 2);
      EXPECT_EQ(v.booked_workers(0).worker(), wang);
      EXPECT_EQ(v.booked_workers(0).display_name(), "助浴员 王阿姨");
      EXPECT_EQ(v.booked_workers(0).start().seconds(), start);
      EXPECT_FALSE(v.booked_workers(0).familiar());
      EXPECT_EQ(v.booked_workers(1).worker(), zhao);
      EXPECT_EQ(v.booked_workers(1).display_name(), "助浴员 赵师傅");
      EXPECT_EQ(v.booked_workers(1).start().seconds(), start + 600);
      EXPECT_TRUE(v.booked_workers(1).familiar());
    }
    EXPECT_EQ(seen, 1);
    for (const v1::UpcomingVisit& v : visits) {
      if (v.commitment() == bath && v.visit() != visit.name()) {
        EXPECT_EQ(v.booked_workers_size(), 0) << "nobody is booked on " << v.visit();
      }
    }
  };
  for (Role role : {Role::kElder, Role::kFamily}) {
    v1::GetElderPageRequest request;
    request.set_elder(world.home_elder);
    v1::GetElderPageResponse page;
    grpc::Status status = stub->GetElderPage(As(world.Token(role)).get(), request, &page);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(page.missing_parts_size(), 0);
    check(page.upcoming_visits());
    v1::ListMyUpcomingVisitsRequest upcoming_request;
    upcoming_request.set_elder(world.home_elder);
    v1::ListMyUpcomingVisitsResponse upcoming;
    status = stub->ListMyUpcomingVisits(As(world.Token(role)).get(), upcoming_request, &upcoming);
    ASSERT_TRUE(status.ok()) << status.error_message();
    check(upcoming.visits());
  }
}

// A worker's route is their bookings; notes and problem reports only for the visit's workers.
TEST_F(GatewayAuthz, WorkerRouteComesFromBookingsWithNotesAndProblemReports) {
  World& world = World::Get();
  auto stub = v1::WorkerAppService::NewStub(world.channel);
  // A worker of the home organisation (not the familiar worker of any promise) booked on two
  // visits tomorrow: the home promise's and a second promise's, the second one booked earlier.
  const std::string worker = NewWorker("organisations/homeorg", "护理员 陈阿姨");
  const std::string token = world.Token(Role::kWorker, {{"sub", worker}});
  const std::string second_commitment = HomePromiseWithVisits(3);
  const auto first = VisitsOn(world.home_commitment, 1);
  const auto second = VisitsOn(second_commitment, 1);
  ASSERT_EQ(first.visits_size(), 1);
  ASSERT_EQ(second.visits_size(), 1);
  const scheduling::v1::Visit& a = first.visits(0);
  const scheduling::v1::Visit& b = second.visits(0);
  // b at its window start, a three hours after its own (no overlap: both last an hour).
  const int64_t b_start = b.window_start().seconds();
  const int64_t a_start = std::max(a.window_start().seconds() + 3 * 3600, b_start + 3 * 3600);
  for (const auto& [visit, start] : {std::pair{a.name(), a_start}, std::pair{b.name(), b_start}}) {
    scheduling::v1::AssignVisitRequest q;
    q.set_name(visit);
    q.set_worker(worker);
    q.mutable_start()->set_seconds(start);
    scheduling::v1::AssignVisitResponse assigned;
    auto context = NewClientContext(nullptr, absl::Seconds(10));
    grpc::Status status = world.scheduling->AssignVisit(context.get(), q, &assigned);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }

  v1::ListMyVisitsRequest list;
  list.set_date(Day(1));
  v1::ListMyVisitsResponse route;
  grpc::Status status = stub->ListMyVisits(As(token).get(), list, &route);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(route.stops_size(), 2);
  EXPECT_EQ(route.stops(0).order(), 1);
  EXPECT_EQ(route.stops(1).order(), 2);
  EXPECT_EQ(route.stops(0).visit().name(), b.name());  // booked first, whatever the ids
  EXPECT_EQ(route.stops(1).visit().name(), a.name());
  EXPECT_EQ(route.stops(0).planned_start().seconds(), b_start);
  EXPECT_EQ(route.stops(1).planned_start().seconds(), a_start);
  EXPECT_EQ(route.stops(1).planned_end().seconds(), a_start + 60 * 60);
  for (const auto& stop : route.stops()) {
    EXPECT_EQ(stop.visit().elder(), world.home_elder);
    EXPECT_FALSE(stop.elder_display_name().empty());
    EXPECT_NE(stop.elder_display_name(), "李桂英");  // masked
  }
  // The familiar worker of the home promise is not booked: nothing on their route tomorrow.
  ASSERT_TRUE(stub->ListMyVisits(As(world.Token(Role::kWorker)).get(), list, &route).ok());
  EXPECT_EQ(route.stops_size(), 0);
  list.set_date("tomorrow");
  EXPECT_EQ(stub->ListMyVisits(As(token).get(), list, &route).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  // Notes: by a worker of the visit only, read back by them, never inside the visit.
  v1::AddVisitNoteRequest note;
  note.set_visit(a.name());
  note.set_text("老人说膝盖疼，下次带护膝");
  note.set_request_id("note-1");
  v1::AddVisitNoteResponse added;
  status = stub->AddVisitNote(As(token).get(), note, &added);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(added.note().author(), worker);
  v1::AddVisitNoteResponse added_again;
  ASSERT_TRUE(stub->AddVisitNote(As(token).get(), note, &added_again).ok());
  EXPECT_EQ(added_again.note().name(), added.note().name());
  EXPECT_EQ(stub->AddVisitNote(As(world.Token(Role::kWorker)).get(), note, &added).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  note.set_text("");
  note.clear_request_id();
  EXPECT_EQ(stub->AddVisitNote(As(token).get(), note, &added).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  v1::ListVisitNotesRequest notes_request;
  notes_request.set_visit(a.name());
  v1::ListVisitNotesResponse notes;
  ASSERT_TRUE(stub->ListVisitNotes(As(token).get(), notes_request, &notes).ok());
  ASSERT_EQ(notes.notes_size(), 1);
  EXPECT_EQ(notes.notes(0).text(), "老人说膝盖疼，下次带护膝");
  EXPECT_EQ(stub->ListVisitNotes(As(world.Token(Role::kWorker)).get(), notes_request, &notes)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(VisitsOn(world.home_commitment, 1).visits(0).SerializeAsString().find("护膝"),
            std::string::npos);
  // The read is audited, and committee staff of the elder see it in the console.
  {
    auto console = v1::ConsoleService::NewStub(world.channel);
    scheduling::v1::ListAuditEntriesRequest audit;
    audit.set_elder(world.home_elder);
    scheduling::v1::ListAuditEntriesResponse entries;
    status = console->ListNoteAuditEntries(As(world.Token(Role::kCommitteeStaff)).get(), audit,
                                           &entries);
    ASSERT_TRUE(status.ok()) << status.error_message();
    ASSERT_GE(entries.entries_size(), 1);
    EXPECT_EQ(entries.entries(0).actor(), "worker:" + worker);
    EXPECT_EQ(entries.entries(0).resource(), a.name());
    EXPECT_EQ(entries.entries(0).elder(), world.home_elder);
    EXPECT_EQ(console->ListNoteAuditEntries(As(world.Token(Role::kElder)).get(), audit, &entries)
                  .error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }

  // A problem report: a classified work order linked to the visit, created by the worker, and
  // not shown to the family as one of the elder's complaints.
  v1::ReportProblemRequest problem;
  problem.set_visit(b.name());
  problem.set_category(feedback::v1::WORK_ORDER_CATEGORY_SAFETY);
  problem.set_description("燃气灶没关，老人独自在家，已提醒");
  problem.set_request_id("problem-1");
  v1::ReportProblemResponse reported;
  status = Eventually([&] { return stub->ReportProblem(As(token).get(), problem, &reported); });
  ASSERT_TRUE(status.ok()) << status.error_message();
  const feedback::v1::WorkOrder& order = reported.work_order();
  EXPECT_EQ(order.source(), feedback::v1::WORK_ORDER_SOURCE_WORKER_APP);
  EXPECT_EQ(order.category(), feedback::v1::WORK_ORDER_CATEGORY_SAFETY);
  EXPECT_EQ(order.state(), feedback::v1::WORK_ORDER_STATE_CLASSIFIED);
  EXPECT_EQ(order.visit(), b.name());
  EXPECT_EQ(order.commitment(), second_commitment);
  EXPECT_EQ(order.elder(), world.home_elder);
  ASSERT_GE(order.history_size(), 2);
  EXPECT_EQ(order.history(0).actor(), "worker:" + worker);
  EXPECT_EQ(order.deadline().seconds() - order.create_time().seconds(), 24 * 3600);
  v1::ReportProblemResponse reported_again;
  ASSERT_TRUE(stub->ReportProblem(As(token).get(), problem, &reported_again).ok());
  EXPECT_EQ(reported_again.work_order().name(), order.name());
  EXPECT_EQ(reported_again.work_order().history_size(), order.history_size());
  problem.set_category(feedback::v1::WORK_ORDER_CATEGORY_UNSPECIFIED);
  problem.clear_request_id();
  EXPECT_EQ(stub->ReportProblem(As(token).get(), problem, &reported).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  auto elder_app = v1::ElderAppService::NewStub(world.channel);
  v1::ListMyComplaintsRequest mine;
  mine.set_elder(world.home_elder);
  v1::ListMyComplaintsResponse complaints;
  ASSERT_TRUE(
      elder_app->ListMyComplaints(As(world.Token(Role::kFamily)).get(), mine, &complaints).ok());
  for (const auto& c : complaints.work_orders()) EXPECT_NE(c.name(), order.name());
  v1::GetMyComplaintRequest get;
  get.set_elder(world.home_elder);
  get.set_name(order.name());
  v1::GetMyComplaintResponse got;
  EXPECT_EQ(elder_app->GetMyComplaint(As(world.Token(Role::kElder)).get(), get, &got).error_code(),
            grpc::StatusCode::NOT_FOUND);

  // Booked, not familiar: the worker checks in at the visit of the second promise.
  v1::WorkerCheckInRequest in;
  in.set_commitment(second_commitment);
  in.set_visit(b.name());
  in.set_method(scheduling::v1::CHECK_METHOD_APP_GPS);
  v1::WorkerCheckInResponse checked_in;
  EXPECT_EQ(stub->CheckIn(As(world.Token(Role::kWorker)).get(), in, &checked_in).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  in.set_commitment(world.home_commitment);  // the visit is not of this promise
  EXPECT_EQ(stub->CheckIn(As(token).get(), in, &checked_in).error_code(),
            grpc::StatusCode::NOT_FOUND);
  in.set_commitment(second_commitment);
  status = stub->CheckIn(As(token).get(), in, &checked_in);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(checked_in.visit().check_in().worker(), worker);
}

// --- Authorisation follows the data -------------------------------------------------------------
//
// Beside committee 001 of the home street and the foreign street, the world gets committee
// 310101020002 of the home street (the "neighbour") and committee 3101010203 under the foreign
// street 310101021, whose code reads as the home street's (the "prefix" committee, written past
// the registry). The home street's organisation homeorg owns a promise in each of them, so its
// work orders span three committees and two streets.

// Defined with the region tests below.
absl::Status InsertRegionPastTheRegistry(const std::string& code, const std::string& parent,
                                         const std::string& path);

absl::Status Called(const grpc::Status& status, const std::string& what) {
  if (status.ok()) return absl::OkStatus();
  return absl::InternalError(
      absl::StrCat(what, ": ", status.error_code(), " ", status.error_message()));
}

// A care-grade-6 promise of `elder` by `organisation` from today, with the visits of the next 7
// days materialised; its name.
absl::StatusOr<std::string> DailyPromise(const std::string& elder,
                                         const std::string& organisation) {
  World& world = World::Get();
  scheduling::v1::CreateCommitmentRequest q;
  q.mutable_commitment()->set_elder(elder);
  q.mutable_commitment()->set_service_type("serviceTypes/visiting");
  q.mutable_commitment()->set_owner_organisation(organisation);
  q.mutable_commitment()->set_valid_from(Day(0));
  q.mutable_commitment()->set_care_grade(6);
  scheduling::v1::CreateCommitmentResponse a;
  if (absl::Status s = Called(world.scheduling->CreateCommitment(
                                  NewClientContext(nullptr, absl::Seconds(10)).get(), q, &a),
                              "CreateCommitment");
      !s.ok())
    return s;
  scheduling::v1::MaterializeVisitsRequest m;
  m.set_from_date(Day(0));
  m.set_days(7);
  m.set_commitment(a.commitment().name());
  scheduling::v1::MaterializeVisitsResponse made;
  if (absl::Status s = Called(world.scheduling->MaterializeVisits(
                                  NewClientContext(nullptr, absl::Seconds(10)).get(), m, &made),
                              "MaterializeVisits");
      !s.ok())
    return s;
  return a.commitment().name();
}

// A work order about `commitment`, classified and routed (so its responsible organisation is the
// commitment's owner); its name. Waits for feedback to learn of the commitment.
absl::StatusOr<std::string> RoutedWorkOrder(const std::string& commitment) {
  World& world = World::Get();
  feedback::v1::CreateWorkOrderRequest q;
  q.mutable_work_order()->set_source(feedback::v1::WORK_ORDER_SOURCE_STAFF);
  q.mutable_work_order()->set_commitment(commitment);
  q.mutable_work_order()->set_description("老人反映送餐时间不固定");
  feedback::v1::CreateWorkOrderResponse created;
  if (absl::Status s = Called(Eventually([&] {
                                return world.feedback->CreateWorkOrder(
                                    NewClientContext(nullptr, absl::Seconds(10)).get(), q,
                                    &created);
                              }),
                              "CreateWorkOrder");
      !s.ok())
    return s;
  feedback::v1::ClassifyWorkOrderRequest classify;
  classify.set_name(created.work_order().name());
  classify.set_category(feedback::v1::WORK_ORDER_CATEGORY_SERVICE_QUALITY);
  feedback::v1::ClassifyWorkOrderResponse classified;
  if (absl::Status s =
          Called(world.feedback->ClassifyWorkOrder(
                     NewClientContext(nullptr, absl::Seconds(10)).get(), classify, &classified),
                 "ClassifyWorkOrder");
      !s.ok())
    return s;
  feedback::v1::RouteWorkOrderRequest route;
  route.set_name(created.work_order().name());
  feedback::v1::RouteWorkOrderResponse routed;
  if (absl::Status s =
          Called(world.feedback->RouteWorkOrder(NewClientContext(nullptr, absl::Seconds(10)).get(),
                                                route, &routed),
                 "RouteWorkOrder");
      !s.ok())
    return s;
  return created.work_order().name();
}

// Calls `method` with `request` as `credential` (bearer), the answer in `response`.
grpc::Status CallListMethod(const google::protobuf::MethodDescriptor* method,
                            const Message& request, const std::string& credential,
                            Message* response) {
  MessageStub stub(World::Get().channel);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  context.AddMetadata("authorization", "Bearer " + credential);
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, absl::StrCat("/", method->service()->full_name(), "/", method->name()),
                 grpc::StubOptions(), &request, response,
                 [&done](grpc::Status status) { done.set_value(std::move(status)); });
  return done.get_future().get();
}

class CrossWorld {
 public:
  static CrossWorld& Get() {
    static CrossWorld* cross = new CrossWorld();
    return *cross;
  }

  std::string neighbour_elder, prefix_elder;
  std::string neighbour_commitment, prefix_commitment;
  std::string home_visit, neighbour_visit, prefix_visit;  // today's
  // Routed work orders, by whose elder they are about.
  std::string home_order, neighbour_order, prefix_order, foreign_order;
  std::string home_offering, foreign_offering;
  std::string error;  // set when it could not be built

 private:
  CrossWorld() {
    if (auto built = Build(); !built.ok()) error = built.ToString();
  }

  absl::Status Build() {
    World& world = World::Get();
    registry::v1::CreateRegionRequest region;
    region.mutable_region()->set_code("310101020002");
    region.mutable_region()->set_display_name("桥二居民区");
    region.mutable_region()->set_level(registry::v1::REGION_LEVEL_COMMITTEE);
    region.mutable_region()->set_parent("regions/310101020");
    registry::v1::CreateRegionResponse region_out;
    grpc::Status created = world.registry->CreateRegion(
        NewClientContext(nullptr, absl::Seconds(10)).get(), region, &region_out);
    if (created.error_code() != grpc::StatusCode::ALREADY_EXISTS) {
      if (absl::Status s = Called(created, "CreateRegion"); !s.ok()) return s;
    }
    if (absl::Status s = InsertRegionPastTheRegistry("3101010203", "310101021",
                                                     "310000/310101/310101021/3101010203/");
        !s.ok())
      return s;
    for (const auto& [id, where] : {std::pair{"neighbourorg", "regions/310101020002"},
                                    std::pair{"prefixorg", "regions/3101010203"}}) {
      registry::v1::CreateOrganisationRequest q;
      q.mutable_organisation()->set_id(id);
      q.mutable_organisation()->set_display_name(absl::StrCat(id, " 睦邻点"));
      q.mutable_organisation()->set_kind(registry::v1::ORGANISATION_KIND_SOCIAL_ORGANISATION);
      q.mutable_organisation()->set_sector(registry::v1::SECTOR_SOCIAL);
      q.mutable_organisation()->set_region(where);
      registry::v1::CreateOrganisationResponse a;
      grpc::Status s = world.registry->CreateOrganisation(
          NewClientContext(nullptr, absl::Seconds(10)).get(), q, &a);
      if (s.error_code() != grpc::StatusCode::ALREADY_EXISTS) {
        if (absl::Status st = Called(s, "CreateOrganisation"); !st.ok()) return st;
      }
    }
    for (auto [target, where, label] :
         {std::tuple{&neighbour_elder, "regions/310101020002", "陈阿姨"},
          std::tuple{&prefix_elder, "regions/3101010203", "赵老伯"}}) {
      registry::v1::CreateElderRequest q;
      q.mutable_elder()->set_display_name(label);
      q.mutable_elder()->set_region(where);
      registry::v1::CreateElderResponse a;
      if (absl::Status s = Called(world.registry->CreateElder(
                                      NewClientContext(nullptr, absl::Seconds(10)).get(), q, &a),
                                  "CreateElder");
          !s.ok())
        return s;
      *target = a.elder().name();
    }
    // Both promises are the home street's organisation's, like the home elder's.
    absl::StatusOr<std::string> promise = DailyPromise(neighbour_elder, "organisations/homeorg");
    if (!promise.ok()) return promise.status();
    neighbour_commitment = *promise;
    promise = DailyPromise(prefix_elder, "organisations/homeorg");
    if (!promise.ok()) return promise.status();
    prefix_commitment = *promise;
    for (auto [target, commitment] : {std::pair{&home_visit, world.home_commitment},
                                      std::pair{&neighbour_visit, neighbour_commitment},
                                      std::pair{&prefix_visit, prefix_commitment}}) {
      const scheduling::v1::ListVisitsResponse today = VisitsOn(commitment, 0);
      if (today.visits_size() != 1) return absl::InternalError("no visit today of " + commitment);
      *target = today.visits(0).name();
    }
    for (auto [target, commitment] : {std::pair{&home_order, world.home_commitment},
                                      std::pair{&neighbour_order, neighbour_commitment},
                                      std::pair{&prefix_order, prefix_commitment},
                                      std::pair{&foreign_order, world.foreign_commitment}}) {
      absl::StatusOr<std::string> order = RoutedWorkOrder(commitment);
      if (!order.ok()) return order.status();
      *target = *order;
    }
    for (auto [target, org, where] :
         {std::tuple{&home_offering, "organisations/homeorg", "regions/310101020"},
          std::tuple{&foreign_offering, "organisations/farorg", "regions/310101021"}}) {
      registry::v1::CreateOfferingRequest q;
      q.mutable_offering()->set_organisation(org);
      q.mutable_offering()->set_service_type("serviceTypes/visiting");
      q.mutable_offering()->add_covered_regions(where);
      q.mutable_offering()->set_capacity_per_day(5);
      q.mutable_offering()->set_capacity_per_week(20);
      registry::v1::CreateOfferingResponse a;
      if (absl::Status s = Called(world.registry->CreateOffering(
                                      NewClientContext(nullptr, absl::Seconds(10)).get(), q, &a),
                                  "CreateOffering");
          !s.ok())
        return s;
      *target = a.offering().name();
    }
    return absl::OkStatus();
  }
};

// The tests of the cross world are declared before ZzElderPageWithABackendDown, which stops
// scheduling and feedback (a suite runs in declaration order).

// The world's key file with a key of each organisation, every scope
// (PartnerKeysAreScopedAndRevocable revokes every key: this puts them back); returns the foreign
// organisation's key.
std::string KeysOfBothOrganisations() {
  World& world = World::Get();
  static const std::string* far_key = new std::string(auth::NewApiKey("farorg"));
  std::string text;
  for (const auto& [id, organisation, region, key] :
       {std::tuple{"homeorg", "organisations/homeorg", "310101020", world.partner_key},
        std::tuple{"farorg", "organisations/farorg", "310101021", *far_key}}) {
    auto parts = auth::ParseApiKey(key);
    EXPECT_TRUE(parts.ok()) << parts.status();
    if (!parts.ok()) continue;
    text += auth::FormatApiKeyEntry({id,
                                     organisation,
                                     region,
                                     {"offerings.read", "workorders.write", "workorders.read",
                                      "offerings.write", "visits.read", "visits.write"},
                                     auth::HashApiSecret(kPepper, parts->secret),
                                     ""}) +
            "\n";
  }
  std::ofstream(world.api_keys_path + ".new") << text;
  EXPECT_EQ(std::rename((world.api_keys_path + ".new").c_str(), world.api_keys_path.c_str()), 0);
  return *far_key;
}

// Every page of ListWorkOrders through the console as `credential` (pages of 2, so paging is
// scoped too): the names, or the first error in `status`.
std::vector<std::string> ListedWorkOrders(const std::string& credential,
                                          feedback::v1::ListWorkOrdersRequest request,
                                          grpc::Status* status,
                                          std::vector<feedback::v1::WorkOrder>* orders = nullptr) {
  auto stub = v1::ConsoleService::NewStub(World::Get().channel);
  std::vector<std::string> names;
  request.set_page_size(2);
  do {
    feedback::v1::ListWorkOrdersResponse page;
    *status = stub->ListWorkOrders(As(credential).get(), request, &page);
    if (!status->ok()) return names;
    for (const auto& order : page.work_orders()) {
      names.push_back(order.name());
      if (orders != nullptr) orders->push_back(order);
    }
    request.set_page_token(page.next_page_token());
  } while (!request.page_token().empty());
  return names;
}

bool Contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// Finding: committee staff listing the work orders of a street-level organisation got every
// committee's (elders' ids, texts, history) while GetWorkOrder on the same items was refused. A
// list now holds the rows of the caller's region, whichever organisation is responsible, and
// every row it shows can be read one by one.
TEST_F(GatewayAuthz, ListWorkOrdersShowsOnlyTheRowsOfTheCallersRegion) {
  ASSERT_TRUE(CrossWorld::Get().error.empty()) << CrossWorld::Get().error;
  World& world = World::Get();
  const CrossWorld& x = CrossWorld::Get();
  const std::string committee = world.Token(Role::kCommitteeStaff);  // 310101020001
  const std::string street = world.Token(Role::kStreetStaff);        // 310101020
  const std::string other_street =
      world.Token(Role::kStreetStaff, {{"sub", "staff/dapuqiao"}, {"region", "310101021"}});
  const std::string admin = world.Token(Role::kAdmin);
  feedback::v1::ListWorkOrdersRequest by_owner;
  by_owner.set_responsible_organisation("organisations/homeorg");
  grpc::Status status;

  // The organisation has work orders about three committees of two streets.
  std::vector<std::string> all = ListedWorkOrders(admin, by_owner, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  for (const std::string& order : {x.home_order, x.neighbour_order, x.prefix_order}) {
    EXPECT_TRUE(Contains(all, order)) << order;
  }

  // Committee 001: its own only, with or without the organisation, and each row readable.
  for (const auto& request : {by_owner, feedback::v1::ListWorkOrdersRequest()}) {
    std::vector<std::string> mine = ListedWorkOrders(committee, request, &status);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_TRUE(Contains(mine, x.home_order));
    for (const std::string& order : {x.neighbour_order, x.prefix_order, x.foreign_order}) {
      EXPECT_FALSE(Contains(mine, order)) << order << " listed to committee 001";
    }
    auto console = v1::ConsoleService::NewStub(world.channel);
    for (const std::string& order : mine) {
      feedback::v1::GetWorkOrderRequest get;
      get.set_name(order);
      feedback::v1::GetWorkOrderResponse got;
      grpc::Status read = console->GetWorkOrder(As(committee).get(), get, &got);
      EXPECT_TRUE(read.ok()) << order << " is listed but not readable: " << read.error_message();
    }
  }
  // The home street: both of its committees, not the committee whose code only looks like its.
  std::vector<std::string> streets = ListedWorkOrders(street, by_owner, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(Contains(streets, x.home_order));
  EXPECT_TRUE(Contains(streets, x.neighbour_order));
  EXPECT_FALSE(Contains(streets, x.prefix_order));
  EXPECT_FALSE(Contains(streets, x.foreign_order));
  // The street narrows to one of its committees.
  feedback::v1::ListWorkOrdersRequest narrowed;
  narrowed.set_region("regions/310101020002");
  std::vector<std::string> neighbours = ListedWorkOrders(street, narrowed, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(Contains(neighbours, x.neighbour_order));
  EXPECT_FALSE(Contains(neighbours, x.home_order));
  // The prefix committee's real street sees its work order (and its own), not the home street's.
  std::vector<std::string> theirs =
      ListedWorkOrders(other_street, feedback::v1::ListWorkOrdersRequest(), &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(Contains(theirs, x.prefix_order));
  EXPECT_TRUE(Contains(theirs, x.foreign_order));
  EXPECT_FALSE(Contains(theirs, x.home_order));
  EXPECT_FALSE(Contains(theirs, x.neighbour_order));

  // Regions and elders outside the caller's scope are refused, not listed empty.
  for (const auto& [credential, region] :
       {std::pair{committee, "regions/310101020002"}, std::pair{committee, "regions/310101020"},
        std::pair{street, "regions/3101010203"}, std::pair{street, "regions/310101021"}}) {
    feedback::v1::ListWorkOrdersRequest request;
    request.set_region(region);
    ListedWorkOrders(credential, request, &status);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << region;
  }
  feedback::v1::ListWorkOrdersRequest of_elder;
  of_elder.set_elder(x.neighbour_elder);
  ListedWorkOrders(committee, of_elder, &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

// Finding: an organisation in a region above the caller's (a street's care home, for committee
// staff) counted as in scope for lists: committee staff listed its work orders wholesale. It
// still may be named (its work orders about the caller's elders are the caller's business), but
// every row is about an elder of the caller's committee; the region above is no list scope.
TEST_F(GatewayAuthz, AnOrganisationAboveTheCallerIsNoListScope) {
  ASSERT_TRUE(CrossWorld::Get().error.empty()) << CrossWorld::Get().error;
  World& world = World::Get();
  const CrossWorld& x = CrossWorld::Get();
  const std::string committee = world.Token(Role::kCommitteeStaff);
  feedback::v1::ListWorkOrdersRequest request;
  request.set_responsible_organisation("organisations/homeorg");  // of street 310101020
  grpc::Status status;
  std::vector<feedback::v1::WorkOrder> orders;
  ListedWorkOrders(committee, request, &status, &orders);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_FALSE(orders.empty());
  for (const auto& order : orders) {
    EXPECT_EQ(order.elder(), world.home_elder) << order.name() << " is about " << order.elder();
    EXPECT_NE(order.elder(), x.neighbour_elder);
  }
  std::vector<feedback::v1::WorkOrder> everyone;
  ListedWorkOrders(world.Token(Role::kAdmin), request, &status, &everyone);
  ASSERT_TRUE(status.ok()) << status.error_message();
  std::set<std::string> elders;
  for (const auto& order : everyone) elders.insert(order.elder());
  EXPECT_GE(elders.size(), 3u);  // the filter alone would have shown them
  request.set_region("regions/310101020");
  ListedWorkOrders(committee, request, &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

// Finding: ListWorkers returned workers' bases (often their homes) to staff with 14 decimals.
// Staff now see them to 0.01° (about 1 km), in ListWorkers and in the problem a Plan returns;
// admins see them exact, and so does the planner, which reads the registry itself.
TEST_F(GatewayAuthz, WorkerLocationsAreCoarseForAnyoneButAdmins) {
  ASSERT_TRUE(CrossWorld::Get().error.empty()) << CrossWorld::Get().error;
  World& world = World::Get();
  registry::v1::CreateWorkerRequest create;
  create.mutable_worker()->set_display_name("护理员 孙丽");
  create.mutable_worker()->set_organisation("organisations/homeorg");
  create.mutable_worker()->mutable_base_location()->set_latitude(31.20123456789012);
  create.mutable_worker()->mutable_base_location()->set_longitude(121.48765432109876);
  registry::v1::CreateWorkerResponse created;
  ASSERT_TRUE(
      world.registry
          ->CreateWorker(NewClientContext(nullptr, absl::Seconds(10)).get(), create, &created)
          .ok());
  const std::string worker = created.worker().name();
  auto base_as = [&](const std::string& credential) -> std::optional<common::v1::LatLng> {
    auto console = v1::ConsoleService::NewStub(world.channel);
    registry::v1::ListWorkersRequest request;
    request.set_organisation("organisations/homeorg");
    request.set_page_size(200);
    do {
      registry::v1::ListWorkersResponse page;
      grpc::Status status = console->ListWorkers(As(credential).get(), request, &page);
      EXPECT_TRUE(status.ok()) << status.error_message();
      if (!status.ok()) return std::nullopt;
      for (const auto& w : page.workers()) {
        if (w.name() == worker) return w.base_location();
      }
      request.set_page_token(page.next_page_token());
    } while (!request.page_token().empty());
    ADD_FAILURE() << worker << " not listed";
    return std::nullopt;
  };
  // Committee staff (the organisation is their street's) and street staff: rounded.
  for (const std::string& staff :
       {world.Token(Role::kCommitteeStaff), world.Token(Role::kStreetStaff)}) {
    std::optional<common::v1::LatLng> base = base_as(staff);
    ASSERT_TRUE(base.has_value());
    EXPECT_DOUBLE_EQ(base->latitude(), 31.20);
    EXPECT_DOUBLE_EQ(base->longitude(), 121.49);
  }
  std::optional<common::v1::LatLng> exact = base_as(world.Token(Role::kAdmin));
  ASSERT_TRUE(exact.has_value());
  EXPECT_DOUBLE_EQ(exact->latitude(), 31.20123456789012);
  EXPECT_DOUBLE_EQ(exact->longitude(), 121.48765432109876);
  // The planner's source, the registry itself, keeps them exact.
  registry::v1::GetWorkerRequest get;
  get.set_name(worker);
  registry::v1::GetWorkerResponse stored;
  ASSERT_TRUE(
      world.registry->GetWorker(NewClientContext(nullptr, absl::Seconds(10)).get(), get, &stored)
          .ok());
  EXPECT_DOUBLE_EQ(stored.worker().base_location().latitude(), 31.20123456789012);

  // A plan's problem as street staff: the worker's base rounded there too. (An elder with a
  // home location, so the plan has a visit the organisation's workers can make.)
  registry::v1::CreateElderRequest elder;
  elder.mutable_elder()->set_display_name("周奶奶");
  elder.mutable_elder()->set_region("regions/310101020001");
  elder.mutable_elder()->mutable_location()->set_latitude(31.2051);
  elder.mutable_elder()->mutable_location()->set_longitude(121.4812);
  registry::v1::CreateElderResponse elder_out;
  ASSERT_TRUE(
      world.registry
          ->CreateElder(NewClientContext(nullptr, absl::Seconds(10)).get(), elder, &elder_out)
          .ok());
  ASSERT_TRUE(DailyPromise(elder_out.elder().name(), "organisations/homeorg").ok());
  scheduling::v1::PlanRequest plan;
  plan.set_from_date(Day(1));
  plan.set_days(1);
  plan.set_region("regions/310101020");
  plan.set_owner_organisation("organisations/homeorg");
  plan.set_time_limit_seconds(1);
  plan.set_dry_run(true);
  plan.set_include_problem(true);
  auto console = v1::ConsoleService::NewStub(world.channel);
  for (Role role : {Role::kStreetStaff, Role::kAdmin}) {
    scheduling::v1::PlanResponse planned;
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + world.Token(role));
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    grpc::Status status = console->Plan(&context, plan, &planned);
    ASSERT_TRUE(status.ok()) << status.error_message();
    bool found = false;
    for (const auto& location : planned.problem().locations()) {
      if (location.id() != worker) continue;
      found = true;
      if (role == Role::kAdmin) {
        EXPECT_DOUBLE_EQ(location.latitude(), 31.20123456789012);
      } else {
        EXPECT_DOUBLE_EQ(location.latitude(), 31.20);
        EXPECT_DOUBLE_EQ(location.longitude(), 121.49);
      }
    }
    EXPECT_TRUE(found) << worker << " is not in the plan's problem";
  }
}

// Finding: a workorders.write key of one organisation filed a work order about another's promise
// and was told that promise's elder. A key acts only on its organisation's promises and visits;
// another organisation's is refused before anything of it is read, with the very answer a record
// that does not exist gets.
TEST_F(GatewayAuthz, PartnerKeysActOnlyOnTheirOwnOrganisationsRecords) {
  ASSERT_TRUE(CrossWorld::Get().error.empty()) << CrossWorld::Get().error;
  World& world = World::Get();
  const CrossWorld& x = CrossWorld::Get();
  const std::string far_key = KeysOfBothOrganisations();
  auto stub = v1::PartnerService::NewStub(world.channel);
  auto as = [](const std::string& key) {
    auto context = std::make_unique<grpc::ClientContext>();
    context->AddMetadata("x-api-key", key);
    return context;
  };

  // Work orders: about another organisation's promise as about one that does not exist.
  v1::SubmitWorkOrderRequest submit;
  submit.set_description("市民来电：上门服务人员没有来");
  submit.set_commitment("commitments/no-such-promise");
  v1::SubmitWorkOrderResponse submitted;
  const grpc::Status missing = stub->SubmitWorkOrder(as(far_key).get(), submit, &submitted);
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::NOT_FOUND) << missing.error_message();
  for (const auto& [key, commitment, elder] :
       {std::tuple{far_key, world.home_commitment, world.home_elder},
        std::tuple{far_key, x.neighbour_commitment, x.neighbour_elder},
        std::tuple{world.partner_key, world.foreign_commitment, world.foreign_elder}}) {
    submit.set_commitment(commitment);
    submitted.Clear();
    grpc::Status status = stub->SubmitWorkOrder(as(key).get(), submit, &submitted);
    EXPECT_EQ(status.error_code(), missing.error_code()) << commitment;
    EXPECT_EQ(status.error_message(), missing.error_message()) << commitment;
    EXPECT_FALSE(absl::StrContains(status.error_message(), elder));
    EXPECT_FALSE(absl::StrContains(submitted.SerializeAsString(), elder));
  }
  // Its own promises, in any committee, are its to report.
  submit.set_commitment(x.neighbour_commitment);
  submit.set_request_id("cross-ticket-1");
  grpc::Status status = Eventually(
      [&] { return stub->SubmitWorkOrder(as(world.partner_key).get(), submit, &submitted); });
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(submitted.work_order().elder(), x.neighbour_elder);

  // Status of work orders: another key's as a missing one.
  v1::GetWorkOrderStatusRequest get;
  v1::GetWorkOrderStatusResponse got;
  get.set_name("workOrders/no-such-order");
  const grpc::Status no_order = stub->GetWorkOrderStatus(as(far_key).get(), get, &got);
  EXPECT_EQ(no_order.error_code(), grpc::StatusCode::NOT_FOUND);
  for (const std::string& order : {submitted.work_order().name(), x.foreign_order}) {
    get.set_name(order);
    status = stub->GetWorkOrderStatus(as(far_key).get(), get, &got);
    EXPECT_EQ(status.error_code(), no_order.error_code()) << order;
    EXPECT_EQ(status.error_message(), no_order.error_message()) << order;
  }
  get.set_name(submitted.work_order().name());
  EXPECT_TRUE(stub->GetWorkOrderStatus(as(world.partner_key).get(), get, &got).ok());

  // Deliveries: another organisation's visit as a missing one, and untouched.
  v1::ReportDeliveryRequest report;
  report.set_worker(NewWorker("organisations/farorg", "送餐员 钱师傅"));
  report.set_visit("visits/no-such-visit");
  v1::ReportDeliveryResponse reported;
  const grpc::Status no_visit = stub->ReportDelivery(as(far_key).get(), report, &reported);
  EXPECT_EQ(no_visit.error_code(), grpc::StatusCode::NOT_FOUND);
  for (const std::string& visit : {x.neighbour_visit, x.prefix_visit}) {
    report.set_visit(visit);
    status = stub->ReportDelivery(as(far_key).get(), report, &reported);
    EXPECT_EQ(status.error_code(), no_visit.error_code()) << visit;
    EXPECT_EQ(status.error_message(), no_visit.error_message()) << visit;
    scheduling::v1::GetVisitRequest get_visit;
    get_visit.set_name(visit);
    scheduling::v1::GetVisitResponse stored;
    ASSERT_TRUE(
        world.scheduling
            ->GetVisit(NewClientContext(nullptr, absl::Seconds(10)).get(), get_visit, &stored)
            .ok());
    EXPECT_FALSE(stored.visit().has_check_in());
  }
}

// The authorisation matrix of every list method (List* of every gateway service) with another
// committee's ids, the ids of a committee whose code is a string prefix-match of the caller's
// street but which lies under another street, another partner's key, and with an organisation
// above the caller or nothing named: each answer is refused, or shows none of the records the
// caller may not see (elders, promises, visits, work orders, offerings).
TEST_F(GatewayAuthz, EveryListMethodShowsOnlyTheCallersRows) {
  ASSERT_TRUE(CrossWorld::Get().error.empty()) << CrossWorld::Get().error;
  World& world = World::Get();
  const CrossWorld& x = CrossWorld::Get();
  const std::string far_key = KeysOfBothOrganisations();
  const std::vector<std::string> neighbours = {x.neighbour_elder, x.neighbour_commitment,
                                               x.neighbour_visit, x.neighbour_order};
  const std::vector<std::string> prefixed = {x.prefix_elder, x.prefix_commitment, x.prefix_visit,
                                             x.prefix_order};
  const std::vector<std::string> foreign = {world.foreign_elder, world.foreign_commitment,
                                            world.foreign_visit, x.foreign_order,
                                            x.foreign_offering};
  const std::vector<std::string> homes = {world.home_elder, world.home_commitment, x.home_visit,
                                          x.home_order, x.home_offering};
  auto join = [](std::initializer_list<std::vector<std::string>> parts) {
    std::vector<std::string> all;
    for (const auto& part : parts) all.insert(all.end(), part.begin(), part.end());
    return all;
  };
  auto ids_of = [](const std::string& elder, const std::string& region,
                   const std::string& organisation, const std::string& commitment,
                   const std::string& visit) {
    return std::map<std::string, std::string>{{"elder", elder},
                                              {"region", region},
                                              {"committee", region},
                                              {"parent", region},
                                              {"subject", elder},
                                              {"organisation", organisation},
                                              {"responsible_organisation", organisation},
                                              {"owner_organisation", organisation},
                                              {"commitment", commitment},
                                              {"visit", visit}};
  };
  const std::map<std::string, std::string> homeorg = {
      {"organisation", "organisations/homeorg"},
      {"responsible_organisation", "organisations/homeorg"},
      {"owner_organisation", "organisations/homeorg"}};
  const std::map<std::string, std::string> street_above = {{"region", "regions/310101020"},
                                                           {"committee", "regions/310101020"},
                                                           {"parent", "regions/310101020"}};
  const auto neighbour_ids =
      ids_of(x.neighbour_elder, "regions/310101020002", "organisations/neighbourorg",
             x.neighbour_commitment, x.neighbour_visit);
  const auto prefix_ids = ids_of(x.prefix_elder, "regions/3101010203", "organisations/prefixorg",
                                 x.prefix_commitment, x.prefix_visit);
  struct Case {
    std::string what;
    Role role;
    std::string credential;
    std::map<std::string, std::string> ids;
    std::vector<std::string> forbidden;
  };
  const std::string committee = world.Token(Role::kCommitteeStaff);
  const std::string street = world.Token(Role::kStreetStaff);
  const std::vector<Case> cases = {
      {"committee staff, another committee's ids", Role::kCommitteeStaff, committee, neighbour_ids,
       join({neighbours, prefixed, foreign})},
      {"committee staff, their street's organisation", Role::kCommitteeStaff, committee, homeorg,
       join({neighbours, prefixed, foreign})},
      {"committee staff, their street as region", Role::kCommitteeStaff, committee, street_above,
       join({neighbours, prefixed, foreign})},
      {"committee staff, nothing named",
       Role::kCommitteeStaff,
       committee,
       {},
       join({neighbours, prefixed, foreign})},
      {"street staff, a prefix-matching committee of another street", Role::kStreetStaff, street,
       prefix_ids, join({prefixed, foreign})},
      {"street staff, their organisation", Role::kStreetStaff, street, homeorg,
       join({prefixed, foreign})},
      {"street staff, nothing named", Role::kStreetStaff, street, {}, join({prefixed, foreign})},
      {"elder, another committee's ids", Role::kElder, world.Token(Role::kElder), neighbour_ids,
       join({neighbours, prefixed, foreign})},
      {"family, another committee's ids", Role::kFamily, world.Token(Role::kFamily), neighbour_ids,
       join({neighbours, prefixed, foreign})},
      {"worker, another committee's ids", Role::kWorker, world.Token(Role::kWorker), neighbour_ids,
       join({neighbours, prefixed, foreign})},
      {"partner of the home street", Role::kPartner, world.partner_key, {}, foreign},
      {"partner of the other street",
       Role::kPartner,
       far_key,
       {},
       join({homes,
             {x.neighbour_commitment, x.neighbour_visit, x.neighbour_order, x.prefix_commitment,
              x.prefix_visit, x.prefix_order}})},
  };
  auto* factory = google::protobuf::MessageFactory::generated_factory();
  int lists = 0, answered = 0;
  for (const auto* method : PublicMethods()) {
    if (!absl::StartsWith(method->name(), "List")) continue;
    ++lists;
    const Rule& rule = AuthorisationRules().at(FullName(method));
    for (const Case& c : cases) {
      std::unique_ptr<Message> request(factory->GetPrototype(method->input_type())->New());
      std::set<std::string> named;
      const auto* type = method->input_type();
      for (int i = 0; i < type->field_count(); ++i) {
        const auto* field = type->field(i);
        if (field->type() != google::protobuf::FieldDescriptor::TYPE_STRING ||
            field->is_repeated()) {
          continue;
        }
        if (auto it = c.ids.find(field->name()); it != c.ids.end()) {
          request->GetReflection()->SetString(request.get(), field, it->second);
          named.insert(it->second);
        }
      }
      std::unique_ptr<Message> response(factory->GetPrototype(method->output_type())->New());
      grpc::Status status = CallListMethod(method, *request, c.credential, response.get());
      const std::string where = absl::StrCat(FullName(method), " as ", c.what, ": ",
                                             status.error_code(), " ", status.error_message());
      const bool allowed =
          std::find(rule.roles.begin(), rule.roles.end(), c.role) != rule.roles.end();
      if (!allowed) {
        EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << where;
        continue;
      }
      EXPECT_TRUE(status.ok() || status.error_code() == grpc::StatusCode::PERMISSION_DENIED ||
                  status.error_code() == grpc::StatusCode::NOT_FOUND ||
                  (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT &&
                   absl::StrContains(status.error_message(), "must be named")))
          << where;
      answered += status.ok() ? 1 : 0;
      // What the caller named may come back in an error; nothing else they may not see may.
      const std::string seen =
          absl::StrCat(status.ok() ? response->DebugString() : "", " ", status.error_message());
      for (const std::string& id : c.forbidden) {
        if (named.count(id) != 0 && !status.ok()) continue;
        EXPECT_FALSE(absl::StrContains(seen, id)) << where << "\n  shows " << id;
      }
    }
  }
  EXPECT_GE(lists, 20);
  EXPECT_GE(answered, 25);  // not a matrix of refusals only
}

// Last: feedback, then scheduling goes down; the elder page still returns what it can read and
// flags the rest.
// Every elder heard, through the console: the committee's queue of visits awaiting the elder's
// answer, the answer recorded by phone under the caller's name, and a complaint filed for the
// elder; each only inside the caller's region, over gRPC and JSON.
TEST_F(GatewayAuthz, CommitteeStaffHearEveryElderOfTheirCommitteeOnly) {
  World& world = World::Get();
  const std::string visit = CompleteTodaysHomeVisit();
  ASSERT_FALSE(visit.empty());
  auto stub = v1::ConsoleService::NewStub(world.channel);
  const std::string committee = world.Token(Role::kCommitteeStaff);

  feedback::v1::ListVisitsAwaitingAnswerRequest queue;
  queue.set_region("regions/310101020001");
  feedback::v1::ListVisitsAwaitingAnswerResponse waiting;
  // Feedback learns of the completed visit from scheduling's events: wait until it is queued.
  grpc::Status status = Eventually([&]() -> grpc::Status {
    grpc::Status listed = stub->ListVisitsAwaitingAnswer(As(committee).get(), queue, &waiting);
    if (!listed.ok()) return listed;
    for (const auto& v : waiting.visits()) {
      if (v.visit() == visit) return grpc::Status::OK;
    }
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "not queued yet");
  });
  ASSERT_TRUE(status.ok()) << status.error_message();
  for (const auto& v : waiting.visits()) EXPECT_EQ(v.elder(), world.home_elder);
  // Another street's committee is not theirs.
  queue.set_region("regions/310101021001");
  EXPECT_EQ(stub->ListVisitsAwaitingAnswer(As(committee).get(), queue, &waiting).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  feedback::v1::SubmitFeedbackRequest answer;
  feedback::v1::Feedback* f = answer.mutable_feedback();
  f->set_visit(visit);
  f->set_author(world.home_elder);
  f->set_channel(feedback::v1::FEEDBACK_CHANNEL_PHONE_CALL);
  f->set_faces(4);
  f->set_did_as_promised(feedback::v1::ANSWER_YES);
  f->set_felt_cared_for(feedback::v1::ANSWER_PARTLY);
  f->set_words("电话回访：阿姨说小王来过，就是来得有点急");
  answer.set_request_id("phone-1");
  feedback::v1::SubmitFeedbackResponse recorded;
  // Staff do not answer through the elder's app, nor for the worker.
  feedback::v1::SubmitFeedbackRequest bad = answer;
  bad.mutable_feedback()->set_channel(feedback::v1::FEEDBACK_CHANNEL_APP);
  status = stub->RecordElderFeedback(As(committee).get(), bad, &recorded);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("feedback.channel"), std::string::npos)
      << status.error_message();
  bad = answer;
  bad.mutable_feedback()->set_author("workers/w1");
  status = stub->RecordElderFeedback(As(committee).get(), bad, &recorded);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("feedback.author"), std::string::npos)
      << status.error_message();
  // Another street's elder is refused; their visit under our elder's name is not found.
  bad = answer;
  bad.mutable_feedback()->set_author(world.foreign_elder);
  EXPECT_EQ(stub->RecordElderFeedback(As(committee).get(), bad, &recorded).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  bad = answer;
  bad.mutable_feedback()->set_visit(world.foreign_visit);
  bad.set_request_id("phone-foreign");
  EXPECT_EQ(stub->RecordElderFeedback(As(committee).get(), bad, &recorded).error_code(),
            grpc::StatusCode::NOT_FOUND);

  status = stub->RecordElderFeedback(As(committee).get(), answer, &recorded);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(recorded.feedback().channel(), feedback::v1::FEEDBACK_CHANNEL_PHONE_CALL);
  EXPECT_EQ(recorded.feedback().author(), world.home_elder);
  EXPECT_EQ(recorded.feedback().recorded_by(), "committee_staff:staff/committee");
  // Answered: off the queue.
  queue.set_region("regions/310101020001");
  ASSERT_TRUE(stub->ListVisitsAwaitingAnswer(As(committee).get(), queue, &waiting).ok());
  for (const auto& v : waiting.visits()) EXPECT_NE(v.visit(), visit);

  // The elder said it was rushed: staff file a complaint for her; the source is staff whatever
  // the request says.
  feedback::v1::CreateWorkOrderRequest complaint;
  complaint.mutable_work_order()->set_source(feedback::v1::WORK_ORDER_SOURCE_APP);
  complaint.mutable_work_order()->set_commitment(world.home_commitment);
  complaint.mutable_work_order()->set_visit(visit);
  complaint.mutable_work_order()->set_description("电话回访中老人反映服务匆忙");
  complaint.set_request_id("filed-1");
  feedback::v1::CreateWorkOrderResponse filed;
  status = stub->FileWorkOrder(As(committee).get(), complaint, &filed);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(filed.work_order().source(), feedback::v1::WORK_ORDER_SOURCE_STAFF);
  EXPECT_EQ(filed.work_order().elder(), world.home_elder);
  EXPECT_EQ(filed.work_order().state(), feedback::v1::WORK_ORDER_STATE_ACCEPTED);
  feedback::v1::CreateWorkOrderRequest no_promise = complaint;
  no_promise.mutable_work_order()->clear_commitment();
  no_promise.set_request_id("filed-2");
  EXPECT_EQ(stub->FileWorkOrder(As(committee).get(), no_promise, &filed).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  feedback::v1::CreateWorkOrderRequest foreign = complaint;
  foreign.mutable_work_order()->set_commitment(world.foreign_commitment);
  foreign.mutable_work_order()->clear_visit();
  foreign.set_request_id("filed-3");
  status = stub->FileWorkOrder(As(committee).get(), foreign, &filed);
  EXPECT_TRUE(status.error_code() == grpc::StatusCode::PERMISSION_DENIED ||
              status.error_code() == grpc::StatusCode::NOT_FOUND)
      << status.error_code() << " " << status.error_message();

  // Today's board of the committee, with nothing named: the completed home visit is done;
  // another street's board is refused.
  feedback::v1::GetDayBoardResponse board;
  status = stub->GetDayBoard(As(committee).get(), feedback::v1::GetDayBoardRequest(), &board);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_GE(board.total().done(), 1);
  for (const auto& line : board.committees()) {
    EXPECT_EQ(line.committee(), "regions/310101020001");
  }
  for (const auto& v : board.attention()) EXPECT_EQ(v.committee(), "regions/310101020001");
  feedback::v1::GetDayBoardRequest other_board;
  other_board.set_region("regions/310101021");
  EXPECT_EQ(stub->GetDayBoard(As(committee).get(), other_board, &board).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // The worker's phone sent no position: the visit waits in the committee's review queue; the
  // committee's staff approve it under their own name; another street's queue is refused.
  feedback::v1::ListVisitsAwaitingReviewResponse reviews;
  status = stub->ListVisitsAwaitingReview(
      As(committee).get(), feedback::v1::ListVisitsAwaitingReviewRequest(), &reviews);
  ASSERT_TRUE(status.ok()) << status.error_message();
  bool queued_for_review = false;
  for (const auto& v : reviews.visits()) {
    EXPECT_EQ(v.committee(), "regions/310101020001");
    queued_for_review |= v.visit() == visit;
  }
  EXPECT_TRUE(queued_for_review);
  feedback::v1::ListVisitsAwaitingReviewRequest other_queue;
  other_queue.set_region("regions/310101021");
  EXPECT_EQ(stub->ListVisitsAwaitingReview(As(committee).get(), other_queue, &reviews).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  scheduling::v1::ReviewVisitRequest decision;
  decision.set_name(visit);
  decision.set_decision(scheduling::v1::REVIEW_DECISION_APPROVE);
  decision.set_reason_code("CONFIRMED_WITH_ELDER");
  scheduling::v1::ReviewVisitResponse decided;
  scheduling::v1::ReviewVisitRequest foreign_decision = decision;
  foreign_decision.set_name(world.foreign_visit);
  status = stub->ReviewVisit(As(committee).get(), foreign_decision, &decided);
  EXPECT_TRUE(status.error_code() == grpc::StatusCode::PERMISSION_DENIED ||
              status.error_code() == grpc::StatusCode::NOT_FOUND)
      << status.error_code() << " " << status.error_message();
  status = stub->ReviewVisit(As(committee).get(), decision, &decided);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(decided.visit().review().state(), scheduling::v1::REVIEW_STATE_APPROVED);
  EXPECT_EQ(decided.visit().review().reviewer(), "committee_staff:staff/committee");

  // The elder's words, read back by her committee's staff with a reason: by elder, and with
  // nothing named (their own committee); another street's elder or region is refused. Each read
  // is in feedback's audit log under the caller's name.
  const std::string said = "电话回访：阿姨说小王来过，就是来得有点急";
  feedback::v1::ListFeedbackRequest words;
  words.set_elder(world.home_elder);
  words.set_with_words_only(true);
  words.set_reason("跟进回访");
  feedback::v1::ListFeedbackResponse heard;
  status = stub->ListFeedback(As(committee).get(), words, &heard);
  ASSERT_TRUE(status.ok()) << status.error_message();
  auto holds_words = [&](const feedback::v1::ListFeedbackResponse& r) {
    bool found = false;
    for (const auto& answer : r.feedback()) found |= answer.words() == said;
    return found;
  };
  EXPECT_TRUE(holds_words(heard));
  for (const auto& answer : heard.feedback()) EXPECT_EQ(answer.elder(), world.home_elder);
  ASSERT_TRUE(
      stub->ListFeedback(As(committee).get(), feedback::v1::ListFeedbackRequest(), &heard).ok());
  EXPECT_TRUE(holds_words(heard));
  feedback::v1::ListFeedbackRequest elsewhere = words;
  elsewhere.set_elder(world.foreign_elder);
  EXPECT_EQ(stub->ListFeedback(As(committee).get(), elsewhere, &heard).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  elsewhere.clear_elder();
  elsewhere.set_region("regions/310101021");
  EXPECT_EQ(stub->ListFeedback(As(committee).get(), elsewhere, &heard).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(stub->ListFeedback(As(world.Token(Role::kElder)).get(), words, &heard).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  feedback::v1::ListAuditEntriesRequest audit;
  audit.set_elder(world.home_elder);
  feedback::v1::ListAuditEntriesResponse entries;
  status = stub->ListFeedbackAuditEntries(As(committee).get(), audit, &entries);
  ASSERT_TRUE(status.ok()) << status.error_message();
  int reads_with_reason = 0;
  for (const auto& entry : entries.entries()) {
    if (entry.reason() != "跟进回访") continue;
    ++reads_with_reason;
    EXPECT_EQ(entry.actor(), "committee_staff:staff/committee");
    EXPECT_EQ(entry.fields(), "words");
    EXPECT_EQ(entry.elder(), world.home_elder);
  }
  EXPECT_EQ(reads_with_reason, 1);
  audit.set_elder(world.foreign_elder);
  EXPECT_EQ(stub->ListFeedbackAuditEntries(As(committee).get(), audit, &entries).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // Cross-sector fallback for the home promise: answered for the committee, refused for another
  // street's promise.
  scheduling::v1::ProposeFallbackRequest fallback;
  fallback.set_commitment(world.home_commitment);
  fallback.set_always(true);
  scheduling::v1::ProposeFallbackResponse proposed;
  status = stub->ProposeFallback(As(committee).get(), fallback, &proposed);
  ASSERT_TRUE(status.ok()) << status.error_message();
  fallback.set_commitment(world.foreign_commitment);
  EXPECT_EQ(stub->ProposeFallback(As(committee).get(), fallback, &proposed).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // The committee's promises, with nothing named: its own, the home promise among them.
  feedback::v1::ListPromisesRequest promises;
  feedback::v1::ListPromisesResponse listed_promises;
  status = stub->ListPromises(As(committee).get(), promises, &listed_promises);
  ASSERT_TRUE(status.ok()) << status.error_message();
  bool home_listed = false;
  for (const auto& p : listed_promises.promises()) {
    EXPECT_EQ(p.committee(), "regions/310101020001");
    home_listed |= p.commitment() == world.home_commitment;
  }
  EXPECT_TRUE(home_listed);
  promises.set_region("regions/310101021");
  EXPECT_EQ(stub->ListPromises(As(committee).get(), promises, &listed_promises).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // The same queue as JSON on the HTTP port, for the street's staff.
  httplib::Client client("127.0.0.1", world.http->port());
  httplib::Headers street = {{"Authorization", "Bearer " + world.Token(Role::kStreetStaff)}};
  auto json = client.Post("/linli.gateway.v1.ConsoleService/ListVisitsAwaitingAnswer", street,
                          nlohmann::json{{"region", "regions/310101020"}, {"windowDays", 7}}.dump(),
                          "application/json");
  ASSERT_TRUE(json);
  EXPECT_EQ(json->status, 200) << json->body;
  auto body = nlohmann::json::parse(json->body, nullptr, false);
  ASSERT_TRUE(body.is_object()) << json->body;
  for (const auto& v : body.value("visits", nlohmann::json::array())) {
    EXPECT_NE(v.value("visit", ""), visit);
  }
  // The street's board as JSON.
  auto board_json =
      client.Post("/linli.gateway.v1.ConsoleService/GetDayBoard", street, "{}", "application/json");
  ASSERT_TRUE(board_json);
  EXPECT_EQ(board_json->status, 200) << board_json->body;
  EXPECT_NE(board_json->body.find("\"total\""), std::string::npos) << board_json->body;
  // The words as JSON, for the street's staff.
  auto words_json = client.Post("/linli.gateway.v1.ConsoleService/ListFeedback", street,
                                nlohmann::json{{"withWordsOnly", true}}.dump(), "application/json");
  ASSERT_TRUE(words_json);
  EXPECT_EQ(words_json->status, 200) << words_json->body;
  EXPECT_NE(words_json->body.find(said), std::string::npos) << words_json->body;
  auto foreign_json =
      client.Post("/linli.gateway.v1.ConsoleService/ListVisitsAwaitingAnswer", street,
                  nlohmann::json{{"region", "regions/310101021"}}.dump(), "application/json");
  ASSERT_TRUE(foreign_json);
  EXPECT_EQ(foreign_json->status, 403);
}

TEST_F(GatewayAuthz, ZzElderPageWithABackendDown) {
  World& world = World::Get();
  auto stub = v1::ElderAppService::NewStub(world.channel);
  v1::GetElderPageRequest request;
  request.set_elder(world.home_elder);
  auto read_page = [&](v1::GetElderPageResponse* page) {
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + world.Token(Role::kElder));
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(3)));
    absl::Time start = absl::Now();
    grpc::Status status = stub->GetElderPage(&context, request, page);
    EXPECT_LT(absl::Now() - start, absl::Seconds(3));
    return status;
  };

  ASSERT_TRUE(world.feedback_process->Signal(SIGTERM));
  ASSERT_TRUE(world.feedback_process->Wait(absl::Seconds(15)).ok());
  v1::GetElderPageResponse page;
  grpc::Status status = read_page(&page);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(page.profile().name(), world.home_elder);
  EXPECT_EQ(page.commitments_size(), 1);
  EXPECT_FALSE(page.has_index());
  ASSERT_EQ(page.missing_parts_size(), 1);
  EXPECT_EQ(page.missing_parts(0), v1::ELDER_PAGE_PART_INDEX);

  ASSERT_TRUE(world.scheduling_process->Signal(SIGTERM));
  ASSERT_TRUE(world.scheduling_process->Wait(absl::Seconds(15)).ok());
  page.Clear();
  status = read_page(&page);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(page.profile().name(), world.home_elder);
  ASSERT_EQ(page.missing_parts_size(), 3);
  EXPECT_EQ(page.missing_parts(0), v1::ELDER_PAGE_PART_COMMITMENTS);
  EXPECT_EQ(page.missing_parts(1), v1::ELDER_PAGE_PART_UPCOMING_VISITS);
  EXPECT_EQ(page.missing_parts(2), v1::ELDER_PAGE_PART_INDEX);
}

// Region scope is decided on the registry's parent links, never on code prefixes. The registry
// now refuses a region whose code does not extend its parent's, so such a region exists only in
// a database from before: these tests write it there, past the registry.

// Writes `code` as a committee under `parent` (path `path`) straight into the world's registry
// database; a second run in one process finds it there.
absl::Status InsertRegionPastTheRegistry(const std::string& code, const std::string& parent,
                                         const std::string& path) {
  absl::StatusOr<std::unique_ptr<storage::Database>> db =
      storage::OpenDatabase("sqlite:" + World::Get().dir + "/registry.db");
  if (!db.ok()) return db.status();
  absl::Status inserted = (*db)->RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
    return tx
        .Exec(
            "INSERT INTO regions (code, display_name, level, parent_code, create_time_us, path) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            {code, std::string("旧居民区"),
             static_cast<int64_t>(registry::v1::REGION_LEVEL_COMMITTEE), parent,
             absl::ToUnixMicros(absl::FromUnixSeconds(1'700'000'000)), path})
        .status();
  });
  return absl::IsAlreadyExists(inserted) ? absl::OkStatus() : inserted;
}

// Committee 3101010201 lies under street 310101021, though its code reads as street 310101020's:
// 310101020's staff are refused its elder (the full record too), 310101021's are allowed, and the
// committee's own staff reach the organisations of their real street, not of the other.
TEST_F(GatewayAuthz, RegionScopeFollowsParentLinksNotCodePrefixes) {
  World& world = World::Get();
  ASSERT_TRUE(
      InsertRegionPastTheRegistry("3101010201", "310101021", "310000/310101/310101021/3101010201/")
          .ok());
  registry::v1::CreateElderRequest create;
  create.mutable_elder()->set_display_name("王老伯");
  create.mutable_elder()->set_region("regions/3101010201");
  auto* contact = create.mutable_elder()->add_contacts();
  contact->set_display_name("王芳");
  contact->set_relationship("女儿");
  registry::v1::CreateElderResponse created;
  grpc::Status status = world.registry->CreateElder(
      NewClientContext(nullptr, absl::Seconds(10)).get(), create, &created);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const std::string elder = created.elder().name();

  auto console = v1::ConsoleService::NewStub(world.channel);
  const std::string home_street = world.Token(Role::kStreetStaff);  // 310101020
  const std::string real_street =
      world.Token(Role::kStreetStaff, {{"sub", "staff/dapuqiao"}, {"region", "310101021"}});
  registry::v1::GetElderRequest full;
  full.set_name(elder);
  full.set_view(registry::v1::ELDER_VIEW_FULL);
  full.set_reason("回访核对联系方式");
  registry::v1::GetElderResponse got;
  EXPECT_EQ(console->GetElder(As(home_street).get(), full, &got).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  status = console->GetElder(As(real_street).get(), full, &got);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(got.elder().region(), "regions/3101010201");

  registry::v1::ListEldersRequest list;
  list.set_region("regions/3101010201");
  registry::v1::ListEldersResponse listed;
  EXPECT_EQ(console->ListElders(As(home_street).get(), list, &listed).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  status = console->ListElders(As(real_street).get(), list, &listed);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(listed.elders_size(), 1);
  EXPECT_EQ(listed.elders(0).name(), elder);

  v1::GetRegionRequest region;
  region.set_name("regions/3101010201");
  v1::GetRegionResponse region_got;
  EXPECT_EQ(console->GetRegion(As(home_street).get(), region, &region_got).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(console->GetRegion(As(real_street).get(), region, &region_got).ok());

  // The committee's own staff: their street and its organisations are above them, the street
  // their code's digits suggest is not.
  const std::string committee = world.Token(
      Role::kCommitteeStaff, {{"sub", "staff/old-committee"}, {"region", "3101010201"}});
  region.set_name("regions/310101021");
  EXPECT_TRUE(console->GetRegion(As(committee).get(), region, &region_got).ok());
  region.set_name("regions/310101020");
  EXPECT_EQ(console->GetRegion(As(committee).get(), region, &region_got).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  registry::v1::GetOrganisationRequest organisation;
  registry::v1::GetOrganisationResponse organisation_got;
  organisation.set_name("organisations/farorg");  // of street 310101021
  status = console->GetOrganisation(As(committee).get(), organisation, &organisation_got);
  EXPECT_TRUE(status.ok()) << status.error_message();
  organisation.set_name("organisations/homeorg");  // of street 310101020
  EXPECT_EQ(
      console->GetOrganisation(As(committee).get(), organisation, &organisation_got).error_code(),
      grpc::StatusCode::PERMISSION_DENIED);

  // Regions whose codes do extend their parents' are unaffected.
  full.set_name(world.home_elder);
  EXPECT_TRUE(console->GetElder(As(home_street).get(), full, &got).ok());
  EXPECT_EQ(console->GetElder(As(real_street).get(), full, &got).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

// A region's path is read from the registry once and kept for Relations::kRegionPathTtl on the
// injected clock: a change in the registry's database is seen after the expiry, not before.
// (Relations called directly, off the gateway's loops, without a caller's context.)
TEST_F(GatewayAuthz, RegionPathsAreCachedUntilTheyExpireOnTheInjectedClock) {
  World& world = World::Get();
  ASSERT_TRUE(
      InsertRegionPastTheRegistry("3101010202", "310101021", "310000/310101/310101021/3101010202/")
          .ok());
  FakeClock clock(absl::FromUnixSeconds(1'800'000'000));
  Relations relations(world.registry, world.scheduling, absl::Seconds(5), clock);
  auth::Principal home;
  home.id = "staff/home";
  home.role = Role::kStreetStaff;
  home.region = "310101020";
  auth::Principal neighbour = home;
  neighbour.id = "staff/neighbour";
  neighbour.region = "310101021";
  const std::string region = "regions/3101010202";
  EXPECT_EQ(relations.Region(home, region).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(relations.Region(neighbour, region).ok());

  // Moved to the other street in the database (a correction made by hand).
  absl::StatusOr<std::unique_ptr<storage::Database>> db =
      storage::OpenDatabase("sqlite:" + world.dir + "/registry.db");
  ASSERT_TRUE(db.ok()) << db.status();
  auto move_to = [&](const std::string& street) {
    return (*db)->RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
      return tx
          .Exec("UPDATE regions SET parent_code = ?, path = ? WHERE code = '3101010202'",
                {street, absl::StrCat("310000/310101/", street, "/3101010202/")})
          .status();
    });
  };
  ASSERT_TRUE(move_to("310101020").ok());
  clock.Advance(Relations::kRegionPathTtl - absl::Seconds(1));
  EXPECT_EQ(relations.Region(home, region).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(relations.Region(neighbour, region).ok());
  clock.Advance(absl::Seconds(2));
  EXPECT_TRUE(relations.Region(home, region).ok());
  EXPECT_EQ(relations.Region(neighbour, region).code(), absl::StatusCode::kPermissionDenied);
  ASSERT_TRUE(move_to("310101021").ok());

  // Unknown regions are NOT_FOUND, malformed ones and region-less principals out of scope, none
  // named bad input.
  EXPECT_EQ(relations.Region(home, "regions/310101020999").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(relations.Region(home, "regions/31010102x").code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(relations.Region(home, "").code(), absl::StatusCode::kInvalidArgument);
  auth::Principal nowhere = home;
  nowhere.region.clear();
  EXPECT_EQ(relations.Region(nowhere, "regions/310101020").code(),
            absl::StatusCode::kPermissionDenied);
  auth::Principal admin;
  admin.id = "ops";
  admin.role = Role::kAdmin;
  EXPECT_TRUE(relations.Region(admin, region).ok());
  // A district is above its streets' staff (RegionOrAncestor), not in their scope (Region).
  EXPECT_TRUE(relations.RegionOrAncestor(home, "regions/310101").ok());
  EXPECT_EQ(relations.Region(home, "regions/310101").code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(relations.RegionOrAncestor(home, "regions/310101021").code(),
            absl::StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace linli::gateway
