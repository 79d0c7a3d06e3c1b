// The registry as tables, for tests of scheduling's use cases without gRPC: elders, organisations
// and service types by name, each region's elders, each organisation's workers (one page each).
// Every question is counted in `asked` ("GetElder elders/e1", "ListWorkers organisations/o",
// "ListServiceTypes"); with `failure` set, every call fails with it. What it has no table for
// is UNIMPLEMENTED.
#ifndef LINLI_SERVICES_SCHEDULING_TESTING_TABLE_REGISTRY_H_
#define LINLI_SERVICES_SCHEDULING_TESTING_TABLE_REGISTRY_H_

#include <map>
#include <string>
#include <vector>

#include "common/errors.h"
#include "common/status_macros.h"
#include "services/scheduling/registry_view.h"

namespace linli::scheduling {

class TableRegistry final : public RegistryView {
 public:
  std::map<std::string, registry::v1::Elder> elders;                 // name -> elder
  std::map<std::string, registry::v1::Organisation> organisations;   // name -> organisation
  std::vector<std::string> service_types;                            // names
  std::map<std::string, std::vector<std::string>> region_elders;     // region -> elder names
  std::map<std::string, std::vector<registry::v1::Worker>> workers;  // organisation -> workers
  absl::Status failure;
  std::map<std::string, int> asked;

  // Questions asked, of any kind.
  int calls() const {
    int n = 0;
    for (const auto& [question, times] : asked) n += times;
    return n;
  }

  absl::StatusOr<registry::v1::GetElderResponse> GetElder(
      const registry::v1::GetElderRequest& request) override {
    RETURN_IF_ERROR(Ask("GetElder " + request.name()));
    auto it = elders.find(request.name());
    if (it == elders.end()) return NotFound(request.name());
    registry::v1::GetElderResponse response;
    *response.mutable_elder() = it->second;
    return response;
  }
  absl::StatusOr<registry::v1::GetOrganisationResponse> GetOrganisation(
      const registry::v1::GetOrganisationRequest& request) override {
    RETURN_IF_ERROR(Ask("GetOrganisation " + request.name()));
    auto it = organisations.find(request.name());
    if (it == organisations.end()) return NotFound(request.name());
    registry::v1::GetOrganisationResponse response;
    *response.mutable_organisation() = it->second;
    return response;
  }
  absl::StatusOr<registry::v1::ListServiceTypesResponse> ListServiceTypes(
      const registry::v1::ListServiceTypesRequest&) override {
    RETURN_IF_ERROR(Ask("ListServiceTypes"));
    registry::v1::ListServiceTypesResponse response;
    for (const std::string& name : service_types) response.add_service_types()->set_name(name);
    return response;
  }
  absl::StatusOr<registry::v1::ListEldersResponse> ListElders(
      const registry::v1::ListEldersRequest& request) override {
    RETURN_IF_ERROR(Ask("ListElders " + request.region()));
    auto it = region_elders.find(request.region());
    if (it == region_elders.end()) return NotFound(request.region());
    registry::v1::ListEldersResponse page;
    for (const std::string& name : it->second) page.add_elders()->set_name(name);
    return page;
  }
  absl::StatusOr<registry::v1::ListWorkersResponse> ListWorkers(
      const registry::v1::ListWorkersRequest& request) override {
    RETURN_IF_ERROR(Ask("ListWorkers " + request.organisation()));
    registry::v1::ListWorkersResponse page;
    for (const auto& w : workers[request.organisation()]) *page.add_workers() = w;
    return page;
  }
  absl::StatusOr<registry::v1::GetRegionResponse> GetRegion(
      const registry::v1::GetRegionRequest&) override {
    return absl::UnimplementedError("GetRegion");
  }
  absl::StatusOr<registry::v1::GetWorkerResponse> GetWorker(
      const registry::v1::GetWorkerRequest&) override {
    return absl::UnimplementedError("GetWorker");
  }
  absl::StatusOr<registry::v1::ListOfferingsResponse> ListOfferings(
      const registry::v1::ListOfferingsRequest&) override {
    return absl::UnimplementedError("ListOfferings");
  }
  absl::StatusOr<registry::v1::SearchProvidersResponse> SearchProviders(
      const registry::v1::SearchProvidersRequest&) override {
    return absl::UnimplementedError("SearchProviders");
  }

 private:
  absl::Status Ask(const std::string& question) {
    ++asked[question];
    return failure;
  }
};

}  // namespace linli::scheduling

#endif  // LINLI_SERVICES_SCHEDULING_TESTING_TABLE_REGISTRY_H_
