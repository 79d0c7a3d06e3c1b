#include "services/gateway/http_json.h"
#include "services/gateway/event_loop.h"
#include "services/gateway/gate.h"

#include <dirent.h>
#include <httplib.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <memory>
#include <tuple>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/server.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/util/json_util.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/impl/codegen/proto_utils.h"
#include "nlohmann/json.hpp"

namespace linli::gateway {
namespace {

using google::protobuf::Message;
using MessageStub = grpc::TemplatedGenericStub<Message, Message>;

// How often a running JSON call checks that its client is still connected.
constexpr absl::Duration kConnectionCheckInterval = absl::Milliseconds(200);

// JSON of one google.protobuf.Any detail for the Connect "debug" field; {} when the type is not
// linked into this binary.
nlohmann::json DebugJson(const google::protobuf::Any& any) {
  std::string type = any.type_url().substr(any.type_url().rfind('/') + 1);
  const auto* descriptor =
      google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(type);
  if (descriptor == nullptr) return nlohmann::json::object();
  std::unique_ptr<Message> message(
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(descriptor)->New());
  std::string json;
  if (!message->ParseFromString(any.value()) ||
      !google::protobuf::util::MessageToJsonString(*message, &json).ok()) {
    return nlohmann::json::object();
  }
  return nlohmann::json::parse(json, nullptr, false);
}

void WriteError(httplib::Response& res, int grpc_code, const std::string& message,
                const std::string& details_bin = "") {
  nlohmann::json body = {{"code", ConnectCodeName(grpc_code)}, {"message", message}};
  google::rpc::Status rpc_status;
  if (!details_bin.empty() && rpc_status.ParseFromString(details_bin) &&
      rpc_status.details_size() > 0) {
    nlohmann::json details = nlohmann::json::array();
    for (const google::protobuf::Any& any : rpc_status.details()) {
      std::string value;
      absl::Base64Escape(any.value(), &value);
      value.erase(std::find(value.begin(), value.end(), '='), value.end());  // unpadded
      details.push_back({{"type", any.type_url().substr(any.type_url().rfind('/') + 1)},
                         {"value", value},
                         {"debug", DebugJson(any)}});
    }
    body["details"] = details;
  }
  res.status = HttpStatusForCode(grpc_code);
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                  "application/json");
}

bool IsMetadataValue(const std::string& value, size_t max_length) {
  return value.size() <= max_length &&
         std::all_of(value.begin(), value.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}

// The socket of the connection `req` came on: the TLS session's, or the TCP socket whose own and
// peer addresses are the request's (found among the process's descriptors; the connection's
// thread, this one, keeps it open while the request is handled). -1 when none matches.
int ConnectionSocket(const httplib::Request& req) {
  if (req.ssl != nullptr) return SSL_get_fd(req.ssl);
  auto numeric = [](const sockaddr_storage& address, socklen_t length, std::string* host) {
    char text[NI_MAXHOST];
    int port = 0;
    if (address.ss_family == AF_INET) {
      port = ntohs(reinterpret_cast<const sockaddr_in&>(address).sin_port);
    } else if (address.ss_family == AF_INET6) {
      port = ntohs(reinterpret_cast<const sockaddr_in6&>(address).sin6_port);
    } else {
      return -1;
    }
    if (getnameinfo(reinterpret_cast<const sockaddr*>(&address), length, text, sizeof(text),
                    nullptr, 0, NI_NUMERICHOST) != 0) {
      return -1;
    }
    *host = text;
    return port;
  };
  DIR* fds = opendir("/proc/self/fd");
  if (fds == nullptr) return -1;
  int found = -1;
  while (dirent* entry = readdir(fds)) {
    int fd = -1;
    if (!absl::SimpleAtoi(entry->d_name, &fd) || fd == dirfd(fds)) continue;
    sockaddr_storage address{};
    socklen_t length = sizeof(address);
    std::string host;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0 ||
        numeric(address, length, &host) != req.local_port || host != req.local_addr) {
      continue;
    }
    length = sizeof(address);
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0 ||
        numeric(address, length, &host) != req.remote_port || host != req.remote_addr) {
      continue;
    }
    found = fd;
    break;
  }
  closedir(fds);
  return found;
}

// True when the peer of `fd` has closed its side or the connection has failed.
bool PeerGone(int fd) {
  pollfd p{fd, POLLRDHUP, 0};
  return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

bool SplitHostPort(const std::string& address, std::string* host, int* port) {
  size_t colon = address.rfind(':');
  if (colon == std::string::npos) return false;
  *host = address.substr(0, colon);
  if (host->size() >= 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);
  }
  return absl::SimpleAtoi(address.substr(colon + 1), port) && *port >= 0 && *port < 65536;
}

}  // namespace

