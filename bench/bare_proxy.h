// The cheapest gRPC hop this machine can make, as the reference for the gateway's overhead:
// every unary call received on `listen` is forwarded as raw bytes to the backend of its service
// (no parsing, no authentication, no logging, no metrics) by one thread running one completion
// queue for both sides, so no call changes threads. Not a product component: gateway_bench runs
// it as a child process (`gateway_bench --bare_proxy_listen=… --bare_proxy_backends=…`) to show
// how much of the gateway's hop is the hop itself, for a pass-through call (one backend) and for
// the calls the elder page makes (three backends).
#ifndef LINLI_BENCH_BARE_PROXY_H_
#define LINLI_BENCH_BARE_PROXY_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/auth/internal_identity.h"

namespace linli::bench {

// Where the calls of one gRPC service go.
struct BareProxyBackend {
  std::string service;  // full service name, "linli.registry.v1.RegistryService"
  std::string address;  // "127.0.0.1:50051"
  std::string peer;     // the name its certificate carries, "linli-registry"
};

// "<service>=<address>" (the form of --bare_proxy_backends) -> a backend whose peer is the
// platform identity serving it: "linli.<name>.v1.…" is served by "linli-<name>".
// INVALID_ARGUMENT when malformed.
absl::StatusOr<BareProxyBackend> ParseBareProxyBackend(const std::string& spec);

// Serves until the process is killed; returns 1 when `listen` cannot be bound or `backends` is
// empty. A call of a service without a backend of its own (health checks) goes to the first
// backend. The channel to each backend is the platform's (common/client.h), as the gateway's
// are: with the backend's service named, its calls retry UNAVAILABLE as the gateway's do; with
// `identity` (may be null for plaintext) the proxy reaches the backends over mutual TLS with a
// principal token per call.
int RunBareProxy(const std::string& listen, const std::vector<BareProxyBackend>& backends,
                 std::shared_ptr<const auth::InternalIdentity> identity);

}  // namespace linli::bench

#endif  // LINLI_BENCH_BARE_PROXY_H_
