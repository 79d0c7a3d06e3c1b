#include "services/gateway/gateway_server.h"

#include <map>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "google/protobuf/descriptor.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/alarm.h"
#include "grpcpp/ext/health_check_service_server_builder_option.h"
#include "grpcpp/health_check_service_interface.h"

namespace linli::gateway {

const std::vector<std::string>& PublicServiceNames() {
  static const auto* names = new std::vector<std::string>{
      v1::ConsoleService::service_full_name(), v1::ElderAppService::service_full_name(),
      v1::PartnerService::service_full_name(), v1::WorkerAppService::service_full_name()};
  return *names;
}

namespace {

// grpc.health.v1.Health answered on the loops. gRPC's own health service runs on threads of its
// callback machinery, and in this gRPC those threads take part in polling: they would pick up the
// loops' network events and hand every call from thread to thread again. The server keeps this
// object as its health service (GetHealthCheckService()), so GrpcServer's start and graceful stop
// set the statuses exactly as for the other services. Watch sends the status, then every change
// (looked at every kWatchInterval), until the client leaves or the server stops.
class LoopHealth final : public grpc::HealthCheckServiceInterface,
                         public grpc::health::v1::Health::Service {
 public:
  using Service = grpc::health::v1::Health::Service;
  static constexpr absl::Duration kWatchInterval = absl::Milliseconds(250);

  LoopHealth() { statuses_[""] = true; }

  void SetServingStatus(const std::string& service, bool serving) override {
    absl::MutexLock lock(&mu_);
    if (!shut_down_) statuses_[service] = serving;
  }
  void SetServingStatus(bool serving) override {
    absl::MutexLock lock(&mu_);
    if (shut_down_) return;
    for (auto& [service, status] : statuses_) status = serving;
  }
  void Shutdown() override {
    absl::MutexLock lock(&mu_);
    for (auto& [service, status] : statuses_) status = false;
    shut_down_ = true;
  }

  grpc::Status Check(grpc::ServerContext*, const grpc::health::v1::HealthCheckRequest* request,
                     grpc::health::v1::HealthCheckResponse* response) override {
    std::optional<bool> serving = Serving(request->service());
    if (!serving.has_value()) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown service " + request->service());
    }
    response->set_status(*serving ? grpc::health::v1::HealthCheckResponse::SERVING
                                  : grpc::health::v1::HealthCheckResponse::NOT_SERVING);
    return grpc::Status::OK;
  }

  // As the protocol says: an unknown service is SERVICE_UNKNOWN (the stream stays open, in case it
  // appears), not an error.
  grpc::Status WatchOnLoop(grpc::ServerContext* context,
                           const grpc::health::v1::HealthCheckRequest* request,
                           ResponseStream<grpc::health::v1::HealthCheckResponse>* stream) {
    using Response = grpc::health::v1::HealthCheckResponse;
    std::optional<Response::ServingStatus> sent;
    for (;;) {
      std::optional<bool> serving = Serving(request->service());
      const Response::ServingStatus now = !serving.has_value() ? Response::SERVICE_UNKNOWN
                                          : *serving           ? Response::SERVING
                                                               : Response::NOT_SERVING;
      if (now != sent) {
        Response response;
        response.set_status(now);
        if (!stream->Write(response)) return grpc::Status::OK;  // the client has gone
        sent = now;
      }
      if (context->IsCancelled() || ShutDown()) return grpc::Status::OK;
      AsyncWait wait;
      grpc::Alarm alarm;
      alarm.Set(wait.queue(), DeadlineAfter(kWatchInterval), wait.Tag());
      wait.Wait();
    }
  }

 private:
  std::optional<bool> Serving(const std::string& service) {
    absl::MutexLock lock(&mu_);
    auto it = statuses_.find(service);
    if (it == statuses_.end()) return std::nullopt;
    return it->second;
  }
  bool ShutDown() {
    absl::MutexLock lock(&mu_);
    return shut_down_;
  }

