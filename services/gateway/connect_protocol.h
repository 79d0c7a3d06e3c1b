// Pure pieces of the Connect protocol (https://connectrpc.com/docs/protocol) as the gateway's HTTP
// port speaks it (http_json.h): codecs, compression, the GET query, protocol version, timeouts,
// response metadata and CORS. No sockets and no clock here, so each piece has its own unit test
// (connect_protocol_test.cc).
#ifndef LINLI_SERVICES_GATEWAY_CONNECT_PROTOCOL_H_
#define LINLI_SERVICES_GATEWAY_CONNECT_PROTOCOL_H_

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "nlohmann/json.hpp"

namespace linli::gateway::connect {

// The message codecs of unary Connect calls.
enum class Codec { kJson, kProto };

// A request in the proto3 JSON mapping decoded into `message` ("" reads as {}); INVALID_ARGUMENT
// with protobuf's reason otherwise. With `ignore_unknown_fields`, keys that name no field of
// their message are skipped at any depth (a newer client's fields), yet every known field must
// hold a valid value: an enum name that does not exist is refused, where protobuf's own ignore
// option would drop it silently (a misspelt "LIVING_SITUATION_ALONE" would register nothing).
absl::Status DecodeJson(absl::string_view json, google::protobuf::Message* message,
                        bool ignore_unknown_fields);

// "application/json" or "application/proto" (responses and errors use these exactly).
const char* ContentType(Codec codec);

// The codec of a unary request's Content-Type: "application/json" (any parameters, e.g.
// "; charset=utf-8") or "application/proto", case-insensitive. Anything else, including the
// streaming types "application/connect+json|proto", is nullopt (HTTP 415).
std::optional<Codec> CodecOfContentType(absl::string_view content_type);
// The codec of a GET request's `encoding` parameter: "json" or "proto".
std::optional<Codec> CodecOfEncoding(absl::string_view encoding);
// True for "application/connect+…": a streaming request.
bool IsStreamingContentType(absl::string_view content_type);
// The codec of a streaming request's Content-Type: "application/connect+json" or
// "application/connect+proto" (parameters ignored, case-insensitive); nullopt otherwise.
std::optional<Codec> CodecOfStreamingContentType(absl::string_view content_type);
// "application/connect+json" or "application/connect+proto".
const char* StreamingContentType(Codec codec);

// The content codings the port decodes and encodes.
inline constexpr char kSupportedEncodings[] = "gzip, identity";
// OK for an absent, "identity" or "gzip" coding (case-insensitive); UNIMPLEMENTED naming the
// supported ones otherwise. `what` names where the coding came from ("Content-Encoding",
// "compression").
absl::Status CheckEncoding(absl::string_view coding, absl::string_view what);
// True when the coding is "gzip" (case-insensitive, surrounding spaces ignored).
bool IsGzip(absl::string_view coding);

// gzip (RFC 1952) of `data` with zlib.
std::string Gzip(absl::string_view data);
// The data inside a gzip stream; INVALID_ARGUMENT when it is not one, RESOURCE_EXHAUSTED when it
// inflates beyond `max_bytes` (a small body must not become a large one).
absl::StatusOr<std::string> Gunzip(absl::string_view data, size_t max_bytes);

// Whether a response may be gzip-compressed: `accept_encoding` (the request's Accept-Encoding;
// when the request had none, the coding of the request itself, as the spec says) lists gzip
// (or "*") without q=0.
bool AcceptsGzip(const std::optional<std::string>& accept_encoding,
                 absl::string_view request_coding);

// OK when the Connect-Protocol-Version header is absent (curl users omit it) or "1".
absl::Status CheckProtocolVersion(const std::optional<std::string>& header);
// OK when the GET parameter `connect` is absent or "v1".
absl::Status CheckGetProtocolVersion(const std::optional<std::string>& parameter);

// The Connect-Timeout-Ms header: nullopt when absent, the timeout when a positive integer of at
// most 10 digits, INVALID_ARGUMENT otherwise.
absl::StatusOr<std::optional<absl::Duration>> ParseTimeout(
    const std::optional<std::string>& header);

// The request message of a Connect GET (`?encoding=json|proto&message=…[&base64=1]
// [&compression=gzip|identity][&connect=v1]`), from the query parameters `param` returns
// (already percent-decoded; nullopt when absent). Unknown parameters are ignored.
struct GetRequest {
  Codec codec = Codec::kJson;
  std::string message;      // the decoded, decompressed message bytes
  std::string compression;  // the `compression` parameter ("" when absent)
};
// Errors: a missing or unknown `encoding` is INVALID_ARGUMENT with `*unsupported_codec` false,
// or true for an unknown codec (the caller answers 415); `connect` other than v1 and bad base64
// are INVALID_ARGUMENT; an unsupported `compression` is UNIMPLEMENTED; a message inflating past
// `max_bytes` is RESOURCE_EXHAUSTED.
absl::StatusOr<GetRequest> ParseGetRequest(
    const std::function<std::optional<std::string>(const std::string&)>& param, size_t max_bytes,
    bool* unsupported_codec);

// True when the method is marked `option idempotency_level = NO_SIDE_EFFECTS;` in its proto: only
// those are served over GET.
bool HasNoSideEffects(const google::protobuf::MethodDescriptor& method);

// The HTTP headers of a unary response's gRPC metadata: initial metadata as is, trailing
// metadata as "trailer-<key>"; values of "-bin" keys unpadded base64. gRPC's own keys (grpc-…,
// pseudo-headers), keys reserved by Connect (connect-…), hop-by-hop and framing headers
// (connection, content-length, content-encoding, transfer-encoding, …) and CORS headers are
// left out, as are ASCII values that are not printable.
using Metadata = std::vector<std::pair<std::string, std::string>>;
Metadata ResponseHeaders(const Metadata& initial, const Metadata& trailing);

// --- Streams: enveloped messages ----------------------------------------------------------------
// A stream's body is a sequence of envelopes: one flags byte, a 4-byte big-endian length, then
// that many bytes. Flag 0x01: the bytes are compressed (Connect-Content-Encoding); flag 0x02: the
// last envelope of a response, its bytes an EndStreamResponse (JSON, whatever the codec).
inline constexpr uint8_t kEnvelopeCompressed = 0x01;
inline constexpr uint8_t kEnvelopeEndStream = 0x02;

struct Envelope {
  uint8_t flags = 0;
  std::string payload;
};
// `flags` and `payload` framed as one envelope.
std::string Frame(uint8_t flags, absl::string_view payload);
// The one message of a server-streaming request's body: exactly one envelope, with no flag but
// kEnvelopeCompressed, of at most `max_bytes`. INVALID_ARGUMENT naming what is wrong (a short or
// truncated frame, bytes after it, an end-stream flag, an unknown flag), RESOURCE_EXHAUSTED when
// its length is over `max_bytes`.
absl::StatusOr<Envelope> ParseRequestEnvelope(absl::string_view body, size_t max_bytes);
// The EndStreamResponse JSON: {"error": `error` (omitted when null), "metadata": {key: [values]}}
// from `metadata` (keys as ResponseHeaders keeps them, without a "trailer-" prefix).
std::string EndStreamJson(const nlohmann::json& error, const Metadata& metadata);

// Cross-origin calls from the origins listed (exact "scheme://host[:port]"; "*" for any). Empty:
// CORS is off.
class CorsPolicy {
 public:
  explicit CorsPolicy(std::vector<std::string> allowed_origins);
  bool enabled() const { return !allowed_origins_.empty(); }
  // Whether `origin` (the Origin header) may call.
  bool Allows(absl::string_view origin) const;
  // Parses a comma-separated flag value (spaces around entries ignored, empty entries dropped).
  static std::vector<std::string> ParseList(absl::string_view flag_value);

  // Request headers a preflight allows, response headers exposed to scripts, methods allowed.
  static const char kAllowedHeaders[];
  static const char kExposedHeaders[];
  static const char kAllowedMethods[];
  static constexpr int kMaxAgeSeconds = 7200;

 private:
  std::vector<std::string> allowed_origins_;
  bool any_ = false;
};

}  // namespace linli::gateway::connect

#endif  // LINLI_SERVICES_GATEWAY_CONNECT_PROTOCOL_H_
