// linli.gateway.v1.WorkerAppService: the worker app. The gate has checked that the caller is the
// familiar worker of the promise or booked on the visit (and that the visit belongs to it);
// check-ins, check-outs, notes and problem reports are forwarded with the caller as the worker,
// whatever the client sent. The route is read from the caller's own bookings, with the elders'
// masked name, address and location from the registry.
#ifndef LINLI_SERVICES_GATEWAY_WORKER_APP_SERVICE_H_
#define LINLI_SERVICES_GATEWAY_WORKER_APP_SERVICE_H_

#include <memory>

#include "absl/time/time.h"
#include "common/clock.h"
#include "linli/feedback/v1/feedback.grpc.pb.h"
#include "linli/gateway/v1/worker_app.grpc.pb.h"
#include "services/gateway/gate.h"

namespace linli::gateway {

class WorkerAppServiceImpl final : public v1::WorkerAppService::Service, private GatewayService {
 public:
  explicit WorkerAppServiceImpl(const Backends& backends) : GatewayService(backends) {}

  grpc::Status ListMyVisits(grpc::ServerContext* context, const v1::ListMyVisitsRequest* request,
                            v1::ListMyVisitsResponse* response) override;
  grpc::Status CheckIn(grpc::ServerContext* context, const v1::WorkerCheckInRequest* request,
                       v1::WorkerCheckInResponse* response) override;
  grpc::Status CheckOut(grpc::ServerContext* context, const v1::WorkerCheckOutRequest* request,
                        v1::WorkerCheckOutResponse* response) override;
  grpc::Status AddVisitNote(grpc::ServerContext* context, const v1::AddVisitNoteRequest* request,
                            v1::AddVisitNoteResponse* response) override;
  grpc::Status ListVisitNotes(grpc::ServerContext* context,
                              const v1::ListVisitNotesRequest* request,
                              v1::ListVisitNotesResponse* response) override;
  grpc::Status ReportProblem(grpc::ServerContext* context, const v1::ReportProblemRequest* request,
                             v1::ReportProblemResponse* response) override;
};

}  // namespace linli::gateway

#endif  // LINLI_SERVICES_GATEWAY_WORKER_APP_SERVICE_H_
