#include "services/feedback/perception_use_cases.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/errors.h"
#include "common/idempotency.h"
#include "common/ids.h"
#include "common/proto_time.h"
#include "common/status_macros.h"
#include "services/feedback/alert_policy.h"
#include "services/feedback/alert_use_cases.h"
#include "services/feedback/feedback_answer.h"
#include "services/feedback/feedback_store.h"
#include "services/feedback/perception_proto.h"
#include "services/feedback/work_order.h"

namespace linli::feedback {
namespace {

// Midnight (Shanghai) starting local day `day`.
absl::Time DayStart(int64_t day) { return absl::FromUnixSeconds(day * 86400 - 8 * 3600); }

}  // namespace

absl::Status PerceptionUseCases::ConsumerStatus(v1::GetConsumerStatusResponse* response) {
  return db_.RunInTransaction(
      [&](storage::Transaction& tx) -> absl::Status {
        response->Clear();
        ASSIGN_OR_RETURN(std::vector<ConsumerCursor> cursors, ListCursors(tx));
        for (const ConsumerCursor& cursor : cursors) {
          v1::ConsumerCursor* out = response->add_cursors();
          out->set_source(cursor.source);
          out->set_sequence(cursor.sequence);
          if (cursor.update_time > absl::UnixEpoch()) {
            *out->mutable_update_time() = ToTimestamp(cursor.update_time);
          }
        }
        return absl::OkStatus();
      },
      {.read_only = true});
}

absl::Status PerceptionUseCases::Submit(const v1::SubmitFeedbackRequest& request,
                                        const std::string& recorded_by,
                                        v1::SubmitFeedbackResponse* response) {
  const v1::Feedback& in = request.feedback();
  const std::string visit_id = in.visit().substr(7);  // "visits/ID", checked by the adapter
  const absl::Time now = clock_.Now();
  const storage::Dialect dialect = db_.dialect();
  RETURN_IF_ERROR(RunIdempotent(
      db_, "SubmitFeedback", request.request_id(), request, response,
      [&](storage::Transaction& tx) -> absl::Status {
        ASSIGN_OR_RETURN(std::optional<ProjectedVisit> visit, FindVisit(tx, visit_id));
        if (!visit.has_value()) return NotFound(in.visit());
        ASSIGN_OR_RETURN(std::optional<ElderFacts> elder, FindElderFacts(tx, visit->elder));
        ASSIGN_OR_RETURN(std::optional<CommitmentFacts> commitment,
                         FindCommitmentFacts(tx, visit->commitment_id));
        const ElderFacts elder_facts = elder.value_or(ElderFacts{});
        const CommitmentFacts commitment_facts = commitment.value_or(CommitmentFacts{});
        // Whose visit it is comes first: a stranger learns nothing of its state (that someone is
        // in that home right now).
        ASSIGN_OR_RETURN(const bool elder_voice, IsElderVoice(in.author(), *visit, elder_facts));
        RETURN_IF_ERROR(CheckAnswerable(in, *visit, elder_voice));

        v1::Feedback stored = in;
        const std::string id = NewId(clock_);
        stored.set_name("feedback/" + id);
        stored.set_commitment("commitments/" + visit->commitment_id);
        stored.set_elder(visit->elder);
        stored.set_recorded_by(recorded_by);
        *stored.mutable_create_time() = ToTimestamp(now);
        absl::Status inserted = InsertFeedback(tx, cipher_, id, visit_id, stored, now);
        if (absl::IsAlreadyExists(inserted)) {
          return WithReason(absl::AlreadyExistsError(absl::StrCat(
                                in.visit(), " already has feedback from ", in.author())),
                            common::v1::ERROR_REASON_ALREADY_EXISTS);
        }
        RETURN_IF_ERROR(inserted);

        if (elder_voice) {
          const VisitSubjects subjects{"commitments/" + visit->commitment_id, visit->elder,
                                       commitment_facts.organisation, elder_facts.committee,
                                       elder_facts.street};
          Figures delta = AnswerContribution(in.faces(), in.did_as_promised(), in.felt_cared_for());
          if (Disputes(in)) {
            ASSIGN_OR_RETURN(bool changed, MarkDisputed(tx, visit_id));
            if (changed) delta[kDisputed] += 1;
          }
          for (const std::string& key : SubjectKeys(subjects, visit->worker)) {
            RETURN_IF_ERROR(AddCounters(tx, dialect, key, visit->day, delta));
          }
        }
        if (in.nobody_came()) {
          RETURN_IF_ERROR(
              InsertAlertOnce(
                  tx, NewAlertRow(clock_, ContradictionAlert(in.visit(), visit->elder,
                                                             elder_facts.committee, in.author(),
                                                             visit->worker, now)))
                  .status());
        }
        // The reply stored for request_id retries carries no words (they are sealed in the
        // answer); they are put back below from the request, which a retry must repeat exactly.
        *response->mutable_feedback() = std::move(stored);
        response->mutable_feedback()->clear_words();
        return absl::OkStatus();
      },
      clock_));
  response->mutable_feedback()->set_words(in.words());
  return absl::OkStatus();
}

absl::Status PerceptionUseCases::AwaitingReview(const v1::ListVisitsAwaitingReviewRequest& request,
                                                const Page& page,
                                                v1::ListVisitsAwaitingReviewResponse* response) {
  int64_t after_day = INT64_MIN;
  std::string after_id;
  if (!page.after.empty()) {
    const std::pair<std::string, std::string> key = absl::StrSplit(page.after, ':');
    if (!absl::SimpleAtoi(key.first, &after_day) || key.second.empty()) {
      return InvalidField("page_token", "is not a token of this list");
    }
    after_id = key.second;
  }
  return db_.RunInTransaction(
      [&](storage::Transaction& tx) -> absl::Status {
        response->Clear();
        ASSIGN_OR_RETURN(std::vector<ReviewRow> rows,
                         VisitsAwaitingReview(tx, request.region(), request.owner_organisation(),
                                              after_day, after_id, page.limit()));
        response->set_next_page_token(page.Finish(
            rows, [](const ReviewRow& r) { return absl::StrCat(r.day, ":", r.visit_id); }));
        for (const ReviewRow& r : rows) {
          v1::AwaitingReview* out = response->add_visits();
          out->set_visit("visits/" + r.visit_id);
          out->set_elder(r.elder);
          out->set_commitment("commitments/" + r.commitment_id);
          out->set_owner_organisation(r.organisation);
          out->set_committee(r.committee);
          out->set_visit_date(DayString(r.day));
        }
        return absl::OkStatus();
      },
      {.read_only = true});
}

absl::StatusOr<v1::GetDayBoardResponse> PerceptionUseCases::DayBoard(const std::string& region,
                                                                     std::optional<int64_t> day,
                                                                     int attention_limit) {
  const absl::Time now = clock_.Now();
  const int64_t board_day = day.value_or(LocalDay(now));
  std::vector<BoardRow> rows;
  RETURN_IF_ERROR(db_.RunInTransaction(
      [&](storage::Transaction& tx) -> absl::Status {
        ASSIGN_OR_RETURN(rows, VisitsOfDay(tx, region, board_day));
        return absl::OkStatus();
      },
      {.read_only = true}));
  v1::GetDayBoardResponse board = BuildDayBoard(rows, now, attention_limit);
  board.set_date(DayString(board_day));
  *board.mutable_as_of() = ToTimestamp(now);
  return board;
}

namespace {

// The page key of an answer: its record time in microseconds and its id, "US:ID".
std::string FeedbackKey(const v1::Feedback& answer) {
  const int64_t us = answer.create_time().seconds() * 1000000 + answer.create_time().nanos() / 1000;
  return absl::StrCat(us, ":", answer.name().substr(sizeof("feedback/") - 1));
}

}  // namespace

absl::Status PerceptionUseCases::ListFeedback(const v1::ListFeedbackRequest& request,
                                              int window_days, const Page& page,
                                              const Caller& caller,
                                              v1::ListFeedbackResponse* response) {
  const absl::Time now = clock_.Now();
  FeedbackQuery query{.region = request.region(),
                      .elder = request.elder(),
                      .with_words_only = request.with_words_only(),
                      .since_us = absl::ToUnixMicros(DayStart(LocalDay(now) - window_days + 1)),
                      .before_us = 0,
                      .before_id = "",
                      .limit = page.limit()};
  if (!page.after.empty()) {
    const std::pair<std::string, std::string> key = absl::StrSplit(page.after, ':');
    if (!absl::SimpleAtoi(key.first, &query.before_us) || key.second.empty()) {
      return InvalidField("page_token", "is not a token of this list");
    }
    query.before_id = key.second;
  }
  return db_.RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
    response->Clear();
    ASSIGN_OR_RETURN(std::vector<v1::Feedback> answers, QueryFeedback(tx, cipher_, query));
    response->set_next_page_token(page.Finish(answers, FeedbackKey));
    for (v1::Feedback& answer : answers) {
      if (!answer.words().empty()) {
        RETURN_IF_ERROR(AuditPersonalData(tx, caller, now,
                                          {.elder = answer.elder(),
                                           .resource = answer.name(),
                                           .fields = "words",
                                           .reason = request.reason(),
                                           .action = "read"}));
      }
      *response->add_feedback() = std::move(answer);
    }
    return absl::OkStatus();
  });
}

