// The HTTP port speaks the Connect protocol (issue 22), with fake backends in this process and
// the gateway's own gRPC server behind the port, as in a deployment: binary and JSON unary calls,
// GET of the methods marked NO_SIDE_EFFECTS (and only those), unknown JSON fields, compression
// both ways, Connect-Protocol-Version, Connect-Timeout-Ms, response metadata as headers and
// trailer- headers, CORS. Every form of a call goes through the gate: a GET without credentials
// is 401 like a POST.
#include <httplib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <atomic>
#include <thread>
#include <vector>
#include "absl/cleanup/cleanup.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "common/auth/jwt.h"
#include "common/clock.h"
#include "common/server.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "linli/gateway/v1/console.pb.h"
#include "nlohmann/json.hpp"
#include "services/gateway/connect_protocol.h"
#include "services/gateway/console_service.h"
#include "services/gateway/elder_app_service.h"
#include "services/gateway/gate.h"
#include "services/gateway/gateway_server.h"
#include "services/gateway/http_json.h"
#include "services/gateway/partner_service.h"
#include "services/gateway/worker_app_service.h"
#include "tests/support/in_process_gateway.h"

namespace linli::gateway {
namespace {

const std::string kSecret = "connect-test-secret-0123456789abcdef";
const absl::Time kStart = absl::FromUnixSeconds(1'800'000'000);
constexpr int kLines = 60;  // ListLines answers this many: over 1 KiB, so it is compressed

class FakeRegistry final : public registry::v1::RegistryService::Service {
 public:
  grpc::Status ListLines(grpc::ServerContext*, const registry::v1::ListLinesRequest*,
                         registry::v1::ListLinesResponse* response) override {
    for (int i = 0; i < kLines; ++i) {
      registry::v1::Line* line = response->add_lines();
      line->set_id(absl::StrCat("line-", i));
      line->set_name(absl::StrCat("lines/line-", i));
      line->set_display_name("民政");
    }
    return grpc::Status::OK;
  }
  grpc::Status GetRegion(grpc::ServerContext*, const registry::v1::GetRegionRequest* request,
                         registry::v1::GetRegionResponse* response) override {
    if (request->name() != "regions/310101") {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "no region " + request->name());
    }
    response->mutable_region()->set_name(request->name());
    response->mutable_region()->set_code("310101");
    response->mutable_region()->set_display_name("黄浦区");
    response->mutable_region()->set_parent("regions/310000");
    response->add_ancestors("regions/310000");
    return grpc::Status::OK;
  }
};
class FakeScheduling final : public scheduling::v1::SchedulingService::Service {};
// Feedback's notices, as far as the long-read and stream tests need: a read asked to wait is held
// until a newer notice is added, the test releases it, or its wait (at most 20 s) is over; every
// read records the wait it was asked for.
class FakeFeedback final : public feedback::v1::FeedbackService::Service {
 public:
  grpc::Status ListNotices(grpc::ServerContext* context,
                           const feedback::v1::ListNoticesRequest* request,
                           feedback::v1::ListNoticesResponse* response) override {
    absl::MutexLock lock(&mu_);
    waits_.push_back(request->wait_seconds());
    auto newer = [&] {
      return !notices_.empty() && notices_.back().sequence() > request->after_sequence();
    };
    // Woken by a change, or every 50 ms to see whether the caller has gone, as feedback does.
    const absl::Time until = absl::Now() + absl::Seconds(std::min(request->wait_seconds(), 20));
    while (request->wait_seconds() > 0 && !released_ && !newer() && !context->IsCancelled() &&
           absl::Now() < until) {
      changed_.WaitWithTimeout(&mu_, absl::Milliseconds(50));
    }
    if (context->IsCancelled()) ++cancelled_;
    if (request->newest_first()) {
      if (!notices_.empty()) *response->add_notices() = notices_.back();
      return grpc::Status::OK;
    }
    for (const feedback::v1::Notice& notice : notices_) {
      if (notice.sequence() > request->after_sequence()) *response->add_notices() = notice;
    }
    return grpc::Status::OK;
  }
  std::vector<int> waits() {
    absl::MutexLock lock(&mu_);
    return waits_;
  }
  // Reads whose caller went away while they waited.
  int cancelled() {
    absl::MutexLock lock(&mu_);
    return cancelled_;
  }
  void Release() {
    absl::MutexLock lock(&mu_);
    released_ = true;
    changed_.SignalAll();
  }
  void AddNotice(int64_t sequence, const std::string& text) {
    absl::MutexLock lock(&mu_);
    feedback::v1::Notice& notice = notices_.emplace_back();
    notice.set_name(absl::StrCat("notices/", sequence));
    notice.set_sequence(sequence);
    notice.set_recipient("elders/e1");
    notice.set_elder("elders/e1");
    notice.set_text(text);
    changed_.SignalAll();
  }

