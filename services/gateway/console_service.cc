#include "services/gateway/console_service.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

#include "common/client.h"
#include "common/errors.h"
#include "common/grpc_status.h"
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

grpc::Status CreateWorkOrder(FeedbackStub& feedback, const grpc::ServerContext* context,
                             const auth::Principal& who, absl::Duration timeout,
                             const feedback::v1::CreateWorkOrderRequest& request,
                             feedback::v1::WorkOrder* out) {
  feedback::v1::CreateWorkOrderResponse response;
  grpc::Status status = Unary(feedback, &FeedbackStub::PrepareAsyncCreateWorkOrder,
                              BackendContext(context, who, timeout).get(), request, &response);
  if (status.ok()) *out = std::move(*response.mutable_work_order());
  return FromBackend(*context, status, "feedback");
}

grpc::Status SubmitElderFeedback(FeedbackStub& feedback, const grpc::ServerContext* context,
                                 const auth::Principal& who, absl::Duration timeout,
                                 const feedback::v1::SubmitFeedbackRequest& request,
                                 feedback::v1::Feedback* out) {
  feedback::v1::SubmitFeedbackResponse response;
  grpc::Status status = Unary(feedback, &FeedbackStub::PrepareAsyncSubmitFeedback,
                              BackendContext(context, who, timeout).get(), request, &response);
  if (status.ok()) {
    *out = std::move(*response.mutable_feedback());
  } else if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
    auto bad = GetBadRequest(FromGrpcStatus(status));
    if (bad && bad->field_violations_size() > 0 &&
        bad->field_violations(0).field() == "feedback.author") {
      return Reply(*context, absl::NotFoundError("no such visit of this elder"));
    }
  }
  return FromBackend(*context, status, "feedback");
}

grpc::Status GetWorkOrder(FeedbackStub& feedback, const grpc::ServerContext* context,
                          const auth::Principal& who, absl::Duration timeout,
                          const std::string& name, feedback::v1::WorkOrder* out) {
  feedback::v1::GetWorkOrderRequest request;
  request.set_name(name);
  feedback::v1::GetWorkOrderResponse response;
  grpc::Status status = Unary(feedback, &FeedbackStub::PrepareAsyncGetWorkOrder,
                              BackendContext(context, who, timeout).get(), request, &response);
  if (status.ok()) *out = std::move(*response.mutable_work_order());
  return FromBackend(*context, status, "feedback");
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
                      grpc::Status status =
                          Unary(*registry_, &RegistryStub::PrepareAsyncCreateRegion,
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
                      grpc::Status status =
                          Unary(*registry_, &RegistryStub::PrepareAsyncGetRegion,
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
                      grpc::Status status =
                          Unary(*registry_, &RegistryStub::PrepareAsyncListRegions,
                                client_context.get(), backend_request, &backend_response);
                      if (status.ok()) {
                        response->mutable_regions()->Swap(backend_response.mutable_regions());
                        response->set_next_page_token(backend_response.next_page_token());
                      }
                      return FromBackend(*context, status, "registry");
                    });
}

namespace {

// A lookup made to check access: NOT_FOUND and a malformed name both mean "no such thing" to the
// caller; an unreachable backend is UNAVAILABLE; anything else is refused rather than leaked.
absl::Status LookupFailed(const grpc::Status& status, const std::string& what) {
  switch (status.error_code()) {
    case grpc::StatusCode::NOT_FOUND:
    case grpc::StatusCode::INVALID_ARGUMENT:
      return NotFound(what.substr(0, 64));
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return absl::UnavailableError(
          absl::StrCat("cannot check access to ", what.substr(0, 64), " now; retry later"));
    default:
      return absl::PermissionDeniedError(
          absl::StrCat("cannot check access to ", what.substr(0, 64)));
  }
}

absl::Status Named(const std::string& name, const char* collection, const char* what) {
  if (absl::StartsWith(name, absl::StrCat(collection, "/")) &&
      name.size() > strlen(collection) + 1) {
    return absl::OkStatus();
  }
  // Bad input (none named, or not a name of this kind), as the backend would say to an admin.
  return absl::InvalidArgumentError(absl::StrCat(what, " must be named (\"", collection, "/…\")"));
}

}  // namespace

