// SchedulingService.ProposeFallback: can the owner organisation cover a commitment, and if not,
// who else (any sector) could; ListUnmetNeeds: the needs nobody promised (fallback_use_case.h).
#include "common/server.h"
#include "services/scheduling/fallback_use_case.h"
#include "services/scheduling/grpc_registry_view.h"
#include "services/scheduling/scheduling_service.h"

namespace linli::scheduling {

grpc::Status SchedulingServiceImpl::ProposeFallback(grpc::ServerContext* context,
                                                    const v1::ProposeFallbackRequest* request,
                                                    v1::ProposeFallbackResponse* response) {
  GrpcRegistryView registry(*registry_, context, options_.backend_timeout);
  absl::StatusOr<v1::ProposeFallbackResponse> proposed =
      scheduling::ProposeFallback(db_, clock_, registry, *request);
  if (proposed.ok()) *response = std::move(*proposed);
  return Reply(*context, proposed.status());
}

grpc::Status SchedulingServiceImpl::ListUnmetNeeds(grpc::ServerContext* context,
                                                   const v1::ListUnmetNeedsRequest* request,
                                                   v1::ListUnmetNeedsResponse* response) {
  GrpcRegistryView registry(*registry_, context, options_.backend_timeout);
  absl::StatusOr<v1::ListUnmetNeedsResponse> listed =
      scheduling::ListUnmetNeeds(db_, registry, *request);
  if (listed.ok()) *response = std::move(*listed);
  return Reply(*context, listed.status());
}

}  // namespace linli::scheduling
