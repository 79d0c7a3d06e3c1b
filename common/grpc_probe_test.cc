#include "common/grpc_probe.h"

#include <thread>

#include "absl/strings/str_cat.h"
#include "common/server.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "linli/registry/v1/registry.grpc.pb.h"

namespace linli {
namespace {

using ::testing::Contains;

class ProbeTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(absl::ZeroDuration()); }

  // (Re)starts the server; `drain_delay` is how long it reports NOT_SERVING when stopping.
  void Start(absl::Duration drain_delay) {
    server_.reset();
    ServerOptions options;
    // The metrics registry is per process and its linli_build_info names the first server
    // started: the same name as server_test.cc's, which checks it.
    options.service_name = "servertest";
    options.listen_address = "127.0.0.1:0";
    options.health_service_names = {"linli.registry.v1.RegistryService"};
    options.drain_delay = drain_delay;
    options.shutdown_deadline = absl::Seconds(1);
    auto server = GrpcServer::Start(options, {&service_});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                   grpc::InsecureChannelCredentials());
  }

  registry::v1::RegistryService::Service service_;
  std::unique_ptr<GrpcServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(ProbeTest, HealthOfTheServerAndOfANamedService) {
  EXPECT_EQ(CheckHealth(*channel_, "", absl::Seconds(5)).value(), HealthStatus::kServing);
  EXPECT_EQ(CheckHealth(*channel_, "linli.registry.v1.RegistryService", absl::Seconds(5)).value(),
            HealthStatus::kServing);
  // gRPC's health service answers NOT_FOUND for a service it was never told about.
  EXPECT_EQ(CheckHealth(*channel_, "no.such.Service", absl::Seconds(5)).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(ProbeTest, HealthIsNotServingWhileTheServerDrains) {
  Start(absl::Seconds(2));
  ASSERT_EQ(CheckHealth(*channel_, "", absl::Seconds(5)).value(), HealthStatus::kServing);
  std::thread stopper([this] { server_->Shutdown(); });
  absl::StatusOr<HealthStatus> health;
  for (int i = 0; i < 100; ++i) {
    health = CheckHealth(*channel_, "linli.registry.v1.RegistryService", absl::Seconds(1));
    if (health.ok() && *health != HealthStatus::kServing) break;
    absl::SleepFor(absl::Milliseconds(10));
  }
  stopper.join();
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(*health, HealthStatus::kNotServing);
}

TEST_F(ProbeTest, ListServicesNamesTheServedServices) {
  auto names = ListServices(*channel_, absl::Seconds(5));
  ASSERT_TRUE(names.ok()) << names.status();
  EXPECT_THAT(*names, Contains("linli.registry.v1.RegistryService"));
  EXPECT_THAT(*names, Contains("grpc.health.v1.Health"));
  EXPECT_THAT(*names, Contains("grpc.reflection.v1alpha.ServerReflection"));
}

TEST(ProbeErrorsTest, AnUnreachableServerIsAnError) {
  // Port 1 on loopback: nothing listens there, the connection is refused at once.
  auto channel = grpc::CreateChannel("127.0.0.1:1", grpc::InsecureChannelCredentials());
  EXPECT_EQ(CheckHealth(*channel, "", absl::Seconds(2)).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(ListServices(*channel, absl::Seconds(2)).status().code(),
            absl::StatusCode::kUnavailable);
}

TEST(ByteBufferTest, RoundTripsBytes) {
  std::string bytes("a\0b", 3);
  EXPECT_EQ(FromByteBuffer(ToByteBuffer(bytes)), bytes);
  EXPECT_EQ(FromByteBuffer(ToByteBuffer("")), "");
}

}  // namespace
}  // namespace linli