std::unique_ptr<grpc::ClientContext> ConsoleServiceImpl::LookupContext(
    const grpc::ServerContext& context) const {
  auto client_context = NewClientContext(&context, backend_timeout_);
  client_context->AddMetadata(kActorKey, "gateway:access-check");
  return client_context;
}

absl::Status ConsoleServiceImpl::VisitInScope(const grpc::ServerContext& context,
                                              const auth::Principal& who,
                                              const std::string& visit) const {
  if (who.role == auth::Role::kAdmin) return absl::OkStatus();
  if (absl::Status named = Named(visit, "visits", "a visit"); !named.ok()) return named;
  scheduling::v1::GetVisitRequest request;
  request.set_name(visit);
  scheduling::v1::GetVisitResponse response;
  grpc::Status status = Unary(*scheduling_, &SchedulingStub::PrepareAsyncGetVisit,
                              LookupContext(context).get(), request, &response);
  if (!status.ok()) return LookupFailed(status, visit);
  return gate_->relations().Elder(context, who, response.visit().elder());
}

absl::Status ConsoleServiceImpl::ReferralInScope(const grpc::ServerContext& context,
                                                 const auth::Principal& who,
                                                 const std::string& referral) const {
  if (who.role == auth::Role::kAdmin) return absl::OkStatus();
  if (absl::Status named = Named(referral, "referrals", "a referral"); !named.ok()) return named;
  scheduling::v1::GetReferralRequest request;
  request.set_name(referral);
  scheduling::v1::GetReferralResponse response;
  grpc::Status status = Unary(*scheduling_, &SchedulingStub::PrepareAsyncGetReferral,
                              LookupContext(context).get(), request, &response);
  if (!status.ok()) return LookupFailed(status, referral);
  return gate_->relations().Elder(context, who, response.referral().elder());
}

absl::Status ConsoleServiceImpl::WorkerInScope(const grpc::ServerContext& context,
                                               const auth::Principal& who,
                                               const std::string& worker, bool strict) const {
  if (who.role == auth::Role::kAdmin) return absl::OkStatus();
  if (absl::Status named = Named(worker, "workers", "a worker"); !named.ok()) return named;
  registry::v1::GetWorkerRequest request;
  request.set_name(worker);
  registry::v1::GetWorkerResponse response;
  grpc::Status status = Unary(*registry_, &RegistryStub::PrepareAsyncGetWorker,
                              LookupContext(context).get(), request, &response);
  if (!status.ok()) return LookupFailed(status, worker);
  if (!strict) {
    return gate_->relations().Organisation(context, who, response.worker().organisation());
  }
  registry::v1::GetOrganisationRequest org_request;
  org_request.set_name(response.worker().organisation());
  registry::v1::GetOrganisationResponse org_response;
  status = Unary(*registry_, &RegistryStub::PrepareAsyncGetOrganisation,
                 LookupContext(context).get(), org_request, &org_response);
  if (!status.ok()) return LookupFailed(status, response.worker().organisation());
  return gate_->relations().Region(context, who, org_response.organisation().region());
}

absl::Status ConsoleServiceImpl::AlertInScope(const grpc::ServerContext& context,
                                              const auth::Principal& who,
                                              const std::string& alert) const {
  if (who.role == auth::Role::kAdmin) return absl::OkStatus();
  if (absl::Status named = Named(alert, "alerts", "an alert"); !named.ok()) return named;
  feedback::v1::GetAlertRequest request;
  request.set_name(alert);
  feedback::v1::GetAlertResponse response;
  grpc::Status status = Unary(*feedback_, &FeedbackStub::PrepareAsyncGetAlert,
                              LookupContext(context).get(), request, &response);
  if (!status.ok()) return LookupFailed(status, alert);
  return gate_->relations().Region(context, who, response.alert().committee());
}