int HttpStatusForCode(int grpc_code) {
  switch (static_cast<grpc::StatusCode>(grpc_code)) {
    case grpc::StatusCode::OK:
      return 200;
    case grpc::StatusCode::CANCELLED:
      return 499;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::OUT_OF_RANGE:
      return 400;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return 504;
    case grpc::StatusCode::NOT_FOUND:
      return 404;
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::ABORTED:
      return 409;
    case grpc::StatusCode::PERMISSION_DENIED:
      return 403;
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return 429;
    case grpc::StatusCode::UNIMPLEMENTED:
      return 501;
    case grpc::StatusCode::UNAVAILABLE:
      return 503;
    case grpc::StatusCode::UNAUTHENTICATED:
      return 401;
    default:
      return 500;
  }
}

std::string ConnectCodeName(int grpc_code) {
  static const char* const kNames[] = {"ok",
                                       "canceled",
                                       "unknown",
                                       "invalid_argument",
                                       "deadline_exceeded",
                                       "not_found",
                                       "already_exists",
                                       "permission_denied",
                                       "resource_exhausted",
                                       "failed_precondition",
                                       "aborted",
                                       "out_of_range",
                                       "unimplemented",
                                       "internal",
                                       "unavailable",
                                       "data_loss",
                                       "unauthenticated"};
  return grpc_code >= 0 && grpc_code < 17 ? kNames[grpc_code] : "unknown";
}

