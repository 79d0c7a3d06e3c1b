#include "services/gateway/http_json.h"
#include "services/gateway/connect_protocol.h"
#include "services/gateway/event_loop.h"
#include "services/gateway/gate.h"

#include <dirent.h>
#include <httplib.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <set>
#include <tuple>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/server.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/util/json_util.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/support/proto_buffer_reader.h"
#include "nlohmann/json.hpp"

namespace linli::gateway {
namespace {

using google::protobuf::Message;

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

// Writes `body` as the whole response. The body goes out through a sized content provider, which
// cpp-httplib sends as is: it compresses a plain body of some content types (application/json
// among them) on its own, preferring br, which would bypass the choice below and, for a body
// compressed here, compress it twice. An empty body is a plain one (Content-Length: 0).
void Send(httplib::Response& res, int status, const std::string& content_type, std::string body,
          bool gzip = false, size_t gzip_min_bytes = 0) {
  res.status = status;
  if (gzip && !body.empty() && body.size() >= gzip_min_bytes) {
    std::string compressed = connect::Gzip(body);
    if (!compressed.empty()) {
      body = std::move(compressed);
      res.set_header("Content-Encoding", "gzip");
    }
  }
  if (body.empty()) {
    res.set_header("Content-Type", content_type);
    res.body.clear();
    return;
  }
  auto shared = std::make_shared<const std::string>(std::move(body));
  res.set_content_provider(shared->size(), content_type,
                           [shared](size_t offset, size_t length, httplib::DataSink& sink) {
                             return sink.write(shared->data() + offset, length);
                           });
}

// A Connect error body (always JSON, never compressed: errors are small).
// A Connect error as JSON: {"code", "message", "details": [{"type", "value", "debug"}]}, the
// details from a google.rpc.Status (gRPC's grpc-status-details-bin).
nlohmann::json ErrorJson(int grpc_code, const std::string& message,
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
  return body;
}

void WriteError(httplib::Response& res, int grpc_code, const std::string& message,
                const std::string& details_bin = "") {
  Send(res, HttpStatusForCode(grpc_code), "application/json",
       ErrorJson(grpc_code, message, details_bin)
           .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void WriteError(httplib::Response& res, const absl::Status& status) {
  WriteError(res, static_cast<int>(status.code()), std::string(status.message()));
}

std::optional<std::string> Header(const httplib::Request& req, const char* name) {
  if (!req.has_header(name)) return std::nullopt;
  return req.get_header_value(name);
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

absl::StatusOr<std::string> OidcIssuerOrigin(const std::string& issuer) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("the OIDC issuer \"", issuer, "\" is not usable: ", why));
  };
  const bool https = absl::StartsWith(issuer, "https://");
  if (!https && !absl::StartsWith(issuer, "http://")) return bad("it must be an https:// URL");
  const absl::string_view rest = absl::string_view(issuer).substr(https ? 8 : 7);
  const absl::string_view authority = rest.substr(0, rest.find('/'));
  if (issuer.find_first_of("?#") != std::string::npos) return bad("no query or fragment");
  if (authority.empty()) return bad("no host");
  absl::string_view host = authority;
  if (absl::StartsWith(host, "[")) {
    if (host.find(']') == absl::string_view::npos) return bad("an unclosed IPv6 host");
    host = host.substr(0, host.find(']') + 1);
  } else {
    host = host.substr(0, host.find(':'));
  }
  const absl::string_view port = authority.substr(host.size());
  int port_number = 0;
  if (!port.empty() &&
      (port.size() < 2 || port.size() > 6 || port[0] != ':' ||
       !std::all_of(port.begin() + 1, port.end(), absl::ascii_isdigit) ||
       !absl::SimpleAtoi(port.substr(1), &port_number) || port_number < 1 || port_number > 65535)) {
    return bad("the port must be a number from 1 to 65535");
  }
  const bool bracketed = absl::StartsWith(host, "[");
  for (char c : bracketed ? host.substr(1, host.size() - 2) : host) {
    if (!absl::ascii_isalnum(c) && c != '.' && c != '-' && !(bracketed && c == ':')) {
      return bad("the host may hold only letters, digits, dots and hyphens (no user info)");
    }
  }
  if (host.empty() || host == "[]") return bad("no host");
  if (!https && host != "127.0.0.1" && host != "localhost" && host != "[::1]") {
    return bad("plain http is allowed only on loopback, for development");
  }
  return absl::StrCat(https ? "https://" : "http://", authority);
}

std::string ConsoleContentSecurityPolicy(const std::string& idp_origin) {
  return absl::StrCat(
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
      "font-src 'self'; connect-src 'self'",
      idp_origin.empty() ? "" : " ", idp_origin,
      "; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
}

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

namespace {

// What the handlers share.
struct Bridge {
  std::shared_ptr<grpc::GenericStub> stub;
  std::vector<std::string> service_names;
  absl::Duration default_timeout;
  size_t max_body_bytes;
  HttpJsonOptions options;
  connect::CorsPolicy cors{{}};
  // The streams being served: Stop cancels them (a stream may run for an hour).
  mutable absl::Mutex streams_mu;
  mutable bool stopping ABSL_GUARDED_BY(streams_mu) = false;
  mutable std::set<grpc::ClientContext*> streams ABSL_GUARDED_BY(streams_mu);

  // Registers a stream's call; false when the server is stopping (the call is not to start).
  bool AddStream(grpc::ClientContext* context) const {
    absl::MutexLock lock(&streams_mu);
    if (stopping) return false;
    streams.insert(context);
    return true;
  }
  void RemoveStream(grpc::ClientContext* context) const {
    absl::MutexLock lock(&streams_mu);
    streams.erase(context);
  }
  bool Stopping() const {
    absl::MutexLock lock(&streams_mu);
    return stopping;
  }
  void EndStreams() {
    absl::MutexLock lock(&streams_mu);
    stopping = true;
    for (grpc::ClientContext* context : streams) context->TryCancel();
  }
};

// The method `service_name`/`method_name` of a served service; nullptr when there is none.
const google::protobuf::MethodDescriptor* FindMethod(const Bridge& bridge,
                                                     const std::string& service_name,
                                                     const std::string& method_name) {
  if (std::find(bridge.service_names.begin(), bridge.service_names.end(), service_name) ==
      bridge.service_names.end()) {
    return nullptr;
  }
  const auto* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(service_name);
  return service == nullptr ? nullptr : service->FindMethodByName(method_name);
}

void WriteNoMethod(httplib::Response& res, const std::string& service_name,
                   const std::string& method_name) {
  WriteError(res, static_cast<int>(grpc::StatusCode::UNIMPLEMENTED),
             absl::StrCat("no method ", service_name, "/", method_name));
  res.status = 404;
}

connect::Metadata Copy(const std::multimap<grpc::string_ref, grpc::string_ref>& metadata) {
  connect::Metadata copy;
  for (const auto& [key, value] : metadata) {
    copy.emplace_back(std::string(key.data(), key.size()), std::string(value.data(), value.size()));
  }
  return copy;
}

// The request's credentials, request id and address as the call's metadata. gRPC aborts the
// process on a metadata value that is not printable ASCII, so headers are checked before they are
// forwarded: INVALID_ARGUMENT naming the header otherwise.
absl::Status ForwardCredentials(const httplib::Request& req, grpc::ClientContext* context) {
  for (const auto& [header, key, max_length] :
       {std::tuple<const char*, const char*, size_t>{"Authorization", "authorization", 8192},
        {"X-Api-Key", "x-api-key", 256},
        {"X-Request-Id", kRequestIdKey, 128}}) {
    if (!req.has_header(header)) continue;
    const std::string value = req.get_header_value(header);
    if (!IsMetadataValue(value, max_length)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "header ", header, " must be printable ASCII of at most ", max_length, " characters"));
    }
    context->AddMetadata(key, value);
  }
  // The gate limits calls without valid credentials per client address; on this in-process
  // path it believes the address the bridge names (the TCP peer, not a header).
  if (IsMetadataValue(req.remote_addr, 64) && !req.remote_addr.empty()) {
    context->AddMetadata(kClientAddressKey, req.remote_addr);
    context->AddMetadata(kBridgeKey, BridgeSecret());
  }
  return absl::OkStatus();
}

// A message in `codec` as the method's `type`; INVALID_ARGUMENT naming the type otherwise.
absl::Status DecodeMessage(const Bridge& bridge, connect::Codec codec, const std::string& bytes,
                           Message* message) {
  if (codec == connect::Codec::kJson) {
    return connect::DecodeJson(bytes, message, !bridge.options.reject_unknown_json_fields);
  }
  if (!message->ParseFromString(bytes)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "request is not a valid ", message->GetDescriptor()->full_name(), " in binary protobuf"));
  }
  return absl::OkStatus();
}

