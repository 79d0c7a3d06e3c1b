#include "services/gateway/worker_app_service.h"

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "common/errors.h"
#include "common/server.h"
#include "services/gateway/console_service.h"

namespace linli::gateway {
namespace {

constexpr char kService[] = "/linli.gateway.v1.WorkerAppService/";

}  // namespace

grpc::Status WorkerAppServiceImpl::ListMyVisits(grpc::ServerContext* context,
                                                const v1::ListMyVisitsRequest* request,
                                                v1::ListMyVisitsResponse* response) {
  return gate_->Run(
      context, absl::StrCat(kService, "ListMyVisits"), *request,
      [&](const auth::Principal& who) -> grpc::Status {
        absl::CivilDay day;
        if (request->date().empty()) {
          day = absl::ToCivilDay(clock_.Now(), absl::FixedTimeZone(8 * 3600));
        } else if (!absl::ParseCivilTime(request->date(), &day)) {
          return Reply(*context, InvalidField("date", "must be a date \"YYYY-MM-DD\""));
        }
        scheduling::v1::ListVisitsRequest backend_request;
        backend_request.set_commitment(request->commitment());
        backend_request.set_from_date(absl::FormatCivilTime(day));
        backend_request.set_to_date(absl::FormatCivilTime(day + 1));
        backend_request.set_page_size(100);
        scheduling::v1::ListVisitsResponse backend_response;
        grpc::Status status =
            scheduling_->ListVisits(BackendContext(context, who, backend_timeout_).get(),
                                    backend_request, &backend_response);
        if (status.ok()) response->mutable_visits()->Swap(backend_response.mutable_visits());
        return FromBackend(*context, status, "scheduling");
      });
}

grpc::Status WorkerAppServiceImpl::CheckIn(grpc::ServerContext* context,
                                           const v1::WorkerCheckInRequest* request,
                                           v1::WorkerCheckInResponse* response) {
  return gate_->Run(context, absl::StrCat(kService, "CheckIn"), *request,
                    [&](const auth::Principal& who) -> grpc::Status {
                      scheduling::v1::CheckInVisitRequest backend_request;
                      backend_request.set_name(request->visit());
                      backend_request.set_worker(who.id);  // always the caller
                      if (request->has_location()) {
                        *backend_request.mutable_location() = request->location();
                      }
                      backend_request.set_method(request->method());
                      scheduling::v1::CheckInVisitResponse backend_response;
                      grpc::Status status = scheduling_->CheckInVisit(
                          BackendContext(context, who, backend_timeout_).get(), backend_request,
                          &backend_response);
                      if (status.ok()) {
                        *response->mutable_visit() = std::move(*backend_response.mutable_visit());
                      }
                      return FromBackend(*context, status, "scheduling");
                    });
}

grpc::Status WorkerAppServiceImpl::CheckOut(grpc::ServerContext* context,
                                            const v1::WorkerCheckOutRequest* request,
                                            v1::WorkerCheckOutResponse* response) {
  return gate_->Run(context, absl::StrCat(kService, "CheckOut"), *request,
                    [&](const auth::Principal& who) -> grpc::Status {
                      scheduling::v1::CheckOutVisitRequest backend_request;
                      backend_request.set_name(request->visit());
                      backend_request.set_worker(who.id);
                      if (request->has_location()) {
                        *backend_request.mutable_location() = request->location();
                      }
                      backend_request.set_method(request->method());
                      scheduling::v1::CheckOutVisitResponse backend_response;
                      grpc::Status status = scheduling_->CheckOutVisit(
                          BackendContext(context, who, backend_timeout_).get(), backend_request,
                          &backend_response);
                      if (status.ok()) {
                        *response->mutable_visit() = std::move(*backend_response.mutable_visit());
                      }
                      return FromBackend(*context, status, "scheduling");
                    });
}

}  // namespace linli::gateway
