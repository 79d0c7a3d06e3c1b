// gRPC adapter of feedback: proto in/out, validation, status mapping. Each handler validates its
// request and calls a use case (perception_use_cases.h, work_order_use_cases.h,
// alert_use_cases.h); the rules live in the domain files (perception.h, feedback_answer.h,
// work_order.h, alert_policy.h), the tables in feedback_store.h, the event stream in consumer.h.
#ifndef LINLI_SERVICES_FEEDBACK_FEEDBACK_SERVICE_H_
#define LINLI_SERVICES_FEEDBACK_FEEDBACK_SERVICE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/pii/field_cipher.h"
#include "common/storage/database.h"
#include "linli/feedback/v1/feedback.grpc.pb.h"
#include "linli/registry/v1/registry.grpc.pb.h"
#include "services/feedback/alert_use_cases.h"
#include "services/feedback/notice_use_cases.h"
#include "services/feedback/perception_use_cases.h"
#include "services/feedback/registry_directory.h"
#include "services/feedback/work_order_use_cases.h"

namespace linli::feedback {

// "regions/" followed by 2-12 digits (a region code): how requests name a committee or street.
bool IsRegionName(const std::string& name);

class FeedbackServiceImpl final : public v1::FeedbackService::Service {
 public:
  // `registry` routes work orders along relations and names organisations in reports; `cipher`
  // (the personal-data keyring) seals answers and work orders, which hold the elders' words.
  FeedbackServiceImpl(storage::Database& db, const Clock& clock, const pii::FieldCipher& cipher,
                      std::shared_ptr<registry::v1::RegistryService::StubInterface> registry,
                      absl::Duration backend_timeout = absl::Seconds(5))
      : db_(db),
        clock_(clock),
        registry_(std::move(registry)),
        backend_timeout_(backend_timeout),
        perception_(db, clock, cipher),
        notices_(db, clock, cipher),
        work_orders_(db, clock, cipher, notices_),
        alerts_(db, clock, cipher, notices_) {}

#define LINLI_RPC(Method)                                                               \
  grpc::Status Method(grpc::ServerContext* context, const v1::Method##Request* request, \
                      v1::Method##Response* response) override
  LINLI_RPC(GetConsumerStatus);
  LINLI_RPC(SubmitFeedback);
  LINLI_RPC(ImportFeedback);
  LINLI_RPC(ListVisitsAwaitingAnswer);
  LINLI_RPC(ListFeedback);
  LINLI_RPC(ListAuditEntries);
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
  LINLI_RPC(GetPerceptionTrend);
  LINLI_RPC(ListPromises);
  LINLI_RPC(SweepAlerts);
  LINLI_RPC(ListAlerts);
  LINLI_RPC(GetAlert);
  LINLI_RPC(AcknowledgeAlert);
  LINLI_RPC(ResolveAlert);
  LINLI_RPC(SetAlertPolicy);
  LINLI_RPC(GetDayBoard);
  LINLI_RPC(ListVisitsAwaitingReview);
  LINLI_RPC(GetEvaluationReport);
  LINLI_RPC(ListNotices);
  LINLI_RPC(MarkNoticesRead);
  LINLI_RPC(ListUnreachedElders);
  LINLI_RPC(GetNoticePreferences);
  LINLI_RPC(SetNoticePreferences);
  LINLI_RPC(CreateWebhook);
  LINLI_RPC(ListWebhooks);
  LINLI_RPC(DeleteWebhook);
  LINLI_RPC(ListWebhookDeliveries);
  LINLI_RPC(RetryWebhookDelivery);
#undef LINLI_RPC

  // The notices, for the event consumer (which raises them too) and the webhook sender (which
  // waits for them).
  NoticeUseCases& notices() { return notices_; }

  // The safety-net checks as of `now` (the server runs them periodically with its clock's time;
  // SweepAlerts on demand, optionally as of a given time).
  absl::StatusOr<v1::SweepAlertsResponse> Sweep(const grpc::ServerContext* context, absl::Time now);

 private:
  // The registry as the use cases ask it, within the deadline of `context` (may be null).
  RegistryDirectory Registry(const grpc::ServerContext* context) const;

  storage::Database& db_;
  const Clock& clock_;
  std::shared_ptr<registry::v1::RegistryService::StubInterface> registry_;
  absl::Duration backend_timeout_;
  PerceptionUseCases perception_;
  NoticeUseCases notices_;  // before the use cases that raise notices
  WorkOrderUseCases work_orders_;
  AlertUseCases alerts_;
};

}  // namespace linli::feedback

#endif  // LINLI_SERVICES_FEEDBACK_FEEDBACK_SERVICE_H_
