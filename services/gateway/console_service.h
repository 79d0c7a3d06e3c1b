// The committee and street console API (linli.gateway.v1.ConsoleService): validates nothing
// itself that a backend owns; forwards with the caller's deadline and request id and returns the
// backend's status (with its details) unchanged.
#ifndef LINLI_SERVICES_GATEWAY_CONSOLE_SERVICE_H_
#define LINLI_SERVICES_GATEWAY_CONSOLE_SERVICE_H_

#include <memory>

#include "absl/time/time.h"
#include "linli/gateway/v1/console.grpc.pb.h"
#include "linli/registry/v1/registry.grpc.pb.h"

namespace linli::gateway {

class ConsoleServiceImpl final : public v1::ConsoleService::Service {
 public:
  ConsoleServiceImpl(std::shared_ptr<registry::v1::RegistryService::StubInterface> registry,
                     absl::Duration backend_timeout)
      : registry_(std::move(registry)), backend_timeout_(backend_timeout) {}

  grpc::Status CreateRegion(grpc::ServerContext* context, const v1::CreateRegionRequest* request,
                            v1::CreateRegionResponse* response) override;
  grpc::Status GetRegion(grpc::ServerContext* context, const v1::GetRegionRequest* request,
                         v1::GetRegionResponse* response) override;
  grpc::Status ListRegions(grpc::ServerContext* context, const v1::ListRegionsRequest* request,
                           v1::ListRegionsResponse* response) override;

 private:
  std::shared_ptr<registry::v1::RegistryService::StubInterface> registry_;
  absl::Duration backend_timeout_;
};

}  // namespace linli::gateway

#endif  // LINLI_SERVICES_GATEWAY_CONSOLE_SERVICE_H_
