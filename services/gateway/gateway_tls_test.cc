// TLS on the gateway's public gRPC listener, as an operator configures it: the linli-gateway
// binary started with --tls_cert_file/--tls_key_file (a certificate made here, in the test) in
// front of a real registry (SQLite). A call over TLS trusting that certificate works; a plaintext
// client and a TLS client trusting another certificate cannot connect; the JSON port keeps
// working (its bridge reaches the gRPC services in process, not through the TLS listener); a
// half or mismatched configuration stops start-up with exit status 1.
#include <httplib.h>
#include <sys/wait.h>

#include <fstream>
#include <optional>

#include "absl/strings/str_cat.h"
#include "common/auth/jwt.h"
#include "common/client.h"
#include "common/grpc_probe.h"
#include "common/pii/field_cipher.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "linli/gateway/v1/console.grpc.pb.h"
#include "linli/registry/v1/registry.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "tests/support/platform_pki.h"
#include "tests/support/test_env.h"
#include "tests/support/tls_cert.h"

namespace linli::gateway {
namespace {

const std::string kSecret = "tls-test-secret-0123456789abcdef0123";
constexpr char kConsole[] = "linli.gateway.v1.ConsoleService";

std::string Address() { return absl::StrCat("127.0.0.1:", testing::FreePort()); }

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// A channel to `address` over TLS trusting only `root_pem`, checked against the name localhost.
std::shared_ptr<grpc::Channel> TlsChannel(const std::string& address, const std::string& root_pem) {
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = root_pem;
  const std::string port = address.substr(address.rfind(':') + 1);
  return grpc::CreateChannel(absl::StrCat("localhost:", port), grpc::SslCredentials(ssl));
}

class GatewayTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(testing::MakeTempDir("gateway_tls"));
    const std::string& dir = *dir_;
    std::ofstream(dir + "/pii.key") << pii::FieldCipher::GenerateKeySpec("k1") << "\n";
    std::ofstream(dir + "/jwt-keys.json") << nlohmann::json{
        {"keys",
         {{{"kid", "dev"},
           {"alg", "HS256"},
           {"k",
            auth::Base64UrlEncode(kSecret)}}}}}.dump();
    absl::StatusOr<testing::SelfSigned> served = testing::MakeSelfSigned("linli-gateway");
    absl::StatusOr<testing::SelfSigned> other = testing::MakeSelfSigned("someone-else");
    ASSERT_TRUE(served.ok()) << served.status();
    ASSERT_TRUE(other.ok()) << other.status();
    cert_ = new testing::SelfSigned(*served);
    other_cert_ = new testing::SelfSigned(*other);
    WriteFile(dir + "/gateway.crt", served->cert_pem);
    WriteFile(dir + "/gateway.key", served->key_pem);
    WriteFile(dir + "/other.key", other->key_pem);

    registry_address_ = new std::string(Address());
    auto registry = testing::ChildProcess::Start(
        absl::StrCat(LINLI_BIN_DIR, "/linli-registry"),
        {"--listen=" + *registry_address_, "--db=sqlite:" + dir + "/registry.db",
         "--pii_key_file=" + dir + "/pii.key", "--shutdown_deadline=2s"},
        dir + "/registry.log");
    ASSERT_TRUE(registry.ok()) << registry.status();
    registry_ = new testing::ChildProcess(std::move(*registry));
    auto registry_channel =
        testing::PlatformPki::Shared().Channel(*registry_address_, "linli-registry");
    ASSERT_TRUE(WaitHealthy(*registry_channel, "linli.registry.v1.RegistryService"))
        << "registry never served; see " << dir;
    registry::v1::CreateRegionRequest region;
    region.mutable_region()->set_code("310000");
    region.mutable_region()->set_display_name("上海市");
    region.mutable_region()->set_level(registry::v1::REGION_LEVEL_MUNICIPALITY);
    registry::v1::CreateRegionResponse created;
    ASSERT_TRUE(
        registry::v1::RegistryService::NewStub(registry_channel)
            ->CreateRegion(NewClientContext(nullptr, absl::Seconds(10)).get(), region, &created)
            .ok());

    gateway_address_ = new std::string(Address());
    http_port_ = testing::FreePort();
    auto gateway = StartGateway(
        {"--tls_cert_file=" + dir + "/gateway.crt", "--tls_key_file=" + dir + "/gateway.key"},
        *gateway_address_, http_port_, "gateway.log");
    ASSERT_TRUE(gateway.ok()) << gateway.status();
    gateway_ = new testing::ChildProcess(std::move(*gateway));
    ASSERT_TRUE(WaitHealthy(*TlsChannel(*gateway_address_, cert_->cert_pem), kConsole))
        << "the gateway never served over TLS; see " << dir;
  }

  static void TearDownTestSuite() {
    for (testing::ChildProcess* child : {gateway_, registry_}) {
      if (child == nullptr) continue;
      child->Signal(SIGTERM);
      (void)child->Wait(absl::Seconds(10));
      delete child;
    }
    gateway_ = registry_ = nullptr;
  }

  static absl::StatusOr<testing::ChildProcess> StartGateway(std::vector<std::string> tls_flags,
                                                            const std::string& address,
                                                            int http_port, const std::string& log) {
    std::vector<std::string> args = {"--listen=" + address,
                                     absl::StrCat("--http_listen=127.0.0.1:", http_port),
                                     "--registry_address=" + *registry_address_,
                                     "--scheduling_address=" + Address(),  // not needed here
                                     "--feedback_address=" + Address(),
                                     "--jwt_keys_file=" + *dir_ + "/jwt-keys.json",
                                     "--shutdown_deadline=2s"};
    args.insert(args.end(), tls_flags.begin(), tls_flags.end());
    return testing::ChildProcess::Start(absl::StrCat(LINLI_BIN_DIR, "/linli-gateway"), args,
                                        *dir_ + "/" + log);
  }

