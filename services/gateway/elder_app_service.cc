#include "services/gateway/elder_app_service.h"
#include "services/gateway/event_loop.h"

#include <algorithm>

#include <map>
#include <utility>
#include <vector>

#include "grpcpp/completion_queue.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "common/errors.h"
#include "common/server.h"
#include "services/gateway/console_service.h"

namespace linli::gateway {
namespace {

constexpr int kPageItems = 50;
constexpr int kMaxUpcoming = 100;
constexpr absl::Duration kWorkerNamesTimeout = absl::Milliseconds(500);
const absl::TimeZone kShanghai = absl::FixedTimeZone(8 * 3600);

constexpr char kService[] = "/linli.gateway.v1.ElderAppService/";

// "YYYY-MM-DD" of today + `days` in Shanghai.
std::string LocalDate(absl::Time now, int days) {
  absl::CivilDay day = absl::ToCivilDay(now, kShanghai) + days;
  return absl::FormatCivilTime(day);
}

absl::StatusOr<int> Days(int requested, const char* field) {
  if (requested == 0) return 7;
  if (requested < 1 || requested > 14) return InvalidField(field, "must be between 1 and 14 days");
  return requested;
}

void AddUpcoming(const scheduling::v1::Visit& visit,
                 const std::map<std::string, const scheduling::v1::Commitment*>& commitments,
                 v1::UpcomingVisit* out) {
  out->set_visit(visit.name());
  out->set_commitment(visit.commitment());
  out->set_service_type(visit.service_type());
  *out->mutable_window_start() = visit.window_start();
  *out->mutable_window_end() = visit.window_end();
  out->set_duration_minutes(visit.duration_minutes());
  out->set_state(visit.state());
  if (auto it = commitments.find(visit.commitment()); it != commitments.end()) {
    out->set_organisation(it->second->owner_organisation());
    out->set_preferred_worker(it->second->preferred_worker());
  }
  std::vector<const scheduling::v1::Assignment*> booked;
  for (const scheduling::v1::Assignment& a : visit.assignments()) booked.push_back(&a);
  std::stable_sort(booked.begin(), booked.end(), [](const auto* a, const auto* b) {
    return std::make_pair(a->start().seconds(), a->start().nanos()) <
           std::make_pair(b->start().seconds(), b->start().nanos());
  });
  for (const scheduling::v1::Assignment* a : booked) {
    v1::BookedWorker* worker = out->add_booked_workers();
    worker->set_worker(a->worker());
    *worker->mutable_start() = a->start();
    worker->set_familiar(!out->preferred_worker().empty() &&
                         a->worker() == out->preferred_worker());
  }
}

// Fills in the display names of the booked workers of `visits` from the registry: one GetWorker
// per distinct worker (an elder's visits of a fortnight have a handful), all at once, within the
// caller's deadline and at most kWorkerNamesTimeout: the names are a nicety made after the
// page's own calls, and a slow registry must not double the page's wait. A name that cannot be
// read stays empty; the page is not failed for it.
void AddWorkerNames(registry::v1::RegistryService::StubInterface& registry,
                    const grpc::ServerContext* context, const auth::Principal& who,
                    absl::Duration timeout,
                    google::protobuf::RepeatedPtrField<v1::UpcomingVisit>& visits) {
  constexpr size_t kMaxWorkers = 20;
  std::map<std::string, std::string> names;  // worker -> display name
  for (const v1::UpcomingVisit& visit : visits) {
    for (const v1::BookedWorker& w : visit.booked_workers()) {
      if (names.size() < kMaxWorkers) names.emplace(w.worker(), "");
    }
  }
  if (names.empty()) return;
  struct Call {
    registry::v1::GetWorkerRequest request;
    registry::v1::GetWorkerResponse response;
    grpc::Status status;
    std::unique_ptr<grpc::ClientContext> context;
    std::unique_ptr<grpc::ClientAsyncResponseReaderInterface<registry::v1::GetWorkerResponse>>
        reader;
  };
  std::vector<Call> calls(names.size());
  AsyncWait wait;  // destroyed first: waits for the calls before their buffers go
  size_t i = 0;
  for (const auto& [worker, unused] : names) {
    Call& call = calls[i++];
    call.request.set_name(worker);
    call.context = BackendContext(context, who, timeout);
    call.reader = registry.PrepareAsyncGetWorker(call.context.get(), call.request, wait.queue());
    call.reader->StartCall();
    call.reader->Finish(&call.response, &call.status, wait.Tag());
  }
  wait.Wait();
  for (const Call& call : calls) {
    if (call.status.ok()) names[call.request.name()] = call.response.worker().display_name();
  }
  for (v1::UpcomingVisit& visit : visits) {
    for (v1::BookedWorker& w : *visit.mutable_booked_workers()) {
      if (auto it = names.find(w.worker()); it != names.end()) w.set_display_name(it->second);
    }
  }
}

// The elder's promises and the visits of the coming `days` days, read from scheduling at once (the
// elder page and ListMyUpcomingVisits). Declare it before the AsyncWait that Start uses, so that
// the wait ends before the responses go.
struct ElderSchedule {
  scheduling::v1::ListCommitmentsRequest promises_request;
  scheduling::v1::ListCommitmentsResponse promises;
  grpc::Status promises_status;
  std::unique_ptr<grpc::ClientContext> promises_context;
  scheduling::v1::ListVisitsRequest visits_request;
  scheduling::v1::ListVisitsResponse visits;
  grpc::Status visits_status;
  std::unique_ptr<grpc::ClientContext> visits_context;