 private:
  absl::Mutex mu_;
  absl::CondVar changed_;
  bool released_ ABSL_GUARDED_BY(mu_) = false;
  int cancelled_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<int> waits_ ABSL_GUARDED_BY(mu_);
  std::vector<feedback::v1::Notice> notices_ ABSL_GUARDED_BY(mu_);
};

// An admin token valid at kStart for ten minutes.
std::string AdminToken() {
  auto key = auth::JwtKey::Hmac("test", kSecret);
  const int64_t now = absl::ToUnixSeconds(kStart);
  return *auth::SignJwt(*key, {{"iss", "linli-test"},
                               {"aud", "linli-gateway"},
                               {"role", "admin"},
                               {"sub", "staff/admin"},
                               {"iat", now},
                               {"exp", now + 600}});
}

const std::string kListLines = "/linli.gateway.v1.ConsoleService/ListLines";
const std::string kGetRegion = "/linli.gateway.v1.ConsoleService/GetRegion";

std::string Proto(const google::protobuf::Message& message) {
  std::string bytes;
  message.SerializeToString(&bytes);
  return bytes;
}

v1::GetRegionRequest GetRegionRequest(const std::string& name) {
  v1::GetRegionRequest request;
  request.set_name(name);
  return request;
}

class HttpConnect : public ::testing::Test {
 protected:
  void SetUp() override {
    auto world = testing::InProcessGateway::Start({&registry_, &scheduling_, &feedback_}, kSecret,
                                                  {}, clock_);
    ASSERT_TRUE(world.ok()) << world.status();
    world_ = std::move(*world);
    gateway_ = &world_->server();
    http_ = StartHttp({});
    ASSERT_NE(http_, nullptr);
  }

  void TearDown() override {
    for (auto& http : extra_http_) http->Stop();
    if (http_ != nullptr) http_->Stop();
    extra_http_.clear();
    http_.reset();
    world_.reset();
  }

  std::unique_ptr<HttpJsonServer> StartHttp(HttpJsonOptions options) {
    auto http = HttpJsonServer::Start("127.0.0.1:0", PublicServiceNames(), *gateway_,
                                      absl::Seconds(30), 64 * 1024, {},
                                      HttpJsonServer::kDefaultListenBacklog, std::move(options));
    EXPECT_TRUE(http.ok()) << http.status();
    return http.ok() ? std::move(*http) : nullptr;
  }

  // A client of `http` (the default port when null) that shows bodies as sent.
  std::unique_ptr<httplib::Client> Client(const HttpJsonServer* http = nullptr) {
    auto client =
        std::make_unique<httplib::Client>("127.0.0.1", (http ? http : http_.get())->port());
    client->set_decompress(false);
    client->set_read_timeout(30, 0);
    return client;
  }
  // Another port on the same gateway, with `options`.
  const HttpJsonServer* ExtraHttp(HttpJsonOptions options) {
    extra_http_.push_back(StartHttp(std::move(options)));
    return extra_http_.back().get();
  }

  static httplib::Headers Admin(httplib::Headers more = {}) {
    more.emplace("Authorization", "Bearer " + AdminToken());
    return more;
  }

  static std::string Code(const httplib::Result& result) {
    return nlohmann::json::parse(result->body, nullptr, false).value("code", "");
  }
  static std::string Message(const httplib::Result& result) {
    return nlohmann::json::parse(result->body, nullptr, false).value("message", "");
  }

