#include "services/gateway/partner_service.h"
#include "services/gateway/event_loop.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
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
                      grpc::Status status =
                          Unary(*registry_, &RegistryStub::PrepareAsyncListOfferings,
                                BackendContext(context, who, backend_timeout_).get(),
                                backend_request, &backend_response);
                      if (status.ok()) {
                        response->mutable_offerings()->Swap(backend_response.mutable_offerings());
                        response->set_next_page_token(backend_response.next_page_token());
                      }
                      return FromBackend(*context, status, "registry");
                    });
}

namespace {

// The answers for another organisation's records: the same as for records that do not exist.
constexpr char kNoSuchCommitment[] = "no such commitment of your organisation";
constexpr char kNoSuchWorkOrder[] = "no such work order of yours";
constexpr char kNoSuchVisit[] = "no such visit of your organisation";

}  // namespace

absl::Status PartnerServiceImpl::OwnCommitment(const grpc::ServerContext& context,
                                               const auth::Principal& who,
                                               const std::string& commitment,
                                               const char* field) const {
  if (commitment.empty()) return InvalidField(field, "is required: \"commitments/{id}\"");
  if (!absl::StartsWith(commitment, "commitments/") || commitment.size() == 12) {
    return InvalidField(field, "must look like \"commitments/{id}\"");
  }
  if (who.organisation.empty()) {
    return absl::PermissionDeniedError("the key names no organisation");
  }
  scheduling::v1::GetCommitmentRequest request;
  request.set_name(commitment);
  scheduling::v1::GetCommitmentResponse response;
  grpc::Status status =
      Unary(*scheduling_, &SchedulingStub::PrepareAsyncGetCommitment,
            BackendContext(&context, who, backend_timeout_).get(), request, &response);
  switch (status.error_code()) {
    case grpc::StatusCode::OK:
      break;
    case grpc::StatusCode::NOT_FOUND:
    case grpc::StatusCode::INVALID_ARGUMENT:  // an id scheduling would never issue
      return absl::NotFoundError(kNoSuchCommitment);
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return WithReason(absl::UnavailableError("scheduling is unavailable; retry later"),
                        common::v1::ERROR_REASON_BACKEND_UNAVAILABLE);
    default:
      return absl::PermissionDeniedError("cannot check the commitment now");
  }
  if (response.commitment().owner_organisation() != who.organisation) {
    return absl::NotFoundError(kNoSuchCommitment);
  }
  return absl::OkStatus();
}

grpc::Status PartnerServiceImpl::SubmitWorkOrder(grpc::ServerContext* context,
                                                 const v1::SubmitWorkOrderRequest* request,
                                                 v1::SubmitWorkOrderResponse* response) {
  return gate_->Run(
      context, "/linli.gateway.v1.PartnerService/SubmitWorkOrder", *request,
      [&](const auth::Principal& who) -> grpc::Status {
        // Only about the organisation's own promises, checked before feedback is asked anything
        // (its answer names the commitment's elder).
        if (absl::Status own = OwnCommitment(*context, who, request->commitment(), "commitment");
            !own.ok()) {
          return Reply(*context, own);
        }
        feedback::v1::CreateWorkOrderRequest backend_request;
        feedback::v1::WorkOrder* order = backend_request.mutable_work_order();
        order->set_source(feedback::v1::WORK_ORDER_SOURCE_HOTLINE_12345);
        order->set_commitment(request->commitment());
        order->set_description(request->description());
        order->set_external_reference(request->external_reference());
        // Scoped to the partner (all its keys: a retry after a key rotation is the same request),
        // so two partners' request ids never collide.
        if (!request->request_id().empty()) {
          backend_request.set_request_id(absl::StrCat(who.id, ":", request->request_id()));
        }
        return CreateWorkOrder(*feedback_, context, who, backend_timeout_, backend_request,
                               response->mutable_work_order());
      });
}

