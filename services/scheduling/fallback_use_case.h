// Coverage use cases. ProposeFallback reads the commitment and its owner's promises of the same
// service (a week of occurrences), asks the registry for the owner's offerings and workers, and,
// when the owner cannot cover it (fallback.h) or the caller asks always, for other providers.
// ListUnmetNeeds reads a region's elders from the registry and the active promises, and counts the
// needs nobody promised to meet (unmet_needs.h). No gRPC.
#ifndef LINLI_SERVICES_SCHEDULING_FALLBACK_USE_CASE_H_
#define LINLI_SERVICES_SCHEDULING_FALLBACK_USE_CASE_H_

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/storage/database.h"
#include "linli/scheduling/v1/scheduling.pb.h"
#include "services/scheduling/registry_view.h"

namespace linli::scheduling {

// INVALID_ARGUMENT for a bad request, NOT_FOUND for an unknown commitment, the registry's
// failures as RegistryView reports them.
absl::StatusOr<v1::ProposeFallbackResponse> ProposeFallback(
    storage::Database& db, const Clock& clock, RegistryView& registry,
    const v1::ProposeFallbackRequest& request);

// INVALID_ARGUMENT naming the field for a bad region or page size; the registry's failures as
// RegistryView reports them.
absl::StatusOr<v1::ListUnmetNeedsResponse> ListUnmetNeeds(storage::Database& db,
                                                          RegistryView& registry,
                                                          const v1::ListUnmetNeedsRequest& request);

}  // namespace linli::scheduling

#endif  // LINLI_SERVICES_SCHEDULING_FALLBACK_USE_CASE_H_