absl::Status ConsoleServiceImpl::WorkOrderInScope(const grpc::ServerContext& context,
                                                  const auth::Principal& who,
                                                  const std::string& work_order) const {
  if (who.role == auth::Role::kAdmin) return absl::OkStatus();
  if (absl::Status named = Named(work_order, "workOrders", "a work order"); !named.ok()) {
    return named;
  }
  feedback::v1::GetWorkOrderRequest request;
  request.set_name(work_order);
  feedback::v1::GetWorkOrderResponse response;
  grpc::Status status = Unary(*feedback_, &FeedbackStub::PrepareAsyncGetWorkOrder,
                              LookupContext(context).get(), request, &response);
  if (!status.ok()) return LookupFailed(status, work_order);
  return gate_->relations().Elder(context, who, response.work_order().elder());
}

absl::Status ConsoleServiceImpl::InScope(const grpc::ServerContext& c, const auth::Principal& who,
                                         const scheduling::v1::AssignVisitRequest& q) const {
  if (absl::Status visit = VisitInScope(c, who, q.name()); !visit.ok()) return visit;
  return WorkerInScope(c, who, q.worker(), /*strict=*/false);
}

absl::Status ConsoleServiceImpl::InScope(const grpc::ServerContext& c, const auth::Principal& who,
                                         const scheduling::v1::SwapVisitWorkersRequest& q) const {
  if (absl::Status first = VisitInScope(c, who, q.first()); !first.ok()) return first;
  return VisitInScope(c, who, q.second());
}

common::v1::LatLng CoarsenLocation(const common::v1::LatLng& point, int decimals) {
  const double scale = std::pow(10.0, decimals);
  common::v1::LatLng out;
  out.set_latitude(std::round(point.latitude() * scale) / scale);
  out.set_longitude(std::round(point.longitude() * scale) / scale);
  return out;
}

void CoarsenForStaff(const auth::Principal& who, registry::v1::Worker& worker) {
  if (who.role == auth::Role::kAdmin || !worker.has_base_location()) return;
  *worker.mutable_base_location() =
      CoarsenLocation(worker.base_location(), kStaffWorkerLocationDecimals);
}

grpc::Status ConsoleServiceImpl::ListWorkers(grpc::ServerContext* context,
                                             const registry::v1::ListWorkersRequest* request,
                                             registry::v1::ListWorkersResponse* response) {
  return gate_->Run(context, "/linli.gateway.v1.ConsoleService/ListWorkers", *request,
                    [&](const auth::Principal& who) {
                      grpc::Status status = Forward(
                          context, who, registry_.get(),
                          &registry::v1::RegistryService::StubInterface::PrepareAsyncListWorkers,
                          *request, response, "registry");
                      if (status.ok()) {
                        for (registry::v1::Worker& worker : *response->mutable_workers()) {
                          CoarsenForStaff(who, worker);
                        }
                      }
                      return status;
                    });
}

