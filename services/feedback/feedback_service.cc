// FeedbackService: consumer status, visit feedback, promise ledger and perception index.
#include "services/feedback/feedback_service.h"

#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/idempotency.h"
#include "common/ids.h"
#include "common/server.h"
#include "common/status_macros.h"
#include "common/text.h"
#include "google/protobuf/util/time_util.h"
#include "services/feedback/feedback_store.h"

namespace linli::feedback {
namespace {

using google::protobuf::util::TimeUtil;

// "prefix/ID" with a slug id; the id, or nullopt.
std::optional<std::string> IdOf(const std::string& name, absl::string_view prefix) {
  if (!absl::StartsWith(name, prefix)) return std::nullopt;
  std::string id = name.substr(prefix.size());
  if (!IsSlug(id, 64)) return std::nullopt;
  return id;
}

bool ValidAnswer(v1::Answer a) { return v1::Answer_IsValid(a); }

// 7, 30 or 90 (0 = 30); INVALID_ARGUMENT otherwise.
absl::StatusOr<int> WindowDays(int requested) {
  if (requested == 0) return 30;
  if (requested == 7 || requested == 30 || requested == 90) return requested;
  return InvalidField("window_days", "must be 7, 30 or 90 (0 means 30)");
}

google::protobuf::Timestamp ToTimestamp(absl::Time t) {
  return TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(t));
}

// Whether `author` may answer for the visit, and whether the answer counts as the elder's voice
// (elder or proxy) rather than the worker's.
absl::Status CheckAuthor(const std::string& author, const ProjectedVisit& visit,
                         const ElderFacts& elder, bool* elder_voice) {
  const std::string visit_name = "visits/" + visit.id;
  if (author == visit.elder) {
    *elder_voice = true;
    return absl::OkStatus();
  }
  const std::string contacts_prefix = visit.elder + "/contacts/";
  if (absl::StartsWith(author, contacts_prefix)) {
    int index = -1;
    if (absl::SimpleAtoi(author.substr(contacts_prefix.size()), &index)) {
      for (int proxy : elder.proxy_contacts) {
        if (proxy == index) {
          *elder_voice = true;
          return absl::OkStatus();
        }
      }
    }
    return InvalidField("feedback.author", absl::StrCat(author, " is not a proxy of ", visit.elder,
                                                        " in the registry"));
  }
  if (!visit.worker.empty() && author == visit.worker) {
    *elder_voice = false;
    return absl::OkStatus();
  }
  return InvalidField("feedback.author",
                      absl::StrCat(author,
                                   " is neither the elder, a proxy of the elder nor the "
                                   "worker of ",
                                   visit_name));
}

}  // namespace

void ToProto(const Figures& f, v1::PromiseFigures* out) {
  out->set_expected_visits(f[kExpected]);
  out->set_verified_visits(f[kVerified]);
  out->set_punctual_visits(f[kPunctual]);
  out->set_familiar_eligible_visits(f[kFamiliarEligible]);
  out->set_familiar_visits(f[kFamiliar]);
  out->set_missed_visits(f[kMissed]);
  out->set_disputed_visits(f[kDisputed]);
  out->set_done_as_promised(f[kVerified] - f[kDisputed]);
  out->set_feedback_answers(f[kAnswers]);
  out->set_faces_sum(f[kFacesSum]);
  out->set_as_promised_yes(f[kAsPromisedYes]);
  out->set_as_promised_partly(f[kAsPromisedPartly]);
  out->set_as_promised_no(f[kAsPromisedNo]);
  out->set_cared_yes(f[kCaredYes]);
  out->set_cared_partly(f[kCaredPartly]);
  out->set_cared_no(f[kCaredNo]);
}

void ToProto(const std::string& subject, int window_days, const Figures& f,
             v1::PerceptionIndex* out) {
  const IndexValue index = ComputeIndex(f);
  out->set_subject(subject);
  out->set_window_days(window_days);
  out->set_has_value(index.has_value);
  out->set_value(index.value);
  out->set_promise_score(index.promise_score);
  out->set_felt_care_score(index.felt_care_score);
  out->set_felt_care_answers(index.answers);
  out->set_confidence(index.confidence);
  ToProto(f, out->mutable_figures());
}

