#include "services/scheduling/grpc_registry_view.h"

#include "common/client.h"
#include "common/errors.h"
#include "common/grpc_status.h"

namespace linli::scheduling {

absl::Status RegistryError(const grpc::Status& status) {
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
    return WithReason(absl::UnavailableError("registry is unavailable; retry later"),
                      common::v1::ERROR_REASON_BACKEND_UNAVAILABLE);
  }
  return FromGrpcStatus(status);
}

namespace {

// One registry call: `call` is the stub's method, bounded by `timeout` and the caller's deadline.
template <typename Response, typename Request, typename Call>
absl::StatusOr<Response> Ask(registry::v1::RegistryService::StubInterface& registry,
                             const grpc::ServerContext* parent, absl::Duration timeout, Call call,
                             const Request& request) {
  Response response;
  grpc::Status status =
      (registry.*call)(NewClientContext(parent, timeout).get(), request, &response);
  if (!status.ok()) return RegistryError(status);
  return response;
}

}  // namespace

absl::StatusOr<registry::v1::GetElderResponse> GrpcRegistryView::GetElder(
    const registry::v1::GetElderRequest& request) {
  return Ask<registry::v1::GetElderResponse>(
      registry_, parent_, timeout_, &registry::v1::RegistryService::StubInterface::GetElder,
      request);
}

absl::StatusOr<registry::v1::GetRegionResponse> GrpcRegistryView::GetRegion(
    const registry::v1::GetRegionRequest& request) {
  return Ask<registry::v1::GetRegionResponse>(
      registry_, parent_, timeout_, &registry::v1::RegistryService::StubInterface::GetRegion,
      request);
}

absl::StatusOr<registry::v1::GetOrganisationResponse> GrpcRegistryView::GetOrganisation(
    const registry::v1::GetOrganisationRequest& request) {
  return Ask<registry::v1::GetOrganisationResponse>(
      registry_, parent_, timeout_, &registry::v1::RegistryService::StubInterface::GetOrganisation,
      request);
}

absl::StatusOr<registry::v1::ListServiceTypesResponse> GrpcRegistryView::ListServiceTypes(
    const registry::v1::ListServiceTypesRequest& request) {
  return Ask<registry::v1::ListServiceTypesResponse>(
      registry_, parent_, timeout_, &registry::v1::RegistryService::StubInterface::ListServiceTypes,
      request);
}

absl::StatusOr<registry::v1::GetWorkerResponse> GrpcRegistryView::GetWorker(
    const registry::v1::GetWorkerRequest& request) {
  return Ask<registry::v1::GetWorkerResponse>(
      registry_, parent_, timeout_, &registry::v1::RegistryService::StubInterface::GetWorker,
      request);
}

absl::StatusOr<registry::v1::ListEldersResponse> GrpcRegistryView::ListElders(
    const registry::v1::ListEldersRequest& request) {
  return Ask<registry::v1::ListEldersResponse>(
      registry_, parent_, timeout_, &registry::v1::RegistryService::StubInterface::ListElders,
      request);
}

absl::StatusOr<registry::v1::ListWorkersResponse> GrpcRegistryView::ListWorkers(
    const registry::v1::ListWorkersRequest& request) {
  return Ask<registry::v1::ListWorkersResponse>(
      registry_, parent_, timeout_, &registry::v1::RegistryService::StubInterface::ListWorkers,
      request);
}

absl::StatusOr<registry::v1::ListOfferingsResponse> GrpcRegistryView::ListOfferings(
    const registry::v1::ListOfferingsRequest& request) {
  return Ask<registry::v1::ListOfferingsResponse>(
      registry_, parent_, timeout_, &registry::v1::RegistryService::StubInterface::ListOfferings,
      request);
}

absl::StatusOr<registry::v1::SearchProvidersResponse> GrpcRegistryView::SearchProviders(
    const registry::v1::SearchProvidersRequest& request) {
  return Ask<registry::v1::SearchProvidersResponse>(
      registry_, parent_, timeout_, &registry::v1::RegistryService::StubInterface::SearchProviders,
      request);
}

}  // namespace linli::scheduling
