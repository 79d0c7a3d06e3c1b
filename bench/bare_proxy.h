// The cheapest gRPC hop this machine can make, as the reference for the gateway's overhead:
// every unary call received on `listen` is forwarded as raw bytes to `backend` (no parsing, no
// authentication, no logging, no metrics) by one thread running one completion queue for both
// sides, so no call changes threads. Not a product component: gateway_bench runs it as a child
// process (`gateway_bench --bare_proxy_listen=… --bare_proxy_backend=…`) to show how much of the
// gateway's hop is the hop itself.
#ifndef LINLI_BENCH_BARE_PROXY_H_
#define LINLI_BENCH_BARE_PROXY_H_

#include <memory>
#include <string>

#include "common/auth/internal_identity.h"

namespace linli::bench {

// Serves until the process is killed; returns 1 when `listen` cannot be bound.
// `identity` (may be null for plaintext): the proxy reaches the registry over mutual TLS with a
// principal token per call, as the gateway does.
int RunBareProxy(const std::string& listen, const std::string& backend,
                 std::shared_ptr<const auth::InternalIdentity> identity);

}  // namespace linli::bench

#endif  // LINLI_BENCH_BARE_PROXY_H_
