// linli-gateway: the public API (gRPC and Connect-style JSON over HTTP) in front of registry,
// scheduling and feedback.
#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "common/client.h"
#include "common/flags.h"
#include "common/log.h"
#include "common/server.h"
#include "common/service_main.h"
#include "linli/registry/v1/registry.grpc.pb.h"
#include "linli/scheduling/v1/scheduling.grpc.pb.h"
#include "services/gateway/console_service.h"
#include "services/gateway/http_json.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50050", "gRPC listen address (host:port).");
ABSL_FLAG(std::string, http_listen, "127.0.0.1:8080",
          "HTTP listen address for Connect-style JSON (host:port).");
ABSL_FLAG(std::string, registry_address, "127.0.0.1:50051", "Address of linli-registry.");
ABSL_FLAG(std::string, scheduling_address, "127.0.0.1:50052", "Address of linli-scheduling.");
ABSL_FLAG(std::string, feedback_address, "127.0.0.1:50053", "Address of linli-feedback.");
ABSL_FLAG(absl::Duration, backend_timeout, absl::Seconds(5),
          "Deadline of a backend call when the caller's own deadline is later or unset.");

// Where the JSON bridge reaches this process's own gRPC port: the listen host, or loopback when
// listening on every interface.
std::string SelfAddress(const std::string& listen, int port) {
  std::string host = listen.substr(0, listen.rfind(':'));
  if (host.empty() || host == "0.0.0.0" || host == "[::]" || host == "::") host = "127.0.0.1";
  return absl::StrCat(host, ":", port);
}

int main(int argc, char** argv) {
  linli::BlockTerminationSignals();
  linli::SetLogService("gateway");
  linli::ParseFlags(argc, argv,
                    "linli-gateway: the public API. Flags: --listen --http_listen "
                    "--registry_address --scheduling_address --feedback_address");
  auto registry_channel =
      linli::NewChannel(absl::GetFlag(FLAGS_registry_address),
                        {linli::registry::v1::RegistryService::service_full_name()});
  auto scheduling_channel =
      linli::NewChannel(absl::GetFlag(FLAGS_scheduling_address),
                        {linli::scheduling::v1::SchedulingService::service_full_name()});
  linli::gateway::ConsoleServiceImpl console(
      linli::registry::v1::RegistryService::NewStub(registry_channel),
      linli::scheduling::v1::SchedulingService::NewStub(scheduling_channel),
      absl::GetFlag(FLAGS_backend_timeout));

  const std::vector<std::string> public_services = {
      linli::gateway::v1::ConsoleService::service_full_name()};
  auto server = linli::GrpcServer::Start(
      linli::ServerOptionsFromFlags("gateway", absl::GetFlag(FLAGS_listen), public_services),
      {&console});
  if (!server.ok()) {
    linli::LogError("cannot start server", {{"error", server.status().ToString()}});
    return 1;
  }
  auto http = linli::gateway::HttpJsonServer::Start(
      absl::GetFlag(FLAGS_http_listen), public_services,
      linli::NewChannel(SelfAddress(absl::GetFlag(FLAGS_listen), (*server)->port()), {}),
      absl::Seconds(30));
  if (!http.ok()) {
    linli::LogError("cannot start http server", {{"error", http.status().ToString()}});
    return 1;
  }
  linli::WaitForTerminationSignal();
  (*http)->Stop();  // drains JSON calls first: they need the gRPC server below
  (*server)->Shutdown();
  return 0;
}