grpc::Status FeedbackServiceImpl::GetConsumerStatus(grpc::ServerContext* context,
                                                    const v1::GetConsumerStatusRequest*,
                                                    v1::GetConsumerStatusResponse* response) {
  absl::Status status = db_.RunInTransaction(
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
  return Reply(*context, status);
}

grpc::Status FeedbackServiceImpl::SubmitFeedback(grpc::ServerContext* context,
                                                 const v1::SubmitFeedbackRequest* request,
                                                 v1::SubmitFeedbackResponse* response) {
  const v1::Feedback& in = request->feedback();
  FieldViolations v;
  std::optional<std::string> visit_id = IdOf(in.visit(), "visits/");
  if (!visit_id.has_value()) v.Add("feedback.visit", "must look like \"visits/ID\"");
  if (!absl::StartsWith(in.author(), "elders/") && !absl::StartsWith(in.author(), "workers/")) {
    v.Add("feedback.author",
          "must be \"elders/ID\", \"elders/ID/contacts/N\" (a proxy) or \"workers/ID\"");
  }
  if (in.channel() == v1::FEEDBACK_CHANNEL_UNSPECIFIED ||
      !v1::FeedbackChannel_IsValid(in.channel())) {
    v.Add("feedback.channel", "must be FEEDBACK_CHANNEL_APP, _PHONE_CALL or _PROXY");
  }
  if (in.faces() < 1 || in.faces() > 5) v.Add("feedback.faces", "must be between 1 and 5");
  if (!ValidAnswer(in.did_as_promised())) v.Add("feedback.did_as_promised", "unknown answer");
  if (!ValidAnswer(in.felt_cared_for())) v.Add("feedback.felt_cared_for", "unknown answer");
  std::optional<size_t> words = Utf8Length(in.words());
  if (!words.has_value() || *words > 500) {
    v.Add("feedback.words", "must be valid UTF-8 of at most 500 characters");
  }
  if (absl::Status s = ValidateRequestId(request->request_id()); !s.ok()) {
    v.Add("request_id", std::string(s.message()));
  }
  if (absl::Status s = v.ToStatus(); !s.ok()) return Reply(*context, s);

  const absl::Time now = clock_.Now();
  const storage::Dialect dialect = db_.dialect();
  absl::Status status = RunIdempotent(
      db_, "SubmitFeedback", request->request_id(), *request, response,
      [&](storage::Transaction& tx) -> absl::Status {
        ASSIGN_OR_RETURN(std::optional<ProjectedVisit> visit, FindVisit(tx, *visit_id));
        if (!visit.has_value()) return NotFound(in.visit());
        ASSIGN_OR_RETURN(std::optional<ElderFacts> elder, FindElderFacts(tx, visit->elder));
        ASSIGN_OR_RETURN(std::optional<CommitmentFacts> commitment,
                         FindCommitmentFacts(tx, visit->commitment_id));
        const ElderFacts elder_facts = elder.value_or(ElderFacts{});
        const CommitmentFacts commitment_facts = commitment.value_or(CommitmentFacts{});
        // Whose visit it is comes first: a stranger learns nothing of its state (that someone is
        // in that home right now).
        bool elder_voice = false;
        RETURN_IF_ERROR(CheckAuthor(in.author(), *visit, elder_facts, &elder_voice));
        if (visit->state != VisitState::kCompleted) {
          return absl::FailedPreconditionError(
              absl::StrCat(in.visit(), " did not happen: scheduling records it as ",
                           visit->state == VisitState::kScheduled    ? "scheduled"
                           : visit->state == VisitState::kInProgress ? "in progress"
                           : visit->state == VisitState::kMissed     ? "missed"
                           : visit->state == VisitState::kCancelled  ? "cancelled"
                                                                     : "unknown",
                           "; feedback is only for completed visits"));
        }
        if (!elder_voice && in.nobody_came()) {
          return InvalidField("feedback.nobody_came",
                              "the worker who checked in cannot report that nobody came");
        }

        v1::Feedback stored = in;
        const std::string id = NewId(clock_);
        stored.set_name("feedback/" + id);
        stored.set_commitment("commitments/" + visit->commitment_id);
        stored.set_elder(visit->elder);
        *stored.mutable_create_time() = ToTimestamp(now);
        absl::Status inserted = InsertFeedback(tx, id, *visit_id, stored, now);
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
          const std::vector<std::string> keys = SubjectKeys(subjects, visit->worker);
          Figures delta = AnswerContribution(in.faces(), in.did_as_promised(), in.felt_cared_for());
          if (in.nobody_came() || in.did_as_promised() == v1::ANSWER_NO) {
            ASSIGN_OR_RETURN(bool changed, MarkDisputed(tx, *visit_id));
            if (changed) delta[kDisputed] += 1;
          }
          for (const std::string& key : keys) {
            RETURN_IF_ERROR(AddCounters(tx, dialect, key, visit->day, delta));
          }
        }
        if (in.nobody_came()) {
          AlertRow alert;
          alert.id = NewId(clock_);
          alert.dedupe_key = "contradiction:" + in.visit();
          alert.alert.set_name("alerts/" + alert.id);
          alert.alert.set_kind(v1::ALERT_KIND_CONTRADICTION);
          alert.alert.set_committee(elder_facts.committee);
          alert.alert.set_subject(in.visit());
          alert.alert.set_elder(visit->elder);
          alert.alert.set_detail(
              absl::StrCat("“没人来” reported by ", in.author(), " for ", in.visit(),
                           ", which scheduling records as completed by ", visit->worker));
          alert.alert.set_state(v1::ALERT_STATE_OPEN);
          *alert.alert.mutable_create_time() = ToTimestamp(now);
          RETURN_IF_ERROR(InsertAlertOnce(tx, alert).status());
        }
        *response->mutable_feedback() = stored;
        return absl::OkStatus();
      },
      clock_);
  return Reply(*context, status);
}

