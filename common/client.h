// Client side of service-to-service calls.
//
// Channels retry only UNAVAILABLE, and only for the services named as retry-safe (methods that
// are reads or carry a request_id). Every call has a deadline; inside a server handler the
// deadline and cancellation of the incoming call propagate to the outgoing one, and so does the
// request id.
//
//   auto channel = NewChannel(registry_address, {"linli.registry.v1.RegistryService"});
//   auto stub = registry::v1::RegistryService::NewStub(channel);
//   // in a handler:
//   auto ctx = NewClientContext(server_context, absl::Seconds(5));
//   grpc::Status s = stub->GetRegion(ctx.get(), request, &response);
#ifndef LINLI_COMMON_CLIENT_H_
#define LINLI_COMMON_CLIENT_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/client_interceptor.h"

namespace linli {

// An insecure channel (inside the cluster / loopback) with keepalive, round_robin balancing over
// every address the name resolves to (headless Services), and a retry policy on UNAVAILABLE for
// the methods of `retry_safe_services`.
std::shared_ptr<grpc::Channel> NewChannel(const std::string& target,
                                          const std::vector<std::string>& retry_safe_services);

// How a channel authenticates, for NewChannel's second form.
struct ChannelSecurity {
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  // The name the server's certificate must carry, whatever address `target` resolves to.
  std::string server_name;
  // Run on every call, in order.
  std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> interceptors;
};

// NewChannel with `security` instead of plaintext.
std::shared_ptr<grpc::Channel> NewChannel(const std::string& target,
                                          const std::vector<std::string>& retry_safe_services,
                                          ChannelSecurity security);

// A context for an outgoing call. With `incoming` (the handler's ServerContext, may be null) the
// call inherits its deadline, cancellation and request id; the deadline is the earlier of the
// incoming one and now + `timeout`.
std::unique_ptr<grpc::ClientContext> NewClientContext(const grpc::ServerContext* incoming,
                                                      absl::Duration timeout);

// The JSON service config NewChannel installs (exposed for tests and docs).
std::string RetryServiceConfig(const std::vector<std::string>& retry_safe_services);

}  // namespace linli

#endif  // LINLI_COMMON_CLIENT_H_
