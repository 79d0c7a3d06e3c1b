// The committee and street console API (linli.gateway.v1.ConsoleService): validates nothing
// itself that a backend owns; forwards with the caller's deadline and request id and returns the
// backend's status (with its details) unchanged.
#ifndef LINLI_SERVICES_GATEWAY_CONSOLE_SERVICE_H_
#define LINLI_SERVICES_GATEWAY_CONSOLE_SERVICE_H_

#include <memory>

#include "absl/time/time.h"
#include "common/client.h"
#include "linli/gateway/v1/console.grpc.pb.h"
#include "linli/registry/v1/registry.grpc.pb.h"

namespace linli::gateway {

// A backend that cannot be reached becomes UNAVAILABLE with a reason clients can act on (retry
// later), whatever transport text gRPC produced; other statuses pass through unchanged.
grpc::Status FromBackend(const grpc::ServerContext& context, const grpc::Status& status,
                         const char* backend);

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

  // Registry reads exposed unchanged.
#define LINLI_FORWARD(Method)                                                                     \
  grpc::Status Method(grpc::ServerContext* context, const registry::v1::Method##Request* request, \
                      registry::v1::Method##Response* response) override {                        \
    return Forward(context, &registry::v1::RegistryService::StubInterface::Method, *request,      \
                   response);                                                                     \
  }
  LINLI_FORWARD(GetMap)
  LINLI_FORWARD(SearchProviders)
  LINLI_FORWARD(ListLines)
  LINLI_FORWARD(ListOrganisations)
  LINLI_FORWARD(GetOrganisation)
  LINLI_FORWARD(ListRelations)
  LINLI_FORWARD(ListServiceTypes)
  LINLI_FORWARD(ListOfferings)
  LINLI_FORWARD(ListElders)
  LINLI_FORWARD(GetElder)
  LINLI_FORWARD(ListWorkers)
  LINLI_FORWARD(ListAuditEntries)
#undef LINLI_FORWARD

 private:
  // A context for a backend call: the caller's deadline and request id, and the actor the
  // gateway vouches for (never a client-sent x-linli-actor).
  std::unique_ptr<grpc::ClientContext> BackendContext(grpc::ServerContext* context) const;

  // Calls the registry with the caller's deadline and request id; maps an unreachable registry
  // to UNAVAILABLE with ERROR_REASON_BACKEND_UNAVAILABLE.
  template <typename Request, typename Response>
  grpc::Status Forward(grpc::ServerContext* context,
                       grpc::Status (registry::v1::RegistryService::StubInterface::*method)(
                           grpc::ClientContext*, const Request&, Response*),
                       const Request& request, Response* response) {
    auto client_context = BackendContext(context);
    grpc::Status status = (registry_.get()->*method)(client_context.get(), request, response);
    return FromBackend(*context, status, "registry");
  }

  std::shared_ptr<registry::v1::RegistryService::StubInterface> registry_;
  absl::Duration backend_timeout_;
};

}  // namespace linli::gateway

#endif  // LINLI_SERVICES_GATEWAY_CONSOLE_SERVICE_H_