absl::StatusOr<Figures> FeedbackServiceImpl::WindowFigures(const std::string& subject, int days,
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
  const int64_t today = LocalDay(clock_.Now());
  absl::StatusOr<Figures> f = WindowFigures(request->subject(), *days, today);
  if (!f.ok()) return Reply(*context, f.status());
  v1::PromiseLedger* ledger = response->mutable_ledger();
  ledger->set_subject(request->subject());
  ledger->set_window_days(*days);
  ledger->set_first_day(DayString(today - *days + 1));
  ledger->set_last_day(DayString(today));
  ToProto(*f, ledger->mutable_figures());
  ledger->set_punctuality(Punctuality(*f));
  ledger->set_continuity(Continuity(*f));
  ledger->set_kept_ratio(KeptRatio(*f));
  ledger->set_status(static_cast<v1::PromiseStatus>(Verdict(*f)));
  return Reply(*context, absl::OkStatus());
}

grpc::Status FeedbackServiceImpl::GetPerceptionIndex(grpc::ServerContext* context,
                                                     const v1::GetPerceptionIndexRequest* request,
                                                     v1::GetPerceptionIndexResponse* response) {
  FieldViolations v;
  const std::string& s = request->subject();
  if (!IdOf(s, "elders/").has_value() && !IdOf(s, "workers/").has_value() &&
      !IdOf(s, "organisations/").has_value() && !IdOf(s, "regions/").has_value() &&
      !IdOf(s, "commitments/").has_value()) {
    v.Add("subject",
          "must be \"elders/ID\", \"workers/ID\", \"organisations/ID\", \"regions/CODE\" "
          "or \"commitments/ID\"");
  }
  absl::StatusOr<int> days = WindowDays(request->window_days());
  if (!days.ok()) v.Add("window_days", "must be 7, 30 or 90 (0 means 30)");
  if (absl::Status st = v.ToStatus(); !st.ok()) return Reply(*context, st);
  absl::StatusOr<Figures> f = WindowFigures(s, *days, LocalDay(clock_.Now()));
  if (!f.ok()) return Reply(*context, f.status());
  ToProto(s, *days, *f, response->mutable_index());
  return Reply(*context, absl::OkStatus());
}

}  // namespace linli::feedback
