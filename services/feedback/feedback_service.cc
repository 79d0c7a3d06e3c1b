// FeedbackService: consumer status, visit feedback, promise ledger and perception index.
#include "services/feedback/feedback_service.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/audit.h"
#include "common/errors.h"
#include "common/idempotency.h"
#include "common/pagination.h"
#include "common/server.h"
#include "common/text.h"

namespace linli::feedback {
namespace {

// "prefix/ID" with a slug id; the id, or nullopt.
std::optional<std::string> IdOf(const std::string& name, absl::string_view prefix) {
  if (!absl::StartsWith(name, prefix)) return std::nullopt;
  std::string id = name.substr(prefix.size());
  if (!IsSlug(id, 64)) return std::nullopt;
  return id;
}

// Adds a violation on "subject" unless it names something an index is kept for.
void CheckIndexSubject(const std::string& s, FieldViolations& v) {
  if (!IdOf(s, "elders/").has_value() && !IdOf(s, "workers/").has_value() &&
      !IdOf(s, "organisations/").has_value() && !IdOf(s, "regions/").has_value() &&
      !IdOf(s, "commitments/").has_value()) {
    v.Add("subject",
          "must be \"elders/ID\", \"workers/ID\", \"organisations/ID\", \"regions/CODE\" "
          "or \"commitments/ID\"");
  }
}

// 7, 30 or 90 (0 = 30); INVALID_ARGUMENT otherwise.
absl::StatusOr<int> WindowDays(int requested) {
  if (requested == 0) return 30;
  if (requested == 7 || requested == 30 || requested == 90) return requested;
  return InvalidField("window_days", "must be 7, 30 or 90 (0 means 30)");
}

}  // namespace

bool IsRegionName(const std::string& name) {
  if (!absl::StartsWith(name, "regions/")) return false;
  const absl::string_view code = absl::string_view(name).substr(8);
  if (code.size() < 2 || code.size() > 12) return false;
  return std::all_of(code.begin(), code.end(),
                     [](char c) { return absl::ascii_isdigit(static_cast<unsigned char>(c)); });
}

RegistryDirectory FeedbackServiceImpl::Registry(const grpc::ServerContext* context) const {
  return RegistryDirectory(*registry_, context, backend_timeout_);
}

grpc::Status FeedbackServiceImpl::GetConsumerStatus(grpc::ServerContext* context,
                                                    const v1::GetConsumerStatusRequest*,
                                                    v1::GetConsumerStatusResponse* response) {
  return Reply(*context, perception_.ConsumerStatus(response));
}

grpc::Status FeedbackServiceImpl::SubmitFeedback(grpc::ServerContext* context,
                                                 const v1::SubmitFeedbackRequest* request,
                                                 v1::SubmitFeedbackResponse* response) {
  FieldViolations v;
  for (FieldProblem& p : FeedbackFieldProblems(request->feedback())) {
    v.Add(std::move(p.field), std::move(p.reason));
  }
  if (absl::Status s = ValidateRequestId(request->request_id()); !s.ok()) {
    v.Add("request_id", std::string(s.message()));
  }
  if (absl::Status s = v.ToStatus(); !s.ok()) return Reply(*context, s);
  return Reply(*context, perception_.Submit(*request, Actor(*context), response));
}

grpc::Status FeedbackServiceImpl::ImportFeedback(grpc::ServerContext* context,
                                                 const v1::ImportFeedbackRequest* request,
                                                 v1::ImportFeedbackResponse* response) {
  // Each row is checked by the use case, its problems reported by line.
  absl::StatusOr<v1::ImportFeedbackResponse> imported =
      perception_.Import(*request, Actor(*context));
  if (imported.ok()) *response = *std::move(imported);
  return Reply(*context, imported.status());
}

grpc::Status FeedbackServiceImpl::ListVisitsAwaitingAnswer(
    grpc::ServerContext* context, const v1::ListVisitsAwaitingAnswerRequest* request,
    v1::ListVisitsAwaitingAnswerResponse* response) {
  FieldViolations v;
  if (!IsRegionName(request->region())) {
    v.Add("region", "must be a committee or street, \"regions/CODE\"");
  }
  const int days = request->window_days() == 0 ? 7 : request->window_days();
  if (days < 1 || days > 31) v.Add("window_days", "must be between 1 and 31 (0 means 7)");
  if (absl::Status s = v.ToStatus(); !s.ok()) return Reply(*context, s);
  absl::StatusOr<Page> page =
      Page::Start(request->page_size(), request->page_token(),
                  absl::StrCat("awaiting|", request->region(), "|", days), 50, 500);
  if (!page.ok()) return Reply(*context, page.status());
  return Reply(*context, perception_.AwaitingAnswer(*request, days, *page, response));
}

grpc::Status FeedbackServiceImpl::ListFeedback(grpc::ServerContext* context,
                                               const v1::ListFeedbackRequest* request,
                                               v1::ListFeedbackResponse* response) {
  FieldViolations v;
  if (request->region().empty() && request->elder().empty()) {
    v.Add("region", "a committee or street (\"regions/CODE\") or an elder is required");
  }
  if (!request->region().empty() && !IsRegionName(request->region())) {
    v.Add("region", "must be a committee or street, \"regions/CODE\"");
  }
  if (!request->elder().empty() && !IdOf(request->elder(), "elders/").has_value()) {
    v.Add("elder", "must look like \"elders/ID\"");
  }
  const int days = request->window_days() == 0 ? 30 : request->window_days();
  if (days < 1 || days > 90) v.Add("window_days", "must be between 1 and 90 (0 means 30)");
  std::optional<size_t> reason = Utf8Length(request->reason());
  if (!reason.has_value() || *reason > 256) {
    v.Add("reason", "must be valid UTF-8 of at most 256 characters");
  }
  if (absl::Status s = v.ToStatus(); !s.ok()) return Reply(*context, s);
  absl::StatusOr<Page> page =
      Page::Start(request->page_size(), request->page_token(),
                  absl::StrCat("feedback|", request->region(), "|", request->elder(), "|", days,
                               "|", request->with_words_only() ? 1 : 0),
                  50, 500);
  if (!page.ok()) return Reply(*context, page.status());
  return Reply(*context,
               perception_.ListFeedback(*request, days, *page, CallerOf(*context), response));
}

grpc::Status FeedbackServiceImpl::ListVisitsAwaitingReview(
    grpc::ServerContext* context, const v1::ListVisitsAwaitingReviewRequest* request,
    v1::ListVisitsAwaitingReviewResponse* response) {
  FieldViolations v;
  if (request->region().empty() && request->owner_organisation().empty()) {
    v.Add("region",
          "a committee or street (\"regions/CODE\") or an owner_organisation is required");
  }
  if (!request->region().empty() && !IsRegionName(request->region())) {
    v.Add("region", "must be a committee or street, \"regions/CODE\"");
  }
  if (!request->owner_organisation().empty() &&
      !IdOf(request->owner_organisation(), "organisations/").has_value()) {
    v.Add("owner_organisation", "must look like \"organisations/ID\"");
  }
  if (absl::Status s = v.ToStatus(); !s.ok()) return Reply(*context, s);
  absl::StatusOr<Page> page = Page::Start(
      request->page_size(), request->page_token(),
      absl::StrCat("review|", request->region(), "|", request->owner_organisation()), 50, 500);
  if (!page.ok()) return Reply(*context, page.status());
  return Reply(*context, perception_.AwaitingReview(*request, *page, response));
}

grpc::Status FeedbackServiceImpl::GetDayBoard(grpc::ServerContext* context,
                                              const v1::GetDayBoardRequest* request,
                                              v1::GetDayBoardResponse* response) {
  FieldViolations v;
  if (!IsRegionName(request->region())) {
    v.Add("region", "must be a committee or street, \"regions/CODE\"");
  }
  std::optional<int64_t> day;
  if (!request->date().empty()) {
    int64_t parsed = 0;
    if (ParseDay(request->date(), &parsed)) {
      day = parsed;
    } else {
      v.Add("date", "must be a day, YYYY-MM-DD (empty means today)");
    }
  }
  absl::StatusOr<int> limit = ResolvePageSize(request->attention_limit(), 50, 500);
  if (!limit.ok()) v.Add("attention_limit", "must not be negative (0 means 50, at most 500)");
  if (absl::Status s = v.ToStatus(); !s.ok()) return Reply(*context, s);
  absl::StatusOr<v1::GetDayBoardResponse> board =
      perception_.DayBoard(request->region(), day, *limit);
  if (board.ok()) *response = *std::move(board);
  return Reply(*context, board.status());
}

grpc::Status FeedbackServiceImpl::ListAuditEntries(grpc::ServerContext* context,
                                                   const v1::ListAuditEntriesRequest* request,
                                                   v1::ListAuditEntriesResponse* response) {
  return Reply(*context, FillAuditPage(db_, *request, response));
}

grpc::Status FeedbackServiceImpl::GetPromiseLedger(grpc::ServerContext* context,
                                                   const v1::GetPromiseLedgerRequest* request,
                                                   v1::GetPromiseLedgerResponse* response) {
  FieldViolations v;
  if (!IdOf(request->subject(), "commitments/").has_value() &&
      !IdOf(request->subject(), "elders/").has_value()) {
    v.Add("subject", "must be \"commitments/ID\" or \"elders/ID\"");
  }
  absl::StatusOr<int> days = WindowDays(request->window_days());
  if (!days.ok()) v.Add("window_days", "must be 7, 30 or 90 (0 means 30)");
  if (absl::Status s = v.ToStatus(); !s.ok()) return Reply(*context, s);
  absl::StatusOr<v1::PromiseLedger> ledger = perception_.Ledger(request->subject(), *days);
  if (ledger.ok()) *response->mutable_ledger() = *std::move(ledger);
  return Reply(*context, ledger.status());
}

grpc::Status FeedbackServiceImpl::GetPerceptionIndex(grpc::ServerContext* context,
                                                     const v1::GetPerceptionIndexRequest* request,
                                                     v1::GetPerceptionIndexResponse* response) {
  FieldViolations v;
  const std::string& s = request->subject();
  CheckIndexSubject(s, v);
  absl::StatusOr<int> days = WindowDays(request->window_days());
  if (!days.ok()) v.Add("window_days", "must be 7, 30 or 90 (0 means 30)");
  if (absl::Status st = v.ToStatus(); !st.ok()) return Reply(*context, st);
  absl::StatusOr<v1::PerceptionIndex> index = perception_.Index(s, *days);
  if (index.ok()) *response->mutable_index() = *std::move(index);
  return Reply(*context, index.status());
}

grpc::Status FeedbackServiceImpl::ListPromises(grpc::ServerContext* context,
                                               const v1::ListPromisesRequest* request,
                                               v1::ListPromisesResponse* response) {
  FieldViolations v;
  if (!IsRegionName(request->region())) {
    v.Add("region", "must be a committee or street, \"regions/CODE\"");
  }
  const int days = request->days() == 0 ? 7 : request->days();
  if (days < 1 || days > 90) v.Add("days", "must be between 1 and 90 (0 means 7)");
  if (!request->owner_organisation().empty() &&
      !IdOf(request->owner_organisation(), "organisations/").has_value()) {
    v.Add("owner_organisation", "must look like \"organisations/ID\"");
  }
  if (!request->service_type().empty() &&
      !IdOf(request->service_type(), "serviceTypes/").has_value()) {
    v.Add("service_type", "must look like \"serviceTypes/CODE\"");
  }
  if (!v1::PromiseStatus_IsValid(request->status())) v.Add("status", "unknown verdict");
  if (absl::Status st = v.ToStatus(); !st.ok()) return Reply(*context, st);
  absl::StatusOr<Page> page = Page::Start(
      request->page_size(), request->page_token(),
      absl::StrCat("promises|", request->region(), "|", days, "|", request->owner_organisation(),
                   "|", request->service_type(), "|", static_cast<int>(request->status())),
      50, 500);
  if (!page.ok()) return Reply(*context, page.status());
  return Reply(*context, perception_.Promises(*request, days, *page, response));
}

grpc::Status FeedbackServiceImpl::GetPerceptionTrend(grpc::ServerContext* context,
                                                     const v1::GetPerceptionTrendRequest* request,
                                                     v1::GetPerceptionTrendResponse* response) {
  FieldViolations v;
  CheckIndexSubject(request->subject(), v);
  const int weeks = request->weeks() == 0 ? 12 : request->weeks();
  if (weeks < 1 || weeks > 26) v.Add("weeks", "must be between 1 and 26 (0 means 12)");
  if (absl::Status st = v.ToStatus(); !st.ok()) return Reply(*context, st);
  absl::StatusOr<v1::GetPerceptionTrendResponse> trend =
      perception_.Trend(request->subject(), weeks);
  if (trend.ok()) *response = *std::move(trend);
  return Reply(*context, trend.status());
}

}  // namespace linli::feedback
