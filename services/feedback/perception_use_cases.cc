#include "services/feedback/perception_use_cases.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/errors.h"
#include "common/idempotency.h"
#include "common/ids.h"
#include "common/import_problems.h"
#include "common/proto_time.h"
#include "common/status_macros.h"
#include "common/text.h"
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

std::vector<FieldProblem> FeedbackFieldProblems(const v1::Feedback& in) {
  std::vector<FieldProblem> problems;
  if (!absl::StartsWith(in.visit(), "visits/") || !IsSlug(in.visit().substr(7), 64)) {
    problems.push_back(
        {"feedback.visit", "must look like \"visits/ID\"", "须为“visits/ID”形式的探访"});
  }
  if (!absl::StartsWith(in.author(), "elders/") && !absl::StartsWith(in.author(), "workers/")) {
    problems.push_back(
        {"feedback.author",
         "must be \"elders/ID\", \"elders/ID/contacts/N\" (a proxy) or \"workers/ID\"",
         "须为老人“elders/ID”、代理人“elders/ID/contacts/N”或服务人员“workers/ID”"});
  }
  if (in.channel() == v1::FEEDBACK_CHANNEL_UNSPECIFIED ||
      !v1::FeedbackChannel_IsValid(in.channel())) {
    problems.push_back({"feedback.channel",
                        "must be FEEDBACK_CHANNEL_APP, _PHONE_CALL, _PROXY or _DOOR_VISIT",
                        "渠道须为 APP、电话、代理人或上门之一"});
  }
  if (in.faces() < 1 || in.faces() > 5) {
    problems.push_back({"feedback.faces", "must be between 1 and 5", "笑脸数须在 1 到 5 之间"});
  }
  if (!v1::Answer_IsValid(in.did_as_promised())) {
    problems.push_back({"feedback.did_as_promised", "unknown answer", "未知的回答"});
  }
  if (!v1::Answer_IsValid(in.felt_cared_for())) {
    problems.push_back({"feedback.felt_cared_for", "unknown answer", "未知的回答"});
  }
  std::optional<size_t> words = Utf8Length(in.words());
  if (!words.has_value() || *words > 500) {
    problems.push_back({"feedback.words", "must be valid UTF-8 of at most 500 characters",
                        "留言须为有效的 UTF-8 文本，至多 500 字"});
  }
  return problems;
}

absl::Status PerceptionUseCases::RecordAnswer(storage::Transaction& tx, const v1::Feedback& in,
                                              const std::string& recorded_by, absl::Time at,
                                              AnswerSource source, v1::Feedback* stored) {
  const std::string visit_id = in.visit().substr(7);  // "visits/ID", checked by the caller
  ASSIGN_OR_RETURN(std::optional<ProjectedVisit> visit, FindVisit(tx, visit_id));
  if (!visit.has_value()) return NotFound(in.visit());
  ASSIGN_OR_RETURN(std::optional<ElderFacts> elder, FindElderFacts(tx, visit->elder));
  ASSIGN_OR_RETURN(std::optional<CommitmentFacts> commitment,
                   FindCommitmentFacts(tx, visit->commitment_id));
  const ElderFacts elder_facts = elder.value_or(ElderFacts{});
  const CommitmentFacts commitment_facts = commitment.value_or(CommitmentFacts{});
  // Whose visit it is comes first: a stranger learns nothing of its state (that someone is in
  // that home right now).
  ASSIGN_OR_RETURN(const bool elder_voice, IsElderVoice(in.author(), *visit, elder_facts));
  RETURN_IF_ERROR(CheckAnswerable(in, *visit, elder_voice));
  if (source == AnswerSource::kImported) RETURN_IF_ERROR(CheckAnswerTime(at, *visit));

  *stored = in;
  const std::string id = NewId(clock_);
  stored->set_name("feedback/" + id);
  stored->set_commitment("commitments/" + visit->commitment_id);
  stored->set_elder(visit->elder);
  stored->set_recorded_by(recorded_by);
  *stored->mutable_create_time() = ToTimestamp(at);
  absl::Status inserted = InsertFeedback(tx, cipher_, id, visit_id, *stored, at);
  if (absl::IsAlreadyExists(inserted)) {
    return WithReason(absl::AlreadyExistsError(
                          absl::StrCat(in.visit(), " already has feedback from ", in.author())),
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
      RETURN_IF_ERROR(AddCounters(tx, db_.dialect(), key, visit->day, delta));
    }
  }
  if (in.nobody_came()) {
    RETURN_IF_ERROR(
        InsertAlertOnce(tx, NewAlertRow(clock_, ContradictionAlert(in.visit(), visit->elder,
                                                                   elder_facts.committee,
                                                                   in.author(), visit->worker, at)))
            .status());
  }
  return absl::OkStatus();
}

