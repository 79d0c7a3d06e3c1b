#include "tests/support/backends.h"

#include <fstream>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "common/auth/jwt.h"
#include "common/client.h"
#include "common/errors.h"
#include "common/grpc_probe.h"
#include "common/grpc_status.h"
#include "tests/support/platform_pki.h"

namespace linli::testing {

bool WaitServing(const std::string& address, const std::string& api, absl::Duration timeout) {
  const std::string peer = PeerOfApi(api);
  auto channel =
      peer.empty() ? NewChannel(address, {}) : PlatformPki::Shared().Channel(address, peer);
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    auto health = CheckHealth(*channel, api, absl::Seconds(1));
    if (health.ok() && *health == HealthStatus::kServing) return true;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return false;
}

std::string WriteDevKeysAndAdminToken(const std::string& jwt_keys_path,
                                      const std::string& subject) {
  const std::string secret = "test-secret-0123456789abcdef0123456";
  std::ofstream(jwt_keys_path) << nlohmann::json{{"keys",
                                                  {{{"kid", "dev"},
                                                    {"alg", "HS256"},
                                                    {"k", auth::Base64UrlEncode(secret)}}}}}
                                      .dump();
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  return *auth::SignJwt(*auth::JwtKey::Hmac("dev", secret), {{"iss", "linli-dev"},
                                                             {"aud", "linli-gateway"},
                                                             {"sub", subject},
                                                             {"role", "admin"},
                                                             {"iat", now},
                                                             {"exp", now + 3600}});
}

absl::Status SeedVisitingStreet(registry::v1::RegistryService::StubInterface& registry) {
  const std::tuple<const char*, const char*, registry::v1::RegionLevel, const char*> regions[] = {
      {"310000", "上海市", registry::v1::REGION_LEVEL_MUNICIPALITY, ""},
      {"310101", "黄浦区", registry::v1::REGION_LEVEL_DISTRICT, "regions/310000"},
      {"310101020", "五里桥街道", registry::v1::REGION_LEVEL_STREET, "regions/310101"},
      {"310101020002", "桥二居民区", registry::v1::REGION_LEVEL_COMMITTEE, "regions/310101020"}};
  for (const auto& [code, display, level, parent] : regions) {
    registry::v1::CreateRegionRequest request;
    request.mutable_region()->set_code(code);
    request.mutable_region()->set_display_name(display);
    request.mutable_region()->set_level(level);
    request.mutable_region()->set_parent(parent);
    registry::v1::CreateRegionResponse response;
    grpc::Status s = registry.CreateRegion(NewClientContext(nullptr, absl::Seconds(10)).get(),
                                           request, &response);
    if (!s.ok()) return FromGrpcStatus(s);
  }
  registry::v1::CreateOrganisationRequest org;
  org.mutable_organisation()->set_id("lelin");
  org.mutable_organisation()->set_display_name("乐龄社工服务社");
  org.mutable_organisation()->set_kind(registry::v1::ORGANISATION_KIND_SOCIAL_ORGANISATION);
  org.mutable_organisation()->set_sector(registry::v1::SECTOR_SOCIAL);
  org.mutable_organisation()->set_region("regions/310101020");
  registry::v1::CreateOrganisationResponse org_out;
  grpc::Status s = registry.CreateOrganisation(NewClientContext(nullptr, absl::Seconds(10)).get(),
                                               org, &org_out);
  if (!s.ok()) return FromGrpcStatus(s);
  registry::v1::CreateServiceTypeRequest type;
  type.mutable_service_type()->set_code("visiting");
  type.mutable_service_type()->set_display_name("探访");
  registry::v1::CreateServiceTypeResponse type_out;
  s = registry.CreateServiceType(NewClientContext(nullptr, absl::Seconds(10)).get(), type,
                                 &type_out);
  return FromGrpcStatus(s);
}

absl::StatusOr<std::vector<std::string>> SeedElders(
    registry::v1::RegistryService::StubInterface& registry, int count, const std::string& prefix) {
  std::vector<std::string> elders;
  for (int i = 0; i < count; ++i) {
    registry::v1::CreateElderRequest request;
    request.mutable_elder()->set_display_name(absl::StrCat(prefix, i));
    request.mutable_elder()->set_region("regions/310101020002");
    registry::v1::CreateElderResponse response;
    auto context = NewClientContext(nullptr, absl::Seconds(10));
    const grpc::Status s = registry.CreateElder(context.get(), request, &response);
    if (!s.ok()) return FromGrpcStatus(s);
    elders.push_back(response.elder().name());
  }
  return elders;
}

}  // namespace linli::testing
