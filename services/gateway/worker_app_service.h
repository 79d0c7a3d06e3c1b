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

class WorkerAppServiceImpl final : public v1::WorkerAppService::Service {
 public:
  WorkerAppServiceImpl(Gate* gate,
                       std::shared_ptr<registry::v1::RegistryService::StubInterface> registry,
                       std::shared_ptr<scheduling::v1::SchedulingService::StubInterface> scheduling,
                       std::shared_ptr<feedback::v1::FeedbackService::StubInterface> feedback,
                       absl::Duration backend_timeout, const Clock& clock)
      : gate_(gate),
        registry_(std::move(registry)),
        scheduling_(std::move(scheduling)),
        feedback_(std::move(feedback)),
        backend_timeout_(backend_timeout),
        clock_(clock) {}

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

 private:
  Gate* gate_;
  std::shared_ptr<registry::v1::RegistryService::StubInterface> registry_;
  std::shared_ptr<scheduling::v1::SchedulingService::StubInterface> scheduling_;
  std::shared_ptr<feedback::v1::FeedbackService::StubInterface> feedback_;
  absl::Duration backend_timeout_;
  const Clock& clock_;
};

}  // namespace linli::gateway

#endif  // LINLI_SERVICES_GATEWAY_WORKER_APP_SERVICE_H_
