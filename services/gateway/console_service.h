// The committee and street console API (linli.gateway.v1.ConsoleService): every call passes the
// gate (authentication, rate limit, the method's authorisation rule); then it validates nothing
// itself that a backend owns, forwards with the caller's deadline, request id and principal (as
// x-linli-actor), caps page sizes, and returns the backend's status (with its details) unchanged.
#ifndef LINLI_SERVICES_GATEWAY_CONSOLE_SERVICE_H_
#define LINLI_SERVICES_GATEWAY_CONSOLE_SERVICE_H_

#include <memory>

#include "absl/time/time.h"
#include "common/client.h"
#include "linli/feedback/v1/feedback.grpc.pb.h"
#include "linli/gateway/v1/console.grpc.pb.h"
#include "linli/registry/v1/registry.grpc.pb.h"
#include "linli/scheduling/v1/scheduling.grpc.pb.h"
#include "services/gateway/gate.h"

namespace linli::gateway {

// A backend that cannot be reached becomes UNAVAILABLE with a reason clients can act on (retry
// later), whatever transport text gRPC produced; other statuses pass through unchanged.
grpc::Status FromBackend(const grpc::ServerContext& context, const grpc::Status& status,
                         const char* backend);

// The largest page the gateway asks a backend for; larger requested sizes are capped to it.
inline constexpr int kMaxPageSize = 200;

class ConsoleServiceImpl final : public v1::ConsoleService::Service {
 public:
  ConsoleServiceImpl(Gate* gate,
                     std::shared_ptr<registry::v1::RegistryService::StubInterface> registry,
                     std::shared_ptr<scheduling::v1::SchedulingService::StubInterface> scheduling,
                     std::shared_ptr<feedback::v1::FeedbackService::StubInterface> feedback,
                     absl::Duration backend_timeout)
      : gate_(gate),
        registry_(std::move(registry)),
        scheduling_(std::move(scheduling)),
        feedback_(std::move(feedback)),
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
    return gate_->Run(context, "/linli.gateway.v1.ConsoleService/" #Method, *request,            \
                      [&](const auth::Principal& who) {                                          \
                        return Forward(context, who, member.get(),                               \
                                       &package::v1::ServiceClass::StubInterface::Method,        \
                                       *request, response, #package);                            \
                      });                                                                        \
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
  LINLI_FORWARD(feedback_, feedback, FeedbackService, ListAlerts)
  LINLI_FORWARD(feedback_, feedback, FeedbackService, GetPerceptionIndex)
  LINLI_FORWARD(feedback_, feedback, FeedbackService, GetPromiseLedger)
  LINLI_FORWARD(feedback_, feedback, FeedbackService, ListWorkOrders)
#undef LINLI_FORWARD

 private:
  // Calls a backend with the caller's deadline, request id and principal; page sizes above
  // kMaxPageSize are capped; maps an unreachable backend to UNAVAILABLE with
  // ERROR_REASON_BACKEND_UNAVAILABLE.
  template <typename Stub, typename Request, typename Response>
  grpc::Status Forward(grpc::ServerContext* context, const auth::Principal& who, Stub* stub,
                       grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&,
                                                    Response*),
                       const Request& request, Response* response, const char* backend) {
    auto client_context = BackendContext(context, who, backend_timeout_);
    grpc::Status status;
    if constexpr (requires(Request r) { r.set_page_size(0); }) {
      if (request.page_size() > kMaxPageSize) {
        Request capped = request;
        capped.set_page_size(kMaxPageSize);
        status = (stub->*method)(client_context.get(), capped, response);
        return FromBackend(*context, status, backend);
      }
    }
    status = (stub->*method)(client_context.get(), request, response);
    return FromBackend(*context, status, backend);
  }

  Gate* gate_;

  std::shared_ptr<registry::v1::RegistryService::StubInterface> registry_;
  std::shared_ptr<scheduling::v1::SchedulingService::StubInterface> scheduling_;
  std::shared_ptr<feedback::v1::FeedbackService::StubInterface> feedback_;
  absl::Duration backend_timeout_;
};

}  // namespace linli::gateway

#endif  // LINLI_SERVICES_GATEWAY_CONSOLE_SERVICE_H_