grpc::Status PartnerServiceImpl::GetWorkOrderStatus(grpc::ServerContext* context,
                                                    const v1::GetWorkOrderStatusRequest* request,
                                                    v1::GetWorkOrderStatusResponse* response) {
  return gate_->Run(context, "/linli.gateway.v1.PartnerService/GetWorkOrderStatus", *request,
                    [&](const auth::Principal& who) -> grpc::Status {
                      feedback::v1::WorkOrder order;
                      grpc::Status status = GetWorkOrder(*feedback_, context, who, backend_timeout_,
                                                         request->name(), &order);
                      // Missing or another's: one answer, so a key cannot probe which exist.
                      if (status.error_code() == grpc::StatusCode::NOT_FOUND) {
                        return Reply(*context, absl::NotFoundError(kNoSuchWorkOrder));
                      }
                      if (!status.ok()) return status;
                      // Submitted by this partner (the acceptance step names it as the actor),
                      // about a promise of its organisation (orders accepted before keys were
                      // held to their own promises may be about another's).
                      if (order.history_size() == 0 || order.history(0).actor() != who.Actor()) {
                        return Reply(*context, absl::NotFoundError(kNoSuchWorkOrder));
                      }
                      absl::Status own = OwnCommitment(*context, who, order.commitment(), "name");
                      if (absl::IsNotFound(own) || absl::IsInvalidArgument(own)) {
                        return Reply(*context, absl::NotFoundError(kNoSuchWorkOrder));
                      }
                      if (!own.ok()) return Reply(*context, own);
                      *response->mutable_work_order() = std::move(order);
                      return grpc::Status::OK;
                    });
}

namespace {

// The delivery view of a visit: nothing about the elder but the identifier.
v1::Delivery ToDelivery(const scheduling::v1::Visit& visit) {
  v1::Delivery d;
  d.set_visit(visit.name());
  d.set_commitment(visit.commitment());
  d.set_elder(visit.elder());
  d.set_service_type(visit.service_type());
  *d.mutable_window_start() = visit.window_start();
  *d.mutable_window_end() = visit.window_end();
  d.set_duration_minutes(visit.duration_minutes());
  d.set_state(visit.state());
  for (const auto& a : visit.assignments()) d.add_booked_workers(a.worker());
  if (visit.has_check_in()) {
    *d.mutable_arrival_time() = visit.check_in().time();
    d.set_arrival_method(visit.check_in().method());
  }
  if (visit.has_check_out()) *d.mutable_departure_time() = visit.check_out().time();
  *d.mutable_exceptions() = visit.exceptions();
  d.set_reason_code(visit.reason_code());
  return d;
}

}  // namespace

grpc::Status PartnerServiceImpl::UpdateMyOffering(grpc::ServerContext* context,
                                                  const v1::UpdateMyOfferingRequest* request,
                                                  v1::UpdateMyOfferingResponse* response) {
  return gate_->Run(
      context, "/linli.gateway.v1.PartnerService/UpdateMyOffering", *request,
      [&](const auth::Principal& who) -> grpc::Status {
        registry::v1::UpdateOfferingRequest backend_request;
        *backend_request.mutable_offering() = request->offering();
        *backend_request.mutable_update_mask() = request->update_mask();
        backend_request.set_organisation(who.organisation);  // the guard: the key's own only
        if (!request->request_id().empty()) {
          backend_request.set_request_id(absl::StrCat(who.id, ":", request->request_id()));
        }
        registry::v1::UpdateOfferingResponse backend_response;
        grpc::Status status = Unary(*registry_, &RegistryStub::PrepareAsyncUpdateOffering,
                                    BackendContext(context, who, backend_timeout_).get(),
                                    backend_request, &backend_response);
        if (status.ok()) {
          *response->mutable_offering() = std::move(*backend_response.mutable_offering());
        }
        return FromBackend(*context, status, "registry");
      });
}

grpc::Status PartnerServiceImpl::ListMyDeliveries(grpc::ServerContext* context,
                                                  const v1::ListMyDeliveriesRequest* request,
                                                  v1::ListMyDeliveriesResponse* response) {
  return gate_->Run(
      context, "/linli.gateway.v1.PartnerService/ListMyDeliveries", *request,
      [&](const auth::Principal& who) -> grpc::Status {
        if (request->page_size() < 0) {
          return Reply(*context, InvalidField("page_size", "must not be negative"));
        }
        absl::CivilDay day;
        if (request->date().empty()) {
          day = absl::ToCivilDay(clock_.Now(), absl::FixedTimeZone(8 * 3600));
        } else if (!absl::ParseCivilTime(request->date(), &day)) {
          return Reply(*context, InvalidField("date", "must be a date \"YYYY-MM-DD\""));
        }
        if (who.organisation.empty()) {
          return Reply(*context, absl::PermissionDeniedError("the key names no organisation"));
        }
        scheduling::v1::ListVisitsRequest backend_request;
        backend_request.set_owner_organisation(who.organisation);  // never from the request
        backend_request.set_from_date(absl::FormatCivilTime(day));
        backend_request.set_to_date(absl::FormatCivilTime(day + 1));
        backend_request.set_page_size(
            request->page_size() == 0 ? 100 : std::min(request->page_size(), 200));
        backend_request.set_page_token(request->page_token());
        scheduling::v1::ListVisitsResponse backend_response;
        grpc::Status status = Unary(*scheduling_, &SchedulingStub::PrepareAsyncListVisits,
                                    BackendContext(context, who, backend_timeout_).get(),
                                    backend_request, &backend_response);
        if (!status.ok()) return FromBackend(*context, status, "scheduling");
        for (const auto& visit : backend_response.visits()) {
          *response->add_deliveries() = ToDelivery(visit);
        }
        response->set_next_page_token(backend_response.next_page_token());
        return grpc::Status::OK;
      });
}

