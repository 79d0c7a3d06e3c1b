#include "services/gateway/connect_protocol.h"

#include <zlib.h>

#include <algorithm>
#include <array>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/util/json_util.h"

namespace linli::gateway::connect {
namespace {

// Removes from `value`, the JSON of a `type`, the keys that name no field, at every depth. The
// well-known types (Timestamp, FieldMask, Struct, Any, ...) have JSON forms of their own and are
// left to protobuf's parser.
void DropUnknownFields(const google::protobuf::Descriptor& type, nlohmann::json& value) {
  using google::protobuf::FieldDescriptor;
  if (!value.is_object() || absl::StartsWith(type.file()->name(), "google/protobuf/")) return;
  for (auto it = value.begin(); it != value.end();) {
    const FieldDescriptor* field = type.FindFieldByName(it.key());
    for (int i = 0; field == nullptr && i < type.field_count(); ++i) {
      if (type.field(i)->json_name() == it.key()) field = type.field(i);
    }
    if (field == nullptr) {
      it = value.erase(it);
      continue;
    }
    nlohmann::json& held = it.value();
    if (field->is_map()) {
      const FieldDescriptor* mapped = field->message_type()->map_value();
      if (mapped->type() == FieldDescriptor::TYPE_MESSAGE && held.is_object()) {
        for (auto& item : held) DropUnknownFields(*mapped->message_type(), item);
      }
    } else if (field->type() == FieldDescriptor::TYPE_MESSAGE) {
      if (!field->is_repeated()) {
        DropUnknownFields(*field->message_type(), held);
      } else if (held.is_array()) {
        for (auto& item : held) DropUnknownFields(*field->message_type(), item);
      }
    }
    ++it;
  }
}

// The media type of a Content-Type value: before any parameter, trimmed, lower case.
std::string MediaType(absl::string_view content_type) {
  return absl::AsciiStrToLower(
      absl::StripAsciiWhitespace(content_type.substr(0, content_type.find(';'))));
}

bool IsHeaderName(absl::string_view key) {
  return !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '_' || c == '-' || c == '.';
  });
}

bool IsAsciiValue(absl::string_view value) {
  return std::all_of(value.begin(), value.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}

// Keys never copied from gRPC metadata to HTTP headers.
bool IsReservedKey(absl::string_view key) {
  static constexpr std::array<absl::string_view, 15> kExact = {"connection",
                                                               "keep-alive",
                                                               "proxy-connection",
                                                               "te",
                                                               "transfer-encoding",
                                                               "upgrade",
                                                               "trailer",
                                                               "host",
                                                               "content-type",
                                                               "content-length",
                                                               "content-encoding",
                                                               "accept-encoding",
                                                               "date",
                                                               "vary",
                                                               "user-agent"};
  return absl::StartsWith(key, "grpc-") || absl::StartsWith(key, ":") ||
         absl::StartsWith(key, "connect-") || absl::StartsWith(key, "access-control-") ||
         absl::StartsWith(key, "proxy-") || absl::StartsWith(key, "trailer-") ||
         std::find(kExact.begin(), kExact.end(), key) != kExact.end();
}

}  // namespace

absl::Status DecodeJson(absl::string_view json, google::protobuf::Message* message,
                        bool ignore_unknown_fields) {
  google::protobuf::util::JsonParseOptions strict;
  strict.ignore_unknown_fields = false;
  const std::string text = json.empty() ? "{}" : std::string(json);
  auto parsed = google::protobuf::util::JsonStringToMessage(text, message, strict);
  if (!parsed.ok() && ignore_unknown_fields) {
    // Again without the keys no field of this version knows; what fails now is a bad value.
    nlohmann::json document = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!document.is_discarded()) {
      DropUnknownFields(*message->GetDescriptor(), document);
      message->Clear();
      parsed = google::protobuf::util::JsonStringToMessage(
          document.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), message, strict);
    }
  }
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("request is not a valid ",
                                                   message->GetDescriptor()->full_name(),
                                                   " in JSON: ", std::string(parsed.message())));
  }
  return absl::OkStatus();
}

const char* ContentType(Codec codec) {
  return codec == Codec::kProto ? "application/proto" : "application/json";
}

