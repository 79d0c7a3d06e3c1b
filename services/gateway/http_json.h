// The gateway's HTTP port: the Connect protocol (https://connectrpc.com/docs/protocol) for every
// method of the public services, over HTTP/1.1, so the Connect authors' clients (connect-es,
// connect-kotlin, connect-swift, connect-go) and curl work against it.
//
//   POST /linli.gateway.v1.ConsoleService/GetRegion          unary, body in the request's codec
//   Content-Type: application/json | application/proto
//   {"name": "regions/310101"}
//
//   GET /linli.gateway.v1.ConsoleService/GetRegion?connect=v1&encoding=json|proto
//       &message=<percent-encoded, or URL-safe base64 with base64=1>[&compression=gzip]
//   (only methods marked `option idempotency_level = NO_SIDE_EFFECTS;` in their proto, read from
//   the method descriptor; any other method is 405 with "Allow: POST")
//
//   POST /linli.gateway.v1.ElderAppService/WatchMyNotices    server stream (Connect streaming)
//   Content-Type: application/connect+json | application/connect+proto
//   <one enveloped message>  ->  200, enveloped messages as they come, then the end of stream
//   (its errors and the call's metadata in the end of stream, not in a status or headers; the
//   deadline is Connect-Timeout-Ms, else an hour)
//
// Every method of every service in `services` is served. A request is decoded with its method's
// request type (protobuf JSON mapping, fields the gateway does not know ignored unless
// HttpJsonOptions::reject_unknown_json_fields; or binary protobuf) and forwarded as a gRPC call to
// the gateway's own gRPC server over its in-process channel (no socket, no TLS in between; the
// bridge's thread waits without polling while the event loops serve the call, see event_loop.h),
// so every form of a call goes through exactly the same interceptors, authentication,
// authorisation, limits and request ids as gRPC clients (one mechanism, no second code path). The
// response is encoded in the request's codec. Errors of unary calls are Connect JSON error bodies
//   {"code": "invalid_argument", "message": "...", "details": [{"type": "google.rpc.BadRequest",
//    "value": "<unpadded base64 of the Any's value>", "debug": {...}}]}
// with Connect's HTTP status mapping (400, 404, 409, 429, 503, …).
//
// Headers: "Connect-Timeout-Ms" sets the deadline (of a unary call capped by the server's
// default); when
// "Connect-Protocol-Version" is present it must be 1 (it is not required: curl users omit it);
// "Authorization", "X-Api-Key" and "X-Request-Id" are forwarded as gRPC metadata, and the HTTP
// client's address as kClientAddressKey with the bridge's secret (gate.h), which the gate believes
// only on this in-process path: HTTP clients are limited per address like gRPC clients. The gRPC
// response's initial metadata comes back as headers and its trailing metadata as "trailer-<key>"
// headers (connect_protocol.h says which keys are left out); the request id also as X-Request-Id.
//
// Compression: request bodies (POST, Content-Encoding) and GET messages (compression=) may be gzip
// or identity, anything else is unimplemented (501) naming the supported ones; a decompressed
// body over the size limit is 413 like a large one. Responses of at least
// HttpJsonOptions::gzip_min_bytes are gzip-compressed when Accept-Encoding lists gzip.
//
// CORS: off unless HttpJsonOptions::cors_allowed_origins lists origins; then OPTIONS preflights
// from those origins are answered (204) with the Connect headers allowed, and their calls get
// Access-Control-Allow-Origin and the exposed headers (connect_protocol.h); other origins get no
// CORS headers (a preflight from them is 403). Every response carries "Vary: Origin" then.
//
// Static files: with HttpJsonOptions::web_root, GET and HEAD of any other path serve the file of
// that path below the directory ("/" is index.html) with ConsoleContentSecurityPolicy,
// "X-Content-Type-Options: nosniff", "Referrer-Policy: no-referrer" and "X-Frame-Options: DENY";
// files under /assets/ (content-hashed names written by the console's build) are cached for a
// year as immutable, every other file is revalidated on each load ("Cache-Control: no-cache").
// GET /console-config.json tells the console how staff sign in (ConsoleSignIn, as JSON:
// {"oidc": {"issuer", "client_id", "scope"}} or {"oidc": null}).
//
// A body over the size limit is 413 with a Connect resource_exhausted error. A client that closes
// its connection while its call runs cancels the call (and the backend calls it made).
//
// The listen backlog: Debian's cpp-httplib is a compiled library whose listen() uses a backlog of
// 5 (CPPHTTPLIB_LISTEN_BACKLOG is read when the library is built, so defining it here would change
// nothing); Start calls listen() again on the bound socket with `listen_backlog` (Linux caps it at
// net.core.somaxconn), so a burst of connects is queued instead of dropped.
#ifndef LINLI_SERVICES_GATEWAY_HTTP_JSON_H_
#define LINLI_SERVICES_GATEWAY_HTTP_JSON_H_

