// The perception use cases: the consumer's progress, visit feedback, the promise ledger, the
// perception index and the evaluation report. Each opens its transactions and calls the rules of
// perception.h / feedback_answer.h / alert_policy.h / work_order.h and the store. No gRPC:
// requests arrive validated by the adapter (feedback_service.cc, feedback_report.cc), except the
// rows of an import, whose problems Import reports by line (FeedbackFieldProblems checks an
// answer's fields for both).
#ifndef LINLI_SERVICES_FEEDBACK_PERCEPTION_USE_CASES_H_
#define LINLI_SERVICES_FEEDBACK_PERCEPTION_USE_CASES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

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

// One problem with a field of an answer, in English and in Chinese.
struct FieldProblem {
  std::string field;  // e.g. "feedback.faces"
  std::string reason;
  std::string reason_zh;
};

// The problems of the fields of `feedback` as SubmitFeedback and ImportFeedback take it (the
// visit's name, the author's form, the channel, the scores, the words), without the database;
// empty when there are none.
std::vector<FieldProblem> FeedbackFieldProblems(const v1::Feedback& feedback);

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
  // Records answers given before Linli, each at its `answer_time`: every row checked as Submit
  // checks a live answer (and its time: not in the future, not before the visit), all in one
  // transaction. A row whose author already answered the visit counts as existing; a refused row
  // becomes problems of its line. Nothing is written with `dry_run`, nor when a row is refused
  // unless `skip_bad_rows`. INVALID_ARGUMENT on `rows` unless 1-1000 rows.
  absl::StatusOr<v1::ImportFeedbackResponse> Import(const v1::ImportFeedbackRequest& request,
                                                    const std::string& recorded_by);
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
  // How an answer reaches RecordAnswer.
  enum class AnswerSource {
    kLive,      // SubmitFeedback: given now
    kImported,  // ImportFeedback: given in the past, not before the visit (CheckAnswerTime)
  };
  // Records `in` (checked by FeedbackFieldProblems) in `tx` as given at `at` and entered by
  // `recorded_by`: the visit must be one feedback projected (NOT_FOUND), the author one who may
  // answer and the visit completed (IsElderVoice, CheckAnswerable; imported: CheckAnswerTime);
  // ALREADY_EXISTS when the author already answered the visit. Nothing is written when it fails.
  // The elder's voice is added to the counters of the visit's day; "nobody came" raises the
  // contradiction alert as of `at`. `stored` receives the answer as stored.
  absl::Status RecordAnswer(storage::Transaction& tx, const v1::Feedback& in,
                            const std::string& recorded_by, absl::Time at, AnswerSource source,
                            v1::Feedback* stored);
  // Counters of `subject` over the `days` local days ending with `last_day`.
  absl::StatusOr<Figures> WindowFigures(const std::string& subject, int days, int64_t last_day);

  storage::Database& db_;
  const Clock& clock_;
  const pii::FieldCipher& cipher_;
};

}  // namespace linli::feedback

#endif  // LINLI_SERVICES_FEEDBACK_PERCEPTION_USE_CASES_H_