std::optional<Codec> CodecOfContentType(absl::string_view content_type) {
  const std::string media = MediaType(content_type);
  if (media == "application/json") return Codec::kJson;
  if (media == "application/proto") return Codec::kProto;
  return std::nullopt;
}

std::optional<Codec> CodecOfEncoding(absl::string_view encoding) {
  if (encoding == "json") return Codec::kJson;
  if (encoding == "proto") return Codec::kProto;
  return std::nullopt;
}

bool IsStreamingContentType(absl::string_view content_type) {
  return absl::StartsWith(MediaType(content_type), "application/connect+");
}

std::optional<Codec> CodecOfStreamingContentType(absl::string_view content_type) {
  const std::string media = MediaType(content_type);
  if (media == "application/connect+json") return Codec::kJson;
  if (media == "application/connect+proto") return Codec::kProto;
  return std::nullopt;
}

const char* StreamingContentType(Codec codec) {
  return codec == Codec::kJson ? "application/connect+json" : "application/connect+proto";
}

std::string Frame(uint8_t flags, absl::string_view payload) {
  const uint32_t length = static_cast<uint32_t>(payload.size());
  std::string frame;
  frame.reserve(5 + payload.size());
  frame.push_back(static_cast<char>(flags));
  for (int shift = 24; shift >= 0; shift -= 8) {
    frame.push_back(static_cast<char>((length >> shift) & 0xff));
  }
  frame.append(payload.data(), payload.size());
  return frame;
}

absl::StatusOr<Envelope> ParseRequestEnvelope(absl::string_view body, size_t max_bytes) {
  if (body.size() < 5) {
    return absl::InvalidArgumentError(
        "a streaming request's body must be one enveloped message (5-byte prefix, then the "
        "message)");
  }
  const auto byte = [&](size_t i) { return static_cast<uint32_t>(static_cast<uint8_t>(body[i])); };
  Envelope envelope;
  envelope.flags = static_cast<uint8_t>(byte(0));
  const uint32_t length = byte(1) << 24 | byte(2) << 16 | byte(3) << 8 | byte(4);
  if ((envelope.flags & ~kEnvelopeCompressed) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("a streaming request's body is enveloped messages: flags 0x",
                     absl::Hex(envelope.flags), " are not valid here (only 0x01, compressed)"));
  }
  if (length > max_bytes) {
    return absl::ResourceExhaustedError(
        absl::StrCat("request message larger than ", max_bytes, " bytes"));
  }
  if (body.size() - 5 < length) {
    return absl::InvalidArgumentError(absl::StrCat("request envelope says ", length,
                                                   " bytes but only ", body.size() - 5, " follow"));
  }
  if (body.size() - 5 > length) {
    return absl::InvalidArgumentError(
        "a server-streaming request takes exactly one message: bytes follow the first envelope");
  }
  envelope.payload = std::string(body.substr(5));
  return envelope;
}

std::string EndStreamJson(const nlohmann::json& error, const Metadata& metadata) {
  nlohmann::json end = nlohmann::json::object();
  if (!error.is_null()) end["error"] = error;
  nlohmann::json values = nlohmann::json::object();
  for (const auto& [key, value] : ResponseHeaders(metadata, {})) values[key].push_back(value);
  end["metadata"] = std::move(values);
  return end.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

bool IsGzip(absl::string_view coding) {
  return absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(coding), "gzip");
}

absl::Status CheckEncoding(absl::string_view coding, absl::string_view what) {
  const absl::string_view trimmed = absl::StripAsciiWhitespace(coding);
  if (trimmed.empty() || absl::EqualsIgnoreCase(trimmed, "identity") || IsGzip(trimmed)) {
    return absl::OkStatus();
  }
  return absl::UnimplementedError(
      absl::StrCat(what, " \"", trimmed, "\" is not supported; supported: ", kSupportedEncodings));
}

std::string Gzip(absl::string_view data) {
  z_stream stream{};
  // 16 + MAX_WBITS: a gzip header and trailer around the deflate stream.
  if (deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8,
                   Z_DEFAULT_STRATEGY) != Z_OK) {
    return std::string();
  }
  std::string out(deflateBound(&stream, data.size()) + 32, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  const int result = deflate(&stream, Z_FINISH);
  out.resize(result == Z_STREAM_END ? stream.total_out : 0);
  deflateEnd(&stream);
  return out;
}

