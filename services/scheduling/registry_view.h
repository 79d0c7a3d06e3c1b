// What scheduling's use cases ask the registry. The use cases depend on this interface only;
// GrpcRegistryView (grpc_registry_view.h) answers it over gRPC for one incoming call, and a test
// can answer it from a table. Failures come as absl::Status: NOT_FOUND when the registry does not
// know what was named, UNAVAILABLE (ERROR_REASON_BACKEND_UNAVAILABLE) when it cannot be asked.
#ifndef LINLI_SERVICES_SCHEDULING_REGISTRY_VIEW_H_
#define LINLI_SERVICES_SCHEDULING_REGISTRY_VIEW_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/status_macros.h"
#include "linli/registry/v1/registry.pb.h"

namespace linli::scheduling {

class RegistryView {
 public:
  virtual ~RegistryView() = default;
  // An elder (masked view: no personal data, no audit).
  virtual absl::StatusOr<registry::v1::GetElderResponse> GetElder(
      const registry::v1::GetElderRequest& request) = 0;
  // A region (its parent: a committee's street).
  virtual absl::StatusOr<registry::v1::GetRegionResponse> GetRegion(
      const registry::v1::GetRegionRequest& request) = 0;
  virtual absl::StatusOr<registry::v1::GetOrganisationResponse> GetOrganisation(
      const registry::v1::GetOrganisationRequest& request) = 0;
  virtual absl::StatusOr<registry::v1::ListServiceTypesResponse> ListServiceTypes(
      const registry::v1::ListServiceTypesRequest& request) = 0;
  virtual absl::StatusOr<registry::v1::GetWorkerResponse> GetWorker(
      const registry::v1::GetWorkerRequest& request) = 0;
  // One page of a region's elders (masked view).
  virtual absl::StatusOr<registry::v1::ListEldersResponse> ListElders(
      const registry::v1::ListEldersRequest& request) = 0;
  // One page of an organisation's workers, whatever their status.
  virtual absl::StatusOr<registry::v1::ListWorkersResponse> ListWorkers(
      const registry::v1::ListWorkersRequest& request) = 0;
  // One page of an organisation's offerings.
  virtual absl::StatusOr<registry::v1::ListOfferingsResponse> ListOfferings(
      const registry::v1::ListOfferingsRequest& request) = 0;
  // Providers of a service covering an elder, nearest first.
  virtual absl::StatusOr<registry::v1::SearchProvidersResponse> SearchProviders(
      const registry::v1::SearchProvidersRequest& request) = 0;
};

// Every worker of `organisation` ("organisations/…"), whatever their status, page by page.
inline absl::StatusOr<std::vector<registry::v1::Worker>> AllWorkers(
    RegistryView& registry, const std::string& organisation) {
  std::vector<registry::v1::Worker> workers;
  registry::v1::ListWorkersRequest list;
  list.set_organisation(organisation);
  list.set_page_size(1000);
  do {
    ASSIGN_OR_RETURN(registry::v1::ListWorkersResponse page, registry.ListWorkers(list));
    for (registry::v1::Worker& w : *page.mutable_workers()) workers.push_back(std::move(w));
    list.set_page_token(page.next_page_token());
  } while (!list.page_token().empty());
  return workers;
}

}  // namespace linli::scheduling

#endif  // LINLI_SERVICES_SCHEDULING_REGISTRY_VIEW_H_
