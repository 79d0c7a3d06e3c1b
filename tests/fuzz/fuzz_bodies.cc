#include "tests/fuzz/fuzz_bodies.h"

#include "absl/strings/str_split.h"
#include "common/auth/api_keys.h"
#include "common/auth/jwt.h"
#include "common/auth/principal.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/errors.h"
#include "common/pagination.h"
#include "common/pii/field_cipher.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/message.h"
#include "google/protobuf/stubs/logging.h"
#include "google/protobuf/util/field_comparator.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "linli/gateway/v1/console.pb.h"
#include "tests/fuzz/fuzz_check.h"

namespace linli::fuzz {
namespace {

using google::protobuf::Message;
using google::protobuf::MethodDescriptor;
using google::protobuf::ServiceDescriptor;

// linli.gateway.v1.ConsoleService from the generated pool. Naming a generated message of
// console.proto here keeps console.pb.o (and its descriptor registration) in every link.
const ServiceDescriptor& GatewayService() {
  static const ServiceDescriptor* const service = [] {
    google::protobuf::SetLogHandler(IgnoreProtobufLog);
    const ServiceDescriptor* from_pool =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(kGatewayService);
    const ServiceDescriptor* from_file =
        linli::gateway::v1::GetRegionRequest::descriptor()->file()->FindServiceByName(
            "ConsoleService");
    LINLI_FUZZ_CHECK(from_pool != nullptr && from_pool == from_file,
                     std::string("console.proto is not linked into the generated pool"));
    LINLI_FUZZ_CHECK(from_pool->method_count() > 0, std::string("ConsoleService has no methods"));
    return from_pool;
  }();
  return *service;
}

// The method picked by the first byte; nullptr for an empty input.
const MethodDescriptor* PickMethod(const uint8_t* data, size_t size) {
  if (size == 0) return nullptr;
  const ServiceDescriptor& service = GatewayService();
  return service.method(data[0] % service.method_count());
}

// A fresh, empty request of the method's input type (generated class, as the gateway uses).
std::unique_ptr<Message> NewRequest(const MethodDescriptor& method) {
  const Message* prototype =
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(method.input_type());
  LINLI_FUZZ_CHECK(prototype != nullptr,
                   absl::StrCat("no generated prototype for ", method.input_type()->full_name()));
  return std::unique_ptr<Message>(prototype->New());
}

// Field-by-field equality, unknown fields included; NaN equals NaN (JSON "NaN" is a legal
// double, and NaN != NaN would otherwise flag every such message).
bool Equal(const Message& a, const Message& b, std::string* report) {
  google::protobuf::util::DefaultFieldComparator comparator;
  comparator.set_treat_nan_as_equal(true);
  google::protobuf::util::MessageDifferencer differencer;
  differencer.set_field_comparator(&comparator);
  differencer.ReportDifferencesToString(report);
  return differencer.Compare(a, b);
}

// Deterministic binary serialization (map entries sorted by key).
std::string SerializeDeterministic(const Message& message) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    LINLI_FUZZ_CHECK(message.SerializePartialToCodedStream(&coded),
                     absl::StrCat("cannot serialize ", message.GetTypeName()));
  }  // the CodedOutputStream trims `out` when it goes away
  return out;
}

// Binary round trip of a well-formed message: serialize, parse, compare, serialize again.
void CheckBinaryRoundTrip(const MethodDescriptor& method, const Message& message,
                          absl::string_view input) {
  const std::string bytes = SerializeDeterministic(message);
  std::unique_ptr<Message> reparsed = NewRequest(method);
  LINLI_FUZZ_CHECK(
      reparsed->ParseFromString(bytes),
      absl::StrCat(method.full_name(), ": own serialization does not parse; input ", Show(input)));
  std::string report;
  LINLI_FUZZ_CHECK(Equal(message, *reparsed, &report),
                   absl::StrCat(method.full_name(), ": binary round trip changed the message: ",
                                report, "; input ", Show(input)));
  LINLI_FUZZ_CHECK(
      SerializeDeterministic(*reparsed) == bytes,
      absl::StrCat(method.full_name(), ": deterministic serialization is not stable; input ",
                   Show(input)));
}

const pii::FieldCipher& Cipher() {
  static const pii::FieldCipher* const cipher = [] {
    absl::StatusOr<pii::FieldCipher> made = pii::FieldCipher::FromSpec(kFieldCipherSpec);
    LINLI_FUZZ_CHECK(made.ok(), made.status().ToString());
    return new pii::FieldCipher(*std::move(made));
  }();
  return *cipher;
}

}  // namespace