absl::Status PerceptionUseCases::Submit(const v1::SubmitFeedbackRequest& request,
                                        const std::string& recorded_by,
                                        v1::SubmitFeedbackResponse* response) {
  const v1::Feedback& in = request.feedback();
  const absl::Time now = clock_.Now();
  RETURN_IF_ERROR(RunIdempotent(
      db_, "SubmitFeedback", request.request_id(), request, response,
      [&](storage::Transaction& tx) -> absl::Status {
        v1::Feedback stored;
        RETURN_IF_ERROR(RecordAnswer(tx, in, recorded_by, now, AnswerSource::kLive, &stored));
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

namespace {

// What an ImportFeedback transaction returns to be rolled back (dry run, or a refused row without
// skip_bad_rows): not an error.
constexpr char kImportNotWritten[] = "import checked, not written";

// Why the rules refused an answer, in Chinese, by the field they named.
std::string RefusalZh(const std::string& field, absl::StatusCode code) {
  if (code == absl::StatusCode::kFailedPrecondition) {
    return "该探访没有完成：只能为已完成的探访导入回答";
  }
  if (field == "feedback.author") return "不是该老人、老人的代理人，也不是签到的服务人员";
  if (field == "feedback.nobody_came") return "签到的服务人员不能报告“没人来”";
  if (field == "feedback.answer_time") return "早于探访开始的时间";
  return "该行被拒绝（见英文说明）";
}

// Adds the problems of a row that RecordAnswer refused with `status` (INVALID_ARGUMENT,
// FAILED_PRECONDITION or NOT_FOUND).
void AddRefusal(const v1::ImportedFeedback& row, const absl::Status& status, RowProblems* to) {
  if (absl::IsNotFound(status)) {
    AddProblem(row.line(), "feedback.visit",
               absl::StrCat(row.feedback().visit(),
                            " is not known to feedback yet: scheduling's events of it have "
                            "not been consumed; import again later"),
               "反馈服务还不知道这次探访：排班服务的相关事件尚未处理，请稍后再导入", to);
    return;
  }
  if (std::optional<google::rpc::BadRequest> bad = GetBadRequest(status);
      bad.has_value() && bad->field_violations_size() > 0) {
    for (const auto& violation : bad->field_violations()) {
      AddProblem(row.line(), violation.field(), violation.description(),
                 RefusalZh(violation.field(), status.code()), to);
    }
    return;
  }
  // "field: reason" names its field; anything else is about the answer as a whole.
  const absl::string_view message = status.message();
  std::string field = "feedback";
  std::string reason(message);
  if (const size_t colon = message.find(": ");
      colon != absl::string_view::npos && absl::StartsWith(message, "feedback.")) {
    field = std::string(message.substr(0, colon));
    reason = std::string(message.substr(colon + 2));
  }
  std::string zh = RefusalZh(field, status.code());
  AddProblem(row.line(), std::move(field), std::move(reason), std::move(zh), to);
}

}  // namespace

absl::StatusOr<v1::ImportFeedbackResponse> PerceptionUseCases::Import(
    const v1::ImportFeedbackRequest& request, const std::string& recorded_by) {
  if (request.rows_size() < 1 || request.rows_size() > kMaxImportRows) {
    return InvalidField("rows", absl::StrCat("must hold 1 to ", kMaxImportRows, " rows"));
  }
  const absl::Time now = clock_.Now();
  v1::ImportFeedbackResponse response;
  // First each row alone, without the database: its fields and its time.
  std::vector<const v1::ImportedFeedback*> ready;
  std::map<std::pair<std::string, std::string>, int> lines;  // (visit, author) -> first line
  for (const v1::ImportedFeedback& row : request.rows()) {
    std::vector<FieldProblem> problems = FeedbackFieldProblems(row.feedback());
    const google::protobuf::Timestamp& t = row.answer_time();
    if (!row.has_answer_time()) {
      problems.push_back(
          {"feedback.answer_time", "is required: when the answer was given", "必须填写回答的时间"});
    } else if (t.seconds() < 0 || t.nanos() < 0 || t.nanos() > 999999999) {
      problems.push_back(
          {"feedback.answer_time", "is not a valid time after 1970", "不是有效的时间"});
    } else if (t.seconds() > absl::ToUnixSeconds(now) || FromTimestamp(t) > now) {
      problems.push_back({"feedback.answer_time",
                          "is in the future; only past answers are imported",
                          "在将来；只能导入过去的回答"});
    }
    if (problems.empty()) {
      // One answer per author and visit: a second row for them is refused, not merged.
      auto [first, fresh] =
          lines.emplace(std::pair(row.feedback().visit(), row.feedback().author()), row.line());
      if (!fresh) {
        problems.push_back({"feedback", absl::StrCat("the same answer as line ", first->second),
                            absl::StrCat("与第 ", first->second, " 行是同一个回答")});
      }
    }
    for (FieldProblem& p : problems) {
      AddProblem(row.line(), std::move(p.field), std::move(p.reason), std::move(p.reason_zh),
                 response.mutable_problems());
    }
    if (problems.empty()) ready.push_back(&row);
  }

  // Then every row that passed, in one transaction, as Submit records a live answer; rolled back
  // with dry_run or when a row is refused without skip_bad_rows.
  const int checked = response.problems_size();
  absl::Status status = db_.RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
    // A retried transaction starts the rows again.
    while (response.problems_size() > checked) response.mutable_problems()->RemoveLast();
    response.set_created(0);
    response.set_existing(0);
    response.set_written(false);
    for (const v1::ImportedFeedback* row : ready) {
      v1::Feedback stored;
      absl::Status recorded =
          RecordAnswer(tx, row->feedback(), recorded_by, FromTimestamp(row->answer_time()),
                       AnswerSource::kImported, &stored);
      if (recorded.ok()) {
        response.set_created(response.created() + 1);
      } else if (absl::IsAlreadyExists(recorded)) {
        response.set_existing(response.existing() + 1);
      } else if (absl::IsInvalidArgument(recorded) || absl::IsFailedPrecondition(recorded) ||
                 absl::IsNotFound(recorded)) {
        AddRefusal(*row, recorded, response.mutable_problems());
      } else {
        return recorded;
      }
    }
    if (request.dry_run() || (response.problems_size() > 0 && !request.skip_bad_rows())) {
      return absl::CancelledError(kImportNotWritten);
    }
    response.set_written(response.created() > 0);
    return absl::OkStatus();
  });
  if (!status.ok() && !(absl::IsCancelled(status) && status.message() == kImportNotWritten)) {
    return status;
  }
  // The problems by line: those found without the database came first.
  SortByLine(*response.mutable_problems());
  return response;
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
