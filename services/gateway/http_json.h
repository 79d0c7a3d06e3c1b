// Connect-style unary JSON over HTTP/1.1 for mini-programs, web pages and curl.
//
//   POST /linli.gateway.v1.ConsoleService/GetRegion
//   Content-Type: application/json
//   {"name": "regions/310101"}
//
// Every method of every service in `services` is served. A request is decoded with the protobuf
// JSON mapping and forwarded as a gRPC call to the gateway's own gRPC server over its in-process
// channel (no socket, no TLS in between; the bridge's thread waits without polling while the
// event loops serve the call, see event_loop.h), so JSON clients go
// through exactly the same interceptors, authentication and authorisation as gRPC clients (one
// mechanism, no second code path). Errors use the Connect error body
//   {"code": "invalid_argument", "message": "...", "details": [{"type": "google.rpc.BadRequest",
//    "value": "<base64>", "debug": {...}}]}
// with Connect's HTTP status mapping (400, 404, 409, 429, 503, …). "Connect-Timeout-Ms" sets the
// deadline; "Authorization", "X-Api-Key" and "X-Request-Id" are forwarded as gRPC metadata, and
// the HTTP client's address as kClientAddressKey with the bridge's secret (gate.h), which the gate
// believes only on this in-process path: JSON clients are limited per address like gRPC clients. A
// body over the size limit is 413 with a Connect resource_exhausted error. A client that closes its
// connection while its call runs cancels the call (and the backend calls it made).
//
// The listen backlog: Debian's cpp-httplib is a compiled library whose listen() uses a backlog of
// 5 (CPPHTTPLIB_LISTEN_BACKLOG is read when the library is built, so defining it here would change
// nothing); Start calls listen() again on the bound socket with `listen_backlog` (Linux caps it at
// net.core.somaxconn), so a burst of connects is queued instead of dropped.
#ifndef LINLI_SERVICES_GATEWAY_HTTP_JSON_H_
#define LINLI_SERVICES_GATEWAY_HTTP_JSON_H_

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/gateway/gateway_server.h"

namespace httplib {
class Server;
}

namespace linli::gateway {

// Connect's HTTP status for a gRPC code.
int HttpStatusForCode(int grpc_code);
// Connect's lower_snake name for a gRPC code ("invalid_argument").
std::string ConnectCodeName(int grpc_code);

// Certificate chain and private key (PEM files) for HTTPS; both empty: plain HTTP.
struct HttpTls {
  std::string cert_file;
  std::string key_file;
};

class HttpJsonServer {
 public:
  // Binds `listen_address` (host:port, port 0 picks one) and starts serving the methods of
  // `service_names` (fully qualified, e.g. "linli.gateway.v1.ConsoleService") by calling them
  // on `gateway`'s in-process channel (`gateway` must outlive the bridge, see Stop).
  static absl::StatusOr<std::unique_ptr<HttpJsonServer>> Start(
      const std::string& listen_address, std::vector<std::string> service_names,
      const GatewayServer& gateway, absl::Duration default_timeout,
      size_t max_body_bytes = 4 * 1024 * 1024, const HttpTls& tls = {},
      int listen_backlog = kDefaultListenBacklog);
  // As gRPC's own listener: the kernel's maximum (net.core.somaxconn, 4096 on current Linux).
  static constexpr int kDefaultListenBacklog = 4096;
  ~HttpJsonServer();

  int port() const { return port_; }
  // Stops accepting connections and waits for requests in progress. Idempotent.
  void Stop();

 private:
  HttpJsonServer() = default;

  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace linli::gateway

#endif  // LINLI_SERVICES_GATEWAY_HTTP_JSON_H_