void JsonToGatewayRequest(const uint8_t* data, size_t size) {
  const MethodDescriptor* method = PickMethod(data, size);
  if (method == nullptr) return;
  const absl::string_view json(reinterpret_cast<const char*>(data) + 1, size - 1);

  std::unique_ptr<Message> request = NewRequest(*method);
  google::protobuf::util::JsonParseOptions parse_options;
  parse_options.ignore_unknown_fields = false;  // as services/gateway/http_json.cc
  if (!google::protobuf::util::JsonStringToMessage(std::string(json), request.get(), parse_options)
           .ok()) {
    return;  // rejected: the gateway answers INVALID_ARGUMENT, nothing more to check
  }

  std::string printed;
  const auto print_status = google::protobuf::util::MessageToJsonString(*request, &printed, {});
  LINLI_FUZZ_CHECK(print_status.ok(),
                   absl::StrCat(method->full_name(), ": accepted JSON does not print: ",
                                print_status.ToString(), "; input ", Show(json)));
  std::unique_ptr<Message> reparsed = NewRequest(*method);
  const auto reparse_status =
      google::protobuf::util::JsonStringToMessage(printed, reparsed.get(), parse_options);
  LINLI_FUZZ_CHECK(
      reparse_status.ok(),
      absl::StrCat(method->full_name(), ": printed JSON ", Show(printed),
                   " does not parse: ", reparse_status.ToString(), "; input ", Show(json)));
  std::string report;
  LINLI_FUZZ_CHECK(Equal(*request, *reparsed, &report),
                   absl::StrCat(method->full_name(), ": JSON round trip changed the message: ",
                                report, "; printed ", Show(printed), "; input ", Show(json)));
  CheckBinaryRoundTrip(*method, *request, json);
}

void ProtoParseRequest(const uint8_t* data, size_t size) {
  const MethodDescriptor* method = PickMethod(data, size);
  if (method == nullptr) return;
  const absl::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);

  std::unique_ptr<Message> request = NewRequest(*method);
  if (!request->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return;
  CheckBinaryRoundTrip(*method, *request, bytes);
}

void PageToken(const uint8_t* data, size_t size) {
  const absl::string_view token(reinterpret_cast<const char*>(data), size);
  const absl::StatusOr<std::string> key = DecodePageToken(token, kPageTokenFingerprint);
  if (!key.ok()) {
    LINLI_FUZZ_CHECK(key.status().code() == absl::StatusCode::kInvalidArgument,
                     absl::StrCat("rejection is not INVALID_ARGUMENT: ", key.status().ToString(),
                                  "; token ", Show(token)));
    const auto bad_request = GetBadRequest(key.status());
    LINLI_FUZZ_CHECK(bad_request.has_value() && bad_request->field_violations_size() == 1 &&
                         bad_request->field_violations(0).field() == "page_token",
                     absl::StrCat("rejection does not name field page_token: ",
                                  key.status().ToString(), "; token ", Show(token)));
    return;
  }
  if (token.empty()) {
    LINLI_FUZZ_CHECK(key->empty(), std::string("the empty token must mean the first page"));
    return;
  }
  const std::string canonical = EncodePageToken(*key, kPageTokenFingerprint);
  LINLI_FUZZ_CHECK(
      canonical == token,
      absl::StrCat("accepted a token that EncodePageToken never issues: ", Show(token),
                   " decodes to key ", Show(*key), " whose token is ", Show(canonical)));
  const absl::StatusOr<std::string> again = DecodePageToken(canonical, kPageTokenFingerprint);
  LINLI_FUZZ_CHECK(
      again.ok() && *again == *key,
      absl::StrCat("re-encoded token does not decode to the same key: ", Show(canonical)));
  LINLI_FUZZ_CHECK(!DecodePageToken(token, "another query").ok(),
                   absl::StrCat("token accepted by another query: ", Show(token)));
}

void FieldCipherToken(const uint8_t* data, size_t size) {
  const absl::string_view token(reinterpret_cast<const char*>(data), size);
  const pii::FieldCipher& cipher = Cipher();

  const absl::StatusOr<std::string> forged = cipher.Decrypt(token, kFieldCipherAad);
  LINLI_FUZZ_CHECK(!forged.ok(), absl::StrCat("FORGERY: Decrypt accepted ", Show(token),
                                              " as plaintext ", Show(*forged)));
  const absl::StatusCode code = forged.status().code();
  LINLI_FUZZ_CHECK(
      code == absl::StatusCode::kInvalidArgument || code == absl::StatusCode::kFailedPrecondition ||
          code == absl::StatusCode::kDataLoss,
      absl::StrCat("unexpected rejection ", forged.status().ToString(), "; token ", Show(token)));

  const absl::StatusOr<std::string> seed = cipher.Decrypt(token, kFieldCipherSeedAad);
  if (seed.ok()) {
    const bool known =
        std::any_of(std::begin(kFieldCipherSeedPlaintexts), std::end(kFieldCipherSeedPlaintexts),
                    [&](const char* plaintext) { return *seed == plaintext; });
    LINLI_FUZZ_CHECK(known, absl::StrCat("FORGERY: Decrypt under the seed associated data gave ",
                                         Show(*seed), " for ", Show(token)));
  }

  if (!cipher.NeedsReencryption(token)) {
    LINLI_FUZZ_CHECK(absl::StartsWith(token, "v1.k1."),
                     absl::StrCat("NeedsReencryption is false for a token that is not under the "
                                  "active key: ",
                                  Show(token)));
  }
}

