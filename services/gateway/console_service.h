// The committee and street console API (linli.gateway.v1.ConsoleService): every call passes the
// gate (authentication, rate limit, the method's authorisation rule); then it validates nothing
// itself that a backend owns, forwards with the caller's deadline, request id and principal (as
// x-linli-actor), caps page sizes, and returns the backend's status (with its details) unchanged.
#ifndef LINLI_SERVICES_GATEWAY_CONSOLE_SERVICE_H_
#define LINLI_SERVICES_GATEWAY_CONSOLE_SERVICE_H_

#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/client.h"
#include "common/roster/roster.h"
#include "common/server.h"
#include "linli/feedback/v1/feedback.grpc.pb.h"
#include "linli/gateway/v1/console.grpc.pb.h"
#include "linli/registry/v1/registry.grpc.pb.h"
#include "linli/scheduling/v1/scheduling.grpc.pb.h"
#include "services/gateway/event_loop.h"
#include "services/gateway/gate.h"

namespace linli::gateway {

// A backend that cannot be reached becomes UNAVAILABLE with a reason clients can act on (retry
// later), whatever transport text gRPC produced; other statuses pass through unchanged.
grpc::Status FromBackend(const grpc::ServerContext& context, const grpc::Status& status,
                         const char* backend);

// A page of `recipient`'s notices for an app reading its own inbox (the elder app's and the
// partner API's ListMyNotices; `app` has their after_sequence, newest_first, before_sequence,
// unread_only, page_size and wait_seconds), on behalf of `who`; the wait is made safe for the JSON
// bridge (NoticeWait) and added to the deadline. Statuses as FromBackend.
template <typename AppRequest>
grpc::Status ReadInbox(FeedbackStub& feedback, grpc::ServerContext* context,
                       const auth::Principal& who, absl::Duration timeout,
                       const std::string& recipient, const AppRequest& app,
                       feedback::v1::ListNoticesResponse* response) {
  feedback::v1::ListNoticesRequest request;
  request.set_recipient(recipient);
  request.set_after_sequence(app.after_sequence());
  request.set_newest_first(app.newest_first());
  request.set_before_sequence(app.before_sequence());
  request.set_unread_only(app.unread_only());
  request.set_page_size(app.page_size());
  const NoticeWait wait(*context, app.wait_seconds());
  request.set_wait_seconds(wait.wait_seconds());  // feedback checks 0-30
  const grpc::Status status =
      Unary(feedback, &FeedbackStub::PrepareAsyncListNotices,
            BackendContext(context, who, timeout + wait.extra_deadline()).get(), request, response);
  return FromBackend(*context, status, "feedback");
}

// Work orders as the elder app and the partner API create and read them in feedback, on behalf of
// `who` (BackendContext with `timeout`); the order in `out` when OK, statuses as FromBackend.
grpc::Status CreateWorkOrder(FeedbackStub& feedback, const grpc::ServerContext* context,
                             const auth::Principal& who, absl::Duration timeout,
                             const feedback::v1::CreateWorkOrderRequest& request,
                             feedback::v1::WorkOrder* out);
// An elder's answer about one of their visits, submitted on behalf of `who`: an author the visit
// does not know (the visit is not the elder's, or the contact is no proxy) becomes NOT_FOUND,
// which tells nothing of whose visit it is; the recorded answer in `out` when OK.
grpc::Status SubmitElderFeedback(FeedbackStub& feedback, const grpc::ServerContext* context,
                                 const auth::Principal& who, absl::Duration timeout,
                                 const feedback::v1::SubmitFeedbackRequest& request,
                                 feedback::v1::Feedback* out);
grpc::Status GetWorkOrder(FeedbackStub& feedback, const grpc::ServerContext* context,
                          const auth::Principal& who, absl::Duration timeout,
                          const std::string& name, feedback::v1::WorkOrder* out);

// The largest page the gateway asks a backend for; larger requested sizes are capped to it.
inline constexpr int kMaxPageSize = 200;

// Workers' home and base locations are personal data: everyone but admins sees them rounded to
// this many decimals of a degree (0.01°, about 1 km), enough to see which part of the street a
// worker starts from, not where they live.
inline constexpr int kStaffWorkerLocationDecimals = 2;

// `point` with latitude and longitude rounded to `decimals` decimals of a degree.
common::v1::LatLng CoarsenLocation(const common::v1::LatLng& point, int decimals);
// `worker` as `who` may see it: the base location coarsened for anyone but admins.
void CoarsenForStaff(const auth::Principal& who, registry::v1::Worker& worker);

// A list request for staff who named no region (`named` false) asks for their own region: the
// rule has admitted a region in scope if one is named, and for staff the request is never
// unbounded, so the rows, not the organisation or filter named, decide what a list shows.
// Admins' requests are left as they are (every region).
template <typename Request>
Request InOwnRegionUnlessNamed(const Request& request, const auth::Principal& who, bool named) {
  Request scoped = request;
  if (who.role != auth::Role::kAdmin && !named) {
    scoped.set_region(absl::StrCat("regions/", who.region));
  }
  return scoped;
}

class ConsoleServiceImpl final : public v1::ConsoleService::Service, private GatewayService {
 public:
  explicit ConsoleServiceImpl(const Backends& backends) : GatewayService(backends) {}