grpc::Status ConsoleServiceImpl::UpdateWorker(grpc::ServerContext* context,
                                              const registry::v1::UpdateWorkerRequest* request,
                                              registry::v1::UpdateWorkerResponse* response) {
  return gate_->Run(
      context, "/linli.gateway.v1.ConsoleService/UpdateWorker", *request,
      [&](const auth::Principal& who) -> grpc::Status {
        std::string checked_organisation;
        if (who.role != auth::Role::kAdmin) {
          const std::string& name = request->worker().name();
          if (absl::Status named = Named(name, "workers", "a worker"); !named.ok()) {
            return Reply(*context, named);
          }
          registry::v1::GetWorkerRequest lookup;
          lookup.set_name(name);
          registry::v1::GetWorkerResponse stored;
          grpc::Status found = Unary(*registry_, &RegistryStub::PrepareAsyncGetWorker,
                                     LookupContext(*context).get(), lookup, &stored);
          if (!found.ok()) return Reply(*context, LookupFailed(found, name));
          absl::Status own =
              gate_->relations().OwnOrganisation(*context, who, stored.worker().organisation());
          checked_organisation = stored.worker().organisation();
          if (!own.ok()) return Reply(*context, own);
          const auto& paths = request->update_mask().paths();
          const bool makes_staff =
              std::find(paths.begin(), paths.end(), "volunteer") != paths.end() &&
              !request->worker().volunteer();
          if (who.role == auth::Role::kCommitteeStaff &&
              (!stored.worker().volunteer() || makes_staff)) {
            return Reply(*context, absl::PermissionDeniedError(
                                       "committee staff keep volunteers; the street keeps staff"));
          }
        }
        // The registry refuses the worker if it is no longer the organisation's checked above.
        registry::v1::UpdateWorkerRequest guarded = *request;
        if (who.role != auth::Role::kAdmin) guarded.set_organisation(checked_organisation);
        grpc::Status status =
            Forward(context, who, registry_.get(),
                    &registry::v1::RegistryService::StubInterface::PrepareAsyncUpdateWorker,
                    guarded, response, "registry");
        if (status.ok() && who.role != auth::Role::kAdmin &&
            response->worker().has_base_location()) {
          *response->mutable_worker()->mutable_base_location() =
              CoarsenLocation(response->worker().base_location(), kStaffWorkerLocationDecimals);
        }
        return status;
      });
}

grpc::Status ConsoleServiceImpl::RetireElder(grpc::ServerContext* context,
                                             const registry::v1::RetireElderRequest* request,
                                             v1::RetireElderResponse* response) {
  return gate_->Run(
      context, "/linli.gateway.v1.ConsoleService/RetireElder", *request,
      [&](const auth::Principal& who) -> grpc::Status {
        registry::v1::RetireElderResponse retired;
        grpc::Status status =
            Forward(context, who, registry_.get(),
                    &registry::v1::RegistryService::StubInterface::PrepareAsyncRetireElder,
                    *request, &retired, "registry");
        if (!status.ok()) return status;
        *response->mutable_elder() = retired.elder();
        // The reason scheduling keeps is fixed text: the staff's own words stay in the registry
        // (its audit log), not in every promise and visit.
        const bool deceased = retired.elder().status() == registry::v1::ELDER_STATUS_DECEASED;
        const std::string reason =
            absl::StrCat(deceased ? "老人已故 elder deceased " : "老人已迁出 elder moved away ",
                         retired.elder().status_date());
        std::string page_token;
        do {
          scheduling::v1::ListCommitmentsRequest list;
          list.set_elder(request->name());
          list.set_page_size(kMaxPageSize);
          list.set_page_token(page_token);
          scheduling::v1::ListCommitmentsResponse page;
          status = Forward(
              context, who, scheduling_.get(),
              &scheduling::v1::SchedulingService::StubInterface::PrepareAsyncListCommitments, list,
              &page, "scheduling");
          if (!status.ok()) return status;
          for (const scheduling::v1::Commitment& commitment : page.commitments()) {
            if (commitment.state() != scheduling::v1::COMMITMENT_STATE_ACTIVE) continue;
            scheduling::v1::CancelCommitmentRequest cancel;
            cancel.set_name(commitment.name());
            cancel.set_reason(reason);
            scheduling::v1::CancelCommitmentResponse cancelled;
            status = Forward(
                context, who, scheduling_.get(),
                &scheduling::v1::SchedulingService::StubInterface::PrepareAsyncCancelCommitment,
                cancel, &cancelled, "scheduling");
            if (!status.ok()) return status;
            response->add_closed_commitments(commitment.name());
            response->set_cancelled_visits(response->cancelled_visits() +
                                           cancelled.cancelled_visits());
          }
          page_token = page.next_page_token();
        } while (!page_token.empty());
        return grpc::Status::OK;
      });
}

