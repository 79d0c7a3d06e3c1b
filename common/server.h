// The gRPC server runtime every Linli service uses.
//
// What a server gets: gRPC health v1 with a status per service; server reflection (grpcurl,
// Postman); keepalive and MAX_CONNECTION_AGE so clients rebalance across replicas; a maximum
// message size; a request id on every call (taken from the caller's "x-request-id" metadata or
// generated, echoed in trailing metadata) and a JSON log line per call with method, status code,
// latency and request id (the id is also set for the handler's thread, so every log line written
// while serving the call carries it); RPC metrics (count and latency histogram by method and
// code, calls in flight) and, with ServerOptions::metrics_listen, an HTTP endpoint serving
// GET /metrics (Prometheus text, common/metrics.h: RPC, database pool and process series plus any
// series the service registers) and GET /healthz; and a graceful stop: health NOT_SERVING ->
// drain delay -> Shutdown(deadline) -> metrics endpoint closed.
//
//   int main(int argc, char** argv) {
//     linli::BlockTerminationSignals();            // first, before any thread exists
//     linli::ParseFlags(argc, argv, "...");
//     MyService service(...);
//     ASSIGN_OR_EXIT(auto server, linli::GrpcServer::Start(options, {&service}));
//     linli::WaitForTerminationSignal();
//     server->Shutdown();
//     return 0;
//   }
#ifndef LINLI_COMMON_SERVER_H_
#define LINLI_COMMON_SERVER_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/audit.h"
#include "common/clock.h"
#include "common/grpc_status.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "grpcpp/server_context.h"

namespace linli {

// Metadata key of the request id, propagated from call to call across services.
inline constexpr char kRequestIdKey[] = "x-request-id";

struct ServerOptions {
  // Short name for logs, e.g. "registry".
  std::string service_name;
  // host:port to listen on; port 0 picks a free port (see GrpcServer::port()).
  std::string listen_address;
  // Fully-qualified gRPC service names reported by the health service,
  // e.g. "linli.registry.v1.RegistryService".
  std::vector<std::string> health_service_names;
  // How long in-flight calls may run after shutdown starts before they are cancelled.
  absl::Duration shutdown_deadline = absl::Seconds(10);
  // Time between reporting NOT_SERVING and refusing new calls, so load balancers notice.
  absl::Duration drain_delay = absl::ZeroDuration();
  // Connections are closed (gracefully) after this age so clients rebalance.
  absl::Duration max_connection_age = absl::Minutes(5);
  // Largest request accepted.
  int max_receive_message_bytes = 4 * 1024 * 1024;
  // host:port of the HTTP endpoint for GET /metrics and GET /healthz; empty: none; port 0 picks a
  // free port (see GrpcServer::metrics_port()).
  std::string metrics_listen;
  // PEM files of the certificate chain and its private key: with both, the listener serves TLS
  // only (a plaintext client cannot connect); with neither, plaintext. One without the other, an
  // unreadable file or a key that does not match the certificate fails Start. The files are read
  // once at start (restart to rotate).
  std::string tls_cert_file;
  std::string tls_key_file;
  // Listener credentials used instead of the TLS files when set: a backend's mutual TLS with its
  // principal check (common/auth/internal_identity.h, auth::ServeInternally).
  std::shared_ptr<grpc::ServerCredentials> credentials;
  // Called once, on the builder just before the server is built, for services served otherwise
  // than by the grpc::Service objects passed to Start (the gateway's event loops register their
  // asynchronous services, a health service and their completion queues here).
  std::function<void(grpc::ServerBuilder&)> configure_builder;
  // Methods whose calls keep their own CallRecord (served outside gRPC's interceptors, as the
  // gateway's event loops do): the server's interceptor leaves them alone. Null: none.
  std::function<bool(absl::string_view method)> records_itself;
};

class MethodSeries;  // the RPC series of one method (server.cc)

// What every served call leaves behind: a request id (the caller's x-request-id, or a new one),
// the linli_rpc_server_* series (handled, latency, in flight) and one access-log line when it
// ends (none for a successful health or reflection call). The server's interceptor keeps one
// per call; code that serves calls itself (ServerOptions::records_itself) keeps its own.
class CallRecord {
 public:
  // A call of `method` ("/pkg.Service/Method") has started; `caller_request_id` is the id the
  // caller sent ("" when none).
  CallRecord(absl::string_view method, absl::string_view caller_request_id);
  // A call torn down without End (cancelled, server stopping) still leaves the in-flight gauge.
  ~CallRecord();
  CallRecord(const CallRecord&) = delete;
  CallRecord& operator=(const CallRecord&) = delete;

  const std::string& request_id() const { return request_id_; }
  // The status is being sent: records it (once).
  void End(const grpc::Status& status);

 private:
  std::string method_;
  MethodSeries& series_;
  Stopwatch started_;
  std::string request_id_;
  bool in_flight_ = true;
};

// True for the methods every GrpcServer serves itself (health, reflection).
bool IsPlatformMethod(absl::string_view method);

class GrpcServer {
 public:
  // Builds and starts a server for `services` (which must outlive it).
  static absl::StatusOr<std::unique_ptr<GrpcServer>> Start(
      const ServerOptions& options, const std::vector<grpc::Service*>& services);
  ~GrpcServer();

  // The bound port (useful with port 0).
  int port() const { return port_; }

  // The bound port of the metrics endpoint, 0 when there is none.
  int metrics_port() const;

  // True when the listener serves TLS.
  bool tls() const { return !options_.tls_cert_file.empty(); }

  // A channel to this server inside this process (no socket, no TLS; the same interceptors,
  // services and checks as a network call). The gateway's JSON bridge calls through it.
  std::shared_ptr<grpc::Channel> InProcessChannel() const;

  // Reports NOT_SERVING for every service, waits the drain delay, then stops accepting calls and
  // gives in-flight calls until the shutdown deadline. Idempotent.
  void Shutdown();

 private:
  class MetricsEndpoint;
  GrpcServer(ServerOptions options, std::unique_ptr<grpc::Server> server, int port);

  ServerOptions options_;
  std::unique_ptr<grpc::Server> server_;
  int port_;
  std::unique_ptr<MetricsEndpoint> metrics_;
  bool stopped_ = false;
};

// Blocks SIGTERM and SIGINT in the calling thread. Call it first in main, before any thread is
// created, so every thread inherits the mask and WaitForTerminationSignal receives the signal.
void BlockTerminationSignals();

// Waits for SIGTERM or SIGINT and returns the signal number.
int WaitForTerminationSignal();

// Metadata key naming the principal a call acts for. The gateway sets it from the
// authenticated caller. On a channel to a backend a signed principal token travels with it
// (common/auth/internal_identity.h), and a backend serving with its platform identity refuses
// a call whose x-linli-actor is not the subject of a valid token from the connection's peer.
inline constexpr char kActorKey[] = "x-linli-actor";

// The actor of an incoming call (x-linli-actor), "unknown" when none was given.
std::string Actor(const grpc::ServerContext& context);

// The request id of an incoming call (never empty inside a Linli server).
std::string RequestId(const grpc::ServerContext& context);

// Both, as use cases take them (common/audit.h).
Caller CallerOf(const grpc::ServerContext& context);

// The wire status for a handler's result: ToGrpcStatus with the call's request id. INTERNAL,
// UNKNOWN and DATA_LOSS are logged in full here because the client only sees a generic message.
grpc::Status Reply(const grpc::ServerContext& context, const absl::Status& status);

}  // namespace linli

#endif  // LINLI_COMMON_SERVER_H_
