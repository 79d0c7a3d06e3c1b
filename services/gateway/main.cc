// linli-gateway: the public API (gRPC and Connect-style JSON over HTTP) in front of registry,
// scheduling and feedback.
#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "common/auth/api_keys.h"
#include "common/auth/internal_identity.h"
#include "common/auth/jwt.h"
#include "common/client.h"
#include "common/flags.h"
#include "common/log.h"
#include "common/server.h"
#include "common/service_main.h"
#include "linli/feedback/v1/feedback.grpc.pb.h"
#include "linli/registry/v1/registry.grpc.pb.h"
#include "linli/scheduling/v1/scheduling.grpc.pb.h"
#include "services/gateway/connect_protocol.h"
#include "services/gateway/console_service.h"
#include "services/gateway/elder_app_service.h"
#include "services/gateway/gate.h"
#include "services/gateway/gateway_server.h"
#include "services/gateway/http_json.h"
#include "services/gateway/partner_service.h"
#include "services/gateway/worker_app_service.h"

#include <fstream>
#include <sstream>

ABSL_FLAG(std::string, listen, "127.0.0.1:50050", "gRPC listen address (host:port).");
ABSL_FLAG(std::string, http_listen, "127.0.0.1:8080",
          "HTTP listen address of the Connect protocol (JSON and binary, host:port).");
ABSL_FLAG(std::string, registry_address, "127.0.0.1:50051", "Address of linli-registry.");
ABSL_FLAG(std::string, scheduling_address, "127.0.0.1:50052", "Address of linli-scheduling.");
ABSL_FLAG(std::string, feedback_address, "127.0.0.1:50053", "Address of linli-feedback.");
ABSL_FLAG(absl::Duration, backend_timeout, absl::Seconds(5),
          "Deadline of a backend call when the caller's own deadline is later or unset.");
ABSL_FLAG(std::string, jwt_keys_file, "",
          "Key set verifying access tokens (JSON, see common/auth/jwt.h). Required.");
ABSL_FLAG(std::string, jwt_issuer, "linli-dev", "The issuer (iss) every access token must name.");
ABSL_FLAG(std::string, jwt_audience, "linli-gateway",
          "The audience (aud) every access token must include.");
ABSL_FLAG(std::string, api_keys_file, "",
          "Partner API keys (hashed; re-read when it changes). Empty: no partner keys.");
ABSL_FLAG(std::string, api_key_pepper_file, "",
          "Secret under which API key secrets are hashed; required with --api_keys_file.");
ABSL_FLAG(double, rate_limit_per_second, 50, "Calls per second per principal (token bucket).");
ABSL_FLAG(double, rate_limit_burst, 100, "Burst size of the per-principal token bucket.");
ABSL_FLAG(double, unauthenticated_rate_per_second, 5,
          "Calls per second per client address (IPv4 address or IPv6 /64; for JSON calls the "
          "HTTP client's) that may come without credentials or with failing ones, checked before "
          "any token or key is verified; beyond it such calls are RESOURCE_EXHAUSTED (HTTP 429). "
          "Callers with a token already verified are not affected. 0 turns the limit off.");
ABSL_FLAG(double, unauthenticated_burst, 50,
          "Burst size of the per-address bucket of --unauthenticated_rate_per_second.");
ABSL_FLAG(int, max_costly_calls_per_principal, 1,
          "Costly console calls (Plan, MaterializeVisits, SweepMissedVisits, SweepAlerts) one "
          "caller may have running at once; one more is RESOURCE_EXHAUSTED. 0: no limit.");
ABSL_FLAG(int, http_listen_backlog, linli::gateway::HttpJsonServer::kDefaultListenBacklog,
          "Listen backlog of the HTTP port: connections the kernel queues before the server "
          "accepts them (capped by net.core.somaxconn).");
ABSL_FLAG(bool, jwt_public_keys_only, false,
          "Refuse to start unless every key of --jwt_keys_file is an RS256 or ES256 public key "
          "(no HS256 secret, no private key): set it in production, where the gateway verifies "
          "the identity provider's tokens and must not be able to mint any. The development key "
          "set (HS256) is refused.");