  FakeClock clock_{kStart};
  FakeRegistry registry_;
  FakeScheduling scheduling_;
  FakeFeedback feedback_;
  std::unique_ptr<testing::InProcessGateway> world_;
  GatewayServer* gateway_ = nullptr;  // world_'s
  std::unique_ptr<HttpJsonServer> http_;
  std::vector<std::unique_ptr<HttpJsonServer>> extra_http_;
};

TEST_F(HttpConnect, BinaryProtobufRoundTrip) {
  auto client = Client();
  auto result = client->Post(kGetRegion, Admin(), Proto(GetRegionRequest("regions/310101")),
                             "application/proto");
  ASSERT_TRUE(result);
  ASSERT_EQ(result->status, 200) << result->body;
  EXPECT_EQ(result->get_header_value("Content-Type"), "application/proto");
  v1::GetRegionResponse response;
  ASSERT_TRUE(response.ParseFromString(result->body));
  EXPECT_EQ(response.region().display_name(), "黄浦区");
  EXPECT_EQ(response.region().code(), "310101");

  // An error of a binary call is still a Connect JSON error.
  auto missing = client->Post(kGetRegion, Admin(), Proto(GetRegionRequest("regions/310102")),
                              "application/proto");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(missing->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(Code(missing), "not_found");

  // Bytes that are not the request type: invalid_argument naming it.
  auto garbage =
      client->Post(kGetRegion, Admin(), std::string("\xff\xff\xff", 3), "application/proto");
  ASSERT_TRUE(garbage);
  EXPECT_EQ(garbage->status, 400);
  EXPECT_EQ(Code(garbage), "invalid_argument");
  EXPECT_TRUE(absl::StrContains(Message(garbage), "linli.gateway.v1.GetRegionRequest"))
      << garbage->body;

  // Neither JSON nor proto: 415 naming both; streaming types too (no method streams yet).
  for (const char* type : {"text/plain", "application/connect+proto"}) {
    auto refused = client->Post(kGetRegion, Admin(), "x", type);
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->status, 415) << type;
    EXPECT_EQ(refused->get_header_value("Content-Type"), "application/json");
  }
}

TEST_F(HttpConnect, GetServesMethodsWithoutSideEffectsInJsonAndProto) {
  auto client = Client();
  // encoding=json, the message percent-encoded in the query.
  auto json = client->Get(
      kGetRegion,
      {{"connect", "v1"}, {"encoding", "json"}, {"message", R"({"name":"regions/310101"})"}},
      Admin());
  ASSERT_TRUE(json);
  ASSERT_EQ(json->status, 200) << json->body;
  EXPECT_EQ(json->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(json->get_header_value("Cache-Control"), "private");
  EXPECT_EQ(nlohmann::json::parse(json->body)["region"]["displayName"], "黄浦区");

  // encoding=proto in URL-safe base64.
  auto proto = client->Get(
      kGetRegion,
      {{"connect", "v1"},
       {"encoding", "proto"},
       {"base64", "1"},
       {"message", absl::WebSafeBase64Escape(Proto(GetRegionRequest("regions/310101")))}},
      Admin());
  ASSERT_TRUE(proto);
  ASSERT_EQ(proto->status, 200) << proto->body;
  EXPECT_EQ(proto->get_header_value("Content-Type"), "application/proto");
  v1::GetRegionResponse response;
  ASSERT_TRUE(response.ParseFromString(proto->body));
  EXPECT_EQ(response.region().name(), "regions/310101");

  // compression=gzip: the message is gzip, then base64.
  auto zipped = client->Get(
      kGetRegion,
      {{"encoding", "json"},
       {"base64", "1"},
       {"compression", "gzip"},
       {"message", absl::WebSafeBase64Escape(connect::Gzip(R"({"name":"regions/310101"})"))}},
      Admin());
  ASSERT_TRUE(zipped);
  EXPECT_EQ(zipped->status, 200) << zipped->body;

  // The same gate: no token is 401; an unknown codec 415; a bad connect= 400.
  auto anonymous =
      client->Get(kListLines, {{"encoding", "json"}, {"message", "{}"}}, httplib::Headers{});
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401);
  EXPECT_EQ(Code(anonymous), "unauthenticated");
  auto xml = client->Get(kListLines, {{"encoding", "xml"}, {"message", "{}"}}, Admin());
  ASSERT_TRUE(xml);
  EXPECT_EQ(xml->status, 415);
  auto v2 = client->Get(kListLines, {{"connect", "v2"}, {"encoding", "json"}}, Admin());
  ASSERT_TRUE(v2);
  EXPECT_EQ(v2->status, 400);
  EXPECT_EQ(Code(v2), "invalid_argument");
  auto no_method = client->Get("/linli.gateway.v1.ConsoleService/Nope?encoding=json", Admin());
  ASSERT_TRUE(no_method);
  EXPECT_EQ(no_method->status, 404);
}

TEST_F(HttpConnect, GetOfAMethodWithSideEffectsIsRefused) {
  auto client = Client();
  // A write, and GetElder, whose full view writes an audit entry.
  for (const std::string method : {"CreateRegion", "Plan", "GetElder"}) {
    auto refused = client->Get("/linli.gateway.v1.ConsoleService/" + method,
                               {{"encoding", "json"}, {"message", "{}"}}, Admin());
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->status, 405) << method;
    EXPECT_EQ(refused->get_header_value("Allow"), "POST") << method;
    EXPECT_EQ(Code(refused), "unimplemented") << method;
    EXPECT_TRUE(absl::StrContains(Message(refused), "NO_SIDE_EFFECTS")) << refused->body;
  }
}

TEST_F(HttpConnect, UnknownJsonFieldsAreIgnoredUnlessStrict) {
  const std::string body = R"({"name":"regions/310101","addedInANewerProto":{"x":1}})";
  auto lenient = Client()->Post(kGetRegion, Admin(), body, "application/json");
  ASSERT_TRUE(lenient);
  EXPECT_EQ(lenient->status, 200) << lenient->body;

  HttpJsonOptions strict;
  strict.reject_unknown_json_fields = true;
  auto refused = Client(ExtraHttp(strict))->Post(kGetRegion, Admin(), body, "application/json");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 400);
  EXPECT_EQ(Code(refused), "invalid_argument");
  EXPECT_TRUE(absl::StrContains(Message(refused), "addedInANewerProto")) << refused->body;
}

TEST_F(HttpConnect, GzipRequestBodies) {
  auto client = Client();
  auto zipped =
      client->Post(kGetRegion, Admin({{"Content-Encoding", "gzip"}}),
                   connect::Gzip(Proto(GetRegionRequest("regions/310101"))), "application/proto");
  ASSERT_TRUE(zipped);
  EXPECT_EQ(zipped->status, 200) << zipped->body;
  // A small body that inflates past the size limit (64 KiB here) is refused like a large one.
  auto bomb = client->Post(kGetRegion, Admin({{"Content-Encoding", "gzip"}}),
                           connect::Gzip(std::string(1 << 20, ' ')), "application/json");
  ASSERT_TRUE(bomb);
  EXPECT_EQ(bomb->status, 413);
  EXPECT_EQ(Code(bomb), "resource_exhausted");
  // Not gzip at all.
  auto corrupt = client->Post(kGetRegion, Admin({{"Content-Encoding", "gzip"}}), "not gzip",
                              "application/json");
  ASSERT_TRUE(corrupt);
  EXPECT_EQ(corrupt->status, 400);
  EXPECT_EQ(Code(corrupt), "invalid_argument");
}