  void Start(SchedulingStub& scheduling, const grpc::ServerContext* context,
             const auth::Principal& who, absl::Duration timeout, const std::string& elder,
             absl::Time now, int days, int page_size, AsyncWait& wait) {
    promises_request.set_elder(elder);
    promises_request.set_page_size(page_size);
    promises_context = BackendContext(context, who, timeout);
    auto promises_call = scheduling.PrepareAsyncListCommitments(promises_context.get(),
                                                                promises_request, wait.queue());
    promises_call->StartCall();
    promises_call->Finish(&promises, &promises_status, wait.Tag());
    visits_request.set_elder(elder);
    visits_request.set_from_date(LocalDate(now, 0));
    visits_request.set_to_date(LocalDate(now, days));
    visits_request.set_page_size(page_size);
    visits_context = BackendContext(context, who, timeout);
    auto visits_call =
        scheduling.PrepareAsyncListVisits(visits_context.get(), visits_request, wait.queue());
    visits_call->StartCall();
    visits_call->Finish(&visits, &visits_status, wait.Tag());
  }
};

bool IsUpcoming(const scheduling::v1::Visit& visit) {
  return visit.state() == scheduling::v1::VISIT_STATE_SCHEDULED ||
         visit.state() == scheduling::v1::VISIT_STATE_IN_PROGRESS;
}

}  // namespace

grpc::Status ElderAppServiceImpl::GetElderPage(grpc::ServerContext* context,
                                               const v1::GetElderPageRequest* request,
                                               v1::GetElderPageResponse* response) {
  return gate_->Run(
      context, absl::StrCat(kService, "GetElderPage"), *request,
      [&](const auth::Principal& who) -> grpc::Status {
        absl::StatusOr<int> days = Days(request->upcoming_days(), "upcoming_days");
        if (!days.ok()) return Reply(*context, days.status());
        const absl::Time now = clock_.Now();

        // Four backend calls at once (registry, scheduling twice, feedback), each bounded by the
        // caller's deadline; the fiber waits for all of them (event_loop.h).
        registry::v1::GetElderRequest profile_request;
        profile_request.set_name(request->elder());
        registry::v1::GetElderResponse profile;
        grpc::Status profile_status;
        auto profile_context = BackendContext(context, who, backend_timeout_);

        ElderSchedule schedule;

        feedback::v1::GetPerceptionIndexRequest index_request;
        index_request.set_subject(request->elder());
        index_request.set_window_days(30);
        feedback::v1::GetPerceptionIndexResponse index;
        grpc::Status index_status;
        auto index_context = BackendContext(context, who, backend_timeout_);
        // Declared after everything its calls write into, so that it is destroyed first (and
        // waits for them) whatever happens below.
        AsyncWait wait;
        auto profile_call =
            registry_->PrepareAsyncGetElder(profile_context.get(), profile_request, wait.queue());
        auto index_call = feedback_->PrepareAsyncGetPerceptionIndex(index_context.get(),
                                                                    index_request, wait.queue());
        profile_call->StartCall();
        index_call->StartCall();
        profile_call->Finish(&profile, &profile_status, wait.Tag());
        index_call->Finish(&index, &index_status, wait.Tag());
        schedule.Start(*scheduling_, context, who, backend_timeout_, request->elder(), now, *days,
                       kPageItems, wait);
        wait.Wait();
        const grpc::Status& promises_status = schedule.promises_status;
        const grpc::Status& visits_status = schedule.visits_status;

        // The elder named does not exist (or the request is malformed): that is the caller's
        // problem, not a missing part.
        for (const grpc::Status* s :
             {&profile_status, &schedule.promises_status, &schedule.visits_status}) {
          if (s->error_code() == grpc::StatusCode::NOT_FOUND ||
              s->error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
            return *s;
          }
        }
        if (profile_status.ok()) {
          *response->mutable_profile() = std::move(*profile.mutable_elder());
        } else {
          response->add_missing_parts(v1::ELDER_PAGE_PART_PROFILE);
        }
        std::map<std::string, const scheduling::v1::Commitment*> by_name;
        if (promises_status.ok()) {
          for (const auto& c : schedule.promises.commitments()) {
            by_name[c.name()] = &c;
            if (c.state() == scheduling::v1::COMMITMENT_STATE_ACTIVE) {
              *response->add_commitments() = c;
            }
          }
        } else {
          response->add_missing_parts(v1::ELDER_PAGE_PART_COMMITMENTS);
        }
        if (visits_status.ok()) {
          for (const auto& visit : schedule.visits.visits()) {
            if (IsUpcoming(visit)) AddUpcoming(visit, by_name, response->add_upcoming_visits());
          }
          // The names only when the registry just answered: a registry that is down or slow
          // already cost this page its profile, it should not cost it a second wait.
          if (profile_status.ok()) {
            AddWorkerNames(*registry_, context, who,
                           std::min(backend_timeout_, kWorkerNamesTimeout),
                           *response->mutable_upcoming_visits());
          }
        } else {
          response->add_missing_parts(v1::ELDER_PAGE_PART_UPCOMING_VISITS);
        }
        if (index_status.ok()) {
          *response->mutable_index() = std::move(*index.mutable_index());
        } else {
          response->add_missing_parts(v1::ELDER_PAGE_PART_INDEX);
        }
        if (response->missing_parts_size() == 4) {
          // Nothing at all could be read: say so rather than return an empty page.
          return FromBackend(*context, visits_status, "registry, scheduling and feedback");
        }
        return grpc::Status::OK;
      });
}

grpc::Status ElderAppServiceImpl::ListMyCommitments(grpc::ServerContext* context,
                                                    const v1::ListMyCommitmentsRequest* request,
                                                    v1::ListMyCommitmentsResponse* response) {
  return gate_->Run(
      context, absl::StrCat(kService, "ListMyCommitments"), *request,
      [&](const auth::Principal& who) -> grpc::Status {
        if (request->page_size() < 0) {
          return Reply(*context, InvalidField("page_size", "must not be negative"));
        }
        scheduling::v1::ListCommitmentsRequest backend_request;
        backend_request.set_elder(request->elder());
        backend_request.set_page_size(
            request->page_size() == 0 ? kPageItems : std::min(request->page_size(), 100));
        backend_request.set_page_token(request->page_token());
        scheduling::v1::ListCommitmentsResponse backend_response;
        grpc::Status status = Unary(*scheduling_, &SchedulingStub::PrepareAsyncListCommitments,
                                    BackendContext(context, who, backend_timeout_).get(),
                                    backend_request, &backend_response);
        if (status.ok()) {
          response->mutable_commitments()->Swap(backend_response.mutable_commitments());
          response->set_next_page_token(backend_response.next_page_token());
        }
        return FromBackend(*context, status, "scheduling");
      });
}

grpc::Status ElderAppServiceImpl::ListMyUpcomingVisits(
    grpc::ServerContext* context, const v1::ListMyUpcomingVisitsRequest* request,
    v1::ListMyUpcomingVisitsResponse* response) {
  return gate_->Run(context, absl::StrCat(kService, "ListMyUpcomingVisits"), *request,
                    [&](const auth::Principal& who) -> grpc::Status {
                      absl::StatusOr<int> days = Days(request->days(), "days");
                      if (!days.ok()) return Reply(*context, days.status());
                      const absl::Time now = clock_.Now();
                      // Both calls at once; the fiber waits for the two.
                      ElderSchedule schedule;
                      {
                        AsyncWait wait;
                        schedule.Start(*scheduling_, context, who, backend_timeout_,
                                       request->elder(), now, *days, kMaxUpcoming, wait);
                        wait.Wait();
                      }
                      if (!schedule.visits_status.ok()) {
                        return FromBackend(*context, schedule.visits_status, "scheduling");
                      }
                      std::map<std::string, const scheduling::v1::Commitment*> by_name;
                      if (schedule.promises_status.ok()) {
                        for (const auto& c : schedule.promises.commitments())
                          by_name[c.name()] = &c;
                      }
                      for (const auto& visit : schedule.visits.visits()) {
                        if (IsUpcoming(visit)) AddUpcoming(visit, by_name, response->add_visits());
                      }
                      AddWorkerNames(*registry_, context, who,
                                     std::min(backend_timeout_, kWorkerNamesTimeout),
                                     *response->mutable_visits());
                      return grpc::Status::OK;
                    });
}

grpc::Status ElderAppServiceImpl::ListMyFamily(grpc::ServerContext* context,
                                               const v1::ListMyFamilyRequest* request,
                                               v1::ListMyFamilyResponse* response) {
  return gate_->Run(
      context, absl::StrCat(kService, "ListMyFamily"), *request,
      [&](const auth::Principal& who) -> grpc::Status {
        registry::v1::GetElderRequest backend_request;
        backend_request.set_name(request->elder());  // masked view
        registry::v1::GetElderResponse backend_response;
        grpc::Status status = Unary(*registry_, &RegistryStub::PrepareAsyncGetElder,
                                    BackendContext(context, who, backend_timeout_).get(),
                                    backend_request, &backend_response);
        if (status.ok()) {
          response->mutable_contacts()->Swap(backend_response.mutable_elder()->mutable_contacts());
          for (int i = 0; i < response->contacts_size(); ++i) {
            response->add_contact_names(absl::StrCat(request->elder(), "/contacts/", i));
          }
        }
        return FromBackend(*context, status, "registry");
      });
}

grpc::Status ElderAppServiceImpl::SubmitVisitFeedback(grpc::ServerContext* context,
                                                      const v1::SubmitVisitFeedbackRequest* request,
                                                      v1::SubmitVisitFeedbackResponse* response) {
  return gate_->Run(
      context, absl::StrCat(kService, "SubmitVisitFeedback"), *request,
      [&](const auth::Principal& who) -> grpc::Status {
        feedback::v1::SubmitFeedbackRequest backend_request;
        feedback::v1::Feedback* feedback = backend_request.mutable_feedback();
        if (who.role == auth::Role::kElder) {
          if (!request->proxy_contact().empty()) {
            return Reply(*context, InvalidField("proxy_contact", "only for family members"));
          }
          feedback->set_author(request->elder());
          feedback->set_channel(feedback::v1::FEEDBACK_CHANNEL_APP);
        } else {
          // The proxy must be a contact of the elder the gate admitted the caller for.
          if (!absl::StartsWith(request->proxy_contact(), request->elder() + "/contacts/")) {
            return Reply(*context, InvalidField("proxy_contact",
                                                "must be a contact of the elder, "
                                                "\"elders/{id}/contacts/{index}\""));
          }
          feedback->set_author(request->proxy_contact());
          feedback->set_channel(feedback::v1::FEEDBACK_CHANNEL_PROXY);
        }
        feedback->set_visit(request->visit());
        feedback->set_faces(request->faces());
        feedback->set_did_as_promised(request->did_as_promised());
        feedback->set_felt_cared_for(request->felt_cared_for());
        feedback->set_nobody_came(request->nobody_came());
        feedback->set_words(request->words());
        backend_request.set_request_id(request->request_id());
        return SubmitElderFeedback(*feedback_, context, who, backend_timeout_, backend_request,
                                   response->mutable_feedback());
      });
}

grpc::Status ElderAppServiceImpl::RaiseComplaint(grpc::ServerContext* context,
                                                 const v1::RaiseComplaintRequest* request,
                                                 v1::RaiseComplaintResponse* response) {
  return gate_->Run(context, absl::StrCat(kService, "RaiseComplaint"), *request,
                    [&](const auth::Principal& who) -> grpc::Status {
                      feedback::v1::CreateWorkOrderRequest backend_request;
                      feedback::v1::WorkOrder* order = backend_request.mutable_work_order();
                      order->set_source(feedback::v1::WORK_ORDER_SOURCE_APP);
                      order->set_commitment(request->commitment());
                      order->set_description(request->description());
                      backend_request.set_request_id(request->request_id());
                      return CreateWorkOrder(*feedback_, context, who, backend_timeout_,
                                             backend_request, response->mutable_work_order());
                    });
}

grpc::Status ElderAppServiceImpl::GetMyComplaint(grpc::ServerContext* context,
                                                 const v1::GetMyComplaintRequest* request,
                                                 v1::GetMyComplaintResponse* response) {
  return gate_->Run(
      context, absl::StrCat(kService, "GetMyComplaint"), *request,
      [&](const auth::Principal& who) -> grpc::Status {
        feedback::v1::WorkOrder order;
        grpc::Status status =
            GetWorkOrder(*feedback_, context, who, backend_timeout_, request->name(), &order);
        // Missing, another elder's or a worker's report: one answer, so nobody can probe which
        // work orders exist.
        const auto not_found = [&] {
          return Reply(*context, absl::NotFoundError("no such complaint of this elder"));
        };
        if (status.error_code() == grpc::StatusCode::NOT_FOUND) return not_found();
        if (!status.ok()) return status;
        // A worker's problem report about the elder is staff business, not the family's.
        if (order.elder() != request->elder() ||
            order.source() == feedback::v1::WORK_ORDER_SOURCE_WORKER_APP) {
          return not_found();
        }
        *response->mutable_work_order() = std::move(order);
        return grpc::Status::OK;
      });
}

grpc::Status ElderAppServiceImpl::ListMyComplaints(grpc::ServerContext* context,
                                                   const v1::ListMyComplaintsRequest* request,
                                                   v1::ListMyComplaintsResponse* response) {
  return gate_->Run(
      context, absl::StrCat(kService, "ListMyComplaints"), *request,
      [&](const auth::Principal& who) -> grpc::Status {
        if (request->page_size() < 0) {
          return Reply(*context, InvalidField("page_size", "must not be negative"));
        }
        feedback::v1::ListWorkOrdersRequest backend_request;
        backend_request.set_elder(request->elder());  // checked by the gate: the caller's elder
        backend_request.set_state(request->state());
        backend_request.set_page_size(
            request->page_size() == 0 ? 20 : std::min(request->page_size(), 50));
        backend_request.set_page_token(request->page_token());
        feedback::v1::ListWorkOrdersResponse backend_response;
        grpc::Status status = Unary(*feedback_, &FeedbackStub::PrepareAsyncListWorkOrders,
                                    BackendContext(context, who, backend_timeout_).get(),
                                    backend_request, &backend_response);
        if (status.ok()) {
          // Workers' problem reports (source WORKER_APP) are for staff: a page may hold fewer
          // than page_size complaints because of them.
          for (auto& order : *backend_response.mutable_work_orders()) {
            if (order.source() == feedback::v1::WORK_ORDER_SOURCE_WORKER_APP) continue;
            *response->add_work_orders() = std::move(order);
          }
          response->set_next_page_token(backend_response.next_page_token());
        }
        return FromBackend(*context, status, "feedback");
      });
}

}  // namespace linli::gateway

