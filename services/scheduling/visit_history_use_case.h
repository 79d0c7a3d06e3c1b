// The import of a provider's past visits (SchedulingService.ImportVisits): each row checked
// (visit_history.h), its promise and workers looked up, and all rows recorded in one transaction
// with their events, so feedback's ledger and index count them. No gRPC: the adapter passes the
// registry as a RegistryView.
#ifndef LINLI_SERVICES_SCHEDULING_VISIT_HISTORY_USE_CASE_H_
#define LINLI_SERVICES_SCHEDULING_VISIT_HISTORY_USE_CASE_H_

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/storage/database.h"
#include "linli/scheduling/v1/scheduling.pb.h"
#include "services/scheduling/registry_view.h"

namespace linli::scheduling {

// Checks every row of `request` and, unless it is a dry run or a row was refused (without
// skip_bad_rows), records the good ones: a new visit of the occurrence, or the scheduled one that
// nobody checked in to, replayed by ReplayVisit; an occurrence already recorded otherwise is
// counted as existing and left alone. Per row: its promise exists (and belongs to
// request.owner_guard when set), the occurrence is one of the promise's and its window and
// tolerance have closed before now, each worker is a worker of the promise's organisation, no
// earlier row names the same occurrence. INVALID_ARGUMENT for a request without rows or with more
// than kMaxImportRows; UNAVAILABLE when the registry cannot be asked.
absl::StatusOr<v1::ImportVisitsResponse> ImportVisits(storage::Database& db, const Clock& clock,
                                                      RegistryView& registry,
                                                      const v1::ImportVisitsRequest& request,
                                                      double geofence_radius_m);

}  // namespace linli::scheduling

#endif  // LINLI_SERVICES_SCHEDULING_VISIT_HISTORY_USE_CASE_H_