// A response message in `codec`; false when it cannot be encoded.
bool EncodeMessage(connect::Codec codec, const Message& message, std::string* out) {
  if (codec == connect::Codec::kJson) {
    google::protobuf::util::JsonPrintOptions print_options;
    print_options.preserve_proto_field_names = false;
    return google::protobuf::util::MessageToJsonString(message, out, print_options).ok();
  }
  return message.SerializeToString(out);
}

// One unary call, whatever form it came in (POST JSON or binary, GET): `message` is the request
// in `codec`, already decompressed. Decodes it, calls the method on the in-process channel with
// the request's credentials, request id, address and deadline, and writes the answer in `codec`
// (gzip-compressed when `gzip`) or a Connect error. Server streams: ServeStream.
void Serve(const Bridge& bridge, const httplib::Request& req, httplib::Response& res,
           const google::protobuf::MethodDescriptor& method, connect::Codec codec,
           const std::string& message, bool gzip) {
  auto* factory = google::protobuf::MessageFactory::generated_factory();
  std::unique_ptr<Message> request(factory->GetPrototype(method.input_type())->New());
  std::unique_ptr<Message> response(factory->GetPrototype(method.output_type())->New());
  if (absl::Status decoded = DecodeMessage(bridge, codec, message, request.get()); !decoded.ok()) {
    WriteError(res, decoded);
    return;
  }
  absl::StatusOr<std::optional<absl::Duration>> client_timeout =
      connect::ParseTimeout(Header(req, "Connect-Timeout-Ms"));
  if (!client_timeout.ok()) {
    WriteError(res, client_timeout.status());
    return;
  }

  grpc::ClientContext context;
  context.set_deadline(DeadlineAfter(
      std::min(bridge.default_timeout, client_timeout->value_or(bridge.default_timeout))));
  if (absl::Status forwarded = ForwardCredentials(req, &context); !forwarded.ok()) {
    WriteError(res, forwarded);
    return;
  }
  // Waited for on a queue of this thread's own (event_loop.h): the loops serve the call and
  // complete it here.
  grpc::Status status;
  grpc::ByteBuffer response_bytes;
  {
    AsyncWait wait;
    grpc::ByteBuffer request_bytes;
    MethodTable::Serialize(*request, &request_bytes);
    auto call = bridge.stub->PrepareUnaryCall(
        &context, absl::StrCat("/", method.service()->full_name(), "/", method.name()),
        request_bytes, wait.queue());
    call->StartCall();
    call->Finish(&response_bytes, &status, wait.Tag());
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
  // Response metadata: initial as headers, trailing as trailer-<key> (also on errors); the
  // request id also as X-Request-Id, as before.
  const connect::Metadata trailing = Copy(context.GetServerTrailingMetadata());
  for (const auto& [key, value] :
       connect::ResponseHeaders(Copy(context.GetServerInitialMetadata()), trailing)) {
    res.set_header(key, value);
  }
  for (const auto& [key, value] : trailing) {
    if (key == kRequestIdKey && IsMetadataValue(value, 128)) res.set_header("X-Request-Id", value);
  }
  if (!status.ok()) {
    WriteError(res, static_cast<int>(status.error_code()), status.error_message(),
               status.error_details());
    return;
  }
  if (grpc::ProtoBufferReader reader(&response_bytes);
      !response->ParseFromZeroCopyStream(&reader)) {
    WriteError(res, static_cast<int>(grpc::StatusCode::INTERNAL), "cannot decode response");
    return;
  }
  std::string body;
  if (!EncodeMessage(codec, *response, &body)) {
    WriteError(res, static_cast<int>(grpc::StatusCode::INTERNAL), "cannot encode response");
    return;
  }
  Send(res, 200, connect::ContentType(codec), std::move(body), gzip, bridge.options.gzip_min_bytes);
}

// The longest a stream through the port runs when the client names no Connect-Timeout-Ms (the
// method may end it sooner: a notice watch lasts 30 minutes, then the app opens it again).
constexpr absl::Duration kDefaultStreamTimeout = absl::Hours(1);

// A server-streaming call (Connect's streaming protocol): the request is one enveloped message in
// `body`; the answer is 200 with each of the stream's messages enveloped as it comes (gzip per
// message when Connect-Accept-Encoding allows), then an EndStreamResponse with the error, if any,
// and the call's metadata (initial and trailing: the headers are written before the call starts).
// Only a Content-Type that is not a streaming one is refused with a status (415); every other
// problem, the request's own included, ends the stream with its error. The stream holds this
// HTTP thread while it lasts; the method limits how many may (gate.h, BridgedWaitSlot). A client
// that goes away cancels the call.
void ServeStream(const Bridge& bridge, const httplib::Request& req, httplib::Response& res,
                 const google::protobuf::MethodDescriptor& method, const std::string& body,
                 bool read) {
  const std::string content_type = req.get_header_value("Content-Type");
  const std::optional<connect::Codec> codec = connect::CodecOfStreamingContentType(content_type);
  if (!codec.has_value()) {
    WriteError(res, static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT),
               absl::StrCat(method.full_name(),
                            " is a server stream: Content-Type must be application/connect+json "
                            "or application/connect+proto, with one enveloped message"));
    res.status = 415;
    res.set_header("Accept-Post", "application/connect+json, application/connect+proto");
    return;
  }
  const char* stream_type = connect::StreamingContentType(*codec);
  auto end_with = [&](const absl::Status& status) {
    res.status = 200;
    res.set_content(connect::Frame(connect::kEnvelopeEndStream,
                                   connect::EndStreamJson(ErrorJson(static_cast<int>(status.code()),
                                                                    std::string(status.message())),
                                                          {})),
                    stream_type);
  };
  if (!read) return end_with(absl::InvalidArgumentError("request body could not be read"));
  if (absl::Status version = connect::CheckProtocolVersion(Header(req, "Connect-Protocol-Version"));
      !version.ok()) {
    return end_with(version);
  }
  const std::string coding = req.get_header_value("Connect-Content-Encoding");
  if (absl::Status supported = connect::CheckEncoding(coding, "Connect-Content-Encoding");
      !supported.ok()) {
    res.set_header("Connect-Accept-Encoding", "gzip");
    return end_with(supported);
  }
  absl::StatusOr<connect::Envelope> envelope =
      connect::ParseRequestEnvelope(body, bridge.max_body_bytes);
  if (!envelope.ok()) return end_with(envelope.status());
  if ((envelope->flags & connect::kEnvelopeCompressed) != 0) {
    if (!connect::IsGzip(coding)) {
      return end_with(absl::InvalidArgumentError(
          "the request message is flagged compressed but Connect-Content-Encoding is not gzip"));
    }
    absl::StatusOr<std::string> inflated =
        connect::Gunzip(envelope->payload, bridge.max_body_bytes);
    if (!inflated.ok()) return end_with(inflated.status());
    envelope->payload = *std::move(inflated);
  }
  auto* factory = google::protobuf::MessageFactory::generated_factory();
  std::unique_ptr<Message> request(factory->GetPrototype(method.input_type())->New());
  if (absl::Status decoded = DecodeMessage(bridge, *codec, envelope->payload, request.get());
      !decoded.ok()) {
    return end_with(decoded);
  }
  absl::StatusOr<std::optional<absl::Duration>> client_timeout =
      connect::ParseTimeout(Header(req, "Connect-Timeout-Ms"));
  if (!client_timeout.ok()) return end_with(client_timeout.status());
  auto context = std::make_shared<grpc::ClientContext>();
  context->set_deadline(DeadlineAfter(client_timeout->value_or(kDefaultStreamTimeout)));
  if (absl::Status forwarded = ForwardCredentials(req, context.get()); !forwarded.ok()) {
    return end_with(forwarded);
  }
  const bool gzip = connect::AcceptsGzip(Header(req, "Connect-Accept-Encoding"), coding);
  if (gzip) res.set_header("Connect-Content-Encoding", "gzip");
  auto request_bytes = std::make_shared<grpc::ByteBuffer>();
  MethodTable::Serialize(*request, request_bytes.get());
  res.status = 200;
  // Runs once httplib has written the headers, on this request's thread, while `req` lives.
  res.set_chunked_content_provider(
      stream_type, [&bridge, &req, &method, context, request_bytes, codec = *codec, gzip](
                       size_t, httplib::DataSink& sink) {
        auto* factory = google::protobuf::MessageFactory::generated_factory();
        std::unique_ptr<Message> message(factory->GetPrototype(method.output_type())->New());
        // A gateway shutting down ends the stream so that the client opens it again elsewhere.
        auto end_stream = [&sink](const nlohmann::json& error, const connect::Metadata& metadata) {
          const std::string end =
              connect::Frame(connect::kEnvelopeEndStream, connect::EndStreamJson(error, metadata));
          if (!sink.write(end.data(), end.size())) return false;
          sink.done();
          return true;
        };
        const nlohmann::json shutting_down =
            ErrorJson(static_cast<int>(grpc::StatusCode::UNAVAILABLE),
                      "the gateway is shutting down: open the stream again");
        if (!bridge.AddStream(context.get())) return end_stream(shutting_down, {});
        const absl::Cleanup unregister = [&] { bridge.RemoveStream(context.get()); };
        AsyncWait wait;
        auto call = bridge.stub->PrepareCall(
            context.get(), absl::StrCat("/", method.service()->full_name(), "/", method.name()),
            wait.queue());
        int connection = -2;  // not looked up yet
        bool gone = false;
        // While a message is awaited: a client that went away cancels the call.
        auto check_client = [&] {
          if (gone) return;
          if (connection == -2) connection = ConnectionSocket(req);
          if (connection >= 0 && PeerGone(connection)) {
            gone = true;
            context->TryCancel();
          }
        };
        call->StartCall(wait.Tag());
        bool open = wait.Wait(kConnectionCheckInterval, check_client);
        if (open) {
          call->WriteLast(*request_bytes, grpc::WriteOptions(), wait.Tag());  // and half-close
          open = wait.Wait(kConnectionCheckInterval, check_client);
        }
        std::optional<absl::Status> broken;  // a message that could not be passed on
        while (open && !gone && !broken.has_value()) {
          grpc::ByteBuffer buffer;
          call->Read(&buffer, wait.Tag());
          if (!wait.Wait(kConnectionCheckInterval, check_client)) break;  // the stream ended
          std::string payload;
          if (grpc::ProtoBufferReader reader(&buffer); !message->ParseFromZeroCopyStream(&reader) ||
                                                       !EncodeMessage(codec, *message, &payload)) {
            broken = absl::InternalError("cannot encode a message of the stream");
            context->TryCancel();
            break;
          }
          uint8_t flags = 0;
          if (gzip && payload.size() >= bridge.options.gzip_min_bytes) {
            payload = connect::Gzip(payload);
            flags = connect::kEnvelopeCompressed;
          }
          if (const std::string frame = connect::Frame(flags, payload);
              !sink.write(frame.data(), frame.size())) {
            gone = true;
            context->TryCancel();
          }
        }
        grpc::Status status;
        call->Finish(&status, wait.Tag());
        wait.Wait();
        if (gone) return false;  // nobody to tell
        connect::Metadata metadata = Copy(context->GetServerInitialMetadata());
        for (auto& entry : Copy(context->GetServerTrailingMetadata())) {
          metadata.push_back(std::move(entry));
        }
        nlohmann::json error = nullptr;
        if (broken.has_value()) {
          error = ErrorJson(static_cast<int>(broken->code()), std::string(broken->message()));
        } else if (status.error_code() == grpc::StatusCode::CANCELLED && bridge.Stopping()) {
          error = shutting_down;
        } else if (!status.ok()) {
          error = ErrorJson(static_cast<int>(status.error_code()), status.error_message(),
                            status.error_details());
        }
        return end_stream(error, metadata);
      });
}