absl::Status PerceptionUseCases::AwaitingAnswer(const v1::ListVisitsAwaitingAnswerRequest& request,
                                                int window_days, const Page& page,
                                                v1::ListVisitsAwaitingAnswerResponse* response) {
  const int64_t today = LocalDay(clock_.Now());
  std::vector<feedback::AwaitingAnswer> queue;
  RETURN_IF_ERROR(db_.RunInTransaction(
      [&](storage::Transaction& tx) -> absl::Status {
        ASSIGN_OR_RETURN(
            queue, VisitsAwaitingAnswer(tx, request.region(), today - window_days + 1, today));
        return absl::OkStatus();
      },
      {.read_only = true}));
  RankByNeed(queue);
  // The page after the last key of the previous one: the queue is ranked in memory (it is one
  // committee's or street's visits of at most a month), the token keyed like the ranking.
  std::vector<feedback::AwaitingAnswer> rows;
  for (feedback::AwaitingAnswer& a : queue) {
    if (!page.after.empty() && NeedKey(a) <= page.after) continue;
    rows.push_back(std::move(a));
    if (static_cast<int>(rows.size()) == page.limit()) break;
  }
  response->Clear();
  response->set_next_page_token(page.Finish(rows, NeedKey));
  for (const feedback::AwaitingAnswer& a : rows) {
    v1::AwaitingVisit* out = response->add_visits();
    out->set_visit("visits/" + a.visit_id);
    out->set_elder(a.elder);
    out->set_commitment("commitments/" + a.commitment_id);
    out->set_worker(a.worker);
    out->set_visit_date(DayString(a.day));
    out->set_solitary(a.solitary);
    out->set_disputed_visits(a.disputed_visits);
    if (a.last_answer_us > 0) {
      *out->mutable_last_answer_time() = ToTimestamp(absl::FromUnixMicros(a.last_answer_us));
    }
  }
  return absl::OkStatus();
}