TEST_F(HttpConnect, GzipResponsesAboveTheThreshold) {
  auto client = Client();
  // A large answer, to a client preferring br: gzip, the one this port writes.
  for (const std::string type : {"application/json", "application/proto"}) {
    auto large = client->Post(kListLines, Admin({{"Accept-Encoding", "br, gzip"}}),
                              type == "application/json" ? "{}" : "", type);
    ASSERT_TRUE(large);
    ASSERT_EQ(large->status, 200) << type;
    EXPECT_EQ(large->get_header_value("Content-Encoding"), "gzip") << type;
    absl::StatusOr<std::string> body = connect::Gunzip(large->body, 1 << 20);
    ASSERT_TRUE(body.ok()) << body.status();
    registry::v1::ListLinesResponse lines;
    if (type == "application/json") {
      EXPECT_EQ(nlohmann::json::parse(*body)["lines"].size(), static_cast<size_t>(kLines));
    } else {
      ASSERT_TRUE(lines.ParseFromString(*body));
      EXPECT_EQ(lines.lines_size(), kLines);
    }
  }
  // A small answer, or a client that does not take gzip: as is.
  auto small = client->Post(kGetRegion, Admin({{"Accept-Encoding", "gzip"}}),
                            R"({"name":"regions/310101"})", "application/json");
  ASSERT_TRUE(small);
  EXPECT_EQ(small->status, 200);
  EXPECT_FALSE(small->has_header("Content-Encoding"));
  EXPECT_EQ(nlohmann::json::parse(small->body)["region"]["code"], "310101");
  auto plain =
      client->Post(kListLines, Admin({{"Accept-Encoding", "br"}}), "{}", "application/json");
  ASSERT_TRUE(plain);
  EXPECT_FALSE(plain->has_header("Content-Encoding"));
  EXPECT_EQ(nlohmann::json::parse(plain->body)["lines"].size(), static_cast<size_t>(kLines));
}

TEST_F(HttpConnect, UnsupportedContentEncodingIsUnimplemented) {
  auto client = Client();
  for (const char* coding : {"zstd", "br", "deflate"}) {
    auto refused = client->Post(kGetRegion, Admin({{"Content-Encoding", coding}}),
                                R"({"name":"regions/310101"})", "application/json");
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->status, 501) << coding;
    EXPECT_EQ(Code(refused), "unimplemented") << coding;
    EXPECT_TRUE(absl::StrContains(Message(refused), "gzip, identity")) << refused->body;
  }
  auto get = client->Get(
      kGetRegion, {{"encoding", "json"}, {"compression", "zstd"}, {"message", "{}"}}, Admin());
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 501);
  EXPECT_EQ(Code(get), "unimplemented");
}

TEST_F(HttpConnect, ProtocolVersionAndTimeoutHeaders) {
  auto client = Client();
  const std::string body = R"({"name":"regions/310101"})";
  auto v1 = client->Post(kGetRegion, Admin({{"Connect-Protocol-Version", "1"}}), body,
                         "application/json");
  ASSERT_TRUE(v1);
  EXPECT_EQ(v1->status, 200);
  auto v2 = client->Post(kGetRegion, Admin({{"Connect-Protocol-Version", "2"}}), body,
                         "application/json");
  ASSERT_TRUE(v2);
  EXPECT_EQ(v2->status, 400);
  EXPECT_EQ(Code(v2), "invalid_argument");
  EXPECT_TRUE(absl::StrContains(Message(v2), "Connect-Protocol-Version")) << v2->body;
  auto bad_timeout =
      client->Post(kGetRegion, Admin({{"Connect-Timeout-Ms", "soon"}}), body, "application/json");
  ASSERT_TRUE(bad_timeout);
  EXPECT_EQ(bad_timeout->status, 400);
  EXPECT_TRUE(absl::StrContains(Message(bad_timeout), "Connect-Timeout-Ms")) << bad_timeout->body;
  auto timeout =
      client->Post(kGetRegion, Admin({{"Connect-Timeout-Ms", "5000"}}), body, "application/json");
  ASSERT_TRUE(timeout);
  EXPECT_EQ(timeout->status, 200);
}

TEST_F(HttpConnect, ResponseMetadataAsHeadersAndTrailers) {
  auto client = Client();
  auto ok = client->Post(kGetRegion, Admin({{"X-Request-Id", "req-connect-1"}}),
                         R"({"name":"regions/310101"})", "application/json");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(ok->get_header_value("Trailer-X-Request-Id"), "req-connect-1");
  EXPECT_EQ(ok->get_header_value("X-Request-Id"), "req-connect-1");
  EXPECT_FALSE(ok->has_header("Trailer-Grpc-Status"));
  // Errors carry them too; a GET as well.
  auto failed = client->Get(kGetRegion, {{"encoding", "json"}, {"message", "{}"}},
                            httplib::Headers{{"X-Request-Id", "req-connect-2"}});
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->status, 401);
  EXPECT_EQ(failed->get_header_value("Trailer-X-Request-Id"), "req-connect-2");
}

TEST_F(HttpConnect, CorsForListedOriginsOnly) {
  HttpJsonOptions options;
  options.cors_allowed_origins = {"https://console.example.org"};
  auto client = Client(ExtraHttp(options));
  auto preflight = client->Options(
      kGetRegion,
      {{"Origin", "https://console.example.org"},
       {"Access-Control-Request-Method", "POST"},
       {"Access-Control-Request-Headers", "content-type,connect-protocol-version,authorization"}});
  ASSERT_TRUE(preflight);
  EXPECT_EQ(preflight->status, 204);
  EXPECT_EQ(preflight->get_header_value("Access-Control-Allow-Origin"),
            "https://console.example.org");
  const std::string allowed = preflight->get_header_value("Access-Control-Allow-Headers");
  for (const char* header : {"Content-Type", "Connect-Protocol-Version", "Connect-Timeout-Ms",
                             "Authorization", "X-Api-Key", "X-Request-Id"}) {
    EXPECT_TRUE(absl::StrContains(allowed, header)) << header;
  }
  EXPECT_TRUE(
      absl::StrContains(preflight->get_header_value("Access-Control-Allow-Methods"), "POST"));
  EXPECT_EQ(preflight->get_header_value("Vary"), "Origin");

  auto foreign = client->Options(
      kGetRegion, {{"Origin", "https://evil.example"}, {"Access-Control-Request-Method", "POST"}});
  ASSERT_TRUE(foreign);
  EXPECT_EQ(foreign->status, 403);
  EXPECT_FALSE(foreign->has_header("Access-Control-Allow-Origin"));

  // The call itself: the origin allowed and the headers a script may read.
  auto call = client->Post(kGetRegion, Admin({{"Origin", "https://console.example.org"}}),
                           R"({"name":"regions/310101"})", "application/json");
  ASSERT_TRUE(call);
  EXPECT_EQ(call->status, 200);
  EXPECT_EQ(call->get_header_value("Access-Control-Allow-Origin"), "https://console.example.org");
  EXPECT_TRUE(
      absl::StrContains(call->get_header_value("Access-Control-Expose-Headers"), "X-Request-Id"));
  auto foreign_call = client->Post(kGetRegion, Admin({{"Origin", "https://evil.example"}}),
                                   R"({"name":"regions/310101"})", "application/json");
  ASSERT_TRUE(foreign_call);
  EXPECT_FALSE(foreign_call->has_header("Access-Control-Allow-Origin"));

  // CORS off (the default): no preflight is answered, no CORS headers.
  auto off = Client()->Options(kGetRegion, {{"Origin", "https://console.example.org"},
                                            {"Access-Control-Request-Method", "POST"}});
  ASSERT_TRUE(off);
  EXPECT_EQ(off->status, 404);
  EXPECT_FALSE(off->has_header("Access-Control-Allow-Origin"));
}

