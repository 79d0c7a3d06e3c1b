#include "services/gateway/partner_service.h"

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

}  // namespace linli::gateway
