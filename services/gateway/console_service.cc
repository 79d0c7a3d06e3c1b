#include "services/gateway/console_service.h"

#include "common/client.h"
#include "common/errors.h"
#include "common/log.h"
#include "common/server.h"

namespace linli::gateway {
grpc::Status FromBackend(const grpc::ServerContext& context, const grpc::Status& status,
                         const char* backend) {
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE && status.error_details().empty()) {
    LogWarning("backend unavailable", {{"backend", backend},
                                       {"error", status.error_message()},
                                       {"request_id", RequestId(context)}});
    return Reply(context, WithReason(absl::UnavailableError(std::string(backend) +
                                                            " is unavailable; retry later"),
                                     common::v1::ERROR_REASON_BACKEND_UNAVAILABLE));
  }
  return status;
}

grpc::Status ConsoleServiceImpl::CreateRegion(grpc::ServerContext* context,
                                              const v1::CreateRegionRequest* request,
                                              v1::CreateRegionResponse* response) {
  return gate_->Run(context, "/linli.gateway.v1.ConsoleService/CreateRegion", *request,
                    [&](const auth::Principal& who) {
                      registry::v1::CreateRegionRequest backend_request;
                      *backend_request.mutable_region() = request->region();
                      backend_request.set_request_id(request->request_id());
                      registry::v1::CreateRegionResponse backend_response;
                      auto client_context = BackendContext(context, who, backend_timeout_);
                      grpc::Status status = registry_->CreateRegion(
                          client_context.get(), backend_request, &backend_response);
                      if (status.ok())
                        *response->mutable_region() = std::move(*backend_response.mutable_region());
                      return FromBackend(*context, status, "registry");
                    });
}

grpc::Status ConsoleServiceImpl::GetRegion(grpc::ServerContext* context,
                                           const v1::GetRegionRequest* request,
                                           v1::GetRegionResponse* response) {
  return gate_->Run(context, "/linli.gateway.v1.ConsoleService/GetRegion", *request,
                    [&](const auth::Principal& who) {
                      registry::v1::GetRegionRequest backend_request;
                      backend_request.set_name(request->name());
                      registry::v1::GetRegionResponse backend_response;
                      auto client_context = BackendContext(context, who, backend_timeout_);
                      grpc::Status status = registry_->GetRegion(
                          client_context.get(), backend_request, &backend_response);
                      if (status.ok())
                        *response->mutable_region() = std::move(*backend_response.mutable_region());
                      return FromBackend(*context, status, "registry");
                    });
}

grpc::Status ConsoleServiceImpl::ListRegions(grpc::ServerContext* context,
                                             const v1::ListRegionsRequest* request,
                                             v1::ListRegionsResponse* response) {
  return gate_->Run(context, "/linli.gateway.v1.ConsoleService/ListRegions", *request,
                    [&](const auth::Principal& who) {
                      registry::v1::ListRegionsRequest backend_request;
                      backend_request.set_parent(request->parent());
                      backend_request.set_page_size(std::min(request->page_size(), kMaxPageSize));
                      backend_request.set_page_token(request->page_token());
                      registry::v1::ListRegionsResponse backend_response;
                      auto client_context = BackendContext(context, who, backend_timeout_);
                      grpc::Status status = registry_->ListRegions(
                          client_context.get(), backend_request, &backend_response);
                      if (status.ok()) {
                        response->mutable_regions()->Swap(backend_response.mutable_regions());
                        response->set_next_page_token(backend_response.next_page_token());
                      }
                      return FromBackend(*context, status, "registry");
                    });
}

}  // namespace linli::gateway