absl::StatusOr<std::string> Gunzip(absl::string_view data, size_t max_bytes) {
  z_stream stream{};
  if (inflateInit2(&stream, 16 + MAX_WBITS) != Z_OK) {
    return absl::InternalError("cannot start gzip decompression");
  }
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  std::string out;
  char buffer[16384];
  absl::Status status = absl::OkStatus();
  while (true) {
    stream.next_out = reinterpret_cast<Bytef*>(buffer);
    stream.avail_out = sizeof(buffer);
    const int result = inflate(&stream, Z_NO_FLUSH);
    const size_t produced = sizeof(buffer) - stream.avail_out;
    if (out.size() + produced > max_bytes) {
      status = absl::ResourceExhaustedError(
          absl::StrCat("decompressed message larger than ", max_bytes, " bytes"));
      break;
    }
    out.append(buffer, produced);
    if (result == Z_STREAM_END) {
      if (stream.avail_in == 0) break;
      inflateReset(&stream);  // another gzip member follows (RFC 1952 allows several)
      continue;
    }
    if (result == Z_OK) continue;
    if (result == Z_BUF_ERROR && stream.avail_in > 0 && produced > 0) continue;
    status = absl::InvalidArgumentError(
        result == Z_BUF_ERROR ? "gzip data is truncated"
                              : absl::StrCat("gzip data is corrupt: ",
                                             stream.msg != nullptr ? stream.msg : "bad data"));
    break;
  }
  inflateEnd(&stream);
  if (!status.ok()) return status;
  return out;
}

bool AcceptsGzip(const std::optional<std::string>& accept_encoding,
                 absl::string_view request_coding) {
  if (!accept_encoding.has_value()) return IsGzip(request_coding);
  for (absl::string_view entry : absl::StrSplit(*accept_encoding, ',')) {
    std::vector<absl::string_view> parts = absl::StrSplit(entry, ';');
    const absl::string_view coding = absl::StripAsciiWhitespace(parts[0]);
    if (!IsGzip(coding) && coding != "*") continue;
    bool refused = false;  // "gzip;q=0" refuses gzip
    for (size_t i = 1; i < parts.size(); ++i) {
      absl::string_view parameter = absl::StripAsciiWhitespace(parts[i]);
      double q = 1;
      if (absl::ConsumePrefix(&parameter, "q=") && absl::SimpleAtod(parameter, &q) && q <= 0) {
        refused = true;
      }
    }
    if (!refused) return true;
  }
  return false;
}

absl::Status CheckProtocolVersion(const std::optional<std::string>& header) {
  if (!header.has_value() || *header == "1") return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("Connect-Protocol-Version \"", *header,
                                                 "\" is not supported; this server speaks 1"));
}

absl::Status CheckGetProtocolVersion(const std::optional<std::string>& parameter) {
  if (!parameter.has_value() || *parameter == "v1") return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("connect=\"", *parameter, "\" is not supported; this server speaks v1"));
}

absl::StatusOr<std::optional<absl::Duration>> ParseTimeout(
    const std::optional<std::string>& header) {
  if (!header.has_value()) return std::nullopt;
  int64_t ms = 0;
  if (header->empty() || header->size() > 10 ||
      !std::all_of(header->begin(), header->end(), absl::ascii_isdigit) ||
      !absl::SimpleAtoi(*header, &ms) || ms <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Connect-Timeout-Ms \"", *header, "\" is not a positive integer of at most 10 digits"));
  }
  return absl::Milliseconds(ms);
}