namespace linli::gateway {
namespace {

// One long read of the stream waits this long for a notice (a client that went away is noticed
// within it), and a stream lasts at most kMaxWatch (the app opens it again from its last
// sequence).
constexpr int kNoticeWaitSeconds = 10;
constexpr absl::Duration kMaxWatch = absl::Minutes(30);
constexpr int kWatchPage = 100;

}  // namespace

grpc::Status ElderAppServiceImpl::ListMyNotices(grpc::ServerContext* context,
                                                const v1::ListMyNoticesRequest* request,
                                                feedback::v1::ListNoticesResponse* response) {
  return gate_->Run(context, absl::StrCat(kService, "ListMyNotices"), *request,
                    [&](const auth::Principal& who) {
                      return ReadInbox(*feedback_, context, who, backend_timeout_,
                                       request->elder(),  // checked by the gate
                                       *request, response);
                    });
}

grpc::Status ElderAppServiceImpl::MarkMyNoticesRead(
    grpc::ServerContext* context, const v1::MarkMyNoticesReadRequest* request,
    feedback::v1::MarkNoticesReadResponse* response) {
  return gate_->Run(context, absl::StrCat(kService, "MarkMyNoticesRead"), *request,
                    [&](const auth::Principal& who) -> grpc::Status {
                      feedback::v1::MarkNoticesReadRequest backend_request;
                      backend_request.set_recipient(request->elder());  // checked by the gate
                      *backend_request.mutable_names() = request->names();
                      backend_request.set_up_to_sequence(request->up_to_sequence());
                      grpc::Status status =
                          Unary(*feedback_, &FeedbackStub::PrepareAsyncMarkNoticesRead,
                                BackendContext(context, who, backend_timeout_).get(),
                                backend_request, response);
                      return FromBackend(*context, status, "feedback");
                    });
}

grpc::Status ElderAppServiceImpl::WatchMyNoticesOnLoop(
    grpc::ServerContext* context, const v1::WatchMyNoticesRequest* request,
    ResponseStream<feedback::v1::Notice>* stream) {
  return gate_->Run(
      context, absl::StrCat(kService, "WatchMyNotices"), *request,
      [&](const auth::Principal& who) -> grpc::Status {
        if (request->after_sequence() < 0) {
          return Reply(*context, InvalidField("after_sequence", "must not be negative"));
        }
        // Through the HTTP port a stream holds one of its threads while it lasts.
        const BridgedWaitSlot slot(*context);
        if (!slot.may_wait()) {
          return Reply(*context, absl::ResourceExhaustedError(
                                     "too many notice streams are open through the HTTP port: "
                                     "read ListMyNotices with wait_seconds, or try again later"));
        }
        int64_t cursor = request->after_sequence();
        if (cursor == 0) {
          // Only what comes from now on: start after the newest notice there is.
          feedback::v1::ListNoticesRequest newest;
          newest.set_recipient(request->elder());
          newest.set_newest_first(true);
          newest.set_page_size(1);
          feedback::v1::ListNoticesResponse page;
          grpc::Status status =
              Unary(*feedback_, &FeedbackStub::PrepareAsyncListNotices,
                    BackendContext(context, who, backend_timeout_).get(), newest, &page);
          if (!status.ok()) return FromBackend(*context, status, "feedback");
          if (page.notices_size() > 0) cursor = page.notices(0).sequence();
        }
        const Stopwatch open;
        while (!context->IsCancelled() && open.Elapsed() < kMaxWatch) {
          feedback::v1::ListNoticesRequest next;
          next.set_recipient(request->elder());  // checked by the gate
          next.set_after_sequence(cursor);
          next.set_page_size(kWatchPage);
          next.set_wait_seconds(kNoticeWaitSeconds);
          feedback::v1::ListNoticesResponse page;
          grpc::Status status = Unary(
              *feedback_, &FeedbackStub::PrepareAsyncListNotices,
              BackendContext(context, who, backend_timeout_ + absl::Seconds(kNoticeWaitSeconds))
                  .get(),
              next, &page);
          if (!status.ok()) return FromBackend(*context, status, "feedback");
          for (const feedback::v1::Notice& notice : page.notices()) {
            if (!stream->Write(notice)) return grpc::Status::OK;  // the client has gone
            cursor = notice.sequence();
          }
        }
        return grpc::Status::OK;
      });
}

grpc::Status ElderAppServiceImpl::CheckMyVisit(grpc::ServerContext* context,
                                               const auth::Principal& who, const std::string& elder,
                                               const std::string& visit, const char* field) {
  // Authorisation follows the visit read, not the name given.
  scheduling::v1::GetVisitRequest get;
  get.set_name(visit);
  scheduling::v1::GetVisitResponse got;
  grpc::Status status = Unary(*scheduling_, &SchedulingStub::PrepareAsyncGetVisit,
                              BackendContext(context, who, backend_timeout_).get(), get, &got);
  if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
    return Reply(*context, InvalidField(field, "must look like \"visits/ID\""));
  }
  if (!status.ok()) return FromBackend(*context, status, "scheduling");
  if (got.visit().elder() != elder) return Reply(*context, NotFound(visit));
  return grpc::Status::OK;
}