  absl::Mutex mu_;
  std::map<std::string, bool> statuses_ ABSL_GUARDED_BY(mu_);
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
};

// The methods of `service_names` (from the generated descriptor pool) without a handler.
std::vector<std::string> Unhandled(const MethodTable& table,
                                   const std::vector<std::string>& service_names) {
  std::vector<std::string> missing;
  for (const std::string& name : service_names) {
    const google::protobuf::ServiceDescriptor* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(name);
    if (service == nullptr) {
      missing.push_back(name);
      continue;
    }
    for (int i = 0; i < service->method_count(); ++i) {
      std::string method = absl::StrCat("/", name, "/", service->method(i)->name());
      if (table.Find(method) == nullptr) missing.push_back(std::move(method));
    }
  }
  return missing;
}

// Every method of every public service, by name, to its implementation. A method added to a
// proto without a line here makes GatewayServer::Start fail (and with it every gateway test).
MethodTable PublicMethods(const GatewayServer::Services& s) {
  MethodTable table;
#define LINLI_METHOD(member, ServiceName, Method)                    \
  table.Add("/linli.gateway.v1." #ServiceName "/" #Method, s.member, \
            &v1::ServiceName::Service::Method)
  // ConsoleService
  LINLI_METHOD(console, ConsoleService, CreateRegion);
  LINLI_METHOD(console, ConsoleService, GetRegion);
  LINLI_METHOD(console, ConsoleService, ListRegions);
  LINLI_METHOD(console, ConsoleService, GetMap);
  LINLI_METHOD(console, ConsoleService, SearchProviders);
  LINLI_METHOD(console, ConsoleService, ListLines);
  LINLI_METHOD(console, ConsoleService, ListOrganisations);
  LINLI_METHOD(console, ConsoleService, GetOrganisation);
  LINLI_METHOD(console, ConsoleService, ListRelations);
  LINLI_METHOD(console, ConsoleService, ListServiceTypes);
  LINLI_METHOD(console, ConsoleService, ListOfferings);
  LINLI_METHOD(console, ConsoleService, ListElders);
  LINLI_METHOD(console, ConsoleService, GetElder);
  LINLI_METHOD(console, ConsoleService, ListWorkers);
  LINLI_METHOD(console, ConsoleService, ListAuditEntries);
  LINLI_METHOD(console, ConsoleService, GetCommitment);
  LINLI_METHOD(console, ConsoleService, ProposeFallback);
  LINLI_METHOD(console, ConsoleService, ListCommitments);
  LINLI_METHOD(console, ConsoleService, ListVisits);
  LINLI_METHOD(console, ConsoleService, ListAlerts);
  LINLI_METHOD(console, ConsoleService, GetPerceptionIndex);
  LINLI_METHOD(console, ConsoleService, GetPromiseLedger);
  LINLI_METHOD(console, ConsoleService, GetPerceptionTrend);
  LINLI_METHOD(console, ConsoleService, ListPromises);
  LINLI_METHOD(console, ConsoleService, ListWorkOrders);
  LINLI_METHOD(console, ConsoleService, ListVisitsAwaitingAnswer);
  LINLI_METHOD(console, ConsoleService, ListFeedback);
  LINLI_METHOD(console, ConsoleService, GetDayBoard);
  LINLI_METHOD(console, ConsoleService, ListVisitsAwaitingReview);
  LINLI_METHOD(console, ConsoleService, RecordElderFeedback);
  LINLI_METHOD(console, ConsoleService, FileWorkOrder);
  LINLI_METHOD(console, ConsoleService, CreateOrganisation);
  LINLI_METHOD(console, ConsoleService, CreateRelation);
  LINLI_METHOD(console, ConsoleService, CreateServiceType);
  LINLI_METHOD(console, ConsoleService, CreateOffering);
  LINLI_METHOD(console, ConsoleService, UpdateOffering);
  LINLI_METHOD(console, ConsoleService, CreateWorker);
  LINLI_METHOD(console, ConsoleService, RegisterElder);
  LINLI_METHOD(console, ConsoleService, CreateCommitment);
  LINLI_METHOD(console, ConsoleService, CancelCommitment);
  LINLI_METHOD(console, ConsoleService, MaterializeVisits);
  LINLI_METHOD(console, ConsoleService, GetVisit);
  LINLI_METHOD(console, ConsoleService, Plan);
  LINLI_METHOD(console, ConsoleService, AssignVisit);
  LINLI_METHOD(console, ConsoleService, UnassignVisit);
  LINLI_METHOD(console, ConsoleService, SwapVisitWorkers);
  LINLI_METHOD(console, ConsoleService, CancelVisit);
  LINLI_METHOD(console, ConsoleService, ReviewVisit);
  LINLI_METHOD(console, ConsoleService, RescheduleVisit);
  LINLI_METHOD(console, ConsoleService, ReleaseWorker);
  LINLI_METHOD(console, ConsoleService, SweepMissedVisits);
  LINLI_METHOD(console, ConsoleService, SweepAlerts);
  LINLI_METHOD(console, ConsoleService, GetAlert);
  LINLI_METHOD(console, ConsoleService, AcknowledgeAlert);
  LINLI_METHOD(console, ConsoleService, ResolveAlert);
  LINLI_METHOD(console, ConsoleService, GetWorkOrder);
  LINLI_METHOD(console, ConsoleService, ClassifyWorkOrder);
  LINLI_METHOD(console, ConsoleService, RouteWorkOrder);
  LINLI_METHOD(console, ConsoleService, ResolveWorkOrder);
  LINLI_METHOD(console, ConsoleService, RecordCallback);
  LINLI_METHOD(console, ConsoleService, CloseWorkOrder);
  LINLI_METHOD(console, ConsoleService, ListNoteAuditEntries);
  LINLI_METHOD(console, ConsoleService, ListFeedbackAuditEntries);
  LINLI_METHOD(console, ConsoleService, UpdateOrganisation);
  LINLI_METHOD(console, ConsoleService, RetireOrganisation);
  LINLI_METHOD(console, ConsoleService, UpdateWorker);
  LINLI_METHOD(console, ConsoleService, UpdateElder);
  LINLI_METHOD(console, ConsoleService, RecordConsent);
  LINLI_METHOD(console, ConsoleService, RetireElder);
  LINLI_METHOD(console, ConsoleService, RetireRelation);
  LINLI_METHOD(console, ConsoleService, RetireOffering);
  LINLI_METHOD(console, ConsoleService, UpdateServiceType);
  LINLI_METHOD(console, ConsoleService, RetireServiceType);
  LINLI_METHOD(console, ConsoleService, ImportRoster);
  LINLI_METHOD(console, ConsoleService, ListNotices);
  LINLI_METHOD(console, ConsoleService, MarkNoticesRead);
  LINLI_METHOD(console, ConsoleService, GetNoticePreferences);
  LINLI_METHOD(console, ConsoleService, SetNoticePreferences);
  LINLI_METHOD(console, ConsoleService, CreateWebhook);
  LINLI_METHOD(console, ConsoleService, ListWebhooks);
  LINLI_METHOD(console, ConsoleService, DeleteWebhook);
  LINLI_METHOD(console, ConsoleService, ListWebhookDeliveries);
  LINLI_METHOD(console, ConsoleService, RetryWebhookDelivery);
  LINLI_METHOD(console, ConsoleService, MakeUpVisit);
  LINLI_METHOD(console, ConsoleService, CreateReferral);
  LINLI_METHOD(console, ConsoleService, ListReferrals);
  LINLI_METHOD(console, ConsoleService, WithdrawReferral);
  LINLI_METHOD(console, ConsoleService, ListUnmetNeeds);
  LINLI_METHOD(console, ConsoleService, RecordVisitCheck);
  LINLI_METHOD(console, ConsoleService, ListUnreachedElders);
  LINLI_METHOD(console, ConsoleService, DeclineMakeUp);
  LINLI_METHOD(console, ConsoleService, ExportRoster);
  // ElderAppService
  LINLI_METHOD(elder_app, ElderAppService, GetElderPage);
  LINLI_METHOD(elder_app, ElderAppService, ListMyCommitments);
  LINLI_METHOD(elder_app, ElderAppService, ListMyUpcomingVisits);
  LINLI_METHOD(elder_app, ElderAppService, ListMyFamily);
  LINLI_METHOD(elder_app, ElderAppService, SubmitVisitFeedback);
  LINLI_METHOD(elder_app, ElderAppService, RaiseComplaint);
  LINLI_METHOD(elder_app, ElderAppService, GetMyComplaint);
  LINLI_METHOD(elder_app, ElderAppService, ListMyComplaints);
  LINLI_METHOD(elder_app, ElderAppService, ListMyNotices);
  LINLI_METHOD(elder_app, ElderAppService, MarkMyNoticesRead);
  LINLI_METHOD(elder_app, ElderAppService, MakeUpMyVisit);
  LINLI_METHOD(elder_app, ElderAppService, DeclineMyMakeUp);
  LINLI_METHOD(elder_app, ElderAppService, GetMyNoticePreferences);
  LINLI_METHOD(elder_app, ElderAppService, SetMyNoticePreferences);
  table.AddServerStreaming<v1::ElderAppService::Service>(
      "/linli.gateway.v1.ElderAppService/WatchMyNotices", s.elder_app,
      &ElderAppServiceImpl::WatchMyNoticesOnLoop);
  // PartnerService
  LINLI_METHOD(partner, PartnerService, ListMyOfferings);
  LINLI_METHOD(partner, PartnerService, SubmitWorkOrder);
  LINLI_METHOD(partner, PartnerService, GetWorkOrderStatus);
  LINLI_METHOD(partner, PartnerService, UpdateMyOffering);
  LINLI_METHOD(partner, PartnerService, ListMyDeliveries);
  LINLI_METHOD(partner, PartnerService, ReportDelivery);
  LINLI_METHOD(partner, PartnerService, ListMyReferrals);
  LINLI_METHOD(partner, PartnerService, AnswerReferral);
  LINLI_METHOD(partner, PartnerService, CompleteReferral);
  LINLI_METHOD(partner, PartnerService, ReviewVisit);
  LINLI_METHOD(partner, PartnerService, ListMyNotices);
  LINLI_METHOD(partner, PartnerService, MarkMyNoticesRead);
  // WorkerAppService
  LINLI_METHOD(worker_app, WorkerAppService, ListMyVisits);
  LINLI_METHOD(worker_app, WorkerAppService, CheckIn);
  LINLI_METHOD(worker_app, WorkerAppService, CheckOut);
  LINLI_METHOD(worker_app, WorkerAppService, AddVisitNote);
  LINLI_METHOD(worker_app, WorkerAppService, ListVisitNotes);
  LINLI_METHOD(worker_app, WorkerAppService, ReportProblem);
#undef LINLI_METHOD
  return table;
}

}  // namespace