absl::StatusOr<GetRequest> ParseGetRequest(
    const std::function<std::optional<std::string>(const std::string&)>& param, size_t max_bytes,
    bool* unsupported_codec) {
  *unsupported_codec = false;
  if (absl::Status version = CheckGetProtocolVersion(param("connect")); !version.ok()) {
    return version;
  }
  GetRequest request;
  const std::optional<std::string> encoding = param("encoding");
  if (!encoding.has_value()) {
    return absl::InvalidArgumentError(
        "a Connect GET needs the query parameter encoding=json or encoding=proto");
  }
  const std::optional<Codec> codec = CodecOfEncoding(*encoding);
  if (!codec.has_value()) {
    *unsupported_codec = true;
    return absl::InvalidArgumentError(
        absl::StrCat("encoding \"", *encoding, "\" is not supported; use json or proto"));
  }
  request.codec = *codec;
  request.compression = param("compression").value_or("");
  if (absl::Status supported = CheckEncoding(request.compression, "compression"); !supported.ok()) {
    return supported;
  }
  std::string message = param("message").value_or("");
  if (param("base64") == "1") {
    std::string decoded;
    // URL-safe alphabet, padding optional (RFC 4648 §5).
    if (!absl::WebSafeBase64Unescape(message, &decoded)) {
      return absl::InvalidArgumentError("message is not URL-safe base64 (base64=1)");
    }
    message = std::move(decoded);
  }
  if (message.size() > max_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat("message larger than ", max_bytes, " bytes"));
  }
  // A zero-length message is never decompressed (the spec says so).
  if (IsGzip(request.compression) && !message.empty()) {
    absl::StatusOr<std::string> inflated = Gunzip(message, max_bytes);
    if (!inflated.ok()) {
      return absl::Status(inflated.status().code(), absl::StrCat("message (compression=gzip): ",
                                                                 inflated.status().message()));
    }
    message = std::move(*inflated);
  }
  request.message = std::move(message);
  return request;
}

bool HasNoSideEffects(const google::protobuf::MethodDescriptor& method) {
  return method.options().idempotency_level() == google::protobuf::MethodOptions::NO_SIDE_EFFECTS;
}

Metadata ResponseHeaders(const Metadata& initial, const Metadata& trailing) {
  Metadata headers;
  auto add = [&headers](const std::string& prefix, const std::string& key,
                        const std::string& value) {
    const std::string name = absl::AsciiStrToLower(key);
    if (!IsHeaderName(name) || IsReservedKey(name)) return;
    if (absl::EndsWith(name, "-bin")) {
      std::string encoded;
      absl::Base64Escape(value, &encoded);
      encoded.erase(std::find(encoded.begin(), encoded.end(), '='), encoded.end());  // unpadded
      headers.emplace_back(prefix + name, std::move(encoded));
    } else if (IsAsciiValue(value)) {
      headers.emplace_back(prefix + name, value);
    }
  };
  for (const auto& [key, value] : initial) add("", key, value);
  for (const auto& [key, value] : trailing) add("trailer-", key, value);
  return headers;
}

const char CorsPolicy::kAllowedHeaders[] =
    "Content-Type, Connect-Protocol-Version, Connect-Timeout-Ms, Authorization, X-Api-Key, "
    "X-Request-Id, Accept-Encoding, Content-Encoding, Connect-Accept-Encoding, "
    "Connect-Content-Encoding, X-User-Agent";
const char CorsPolicy::kExposedHeaders[] =
    "Grpc-Status, Grpc-Message, Grpc-Status-Details-Bin, X-Request-Id, Trailer-X-Request-Id, "
    "Content-Encoding, Connect-Content-Encoding, Connect-Accept-Encoding";
const char CorsPolicy::kAllowedMethods[] = "GET, POST";

CorsPolicy::CorsPolicy(std::vector<std::string> allowed_origins) {
  for (std::string& origin : allowed_origins) {
    while (!origin.empty() && origin.back() == '/') origin.pop_back();
    if (origin == "*") any_ = true;
    if (!origin.empty()) allowed_origins_.push_back(std::move(origin));
  }
}

bool CorsPolicy::Allows(absl::string_view origin) const {
  if (origin.empty() || allowed_origins_.empty()) return false;
  return any_ || std::find(allowed_origins_.begin(), allowed_origins_.end(), origin) !=
                     allowed_origins_.end();
}

std::vector<std::string> CorsPolicy::ParseList(absl::string_view flag_value) {
  std::vector<std::string> origins;
  for (absl::string_view entry : absl::StrSplit(flag_value, ',')) {
    entry = absl::StripAsciiWhitespace(entry);
    if (!entry.empty()) origins.emplace_back(entry);
  }
  return origins;
}

}  // namespace linli::gateway::connect