ABSL_FLAG(absl::Duration, max_staff_token_lifetime, absl::Hours(12),
          "Longest lifetime (exp - iat) of a committee_staff, street_staff or admin token.");
ABSL_FLAG(absl::Duration, max_app_token_lifetime, absl::Hours(24 * 30),
          "Longest lifetime (exp - iat) of an elder, family or worker app token.");
ABSL_FLAG(std::string, http_tls_cert_file, "",
          "PEM certificate chain: serve the HTTP port as HTTPS (with --http_tls_key_file).");
ABSL_FLAG(std::string, http_tls_key_file, "", "PEM private key of --http_tls_cert_file.");
ABSL_FLAG(std::string, http_cors_allowed_origins, "",
          "Comma-separated origins (\"https://console.example.org\") whose browser pages may call "
          "the HTTP port (CORS: preflights answered, Access-Control-Allow-Origin on answers); "
          "\"*\" for any origin. Empty (the default): CORS off.");
ABSL_FLAG(std::string, web_root, "",
          "Directory of the web console's build (services/gateway/web, scripts/web.sh), served "
          "at / on the HTTP port. Empty: no console.");
ABSL_FLAG(std::string, oidc_issuer, "",
          "The street's identity provider (OpenID Connect issuer URL): the console signs staff in "
          "there with the authorisation code flow and PKCE and calls with its access tokens, so "
          "--jwt_issuer must equal it and --jwt_keys_file must hold its signing keys (its jwks_uri "
          "document is a key set as it stands). Needs --web_root and --oidc_client_id. Empty: the "
          "console takes a pasted token or a one-time link only.");
ABSL_FLAG(std::string, oidc_client_id, "",
          "The console's client id at --oidc_issuer (a public client: no secret; its redirect URI "
          "is the console's own URL, e.g. https://linli.example.gov.cn/).");
ABSL_FLAG(std::string, oidc_scope, "openid", "The scopes the console asks --oidc_issuer for.");
ABSL_FLAG(int, event_loops, 1,
          "Threads serving the public gRPC methods, each an event loop (one per core is plenty).");
ABSL_FLAG(int, max_request_bytes, 1 << 20, "Largest request accepted (gRPC message, JSON body).");

