// Gateway overhead, one run, printed figures (not a pass/fail test).
//
//   build/bin/gateway_bench [--seconds 3] [--threads 4] [--samples 1000]
//
// Starts linli-registry and linli-scheduling (SQLite, temporary directory) as child processes,
// loads one street with an elder, a commitment and a week of visits, and runs the gateway's
// services in this process on loopback (real gRPC server, real Connect JSON server). Then:
//   pass-through  GetRegion straight on the registry vs ConsoleService/GetRegion through the
//                 gateway (token verified, rule checked, forwarded) vs the same over JSON/HTTP:
//                 calls/s from N threads; ratios gateway/direct and JSON/gRPC.
//   aggregation   ElderAppService/GetElderPage (registry GetElder + scheduling ListCommitments +
//                 ListVisits, concurrently) vs each of the three calls made directly: p50 of
//                 sequential calls; ratio page p50 / slowest direct p50.
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <functional>
#include <optional>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "common/auth/jwt.h"
#include "common/client.h"
#include "common/flags.h"
#include "common/grpc_probe.h"
#include "common/pii/field_cipher.h"
#include "common/server.h"
#include "linli/gateway/v1/console.grpc.pb.h"
#include "linli/gateway/v1/elder_app.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "services/gateway/console_service.h"
#include "services/gateway/elder_app_service.h"
#include "services/gateway/gate.h"
#include "services/gateway/http_json.h"
#include "services/gateway/partner_service.h"
#include "tests/support/test_env.h"

ABSL_FLAG(int, seconds, 3, "Seconds per throughput workload.");
ABSL_FLAG(int, threads, 4, "Concurrent callers for throughput.");
ABSL_FLAG(int, samples, 1000, "Sequential calls per latency workload.");

namespace linli {
namespace {

const std::string kSecret = "bench-secret-0123456789abcdef0123";

// The backend processes; static so that std::exit (CHECK_OK) still stops them.
std::optional<testing::ChildProcess> registry_process, scheduling_process;

#define CHECK_OK(expr)                                                            \
  do {                                                                            \
    grpc::Status s_ = (expr);                                                     \
    if (!s_.ok()) {                                                               \
      std::fprintf(stderr, "%s failed: %s\n", #expr, s_.error_message().c_str()); \
      std::exit(1);                                                               \
    }                                                                             \
  } while (0)

std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token = "") {
  auto context = NewClientContext(nullptr, absl::Seconds(10));
  if (!token.empty()) context->AddMetadata("authorization", "Bearer " + token);
  return context;
}

bool WaitServing(const std::string& address, const std::string& service) {
  auto channel = NewChannel(address, {});
  for (int i = 0; i < 600; ++i) {
    auto health = CheckHealth(*channel, service, absl::Seconds(1));
    if (health.ok() && *health == HealthStatus::kServing) return true;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return false;
}

// Calls per second of `call` from `threads` threads for `duration`; errors counted.
double Throughput(const std::function<bool(int)>& call, int threads, absl::Duration duration,
                  int64_t* errors) {
  std::atomic<int64_t> calls{0}, failed{0};
  const absl::Time end = absl::Now() + duration;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      while (absl::Now() < end) {
        if (!call(t)) failed.fetch_add(1);
        calls.fetch_add(1);
      }
    });
  }
  for (auto& w : workers) w.join();
  *errors = failed.load();
  return calls.load() / absl::ToDoubleSeconds(duration);
}

double P50Ms(const std::function<bool()>& call, int samples) {
  std::vector<double> ms;
  ms.reserve(samples);
  for (int i = 0; i < samples; ++i) {
    absl::Time start = absl::Now();
    if (!call()) {
      std::fprintf(stderr, "latency call failed\n");
      std::exit(1);
    }
    ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
  }
  std::nth_element(ms.begin(), ms.begin() + ms.size() / 2, ms.end());
  return ms[ms.size() / 2];
}