  static bool WaitHealthy(grpc::Channel& channel, const std::string& service) {
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (absl::Now() < deadline) {
      auto health = CheckHealth(channel, service, absl::Seconds(1));
      if (health.ok() && *health == HealthStatus::kServing) return true;
      absl::SleepFor(absl::Milliseconds(50));
    }
    return false;
  }

  static std::string Token() {
    const int64_t now = absl::ToUnixSeconds(absl::Now());
    return *auth::SignJwt(*auth::JwtKey::Hmac("dev", kSecret), {{"iss", "linli-dev"},
                                                                {"aud", "linli-gateway"},
                                                                {"sub", "ops/tls-test"},
                                                                {"role", "admin"},
                                                                {"exp", now + 3600},
                                                                {"iat", now}});
  }

  // GetRegion of the seeded region through `channel` with an admin token.
  static grpc::Status GetShanghai(const std::shared_ptr<grpc::Channel>& channel,
                                  v1::GetRegionResponse* response) {
    v1::GetRegionRequest request;
    request.set_name("regions/310000");
    auto context = NewClientContext(nullptr, absl::Seconds(5));
    context->AddMetadata("authorization", "Bearer " + Token());
    return v1::ConsoleService::NewStub(channel)->GetRegion(context.get(), request, response);
  }

  static std::string* dir_;
  static std::string* registry_address_;
  static std::string* gateway_address_;
  static int http_port_;
  static testing::SelfSigned* cert_;
  static testing::SelfSigned* other_cert_;
  static testing::ChildProcess* registry_;
  static testing::ChildProcess* gateway_;
};

std::string* GatewayTlsTest::dir_ = nullptr;
std::string* GatewayTlsTest::registry_address_ = nullptr;
std::string* GatewayTlsTest::gateway_address_ = nullptr;
int GatewayTlsTest::http_port_ = 0;
testing::SelfSigned* GatewayTlsTest::cert_ = nullptr;
testing::SelfSigned* GatewayTlsTest::other_cert_ = nullptr;
testing::ChildProcess* GatewayTlsTest::registry_ = nullptr;
testing::ChildProcess* GatewayTlsTest::gateway_ = nullptr;

TEST_F(GatewayTlsTest, TlsClientTrustingTheCertificateIsServed) {
  v1::GetRegionResponse response;
  grpc::Status status = GetShanghai(TlsChannel(*gateway_address_, cert_->cert_pem), &response);
  ASSERT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
  EXPECT_EQ(response.region().display_name(), "上海市");
  // Authentication still applies over TLS.
  v1::GetRegionRequest request;
  request.set_name("regions/310000");
  auto anonymous = NewClientContext(nullptr, absl::Seconds(5));
  EXPECT_EQ(v1::ConsoleService::NewStub(TlsChannel(*gateway_address_, cert_->cert_pem))
                ->GetRegion(anonymous.get(), request, &response)
                .error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(GatewayTlsTest, PlaintextClientCannotConnect) {
  v1::GetRegionResponse response;
  grpc::Status status = GetShanghai(
      grpc::CreateChannel(*gateway_address_, grpc::InsecureChannelCredentials()), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  EXPECT_FALSE(response.has_region());
}

TEST_F(GatewayTlsTest, ClientTrustingAnotherCertificateCannotConnect) {
  v1::GetRegionResponse response;
  grpc::Status status =
      GetShanghai(TlsChannel(*gateway_address_, other_cert_->cert_pem), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  EXPECT_FALSE(response.has_region());
}

TEST_F(GatewayTlsTest, JsonPortStillWorksWithTlsOnTheGrpcListener) {
  httplib::Client client("127.0.0.1", http_port_);
  client.set_connection_timeout(5);
  client.set_read_timeout(10);
  auto result = client.Post("/linli.gateway.v1.ConsoleService/GetRegion",
                            {{"Authorization", "Bearer " + Token()}},
                            R"({"name":"regions/310000"})", "application/json");
  ASSERT_TRUE(result) << "no answer from the JSON port";
  EXPECT_EQ(result->status, 200) << result->body;
  EXPECT_EQ(nlohmann::json::parse(result->body)["region"]["displayName"], "上海市");
  auto refused = client.Post("/linli.gateway.v1.ConsoleService/GetRegion",
                             R"({"name":"regions/310000"})", "application/json");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401) << refused->body;
}

TEST_F(GatewayTlsTest, HalfOrMismatchedConfigurationStopsStartUp) {
  const std::vector<std::vector<std::string>> bad = {
      {"--tls_cert_file=" + *dir_ + "/gateway.crt"},  // no key
      {"--tls_key_file=" + *dir_ + "/gateway.key"},   // no certificate
      {"--tls_cert_file=" + *dir_ + "/gateway.crt", "--tls_key_file=" + *dir_ + "/other.key"},
      {"--tls_cert_file=" + *dir_ + "/missing.crt", "--tls_key_file=" + *dir_ + "/gateway.key"},
  };
  for (size_t i = 0; i < bad.size(); ++i) {
    auto gateway =
        StartGateway(bad[i], Address(), testing::FreePort(), absl::StrCat("bad-", i, ".log"));
    ASSERT_TRUE(gateway.ok()) << gateway.status();
    absl::StatusOr<int> exit = gateway->Wait(absl::Seconds(20));
    ASSERT_TRUE(exit.ok()) << "case " << i << " kept running; see " << *dir_;
    EXPECT_TRUE(WIFEXITED(*exit) && WEXITSTATUS(*exit) == 1) << "case " << i << ": " << *exit;
  }
}

}  // namespace
}  // namespace linli::gateway
