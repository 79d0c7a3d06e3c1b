// Service-to-service authentication (internal_identity.h) on a real gRPC server over loopback:
// who gets past the handshake, which tokens are believed, and what the handler sees as the actor.
#include "common/auth/internal_identity.h"

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/client.h"
#include "common/clock.h"
#include "common/server.h"
#include "grpcpp/create_channel.h"
#include "gtest/gtest.h"
#include "linli/registry/v1/registry.grpc.pb.h"
#include "tests/support/tls_cert.h"

namespace linli::auth {
namespace {

using registry::v1::GetRegionRequest;
using registry::v1::GetRegionResponse;

// Answers GetRegion with the actor the server believes in display_name.
class ActorEcho : public registry::v1::RegistryService::Service {
 public:
  grpc::Status GetRegion(grpc::ServerContext* context, const GetRegionRequest*,
                         GetRegionResponse* response) override {
    response->mutable_region()->set_display_name(Actor(*context));
    return grpc::Status::OK;
  }
};

struct Pki {
  testing::SelfSigned ca;
  std::map<std::string, std::shared_ptr<const InternalIdentity>> identities;
};

Pki MakePki(const std::string& ca_name) {
  Pki pki;
  pki.ca = *testing::MakeSelfSigned(ca_name);
  for (const char* name : {"linli-registry", "linli-gateway", "linli-scheduling"}) {
    testing::SelfSigned issued = *testing::IssueCertificate(pki.ca, name);
    pki.identities[name] =
        *InternalIdentity::FromPem(pki.ca.cert_pem, issued.cert_pem, issued.key_pem);
  }
  return pki;
}

class InternalIdentityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pki_ = MakePki("linli-test-ca");
    ServerOptions options;
    options.service_name = "registry";
    options.listen_address = "127.0.0.1:0";
    ServeInternally(options, pki_.identities["linli-registry"], clock_);
    auto started = GrpcServer::Start(options, {&service_});
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = std::move(*started);
    address_ = absl::StrCat("127.0.0.1:", server_->port());
  }

  // GetRegion on `channel` with x-linli-actor `actor` (none when empty).
  grpc::Status Call(grpc::Channel& channel, const std::string& actor = "",
                    std::string* believed = nullptr) {
    auto stub = registry::v1::RegistryService::NewStub(
        std::shared_ptr<grpc::Channel>(&channel, [](grpc::Channel*) {}));
    auto context = NewClientContext(nullptr, absl::Seconds(5));
    if (!actor.empty()) context->AddMetadata(kActorKey, actor);
    GetRegionRequest request;
    GetRegionResponse response;
    grpc::Status status = stub->GetRegion(context.get(), request, &response);
    if (believed != nullptr) *believed = response.region().display_name();
    return status;
  }

  std::shared_ptr<grpc::Channel> As(const std::string& identity, const std::string& peer) {
    return NewInternalChannel(address_, peer, {}, pki_.identities[identity], clock_);
  }

  // Mutual TLS as the gateway to the registry, without the interceptor: the test sets the
  // principal metadata itself.
  std::shared_ptr<grpc::Channel> GatewayTlsOnly() {
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("linli-registry");
    return grpc::CreateCustomChannel(address_,
                                     pki_.identities["linli-gateway"]->ChannelCredentials(), args);
  }

  // GetRegion with exactly this principal token and x-linli-actor (none when empty).
  grpc::Status CallWith(const std::string& token, const std::string& actor,
                        std::string* believed = nullptr) {
    auto stub = registry::v1::RegistryService::NewStub(GatewayTlsOnly());
    auto context = NewClientContext(nullptr, absl::Seconds(5));
    context->AddMetadata(kPrincipalKey, token);
    if (!actor.empty()) context->AddMetadata(kActorKey, actor);
    GetRegionResponse response;
    grpc::Status status = stub->GetRegion(context.get(), GetRegionRequest(), &response);
    if (believed != nullptr) *believed = response.region().display_name();
    return status;
  }

