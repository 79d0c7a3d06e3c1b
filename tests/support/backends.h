// Helpers for tests that run the real service binaries: waiting until one serves, and the small
// street most of them need in the registry.
#ifndef LINLI_TESTS_SUPPORT_BACKENDS_H_
#define LINLI_TESTS_SUPPORT_BACKENDS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "linli/registry/v1/registry.grpc.pb.h"

namespace linli::testing {

// True once `api` at `address` reports SERVING through gRPC health, false after `timeout`. A
// backend's health is asked over mutual TLS as the operator CLI (PlatformPki).
bool WaitServing(const std::string& address, const std::string& api,
                 absl::Duration timeout = absl::Seconds(60));

// 上海市 > 黄浦区 > 五里桥街道 > 桥二居民区 (regions/310101020002), the social organisation
// "organisations/lelin" in the street and the service type "serviceTypes/visiting".
absl::Status SeedVisitingStreet(registry::v1::RegistryService::StubInterface& registry);

// Writes a development key set (one HS256 key, kid "dev") to `jwt_keys_path` for the gateway's
// --jwt_keys_file, and returns an admin token signed with it for `subject` (iss linli-dev, aud
// linli-gateway, issued now, valid an hour).
std::string WriteDevKeysAndAdminToken(const std::string& jwt_keys_path, const std::string& subject);

// `count` elders named "<prefix>0", "<prefix>1", … in the street's committee
// (regions/310101020002); their resource names in that order.
absl::StatusOr<std::vector<std::string>> SeedElders(
    registry::v1::RegistryService::StubInterface& registry, int count, const std::string& prefix);

}  // namespace linli::testing

#endif  // LINLI_TESTS_SUPPORT_BACKENDS_H_