int Run() {
  const std::string dir = testing::MakeTempDir("gateway_bench");
  std::ofstream(dir + "/pii.key") << pii::FieldCipher::GenerateKeySpec("k1") << "\n";
  const std::string registry_address = absl::StrCat("127.0.0.1:", testing::FreePort());
  const std::string scheduling_address = absl::StrCat("127.0.0.1:", testing::FreePort());
  auto registry_started = testing::ChildProcess::Start(
      absl::StrCat(LINLI_BIN_DIR, "/linli-registry"),
      {"--listen=" + registry_address, "--db=sqlite:" + dir + "/registry.db",
       "--pii_key_file=" + dir + "/pii.key"},
      dir + "/registry.log");
  auto scheduling_started = testing::ChildProcess::Start(
      absl::StrCat(LINLI_BIN_DIR, "/linli-scheduling"),
      {"--listen=" + scheduling_address, "--db=sqlite:" + dir + "/scheduling.db",
       "--registry_address=" + registry_address},
      dir + "/scheduling.log");
  if (registry_started.ok()) registry_process.emplace(std::move(*registry_started));
  if (scheduling_started.ok()) scheduling_process.emplace(std::move(*scheduling_started));
  if (!registry_process || !scheduling_process ||
      !WaitServing(registry_address, "linli.registry.v1.RegistryService") ||
      !WaitServing(scheduling_address, "linli.scheduling.v1.SchedulingService")) {
    std::fprintf(stderr, "backends did not start; logs in %s\n", dir.c_str());
    return 1;
  }
  std::shared_ptr<registry::v1::RegistryService::Stub> registry =
      registry::v1::RegistryService::NewStub(NewChannel(registry_address, {}));
  std::shared_ptr<scheduling::v1::SchedulingService::Stub> scheduling =
      scheduling::v1::SchedulingService::NewStub(NewChannel(scheduling_address, {}));

  // One street, one elder with a daily promise and a week of visits.
  for (auto [code, level, parent] :
       {std::tuple{"310000", registry::v1::REGION_LEVEL_MUNICIPALITY, ""},
        std::tuple{"310101", registry::v1::REGION_LEVEL_DISTRICT, "regions/310000"},
        std::tuple{"310101020", registry::v1::REGION_LEVEL_STREET, "regions/310101"},
        std::tuple{"310101020001", registry::v1::REGION_LEVEL_COMMITTEE, "regions/310101020"}}) {
    registry::v1::CreateRegionRequest q;
    q.mutable_region()->set_code(code);
    q.mutable_region()->set_display_name(absl::StrCat("区域", code));
    q.mutable_region()->set_level(level);
    q.mutable_region()->set_parent(parent);
    registry::v1::CreateRegionResponse a;
    CHECK_OK(registry->CreateRegion(Ctx().get(), q, &a));
  }
  {
    registry::v1::CreateOrganisationRequest q;
    q.mutable_organisation()->set_id("care");
    q.mutable_organisation()->set_display_name("长者照护之家");
    q.mutable_organisation()->set_kind(registry::v1::ORGANISATION_KIND_SOCIAL_ORGANISATION);
    q.mutable_organisation()->set_sector(registry::v1::SECTOR_SOCIAL);
    q.mutable_organisation()->set_region("regions/310101020");
    registry::v1::CreateOrganisationResponse a;
    CHECK_OK(registry->CreateOrganisation(Ctx().get(), q, &a));
    registry::v1::CreateServiceTypeRequest t;
    t.mutable_service_type()->set_code("care");
    t.mutable_service_type()->set_display_name("长护险居家照护");
    registry::v1::CreateServiceTypeResponse ta;
    CHECK_OK(registry->CreateServiceType(Ctx().get(), t, &ta));
  }
  registry::v1::CreateElderRequest elder_request;
  elder_request.mutable_elder()->set_display_name("王秀英");
  elder_request.mutable_elder()->set_region("regions/310101020001");
  registry::v1::CreateElderResponse elder;
  CHECK_OK(registry->CreateElder(Ctx().get(), elder_request, &elder));
  const std::string elder_name = elder.elder().name();
  {
    scheduling::v1::CreateCommitmentRequest q;
    q.mutable_commitment()->set_elder(elder_name);
    q.mutable_commitment()->set_service_type("serviceTypes/care");
    q.mutable_commitment()->set_owner_organisation("organisations/care");
    q.mutable_commitment()->set_valid_from("2026-01-01");
    q.mutable_commitment()->set_care_grade(6);
    scheduling::v1::CreateCommitmentResponse a;
    CHECK_OK(scheduling->CreateCommitment(Ctx().get(), q, &a));
    scheduling::v1::MaterializeVisitsRequest m;
    m.set_from_date(absl::FormatTime("%Y-%m-%d", absl::Now(), absl::FixedTimeZone(8 * 3600)));
    m.set_days(7);
    scheduling::v1::MaterializeVisitsResponse ma;
    CHECK_OK(scheduling->MaterializeVisits(Ctx().get(), m, &ma));
  }

  // The gateway, in process.
  auth::JwtKeySet keys;
  keys.Add(*auth::JwtKey::Hmac("dev", kSecret));
  gateway::GateOptions options;
  options.rate_per_second = 1e9;  // measure the path, not the limiter
  options.burst = 1e9;
  gateway::Gate gate(std::move(keys), nullptr, options,
                     std::make_shared<gateway::Relations>(registry, scheduling, absl::Seconds(5)),
                     Clock::Real());
  gateway::ConsoleServiceImpl console(&gate, registry, scheduling, nullptr, absl::Seconds(5));
  gateway::ElderAppServiceImpl elder_app(&gate, registry, scheduling, nullptr, absl::Seconds(5),
                                         Clock::Real());
  ServerOptions server_options;
  server_options.service_name = "gateway";
  server_options.listen_address = "127.0.0.1:0";
  auto server = GrpcServer::Start(server_options, {&console, &elder_app});
  if (!server.ok()) return 1;
  auto gateway_channel = NewChannel(absl::StrCat("127.0.0.1:", (*server)->port()), {});
  auto http = gateway::HttpJsonServer::Start(
      "127.0.0.1:0", {"linli.gateway.v1.ConsoleService", "linli.gateway.v1.ElderAppService"},
      gateway_channel, absl::Seconds(10));
  if (!http.ok()) return 1;

  const int64_t now = absl::ToUnixSeconds(absl::Now());
  const std::string staff =
      *auth::SignJwt(*auth::JwtKey::Hmac("dev", kSecret), {{"iss", "linli-dev"},
                                                           {"aud", "linli-gateway"},
                                                           {"sub", "staff/bench"},
                                                           {"role", "street_staff"},
                                                           {"region", "310101020"},
                                                           {"exp", now + 3600}});
  const std::string elder_token =
      *auth::SignJwt(*auth::JwtKey::Hmac("dev", kSecret), {{"iss", "linli-dev"},
                                                           {"aud", "linli-gateway"},
                                                           {"sub", elder_name},
                                                           {"role", "elder"},
                                                           {"exp", now + 3600}});

  const int threads = absl::GetFlag(FLAGS_threads);
  const absl::Duration seconds = absl::Seconds(absl::GetFlag(FLAGS_seconds));
  const int samples = absl::GetFlag(FLAGS_samples);
  auto console_stub = gateway::v1::ConsoleService::NewStub(gateway_channel);
  auto elder_stub = gateway::v1::ElderAppService::NewStub(gateway_channel);

  registry::v1::GetRegionRequest direct_get;
  direct_get.set_name("regions/310101020");
  gateway::v1::GetRegionRequest gateway_get;
  gateway_get.set_name("regions/310101020");
  int64_t direct_errors = 0, gateway_errors = 0, json_errors = 0;
  const double direct = Throughput(
      [&](int) {
        registry::v1::GetRegionResponse r;
        return registry->GetRegion(Ctx().get(), direct_get, &r).ok();
      },
      threads, seconds, &direct_errors);
  const double through = Throughput(
      [&](int) {
        gateway::v1::GetRegionResponse r;
        return console_stub->GetRegion(Ctx(staff).get(), gateway_get, &r).ok();
      },
      threads, seconds, &gateway_errors);
  std::vector<std::unique_ptr<httplib::Client>> clients;
  for (int t = 0; t < threads; ++t) {
    clients.push_back(std::make_unique<httplib::Client>("127.0.0.1", (*http)->port()));
    clients.back()->set_keep_alive(true);
    clients.back()->set_tcp_nodelay(true);
  }
  const httplib::Headers headers = {{"Authorization", "Bearer " + staff}};
  const double json = Throughput(
      [&](int t) {
        auto res = clients[t]->Post("/linli.gateway.v1.ConsoleService/GetRegion", headers,
                                    R"({"name":"regions/310101020"})", "application/json");
        return res && res->status == 200;
      },
      threads, seconds, &json_errors);

  // Aggregation: the three direct calls and the page.
  registry::v1::GetElderRequest get_elder;
  get_elder.set_name(elder_name);
  scheduling::v1::ListCommitmentsRequest list_commitments;
  list_commitments.set_elder(elder_name);
  list_commitments.set_page_size(50);
  scheduling::v1::ListVisitsRequest list_visits;
  list_visits.set_elder(elder_name);
  list_visits.set_from_date(
      absl::FormatTime("%Y-%m-%d", absl::Now(), absl::FixedTimeZone(8 * 3600)));
  list_visits.set_to_date(absl::FormatTime("%Y-%m-%d", absl::Now() + absl::Hours(24 * 7),
                                           absl::FixedTimeZone(8 * 3600)));
  list_visits.set_page_size(50);
  const double p50_elder = P50Ms(
      [&] {
        registry::v1::GetElderResponse r;
        return registry->GetElder(Ctx().get(), get_elder, &r).ok();
      },
      samples);
  const double p50_commitments = P50Ms(
      [&] {
        scheduling::v1::ListCommitmentsResponse r;
        return scheduling->ListCommitments(Ctx().get(), list_commitments, &r).ok();
      },
      samples);
  const double p50_visits = P50Ms(
      [&] {
        scheduling::v1::ListVisitsResponse r;
        return scheduling->ListVisits(Ctx().get(), list_visits, &r).ok();
      },
      samples);
  gateway::v1::GetElderPageRequest page_request;
  page_request.set_elder(elder_name);
  int visits_on_page = 0;
  const double p50_page = P50Ms(
      [&] {
        gateway::v1::GetElderPageResponse r;
        bool ok = elder_stub->GetElderPage(Ctx(elder_token).get(), page_request, &r).ok() &&
                  r.missing_parts_size() == 0;
        visits_on_page = r.upcoming_visits_size();
        return ok;
      },
      samples);
  const double slowest = std::max({p50_elder, p50_commitments, p50_visits});
  gateway::v1::ListMyFamilyRequest family_request;
  family_request.set_elder(elder_name);
  const double p50_family = P50Ms(
      [&] {
        gateway::v1::ListMyFamilyResponse r;
        return elder_stub->ListMyFamily(Ctx(elder_token).get(), family_request, &r).ok();
      },
      samples);
  const double p50_direct_region = P50Ms(
      [&] {
        registry::v1::GetRegionResponse r;
        return registry->GetRegion(Ctx().get(), direct_get, &r).ok();
      },
      samples);
  const double p50_gateway_region = P50Ms(
      [&] {
        gateway::v1::GetRegionResponse r;
        return console_stub->GetRegion(Ctx(staff).get(), gateway_get, &r).ok();
      },
      samples);

  std::printf("gateway_bench: %d threads x %d s throughput, %d sequential calls for p50\n", threads,
              absl::GetFlag(FLAGS_seconds), samples);
  std::printf("pass-through GetRegion  direct registry   %9.0f calls/s  (errors %lld)\n", direct,
              static_cast<long long>(direct_errors));
  std::printf(
      "                        through gateway   %9.0f calls/s  (errors %lld)  = %.2fx direct "
      "(target >= 0.6x)\n",
      through, static_cast<long long>(gateway_errors), through / direct);
  std::printf(
      "                        JSON over HTTP    %9.0f calls/s  (errors %lld)  = %.2fx gateway "
      "gRPC\n",
      json, static_cast<long long>(json_errors), json / through);
  std::printf(
      "pass-through p50        direct %.3f ms, through gateway %.3f ms (the hop costs %.3f ms)\n",
      p50_direct_region, p50_gateway_region, p50_gateway_region - p50_direct_region);
  std::printf("one-backend view p50     ListMyFamily (GetElder through the gateway) %.3f ms\n",
              p50_family);
  std::printf(
      "aggregation p50         GetElder %.3f ms, ListCommitments %.3f ms, ListVisits %.3f ms "
      "(direct)\n",
      p50_elder, p50_commitments, p50_visits);
  std::printf(
      "                        GetElderPage %.3f ms (%d upcoming visits) = %.2fx the slowest "
      "direct call (target <= 1.5x);\n"
      "                        the three direct calls one after another: %.3f ms\n",
      p50_page, visits_on_page, p50_page / slowest, p50_elder + p50_commitments + p50_visits);
  // Machine-readable lines for the table at the end of `make bench` (scripts/bench.sh):
  // SUMMARY <name> <value> <target> <met|missed|info>.
  std::printf("SUMMARY gateway.pass_through_vs_direct %.2fx >=0.60x %s\n", through / direct,
              through >= 0.6 * direct ? "met" : "missed");
  std::printf("SUMMARY gateway.elder_page_vs_slowest_direct %.2fx <=1.50x %s\n", p50_page / slowest,
              p50_page <= 1.5 * slowest ? "met" : "missed");
  std::printf("SUMMARY gateway.json_vs_grpc %.2fx - info\n", json / through);
  std::printf("SUMMARY gateway.hop_p50 %.3fms - info\n", p50_gateway_region - p50_direct_region);
  (*http)->Stop();
  (*server)->Shutdown();
  return 0;
}

}  // namespace
}  // namespace linli

int main(int argc, char** argv) {
  linli::ParseFlags(argc, argv, "gateway_bench: gateway overhead (see the file comment)");
  return linli::Run();
}
