// SchedulingService.Plan: the planner on stored data (plan_use_case.h). The handler gives the use
// case the registry of this call and the caller's cancellation, and replies.
#include "common/server.h"
#include "services/scheduling/grpc_registry_view.h"
#include "services/scheduling/plan_use_case.h"
#include "services/scheduling/scheduling_service.h"

namespace linli::scheduling {

grpc::Status SchedulingServiceImpl::Plan(grpc::ServerContext* context,
                                         const v1::PlanRequest* request,
                                         v1::PlanResponse* response) {
  GrpcRegistryView registry(*registry_, context, options_.backend_timeout);
  return Reply(*context, RunPlan(
                             db_, clock_, registry, [context] { return context->IsCancelled(); },
                             *request, response));
}

}  // namespace linli::scheduling
