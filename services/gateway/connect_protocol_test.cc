// The pure pieces of the Connect protocol (connect_protocol.h).
#include "services/gateway/connect_protocol.h"

#include <map>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "linli/gateway/v1/console.pb.h"
#include "linli/registry/v1/registry.pb.h"

namespace linli::gateway::connect {
namespace {

TEST(ConnectCodec, ContentTypesAndEncodings) {
  EXPECT_EQ(CodecOfContentType("application/json"), Codec::kJson);
  EXPECT_EQ(CodecOfContentType("Application/JSON; charset=utf-8"), Codec::kJson);
  EXPECT_EQ(CodecOfContentType("application/proto"), Codec::kProto);
  EXPECT_EQ(CodecOfContentType("application/jsonx"), std::nullopt);
  EXPECT_EQ(CodecOfContentType("application/connect+json"), std::nullopt);
  EXPECT_EQ(CodecOfContentType("text/plain"), std::nullopt);
  EXPECT_EQ(CodecOfContentType(""), std::nullopt);
  EXPECT_TRUE(IsStreamingContentType("application/connect+proto"));
  EXPECT_FALSE(IsStreamingContentType("application/proto"));
  EXPECT_EQ(CodecOfEncoding("json"), Codec::kJson);
  EXPECT_EQ(CodecOfEncoding("proto"), Codec::kProto);
  EXPECT_EQ(CodecOfEncoding("xml"), std::nullopt);
  EXPECT_STREQ(ContentType(Codec::kProto), "application/proto");
  EXPECT_STREQ(ContentType(Codec::kJson), "application/json");
}

TEST(ConnectStream, ContentTypesEnvelopesAndEndStream) {
  EXPECT_EQ(CodecOfStreamingContentType("application/connect+json"), Codec::kJson);
  EXPECT_EQ(CodecOfStreamingContentType("Application/Connect+Proto; x=1"), Codec::kProto);
  EXPECT_EQ(CodecOfStreamingContentType("application/json"), std::nullopt);
  EXPECT_EQ(CodecOfStreamingContentType("application/connect+xml"), std::nullopt);
  EXPECT_STREQ(StreamingContentType(Codec::kJson), "application/connect+json");

  // The length is big-endian after the flags byte.
  const std::string frame = Frame(kEnvelopeEndStream, std::string(258, 'a'));
  ASSERT_EQ(frame.size(), 263u);
  EXPECT_EQ(frame.substr(0, 5), std::string("\x02\x00\x00\x01\x02", 5));
  absl::StatusOr<Envelope> one = ParseRequestEnvelope(Frame(0, "{\"a\":1}"), 100);
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(one->flags, 0);
  EXPECT_EQ(one->payload, "{\"a\":1}");
  EXPECT_EQ(ParseRequestEnvelope(Frame(kEnvelopeCompressed, "z"), 100)->flags, kEnvelopeCompressed);
  EXPECT_TRUE(ParseRequestEnvelope(Frame(0, ""), 100).ok());  // an empty message is a message

  auto Problem = [](absl::string_view body, size_t max = 100) {
    absl::StatusOr<Envelope> parsed = ParseRequestEnvelope(body, max);
    return parsed.ok() ? std::string("ok")
                       : absl::StrCat(absl::StatusCodeToString(parsed.status().code()), ": ",
                                      parsed.status().message());
  };
  EXPECT_TRUE(absl::StrContains(Problem(""), "INVALID_ARGUMENT: a streaming request's body"));
  EXPECT_TRUE(absl::StrContains(Problem("{}"), "5-byte prefix"));
  EXPECT_TRUE(absl::StrContains(Problem(Frame(0, "abc").substr(0, 6)), "says 3 bytes but only 1"));
  EXPECT_TRUE(absl::StrContains(Problem(Frame(0, "a") + Frame(0, "b")), "exactly one message"));
  EXPECT_TRUE(absl::StrContains(Problem(Frame(kEnvelopeEndStream, "{}")), "flags 0x2"));
  EXPECT_TRUE(absl::StrContains(Problem(Frame(0x80, "{}")), "flags 0x80"));
  EXPECT_TRUE(absl::StrContains(Problem(Frame(0, std::string(101, 'x'))), "RESOURCE_EXHAUSTED"));
  // A length far beyond what was sent is refused by its size before anything is read.
  EXPECT_TRUE(absl::StrContains(Problem(std::string("\x00\xff\xff\xff\xff", 5), 1 << 20),
                                "RESOURCE_EXHAUSTED"));

  // The end of a stream: the error when there is one, the metadata as ResponseHeaders keeps it.
  EXPECT_EQ(
      nlohmann::json::parse(EndStreamJson(
          nullptr, {{"x-request-id", "r1"}, {"grpc-status", "0"}, {"x-b", "1"}, {"x-b", "2"}})),
      nlohmann::json::parse(R"({"metadata": {"x-request-id": ["r1"], "x-b": ["1", "2"]}})"));
  EXPECT_EQ(nlohmann::json::parse(
                EndStreamJson({{"code", "permission_denied"}, {"message", "不行"}}, {})),
            nlohmann::json::parse(
                R"({"error": {"code": "permission_denied", "message": "不行"}, "metadata": {}})"));
}

TEST(ConnectCompression, GzipRoundTripAndLimits) {
  const std::string text(10000, 'x');
  const std::string zipped = Gzip(text);
  ASSERT_FALSE(zipped.empty());
  EXPECT_LT(zipped.size(), text.size());
  EXPECT_EQ(static_cast<unsigned char>(zipped[0]), 0x1f);  // a gzip member
  EXPECT_EQ(static_cast<unsigned char>(zipped[1]), 0x8b);
  absl::StatusOr<std::string> back = Gunzip(zipped, 1 << 20);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, text);
  // Two members one after the other are one stream.
  back = Gunzip(Gzip("ab") + Gzip("cd"), 100);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, "abcd");
  // Inflating past the limit stops there.
  EXPECT_EQ(Gunzip(zipped, 9999).status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(Gunzip("not gzip at all", 100).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Gunzip(zipped.substr(0, zipped.size() / 2), 1 << 20).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ConnectCompression, SupportedEncodingsAndAcceptEncoding) {
  EXPECT_TRUE(CheckEncoding("", "Content-Encoding").ok());
  EXPECT_TRUE(CheckEncoding("identity", "Content-Encoding").ok());
  EXPECT_TRUE(CheckEncoding("gzip", "Content-Encoding").ok());
  EXPECT_TRUE(CheckEncoding("GZIP", "Content-Encoding").ok());
  for (const char* unsupported : {"br", "zstd", "deflate", "snappy"}) {
    absl::Status status = CheckEncoding(unsupported, "Content-Encoding");
    EXPECT_EQ(status.code(), absl::StatusCode::kUnimplemented) << unsupported;
    EXPECT_NE(status.message().find("gzip, identity"), std::string::npos) << status;
  }
  EXPECT_TRUE(AcceptsGzip("gzip", ""));
  EXPECT_TRUE(AcceptsGzip("br, gzip", ""));
  EXPECT_TRUE(AcceptsGzip("br,gzip;q=0.5", ""));
  EXPECT_TRUE(AcceptsGzip("*", ""));
  EXPECT_FALSE(AcceptsGzip("gzip;q=0", ""));
  EXPECT_FALSE(AcceptsGzip("br, zstd", ""));
  EXPECT_FALSE(AcceptsGzip("identity", "gzip"));
  EXPECT_FALSE(AcceptsGzip(std::string(), ""));
  // Without Accept-Encoding the client accepts the coding it sent.
  EXPECT_TRUE(AcceptsGzip(std::nullopt, "gzip"));
  EXPECT_FALSE(AcceptsGzip(std::nullopt, ""));
}

TEST(ConnectHeaders, ProtocolVersionAndTimeout) {
  EXPECT_TRUE(CheckProtocolVersion(std::nullopt).ok());
  EXPECT_TRUE(CheckProtocolVersion("1").ok());
  EXPECT_EQ(CheckProtocolVersion("2").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckProtocolVersion("").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(CheckGetProtocolVersion(std::nullopt).ok());
  EXPECT_TRUE(CheckGetProtocolVersion("v1").ok());
  EXPECT_EQ(CheckGetProtocolVersion("1").code(), absl::StatusCode::kInvalidArgument);

  EXPECT_EQ(*ParseTimeout(std::nullopt), std::nullopt);
  EXPECT_EQ(*ParseTimeout("1500"), absl::Milliseconds(1500));
  EXPECT_EQ(*ParseTimeout("9999999999"), absl::Milliseconds(9999999999));
  for (const char* bad : {"", "0", "-5", "12x", "10000000000", " 5", "1.5"}) {
    EXPECT_EQ(ParseTimeout(std::string(bad)).status().code(), absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

TEST(ConnectGet, ParsesTheQuery) {
  std::map<std::string, std::string> query;
  auto param = [&query](const std::string& name) -> std::optional<std::string> {
    auto it = query.find(name);
    if (it == query.end()) return std::nullopt;
    return it->second;
  };
  bool unsupported_codec = false;
  // JSON, percent-decoded already, with an unknown parameter.
  query = {{"connect", "v1"}, {"encoding", "json"}, {"message", R"({"a":1})"}, {"x", "y"}};
  absl::StatusOr<GetRequest> get = ParseGetRequest(param, 1024, &unsupported_codec);
  ASSERT_TRUE(get.ok()) << get.status();
  EXPECT_EQ(get->codec, Codec::kJson);
  EXPECT_EQ(get->message, R"({"a":1})");
  // Binary in URL-safe base64, with and without padding, gzip-compressed.
  const std::string binary("\xfb\xff\x00\x01", 4);
  for (bool pad : {false, true}) {
    std::string encoded = absl::WebSafeBase64Escape(Gzip(binary));
    if (pad) encoded.append((4 - encoded.size() % 4) % 4, '=');
    query = {{"encoding", "proto"}, {"base64", "1"}, {"compression", "gzip"}, {"message", encoded}};
    get = ParseGetRequest(param, 1024, &unsupported_codec);
    ASSERT_TRUE(get.ok()) << get.status();
    EXPECT_EQ(get->codec, Codec::kProto);
    EXPECT_EQ(get->message, binary);
  }
  // No message: the empty message.
  query = {{"encoding", "proto"}};
  get = ParseGetRequest(param, 1024, &unsupported_codec);
  ASSERT_TRUE(get.ok()) << get.status();
  EXPECT_EQ(get->message, "");

  query = {{"message", "{}"}};
  EXPECT_EQ(ParseGetRequest(param, 1024, &unsupported_codec).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(unsupported_codec);
  query = {{"encoding", "xml"}, {"message", "{}"}};
  EXPECT_EQ(ParseGetRequest(param, 1024, &unsupported_codec).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(unsupported_codec);
  query = {{"encoding", "json"}, {"connect", "v2"}};
  EXPECT_EQ(ParseGetRequest(param, 1024, &unsupported_codec).status().code(),
            absl::StatusCode::kInvalidArgument);
  query = {{"encoding", "json"}, {"compression", "br"}, {"message", "x"}};
  EXPECT_EQ(ParseGetRequest(param, 1024, &unsupported_codec).status().code(),
            absl::StatusCode::kUnimplemented);
  query = {{"encoding", "proto"}, {"base64", "1"}, {"message", "!!!"}};
  EXPECT_EQ(ParseGetRequest(param, 1024, &unsupported_codec).status().code(),
            absl::StatusCode::kInvalidArgument);
  query = {{"encoding", "json"},
           {"compression", "gzip"},
           {"base64", "1"},
           {"message", absl::WebSafeBase64Escape(Gzip(std::string(5000, ' ')))}};
  EXPECT_EQ(ParseGetRequest(param, 1024, &unsupported_codec).status().code(),
            absl::StatusCode::kResourceExhausted);
}

TEST(ConnectGet, IdempotencyLevelComesFromTheProtos) {
  const auto* console =
      v1::GetRegionRequest::descriptor()->file()->FindServiceByName("ConsoleService");
  ASSERT_NE(console, nullptr);
  EXPECT_TRUE(HasNoSideEffects(*console->FindMethodByName("ListLines")));
  EXPECT_TRUE(HasNoSideEffects(*console->FindMethodByName("GetRegion")));
  // Writes, and a read that can write an audit entry (the full view), are POST only.
  EXPECT_FALSE(HasNoSideEffects(*console->FindMethodByName("CreateRegion")));
  EXPECT_FALSE(HasNoSideEffects(*console->FindMethodByName("Plan")));
  EXPECT_FALSE(HasNoSideEffects(*console->FindMethodByName("GetElder")));
}

TEST(ConnectMetadata, InitialAsHeadersTrailingPrefixed) {
  const Metadata headers = ResponseHeaders({{"x-shard", "7"},
                                            {"grpc-accept-encoding", "gzip"},
                                            {"content-type", "application/grpc"},
                                            {"connection", "close"},
                                            {"connect-foo", "reserved"},
                                            {"access-control-allow-origin", "*"},
                                            {"x-blob-bin", std::string("\x00\xff\x10", 3)},
                                            {"x-bad", "line\nbreak"}},
                                           {{"x-request-id", "abc"},
                                            {"grpc-status-details-bin", "…"},
                                            {"grpc-status", "0"},
                                            {"x-cost", "12"},
                                            {"x-cost", "13"}});
  const Metadata want = {{"x-shard", "7"},
                         {"x-blob-bin", "AP8Q"},
                         {"trailer-x-request-id", "abc"},
                         {"trailer-x-cost", "12"},
                         {"trailer-x-cost", "13"}};
  EXPECT_EQ(headers, want);
}

// Unknown keys (a newer client's fields) are skipped at any depth when allowed, but a known
// enum field holding a name that does not exist is refused either way, naming the field.
TEST(ConnectJson, UnknownFieldsAreSkippedButUnknownEnumNamesAreRefused) {
  constexpr char kNewerClient[] =
      R"({"elder":{"displayName":"王阿姨","livingSituation":"LIVING_SITUATION_ALONE",)"
      R"("newField":{"x":[1]},"contacts":[{"phone":"13800000000","since":2}]},)"
      R"("requestId":"r1","later":true})";
  registry::v1::CreateElderRequest request;
  ASSERT_TRUE(DecodeJson(kNewerClient, &request, /*ignore_unknown_fields=*/true).ok());
  EXPECT_EQ(request.elder().display_name(), "王阿姨");
  EXPECT_EQ(request.elder().living_situation(), registry::v1::LIVING_SITUATION_ALONE);
  ASSERT_EQ(request.elder().contacts_size(), 1);
  EXPECT_EQ(request.elder().contacts(0).phone(), "13800000000");
  EXPECT_EQ(request.request_id(), "r1");

  // Alone, and after an unknown field that a strict parse would stop at first.
  constexpr char kMisspelt[] = R"({"elder":{"livingSituation":"LIVING_SITUATION_LONELY"}})";
  constexpr char kMisspeltAfterNew[] =
      R"({"later":1,"elder":{"livingSituation":"LIVING_SITUATION_LONELY","displayName":"x"}})";
  for (bool ignore : {true, false}) {
    for (const char* json : {kMisspelt, kMisspeltAfterNew}) {
      registry::v1::CreateElderRequest bad;
      absl::Status status = DecodeJson(json, &bad, ignore);
      EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << json << " " << ignore;
      if (ignore || json == kMisspelt) {
        EXPECT_TRUE(absl::StrContains(status.message(), "living_situation") ||
                    absl::StrContains(status.message(), "livingSituation"))
            << status.message();
      }
    }
  }
  registry::v1::CreateElderRequest strict;
  EXPECT_EQ(DecodeJson(R"({"later":true})", &strict, false).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(DecodeJson("", &strict, false).ok());
  // Timestamps and other well-known types keep their own JSON forms.
  constexpr char kWithTime[] = R"({"elder":{"createTime":"2026-12-06T08:00:00Z","x":1}})";
  registry::v1::CreateElderRequest with_time;
  ASSERT_TRUE(DecodeJson(kWithTime, &with_time, true).ok());
  EXPECT_EQ(with_time.elder().create_time().seconds(), 1796544000);
  EXPECT_FALSE(DecodeJson("{not json", &with_time, true).ok());
}

TEST(ConnectCors, AllowedOrigins) {
  CorsPolicy off({});
  EXPECT_FALSE(off.enabled());
  EXPECT_FALSE(off.Allows("https://a.example"));
  CorsPolicy some(CorsPolicy::ParseList(" https://a.example/ , ,http://localhost:5173"));
  EXPECT_TRUE(some.enabled());
  EXPECT_TRUE(some.Allows("https://a.example"));
  EXPECT_TRUE(some.Allows("http://localhost:5173"));
  EXPECT_FALSE(some.Allows("https://b.example"));
  EXPECT_FALSE(some.Allows("https://a.example.evil"));
  EXPECT_FALSE(some.Allows(""));
  CorsPolicy any({"*"});
  EXPECT_TRUE(any.Allows("https://b.example"));
  EXPECT_FALSE(any.Allows(""));
  EXPECT_TRUE(CorsPolicy::ParseList("").empty());
}

}  // namespace
}  // namespace linli::gateway::connect