absl::StatusOr<std::unique_ptr<GatewayServer>> GatewayServer::Start(ServerOptions options,
                                                                    const Services& services,
                                                                    int event_loops) {
  MethodTable table = PublicMethods(services);
  if (std::vector<std::string> missing = Unhandled(table, PublicServiceNames()); !missing.empty()) {
    return absl::InternalError(
        absl::StrCat("gateway methods without a handler: ", absl::StrJoin(missing, ", ")));
  }
  // Owned by the server from its start; the handler runs only while the server does.
  auto health = std::make_unique<LoopHealth>();
  LoopHealth* checks = health.get();
  table.Add("/grpc.health.v1.Health/Check", checks, &LoopHealth::Service::Check);
  table.AddServerStreaming<LoopHealth::Service>("/grpc.health.v1.Health/Watch", checks,
                                                &LoopHealth::WatchOnLoop);
  std::unique_ptr<GatewayServer> gateway(new GatewayServer());
  gateway->loops_ = EventLoops::Create(std::move(table), event_loops);
  EventLoops* serving = gateway->loops_.get();
  options.configure_builder = [serving, &health](grpc::ServerBuilder& builder) {
    builder.SetOption(
        std::make_unique<grpc::HealthCheckServiceServerBuilderOption>(std::move(health)));
    serving->Configure(builder);
  };
  options.records_itself = [serving](absl::string_view method) { return serving->Serves(method); };
  if (options.health_service_names.empty()) options.health_service_names = PublicServiceNames();
  absl::StatusOr<std::unique_ptr<GrpcServer>> server = GrpcServer::Start(options, {});
  if (!server.ok()) return server.status();
  gateway->server_ = std::move(*server);
  serving->Start();
  return gateway;
}

GatewayServer::~GatewayServer() { Shutdown(); }

void GatewayServer::Shutdown() {
  if (server_ != nullptr) server_->Shutdown();
  if (loops_ != nullptr) loops_->Stop();
}

}  // namespace linli::gateway