grpc::Status PartnerServiceImpl::ReportDelivery(grpc::ServerContext* context,
                                                const v1::ReportDeliveryRequest* request,
                                                v1::ReportDeliveryResponse* response) {
  return gate_->Run(
      context, "/linli.gateway.v1.PartnerService/ReportDelivery", *request,
      [&](const auth::Principal& who) -> grpc::Status {
        // The visit must be of the key's organisation's commitments, checked before anything
        // about it is read or changed; a visit of another organisation gets the same answer as
        // one that does not exist.
        if (absl::Status mine = gate_->relations().PartnerVisit(*context, who, request->visit());
            !mine.ok()) {
          return Reply(*context, absl::IsNotFound(mine) ? absl::NotFoundError(kNoSuchVisit) : mine);
        }
        // The worker must be one of the organisation's.
        registry::v1::GetWorkerRequest worker_request;
        worker_request.set_name(request->worker());
        registry::v1::GetWorkerResponse worker;
        grpc::Status status =
            Unary(*registry_, &RegistryStub::PrepareAsyncGetWorker,
                  BackendContext(context, who, backend_timeout_).get(), worker_request, &worker);
        if (status.error_code() == grpc::StatusCode::NOT_FOUND ||
            (status.ok() && worker.worker().organisation() != who.organisation)) {
          return Reply(*context, InvalidField("worker", "must be a worker of your organisation"));
        }
        if (!status.ok()) return FromBackend(*context, status, "registry");

        scheduling::v1::GetVisitRequest get;
        get.set_name(request->visit());
        scheduling::v1::GetVisitResponse current;
        status = Unary(*scheduling_, &SchedulingStub::PrepareAsyncGetVisit,
                       BackendContext(context, who, backend_timeout_).get(), get, &current);
        if (!status.ok()) return FromBackend(*context, status, "scheduling");
        scheduling::v1::Visit visit = std::move(*current.mutable_visit());
        const bool reported_by_this_worker =
            visit.check_in().worker() == request->worker() &&
            visit.check_in().method() == scheduling::v1::CHECK_METHOD_PARTNER_REPORT;
        if (visit.state() == scheduling::v1::VISIT_STATE_SCHEDULED) {
          scheduling::v1::CheckInVisitRequest check_in;
          check_in.set_name(request->visit());
          check_in.set_worker(request->worker());
          if (request->has_location()) *check_in.mutable_location() = request->location();
          check_in.set_method(scheduling::v1::CHECK_METHOD_PARTNER_REPORT);
          scheduling::v1::CheckInVisitResponse checked_in;
          status =
              Unary(*scheduling_, &SchedulingStub::PrepareAsyncCheckInVisit,
                    BackendContext(context, who, backend_timeout_).get(), check_in, &checked_in);
          if (!status.ok()) return FromBackend(*context, status, "scheduling");
          visit = std::move(*checked_in.mutable_visit());
        } else if (!reported_by_this_worker) {
          // Started or over by other means (the worker's app, a miss, a cancellation): the
          // verification already holds a record the report must not overwrite.
          return Reply(*context,
                       absl::FailedPreconditionError(absl::StrCat(
                           request->visit(), " is ", scheduling::v1::VisitState_Name(visit.state()),
                           " and was not reported by this worker through the partner API")));
        }
        if (visit.state() == scheduling::v1::VISIT_STATE_IN_PROGRESS) {
          scheduling::v1::CheckOutVisitRequest check_out;
          check_out.set_name(request->visit());
          check_out.set_worker(request->worker());
          if (request->has_location()) *check_out.mutable_location() = request->location();
          check_out.set_method(scheduling::v1::CHECK_METHOD_PARTNER_REPORT);
          scheduling::v1::CheckOutVisitResponse checked_out;
          status =
              Unary(*scheduling_, &SchedulingStub::PrepareAsyncCheckOutVisit,
                    BackendContext(context, who, backend_timeout_).get(), check_out, &checked_out);
          if (!status.ok()) return FromBackend(*context, status, "scheduling");
          visit = std::move(*checked_out.mutable_visit());
        }
        *response->mutable_delivery() = ToDelivery(visit);
        return grpc::Status::OK;
      });
}

