// RegistryView over the registry's gRPC API, for one incoming call: each question is a registry
// call bounded by `timeout` and by the deadline of `parent` (nullptr for the server's own work).
#ifndef LINLI_SERVICES_SCHEDULING_GRPC_REGISTRY_VIEW_H_
#define LINLI_SERVICES_SCHEDULING_GRPC_REGISTRY_VIEW_H_

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "grpcpp/server_context.h"
#include "linli/registry/v1/registry.grpc.pb.h"
#include "services/scheduling/registry_view.h"

namespace linli::scheduling {

// Maps a registry call's failure: UNAVAILABLE with a reason clients can act on, else as is.
absl::Status RegistryError(const grpc::Status& status);

class GrpcRegistryView final : public RegistryView {
 public:
  GrpcRegistryView(registry::v1::RegistryService::StubInterface& registry,
                   const grpc::ServerContext* parent, absl::Duration timeout)
      : registry_(registry), parent_(parent), timeout_(timeout) {}

  absl::StatusOr<registry::v1::GetElderResponse> GetElder(
      const registry::v1::GetElderRequest& request) override;
  absl::StatusOr<registry::v1::GetRegionResponse> GetRegion(
      const registry::v1::GetRegionRequest& request) override;
  absl::StatusOr<registry::v1::GetOrganisationResponse> GetOrganisation(
      const registry::v1::GetOrganisationRequest& request) override;
  absl::StatusOr<registry::v1::ListServiceTypesResponse> ListServiceTypes(
      const registry::v1::ListServiceTypesRequest& request) override;
  absl::StatusOr<registry::v1::GetWorkerResponse> GetWorker(
      const registry::v1::GetWorkerRequest& request) override;
  absl::StatusOr<registry::v1::ListEldersResponse> ListElders(
      const registry::v1::ListEldersRequest& request) override;
  absl::StatusOr<registry::v1::ListWorkersResponse> ListWorkers(
      const registry::v1::ListWorkersRequest& request) override;
  absl::StatusOr<registry::v1::ListOfferingsResponse> ListOfferings(
      const registry::v1::ListOfferingsRequest& request) override;
  absl::StatusOr<registry::v1::SearchProvidersResponse> SearchProviders(
      const registry::v1::SearchProvidersRequest& request) override;

 private:
  registry::v1::RegistryService::StubInterface& registry_;
  const grpc::ServerContext* parent_;
  absl::Duration timeout_;
};

}  // namespace linli::scheduling

#endif  // LINLI_SERVICES_SCHEDULING_GRPC_REGISTRY_VIEW_H_