// POST: a unary call with its message in the body, or a server stream (ServeStream).
void HandlePost(const Bridge& bridge, const httplib::Request& req, httplib::Response& res,
                const httplib::ContentReader& reader) {
  // The body is read first, whatever the answer: bytes left unread would be taken for the next
  // request on the connection. Read with a limit on what it decompresses to (cpp-httplib inflates
  // "gzip", "deflate" and "br" bodies before they get here): a small body must not become a large
  // one.
  std::string body;
  bool too_large = false;
  bool read = true;
  if (req.is_multipart_form_data()) {
    // Never a Connect request; read and dropped (cpp-httplib needs the multipart reader here).
    read = reader([](const httplib::MultipartFormData&) { return true; },
                  [](const char*, size_t) { return true; });
  } else {
    read = reader([&](const char* data, size_t length) {
      if (body.size() + length > bridge.max_body_bytes) {
        too_large = true;
        return false;
      }
      body.append(data, length);
      return true;
    });
  }
  if (too_large || (!read && res.status == 413)) {
    WriteError(res, static_cast<int>(grpc::StatusCode::RESOURCE_EXHAUSTED),
               absl::StrCat("request body larger than ", bridge.max_body_bytes, " bytes"));
    res.status = 413;
    return;
  }
  const std::string service_name = req.matches[1];
  const std::string method_name = req.matches[2];
  const google::protobuf::MethodDescriptor* method = FindMethod(bridge, service_name, method_name);
  if (method == nullptr) {
    WriteNoMethod(res, service_name, method_name);
    return;
  }
  if (method->server_streaming()) {
    ServeStream(bridge, req, res, *method, body, read);
    return;
  }
  const std::string content_type = req.get_header_value("Content-Type");
  const std::optional<connect::Codec> codec = connect::CodecOfContentType(content_type);
  if (!codec.has_value()) {
    WriteError(res, static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT),
               connect::IsStreamingContentType(content_type)
                   ? absl::StrCat(service_name, "/", method_name, " is unary: send ",
                                  "application/json or application/proto, not ", content_type)
                   : "Content-Type must be application/json or application/proto");
    res.status = 415;
    res.set_header("Accept-Post", "application/json, application/proto");
    return;
  }
  if (absl::Status version = connect::CheckProtocolVersion(Header(req, "Connect-Protocol-Version"));
      !version.ok()) {
    WriteError(res, version);
    return;
  }
  const std::string coding = req.get_header_value("Content-Encoding");
  if (absl::Status supported = connect::CheckEncoding(coding, "Content-Encoding");
      !supported.ok()) {
    WriteError(res, supported);
    res.set_header("Accept-Encoding", "gzip");
    return;
  }
  if (!read) {
    WriteError(res, static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT),
               coding.empty() ? "request body could not be read"
                              : absl::StrCat("request body is not valid ", coding, " data"));
    return;
  }
  // cpp-httplib inflated a body whose Content-Encoding is exactly "gzip"; other spellings of it
  // ("GZIP") arrive as sent. A zero-length body is never decompressed.
  if (connect::IsGzip(coding) && coding != "gzip" && !body.empty()) {
    absl::StatusOr<std::string> inflated = connect::Gunzip(body, bridge.max_body_bytes);
    if (!inflated.ok()) {
      WriteError(res, absl::Status(inflated.status().code(),
                                   absl::StrCat("request body (Content-Encoding gzip): ",
                                                inflated.status().message())));
      if (inflated.status().code() == absl::StatusCode::kResourceExhausted) res.status = 413;
      return;
    }
    body = std::move(*inflated);
  }
  Serve(bridge, req, res, *method, *codec, body,
        connect::AcceptsGzip(Header(req, "Accept-Encoding"), coding));
}