grpc::Status ConsoleServiceImpl::ListWorkOrders(grpc::ServerContext* context,
                                                const feedback::v1::ListWorkOrdersRequest* request,
                                                feedback::v1::ListWorkOrdersResponse* response) {
  return gate_->Run(context, "/linli.gateway.v1.ConsoleService/ListWorkOrders", *request,
                    [&](const auth::Principal& who) {
                      const feedback::v1::ListWorkOrdersRequest scoped =
                          InOwnRegionUnlessNamed(*request, who, !request->region().empty());
                      return Forward(
                          context, who, feedback_.get(),
                          &feedback::v1::FeedbackService::StubInterface::PrepareAsyncListWorkOrders,
                          scoped, response, "feedback");
                    });
}

grpc::Status ConsoleServiceImpl::ListAlerts(grpc::ServerContext* context,
                                            const feedback::v1::ListAlertsRequest* request,
                                            feedback::v1::ListAlertsResponse* response) {
  return gate_->Run(
      context, "/linli.gateway.v1.ConsoleService/ListAlerts", *request,
      [&](const auth::Principal& who) {
        const feedback::v1::ListAlertsRequest scoped = InOwnRegionUnlessNamed(
            *request, who, !request->committee().empty() || !request->region().empty());
        return Forward(context, who, feedback_.get(),
                       &feedback::v1::FeedbackService::StubInterface::PrepareAsyncListAlerts,
                       scoped, response, "feedback");
      });
}

grpc::Status ConsoleServiceImpl::ListPromises(grpc::ServerContext* context,
                                              const feedback::v1::ListPromisesRequest* request,
                                              feedback::v1::ListPromisesResponse* response) {
  return gate_->Run(context, "/linli.gateway.v1.ConsoleService/ListPromises", *request,
                    [&](const auth::Principal& who) {
                      const feedback::v1::ListPromisesRequest scoped =
                          InOwnRegionUnlessNamed(*request, who, !request->region().empty());
                      return Forward(
                          context, who, feedback_.get(),
                          &feedback::v1::FeedbackService::StubInterface::PrepareAsyncListPromises,
                          scoped, response, "feedback");
                    });
}

grpc::Status ConsoleServiceImpl::ListReferrals(grpc::ServerContext* context,
                                               const scheduling::v1::ListReferralsRequest* request,
                                               scheduling::v1::ListReferralsResponse* response) {
  return gate_->Run(context, "/linli.gateway.v1.ConsoleService/ListReferrals", *request,
                    [&](const auth::Principal& who) {
                      // The region is always set for staff: an organisation or a promise alone
                      // would reach referrals of other streets.
                      const scheduling::v1::ListReferralsRequest scoped =
                          InOwnRegionUnlessNamed(*request, who, !request->region().empty());
                      return Forward(context, who, scheduling_.get(),
                                     &SchedulingStub::PrepareAsyncListReferrals, scoped, response,
                                     "scheduling");
                    });
}

grpc::Status ConsoleServiceImpl::RecordVisitCheck(grpc::ServerContext* context,
                                                  const v1::RecordVisitCheckRequest* request,
                                                  v1::RecordVisitCheckResponse* response) {
  return gate_->Run(
      context, "/linli.gateway.v1.ConsoleService/RecordVisitCheck", *request,
      [&](const auth::Principal& who) -> grpc::Status {
        // The visit's scope first: nothing of another street's visit shows, not even a field.
        if (absl::Status scope = VisitInScope(*context, who, request->visit()); !scope.ok()) {
          return Reply(*context, scope);
        }
        if (request->method() != scheduling::v1::CHECK_METHOD_PHONE &&
            request->method() != scheduling::v1::CHECK_METHOD_FAMILY_PROXY) {
          return Reply(*context,
                       InvalidField("method",
                                    "must be CHECK_METHOD_PHONE or CHECK_METHOD_FAMILY_PROXY (a "
                                    "GPS check comes from the worker's app)"));
        }
        if (request->check_out()) {
          scheduling::v1::CheckOutVisitRequest out;
          out.set_name(request->visit());
          out.set_worker(request->worker());
          out.set_method(request->method());
          scheduling::v1::CheckOutVisitResponse checked;
          grpc::Status status =
              Forward(context, who, scheduling_.get(), &SchedulingStub::PrepareAsyncCheckOutVisit,
                      out, &checked, "scheduling");
          if (status.ok()) *response->mutable_visit() = std::move(*checked.mutable_visit());
          return status;
        }
        scheduling::v1::CheckInVisitRequest in;
        in.set_name(request->visit());
        in.set_worker(request->worker());
        in.set_method(request->method());
        in.set_substitute(request->substitute());
        scheduling::v1::CheckInVisitResponse checked;
        grpc::Status status =
            Forward(context, who, scheduling_.get(), &SchedulingStub::PrepareAsyncCheckInVisit, in,
                    &checked, "scheduling");
        if (status.ok()) *response->mutable_visit() = std::move(*checked.mutable_visit());
        return status;
      });
}