namespace {

std::string ReadFileOrExit(const std::string& path, const char* flag) {
  std::ifstream in(path);
  if (path.empty() || !in) {
    linli::LogError("cannot read file", {{"flag", flag}, {"path", path}});
    std::exit(1);
  }
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

int main(int argc, char** argv) {
  linli::BlockTerminationSignals();
  linli::SetLogService("gateway");
  linli::ParseFlags(
      argc, argv,
      "linli-gateway: the public API. Flags: --listen --http_listen "
      "--http_cors_allowed_origins --web_root --oidc_issuer --oidc_client_id --oidc_scope "
      "--registry_address --scheduling_address --feedback_address --jwt_keys_file "
      "--api_keys_file --api_key_pepper_file --rate_limit_per_second "
      "--unauthenticated_rate_per_second --max_costly_calls_per_principal "
      "--jwt_public_keys_only --tls_cert_file --tls_key_file --internal_ca_file "
      "--internal_cert_file --internal_key_file");
  // The one reading of the wall clock; everything below takes it injected.
  const linli::Clock& clock = linli::Clock::Real();
  // The gateway's platform identity: backends accept calls only with it (mutual TLS) and with
  // the principal token its channels sign for each call.
  const auto identity = linli::auth::InternalIdentityFromFlagsOrExit();
  auto registry_channel = linli::auth::NewInternalChannel(
      absl::GetFlag(FLAGS_registry_address), "linli-registry",
      {linli::registry::v1::RegistryService::service_full_name()}, identity, clock);
  auto scheduling_channel = linli::auth::NewInternalChannel(
      absl::GetFlag(FLAGS_scheduling_address), "linli-scheduling",
      {linli::scheduling::v1::SchedulingService::service_full_name()}, identity, clock);
  auto feedback_channel = linli::auth::NewInternalChannel(
      absl::GetFlag(FLAGS_feedback_address), "linli-feedback",
      {linli::feedback::v1::FeedbackService::service_full_name()}, identity, clock);
  std::shared_ptr<linli::feedback::v1::FeedbackService::StubInterface> feedback =
      linli::feedback::v1::FeedbackService::NewStub(feedback_channel);
  std::shared_ptr<linli::registry::v1::RegistryService::StubInterface> registry =
      linli::registry::v1::RegistryService::NewStub(registry_channel);
  std::shared_ptr<linli::scheduling::v1::SchedulingService::StubInterface> scheduling =
      linli::scheduling::v1::SchedulingService::NewStub(scheduling_channel);
  const absl::Duration backend_timeout = absl::GetFlag(FLAGS_backend_timeout);

  const std::string key_set_json =
      ReadFileOrExit(absl::GetFlag(FLAGS_jwt_keys_file), "--jwt_keys_file");
  absl::StatusOr<linli::auth::JwtKeySet> keys = linli::auth::JwtKeySet::Parse(key_set_json);
  if (!keys.ok()) {
    linli::LogError("bad --jwt_keys_file", {{"error", std::string(keys.status().message())}});
    return 1;
  }
  for (const std::string& skipped : keys->skipped()) {
    linli::LogInfo(
        "--jwt_keys_file: a published key of a kind Linli does not verify with is left "
        "out",
        {{"key", skipped}});
  }
  if (absl::GetFlag(FLAGS_jwt_public_keys_only)) {
    if (absl::Status only_public = linli::gateway::CheckPublicKeysOnly(key_set_json);
        !only_public.ok()) {
      linli::LogError("--jwt_keys_file refused by --jwt_public_keys_only",
                      {{"path", absl::GetFlag(FLAGS_jwt_keys_file)},
                       {"error", std::string(only_public.message())}});
      return 1;
    }
  }
  std::unique_ptr<linli::auth::ApiKeyStore> api_keys;
  if (!absl::GetFlag(FLAGS_api_keys_file).empty()) {
    std::string pepper =
        ReadFileOrExit(absl::GetFlag(FLAGS_api_key_pepper_file), "--api_key_pepper_file");
    while (!pepper.empty() && (pepper.back() == '\n' || pepper.back() == '\r')) pepper.pop_back();
    if (pepper.size() < 16) {
      linli::LogError("--api_key_pepper_file must hold at least 16 bytes");
      return 1;
    }
    api_keys = std::make_unique<linli::auth::ApiKeyStore>(absl::GetFlag(FLAGS_api_keys_file),
                                                          std::move(pepper));
  }
  if (absl::GetFlag(FLAGS_oidc_issuer).empty() && !absl::GetFlag(FLAGS_oidc_client_id).empty()) {
    linli::LogError(
        "--oidc_client_id needs --oidc_issuer (the provider the client is registered at)");
    return 1;
  }
  // The console's tokens come from the identity provider: the gateway must accept its issuer.
  if (const std::string oidc = absl::GetFlag(FLAGS_oidc_issuer); !oidc.empty()) {
    if (absl::GetFlag(FLAGS_jwt_issuer) != oidc) {
      linli::LogError(
          "--jwt_issuer must equal --oidc_issuer (the console calls with the identity "
          "provider's access tokens)",
          {{"jwt_issuer", absl::GetFlag(FLAGS_jwt_issuer)}, {"oidc_issuer", oidc}});
      return 1;
    }
    if (absl::GetFlag(FLAGS_web_root).empty()) {
      linli::LogError("--oidc_issuer needs --web_root (it is the console's sign-in)");
      return 1;
    }
  }
  linli::gateway::GateOptions gate_options;
  gate_options.issuer = absl::GetFlag(FLAGS_jwt_issuer);
  gate_options.audience = absl::GetFlag(FLAGS_jwt_audience);
  gate_options.rate_per_second = absl::GetFlag(FLAGS_rate_limit_per_second);
  gate_options.burst = absl::GetFlag(FLAGS_rate_limit_burst);
  gate_options.unauthenticated_rate_per_second =
      absl::GetFlag(FLAGS_unauthenticated_rate_per_second);
  gate_options.unauthenticated_burst = absl::GetFlag(FLAGS_unauthenticated_burst);
  gate_options.max_costly_calls_per_principal = absl::GetFlag(FLAGS_max_costly_calls_per_principal);
  gate_options.token_lifetimes.staff = absl::GetFlag(FLAGS_max_staff_token_lifetime);
  gate_options.token_lifetimes.app = absl::GetFlag(FLAGS_max_app_token_lifetime);
  linli::gateway::Gate gate(
      std::move(*keys), std::move(api_keys), gate_options,
      std::make_shared<linli::gateway::Relations>(registry, scheduling, backend_timeout, clock),
      clock);

  const linli::gateway::Backends backends{.gate = &gate,
                                          .registry = registry,
                                          .scheduling = scheduling,
                                          .feedback = feedback,
                                          .backend_timeout = backend_timeout,
                                          .clock = &clock};
  linli::gateway::ConsoleServiceImpl console(backends);
  linli::gateway::ElderAppServiceImpl elder_app(backends);
  linli::gateway::PartnerServiceImpl partner(backends);
  linli::gateway::WorkerAppServiceImpl worker_app(backends);

  const std::vector<std::string> public_services = {
      linli::gateway::v1::ConsoleService::service_full_name(),
      linli::gateway::v1::ElderAppService::service_full_name(),
      linli::gateway::v1::PartnerService::service_full_name(),
      linli::gateway::v1::WorkerAppService::service_full_name()};
  linli::ServerOptions options =
      linli::ServerOptionsFromFlags("gateway", absl::GetFlag(FLAGS_listen), public_services);
  options.max_receive_message_bytes = absl::GetFlag(FLAGS_max_request_bytes);
  auto server = linli::gateway::GatewayServer::Start(
      options, {&console, &elder_app, &partner, &worker_app}, absl::GetFlag(FLAGS_event_loops));
  if (!server.ok()) {
    linli::LogError("cannot start server", {{"error", server.status().ToString()}});
    return 1;
  }
  // The JSON bridge calls the gRPC services through an in-process channel: the same interceptors,
  // authentication and authorisation as a network client, without a loopback socket (and
  // without needing the public listener's TLS certificate to name a loopback address).
  linli::gateway::HttpJsonOptions http_options;
  http_options.cors_allowed_origins = linli::gateway::connect::CorsPolicy::ParseList(
      absl::GetFlag(FLAGS_http_cors_allowed_origins));
  http_options.web_root = absl::GetFlag(FLAGS_web_root);
  http_options.sign_in = {.oidc_issuer = absl::GetFlag(FLAGS_oidc_issuer),
                          .oidc_client_id = absl::GetFlag(FLAGS_oidc_client_id),
                          .oidc_scope = absl::GetFlag(FLAGS_oidc_scope)};
  auto http = linli::gateway::HttpJsonServer::Start(
      absl::GetFlag(FLAGS_http_listen), public_services, **server, absl::Seconds(30),
      static_cast<size_t>(absl::GetFlag(FLAGS_max_request_bytes)),
      {absl::GetFlag(FLAGS_http_tls_cert_file), absl::GetFlag(FLAGS_http_tls_key_file)},
      absl::GetFlag(FLAGS_http_listen_backlog), std::move(http_options));
  if (!http.ok()) {
    linli::LogError("cannot start http server", {{"error", http.status().ToString()}});
    return 1;
  }
  linli::WaitForTerminationSignal();
  (*http)->Stop();  // drains JSON calls first: they need the gRPC server below
  (*server)->Shutdown();
  return 0;
}