namespace {

constexpr char kNoSuchReferral[] = "no such referral to your organisation";

// A referral the organisation cannot see reads as one that does not exist.
grpc::Status HideOthers(const grpc::ServerContext& context, const grpc::Status& status) {
  if (status.error_code() == grpc::StatusCode::NOT_FOUND) {
    return Reply(context, absl::NotFoundError(kNoSuchReferral));
  }
  return FromBackend(context, status, "scheduling");
}

}  // namespace

grpc::Status PartnerServiceImpl::ListMyReferrals(grpc::ServerContext* context,
                                                 const v1::ListMyReferralsRequest* request,
                                                 v1::ListMyReferralsResponse* response) {
  return gate_->Run(
      context, "/linli.gateway.v1.PartnerService/ListMyReferrals", *request,
      [&](const auth::Principal& who) -> grpc::Status {
        if (who.organisation.empty()) {
          return Reply(*context, absl::PermissionDeniedError("the key names no organisation"));
        }
        scheduling::v1::ListReferralsRequest backend_request;
        backend_request.set_to_organisation(who.organisation);  // never from the request
        *backend_request.mutable_states() = request->states();
        backend_request.set_page_size(request->page_size());
        backend_request.set_page_token(request->page_token());
        scheduling::v1::ListReferralsResponse backend_response;
        grpc::Status status = Unary(*scheduling_, &SchedulingStub::PrepareAsyncListReferrals,
                                    BackendContext(context, who, backend_timeout_).get(),
                                    backend_request, &backend_response);
        if (!status.ok()) return FromBackend(*context, status, "scheduling");
        response->mutable_referrals()->Swap(backend_response.mutable_referrals());
        response->set_next_page_token(backend_response.next_page_token());
        return grpc::Status::OK;
      });
}

grpc::Status PartnerServiceImpl::AnswerReferral(grpc::ServerContext* context,
                                                const v1::AnswerMyReferralRequest* request,
                                                v1::AnswerMyReferralResponse* response) {
  return gate_->Run(
      context, "/linli.gateway.v1.PartnerService/AnswerReferral", *request,
      [&](const auth::Principal& who) -> grpc::Status {
        if (who.organisation.empty()) {
          return Reply(*context, absl::PermissionDeniedError("the key names no organisation"));
        }
        scheduling::v1::AnswerReferralRequest answer;
        answer.set_name(request->name());
        answer.set_organisation(who.organisation);  // scheduling checks it is the receiver
        answer.set_accept(request->accept());
        answer.set_decline_reason(request->decline_reason());
        answer.set_request_id(request->request_id());
        scheduling::v1::AnswerReferralResponse answered;
        grpc::Status status =
            Unary(*scheduling_, &SchedulingStub::PrepareAsyncAnswerReferral,
                  BackendContext(context, who, backend_timeout_).get(), answer, &answered);
        if (!status.ok()) return HideOthers(*context, status);
        *response->mutable_referral() = std::move(*answered.mutable_referral());
        if (!request->accept()) return grpc::Status::OK;
        *response->mutable_commitment() = std::move(*answered.mutable_commitment());
        // What the provider needs to come to the door, which the elder consented to share
        // with providers (the referral was only sent with that consent): read in full under the
        // key's name, so the registry's audit shows who received it and why.
        registry::v1::GetElderRequest elder_request;
        elder_request.set_name(response->referral().elder());
        elder_request.set_view(registry::v1::ELDER_VIEW_FULL);
        elder_request.set_reason(absl::StrCat("accepted ", response->referral().name()));
        registry::v1::GetElderResponse elder;
        status = Unary(*registry_, &RegistryStub::PrepareAsyncGetElder,
                       BackendContext(context, who, backend_timeout_).get(), elder_request, &elder);
        if (!status.ok()) {
          // The acceptance stands (a retry with the same request_id returns it and reads again).
          return FromBackend(*context, status, "registry");
        }
        v1::ReferredElder* out = response->mutable_elder();
        out->set_elder(elder.elder().name());
        out->set_display_name(elder.elder().display_name());
        out->set_address(elder.elder().address());
        out->set_phone(elder.elder().phone());
        out->set_living_situation(elder.elder().living_situation());
        return grpc::Status::OK;
      });
}