// GET: a unary call of a method without side effects, its message in the query.
void HandleGet(const Bridge& bridge, const httplib::Request& req, httplib::Response& res) {
  const std::string service_name = req.matches[1];
  const std::string method_name = req.matches[2];
  const google::protobuf::MethodDescriptor* method = FindMethod(bridge, service_name, method_name);
  if (method == nullptr) {
    WriteNoMethod(res, service_name, method_name);
    return;
  }
  if (!connect::HasNoSideEffects(*method)) {
    WriteError(res, static_cast<int>(grpc::StatusCode::UNIMPLEMENTED),
               absl::StrCat(service_name, "/", method_name,
                            " may have side effects: call it with POST (GET serves only methods "
                            "marked idempotency_level = NO_SIDE_EFFECTS)"));
    res.status = 405;
    res.set_header("Allow", "POST");
    return;
  }
  if (absl::Status version = connect::CheckProtocolVersion(Header(req, "Connect-Protocol-Version"));
      !version.ok()) {
    WriteError(res, version);
    return;
  }
  bool unsupported_codec = false;
  absl::StatusOr<connect::GetRequest> get = connect::ParseGetRequest(
      [&req](const std::string& name) -> std::optional<std::string> {
        if (!req.has_param(name.c_str())) return std::nullopt;
        return req.get_param_value(name.c_str());
      },
      bridge.max_body_bytes, &unsupported_codec);
  if (!get.ok()) {
    WriteError(res, get.status());
    if (unsupported_codec) res.status = 415;
    if (get.status().code() == absl::StatusCode::kResourceExhausted) res.status = 413;
    if (get.status().code() == absl::StatusCode::kUnimplemented) {
      res.set_header("Accept-Encoding", "gzip");
    }
    return;
  }
  // The answer depends on the caller's credentials: no shared cache may keep it.
  res.set_header("Cache-Control", "private");
  res.set_header("Vary", "Accept-Encoding");
  Serve(bridge, req, res, *method, get->codec, get->message,
        connect::AcceptsGzip(Header(req, "Accept-Encoding"), get->compression));
}