  FakeClock clock_{absl::FromUnixSeconds(1'800'000'000)};
  Pki pki_;
  ActorEcho service_;
  std::unique_ptr<GrpcServer> server_;
  std::string address_;
};

TEST_F(InternalIdentityTest, TheGatewayCallsOnBehalfOfTheUserItAuthenticated) {
  std::string believed;
  ASSERT_TRUE(
      Call(*As("linli-gateway", "linli-registry"), "committee_staff:staff/zhang", &believed).ok());
  EXPECT_EQ(believed, "committee_staff:staff/zhang");
  // Without an actor, a service calls as itself.
  ASSERT_TRUE(Call(*As("linli-scheduling", "linli-registry"), "", &believed).ok());
  EXPECT_EQ(believed, "service:linli-scheduling");
}

TEST_F(InternalIdentityTest, APlaintextClientDoesNotGetIn) {
  auto channel = grpc::CreateChannel(address_, grpc::InsecureChannelCredentials());
  grpc::Status status = Call(*channel, "admin:mallory");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
}

TEST_F(InternalIdentityTest, ATlsClientWithoutACertificateDoesNotGetIn) {
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = pki_.ca.cert_pem;
  grpc::ChannelArguments args;
  args.SetSslTargetNameOverride("linli-registry");
  auto channel = grpc::CreateCustomChannel(address_, grpc::SslCredentials(ssl), args);
  grpc::Status status = Call(*channel, "admin:mallory");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
}

TEST_F(InternalIdentityTest, ACertificateFromAnotherCaDoesNotGetIn) {
  Pki other = MakePki("someone-elses-ca");
  // Trusts our CA for the server, presents a certificate of its own CA named like the gateway.
  testing::SelfSigned forged = *testing::IssueCertificate(other.ca, "linli-gateway");
  auto identity = *InternalIdentity::FromPem(pki_.ca.cert_pem, forged.cert_pem, forged.key_pem);
  auto channel = NewInternalChannel(address_, "linli-registry", {}, identity, clock_);
  grpc::Status status = Call(*channel, "admin:mallory");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
}

TEST_F(InternalIdentityTest, ACertificateWithoutAPrincipalTokenIsUnauthenticated) {
  auto channel = GatewayTlsOnly();
  // A bare x-linli-actor header is what any client could set: not believed.
  grpc::Status status = Call(*channel, "admin:mallory");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_NE(status.error_message().find(kPrincipalKey), std::string::npos)
      << status.error_message();
}

TEST_F(InternalIdentityTest, ATokenForAnotherBackendIsRefused) {
  // The gateway's channel to scheduling signs tokens for linli-scheduling; aimed at the registry
  // (the certificate check passes only because we override the name for the test).
  grpc::ChannelArguments args;
  args.SetSslTargetNameOverride("linli-registry");
  std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(
      NewPrincipalInterceptor(pki_.identities["linli-gateway"], "linli-scheduling", clock_));
  auto channel = grpc::experimental::CreateCustomChannelWithInterceptors(
      address_, pki_.identities["linli-gateway"]->ChannelCredentials(), args,
      std::move(interceptors));
  grpc::Status status = Call(*channel, "admin:root");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << status.error_message();
}

TEST_F(InternalIdentityTest, OnlyTheGatewayAndTheCliMayNameAnotherActor) {
  grpc::Status status = Call(*As("linli-scheduling", "linli-registry"), "admin:root");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_NE(status.error_message().find("may only call as service:linli-scheduling"),
            std::string::npos)
      << status.error_message();
  EXPECT_TRUE(CheckDelegation("linli-cli", "admin:ops").ok());
  EXPECT_FALSE(CheckDelegation("linli-feedback", "service:linli-scheduling").ok());
}

TEST_F(InternalIdentityTest, ATokenSignedByAnotherServiceKeyIsRefused) {
  // A token the scheduling service signed, replayed by the gateway's connection: the issuer must
  // be the certificate that opened the connection.
  absl::StatusOr<std::string> stolen = pki_.identities["linli-scheduling"]->PrincipalToken(
      "service:linli-scheduling", "linli-registry", clock_.Now());
  ASSERT_TRUE(stolen.ok());
  grpc::Status status = CallWith(*stolen, "service:linli-scheduling");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << status.error_message();
}

TEST_F(InternalIdentityTest, TheActorHeaderMustNameTheTokensSubject) {
  absl::StatusOr<std::string> token = pki_.identities["linli-gateway"]->PrincipalToken(
      "street_staff:staff/a", "linli-registry", clock_.Now());
  ASSERT_TRUE(token.ok());
  for (const auto& [header, code] :
       {std::pair<std::string, grpc::StatusCode>{"admin:root", grpc::StatusCode::UNAUTHENTICATED},
        {"", grpc::StatusCode::UNAUTHENTICATED},
        {"street_staff:staff/a", grpc::StatusCode::OK}}) {
    std::string believed;
    grpc::Status status = CallWith(*token, header, &believed);
    EXPECT_EQ(status.error_code(), code) << header << ": " << status.error_message();
    if (status.ok()) {
      EXPECT_EQ(believed, "street_staff:staff/a");
    }
  }
}

TEST_F(InternalIdentityTest, ManyCallsOnOneConnectionEachKeepTheirOwnActor) {
  auto channel = As("linli-gateway", "linli-registry");
  for (int i = 0; i < 20; ++i) {
    std::string believed;
    const std::string actor = absl::StrCat("committee_staff:staff/", i % 3);
    ASSERT_TRUE(Call(*channel, i % 4 == 0 ? "" : actor, &believed).ok());
    EXPECT_EQ(believed, i % 4 == 0 ? "service:linli-gateway" : actor);
  }
}

TEST_F(InternalIdentityTest, AnExpiredTokenIsRefused) {
  const absl::Time issued = clock_.Now();
  absl::StatusOr<std::string> token =
      pki_.identities["linli-gateway"]->PrincipalToken("admin:ops", "linli-registry", issued);
  ASSERT_TRUE(token.ok());
  clock_.Advance(kPrincipalTokenLifetime + absl::Minutes(2));  // past exp and the leeway
  grpc::Status status = CallWith(*token, "admin:ops");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << status.error_message();
  // The channel's own interceptor signs afresh on the same clock: accepted.
  std::string believed;
  ASSERT_TRUE(Call(*As("linli-gateway", "linli-registry"), "admin:ops", &believed).ok());
  EXPECT_EQ(believed, "admin:ops");
}

TEST(InternalIdentityLoadTest, RefusesAKeyThatIsNotTheCertificates) {
  testing::SelfSigned ca = *testing::MakeSelfSigned("ca");
  testing::SelfSigned a = *testing::IssueCertificate(ca, "linli-registry");
  testing::SelfSigned b = *testing::IssueCertificate(ca, "linli-registry");
  auto identity = InternalIdentity::FromPem(ca.cert_pem, a.cert_pem, b.key_pem);
  ASSERT_FALSE(identity.ok());
  EXPECT_EQ(identity.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(identity.status().message().find("does not match"), std::string::npos);
  EXPECT_FALSE(InternalIdentity::FromPem("", a.cert_pem, a.key_pem).ok());
  EXPECT_FALSE(InternalIdentity::Load("/nonexistent/ca.crt", "x", "y").ok());
}

}  // namespace
}  // namespace linli::auth
