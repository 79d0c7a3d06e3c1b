// The server runtime end to end on loopback: a real gRPC server with the interceptor, the
// metrics endpoint over HTTP, and the request id on the handler's log lines.
#include "common/server.h"

#include <fcntl.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/client.h"
#include "common/log.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "linli/registry/v1/registry.grpc.pb.h"
#include "tests/support/test_env.h"
#include "tests/support/tls_cert.h"

namespace linli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Answers GetRegion only, and logs from inside the handler without naming the request id.
class LoggingRegistry : public registry::v1::RegistryService::Service {
 public:
  grpc::Status GetRegion(grpc::ServerContext* context, const registry::v1::GetRegionRequest*,
                         registry::v1::GetRegionResponse*) override {
    LogInfo("inside handler", {{"marker", "handler-line"}});
    return Reply(*context, absl::NotFoundError("no such region"));
  }
};

// Answers every GetRegion with a region whose display name is `bytes` long.
class LargeAnswerRegistry : public registry::v1::RegistryService::Service {
 public:
  explicit LargeAnswerRegistry(size_t bytes) : bytes_(bytes) {}
  grpc::Status GetRegion(grpc::ServerContext*, const registry::v1::GetRegionRequest* request,
                         registry::v1::GetRegionResponse* response) override {
    response->mutable_region()->set_name(request->name());
    response->mutable_region()->set_display_name(std::string(bytes_, 'x'));
    return grpc::Status::OK;
  }

 private:
  size_t bytes_;
};

// Sends this process's stderr to a file while alive.
class CaptureStderr {
 public:
  CaptureStderr() : path_(linli::testing::MakeTempDir("stderr") + "/stderr.txt") {
    linli::FlushLog();
    std::fflush(stderr);
    saved_ = dup(2);
    int fd = open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 2);
    close(fd);
  }
  ~CaptureStderr() { Restore(); }
  // What has reached the file so far (nothing is flushed first).
  std::string Peek() const {
    std::ifstream in(path_);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
  std::string Restore() {
    if (saved_ >= 0) {
      linli::FlushLog();
      std::fflush(stderr);
      dup2(saved_, 2);
      close(saved_);
      saved_ = -1;
    }
    std::ifstream in(path_);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

 private:
  std::string path_;
  int saved_ = -1;
};

std::string LineWith(const std::string& text, const std::string& needle) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.find(needle) != std::string::npos) return line;
  }
  return "";
}

// Lines are written in batches, but a warning or an error goes out at once, with every line
// logged before it, in order.
TEST(LogTest, AWarningWritesItselfAndEveryLineBeforeItInOrder) {
  CaptureStderr capture;
  LogInfo("first batched line", {{"marker", "log-order-1"}});
  LogInfo("second batched line", {{"marker", "log-order-2"}});
  LogWarning("the warning", {{"marker", "log-order-3"}});
  const std::string text = capture.Peek();
  const size_t first = text.find("log-order-1");
  const size_t second = text.find("log-order-2");
  const size_t third = text.find("log-order-3");
  ASSERT_NE(first, std::string::npos) << text;
  ASSERT_NE(second, std::string::npos) << text;
  ASSERT_NE(third, std::string::npos) << text;
  EXPECT_LT(first, second);
  EXPECT_LT(second, third);
  EXPECT_NE(LineWith(text, "log-order-3").find("\"level\":\"warning\""), std::string::npos);
}