grpc::Status ElderAppServiceImpl::MakeUpMyVisit(grpc::ServerContext* context,
                                                const v1::MakeUpMyVisitRequest* request,
                                                scheduling::v1::MakeUpVisitResponse* response) {
  return gate_->Run(
      context, absl::StrCat(kService, "MakeUpMyVisit"), *request,
      [&](const auth::Principal& who) -> grpc::Status {
        grpc::Status status =
            CheckMyVisit(context, who, request->elder(), request->missed_visit(), "missed_visit");
        if (!status.ok()) return status;
        scheduling::v1::MakeUpVisitRequest make_up;
        make_up.set_missed_visit(request->missed_visit());
        make_up.set_dry_run(request->dry_run());
        if (request->has_window_start()) *make_up.mutable_window_start() = request->window_start();
        make_up.set_request_id(request->request_id());
        status = Unary(*scheduling_, &SchedulingStub::PrepareAsyncMakeUpVisit,
                       BackendContext(context, who, backend_timeout_).get(), make_up, response);
        return FromBackend(*context, status, "scheduling");
      });
}

grpc::Status ElderAppServiceImpl::DeclineMyMakeUp(grpc::ServerContext* context,
                                                  const v1::DeclineMyMakeUpRequest* request,
                                                  scheduling::v1::DeclineMakeUpResponse* response) {
  return gate_->Run(
      context, absl::StrCat(kService, "DeclineMyMakeUp"), *request,
      [&](const auth::Principal& who) -> grpc::Status {
        grpc::Status status =
            CheckMyVisit(context, who, request->elder(), request->missed_visit(), "missed_visit");
        if (!status.ok()) return status;
        scheduling::v1::DeclineMakeUpRequest decline;
        decline.set_missed_visit(request->missed_visit());
        decline.set_reason(request->reason());
        decline.set_request_id(request->request_id());
        status = Unary(*scheduling_, &SchedulingStub::PrepareAsyncDeclineMakeUp,
                       BackendContext(context, who, backend_timeout_).get(), decline, response);
        return FromBackend(*context, status, "scheduling");
      });
}

