// The gateway's four public services, its gate and its gRPC port, all in the test's process, on
// backends the test implements (one gRPC server holding the test's fake registry, scheduling
// and feedback). For tests of the gateway's own mechanisms: limits, the HTTP bridge, protocols.
//
//   FakeRegistry registry;  // : registry::v1::RegistryService::Service
//   auto gateway = testing::InProcessGateway::Start({&registry, &scheduling, &feedback},
//                                                   "secret", {}, clock);
//   auto http = HttpJsonServer::Start("127.0.0.1:0", PublicServiceNames(), gateway->server(), ...);
//   // tokens: HS256 with kid "test" and that secret, iss "linli-test"
#ifndef LINLI_TESTS_SUPPORT_IN_PROCESS_GATEWAY_H_
#define LINLI_TESTS_SUPPORT_IN_PROCESS_GATEWAY_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/auth/jwt.h"
#include "common/clock.h"
#include "common/server.h"
#include "grpcpp/create_channel.h"
#include "services/gateway/console_service.h"
#include "services/gateway/elder_app_service.h"
#include "services/gateway/gate.h"
#include "services/gateway/gateway_server.h"
#include "services/gateway/partner_service.h"
#include "services/gateway/worker_app_service.h"

namespace linli::testing {

class InProcessGateway {
 public:
  struct Options {
    // issuer, rate and burst are set for tests (linli-test, 1000/s); the rest is the caller's.
    gateway::GateOptions gate;
    // The gateway's gRPC listen address ("[::]:0" for IPv4 and IPv6 clients).
    std::string listen = "127.0.0.1:0";
    absl::Duration backend_timeout = absl::Seconds(10);
  };

  static absl::StatusOr<std::unique_ptr<InProcessGateway>> Start(
      const std::vector<grpc::Service*>& backends, const std::string& jwt_secret, Options options,
      const Clock& clock) {
    std::unique_ptr<InProcessGateway> made(new InProcessGateway());
    ServerOptions backend_options;
    backend_options.service_name = "fake-backends";
    backend_options.listen_address = "127.0.0.1:0";
    backend_options.shutdown_deadline = absl::Seconds(1);
    auto started = GrpcServer::Start(backend_options, backends);
    if (!started.ok()) return started.status();
    made->backends_ = std::move(*started);
    auto channel = grpc::CreateChannel(absl::StrCat("ipv4:127.0.0.1:", made->backends_->port()),
                                       grpc::InsecureChannelCredentials());
    std::shared_ptr<registry::v1::RegistryService::StubInterface> registry =
        registry::v1::RegistryService::NewStub(channel);
    std::shared_ptr<scheduling::v1::SchedulingService::StubInterface> scheduling =
        scheduling::v1::SchedulingService::NewStub(channel);
    std::shared_ptr<feedback::v1::FeedbackService::StubInterface> feedback =
        feedback::v1::FeedbackService::NewStub(channel);
    auth::JwtKeySet keys;
    keys.Add(*auth::JwtKey::Hmac("test", jwt_secret));
    options.gate.issuer = "linli-test";
    options.gate.rate_per_second = 1000;
    options.gate.burst = 1000;
    const absl::Duration timeout = options.backend_timeout;
    made->gate_ = std::make_unique<gateway::Gate>(
        std::move(keys), nullptr, options.gate,
        std::make_shared<gateway::Relations>(registry, scheduling, timeout, clock), clock);
    gateway::Gate* gate = made->gate_.get();
    const gateway::Backends services{.gate = gate,
                                     .registry = registry,
                                     .scheduling = scheduling,
                                     .feedback = feedback,
                                     .backend_timeout = timeout,
                                     .clock = &clock};
    made->console_ = std::make_unique<gateway::ConsoleServiceImpl>(services);
    made->elder_app_ = std::make_unique<gateway::ElderAppServiceImpl>(services);
    made->partner_ = std::make_unique<gateway::PartnerServiceImpl>(services);
    made->worker_app_ = std::make_unique<gateway::WorkerAppServiceImpl>(services);
    ServerOptions gateway_options;
    gateway_options.service_name = "gateway";
    gateway_options.listen_address = options.listen;
    gateway_options.shutdown_deadline = absl::Seconds(1);
    auto gateway = gateway::GatewayServer::Start(gateway_options,
                                                 {made->console_.get(), made->elder_app_.get(),
                                                  made->partner_.get(), made->worker_app_.get()},
                                                 1);
    if (!gateway.ok()) return gateway.status();
    made->server_ = std::move(*gateway);
    return made;
  }

  ~InProcessGateway() {
    server_->Shutdown();
    backends_->Shutdown();
  }

  gateway::GatewayServer& server() { return *server_; }

 private:
  InProcessGateway() = default;

  std::unique_ptr<GrpcServer> backends_;
  std::unique_ptr<gateway::Gate> gate_;
  std::unique_ptr<gateway::ConsoleServiceImpl> console_;
  std::unique_ptr<gateway::ElderAppServiceImpl> elder_app_;
  std::unique_ptr<gateway::PartnerServiceImpl> partner_;
  std::unique_ptr<gateway::WorkerAppServiceImpl> worker_app_;
  std::unique_ptr<gateway::GatewayServer> server_;
};

}  // namespace linli::testing

#endif  // LINLI_TESTS_SUPPORT_IN_PROCESS_GATEWAY_H_