TEST(ServerTest, MetricsEndpointCountsCallsByMethodAndCodeAndLogsCarryTheRequestId) {
  LoggingRegistry service;
  ServerOptions options;
  options.service_name = "servertest";
  options.listen_address = "127.0.0.1:0";
  options.metrics_listen = "127.0.0.1:0";
  options.health_service_names = {"linli.registry.v1.RegistryService"};
  options.shutdown_deadline = absl::Seconds(2);
  auto server = GrpcServer::Start(options, {&service});
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_GT((*server)->metrics_port(), 0);

  auto stub = registry::v1::RegistryService::NewStub(
      NewChannel(absl::StrCat("127.0.0.1:", (*server)->port()), {}));
  std::string log;
  {
    CaptureStderr capture;
    for (int i = 0; i < 3; ++i) {
      grpc::ClientContext context;
      context.AddMetadata(kRequestIdKey, absl::StrCat("req-test-", i));
      registry::v1::GetRegionRequest request;
      registry::v1::GetRegionResponse response;
      grpc::Status status = stub->GetRegion(&context, request, &response);
      EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
    }
    grpc::ClientContext context;
    registry::v1::ListRegionsRequest request;
    registry::v1::ListRegionsResponse response;
    EXPECT_EQ(stub->ListRegions(&context, request, &response).error_code(),
              grpc::StatusCode::UNIMPLEMENTED);
    // Made-up method names are answered UNIMPLEMENTED and counted under one label.
    grpc::GenericStub generic(grpc::CreateChannel(absl::StrCat("127.0.0.1:", (*server)->port()),
                                                  grpc::InsecureChannelCredentials()));
    for (const char* bogus : {"/linli.registry.v1.RegistryService/Nope", "/made.Up/Thing"}) {
      grpc::ClientContext context;
      grpc::Slice no_bytes("");
      grpc::ByteBuffer empty(&no_bytes, 1);
      grpc::ByteBuffer reply;
      std::mutex mu;
      std::condition_variable done_cv;
      bool done = false;
      grpc::Status status;
      generic.UnaryCall(&context, bogus, grpc::StubOptions(), &empty, &reply, [&](grpc::Status s) {
        std::lock_guard<std::mutex> lock(mu);
        status = s;
        done = true;
        done_cv.notify_one();
      });
      std::unique_lock<std::mutex> lock(mu);
      done_cv.wait(lock, [&] { return done; });
      EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED) << bogus;
    }
    log = capture.Restore();
  }
  // The handler did not pass the id; the runtime added it to its line.
  EXPECT_THAT(LineWith(log, "handler-line"), HasSubstr("\"request_id\":\"req-test-0\""));
  EXPECT_THAT(LineWith(log, "\"msg\":\"rpc\""), HasSubstr("\"request_id\":\"req-test-0\""));
  // A log line written outside any call has no request id.
  LogInfo("outside");
  EXPECT_EQ(CurrentRequestId(), "");

  httplib::Client http("127.0.0.1", (*server)->metrics_port());
  auto scraped = http.Get("/metrics");
  ASSERT_TRUE(scraped);
  EXPECT_EQ(scraped->status, 200);
  EXPECT_THAT(scraped->get_header_value("Content-Type"), HasSubstr("text/plain; version=0.0.4"));
  const std::string& text = scraped->body;
  EXPECT_THAT(text, HasSubstr("linli_rpc_server_handled_total{method=\"/linli.registry.v1."
                              "RegistryService/GetRegion\",code=\"NOT_FOUND\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("linli_rpc_server_handled_total{method=\"/linli.registry.v1."
                              "RegistryService/ListRegions\",code=\"UNIMPLEMENTED\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("linli_rpc_server_handling_seconds_count{method=\"/linli.registry."
                              "v1.RegistryService/GetRegion\",code=\"NOT_FOUND\"} 3\n"));
  EXPECT_THAT(text,
              HasSubstr("linli_rpc_server_handling_seconds_bucket{method=\"/linli.registry."
                        "v1.RegistryService/GetRegion\",code=\"NOT_FOUND\",le=\"+Inf\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("linli_rpc_server_handled_total{method=\"unknown\",code=\""
                              "UNIMPLEMENTED\"} 2\n"));
  EXPECT_THAT(text, Not(HasSubstr("Nope")));
  EXPECT_THAT(text, Not(HasSubstr("made.Up")));
  EXPECT_THAT(text, HasSubstr("\nlinli_rpc_server_in_flight 0\n"));
  EXPECT_THAT(text, HasSubstr("linli_build_info{service=\"servertest\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("\nlinli_process_resident_memory_bytes "));
  EXPECT_THAT(text, Not(HasSubstr("\nlinli_process_resident_memory_bytes 0\n")));
  EXPECT_THAT(text, HasSubstr("# TYPE linli_db_pool_connections gauge\n"));

  auto health = http.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(http.Get("/nothing-here")->status, 404);

  const int metrics_port = (*server)->metrics_port();
  (*server)->Shutdown();
  httplib::Client after("127.0.0.1", metrics_port);
  after.set_connection_timeout(1);
  EXPECT_FALSE(after.Get("/metrics")) << "the endpoint closes with the server";
}

TEST(ServerTest, MalformedOrTakenMetricsAddressFailsStartUp) {
  LoggingRegistry service;
  ServerOptions options;
  options.service_name = "servertest";
  options.listen_address = "127.0.0.1:0";
  options.metrics_listen = "no-port-here";
  auto bad = GrpcServer::Start(options, {&service});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);

  options.metrics_listen = "127.0.0.1:0";
  auto first = GrpcServer::Start(options, {&service});
  ASSERT_TRUE(first.ok()) << first.status();
  LoggingRegistry other;
  options.metrics_listen = absl::StrCat("127.0.0.1:", (*first)->metrics_port());
  auto second = GrpcServer::Start(options, {&other});
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
}

// GetRegion on `channel` (LoggingRegistry answers NOT_FOUND when reached).
grpc::StatusCode CallGetRegion(const std::shared_ptr<grpc::Channel>& channel) {
  auto context = NewClientContext(nullptr, absl::Seconds(5));
  registry::v1::GetRegionRequest request;
  registry::v1::GetRegionResponse response;
  return registry::v1::RegistryService::NewStub(channel)
      ->GetRegion(context.get(), request, &response)
      .error_code();
}

TEST(ServerTest, TlsListenerServesTlsClientsOnlyAndInProcessChannelBypassesIt) {
  absl::StatusOr<testing::SelfSigned> cert = testing::MakeSelfSigned("servertest");
  ASSERT_TRUE(cert.ok()) << cert.status();
  const std::string dir = testing::MakeTempDir("server_tls");
  std::ofstream(dir + "/server.crt") << cert->cert_pem;
  std::ofstream(dir + "/server.key") << cert->key_pem;
  LoggingRegistry service;
  ServerOptions options;
  options.service_name = "servertest";
  options.listen_address = "127.0.0.1:0";
  options.shutdown_deadline = absl::Seconds(2);
  options.tls_cert_file = dir + "/server.crt";
  options.tls_key_file = dir + "/server.key";
  auto server = GrpcServer::Start(options, {&service});
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_TRUE((*server)->tls());

  grpc::SslCredentialsOptions trusting;
  trusting.pem_root_certs = cert->cert_pem;
  const std::string port = absl::StrCat((*server)->port());
  // NOT_FOUND is the handler's answer: the call went through.
  EXPECT_EQ(CallGetRegion(grpc::CreateChannel("localhost:" + port, grpc::SslCredentials(trusting))),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(CallGetRegion(grpc::CreateChannel("127.0.0.1:" + port, grpc::SslCredentials(trusting))),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(
      CallGetRegion(grpc::CreateChannel("127.0.0.1:" + port, grpc::InsecureChannelCredentials())),
      grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(CallGetRegion((*server)->InProcessChannel()), grpc::StatusCode::NOT_FOUND);
}

// The JSON bridge reads the server's answers through the in-process channel: an answer beyond
// gRPC's default 4 MB receive limit (a large roster export) must come through it whole.
TEST(ServerTest, InProcessChannelTakesAnswersBeyondFourMegabytes) {
  constexpr size_t kBytes = 6 * 1024 * 1024;
  LargeAnswerRegistry service(kBytes);
  ServerOptions options;
  options.service_name = "servertest";
  options.listen_address = "127.0.0.1:0";
  options.shutdown_deadline = absl::Seconds(2);
  auto server = GrpcServer::Start(options, {&service});
  ASSERT_TRUE(server.ok()) << server.status();
  registry::v1::GetRegionRequest request;
  request.set_name("regions/310101");
  registry::v1::GetRegionResponse response;
  auto context = NewClientContext(nullptr, absl::Seconds(10));
  grpc::Status status = registry::v1::RegistryService::NewStub((*server)->InProcessChannel())
                            ->GetRegion(context.get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.region().display_name().size(), kBytes);
  EXPECT_EQ(response.region().name(), "regions/310101");
}

TEST(ServerTest, HalfOrWrongTlsConfigurationFailsStartUp) {
  absl::StatusOr<testing::SelfSigned> cert = testing::MakeSelfSigned("servertest");
  absl::StatusOr<testing::SelfSigned> other = testing::MakeSelfSigned("other");
  ASSERT_TRUE(cert.ok() && other.ok());
  const std::string dir = testing::MakeTempDir("server_tls_bad");
  std::ofstream(dir + "/server.crt") << cert->cert_pem;
  std::ofstream(dir + "/server.key") << cert->key_pem;
  std::ofstream(dir + "/other.key") << other->key_pem;
  std::ofstream(dir + "/garbage.pem") << "not a certificate\n";
  LoggingRegistry service;
  ServerOptions options;
  options.service_name = "servertest";
  options.listen_address = "127.0.0.1:0";
  const std::pair<std::string, std::string> bad[] = {
      {dir + "/server.crt", ""},
      {"", dir + "/server.key"},
      {dir + "/server.crt", dir + "/other.key"},
      {dir + "/server.key", dir + "/server.key"},
      {dir + "/garbage.pem", dir + "/server.key"},
      {dir + "/server.crt", dir + "/garbage.pem"},
      {dir + "/absent.crt", dir + "/server.key"},
  };
  for (const auto& [cert_file, key_file] : bad) {
    options.tls_cert_file = cert_file;
    options.tls_key_file = key_file;
    auto server = GrpcServer::Start(options, {&service});
    EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument)
        << cert_file << " " << key_file;
  }
  options.tls_key_file = dir + "/server.key";
  options.tls_cert_file = dir + "/server.crt";
  auto good = GrpcServer::Start(options, {&service});
  EXPECT_TRUE(good.ok()) << good.status();
}

}  // namespace
}  // namespace linli