  grpc::Status CreateRegion(grpc::ServerContext* context, const v1::CreateRegionRequest* request,
                            v1::CreateRegionResponse* response) override;
  grpc::Status GetRegion(grpc::ServerContext* context, const v1::GetRegionRequest* request,
                         v1::GetRegionResponse* response) override;
  grpc::Status ListRegions(grpc::ServerContext* context, const v1::ListRegionsRequest* request,
                           v1::ListRegionsResponse* response) override;

  // Registry and scheduling reads exposed unchanged.
#define LINLI_FORWARD(member, package, ServiceClass, Method)                                     \
  grpc::Status Method(grpc::ServerContext* context, const package::v1::Method##Request* request, \
                      package::v1::Method##Response* response) override {                        \
    return gate_->Run(context, "/linli.gateway.v1.ConsoleService/" #Method, *request,            \
                      [&](const auth::Principal& who) {                                          \
                        return Forward(                                                          \
                            context, who, member.get(),                                          \
                            &package::v1::ServiceClass::StubInterface::PrepareAsync##Method,     \
                            *request, response, #package);                                       \
                      });                                                                        \
  }
  LINLI_FORWARD(registry_, registry, RegistryService, GetMap)
  LINLI_FORWARD(registry_, registry, RegistryService, SearchProviders)
  LINLI_FORWARD(registry_, registry, RegistryService, ListLines)
  LINLI_FORWARD(registry_, registry, RegistryService, ListOrganisations)
  LINLI_FORWARD(registry_, registry, RegistryService, GetOrganisation)
  LINLI_FORWARD(registry_, registry, RegistryService, ListRelations)
  LINLI_FORWARD(registry_, registry, RegistryService, ListServiceTypes)
  LINLI_FORWARD(registry_, registry, RegistryService, ListOfferings)
  LINLI_FORWARD(registry_, registry, RegistryService, ListElders)
  LINLI_FORWARD(registry_, registry, RegistryService, GetElder)
  LINLI_FORWARD(registry_, registry, RegistryService, ListAuditEntries)
  LINLI_FORWARD(registry_, registry, RegistryService, CreateOrganisation)
  LINLI_FORWARD(registry_, registry, RegistryService, CreateRelation)
  LINLI_FORWARD(registry_, registry, RegistryService, CreateServiceType)
  LINLI_FORWARD(registry_, registry, RegistryService, CreateOffering)
  LINLI_FORWARD(registry_, registry, RegistryService, UpdateOffering)
  LINLI_FORWARD(registry_, registry, RegistryService, CreateWorker)
  LINLI_FORWARD(registry_, registry, RegistryService, UpdateOrganisation)
  LINLI_FORWARD(registry_, registry, RegistryService, RetireOrganisation)
  LINLI_FORWARD(registry_, registry, RegistryService, UpdateElder)
  LINLI_FORWARD(registry_, registry, RegistryService, RecordConsent)
  LINLI_FORWARD(registry_, registry, RegistryService, RetireRelation)
  LINLI_FORWARD(registry_, registry, RegistryService, RetireOffering)
  LINLI_FORWARD(registry_, registry, RegistryService, UpdateServiceType)
  LINLI_FORWARD(registry_, registry, RegistryService, RetireServiceType)
  LINLI_FORWARD(scheduling_, scheduling, SchedulingService, GetCommitment)
  LINLI_FORWARD(scheduling_, scheduling, SchedulingService, ProposeFallback)
  LINLI_FORWARD(scheduling_, scheduling, SchedulingService, CreateReferral)
  LINLI_FORWARD(scheduling_, scheduling, SchedulingService, ListCommitments)
  LINLI_FORWARD(scheduling_, scheduling, SchedulingService, ListVisits)
  LINLI_FORWARD(feedback_, feedback, FeedbackService, GetPerceptionIndex)
  LINLI_FORWARD(feedback_, feedback, FeedbackService, GetPromiseLedger)
  LINLI_FORWARD(feedback_, feedback, FeedbackService, GetPerceptionTrend)
  LINLI_FORWARD(feedback_, feedback, FeedbackService, ListVisitsAwaitingAnswer)

  // Writes whose request the method's rule (authz_rules.cc) checks completely, and sweeps.
  LINLI_FORWARD(scheduling_, scheduling, SchedulingService, CreateCommitment)
  LINLI_FORWARD(scheduling_, scheduling, SchedulingService, CancelCommitment)
  LINLI_FORWARD(scheduling_, scheduling, SchedulingService, MaterializeVisits)
  LINLI_FORWARD(scheduling_, scheduling, SchedulingService, SweepMissedVisits)
  LINLI_FORWARD(feedback_, feedback, FeedbackService, SweepAlerts)
  // Notices and webhooks of a recipient the rule checked (feedback refuses a webhook or a
  // delivery of another recipient as NOT_FOUND).
  LINLI_FORWARD(feedback_, feedback, FeedbackService, ListNotices)
  LINLI_FORWARD(feedback_, feedback, FeedbackService, MarkNoticesRead)
  LINLI_FORWARD(feedback_, feedback, FeedbackService, ListUnreachedElders)
  LINLI_FORWARD(feedback_, feedback, FeedbackService, GetNoticePreferences)
  LINLI_FORWARD(feedback_, feedback, FeedbackService, SetNoticePreferences)
  LINLI_FORWARD(feedback_, feedback, FeedbackService, CreateWebhook)
  LINLI_FORWARD(feedback_, feedback, FeedbackService, ListWebhooks)
  LINLI_FORWARD(feedback_, feedback, FeedbackService, DeleteWebhook)
  LINLI_FORWARD(feedback_, feedback, FeedbackService, ListWebhookDeliveries)
  LINLI_FORWARD(feedback_, feedback, FeedbackService, RetryWebhookDelivery)
#undef LINLI_FORWARD

  // Workers of an organisation in scope (the rule), their base locations coarsened to
  // kStaffWorkerLocationDecimals for anyone but admins: where a worker's route starts is often
  // their home. (The planner reads the exact locations from the registry, not through here.)
  grpc::Status ListWorkers(grpc::ServerContext* context,
                           const registry::v1::ListWorkersRequest* request,
                           registry::v1::ListWorkersResponse* response) override;
  // Work orders about elders of the caller's region (or of the region named, when it is in
  // scope), whichever organisation is responsible: feedback filters the rows (and pages) by
  // ListWorkOrdersRequest.region. Admins: as asked.
  grpc::Status ListWorkOrders(grpc::ServerContext* context,
                              const feedback::v1::ListWorkOrdersRequest* request,
                              feedback::v1::ListWorkOrdersResponse* response) override;
  // Alerts of what the request names (the rule checked each), or with nothing named of the
  // caller's own region (admins must name one).
  grpc::Status ListAlerts(grpc::ServerContext* context,
                          const feedback::v1::ListAlertsRequest* request,
                          feedback::v1::ListAlertsResponse* response) override;
  // The promises of the region named (the rule checked it), or of the caller's own region.
  // A phone or family-proxy check of a visit in scope, recorded by staff (scheduling keeps the
  // caller as recorded_by).
  grpc::Status RecordVisitCheck(grpc::ServerContext* context,
                                const v1::RecordVisitCheckRequest* request,
                                v1::RecordVisitCheckResponse* response) override;
  // Unmet needs of the region named (the rule checked it), or of the caller's own region.
  grpc::Status ListUnmetNeeds(grpc::ServerContext* context,
                              const scheduling::v1::ListUnmetNeedsRequest* request,
                              scheduling::v1::ListUnmetNeedsResponse* response) override;
  // Referrals of the region named (the rule checked it), or of the caller's own region.
  grpc::Status ListReferrals(grpc::ServerContext* context,
                             const scheduling::v1::ListReferralsRequest* request,
                             scheduling::v1::ListReferralsResponse* response) override;
  grpc::Status ListPromises(grpc::ServerContext* context,
                            const feedback::v1::ListPromisesRequest* request,
                            feedback::v1::ListPromisesResponse* response) override;
  // The review queue of the region named (the rule checked it), or of the caller's own region.
  grpc::Status ListVisitsAwaitingReview(
      grpc::ServerContext* context, const feedback::v1::ListVisitsAwaitingReviewRequest* request,
      feedback::v1::ListVisitsAwaitingReviewResponse* response) override;
  // The day board of the region named (the rule checked it), or of the caller's own region.
  grpc::Status GetDayBoard(grpc::ServerContext* context,
                           const feedback::v1::GetDayBoardRequest* request,
                           feedback::v1::GetDayBoardResponse* response) override;
  // The elders' words of the region or elder named (the rule checked them), or of the caller's
  // own region.
  grpc::Status ListFeedback(grpc::ServerContext* context,
                            const feedback::v1::ListFeedbackRequest* request,
                            feedback::v1::ListFeedbackResponse* response) override;
  // An elder's answer taken by phone or at the door (the rule checked the elder): only those two
  // channels; feedback records the caller as recorded_by.
  grpc::Status RecordElderFeedback(grpc::ServerContext* context,
                                   const feedback::v1::SubmitFeedbackRequest* request,
                                   feedback::v1::SubmitFeedbackResponse* response) override;
  // A complaint filed by staff for an elder (the rule checked the commitment): the source is
  // always WORK_ORDER_SOURCE_STAFF.
  grpc::Status FileWorkOrder(grpc::ServerContext* context,
                             const feedback::v1::CreateWorkOrderRequest* request,
                             feedback::v1::CreateWorkOrderResponse* response) override;
  // Plan as the rule allows; the problem returned with include_problem has the workers' bases
  // coarsened as in ListWorkers for anyone but admins.
  grpc::Status Plan(grpc::ServerContext* context, const scheduling::v1::PlanRequest* request,
                    scheduling::v1::PlanResponse* response) override;

  // Feedback's audit log (reads of the elders' words) under a name of its own.
  grpc::Status ListFeedbackAuditEntries(grpc::ServerContext* context,
                                        const feedback::v1::ListAuditEntriesRequest* request,
                                        feedback::v1::ListAuditEntriesResponse* response) override {
    return gate_->Run(
        context, "/linli.gateway.v1.ConsoleService/ListFeedbackAuditEntries", *request,
        [&](const auth::Principal& who) {
          return Forward(
              context, who, feedback_.get(),
              &feedback::v1::FeedbackService::StubInterface::PrepareAsyncListAuditEntries, *request,
              response, "feedback");
        });
  }
  // Scheduling's audit log (reads of visit notes) under a name of its own beside the registry's.
  grpc::Status ListNoteAuditEntries(grpc::ServerContext* context,
                                    const scheduling::v1::ListAuditEntriesRequest* request,
                                    scheduling::v1::ListAuditEntriesResponse* response) override {
    return gate_->Run(
        context, "/linli.gateway.v1.ConsoleService/ListNoteAuditEntries", *request,
        [&](const auth::Principal& who) {
          return Forward(
              context, who, scheduling_.get(),
              &scheduling::v1::SchedulingService::StubInterface::PrepareAsyncListAuditEntries,
              *request, response, "scheduling");
        });
  }

  // A worker of an organisation of the caller's region (committee staff: a volunteer, who stays
  // one), resolved from the stored worker; the base location in the reply coarsened as in
  // ListWorkers.
  grpc::Status UpdateWorker(grpc::ServerContext* context,
                            const registry::v1::UpdateWorkerRequest* request,
                            registry::v1::UpdateWorkerResponse* response) override;
  // The registry's RetireElder (the rule checked the elder), then every active promise of the
  // elder cancelled with a fixed reason naming the status and date (no free text about the elder
  // reaches scheduling). Each step is idempotent, so a retry after a failure finishes the job.
  grpc::Status RetireElder(grpc::ServerContext* context,
                           const registry::v1::RetireElderRequest* request,
                           v1::RetireElderResponse* response) override;

  // A roster file read here (encoding, CSV, columns: common/roster), its rows checked and
  // imported in one call (the registry's ImportElders, or ImportRecords for the map's rosters;
  // scheduling's ImportCommitments for care promises) inside the caller's region (admins:
  // anywhere); the file's problems and the registry's merged
  // by line, with their columns and Chinese reasons. A row the file cannot be read for (or a row
  // of staff from committee staff) makes the registry call a dry run unless skip_bad_rows, so
  // that nothing is written from a roster with a bad row. (console_roster.cc)
  grpc::Status ImportRoster(grpc::ServerContext* context, const v1::ImportRosterRequest* request,
                            v1::ImportRosterResponse* response) override;

  // The registry's List calls, page by page under the caller's name (so masked as the caller
  // sees it; workers' bases coarsened as in ListWorkers), written by common/roster as CSV or a
  // workbook. Relations, offerings and workers are listed per organisation of the region; care
  // promises per elder of the region (scheduling's ListCommitments; active ones only, of the
  // `organisation` when named), each naming its elder by the ID number ListElders shows.
  grpc::Status ExportRoster(grpc::ServerContext* context, const v1::ExportRosterRequest* request,
                            v1::ExportRosterResponse* response) override;

  // Registry CreateElder under the console's name (the rule checks the elder's committee).
  grpc::Status RegisterElder(grpc::ServerContext* context,
                             const registry::v1::CreateElderRequest* request,
                             registry::v1::CreateElderResponse* response) override;

  // Methods naming visits, workers, alerts or work orders: the gate checks the role, then the
  // handler resolves each named thing to its elder, organisation or committee (one backend read
  // each) and checks it with the gate's Relations before forwarding.
#define LINLI_FORWARD_SCOPED(member, package, ServiceClass, Method)                               \
  grpc::Status Method(grpc::ServerContext* context, const package::v1::Method##Request* request,  \
                      package::v1::Method##Response* response) override {                         \
    return gate_->Run(context, "/linli.gateway.v1.ConsoleService/" #Method, *request,             \
                      [&](const auth::Principal& who) -> grpc::Status {                           \
                        if (absl::Status scope = InScope(*context, who, *request); !scope.ok()) { \
                          return Reply(*context, scope);                                          \
                        }                                                                         \
                        return Forward(                                                           \
                            context, who, member.get(),                                           \
                            &package::v1::ServiceClass::StubInterface::PrepareAsync##Method,      \
                            *request, response, #package);                                        \
                      });                                                                         \
  }
  LINLI_FORWARD_SCOPED(scheduling_, scheduling, SchedulingService, GetVisit)
  LINLI_FORWARD_SCOPED(scheduling_, scheduling, SchedulingService, AssignVisit)
  LINLI_FORWARD_SCOPED(scheduling_, scheduling, SchedulingService, UnassignVisit)
  LINLI_FORWARD_SCOPED(scheduling_, scheduling, SchedulingService, SwapVisitWorkers)
  LINLI_FORWARD_SCOPED(scheduling_, scheduling, SchedulingService, CancelVisit)
  LINLI_FORWARD_SCOPED(scheduling_, scheduling, SchedulingService, ReviewVisit)
  LINLI_FORWARD_SCOPED(scheduling_, scheduling, SchedulingService, RescheduleVisit)
  LINLI_FORWARD_SCOPED(scheduling_, scheduling, SchedulingService, ReleaseWorker)
  LINLI_FORWARD_SCOPED(scheduling_, scheduling, SchedulingService, MakeUpVisit)
  LINLI_FORWARD_SCOPED(scheduling_, scheduling, SchedulingService, DeclineMakeUp)
  LINLI_FORWARD_SCOPED(scheduling_, scheduling, SchedulingService, WithdrawReferral)
  LINLI_FORWARD_SCOPED(feedback_, feedback, FeedbackService, GetAlert)
  LINLI_FORWARD_SCOPED(feedback_, feedback, FeedbackService, AcknowledgeAlert)
  LINLI_FORWARD_SCOPED(feedback_, feedback, FeedbackService, ResolveAlert)
  LINLI_FORWARD_SCOPED(feedback_, feedback, FeedbackService, GetWorkOrder)
  LINLI_FORWARD_SCOPED(feedback_, feedback, FeedbackService, ClassifyWorkOrder)
  LINLI_FORWARD_SCOPED(feedback_, feedback, FeedbackService, RouteWorkOrder)
  LINLI_FORWARD_SCOPED(feedback_, feedback, FeedbackService, ResolveWorkOrder)
  LINLI_FORWARD_SCOPED(feedback_, feedback, FeedbackService, RecordCallback)
  LINLI_FORWARD_SCOPED(feedback_, feedback, FeedbackService, CloseWorkOrder)
#undef LINLI_FORWARD_SCOPED

 private:
  // ImportRoster's rows of care promises (console_roster.cc): each row's elder found by its ID
  // number within the caller's region (RegistryService.FindEldersByIdNumber, audited), its owner
  // organisation checked as CreateCommitment's rule checks it, then SchedulingService.
  // ImportCommitments (a dry run when `problems` holds any and not `skip_bad_rows`). Rows refused
  // here join `problems`; the counts go to `response`.
  grpc::Status ImportCommitmentRows(grpc::ServerContext* context, const auth::Principal& who,
                                    std::vector<roster::Row>& rows, bool dry_run,
                                    bool skip_bad_rows,
                                    std::vector<common::v1::RowProblem>& problems,
                                    v1::ImportRosterResponse* response);
  // ImportRoster's rows of past visits (console_roster.cc), as ImportCommitmentRows: each row's
  // elder and owner found and checked the same way, its workers found by phone among the owner's
  // (RegistryService.FindWorkersByPhone, audited), then SchedulingService.ImportVisits, which
  // finds the promise by elder, service type and owner and replays the visit by the live rules.
  grpc::Status ImportVisitRows(grpc::ServerContext* context, const auth::Principal& who,
                               std::vector<roster::Row>& rows, bool dry_run, bool skip_bad_rows,
                               std::vector<common::v1::RowProblem>& problems,
                               v1::ImportRosterResponse* response);
  // ImportRoster's rows of elders' past answers (console_roster.cc): each row's elder and owner
  // as ImportVisitRows, its visit found among the elder's visits by that owner within a week of
  // the planned day (SchedulingService.ListVisits: the service type and planned time, a
  // completed one first), then FeedbackService.
  // ImportFeedback with the elder as author (a phone call when the file names no channel).
  grpc::Status ImportAnswerRows(grpc::ServerContext* context, const auth::Principal& who,
                                std::vector<roster::Row>& rows, bool dry_run, bool skip_bad_rows,
                                std::vector<common::v1::RowProblem>& problems,
                                v1::ImportRosterResponse* response);
  // Per row, the name of the elder registered under the row's ID number (`id_number` reads it
  // from the row's record) within the caller's region, or "" (RegistryService.
  // FindEldersByIdNumber, each elder found audited for `reason`); `status` says whether the
  // registry answered.
  std::vector<std::string> RowElders(
      grpc::ServerContext* context, const auth::Principal& who,
      const std::vector<roster::Row>& rows,
      const std::string& (*id_number)(const google::protobuf::Message&), const char* reason,
      grpc::Status* status);
  // Whether a roster row at `line` names an elder found in the caller's region (`elder` not
  // empty) and an owner the caller may name (CreateCommitment's rule, asked once per owner and
  // kept in `owners`); when not, the row's problem joins `problems` under `record`'s fields
  // ("visit.elder"). UNAVAILABLE when the registry cannot be asked.
  absl::StatusOr<bool> RowPasses(grpc::ServerContext* context, const auth::Principal& who, int line,
                                 const std::string& elder, const std::string& owner,
                                 const char* record, std::map<std::string, absl::Status>& owners,
                                 std::vector<common::v1::RowProblem>& problems);
  // Sends a roster's rows to a backend's import method (a dry run with `dry_run`, or when
  // `problems` holds any and not `skip_bad_rows`; nothing when there are no rows) and takes its
  // counts into `response`, its problems into `problems`.
  template <typename Stub, typename Prepare, typename Request, typename Response>
  grpc::Status ImportAtBackend(grpc::ServerContext* context, const auth::Principal& who, Stub* stub,
                               Prepare prepare, Request& rows, Response* imported,
                               const char* backend, bool dry_run, bool skip_bad_rows,
                               std::vector<common::v1::RowProblem>& problems,
                               v1::ImportRosterResponse* response) {
    if (rows.rows().empty()) return grpc::Status::OK;
    rows.set_dry_run(dry_run || (!problems.empty() && !skip_bad_rows));
    rows.set_skip_bad_rows(skip_bad_rows);
    grpc::Status status = Forward(context, who, stub, prepare, rows, imported, backend);
    if (!status.ok()) return status;
    response->set_created(imported->created());
    response->set_existing(imported->existing());
    response->set_written(imported->written());
    problems.insert(problems.end(), imported->problems().begin(), imported->problems().end());
    return grpc::Status::OK;
  }
  // Region scope of what a request names (admins: everything). PERMISSION_DENIED outside the
  // caller's region or when nothing of the right kind is named, NOT_FOUND when it does not exist,
  // UNAVAILABLE when the backend holding it cannot be asked.
  absl::Status VisitInScope(const grpc::ServerContext& context, const auth::Principal& who,
                            const std::string& visit) const;
  // `strict`: the worker's organisation must lie inside the caller's region (releasing a worker
  // touches every committee they serve); otherwise an organisation of a region above the
  // caller's (a street's, for committee staff) also passes.
  absl::Status WorkerInScope(const grpc::ServerContext& context, const auth::Principal& who,
                             const std::string& worker, bool strict) const;
  // A referral's elder must be in scope.
  absl::Status ReferralInScope(const grpc::ServerContext& context, const auth::Principal& who,
                               const std::string& referral) const;
  absl::Status AlertInScope(const grpc::ServerContext& context, const auth::Principal& who,
                            const std::string& alert) const;
  absl::Status WorkOrderInScope(const grpc::ServerContext& context, const auth::Principal& who,
                                const std::string& work_order) const;
  absl::Status InScope(const grpc::ServerContext& c, const auth::Principal& who,
                       const scheduling::v1::GetVisitRequest& q) const {
    return VisitInScope(c, who, q.name());
  }
  absl::Status InScope(const grpc::ServerContext& c, const auth::Principal& who,
                       const scheduling::v1::AssignVisitRequest& q) const;
  absl::Status InScope(const grpc::ServerContext& c, const auth::Principal& who,
                       const scheduling::v1::UnassignVisitRequest& q) const {
    return VisitInScope(c, who, q.name());
  }
  absl::Status InScope(const grpc::ServerContext& c, const auth::Principal& who,
                       const scheduling::v1::SwapVisitWorkersRequest& q) const;
  absl::Status InScope(const grpc::ServerContext& c, const auth::Principal& who,
                       const scheduling::v1::CancelVisitRequest& q) const {
    return VisitInScope(c, who, q.name());
  }
  absl::Status InScope(const grpc::ServerContext& c, const auth::Principal& who,
                       const scheduling::v1::ReviewVisitRequest& q) const {
    return VisitInScope(c, who, q.name());
  }
  absl::Status InScope(const grpc::ServerContext& c, const auth::Principal& who,
                       const scheduling::v1::RescheduleVisitRequest& q) const {
    return VisitInScope(c, who, q.name());
  }
  absl::Status InScope(const grpc::ServerContext& c, const auth::Principal& who,
                       const scheduling::v1::MakeUpVisitRequest& q) const {
    return VisitInScope(c, who, q.missed_visit());
  }
  absl::Status InScope(const grpc::ServerContext& c, const auth::Principal& who,
                       const scheduling::v1::DeclineMakeUpRequest& q) const {
    return VisitInScope(c, who, q.missed_visit());
  }
  absl::Status InScope(const grpc::ServerContext& c, const auth::Principal& who,
                       const scheduling::v1::WithdrawReferralRequest& q) const {
    return ReferralInScope(c, who, q.name());
  }
  absl::Status InScope(const grpc::ServerContext& c, const auth::Principal& who,
                       const scheduling::v1::ReleaseWorkerRequest& q) const {
    return WorkerInScope(c, who, q.worker(), /*strict=*/true);
  }
  // Alerts and work orders: every request of these methods names the thing in `name`.
  template <typename Request>
  requires(std::is_same_v<Request, feedback::v1::GetAlertRequest> ||
           std::is_same_v<Request, feedback::v1::AcknowledgeAlertRequest> ||
           std::is_same_v<Request, feedback::v1::ResolveAlertRequest>) absl::Status
      InScope(const grpc::ServerContext& c, const auth::Principal& who, const Request& q)
  const { return AlertInScope(c, who, q.name()); }
  template <typename Request>
  requires(std::is_same_v<Request, feedback::v1::GetWorkOrderRequest> ||
           std::is_same_v<Request, feedback::v1::ClassifyWorkOrderRequest> ||
           std::is_same_v<Request, feedback::v1::RouteWorkOrderRequest> ||
           std::is_same_v<Request, feedback::v1::ResolveWorkOrderRequest> ||
           std::is_same_v<Request, feedback::v1::RecordCallbackRequest> ||
           std::is_same_v<Request, feedback::v1::CloseWorkOrderRequest>) absl::Status
      InScope(const grpc::ServerContext& c, const auth::Principal& who, const Request& q)
  const { return WorkOrderInScope(c, who, q.name()); }
  // A context for a scope lookup (the caller's deadline, actor "gateway:access-check").
  std::unique_ptr<grpc::ClientContext> LookupContext(const grpc::ServerContext& context) const;

  // Calls a backend with the caller's deadline (capped by `timeout`, --backend_timeout when
  // zero), request id and principal; page sizes above kMaxPageSize are capped; maps an
  // unreachable backend to UNAVAILABLE with ERROR_REASON_BACKEND_UNAVAILABLE.
  template <typename Stub, typename Request, typename Response>
  grpc::Status Forward(grpc::ServerContext* context, const auth::Principal& who, Stub* stub,
                       std::unique_ptr<grpc::ClientAsyncResponseReaderInterface<Response>> (
                           Stub::*prepare)(grpc::ClientContext*, const Request&,
                                           grpc::CompletionQueue*),
                       const Request& request, Response* response, const char* backend,
                       absl::Duration timeout = absl::ZeroDuration()) {
    auto client_context =
        BackendContext(context, who, timeout == absl::ZeroDuration() ? backend_timeout_ : timeout);
    grpc::Status status;
    if constexpr (requires(Request r) { r.set_page_size(0); }) {
      if (request.page_size() > kMaxPageSize) {
        Request capped = request;
        capped.set_page_size(kMaxPageSize);
        status = Unary(*stub, prepare, client_context.get(), capped, response);
        return FromBackend(*context, status, backend);
      }
    }
    status = Unary(*stub, prepare, client_context.get(), request, response);
    return FromBackend(*context, status, backend);
  }
};

}  // namespace linli::gateway

#endif  // LINLI_SERVICES_GATEWAY_CONSOLE_SERVICE_H_
