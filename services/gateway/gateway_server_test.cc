// The gateway's gRPC server as clients see it (gateway_server.h), in this process with fake
// backends: the public services and the health service are known by name (reflection), and the
// health service answers Check and Watch on the event loops — Watch as a server stream that
// follows the serving status until the client leaves or the server stops.
#include "services/gateway/gateway_server.h"

#include <algorithm>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/grpc_probe.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "linli/feedback/v1/feedback.grpc.pb.h"
#include "linli/registry/v1/registry.grpc.pb.h"
#include "linli/scheduling/v1/scheduling.grpc.pb.h"
#include "tests/support/in_process_gateway.h"

namespace linli::gateway {
namespace {

using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

class FakeRegistry final : public registry::v1::RegistryService::Service {};
class FakeScheduling final : public scheduling::v1::SchedulingService::Service {};
class FakeFeedback final : public feedback::v1::FeedbackService::Service {};

class GatewayServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto world =
        testing::InProcessGateway::Start({&registry_, &scheduling_, &feedback_},
                                         "gateway-server-test-secret-0123456789", {}, clock_);
    ASSERT_TRUE(world.ok()) << world.status();
    world_ = std::move(*world);
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(world_->server().port()),
                                   grpc::InsecureChannelCredentials());
    health_ = Health::NewStub(channel_);
  }

  // Starts a Watch of `service`; the first message is awaited by the caller.
  struct Watch {
    grpc::ClientContext context;
    std::unique_ptr<grpc::ClientReader<HealthCheckResponse>> reader;
  };
  std::unique_ptr<Watch> StartWatch(const std::string& service) {
    auto watch = std::make_unique<Watch>();
    watch->context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
    HealthCheckRequest request;
    request.set_service(service);
    watch->reader = health_->Watch(&watch->context, request);
    return watch;
  }

  FakeClock clock_{absl::FromUnixSeconds(1'800'000'000)};
  FakeRegistry registry_;
  FakeScheduling scheduling_;
  FakeFeedback feedback_;
  std::unique_ptr<testing::InProcessGateway> world_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<Health::Stub> health_;
};

TEST_F(GatewayServerTest, ServicesAreKnownByNameAndChecked) {
  absl::StatusOr<std::vector<std::string>> services = ListServices(*channel_, absl::Seconds(5));
  ASSERT_TRUE(services.ok()) << services.status();
  for (const std::string& name : PublicServiceNames()) {
    EXPECT_NE(std::find(services->begin(), services->end(), name), services->end()) << name;
  }
  EXPECT_NE(std::find(services->begin(), services->end(), "grpc.health.v1.Health"),
            services->end());

  for (const std::string& name : {std::string(""), PublicServiceNames()[0]}) {
    absl::StatusOr<HealthStatus> status = CheckHealth(*channel_, name, absl::Seconds(5));
    ASSERT_TRUE(status.ok()) << name << ": " << status.status();
    EXPECT_EQ(*status, HealthStatus::kServing) << name;
  }
  grpc::ClientContext context;
  HealthCheckRequest request;
  request.set_service("linli.nowhere.v1.Nothing");
  HealthCheckResponse response;
  EXPECT_EQ(health_->Check(&context, request, &response).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(GatewayServerTest, WatchFollowsTheServingStatusUntilTheServerStops) {
  std::unique_ptr<Watch> watch = StartWatch("");
  HealthCheckResponse response;
  ASSERT_TRUE(watch->reader->Read(&response));
  EXPECT_EQ(response.status(), HealthCheckResponse::SERVING);

  // Stopping the gateway marks it NOT_SERVING first (graceful stop), which the watch is told,
  // then the stream ends and the stop completes.
  std::future<void> stopped =
      std::async(std::launch::async, [this] { world_->server().Shutdown(); });
  ASSERT_TRUE(watch->reader->Read(&response));
  EXPECT_EQ(response.status(), HealthCheckResponse::NOT_SERVING);
  EXPECT_FALSE(watch->reader->Read(&response));
  (void)watch->reader->Finish();
  EXPECT_EQ(stopped.wait_for(std::chrono::seconds(10)), std::future_status::ready);
}

TEST_F(GatewayServerTest, WatchOfAnUnknownServiceSaysSoAndEndsWhenTheClientLeaves) {
  std::unique_ptr<Watch> watch = StartWatch("linli.nowhere.v1.Nothing");
  HealthCheckResponse response;
  ASSERT_TRUE(watch->reader->Read(&response));
  EXPECT_EQ(response.status(), HealthCheckResponse::SERVICE_UNKNOWN);
  watch->context.TryCancel();
  EXPECT_EQ(watch->reader->Finish().error_code(), grpc::StatusCode::CANCELLED);

  // The loop serves on, and other watches are unaffected.
  std::unique_ptr<Watch> other = StartWatch(PublicServiceNames()[1]);
  ASSERT_TRUE(other->reader->Read(&response));
  EXPECT_EQ(response.status(), HealthCheckResponse::SERVING);
  other->context.TryCancel();
  (void)other->reader->Finish();
  absl::Time start = absl::Now();
  world_.reset();  // stops the gateway: no watch fiber is left to wait for
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

}  // namespace
}  // namespace linli::gateway
