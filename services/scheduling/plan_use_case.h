// The Plan use case: the planner on stored data. Reads the period's visits that have no worker
// yet (of a region's elders, of one owner), who came last time, and the owners' active workers
// from the registry; builds the problem (plan_problem.h), solves it, and books the routes through
// BookOnVisit in chunks, so the database's slot keys still decide. No gRPC: the adapter passes
// the registry as a RegistryView and the caller's cancellation as a function.
#ifndef LINLI_SERVICES_SCHEDULING_PLAN_USE_CASE_H_
#define LINLI_SERVICES_SCHEDULING_PLAN_USE_CASE_H_

#include <functional>

#include "absl/status/status.h"
#include "common/clock.h"
#include "common/storage/database.h"
#include "linli/scheduling/v1/scheduling.pb.h"
#include "services/scheduling/registry_view.h"

namespace linli::scheduling {

// Plans `request` into `response`. A caller that went away (`cancelled` returns true: cancelled,
// or its deadline passed; through the gateway, also a JSON client that closed its connection)
// stops the work at the next step (reading a page, planning, booking a chunk) with CANCELLED;
// visits already booked stay booked. With request.dry_run nothing is booked.
absl::Status RunPlan(storage::Database& db, const Clock& clock, RegistryView& registry,
                     const std::function<bool()>& cancelled, const v1::PlanRequest& request,
                     v1::PlanResponse* response);

}  // namespace linli::scheduling

#endif  // LINLI_SERVICES_SCHEDULING_PLAN_USE_CASE_H_
