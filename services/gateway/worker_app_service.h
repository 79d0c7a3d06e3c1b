// linli.gateway.v1.WorkerAppService: the worker app. The gate has checked that the caller is the
// familiar worker of the promise (and that the visit belongs to it); check-ins and check-outs
// are forwarded to scheduling with the caller as the worker, whatever the client sent.
#ifndef LINLI_SERVICES_GATEWAY_WORKER_APP_SERVICE_H_
#define LINLI_SERVICES_GATEWAY_WORKER_APP_SERVICE_H_

#include <memory>

#include "absl/time/time.h"
#include "common/clock.h"
#include "linli/gateway/v1/worker_app.grpc.pb.h"
#include "services/gateway/gate.h"

namespace linli::gateway {

class WorkerAppServiceImpl final : public v1::WorkerAppService::Service {
 public:
  WorkerAppServiceImpl(Gate* gate,
                       std::shared_ptr<scheduling::v1::SchedulingService::StubInterface> scheduling,
                       absl::Duration backend_timeout, const Clock& clock)
      : gate_(gate),
        scheduling_(std::move(scheduling)),
        backend_timeout_(backend_timeout),
        clock_(clock) {}

  grpc::Status ListMyVisits(grpc::ServerContext* context, const v1::ListMyVisitsRequest* request,
                            v1::ListMyVisitsResponse* response) override;
  grpc::Status CheckIn(grpc::ServerContext* context, const v1::WorkerCheckInRequest* request,
                       v1::WorkerCheckInResponse* response) override;
  grpc::Status CheckOut(grpc::ServerContext* context, const v1::WorkerCheckOutRequest* request,
                        v1::WorkerCheckOutResponse* response) override;

 private:
  Gate* gate_;
  std::shared_ptr<scheduling::v1::SchedulingService::StubInterface> scheduling_;
  absl::Duration backend_timeout_;
  const Clock& clock_;
};

}  // namespace linli::gateway

#endif  // LINLI_SERVICES_GATEWAY_WORKER_APP_SERVICE_H_
