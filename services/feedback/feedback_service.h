// gRPC adapter of feedback: proto in/out, validation, status mapping. The arithmetic lives in
// perception.h and work_order.h, the tables in feedback_store.h, the event stream in consumer.h.
#ifndef LINLI_SERVICES_FEEDBACK_FEEDBACK_SERVICE_H_
#define LINLI_SERVICES_FEEDBACK_FEEDBACK_SERVICE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/storage/database.h"
#include "linli/feedback/v1/feedback.grpc.pb.h"
#include "linli/registry/v1/registry.grpc.pb.h"
#include "services/feedback/perception.h"

namespace linli::feedback {

// Days without verified contact before a solitary elder raises an alert, unless the committee
// set its own (SetAlertPolicy).
inline constexpr int kDefaultNoContactDays = 7;

class FeedbackServiceImpl final : public v1::FeedbackService::Service {
 public:
  // `registry` routes work orders along relations and names organisations in reports.
  FeedbackServiceImpl(storage::Database& db, const Clock& clock,
                      std::shared_ptr<registry::v1::RegistryService::StubInterface> registry,
                      absl::Duration backend_timeout = absl::Seconds(5))
      : db_(db), clock_(clock), registry_(std::move(registry)), backend_timeout_(backend_timeout) {}

#define LINLI_RPC(Method)                                                               \
  grpc::Status Method(grpc::ServerContext* context, const v1::Method##Request* request, \
                      v1::Method##Response* response) override
  LINLI_RPC(GetConsumerStatus);
  LINLI_RPC(SubmitFeedback);
  LINLI_RPC(CreateWorkOrder);
  LINLI_RPC(GetWorkOrder);
  LINLI_RPC(ListWorkOrders);
  LINLI_RPC(ClassifyWorkOrder);
  LINLI_RPC(RouteWorkOrder);
  LINLI_RPC(ResolveWorkOrder);
  LINLI_RPC(RecordCallback);
  LINLI_RPC(CloseWorkOrder);
  LINLI_RPC(GetPromiseLedger);
  LINLI_RPC(GetPerceptionIndex);
  LINLI_RPC(SweepAlerts);
  LINLI_RPC(ListAlerts);
  LINLI_RPC(GetAlert);
  LINLI_RPC(AcknowledgeAlert);
  LINLI_RPC(ResolveAlert);
  LINLI_RPC(SetAlertPolicy);
  LINLI_RPC(GetEvaluationReport);
#undef LINLI_RPC

  // The safety-net checks as of `now` (the server runs them periodically with its clock's time;
  // SweepAlerts on demand, optionally as of a given time).
  absl::StatusOr<v1::SweepAlertsResponse> Sweep(const grpc::ServerContext* context, absl::Time now);

 private:
  // Counters of `subject` over the `days` local days ending with the clock's day.
  absl::StatusOr<Figures> WindowFigures(const std::string& subject, int days, int64_t last_day);
  // The street service office a work order about `street` escalates to.
  std::string EscalationTarget(const grpc::ServerContext* context, const std::string& street);
  // The office guiding `organisation` along its line (业务指导), else its administrative parent.
  absl::StatusOr<std::string> Supervisor(const grpc::ServerContext* context,
                                         const std::string& organisation);
  // Loads a work order, checks the transition, lets `change` edit it, records history and stores.
  absl::Status Transition(const grpc::ServerContext& context, const std::string& name,
                          v1::WorkOrderState to, const std::string& note,
                          const std::function<absl::Status(v1::WorkOrder&)>& change,
                          v1::WorkOrder* result);

  storage::Database& db_;
  const Clock& clock_;
  std::shared_ptr<registry::v1::RegistryService::StubInterface> registry_;
  absl::Duration backend_timeout_;
};

// Fills a proto with counters.
void ToProto(const Figures& f, v1::PromiseFigures* out);
// The perception index proto of counters.
void ToProto(const std::string& subject, int window_days, const Figures& f,
             v1::PerceptionIndex* out);

}  // namespace linli::feedback

#endif  // LINLI_SERVICES_FEEDBACK_FEEDBACK_SERVICE_H_