// The web console's files: served at "/" with the console's security headers, hashed assets cached
// for good, pages revalidated; the Connect methods on the same port still answer; nothing outside
// the directory is reachable.
TEST_F(HttpConnect, ServesTheWebConsoleWithItsSecurityHeaders) {
  namespace fs = std::filesystem;
  char pattern[] = "/tmp/linli-web-XXXXXX";
  ASSERT_NE(mkdtemp(pattern), nullptr);
  const fs::path root = pattern;
  fs::create_directories(root / "assets");
  std::ofstream(root / "index.html") << "<!doctype html><title>邻里</title>";
  std::ofstream(root / "assets" / "index-3f9a.js") << "console.log(1)";
  std::ofstream(root.parent_path() / (root.filename().string() + ".secret")) << "secret";

  HttpJsonOptions options;
  options.web_root = root.string();
  auto client = Client(ExtraHttp(options));

  auto page = client->Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->body, "<!doctype html><title>邻里</title>");
  EXPECT_EQ(page->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(page->get_header_value("Content-Security-Policy"), ConsoleContentSecurityPolicy(""));
  EXPECT_TRUE(
      absl::StrContains(page->get_header_value("Content-Security-Policy"), "connect-src 'self';"));
  EXPECT_TRUE(
      absl::StrContains(page->get_header_value("Content-Security-Policy"), "script-src 'self'"));
  EXPECT_EQ(page->get_header_value("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(page->get_header_value("Referrer-Policy"), "no-referrer");
  EXPECT_EQ(page->get_header_value("Cache-Control"), "no-cache");

  auto script = client->Get("/assets/index-3f9a.js");
  ASSERT_TRUE(script);
  EXPECT_EQ(script->status, 200);
  EXPECT_EQ(script->get_header_value("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(script->get_header_value("Cache-Control"), "public, max-age=31536000, immutable");

  auto missing = client->Get("/assets/nothing.js");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  auto outside = client->Get("/../" + root.filename().string() + ".secret");
  ASSERT_TRUE(outside);
  EXPECT_EQ(outside->status, 404);
  EXPECT_EQ(outside->body.find("secret"), std::string::npos);

  // Without an identity provider the console offers no OIDC sign-in.
  auto config = client->Get("/console-config.json");
  ASSERT_TRUE(config);
  EXPECT_EQ(config->status, 200);
  EXPECT_EQ(config->body, R"({"oidc":null})");

  // The API on the same port is unchanged.
  auto call = client->Post(kGetRegion, Admin(), R"({"name":"regions/310101"})", "application/json");
  ASSERT_TRUE(call);
  EXPECT_EQ(call->status, 200) << call->body;

  // Without a web root nothing is served at "/"; a root that is not a directory is refused.
  auto none = Client()->Get("/");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 404);
  HttpJsonOptions bad;
  bad.web_root = (root / "index.html").string();
  EXPECT_FALSE(HttpJsonServer::Start("127.0.0.1:0", PublicServiceNames(), *gateway_,
                                     absl::Seconds(1), 1024, {},
                                     HttpJsonServer::kDefaultListenBacklog, bad)
                   .ok());
  fs::remove_all(root);
  fs::remove(root.parent_path() / (root.filename().string() + ".secret"));
}

// With the street's identity provider configured, the console learns where to sign in, and its
// pages may call that provider's origin (discovery document, token endpoint) and nothing else.
TEST_F(HttpConnect, TheConsoleLearnsItsIdentityProviderWhichItsPagesMayCall) {
  namespace fs = std::filesystem;
  char pattern[] = "/tmp/linli-web-XXXXXX";
  ASSERT_NE(mkdtemp(pattern), nullptr);
  const fs::path root = pattern;
  std::ofstream(root / "index.html") << "<!doctype html><title>邻里</title>";
  HttpJsonOptions options;
  options.web_root = root.string();
  options.sign_in = {.oidc_issuer = "https://id.example.gov.cn:8443/realms/wuliqiao",
                     .oidc_client_id = "linli-console",
                     .oidc_scope = "openid profile"};
  auto client = Client(ExtraHttp(options));
  auto config = client->Get("/console-config.json");
  ASSERT_TRUE(config);
  EXPECT_EQ(config->status, 200);
  EXPECT_EQ(
      nlohmann::json::parse(config->body),
      nlohmann::json::parse(R"({"oidc": {"issuer": "https://id.example.gov.cn:8443/realms/wuliqiao",
                                   "client_id": "linli-console", "scope": "openid profile"}})"));
  auto page = client->Get("/");
  ASSERT_TRUE(page);
  EXPECT_TRUE(absl::StrContains(page->get_header_value("Content-Security-Policy"),
                                "connect-src 'self' https://id.example.gov.cn:8443;"))
      << page->get_header_value("Content-Security-Policy");

  // Issuers the console must not be pointed at are refused at start-up, naming the reason.
  auto Refused = [&](const std::string& issuer, const std::string& client_id = "linli-console") {
    HttpJsonOptions bad = options;
    bad.sign_in.oidc_issuer = issuer;
    bad.sign_in.oidc_client_id = client_id;
    absl::StatusOr<std::unique_ptr<HttpJsonServer>> server =
        HttpJsonServer::Start("127.0.0.1:0", PublicServiceNames(), *gateway_, absl::Seconds(1),
                              1024, {}, HttpJsonServer::kDefaultListenBacklog, bad);
    return server.ok() ? std::string("started") : std::string(server.status().message());
  };
  EXPECT_TRUE(absl::StrContains(Refused("http://id.example.gov.cn"), "only on loopback"));
  EXPECT_TRUE(absl::StrContains(Refused("ftp://id.example.gov.cn"), "https:// URL"));
  EXPECT_TRUE(absl::StrContains(Refused("https://id.example.gov.cn/?x=1"), "no query"));
  EXPECT_TRUE(absl::StrContains(Refused("https://evil@id.example.gov.cn"), "no user info"));
  EXPECT_TRUE(absl::StrContains(Refused("https://id.example.gov.cn; script-src *"), "host"));
  EXPECT_TRUE(absl::StrContains(Refused("https://id.example.gov.cn:x"), "port"));
  EXPECT_TRUE(absl::StrContains(Refused("https://"), "no host"));
  EXPECT_TRUE(absl::StrContains(Refused("https://[]:443"), "no host"));
  EXPECT_TRUE(absl::StrContains(Refused("https://id.example.gov.cn:0"), "1 to 65535"));
  EXPECT_TRUE(absl::StrContains(Refused("https://id.example.gov.cn:65536"), "1 to 65535"));
  EXPECT_TRUE(absl::StrContains(Refused("https://id.example.gov.cn", ""), "client id"));
  EXPECT_EQ(Refused("http://127.0.0.1:9999"), "started");
  EXPECT_EQ(*OidcIssuerOrigin("http://[::1]:8080/idp"), "http://[::1]:8080");
  fs::remove_all(root);
}

}  // namespace
// An elder's token for elders/e1 valid at kStart for ten minutes.
std::string ElderToken() {
  const int64_t now = absl::ToUnixSeconds(kStart);
  return *auth::SignJwt(*auth::JwtKey::Hmac("test", kSecret), {{"iss", "linli-test"},
                                                               {"aud", "linli-gateway"},
                                                               {"role", "elder"},
                                                               {"sub", "elders/e1"},
                                                               {"iat", now},
                                                               {"exp", now + 600}});
}

// The envelopes of a Connect stream's body: {flags, payload} each; a malformed body fails.
std::vector<connect::Envelope> Envelopes(absl::string_view body) {
  std::vector<connect::Envelope> out;
  while (!body.empty()) {
    EXPECT_GE(body.size(), 5u);
    if (body.size() < 5) break;
    const auto byte = [&](size_t i) {
      return static_cast<uint32_t>(static_cast<uint8_t>(body[i]));
    };
    const uint32_t length = byte(1) << 24 | byte(2) << 16 | byte(3) << 8 | byte(4);
    EXPECT_LE(length, body.size() - 5);
    if (length > body.size() - 5) break;
    out.push_back({static_cast<uint8_t>(byte(0)), std::string(body.substr(5, length))});
    body.remove_prefix(5 + length);
  }
  return out;
}

const std::string kWatch = "/linli.gateway.v1.ElderAppService/WatchMyNotices";

TEST_F(HttpConnect, LongReadsOfNoticesHoldAtMostTheBridgedWaitSlots) {
  const std::string elder = ElderToken();
  auto read = [&] {
    return Client()->Post(
        "/linli.gateway.v1.ElderAppService/ListMyNotices", {{"Authorization", "Bearer " + elder}},
        R"({"elder":"elders/e1","waitSeconds":20,"afterSequence":"2"})", "application/json");
  };
  constexpr int kSlots = BridgedWaitSlot::kMaxBridgedWaits;
  // A stream whose client leaves after its first notice gives its slot back (else one of the
  // reads below would find the slots full).
  feedback_.AddNotice(1, "一");
  feedback_.AddNotice(2, "二");
  std::string received;
  httplib::Request leaving;
  leaving.method = "POST";
  leaving.path = kWatch;
  leaving.headers = {{"Authorization", "Bearer " + elder},
                     {"Content-Type", "application/connect+json"}};
  leaving.body = connect::Frame(0, R"({"elder":"elders/e1","afterSequence":"1"})");
  leaving.content_receiver = [&](const char* data, size_t length, uint64_t, uint64_t) {
    received.append(data, length);
    return false;  // gone after the first bytes
  };
  Client()->send(leaving);
  EXPECT_TRUE(absl::StrContains(received, "二"));
  for (int i = 0; i < 500 && feedback_.cancelled() == 0; ++i)
    absl::SleepFor(absl::Milliseconds(10));
  ASSERT_EQ(feedback_.cancelled(), 1) << "the stream's waiting read was cancelled";
  absl::SleepFor(absl::Milliseconds(200));  // the stream's handler returns and frees its slot
  const size_t before = feedback_.waits().size();

  std::vector<std::thread> waiting;
  std::atomic<int> answered{0};
  // Whatever fails below, the held reads are let go and joined.
  auto let_go = absl::MakeCleanup([&] {
    feedback_.Release();
    for (std::thread& t : waiting) {
      if (t.joinable()) t.join();
    }
  });
  for (int i = 0; i < kSlots; ++i) {
    waiting.emplace_back([&] {
      if (auto r = read(); r && r->status == 200) ++answered;
    });
  }
  // They are held in feedback, each with its wait; the next one is told not to wait.
  for (int i = 0; i < 500 && feedback_.waits().size() < before + kSlots; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_EQ(feedback_.waits().size(), before + kSlots);
  httplib::Result next = read();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->status, 200) << next->body;
  ASSERT_EQ(feedback_.waits().size(), before + kSlots + 1);
  EXPECT_EQ(feedback_.waits()[before + kSlots], 0);
  // A stream finds no slot either: it ends at once, saying so.
  auto full =
      Client()->Post(kWatch, {{"Authorization", "Bearer " + elder}},
                     connect::Frame(0, R"({"elder":"elders/e1"})"), "application/connect+json");
  EXPECT_TRUE(full);
  if (full) {
    std::vector<connect::Envelope> frames = Envelopes(full->body);
    EXPECT_EQ(frames.size(), 1u) << full->body;
    if (frames.size() == 1) {
      EXPECT_EQ(nlohmann::json::parse(frames[0].payload)["error"]["code"], "resource_exhausted");
    }
  }
  std::move(let_go).Invoke();
  EXPECT_EQ(answered.load(), kSlots);
  for (size_t i = before; i < before + kSlots; ++i) EXPECT_EQ(feedback_.waits()[i], 20);
  // Slots are given back: a read after them may wait again.
  ASSERT_TRUE(read());
  EXPECT_EQ(feedback_.waits().back(), 20);
}

// WatchMyNotices over Connect's streaming protocol: each notice enveloped as it comes, the end of
// the stream with its error and metadata, in JSON and binary, gzip per message when asked.
TEST_F(HttpConnect, NoticeStreamsOverConnectEnvelopEachNoticeAsItComes) {
  feedback_.AddNotice(6, "送餐员在路上，预计 11:40 到");
  feedback_.AddNotice(7, "今天的上门服务改到下午");
  const httplib::Headers headers = {{"Authorization", "Bearer " + ElderToken()},
                                    {"Connect-Timeout-Ms", "2500"},
                                    {"X-Request-Id", "watch-1"}};
  // A notice that arrives while the stream is open comes too.
  std::thread later([&] {
    absl::SleepFor(absl::Milliseconds(600));
    feedback_.AddNotice(8, "张阿姨已到门口");
  });
  const absl::Time start = absl::Now();
  auto json = Client()->Post(kWatch, headers,
                             connect::Frame(0, R"({"elder":"elders/e1","afterSequence":"5"})"),
                             "application/connect+json");
  later.join();
  ASSERT_TRUE(json);
  EXPECT_EQ(json->status, 200);
  EXPECT_EQ(json->get_header_value("Content-Type"), "application/connect+json");
  // It ran until the client's deadline.
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(2400));
  std::vector<connect::Envelope> frames = Envelopes(json->body);
  ASSERT_EQ(frames.size(), 4u) << json->body;
  std::vector<std::string> texts;
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(frames[i].flags, 0);
    nlohmann::json notice = nlohmann::json::parse(frames[i].payload);
    EXPECT_EQ(notice["sequence"], std::to_string(6 + i));
    texts.push_back(notice["text"]);
  }
  EXPECT_EQ(texts, (std::vector<std::string>{"送餐员在路上，预计 11:40 到",
                                             "今天的上门服务改到下午", "张阿姨已到门口"}));
  EXPECT_EQ(frames[3].flags, connect::kEnvelopeEndStream);
  nlohmann::json end = nlohmann::json::parse(frames[3].payload);
  EXPECT_EQ(end["error"]["code"], "deadline_exceeded") << end;

  // Binary, and gzip per message (on a port compressing every message).
  HttpJsonOptions small;
  small.gzip_min_bytes = 0;
  v1::WatchMyNoticesRequest request;
  request.set_elder("elders/e1");
  request.set_after_sequence(6);
  httplib::Headers gzip = headers;
  gzip.emplace("Connect-Accept-Encoding", "gzip");
  gzip.erase("Connect-Timeout-Ms");
  gzip.emplace("Connect-Timeout-Ms", "800");
  auto binary =
      Client(ExtraHttp(small))
          ->Post(kWatch, gzip, connect::Frame(0, Proto(request)), "application/connect+proto");
  ASSERT_TRUE(binary);
  EXPECT_EQ(binary->status, 200);
  EXPECT_EQ(binary->get_header_value("Connect-Content-Encoding"), "gzip");
  frames = Envelopes(binary->body);
  ASSERT_EQ(frames.size(), 3u);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(frames[i].flags, connect::kEnvelopeCompressed);
    feedback::v1::Notice notice;
    ASSERT_TRUE(notice.ParseFromString(*connect::Gunzip(frames[i].payload, 1 << 20)));
    EXPECT_EQ(notice.sequence(), 7 + i);
  }
  EXPECT_EQ(frames[2].flags & connect::kEnvelopeEndStream, connect::kEnvelopeEndStream);
}

