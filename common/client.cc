#include "common/client.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/clock.h"
#include "common/server.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"

namespace linli {

std::string RetryServiceConfig(const std::vector<std::string>& retry_safe_services) {
  std::vector<std::string> names;
  for (const std::string& service : retry_safe_services) {
    names.push_back(absl::StrCat(R"({"service":")", service, R"("})"));
  }
  std::string method_config;
  if (!names.empty()) {
    method_config = absl::StrCat(R"(,"methodConfig":[{"name":[)", absl::StrJoin(names, ","),
                                 R"(],"retryPolicy":{"maxAttempts":4,"initialBackoff":"0.1s",)",
                                 R"("maxBackoff":"1s","backoffMultiplier":2,)",
                                 R"("retryableStatusCodes":["UNAVAILABLE"]}}])");
  }
  return absl::StrCat(R"({"loadBalancingConfig":[{"round_robin":{}}])", method_config, "}");
}

std::shared_ptr<grpc::Channel> NewChannel(const std::string& target,
                                          const std::vector<std::string>& retry_safe_services) {
  ChannelSecurity plaintext;
  plaintext.credentials = grpc::InsecureChannelCredentials();
  return NewChannel(target, retry_safe_services, std::move(plaintext));
}

std::shared_ptr<grpc::Channel> NewChannel(const std::string& target,
                                          const std::vector<std::string>& retry_safe_services,
                                          ChannelSecurity security) {
  grpc::ChannelArguments args;
  if (!security.server_name.empty()) args.SetSslTargetNameOverride(security.server_name);
  args.SetServiceConfigJSON(RetryServiceConfig(retry_safe_services));
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, 1);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 60 * 1000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20 * 1000);
  // Reconnect quickly after a backend restarts.
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  std::string resolvable = target;
  if (target.find("://") == std::string::npos && target.rfind("dns:", 0) != 0 &&
      target.rfind("unix:", 0) != 0 && target.rfind("ipv4:", 0) != 0) {
    resolvable = absl::StrCat("dns:///", target);
  }
  if (security.interceptors.empty()) {
    return grpc::CreateCustomChannel(resolvable, security.credentials, args);
  }
  return grpc::experimental::CreateCustomChannelWithInterceptors(
      resolvable, security.credentials, args, std::move(security.interceptors));
}

std::unique_ptr<grpc::ClientContext> NewClientContext(const grpc::ServerContext* incoming,
                                                      absl::Duration timeout) {
  std::unique_ptr<grpc::ClientContext> context;
  if (incoming != nullptr) {
    // Propagates the deadline and cancellation of the incoming call.
    context = grpc::ClientContext::FromServerContext(*incoming);
    std::string request_id = RequestId(*incoming);
    if (!request_id.empty()) context->AddMetadata(kRequestIdKey, request_id);
  } else {
    context = std::make_unique<grpc::ClientContext>();
  }
  std::chrono::system_clock::time_point deadline = DeadlineAfter(timeout);
  if (incoming != nullptr && incoming->deadline() < deadline) deadline = incoming->deadline();
  context->set_deadline(deadline);
  return context;
}

}  // namespace linli
