// linli.gateway.v1.PartnerService: providers and the 12345 hotline with API keys. A key reaches
// only its own organisation (taken from the key, never from the request); the gate checks the
// method's scope. Deliveries expose only the fields delivery tracking needs (see Delivery in
// partner.proto).
#ifndef LINLI_SERVICES_GATEWAY_PARTNER_SERVICE_H_
#define LINLI_SERVICES_GATEWAY_PARTNER_SERVICE_H_

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "common/clock.h"
#include "linli/feedback/v1/feedback.grpc.pb.h"
#include "linli/gateway/v1/partner.grpc.pb.h"
#include "services/gateway/gate.h"

namespace linli::gateway {

class PartnerServiceImpl final : public v1::PartnerService::Service, private GatewayService {
 public:
  explicit PartnerServiceImpl(const Backends& backends) : GatewayService(backends) {}

  grpc::Status ListMyOfferings(grpc::ServerContext* context,
                               const v1::ListMyOfferingsRequest* request,
                               v1::ListMyOfferingsResponse* response) override;
  grpc::Status SubmitWorkOrder(grpc::ServerContext* context,
                               const v1::SubmitWorkOrderRequest* request,
                               v1::SubmitWorkOrderResponse* response) override;
  grpc::Status GetWorkOrderStatus(grpc::ServerContext* context,
                                  const v1::GetWorkOrderStatusRequest* request,
                                  v1::GetWorkOrderStatusResponse* response) override;
  grpc::Status UpdateMyOffering(grpc::ServerContext* context,
                                const v1::UpdateMyOfferingRequest* request,
                                v1::UpdateMyOfferingResponse* response) override;
  grpc::Status ListMyDeliveries(grpc::ServerContext* context,
                                const v1::ListMyDeliveriesRequest* request,
                                v1::ListMyDeliveriesResponse* response) override;
  grpc::Status ReportDelivery(grpc::ServerContext* context,
                              const v1::ReportDeliveryRequest* request,
                              v1::ReportDeliveryResponse* response) override;
  grpc::Status ListMyReferrals(grpc::ServerContext* context,
                               const v1::ListMyReferralsRequest* request,
                               v1::ListMyReferralsResponse* response) override;
  grpc::Status AnswerReferral(grpc::ServerContext* context,
                              const v1::AnswerMyReferralRequest* request,
                              v1::AnswerMyReferralResponse* response) override;
  grpc::Status CompleteReferral(grpc::ServerContext* context,
                                const v1::CompleteMyReferralRequest* request,
                                v1::CompleteMyReferralResponse* response) override;
  grpc::Status ReviewVisit(grpc::ServerContext* context,
                           const scheduling::v1::ReviewVisitRequest* request,
                           scheduling::v1::ReviewVisitResponse* response) override;
  grpc::Status ListMyNotices(grpc::ServerContext* context,
                             const v1::ListPartnerNoticesRequest* request,
                             feedback::v1::ListNoticesResponse* response) override;
  grpc::Status MarkMyNoticesRead(grpc::ServerContext* context,
                                 const v1::MarkPartnerNoticesReadRequest* request,
                                 feedback::v1::MarkNoticesReadResponse* response) override;

 private:
  // OK when `commitment` ("commitments/{id}") is owned by the key's organisation. Checked before
  // anything else is read or written about it, so nothing of another organisation's promise
  // (its elder, its state, whether it exists) shows: one of another organisation is NOT_FOUND
  // with the same message as one that does not exist. INVALID_ARGUMENT naming `field` when
  // malformed; UNAVAILABLE when scheduling cannot be asked.
  //
  // A referral the organisation accepted makes a commitment of its own, so it passes here.
  absl::Status OwnCommitment(const grpc::ServerContext& context, const auth::Principal& who,
                             const std::string& commitment, const char* field) const;
};

}  // namespace linli::gateway

#endif  // LINLI_SERVICES_GATEWAY_PARTNER_SERVICE_H_
