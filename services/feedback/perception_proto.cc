#include "services/feedback/perception_proto.h"

#include <algorithm>

#include "absl/strings/str_format.h"

namespace linli::feedback {

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
  out->set_under_review_visits(f[kUnderReview]);
  out->set_rejected_visits(f[kRejected]);
  out->set_repaired_visits(f[kRepaired]);
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

v1::PromiseLedger MakeLedger(const std::string& subject, int window_days, int64_t last_day,
                             const Figures& f) {
  v1::PromiseLedger ledger;
  ledger.set_subject(subject);
  ledger.set_window_days(window_days);
  ledger.set_first_day(DayString(last_day - window_days + 1));
  ledger.set_last_day(DayString(last_day));
  ToProto(f, ledger.mutable_figures());
  ledger.set_punctuality(Punctuality(f));
  ledger.set_continuity(Continuity(f));
  ledger.set_kept_ratio(KeptRatio(f));
  ledger.set_status(static_cast<v1::PromiseStatus>(Verdict(f)));
  return ledger;
}

std::vector<v1::PromiseIssue> PromiseIssues(const Figures& f, int open_complaints) {
  std::vector<v1::PromiseIssue> issues;
  if (f[kMissed] > 0) issues.push_back(v1::PROMISE_ISSUE_MISSED_VISIT);
  if (f[kRejected] > 0) issues.push_back(v1::PROMISE_ISSUE_REJECTED);
  if (f[kDisputed] > 0) issues.push_back(v1::PROMISE_ISSUE_DISPUTED);
  if (f[kVerified] > f[kPunctual]) issues.push_back(v1::PROMISE_ISSUE_LATE);
  if (open_complaints > 0) issues.push_back(v1::PROMISE_ISSUE_COMPLAINT_OPEN);
  if (f[kUnderReview] > 0) issues.push_back(v1::PROMISE_ISSUE_UNDER_REVIEW);
  return issues;
}

std::string PromiseKey(const Figures& f, size_t issues, const std::string& commitment_id) {
  // Larger counts sort first: each is subtracted from a bound no count reaches.
  constexpr int64_t kBound = 1'000'000'000'000;
  const int64_t failures = std::clamp<int64_t>(f[kMissed] + f[kRejected] + f[kDisputed], 0, kBound);
  const int64_t issue_count = std::clamp<int64_t>(static_cast<int64_t>(issues), 0, 9);
  // PromiseVerdict: kept 1, at risk 2, broken 3; broken sorts first.
  return absl::StrFormat("%d|%013d|%d|%s", 4 - static_cast<int>(Verdict(f)), kBound - failures,
                         9 - issue_count, commitment_id);
}

}  // namespace linli::feedback