absl::StatusOr<std::unique_ptr<HttpJsonServer>> HttpJsonServer::Start(
    const std::string& listen_address, std::vector<std::string> service_names,
    const GatewayServer& gateway, absl::Duration default_timeout, size_t max_body_bytes,
    const HttpTls& tls, int listen_backlog) {
  std::string host;
  int port = 0;
  if (!SplitHostPort(listen_address, &host, &port)) {
    return absl::InvalidArgumentError(
        absl::StrCat("http listen address \"", listen_address, "\" is not host:port"));
  }
  std::unique_ptr<HttpJsonServer> self(new HttpJsonServer());
  if (tls.cert_file.empty() != tls.key_file.empty()) {
    return absl::InvalidArgumentError("HTTPS needs both a certificate file and a key file");
  }
  if (!tls.cert_file.empty()) {
    auto https = std::make_unique<httplib::SSLServer>(tls.cert_file.c_str(), tls.key_file.c_str());
    if (!https->is_valid()) {
      return absl::InvalidArgumentError(absl::StrCat("cannot load the TLS certificate ",
                                                     tls.cert_file, " and key ", tls.key_file));
    }
    self->server_ = std::move(https);
  } else {
    self->server_ = std::make_unique<httplib::Server>();
  }
  httplib::Server& server = *self->server_;
  server.set_payload_max_length(max_body_bytes);
  // Small request/response pairs on keep-alive connections: without TCP_NODELAY, Nagle and
  // delayed ACKs add ~40 ms to every call.
  server.set_tcp_nodelay(true);
  // cpp-httplib answers an oversized body with a bare 413; give it a Connect error body.
  server.set_error_handler([max_body_bytes](const httplib::Request&, httplib::Response& res) {
    if (res.status == 413 && res.body.empty()) {
      WriteError(res, static_cast<int>(grpc::StatusCode::RESOURCE_EXHAUSTED),
                 absl::StrCat("request body larger than ", max_body_bytes, " bytes"));
      res.status = 413;
    }
  });
  // cpp-httplib sets SO_REUSEPORT by default, so a second gateway would share the port silently;
  // only SO_REUSEADDR (fast restarts) is wanted.
  // The listening socket is the last one configured here (httplib tries the addresses of the
  // host in turn and keeps the first that binds).
  auto listening = std::make_shared<socket_t>(INVALID_SOCKET);
  server.set_socket_options([listening](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    *listening = sock;
  });
  auto stub = std::make_shared<MessageStub>(gateway.InProcessChannel());

  server.Post(R"(/([A-Za-z0-9_.]+)/([A-Za-z0-9_]+))", [stub, service_names, default_timeout](
                                                          const httplib::Request& req,
                                                          httplib::Response& res) {
    const std::string service_name = req.matches[1];
    const std::string method_name = req.matches[2];
    const google::protobuf::MethodDescriptor* method = nullptr;
    if (std::find(service_names.begin(), service_names.end(), service_name) !=
        service_names.end()) {
      const auto* service =
          google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(service_name);
      if (service != nullptr) method = service->FindMethodByName(method_name);
    }
    if (method == nullptr) {
      WriteError(res, static_cast<int>(grpc::StatusCode::UNIMPLEMENTED),
                 absl::StrCat("no method ", service_name, "/", method_name));
      res.status = 404;
      return;
    }
    std::string content_type = absl::AsciiStrToLower(req.get_header_value("Content-Type"));
    if (!absl::StartsWith(content_type, "application/json")) {
      WriteError(res, static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT),
                 "Content-Type must be application/json");
      res.status = 415;
      return;
    }
    auto* factory = google::protobuf::MessageFactory::generated_factory();
    std::unique_ptr<Message> request(factory->GetPrototype(method->input_type())->New());
    std::unique_ptr<Message> response(factory->GetPrototype(method->output_type())->New());
    google::protobuf::util::JsonParseOptions parse_options;
    parse_options.ignore_unknown_fields = false;
    const std::string body = req.body.empty() ? "{}" : req.body;
    if (auto parsed =
            google::protobuf::util::JsonStringToMessage(body, request.get(), parse_options);
        !parsed.ok()) {
      WriteError(res, static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT),
                 absl::StrCat("request body is not a valid ", method->input_type()->full_name(),
                              " in JSON: ", std::string(parsed.message())));
      return;
    }

    grpc::ClientContext context;
    absl::Duration timeout = default_timeout;
    if (int64_t ms = 0;
        absl::SimpleAtoi(req.get_header_value("Connect-Timeout-Ms"), &ms) && ms > 0) {
      timeout = std::min(timeout, absl::Milliseconds(ms));
    }
    context.set_deadline(DeadlineAfter(timeout));
    // gRPC aborts the process on a metadata value that is not printable ASCII, so headers are
    // checked before they are forwarded.
    for (const auto& [header, key, max_length] :
         {std::tuple<const char*, const char*, size_t>{"Authorization", "authorization", 8192},
          {"X-Api-Key", "x-api-key", 256},
          {"X-Request-Id", kRequestIdKey, 128}}) {
      if (!req.has_header(header)) continue;
      const std::string value = req.get_header_value(header);
      if (!IsMetadataValue(value, max_length)) {
        WriteError(res, static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT),
                   absl::StrCat("header ", header, " must be printable ASCII of at most ",
                                max_length, " characters"));
        return;
      }
      context.AddMetadata(key, value);
    }
    // The gate limits calls without valid credentials per client address; on this in-process
    // path it believes the address the bridge names (the TCP peer, not a header).
    if (IsMetadataValue(req.remote_addr, 64) && !req.remote_addr.empty()) {
      context.AddMetadata(kClientAddressKey, req.remote_addr);
      context.AddMetadata(kBridgeKey, BridgeSecret());
    }
    // Waited for on a queue of this thread's own that does not poll (event_loop.h): the loops
    // serve the call and complete it here.
    grpc::Status status;
    {
      AsyncWait wait(AsyncWait::Transport::kInProcess);
      auto call = stub->PrepareUnaryCall(
          &context, absl::StrCat("/", service_name, "/", method_name), *request, wait.queue());
      call->StartCall();
      call->Finish(response.get(), &status, wait.Tag());
      // A call still running after a while looks at its connection now and then: a client that
      // went away cancels it, and with it the backend's work (a plan, a sweep).
      // A client that only half-closes (shutdown(SHUT_WR)) after its request counts as gone.
      int connection = -2;  // not looked up yet
      bool cancelled = false;
      wait.Wait(kConnectionCheckInterval, [&] {
        if (cancelled) return;
        if (connection == -2) connection = ConnectionSocket(req);
        if (connection >= 0 && PeerGone(connection)) {
          cancelled = true;
          context.TryCancel();
        }
      });
    }
    for (const auto& [key, value] : context.GetServerTrailingMetadata()) {
      if (key == kRequestIdKey)
        res.set_header("X-Request-Id", std::string(value.data(), value.size()));
    }
    if (!status.ok()) {
      WriteError(res, static_cast<int>(status.error_code()), status.error_message(),
                 status.error_details());
      return;
    }
    std::string json;
    google::protobuf::util::JsonPrintOptions print_options;
    print_options.preserve_proto_field_names = false;
    if (auto printed = google::protobuf::util::MessageToJsonString(*response, &json, print_options);
        !printed.ok()) {
      WriteError(res, static_cast<int>(grpc::StatusCode::INTERNAL), "cannot encode response");
      return;
    }
    res.status = 200;
    res.set_content(json, "application/json");
  });

  if (port == 0) {
    port = server.bind_to_any_port(host);
    if (port <= 0) return absl::UnavailableError("cannot bind http address " + listen_address);
  } else if (!server.bind_to_port(host, port)) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on http address ", listen_address, " (address in use?)"));
  }
  // httplib listened with a backlog of 5; listening again on the bound socket sets ours.
  if (*listening == INVALID_SOCKET || ::listen(*listening, std::max(1, listen_backlog)) != 0) {
    return absl::InternalError(absl::StrCat("cannot set the listen backlog of http address ",
                                            listen_address, " to ", listen_backlog));
  }
  self->port_ = port;
  self->thread_ = std::thread([&server] { server.listen_after_bind(); });
  // stop() only works once the listen loop runs; wait for it so an early SIGTERM cannot hang.
  for (int i = 0; i < 500 && !server.is_running(); ++i) absl::SleepFor(absl::Milliseconds(2));
  LogInfo("http listening", {{"address", listen_address},
                             {"port", absl::StrCat(port)},
                             {"tls", tls.cert_file.empty() ? "off" : "on"}});
  return self;
}

HttpJsonServer::~HttpJsonServer() { Stop(); }

void HttpJsonServer::Stop() {
  if (!thread_.joinable()) return;
  server_->stop();
  thread_.join();
}

}  // namespace linli::gateway
