// The platform's internal PKI for tests that run the real service binaries: a CA and a
// certificate per identity (common/auth/internal_identity.h), written once per test process
// under a temp directory, so every backend a test starts serves mutual TLS and checks principal
// tokens exactly as in a deployment.
//
//   const testing::PlatformPki& pki = testing::PlatformPki::Shared();
//   args = {"--listen=...", ...};
//   pki.AppendFlags("linli-registry", args);           // the registry's identity
//   auto stub = RegistryService::NewStub(pki.Channel(address, "linli-registry"));
//   // calls on that channel act as "service:linli-cli" unless they set x-linli-actor
#ifndef LINLI_TESTS_SUPPORT_PLATFORM_PKI_H_
#define LINLI_TESTS_SUPPORT_PLATFORM_PKI_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/auth/internal_identity.h"
#include "grpcpp/channel.h"

namespace linli::testing {

class PlatformPki {
 public:
  // Identities issued: linli-registry, linli-scheduling, linli-feedback, linli-gateway and
  // linli-cli (the operator's CLI, which is also what the test itself calls as).
  static const PlatformPki& Shared();

  const std::string& ca_file() const { return ca_file_; }
  std::string cert_file(const std::string& identity) const;
  std::string key_file(const std::string& identity) const;
  // --internal_ca_file, --internal_cert_file and --internal_key_file of `identity`.
  std::vector<std::string> Flags(const std::string& identity) const;
  void AppendFlags(const std::string& identity, std::vector<std::string>& args) const;
  // The same as LINLI_INTERNAL_* environment assignments, for a CLI started by a test.
  std::vector<std::string> Environment(const std::string& identity) const;

  std::shared_ptr<const auth::InternalIdentity> Identity(const std::string& identity) const;
  // A channel to the backend `peer` at `address`, as `as` (default: the operator CLI).
  std::shared_ptr<grpc::Channel> Channel(const std::string& address, const std::string& peer,
                                         const std::string& as = "linli-cli") const;

 private:
  PlatformPki() = default;
  std::string dir_;
  std::string ca_file_;
  std::map<std::string, std::shared_ptr<const auth::InternalIdentity>> identities_;
};

// The identity serving `api` ("linli.registry.v1.RegistryService" -> "linli-registry"); empty
// for the public gateway's services.
std::string PeerOfApi(const std::string& api);

}  // namespace linli::testing

#endif  // LINLI_TESTS_SUPPORT_PLATFORM_PKI_H_
