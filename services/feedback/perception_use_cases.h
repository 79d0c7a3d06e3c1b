// The perception use cases: the consumer's progress, visit feedback, the promise ledger, the
// perception index and the evaluation report. Each opens its transactions and calls the rules of
// perception.h / feedback_answer.h / alert_policy.h / work_order.h and the store. No gRPC:
// requests arrive validated by the adapter (feedback_service.cc, feedback_report.cc).
#ifndef LINLI_SERVICES_FEEDBACK_PERCEPTION_USE_CASES_H_
#define LINLI_SERVICES_FEEDBACK_PERCEPTION_USE_CASES_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "common/audit.h"
#include "common/clock.h"
#include "common/pagination.h"
#include "common/pii/field_cipher.h"
#include "common/storage/database.h"
#include "linli/feedback/v1/feedback.pb.h"
#include "services/feedback/directory.h"
#include "services/feedback/perception.h"

namespace linli::feedback {

class PerceptionUseCases {
 public:
  // `cipher` seals the answers (their words are personal data).
  PerceptionUseCases(storage::Database& db, const Clock& clock, const pii::FieldCipher& cipher)
      : db_(db), clock_(clock), cipher_(cipher) {}

  // Where the consumer of each event stream stands.
  absl::Status ConsumerStatus(v1::GetConsumerStatusResponse* response);
  // Records an answer for a completed visit, once per author and per request_id; the elder's
  // voice is added to the counters of the visit's subjects, and "nobody came" raises a
  // contradiction alert. ALREADY_EXISTS when the author already answered.
  // `recorded_by` is who entered it (the principal of the call).
  absl::Status Submit(const v1::SubmitFeedbackRequest& request, const std::string& recorded_by,
                      v1::SubmitFeedbackResponse* response);
  // The answers about the visits of the elders of `request.region()` (or of `request.elder()`)
  // recorded over the `window_days` local days ending today, newest first, one `page` (keyed by
  // record time and id); each answer returned with words is audited as read by `caller`.
  absl::Status ListFeedback(const v1::ListFeedbackRequest& request, int window_days,
                            const Page& page, const Caller& caller,
                            v1::ListFeedbackResponse* response);
  // The completed visits of the elders of `request.region()` over the `window_days` local days
  // ending today that still wait for the elder's answer, most in need first (RankByNeed), one
  // `page` (keyed by NeedKey).
  absl::Status AwaitingAnswer(const v1::ListVisitsAwaitingAnswerRequest& request, int window_days,
                              const Page& page, v1::ListVisitsAwaitingAnswerResponse* response);
  // The promises to the elders of `request.region()` over the `days` local days ending today, each
  // with its ledger's verdict and PromiseIssues, filtered as the request says, worst first, one
  // `page` (keyed by PromiseKey), with the count of each verdict.
  absl::Status Promises(const v1::ListPromisesRequest& request, int days, const Page& page,
                        v1::ListPromisesResponse* response);
  // The visits waiting for their exception review that `request` filters, oldest first, one
  // `page` (keyed by day and id).
  absl::Status AwaitingReview(const v1::ListVisitsAwaitingReviewRequest& request, const Page& page,
                              v1::ListVisitsAwaitingReviewResponse* response);
  // The day board of the elders of `region` for local day `day` (nullopt: today) as of now, with
  // at most `attention_limit` visits needing attention.
  absl::StatusOr<v1::GetDayBoardResponse> DayBoard(const std::string& region,
                                                   std::optional<int64_t> day, int attention_limit);
  // The ledger and the index of `subject` over the `window_days` local days ending today.
  absl::StatusOr<v1::PromiseLedger> Ledger(const std::string& subject, int window_days);
  absl::StatusOr<v1::PerceptionIndex> Index(const std::string& subject, int window_days);
  // The index of `subject` for each of the `weeks` weeks (Monday to Sunday) ending with the
  // current one, oldest first, read in one transaction.
  absl::StatusOr<v1::GetPerceptionTrendResponse> Trend(const std::string& subject, int weeks);
  // The evaluation report of `organisation` over the local days [from, to] (`request` gives the
  // dates as written), named as `directory` says.
  absl::StatusOr<v1::EvaluationReport> Report(const v1::GetEvaluationReportRequest& request,
                                              int64_t from, int64_t to, Directory& directory);

 private:
  // Counters of `subject` over the `days` local days ending with `last_day`.
  absl::StatusOr<Figures> WindowFigures(const std::string& subject, int days, int64_t last_day);

  storage::Database& db_;
  const Clock& clock_;
  const pii::FieldCipher& cipher_;
};

}  // namespace linli::feedback

#endif  // LINLI_SERVICES_FEEDBACK_PERCEPTION_USE_CASES_H_
