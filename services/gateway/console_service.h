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
#include "linli/scheduling/v1/scheduling.grpc.pb.h"

namespace linli::gateway {

// A backend that cannot be reached becomes UNAVAILABLE with a reason clients can act on (retry
// later), whatever transport text gRPC produced; other statuses pass through unchanged.
grpc::Status FromBackend(const grpc::ServerContext& context, const grpc::Status& status,
                         const char* backend);

class ConsoleServiceImpl final : public v1::ConsoleService::Service {
 public:
  ConsoleServiceImpl(std::shared_ptr<registry::v1::RegistryService::StubInterface> registry,
                     std::shared_ptr<scheduling::v1::SchedulingService::StubInterface> scheduling,
                     absl::Duration backend_timeout)
      : registry_(std::move(registry)),
        scheduling_(std::move(scheduling)),
        backend_timeout_(backend_timeout) {}

  grpc::Status CreateRegion(grpc::ServerContext* context, const v1::CreateRegionRequest* request,
                            v1::CreateRegionResponse* response) override;
  grpc::Status GetRegion(grpc::ServerContext* context, const v1::GetRegionRequest* request,
                         v1::GetRegionResponse* response) override;
  grpc::Status ListRegions(grpc::ServerContext* context, const v1::ListRegionsRequest* request,
                           v1::ListRegionsResponse* response) override;

  // Registry and scheduling reads exposed unchanged.
#define LINLI_FORWARD(member, package, ServiceClass, Method)                                     \
  grpc::Status Method(grpc::ServerContext* context, const package::v1::Method##Request* request, \
                      package::v1::Method##Response* response) override {                        \
    return Forward(context, member.get(), &package::v1::ServiceClass::StubInterface::Method,     \
                   *request, response, #package);                                                \
  }
  LINLI_FORWARD(registry_, registry, RegistryService, GetMap)
  LINLI_FORWARD(registry_, registry, RegistryService, SearchProviders)
  LINLI_FORWARD(registry_, registry, RegistryService, ListLines)
  LINLI_FORWARD(registry_, registry, RegistryService, ListOrganisations)
  LINLI_FORWARD(registry_, registry, RegistryService, GetOrganisation)
  LINLI_FORWARD(registry_, registry, RegistryService, ListRelations)
  LINLI_FORWARD(registry_, registry, RegistryService, ListServiceTypes)
  LINLI_FORWARD(registry_, registry, RegistryService, ListOfferings)
  LINLI_FORWARD(registry_, registry, RegistryService, ListElders)
  LINLI_FORWARD(registry_, registry, RegistryService, GetElder)
  LINLI_FORWARD(registry_, registry, RegistryService, ListWorkers)
  LINLI_FORWARD(registry_, registry, RegistryService, ListAuditEntries)
  LINLI_FORWARD(scheduling_, scheduling, SchedulingService, GetCommitment)
  LINLI_FORWARD(scheduling_, scheduling, SchedulingService, ListCommitments)
  LINLI_FORWARD(scheduling_, scheduling, SchedulingService, ListVisits)
#undef LINLI_FORWARD

 private:
  // A context for a backend call: the caller's deadline and request id, and the actor the
  // gateway vouches for (never a client-sent x-linli-actor).
  std::unique_ptr<grpc::ClientContext> BackendContext(grpc::ServerContext* context) const;

  // Calls a backend with the caller's deadline and request id; maps an unreachable backend to
  // UNAVAILABLE with ERROR_REASON_BACKEND_UNAVAILABLE.
  template <typename Stub, typename Request, typename Response>
  grpc::Status Forward(grpc::ServerContext* context, Stub* stub,
                       grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&,
                                                    Response*),
                       const Request& request, Response* response, const char* backend) {
    auto client_context = BackendContext(context);
    grpc::Status status = (stub->*method)(client_context.get(), request, response);
    return FromBackend(*context, status, backend);
  }

  std::shared_ptr<registry::v1::RegistryService::StubInterface> registry_;
  std::shared_ptr<scheduling::v1::SchedulingService::StubInterface> scheduling_;
  absl::Duration backend_timeout_;
};

}  // namespace linli::gateway

#endif  // LINLI_SERVICES_GATEWAY_CONSOLE_SERVICE_H_