#include <functional>
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

// The console's production sign-in: OpenID Connect authorisation code flow with PKCE (RFC 7636,
// S256) against the street's identity provider, the console being a public client (no secret).
// The provider's access tokens are what the console sends, so --jwt_issuer must be the provider's
// issuer and the key set must hold its signing keys. Empty issuer: no OIDC sign-in is offered.
struct ConsoleSignIn {
  // The provider's issuer URL ("https://id.example.gov.cn/realms/wuliqiao"); its discovery
  // document is <issuer>/.well-known/openid-configuration.
  std::string oidc_issuer;
  // The console's client id at the provider.
  std::string oidc_client_id;
  // The scopes asked for ("openid" at least).
  std::string oidc_scope = "openid";
};

// How the port speaks Connect beyond the defaults.
struct HttpJsonOptions {
  // Refuse JSON requests naming fields the gateway's protos do not have (400 invalid_argument).
  // Off by default, as Connect servers do: an app built on a newer proto keeps working against an
  // older gateway during a rolling upgrade. Tests turn it on to catch misspelt fields.
  bool reject_unknown_json_fields = false;
  // Origins ("https://console.example.org") allowed to call from a browser; "*" for any. Empty:
  // CORS off (no preflight answered, no CORS headers).
  std::vector<std::string> cors_allowed_origins;
  // Smallest response body that is gzip-compressed for a client accepting gzip.
  size_t gzip_min_bytes = 1024;
  // A directory of static files (the web console's build) served at "/" for GET and HEAD, with
  // the console's security headers (ConsoleContentSecurityPolicy). Empty: no files are served.
  std::string web_root;
  // How the console signs staff in (only with web_root).
  ConsoleSignIn sign_in;
};

// The origin ("https://id.example.gov.cn") of an issuer URL, or INVALID_ARGUMENT naming what is
// wrong: https only, except http on loopback (127.0.0.1, [::1], localhost) for development and
// tests; no query, fragment or user info.
absl::StatusOr<std::string> OidcIssuerOrigin(const std::string& issuer);

// The Content-Security-Policy of every static file: the console loads only its own scripts,
// styles and images and calls only its own origin and `idp_origin` (the identity provider's,
// for its discovery document and token endpoint; empty: none) — no inline script, no framing.
// The other headers: no Referer (a sign-in answer's code and the one-time link's fragment stay in
// the browser), no sniffing, no framing.
std::string ConsoleContentSecurityPolicy(const std::string& idp_origin);

class HttpJsonServer {
 public:
  // Binds `listen_address` (host:port, port 0 picks one) and starts serving the methods of
  // `service_names` (fully qualified, e.g. "linli.gateway.v1.ConsoleService") by calling them
  // on `gateway`'s in-process channel (`gateway` must outlive the bridge, see Stop).
  static absl::StatusOr<std::unique_ptr<HttpJsonServer>> Start(
      const std::string& listen_address, std::vector<std::string> service_names,
      const GatewayServer& gateway, absl::Duration default_timeout,
      size_t max_body_bytes = 4 * 1024 * 1024, const HttpTls& tls = {},
      int listen_backlog = kDefaultListenBacklog, HttpJsonOptions options = {});
  // As gRPC's own listener: the kernel's maximum (net.core.somaxconn, 4096 on current Linux).
  static constexpr int kDefaultListenBacklog = 4096;
  ~HttpJsonServer();

  int port() const { return port_; }
  // The port's threads (cpp-httplib's pool): each connection being served holds one, and a call
  // that waits long (a stream, a long read) keeps it while it waits (gate.h, BridgedWaitSlot).
  static constexpr int kHttpThreads = 32;

  // Stops accepting connections, ends the streams being served (each with `unavailable`, so
  // that its client opens it again) and waits for requests in progress. Idempotent.
  void Stop();

 private:
  HttpJsonServer() = default;

  std::unique_ptr<httplib::Server> server_;
  std::function<void()> end_streams_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace linli::gateway

#endif  // LINLI_SERVICES_GATEWAY_HTTP_JSON_H_
