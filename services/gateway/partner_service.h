// linli.gateway.v1.PartnerService: providers and the 12345 hotline with API keys. A key reaches
// only its own organisation; the gate checks the method's scope.
#ifndef LINLI_SERVICES_GATEWAY_PARTNER_SERVICE_H_
#define LINLI_SERVICES_GATEWAY_PARTNER_SERVICE_H_

#include <memory>

#include "absl/time/time.h"
#include "linli/feedback/v1/feedback.grpc.pb.h"
#include "linli/gateway/v1/partner.grpc.pb.h"
#include "services/gateway/gate.h"

namespace linli::gateway {

class PartnerServiceImpl final : public v1::PartnerService::Service {
 public:
  PartnerServiceImpl(Gate* gate,
                     std::shared_ptr<registry::v1::RegistryService::StubInterface> registry,
                     std::shared_ptr<feedback::v1::FeedbackService::StubInterface> feedback,
                     absl::Duration backend_timeout)
      : gate_(gate),
        registry_(std::move(registry)),
        feedback_(std::move(feedback)),
        backend_timeout_(backend_timeout) {}

  grpc::Status ListMyOfferings(grpc::ServerContext* context,
                               const v1::ListMyOfferingsRequest* request,
                               v1::ListMyOfferingsResponse* response) override;
  grpc::Status SubmitWorkOrder(grpc::ServerContext* context,
                               const v1::SubmitWorkOrderRequest* request,
                               v1::SubmitWorkOrderResponse* response) override;
  grpc::Status GetWorkOrderStatus(grpc::ServerContext* context,
                                  const v1::GetWorkOrderStatusRequest* request,
                                  v1::GetWorkOrderStatusResponse* response) override;

 private:
  Gate* gate_;
  std::shared_ptr<registry::v1::RegistryService::StubInterface> registry_;
  std::shared_ptr<feedback::v1::FeedbackService::StubInterface> feedback_;
  absl::Duration backend_timeout_;
};

}  // namespace linli::gateway

#endif  // LINLI_SERVICES_GATEWAY_PARTNER_SERVICE_H_
