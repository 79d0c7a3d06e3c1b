#include "services/gateway/partner_service.h"

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/server.h"
#include "services/gateway/console_service.h"

namespace linli::gateway {

grpc::Status PartnerServiceImpl::ListMyOfferings(grpc::ServerContext* context,
                                                 const v1::ListMyOfferingsRequest* request,
                                                 v1::ListMyOfferingsResponse* response) {
  return gate_->Run(context, "/linli.gateway.v1.PartnerService/ListMyOfferings", *request,
                    [&](const auth::Principal& who) -> grpc::Status {
                      if (request->page_size() < 0) {
                        return Reply(*context, InvalidField("page_size", "must not be negative"));
                      }
                      registry::v1::ListOfferingsRequest backend_request;
                      backend_request.set_organisation(who.organisation);  // never from the request
                      backend_request.set_page_size(
                          request->page_size() == 0 ? 50 : std::min(request->page_size(), 100));
                      backend_request.set_page_token(request->page_token());
                      registry::v1::ListOfferingsResponse backend_response;
                      grpc::Status status = registry_->ListOfferings(
                          BackendContext(context, who, backend_timeout_).get(), backend_request,
                          &backend_response);
                      if (status.ok()) {
                        response->mutable_offerings()->Swap(backend_response.mutable_offerings());
                        response->set_next_page_token(backend_response.next_page_token());
                      }
                      return FromBackend(*context, status, "registry");
                    });
}

grpc::Status PartnerServiceImpl::SubmitWorkOrder(grpc::ServerContext* context,
                                                 const v1::SubmitWorkOrderRequest* request,
                                                 v1::SubmitWorkOrderResponse* response) {
  return gate_->Run(
      context, "/linli.gateway.v1.PartnerService/SubmitWorkOrder", *request,
      [&](const auth::Principal& who) -> grpc::Status {
        feedback::v1::CreateWorkOrderRequest backend_request;
        feedback::v1::WorkOrder* order = backend_request.mutable_work_order();
        order->set_source(feedback::v1::WORK_ORDER_SOURCE_HOTLINE_12345);
        order->set_commitment(request->commitment());
        order->set_description(request->description());
        order->set_external_reference(request->external_reference());
        // Scoped to the key, so two partners' request ids never collide.
        if (!request->request_id().empty()) {
          backend_request.set_request_id(absl::StrCat(who.id, ":", request->request_id()));
        }
        feedback::v1::CreateWorkOrderResponse backend_response;
        grpc::Status status =
            feedback_->CreateWorkOrder(BackendContext(context, who, backend_timeout_).get(),
                                       backend_request, &backend_response);
        if (status.ok()) {
          *response->mutable_work_order() = std::move(*backend_response.mutable_work_order());
        }
        return FromBackend(*context, status, "feedback");
      });
}

grpc::Status PartnerServiceImpl::GetWorkOrderStatus(grpc::ServerContext* context,
                                                    const v1::GetWorkOrderStatusRequest* request,
                                                    v1::GetWorkOrderStatusResponse* response) {
  return gate_->Run(context, "/linli.gateway.v1.PartnerService/GetWorkOrderStatus", *request,
                    [&](const auth::Principal& who) -> grpc::Status {
                      feedback::v1::GetWorkOrderRequest backend_request;
                      backend_request.set_name(request->name());
                      feedback::v1::GetWorkOrderResponse backend_response;
                      grpc::Status status = feedback_->GetWorkOrder(
                          BackendContext(context, who, backend_timeout_).get(), backend_request,
                          &backend_response);
                      if (!status.ok()) return FromBackend(*context, status, "feedback");
                      // Submitted by this partner: the acceptance step names it as the actor.
                      const auto& order = backend_response.work_order();
                      if (order.history_size() == 0 || order.history(0).actor() != who.Actor()) {
                        return Reply(*context, absl::NotFoundError("no such work order of yours"));
                      }
                      *response->mutable_work_order() =
                          std::move(*backend_response.mutable_work_order());
                      return grpc::Status::OK;
                    });
}

}  // namespace linli::gateway
