// Directory over the registry's gRPC API, for one incoming call: each question is a registry call
// bounded by `timeout` and by the deadline of `parent` (nullptr for the server's own sweeps).
#ifndef LINLI_SERVICES_FEEDBACK_REGISTRY_DIRECTORY_H_
#define LINLI_SERVICES_FEEDBACK_REGISTRY_DIRECTORY_H_

#include <string>

#include "absl/time/time.h"
#include "grpcpp/server_context.h"
#include "linli/registry/v1/registry.grpc.pb.h"
#include "services/feedback/directory.h"

namespace linli::feedback {

class RegistryDirectory final : public Directory {
 public:
  RegistryDirectory(registry::v1::RegistryService::StubInterface& registry,
                    const grpc::ServerContext* parent, absl::Duration timeout)
      : registry_(registry), parent_(parent), timeout_(timeout) {}

  std::string EscalationTarget(const std::string& street) override;
  absl::StatusOr<std::string> Supervisor(const std::string& organisation) override;
  std::string DisplayName(const std::string& organisation) override;
  absl::StatusOr<std::string> PhoneToReach(const std::string& elder, const std::string& actor,
                                           const std::string& reason) override;

 private:
  registry::v1::RegistryService::StubInterface& registry_;
  const grpc::ServerContext* parent_;
  absl::Duration timeout_;
};

}  // namespace linli::feedback

#endif  // LINLI_SERVICES_FEEDBACK_REGISTRY_DIRECTORY_H_
