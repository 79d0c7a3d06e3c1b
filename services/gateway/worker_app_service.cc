#include "services/gateway/worker_app_service.h"
#include "services/gateway/event_loop.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "common/errors.h"
#include "common/server.h"
#include "services/gateway/console_service.h"

namespace linli::gateway {
namespace {

constexpr char kService[] = "/linli.gateway.v1.WorkerAppService/";

// A worker does not choose how their visit is verified: the app checks in and out by GPS only
// (without a location scheduling flags NO_LOCATION). Phone and family-proxy checks are for staff to
// record, a partner's report goes through the partner API.
absl::Status OnlyByGps(scheduling::v1::CheckMethod method) {
  if (method == scheduling::v1::CHECK_METHOD_UNSPECIFIED ||
      method == scheduling::v1::CHECK_METHOD_APP_GPS) {
    return absl::OkStatus();
  }
  return InvalidField("method",
                      "the worker app checks in and out by GPS only (CHECK_METHOD_APP_GPS); phone "
                      "and family-proxy checks are recorded by staff");
}

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
        scheduling::v1::ListWorkerVisitsRequest backend_request;
        backend_request.set_worker(who.id);  // always the caller's own bookings
        backend_request.set_date(absl::FormatCivilTime(day));
        scheduling::v1::ListWorkerVisitsResponse route;
        grpc::Status status =
            Unary(*scheduling_, &SchedulingStub::PrepareAsyncListWorkerVisits,
                  BackendContext(context, who, backend_timeout_).get(), backend_request, &route);
        if (!status.ok()) return FromBackend(*context, status, "scheduling");
        // The elders' masked profiles, one registry read per elder of the day.
        std::map<std::string, registry::v1::Elder> elders;
        for (const auto& stop : route.visits()) {
          const std::string& elder = stop.visit().elder();
          if (elders.count(elder) != 0) continue;
          registry::v1::GetElderRequest elder_request;
          elder_request.set_name(elder);  // masked view: no reason, nothing unmasked
          registry::v1::GetElderResponse elder_response;
          status = Unary(*registry_, &RegistryStub::PrepareAsyncGetElder,
                         BackendContext(context, who, backend_timeout_).get(), elder_request,
                         &elder_response);
          if (status.error_code() == grpc::StatusCode::NOT_FOUND) {
            elders[elder];  // erased or unknown: the stop keeps the visit's rounded home
            continue;
          }
          if (!status.ok()) return FromBackend(*context, status, "registry");
          elders[elder] = std::move(*elder_response.mutable_elder());
        }
        int order = 0;
        for (auto& stop : *route.mutable_visits()) {
          v1::RouteStop* out = response->add_stops();
          out->set_order(++order);
          *out->mutable_planned_start() = stop.assignment().start();
          *out->mutable_planned_end() = stop.assignment().end();
          const registry::v1::Elder& elder = elders[stop.visit().elder()];
          out->set_elder_display_name(elder.display_name());
          out->set_elder_address(elder.address());
          if (elder.has_location()) {
            *out->mutable_elder_location() = elder.location();
          } else if (stop.visit().has_home()) {
            *out->mutable_elder_location() = stop.visit().home();
          }
          *out->mutable_visit() = std::move(*stop.mutable_visit());
        }
        return grpc::Status::OK;
      });
}

grpc::Status WorkerAppServiceImpl::CheckIn(grpc::ServerContext* context,
                                           const v1::WorkerCheckInRequest* request,
                                           v1::WorkerCheckInResponse* response) {
  return gate_->Run(context, absl::StrCat(kService, "CheckIn"), *request,
                    [&](const auth::Principal& who) -> grpc::Status {
                      if (absl::Status gps = OnlyByGps(request->method()); !gps.ok()) {
                        return Reply(*context, gps);
                      }
                      scheduling::v1::CheckInVisitRequest backend_request;
                      backend_request.set_name(request->visit());
                      backend_request.set_worker(who.id);  // always the caller
                      if (request->has_location()) {
                        *backend_request.mutable_location() = request->location();
                      }
                      backend_request.set_method(scheduling::v1::CHECK_METHOD_APP_GPS);
                      scheduling::v1::CheckInVisitResponse backend_response;
                      grpc::Status status =
                          Unary(*scheduling_, &SchedulingStub::PrepareAsyncCheckInVisit,
                                BackendContext(context, who, backend_timeout_).get(),
                                backend_request, &backend_response);
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
                      if (absl::Status gps = OnlyByGps(request->method()); !gps.ok()) {
                        return Reply(*context, gps);
                      }
                      scheduling::v1::CheckOutVisitRequest backend_request;
                      backend_request.set_name(request->visit());
                      backend_request.set_worker(who.id);
                      if (request->has_location()) {
                        *backend_request.mutable_location() = request->location();
                      }
                      backend_request.set_method(scheduling::v1::CHECK_METHOD_APP_GPS);
                      scheduling::v1::CheckOutVisitResponse backend_response;
                      grpc::Status status =
                          Unary(*scheduling_, &SchedulingStub::PrepareAsyncCheckOutVisit,
                                BackendContext(context, who, backend_timeout_).get(),
                                backend_request, &backend_response);
                      if (status.ok()) {
                        *response->mutable_visit() = std::move(*backend_response.mutable_visit());
                      }
                      return FromBackend(*context, status, "scheduling");
                    });
}