grpc::Status ConsoleServiceImpl::ListUnmetNeeds(
    grpc::ServerContext* context, const scheduling::v1::ListUnmetNeedsRequest* request,
    scheduling::v1::ListUnmetNeedsResponse* response) {
  return gate_->Run(context, "/linli.gateway.v1.ConsoleService/ListUnmetNeeds", *request,
                    [&](const auth::Principal& who) {
                      const scheduling::v1::ListUnmetNeedsRequest scoped =
                          InOwnRegionUnlessNamed(*request, who, !request->region().empty());
                      return Forward(context, who, scheduling_.get(),
                                     &SchedulingStub::PrepareAsyncListUnmetNeeds, scoped, response,
                                     "scheduling");
                    });
}

grpc::Status ConsoleServiceImpl::ListVisitsAwaitingReview(
    grpc::ServerContext* context, const feedback::v1::ListVisitsAwaitingReviewRequest* request,
    feedback::v1::ListVisitsAwaitingReviewResponse* response) {
  return gate_->Run(
      context, "/linli.gateway.v1.ConsoleService/ListVisitsAwaitingReview", *request,
      [&](const auth::Principal& who) {
        // An owner organisation alone would reach its visits in other streets: the region is
        // always set.
        const feedback::v1::ListVisitsAwaitingReviewRequest scoped =
            InOwnRegionUnlessNamed(*request, who, !request->region().empty());
        return Forward(
            context, who, feedback_.get(),
            &feedback::v1::FeedbackService::StubInterface::PrepareAsyncListVisitsAwaitingReview,
            scoped, response, "feedback");
      });
}

grpc::Status ConsoleServiceImpl::GetDayBoard(grpc::ServerContext* context,
                                             const feedback::v1::GetDayBoardRequest* request,
                                             feedback::v1::GetDayBoardResponse* response) {
  return gate_->Run(context, "/linli.gateway.v1.ConsoleService/GetDayBoard", *request,
                    [&](const auth::Principal& who) {
                      const feedback::v1::GetDayBoardRequest scoped =
                          InOwnRegionUnlessNamed(*request, who, !request->region().empty());
                      return Forward(
                          context, who, feedback_.get(),
                          &feedback::v1::FeedbackService::StubInterface::PrepareAsyncGetDayBoard,
                          scoped, response, "feedback");
                    });
}

grpc::Status ConsoleServiceImpl::ListFeedback(grpc::ServerContext* context,
                                              const feedback::v1::ListFeedbackRequest* request,
                                              feedback::v1::ListFeedbackResponse* response) {
  return gate_->Run(context, "/linli.gateway.v1.ConsoleService/ListFeedback", *request,
                    [&](const auth::Principal& who) {
                      const feedback::v1::ListFeedbackRequest scoped = InOwnRegionUnlessNamed(
                          *request, who, !request->region().empty() || !request->elder().empty());
                      return Forward(
                          context, who, feedback_.get(),
                          &feedback::v1::FeedbackService::StubInterface::PrepareAsyncListFeedback,
                          scoped, response, "feedback");
                    });
}