// Problems of a stream are told in its end (HTTP 200), except a Content-Type that is not a
// streaming one (415); a client that leaves cancels the call, and Stop ends open streams.
TEST_F(HttpConnect, NoticeStreamErrorsEndTheStreamAndStopEndsOpenStreams) {
  const httplib::Headers headers = {{"Authorization", "Bearer " + ElderToken()},
                                    {"Connect-Timeout-Ms", "5000"}};
  nlohmann::json end;  // the last end of stream
  auto end_of = [&](const std::string& body, const httplib::Headers& with = {}) {
    httplib::Headers all = headers;
    for (const auto& [k, v] : with) all.emplace(k, v);
    auto result = Client()->Post(kWatch, all, body, "application/connect+json");
    EXPECT_TRUE(result);
    if (!result) return nlohmann::json();
    EXPECT_EQ(result->status, 200) << result->body;
    std::vector<connect::Envelope> frames = Envelopes(result->body);
    EXPECT_EQ(frames.size(), 1u) << result->body;
    if (frames.size() != 1) return nlohmann::json();
    EXPECT_EQ(frames[0].flags, connect::kEnvelopeEndStream);
    end = nlohmann::json::parse(frames[0].payload);
    return end["error"];
  };
  // Another elder's notices; the gateway's trailers come in the end's metadata.
  nlohmann::json error =
      end_of(connect::Frame(0, R"({"elder":"elders/e2"})"), {{"X-Request-Id", "watch-2"}});
  EXPECT_EQ(error["code"], "permission_denied") << error;
  EXPECT_EQ(end["metadata"]["x-request-id"], nlohmann::json::array({"watch-2"})) << end;
  // Bad input names the problem.
  error = end_of(connect::Frame(0, R"({"elder":"elders/e1","afterSequence":"-1"})"));
  EXPECT_EQ(error["code"], "invalid_argument");
  EXPECT_TRUE(absl::StrContains(error.dump(), "after_sequence")) << error;
  error = end_of(R"({"elder":"elders/e1"})");  // not enveloped
  EXPECT_EQ(error["code"], "invalid_argument");
  EXPECT_TRUE(absl::StrContains(error["message"].get<std::string>(), "enveloped")) << error;
  error = end_of(connect::Frame(0, R"({"elder":)"));
  EXPECT_EQ(error["code"], "invalid_argument");
  error = end_of(connect::Frame(connect::kEnvelopeCompressed, "not gzip"),
                 {{"Connect-Content-Encoding", "gzip"}});
  EXPECT_EQ(error["code"], "invalid_argument");
  error = end_of(connect::Frame(0, "{}"), {{"Connect-Content-Encoding", "br"}});
  EXPECT_EQ(error["code"], "unimplemented");
  // A gzip-compressed request is read.
  feedback_.AddNotice(9, "gzip");
  auto compressed =
      Client()->Post(kWatch,
                     {{"Authorization", "Bearer " + ElderToken()},
                      {"Connect-Timeout-Ms", "500"},
                      {"Connect-Content-Encoding", "gzip"}},
                     connect::Frame(connect::kEnvelopeCompressed,
                                    connect::Gzip(R"({"elder":"elders/e1","afterSequence":"8"})")),
                     "application/connect+json");
  ASSERT_TRUE(compressed);
  ASSERT_EQ(Envelopes(compressed->body).size(), 2u) << compressed->body;
  EXPECT_TRUE(absl::StrContains(Envelopes(compressed->body)[0].payload, "\"gzip\""));
  // The unary form of a stream, and the streaming form of a unary method: 415.
  auto unary = Client()->Post(kWatch, headers, R"({"elder":"elders/e1"})", "application/json");
  ASSERT_TRUE(unary);
  EXPECT_EQ(unary->status, 415);
  EXPECT_EQ(unary->get_header_value("Accept-Post"),
            "application/connect+json, application/connect+proto");
  auto streamed =
      Client()->Post(kGetRegion, Admin(), connect::Frame(0, "{}"), "application/connect+json");
  ASSERT_TRUE(streamed);
  EXPECT_EQ(streamed->status, 415);
  EXPECT_TRUE(absl::StrContains(Message(streamed), "is unary")) << streamed->body;

  // Stop ends a stream that would run for an hour, telling its client to open it again.
  const HttpJsonServer* port = ExtraHttp({});
  const size_t waits = feedback_.waits().size();
  std::optional<httplib::Result> ended;
  std::thread open([&] {
    ended.emplace(Client(port)->Post(kWatch, {{"Authorization", "Bearer " + ElderToken()}},
                                     connect::Frame(0, R"({"elder":"elders/e1"})"),
                                     "application/connect+json"));
  });
  // The stream waits in feedback (its first read finds the newest notice, its second waits).
  for (int i = 0; i < 500 && feedback_.waits().size() < waits + 2; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_EQ(feedback_.waits().size(), waits + 2);
  const absl::Time stopping = absl::Now();
  extra_http_.back()->Stop();
  EXPECT_LT(absl::Now() - stopping, absl::Seconds(5));
  open.join();
  ASSERT_TRUE(ended.has_value() && *ended);
  std::vector<connect::Envelope> frames = Envelopes((*ended)->body);
  ASSERT_EQ(frames.size(), 1u) << (*ended)->body;
  EXPECT_EQ(frames[0].flags, connect::kEnvelopeEndStream);
  EXPECT_EQ(nlohmann::json::parse(frames[0].payload)["error"]["code"], "unavailable")
      << frames[0].payload;
}

}  // namespace linli::gateway