grpc::Status WorkerAppServiceImpl::AddVisitNote(grpc::ServerContext* context,
                                                const v1::AddVisitNoteRequest* request,
                                                v1::AddVisitNoteResponse* response) {
  return gate_->Run(
      context, absl::StrCat(kService, "AddVisitNote"), *request,
      [&](const auth::Principal& who) -> grpc::Status {
        scheduling::v1::AddVisitNoteRequest backend_request;
        backend_request.set_visit(request->visit());
        backend_request.set_author(who.id);  // always the caller
        backend_request.set_text(request->text());
        if (!request->request_id().empty()) {
          backend_request.set_request_id(absl::StrCat(who.id, ":", request->request_id()));
        }
        scheduling::v1::AddVisitNoteResponse backend_response;
        grpc::Status status = Unary(*scheduling_, &SchedulingStub::PrepareAsyncAddVisitNote,
                                    BackendContext(context, who, backend_timeout_).get(),
                                    backend_request, &backend_response);
        if (status.ok()) {
          *response->mutable_note() = std::move(*backend_response.mutable_note());
        }
        return FromBackend(*context, status, "scheduling");
      });
}

grpc::Status WorkerAppServiceImpl::ListVisitNotes(grpc::ServerContext* context,
                                                  const v1::ListVisitNotesRequest* request,
                                                  v1::ListVisitNotesResponse* response) {
  return gate_->Run(context, absl::StrCat(kService, "ListVisitNotes"), *request,
                    [&](const auth::Principal& who) -> grpc::Status {
                      scheduling::v1::ListVisitNotesRequest backend_request;
                      backend_request.set_visit(request->visit());
                      scheduling::v1::ListVisitNotesResponse backend_response;
                      grpc::Status status =
                          Unary(*scheduling_, &SchedulingStub::PrepareAsyncListVisitNotes,
                                BackendContext(context, who, backend_timeout_).get(),
                                backend_request, &backend_response);
                      if (status.ok())
                        response->mutable_notes()->Swap(backend_response.mutable_notes());
                      return FromBackend(*context, status, "scheduling");
                    });
}

grpc::Status WorkerAppServiceImpl::ReportProblem(grpc::ServerContext* context,
                                                 const v1::ReportProblemRequest* request,
                                                 v1::ReportProblemResponse* response) {
  return gate_->Run(
      context, absl::StrCat(kService, "ReportProblem"), *request,
      [&](const auth::Principal& who) -> grpc::Status {
        if (request->category() == feedback::v1::WORK_ORDER_CATEGORY_UNSPECIFIED ||
            !feedback::v1::WorkOrderCategory_IsValid(request->category())) {
          return Reply(*context, InvalidField("category", "must be a WORK_ORDER_CATEGORY_ value"));
        }
        feedback::v1::CreateWorkOrderRequest create;
        feedback::v1::WorkOrder* order = create.mutable_work_order();
        order->set_source(feedback::v1::WORK_ORDER_SOURCE_WORKER_APP);
        order->set_visit(request->visit());  // feedback finds its commitment and elder
        order->set_description(request->description());
        if (!request->request_id().empty()) {
          create.set_request_id(absl::StrCat(who.id, ":", request->request_id()));
        }
        feedback::v1::CreateWorkOrderResponse created;
        grpc::Status status =
            Unary(*feedback_, &FeedbackStub::PrepareAsyncCreateWorkOrder,
                  BackendContext(context, who, backend_timeout_).get(), create, &created);
        if (!status.ok()) return FromBackend(*context, status, "feedback");
        // A retry of the same request_id gets the stored (accepted) order back: classify it
        // unless someone already did, so the report ends classified either way.
        feedback::v1::GetWorkOrderRequest get;
        get.set_name(created.work_order().name());
        feedback::v1::GetWorkOrderResponse current;
        status = Unary(*feedback_, &FeedbackStub::PrepareAsyncGetWorkOrder,
                       BackendContext(context, who, backend_timeout_).get(), get, &current);
        if (!status.ok()) return FromBackend(*context, status, "feedback");
        if (current.work_order().state() != feedback::v1::WORK_ORDER_STATE_ACCEPTED) {
          *response->mutable_work_order() = std::move(*current.mutable_work_order());
          return grpc::Status::OK;
        }
        feedback::v1::ClassifyWorkOrderRequest classify;
        classify.set_name(created.work_order().name());
        classify.set_category(request->category());
        classify.set_note("category given by the reporting worker");
        feedback::v1::ClassifyWorkOrderResponse classified;
        status = Unary(*feedback_, &FeedbackStub::PrepareAsyncClassifyWorkOrder,
                       BackendContext(context, who, backend_timeout_).get(), classify, &classified);
        if (!status.ok()) return FromBackend(*context, status, "feedback");
        *response->mutable_work_order() = std::move(*classified.mutable_work_order());
        return grpc::Status::OK;
      });
}

}  // namespace linli::gateway
