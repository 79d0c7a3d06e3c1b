#include "common/server.h"
#include "absl/strings/string_view.h"

#include <signal.h>

#include <string_view>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/errors.h"
#include "common/ids.h"
#include "common/log.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "grpcpp/support/server_interceptor.h"

namespace linli {
namespace {

constexpr size_t kMaxRequestIdLength = 128;

absl::string_view StatusCodeName(grpc::StatusCode code) {
  static constexpr absl::string_view kNames[] = {"OK",
                                                 "CANCELLED",
                                                 "UNKNOWN",
                                                 "INVALID_ARGUMENT",
                                                 "DEADLINE_EXCEEDED",
                                                 "NOT_FOUND",
                                                 "ALREADY_EXISTS",
                                                 "PERMISSION_DENIED",
                                                 "RESOURCE_EXHAUSTED",
                                                 "FAILED_PRECONDITION",
                                                 "ABORTED",
                                                 "OUT_OF_RANGE",
                                                 "UNIMPLEMENTED",
                                                 "INTERNAL",
                                                 "UNAVAILABLE",
                                                 "DATA_LOSS",
                                                 "UNAUTHENTICATED"};
  int i = static_cast<int>(code);
  return i >= 0 && i < 17 ? kNames[i] : "UNKNOWN";
}

// Gives every call a request id and writes one log line when it ends.
class CallInterceptor : public grpc::experimental::Interceptor {
 public:
  explicit CallInterceptor(grpc::experimental::ServerRpcInfo* info)
      : method_(info->method()), start_(absl::Now()) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      auto* metadata = methods->GetRecvInitialMetadata();
      auto it = metadata->find(kRequestIdKey);
      if (it != metadata->end() && !it->second.empty()) {
        request_id_.assign(it->second.data(), std::min(it->second.size(), kMaxRequestIdLength));
      } else {
        // Handlers read the id from the metadata map; the string lives as long as the call.
        request_id_ = NewId(Clock::Real());
        metadata->emplace(grpc::string_ref(kRequestIdKey), grpc::string_ref(request_id_));
      }
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      grpc::Status status = methods->GetSendStatus();
      methods->GetSendTrailingMetadata()->emplace(kRequestIdKey, request_id_);
      bool quiet = absl::StartsWith(method_, "/grpc.health.") ||
                   absl::StartsWith(method_, "/grpc.reflection.");
      if (!quiet || !status.ok()) {
        LogInfo("rpc",
                {{"method", method_},
                 {"code", std::string(StatusCodeName(status.error_code()))},
                 {"latency_ms", absl::StrCat(absl::ToDoubleMilliseconds(absl::Now() - start_))},
                 {"request_id", request_id_}});
      }
    }
    methods->Proceed();
  }

 private:
  std::string method_;
  absl::Time start_;
  std::string request_id_;
};

class CallInterceptorFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new CallInterceptor(info);
  }
};

}  // namespace

absl::StatusOr<std::unique_ptr<GrpcServer>> GrpcServer::Start(
    const ServerOptions& options, const std::vector<grpc::Service*>& services) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(options.listen_address, grpc::InsecureServerCredentials(), &port);
  for (grpc::Service* service : services) builder.RegisterService(service);
  builder.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
  // gRPC enables SO_REUSEPORT by default, which lets a second process bind the same port
  // silently and steal half the connections; a taken port must fail start-up instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  // Keepalive: ping idle connections so dead peers are noticed; allow clients' pings.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 60 * 1000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20 * 1000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10 * 1000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(
      GRPC_ARG_MAX_CONNECTION_AGE_MS,
      static_cast<int>(absl::ToInt64Milliseconds(options.max_connection_age)));
  builder.AddChannelArgument(
      GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
      static_cast<int>(absl::ToInt64Milliseconds(options.shutdown_deadline)));
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> factories;
  factories.push_back(std::make_unique<CallInterceptorFactory>());
  builder.experimental().SetInterceptorCreators(std::move(factories));

  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.listen_address, " (address in use?)"));
  }
  grpc::HealthCheckServiceInterface* health = server->GetHealthCheckService();
  health->SetServingStatus(true);
  for (const std::string& name : options.health_service_names) {
    health->SetServingStatus(name, true);
  }
  LogInfo("listening", {{"address", options.listen_address}, {"port", absl::StrCat(port)}});
  return std::unique_ptr<GrpcServer>(new GrpcServer(options, std::move(server), port));
}

GrpcServer::GrpcServer(ServerOptions options, std::unique_ptr<grpc::Server> server, int port)
    : options_(std::move(options)), server_(std::move(server)), port_(port) {}

GrpcServer::~GrpcServer() { Shutdown(); }

void GrpcServer::Shutdown() {
  if (stopped_) return;
  stopped_ = true;
  LogInfo("shutting down",
          {{"deadline_ms", absl::StrCat(absl::ToInt64Milliseconds(options_.shutdown_deadline))}});
  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  health->SetServingStatus(false);
  for (const std::string& name : options_.health_service_names) {
    health->SetServingStatus(name, false);
  }
  if (options_.drain_delay > absl::ZeroDuration()) absl::SleepFor(options_.drain_delay);
  server_->Shutdown(absl::ToChronoTime(absl::Now() + options_.shutdown_deadline));
  server_->Wait();
  LogInfo("stopped");
}

void BlockTerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int WaitForTerminationSignal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  int signal = 0;
  while (sigwait(&set, &signal) != 0) {
  }
  LogInfo("signal received", {{"signal", signal == SIGTERM ? "SIGTERM" : "SIGINT"}});
  return signal;
}

std::string Actor(const grpc::ServerContext& context) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find(kActorKey);
  if (it == metadata.end() || it->second.empty()) return "unknown";
  return std::string(it->second.data(), std::min<size_t>(it->second.size(), 128));
}

std::string RequestId(const grpc::ServerContext& context) {
  // The interceptor adds a generated id when the caller sent none or an empty one; skip empties.
  auto [begin, end] = context.client_metadata().equal_range(kRequestIdKey);
  for (auto it = begin; it != end; ++it) {
    if (!it->second.empty()) {
      return std::string(it->second.data(), std::min(it->second.size(), kMaxRequestIdLength));
    }
  }
  return "";
}

grpc::Status Reply(const grpc::ServerContext& context, const absl::Status& status) {
  std::string request_id = RequestId(context);
  if (absl::IsInternal(status) || absl::IsUnknown(status) || absl::IsDataLoss(status)) {
    LogError("internal error", {{"error", status.ToString()}, {"request_id", request_id}});
  }
  return ToGrpcStatus(status, request_id);
}

}  // namespace linli