absl::Status PerceptionUseCases::Promises(const v1::ListPromisesRequest& request, int days,
                                          const Page& page, v1::ListPromisesResponse* response) {
  const int64_t today = LocalDay(clock_.Now());
  std::vector<PromiseRow> rows;
  std::map<std::string, int> open;
  RETURN_IF_ERROR(db_.RunInTransaction(
      [&](storage::Transaction& tx) -> absl::Status {
        ASSIGN_OR_RETURN(rows, PromisesOfRegion(tx, db_.dialect(), request.region(),
                                                request.owner_organisation(),
                                                request.service_type(), today - days + 1, today));
        ASSIGN_OR_RETURN(open, OpenComplaintsByCommitment(tx, cipher_, request.region()));
        return absl::OkStatus();
      },
      {.read_only = true}));
  struct Judged {
    std::string key;
    v1::PromiseStatus status = v1::PROMISE_STATUS_UNSPECIFIED;
    std::vector<v1::PromiseIssue> issues;
    int open_complaints = 0;
    const PromiseRow* row = nullptr;
  };
  std::vector<Judged> judged;
  judged.reserve(rows.size());
  response->Clear();
  for (const PromiseRow& row : rows) {
    const auto it = open.find("commitments/" + row.commitment.id);
    const int complaints = it == open.end() ? 0 : it->second;
    // The same verdict as the promise's ledger over these days.
    const auto status = static_cast<v1::PromiseStatus>(Verdict(row.figures));
    switch (status) {
      case v1::PROMISE_STATUS_BROKEN:
        response->set_broken(response->broken() + 1);
        break;
      case v1::PROMISE_STATUS_AT_RISK:
        response->set_at_risk(response->at_risk() + 1);
        break;
      default:
        response->set_kept(response->kept() + 1);
        if (row.figures[kExpected] == 0) response->set_no_visits_due(response->no_visits_due() + 1);
    }
    if (request.status() != v1::PROMISE_STATUS_UNSPECIFIED && status != request.status()) continue;
    std::vector<v1::PromiseIssue> issues = PromiseIssues(row.figures, complaints);
    std::string key = PromiseKey(row.figures, issues.size(), row.commitment.id);
    if (!page.after.empty() && key <= page.after) continue;
    judged.push_back(Judged{std::move(key), status, std::move(issues), complaints, &row});
  }
  std::sort(judged.begin(), judged.end(),
            [](const Judged& a, const Judged& b) { return a.key < b.key; });
  if (static_cast<int>(judged.size()) > page.limit()) judged.resize(page.limit());
  response->set_next_page_token(page.Finish(judged, [](const Judged& j) { return j.key; }));
  for (const Judged& j : judged) {
    v1::PromiseOverview* out = response->add_promises();
    out->set_commitment("commitments/" + j.row->commitment.id);
    out->set_elder(j.row->commitment.elder);
    out->set_committee(j.row->committee);
    out->set_owner_organisation(j.row->commitment.organisation);
    out->set_service_type(j.row->commitment.service_type);
    out->set_status(j.status);
    for (v1::PromiseIssue issue : j.issues) out->add_issues(issue);
    ToProto(j.row->figures, out->mutable_figures());
    out->set_open_complaints(j.open_complaints);
    out->set_moved_to(j.row->moved_to);
  }
  return absl::OkStatus();
}

