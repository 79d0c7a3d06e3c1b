// The gateway's gRPC server: the four public services (linli.gateway.v1) served from event loops
// (event_loop.h) on the common server runtime (common/server.h: health, interceptors, metrics,
// TLS, graceful stop). main.cc, the tests and the benchmark start the gateway through this one
// function, so they serve it the same way.
#ifndef LINLI_SERVICES_GATEWAY_GATEWAY_SERVER_H_
#define LINLI_SERVICES_GATEWAY_GATEWAY_SERVER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/server.h"
#include "services/gateway/console_service.h"
#include "services/gateway/elder_app_service.h"
#include "services/gateway/event_loop.h"
#include "services/gateway/partner_service.h"
#include "services/gateway/worker_app_service.h"

namespace linli::gateway {

// The fully qualified names of the public services.
const std::vector<std::string>& PublicServiceNames();

class GatewayServer {
 public:
  struct Services {
    ConsoleServiceImpl* console;
    ElderAppServiceImpl* elder_app;
    PartnerServiceImpl* partner;
    WorkerAppServiceImpl* worker_app;
  };
  // Starts serving `services` (which must outlive the server) on `event_loops` threads. Fails
  // when a method of a public service has no handler in the method table.
  static absl::StatusOr<std::unique_ptr<GatewayServer>> Start(ServerOptions options,
                                                              const Services& services,
                                                              int event_loops);
  ~GatewayServer();

  int port() const { return server_->port(); }
  bool tls() const { return server_->tls(); }
  std::shared_ptr<grpc::Channel> InProcessChannel() const { return server_->InProcessChannel(); }
  // GrpcServer::Shutdown, then the loops end once their calls have. Idempotent.
  void Shutdown();

 private:
  GatewayServer() = default;
  std::unique_ptr<EventLoops> loops_;  // destroyed after server_
  std::unique_ptr<GrpcServer> server_;
};

}  // namespace linli::gateway

#endif  // LINLI_SERVICES_GATEWAY_GATEWAY_SERVER_H_