grpc::Status PartnerServiceImpl::CompleteReferral(grpc::ServerContext* context,
                                                  const v1::CompleteMyReferralRequest* request,
                                                  v1::CompleteMyReferralResponse* response) {
  return gate_->Run(
      context, "/linli.gateway.v1.PartnerService/CompleteReferral", *request,
      [&](const auth::Principal& who) -> grpc::Status {
        if (who.organisation.empty()) {
          return Reply(*context, absl::PermissionDeniedError("the key names no organisation"));
        }
        scheduling::v1::CompleteReferralRequest complete;
        complete.set_name(request->name());
        complete.set_organisation(who.organisation);
        complete.set_outcome(request->outcome());
        complete.set_request_id(request->request_id());
        scheduling::v1::CompleteReferralResponse completed;
        grpc::Status status =
            Unary(*scheduling_, &SchedulingStub::PrepareAsyncCompleteReferral,
                  BackendContext(context, who, backend_timeout_).get(), complete, &completed);
        if (!status.ok()) return HideOthers(*context, status);
        *response->mutable_referral() = std::move(*completed.mutable_referral());
        return grpc::Status::OK;
      });
}

grpc::Status PartnerServiceImpl::ReviewVisit(grpc::ServerContext* context,
                                             const scheduling::v1::ReviewVisitRequest* request,
                                             scheduling::v1::ReviewVisitResponse* response) {
  return gate_->Run(
      context, "/linli.gateway.v1.PartnerService/ReviewVisit", *request,
      [&](const auth::Principal& who) -> grpc::Status {
        // A visit of the organisation's own commitments, checked before anything of it shows.
        if (absl::Status mine = gate_->relations().PartnerVisit(*context, who, request->name());
            !mine.ok()) {
          return Reply(*context, absl::IsNotFound(mine) ? absl::NotFoundError(kNoSuchVisit) : mine);
        }
        grpc::Status status =
            Unary(*scheduling_, &SchedulingStub::PrepareAsyncReviewVisit,
                  BackendContext(context, who, backend_timeout_).get(), *request, response);
        return FromBackend(*context, status, "scheduling");
      });
}

namespace {

// The inbox a partner key reads: its organisation's, or its partner's ("partners/{partner}",
// where the steps of the complaints its keys filed arrive). Never from the request beyond the
// choice.
absl::StatusOr<std::string> PartnerInboxOf(const auth::Principal& who, v1::PartnerInbox inbox) {
  switch (inbox) {
    case v1::PARTNER_INBOX_UNSPECIFIED:
      return who.organisation.empty() ? who.id : who.organisation;
    case v1::PARTNER_INBOX_ORGANISATION:
      if (who.organisation.empty()) {
        return absl::PermissionDeniedError("the key names no organisation");
      }
      return who.organisation;
    case v1::PARTNER_INBOX_PARTNER:
      return who.id;
    default:
      return InvalidField("inbox", "must be PARTNER_INBOX_ORGANISATION or PARTNER_INBOX_PARTNER");
  }
}

}  // namespace

grpc::Status PartnerServiceImpl::ListMyNotices(grpc::ServerContext* context,
                                               const v1::ListPartnerNoticesRequest* request,
                                               feedback::v1::ListNoticesResponse* response) {
  return gate_->Run(context, "/linli.gateway.v1.PartnerService/ListMyNotices", *request,
                    [&](const auth::Principal& who) -> grpc::Status {
                      absl::StatusOr<std::string> inbox = PartnerInboxOf(who, request->inbox());
                      if (!inbox.ok()) return Reply(*context, inbox.status());
                      return ReadInbox(*feedback_, context, who, backend_timeout_, *inbox, *request,
                                       response);
                    });
}

grpc::Status PartnerServiceImpl::MarkMyNoticesRead(
    grpc::ServerContext* context, const v1::MarkPartnerNoticesReadRequest* request,
    feedback::v1::MarkNoticesReadResponse* response) {
  return gate_->Run(
      context, "/linli.gateway.v1.PartnerService/MarkMyNoticesRead", *request,
      [&](const auth::Principal& who) -> grpc::Status {
        absl::StatusOr<std::string> inbox = PartnerInboxOf(who, request->inbox());
        if (!inbox.ok()) return Reply(*context, inbox.status());
        feedback::v1::MarkNoticesReadRequest backend_request;
        backend_request.set_recipient(*inbox);  // a notice of another inbox is NOT_FOUND there
        *backend_request.mutable_names() = request->names();
        backend_request.set_up_to_sequence(request->up_to_sequence());
        grpc::Status status =
            Unary(*feedback_, &FeedbackStub::PrepareAsyncMarkNoticesRead,
                  BackendContext(context, who, backend_timeout_).get(), backend_request, response);
        return FromBackend(*context, status, "feedback");
      });
}

}  // namespace linli::gateway