absl::StatusOr<Figures> PerceptionUseCases::WindowFigures(const std::string& subject, int days,
                                                          int64_t last_day) {
  Figures f;
  RETURN_IF_ERROR(db_.RunInTransaction(
      [&](storage::Transaction& tx) -> absl::Status {
        ASSIGN_OR_RETURN(f, SumCounters(tx, subject, last_day - days + 1, last_day));
        return absl::OkStatus();
      },
      {.read_only = true}));
  return f;
}

absl::StatusOr<v1::PromiseLedger> PerceptionUseCases::Ledger(const std::string& subject,
                                                             int window_days) {
  const int64_t today = LocalDay(clock_.Now());
  ASSIGN_OR_RETURN(Figures f, WindowFigures(subject, window_days, today));
  return MakeLedger(subject, window_days, today, f);
}

absl::StatusOr<v1::PerceptionIndex> PerceptionUseCases::Index(const std::string& subject,
                                                              int window_days) {
  ASSIGN_OR_RETURN(Figures f, WindowFigures(subject, window_days, LocalDay(clock_.Now())));
  v1::PerceptionIndex index;
  ToProto(subject, window_days, f, &index);
  return index;
}

absl::StatusOr<v1::GetPerceptionTrendResponse> PerceptionUseCases::Trend(const std::string& subject,
                                                                         int weeks) {
  const int64_t today = LocalDay(clock_.Now());
  const int64_t this_monday = WeekStart(today);
  v1::GetPerceptionTrendResponse trend;
  trend.set_subject(subject);
  RETURN_IF_ERROR(db_.RunInTransaction(
      [&](storage::Transaction& tx) -> absl::Status {
        trend.clear_weeks();
        for (int w = weeks - 1; w >= 0; --w) {
          const int64_t monday = this_monday - 7 * w;
          const int64_t last = std::min(monday + 6, today);
          ASSIGN_OR_RETURN(Figures f, SumCounters(tx, subject, monday, last));
          v1::PerceptionWeek* week = trend.add_weeks();
          week->set_week_start(DayString(monday));
          ToProto(subject, static_cast<int>(last - monday + 1), f, week->mutable_index());
        }
        return absl::OkStatus();
      },
      {.read_only = true}));
  return trend;
}

absl::StatusOr<v1::EvaluationReport> PerceptionUseCases::Report(
    const v1::GetEvaluationReportRequest& request, int64_t from, int64_t to, Directory& directory) {
  v1::EvaluationReport report;
  report.set_organisation(request.organisation());
  report.set_from_date(request.from_date());
  report.set_to_date(request.to_date());
  report.set_organisation_display_name(directory.DisplayName(request.organisation()));
  Figures f;
  std::vector<WorkOrderRow> rows;
  RETURN_IF_ERROR(db_.RunInTransaction(
      [&](storage::Transaction& tx) -> absl::Status {
        ASSIGN_OR_RETURN(f, SumCounters(tx, request.organisation(), from, to));
        report.clear_weeks();
        for (int64_t monday = WeekStart(from); monday <= to; monday += 7) {
          const int64_t first = std::max(monday, from);
          const int64_t last = std::min(monday + 6, to);
          ASSIGN_OR_RETURN(Figures week_figures,
                           SumCounters(tx, request.organisation(), first, last));
          v1::PerceptionWeek* week = report.add_weeks();
          week->set_week_start(DayString(monday));
          ToProto(request.organisation(), static_cast<int>(last - first + 1), week_figures,
                  week->mutable_index());
        }
        ASSIGN_OR_RETURN(rows, WorkOrdersOfPeriod(tx, cipher_, request.organisation(),
                                                  DayStart(from), DayStart(to + 1)));
        return absl::OkStatus();
      },
      {.read_only = true}));
  ToProto(f, report.mutable_figures());
  report.set_kept_ratio(KeptRatio(f));
  report.set_punctuality(Punctuality(f));
  report.set_continuity(Continuity(f));
  report.set_mean_faces(MeanFaces(f));
  ToProto(request.organisation(), static_cast<int>(to - from + 1), f, report.mutable_index());
  std::vector<v1::WorkOrder> orders;
  orders.reserve(rows.size());
  for (WorkOrderRow& row : rows) orders.push_back(std::move(row.order));
  *report.mutable_complaints() = SummariseComplaints(orders);
  return report;
}

}  // namespace linli::feedback