grpc::Status ElderAppServiceImpl::GetMyNoticePreferences(
    grpc::ServerContext* context, const v1::GetMyNoticePreferencesRequest* request,
    feedback::v1::GetNoticePreferencesResponse* response) {
  return gate_->Run(context, absl::StrCat(kService, "GetMyNoticePreferences"), *request,
                    [&](const auth::Principal& who) -> grpc::Status {
                      feedback::v1::GetNoticePreferencesRequest backend_request;
                      backend_request.set_recipient(request->elder());  // checked by the gate
                      grpc::Status status =
                          Unary(*feedback_, &FeedbackStub::PrepareAsyncGetNoticePreferences,
                                BackendContext(context, who, backend_timeout_).get(),
                                backend_request, response);
                      return FromBackend(*context, status, "feedback");
                    });
}

grpc::Status ElderAppServiceImpl::SetMyNoticePreferences(
    grpc::ServerContext* context, const v1::SetMyNoticePreferencesRequest* request,
    feedback::v1::SetNoticePreferencesResponse* response) {
  return gate_->Run(
      context, absl::StrCat(kService, "SetMyNoticePreferences"), *request,
      [&](const auth::Principal& who) -> grpc::Status {
        const std::string& recipient = request->preferences().recipient();
        if (!recipient.empty() && recipient != request->elder()) {
          return Reply(*context, InvalidField("preferences.recipient",
                                              "must be the elder named in `elder`, or empty"));
        }
        feedback::v1::SetNoticePreferencesRequest backend_request;
        *backend_request.mutable_preferences() = request->preferences();
        backend_request.mutable_preferences()->set_recipient(request->elder());  // gate-checked
        grpc::Status status =
            Unary(*feedback_, &FeedbackStub::PrepareAsyncSetNoticePreferences,
                  BackendContext(context, who, backend_timeout_).get(), backend_request, response);
        return FromBackend(*context, status, "feedback");
      });
}

}  // namespace linli::gateway