// A CORS preflight: 204 with what a listed origin may send and see; 403 for any other origin.
void HandlePreflight(const Bridge& bridge, const httplib::Request& req, httplib::Response& res) {
  const std::string origin = req.get_header_value("Origin");
  if (!bridge.cors.Allows(origin)) {
    WriteError(res, static_cast<int>(grpc::StatusCode::PERMISSION_DENIED),
               absl::StrCat("origin \"", origin, "\" may not call this server"));
    return;
  }
  res.status = 204;
  res.set_header("Access-Control-Allow-Origin", origin);
  res.set_header("Access-Control-Allow-Methods", connect::CorsPolicy::kAllowedMethods);
  res.set_header("Access-Control-Allow-Headers", connect::CorsPolicy::kAllowedHeaders);
  res.set_header("Access-Control-Max-Age", absl::StrCat(connect::CorsPolicy::kMaxAgeSeconds));
}

}  // namespace

absl::StatusOr<std::unique_ptr<HttpJsonServer>> HttpJsonServer::Start(
    const std::string& listen_address, std::vector<std::string> service_names,
    const GatewayServer& gateway, absl::Duration default_timeout, size_t max_body_bytes,
    const HttpTls& tls, int listen_backlog, HttpJsonOptions options) {
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
  static_assert(BridgedWaitSlot::kMaxBridgedWaits + 8 <= kHttpThreads,
                "calls that wait must leave threads for the others");
  server.new_task_queue = [] { return new httplib::ThreadPool(kHttpThreads); };
  server.set_payload_max_length(max_body_bytes);
  // Small request/response pairs on keep-alive connections: without TCP_NODELAY, Nagle and
  // delayed ACKs add ~40 ms to every call.
  server.set_tcp_nodelay(true);
  // cpp-httplib answers an oversized body or URL on its own, with an empty body; give those a
  // Connect error body. Answers of the handlers below always have a Content-Type.
  server.set_error_handler([max_body_bytes](const httplib::Request&, httplib::Response& res) {
    if (res.has_header("Content-Type")) return;
    if (res.status == 413) {
      WriteError(res, static_cast<int>(grpc::StatusCode::RESOURCE_EXHAUSTED),
                 absl::StrCat("request body larger than ", max_body_bytes, " bytes"));
      res.status = 413;
    } else if (res.status == 414) {
      WriteError(res, static_cast<int>(grpc::StatusCode::RESOURCE_EXHAUSTED),
                 absl::StrCat("request URL longer than ", CPPHTTPLIB_REQUEST_URI_MAX_LENGTH,
                              " bytes: send the call as a POST"));
      res.status = 414;
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
  auto bridge = std::make_shared<Bridge>();
  self->end_streams_ = [bridge] { bridge->EndStreams(); };
  bridge->stub = std::make_shared<grpc::GenericStub>(gateway.InProcessChannel());
  bridge->service_names = std::move(service_names);
  bridge->default_timeout = default_timeout;
  bridge->max_body_bytes = max_body_bytes;
  bridge->cors = connect::CorsPolicy(options.cors_allowed_origins);
  bridge->options = std::move(options);

  const std::string method_path = R"(/([A-Za-z0-9_.]+)/([A-Za-z0-9_]+))";
  server.Post(method_path, [bridge](const httplib::Request& req, httplib::Response& res,
                                    const httplib::ContentReader& reader) {
    HandlePost(*bridge, req, res, reader);
  });
  server.Get(method_path, [bridge](const httplib::Request& req, httplib::Response& res) {
    HandleGet(*bridge, req, res);
  });
  if (bridge->cors.enabled()) {
    server.Options(R"(/.*)", [bridge](const httplib::Request& req, httplib::Response& res) {
      HandlePreflight(*bridge, req, res);
    });
  }
  // Every answer (errors and unknown paths too): CORS headers for a listed origin, so a page can
  // read errors; "Vary: Origin" whenever CORS is on, since the answer then depends on it.
  server.set_post_routing_handler([bridge](const httplib::Request& req, httplib::Response& res) {
    if (!bridge->cors.enabled()) return;
    res.set_header("Vary", "Origin");
    const std::string origin = req.get_header_value("Origin");
    if (!bridge->cors.Allows(origin) || res.has_header("Access-Control-Allow-Origin")) return;
    res.set_header("Access-Control-Allow-Origin", origin);
    res.set_header("Access-Control-Expose-Headers", connect::CorsPolicy::kExposedHeaders);
  });

  if (!bridge->options.web_root.empty()) {
    const ConsoleSignIn& sign_in = bridge->options.sign_in;
    std::string idp_origin;
    nlohmann::json config = {{"oidc", nullptr}};
    if (!sign_in.oidc_issuer.empty()) {
      absl::StatusOr<std::string> origin = OidcIssuerOrigin(sign_in.oidc_issuer);
      if (!origin.ok()) return origin.status();
      if (sign_in.oidc_client_id.empty()) {
        return absl::InvalidArgumentError("the console's OIDC sign-in needs a client id");
      }
      if (!absl::StrContains(absl::StrCat(" ", sign_in.oidc_scope, " "), " openid ")) {
        return absl::InvalidArgumentError("the console's OIDC scope must include \"openid\"");
      }
      idp_origin = *std::move(origin);
      config["oidc"] = {{"issuer", sign_in.oidc_issuer},
                        {"client_id", sign_in.oidc_client_id},
                        {"scope", sign_in.oidc_scope}};
    }
    server.Get("/console-config.json",
               [body = config.dump()](const httplib::Request&, httplib::Response& res) {
                 res.set_header("Cache-Control", "no-cache");
                 res.set_header("X-Content-Type-Options", "nosniff");
                 res.set_content(body, "application/json");
               });
    const httplib::Headers headers = {
        {"Content-Security-Policy", ConsoleContentSecurityPolicy(idp_origin)},
        {"X-Content-Type-Options", "nosniff"},
        {"Referrer-Policy", "no-referrer"},
        {"X-Frame-Options", "DENY"}};
    if (!server.set_mount_point("/", bridge->options.web_root, headers)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the web console directory \"", bridge->options.web_root, "\" is not a directory"));
    }
    server.set_file_extension_and_mimetype_mapping("js", "text/javascript; charset=utf-8");
    server.set_file_extension_and_mimetype_mapping("html", "text/html; charset=utf-8");
    server.set_file_extension_and_mimetype_mapping("css", "text/css; charset=utf-8");
    server.set_file_extension_and_mimetype_mapping("webmanifest", "application/manifest+json");
    server.set_file_request_handler([](const httplib::Request& req, httplib::Response& res) {
      res.set_header("Cache-Control", absl::StartsWith(req.path, "/assets/")
                                          ? "public, max-age=31536000, immutable"
                                          : "no-cache");
    });
  }

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
  end_streams_();
  server_->stop();
  thread_.join();
}

}  // namespace linli::gateway