grpc::Status ConsoleServiceImpl::RecordElderFeedback(
    grpc::ServerContext* context, const feedback::v1::SubmitFeedbackRequest* request,
    feedback::v1::SubmitFeedbackResponse* response) {
  return gate_->Run(context, "/linli.gateway.v1.ConsoleService/RecordElderFeedback", *request,
                    [&](const auth::Principal& who) {
                      const feedback::v1::FeedbackChannel channel = request->feedback().channel();
                      if (channel != feedback::v1::FEEDBACK_CHANNEL_PHONE_CALL &&
                          channel != feedback::v1::FEEDBACK_CHANNEL_DOOR_VISIT) {
                        return Reply(*context, InvalidField("feedback.channel",
                                                            "staff record answers taken by "
                                                            "FEEDBACK_CHANNEL_PHONE_CALL or "
                                                            "FEEDBACK_CHANNEL_DOOR_VISIT"));
                      }
                      return SubmitElderFeedback(*feedback_, context, who, backend_timeout_,
                                                 *request, response->mutable_feedback());
                    });
}

grpc::Status ConsoleServiceImpl::FileWorkOrder(grpc::ServerContext* context,
                                               const feedback::v1::CreateWorkOrderRequest* request,
                                               feedback::v1::CreateWorkOrderResponse* response) {
  return gate_->Run(context, "/linli.gateway.v1.ConsoleService/FileWorkOrder", *request,
                    [&](const auth::Principal& who) {
                      feedback::v1::CreateWorkOrderRequest filed = *request;
                      filed.mutable_work_order()->set_source(feedback::v1::WORK_ORDER_SOURCE_STAFF);
                      return CreateWorkOrder(*feedback_, context, who, backend_timeout_, filed,
                                             response->mutable_work_order());
                    });
}

grpc::Status ConsoleServiceImpl::Plan(grpc::ServerContext* context,
                                      const scheduling::v1::PlanRequest* request,
                                      scheduling::v1::PlanResponse* response) {
  return gate_->Run(
      context, "/linli.gateway.v1.ConsoleService/Plan", *request, [&](const auth::Principal& who) {
        // The planner runs for its time limit (10 s unless the request says otherwise, at most
        // 120 s) before anything is booked: --backend_timeout is for ordinary calls. The
        // caller's own deadline still applies.
        const double limit = request->time_limit_seconds() > 0 ? request->time_limit_seconds() : 10;
        grpc::Status status = Forward(
            context, who, scheduling_.get(),
            &scheduling::v1::SchedulingService::StubInterface::PrepareAsyncPlan, *request, response,
            "scheduling", std::max(backend_timeout_, absl::Seconds(std::min(limit, 120.0) + 60)));
        if (status.ok() && who.role != auth::Role::kAdmin && response->has_problem()) {
          scheduling::v1::PlanProblem* problem = response->mutable_problem();
          std::set<std::string> bases;
          for (const scheduling::v1::PlanWorker& worker : problem->workers()) {
            bases.insert(worker.base());
          }
          for (scheduling::v1::PlanLocation& location : *problem->mutable_locations()) {
            if (!bases.contains(location.id())) continue;
            common::v1::LatLng point;
            point.set_latitude(location.latitude());
            point.set_longitude(location.longitude());
            point = CoarsenLocation(point, kStaffWorkerLocationDecimals);
            location.set_latitude(point.latitude());
            location.set_longitude(point.longitude());
          }
        }
        return status;
      });
}

grpc::Status ConsoleServiceImpl::RegisterElder(grpc::ServerContext* context,
                                               const registry::v1::CreateElderRequest* request,
                                               registry::v1::CreateElderResponse* response) {
  return gate_->Run(context, "/linli.gateway.v1.ConsoleService/RegisterElder", *request,
                    [&](const auth::Principal& who) {
                      return Forward(
                          context, who, registry_.get(),
                          &registry::v1::RegistryService::StubInterface::PrepareAsyncCreateElder,
                          *request, response, "registry");
                    });
}

}  // namespace linli::gateway