namespace {

constexpr char kAuthFuzzRsaPublicKey[] = R"(-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEApiN+norqQ3Jwk/i3X4pW
G6A7DNsS+XwSnwDS5Uw6egjEjjfWtiKshpaOEH6McV95PTYbIX+E497OCU8u0MzC
C2IqCM7YuvnhmbOg2vrRR2gR1kRwti6KnkA08VgiR2xWT0Xq/w1+Fukaefg006oB
UH8YYZNJrH2mNztu/PQlT4JXL9bq5Ig0XFqg8gu7uyM3MbIjli1cRp6hpmV6/bnS
mb/0MhCbZZ5dmjxtXra/KAy34YNA9dUdqSyso03mbgihhmpX/LXPPU2J3L1qq+Do
G1IyN1uQXimn1rQIdEzURzdXiBIlFe4uu27yoDb245D73sVU8mvklXjuRuRNkSWm
dQIDAQAB
-----END PUBLIC KEY-----
)";

const auth::JwtVerifier& FuzzVerifier() {
  static const auth::JwtVerifier* verifier = [] {
    auth::JwtKeySet keys;
    keys.Add(*auth::JwtKey::Hmac("k1", kAuthFuzzSecret));
    keys.Add(*auth::JwtKey::FromPem("r1", auth::JwtAlgorithm::kRs256, kAuthFuzzRsaPublicKey));
    return new auth::JwtVerifier(std::move(keys),
                                 {.issuer = "linli-fuzz", .audience = "linli-gateway"});
  }();
  return *verifier;
}

}  // namespace

void AuthToken(const uint8_t* data, size_t size) {
  if (size == 0) return;
  const absl::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 2 == 1) {
    const absl::StatusOr<auth::ApiKeyParts> parts = auth::ParseApiKey(input);
    if (!parts.ok()) {
      LINLI_FUZZ_CHECK(parts.status().code() == absl::StatusCode::kUnauthenticated,
                       absl::StrCat("API key rejection is not UNAUTHENTICATED: ",
                                    parts.status().ToString(), "; key ", Show(input)));
      return;
    }
    const std::string canonical =
        absl::StrCat("lk.", parts->key_id, ".", auth::Base64UrlEncode(parts->secret));
    LINLI_FUZZ_CHECK(canonical == input,
                     absl::StrCat("accepted a non-canonical API key ", Show(input)));
    return;
  }
  const absl::StatusOr<nlohmann::json> claims =
      FuzzVerifier().Verify(input, absl::FromUnixSeconds(kAuthFuzzNow));
  if (!claims.ok()) {
    LINLI_FUZZ_CHECK(claims.status().code() == absl::StatusCode::kUnauthenticated,
                     absl::StrCat("token rejection is not UNAUTHENTICATED: ",
                                  claims.status().ToString(), "; token ", Show(input)));
    return;
  }
  std::vector<absl::string_view> segments = absl::StrSplit(input, '.');
  LINLI_FUZZ_CHECK(segments.size() == 3, absl::StrCat("accepted ", Show(input)));
  std::string header_text;
  for (absl::string_view segment : segments) {
    std::string decoded;
    LINLI_FUZZ_CHECK(
        auth::Base64UrlDecode(segment, &decoded) && auth::Base64UrlEncode(decoded) == segment,
        absl::StrCat("accepted a non-canonical segment in ", Show(input)));
    if (header_text.empty()) header_text = decoded;
  }
  const nlohmann::json header = nlohmann::json::parse(header_text, nullptr, false);
  LINLI_FUZZ_CHECK(
      header.is_object() && header.value("kid", "") == "k1" && header.value("alg", "") == "HS256",
      absl::StrCat("FORGERY: accepted a token not signed with k1: ", Show(input)));
  LINLI_FUZZ_CHECK(claims->value("iss", "") == "linli-fuzz",
                   absl::StrCat("accepted a token of another issuer: ", Show(input)));
  const absl::StatusOr<auth::Principal> principal =
      auth::PrincipalFromClaims(*claims, auth::TokenLifetimes{});
  LINLI_FUZZ_CHECK(
      principal.ok() || principal.status().code() == absl::StatusCode::kUnauthenticated,
      absl::StrCat("principal rejection is not UNAUTHENTICATED: ", principal.status().ToString()));
}

}  // namespace linli::fuzz
