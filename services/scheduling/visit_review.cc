#include "services/scheduling/visit_review.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/errors.h"
#include "common/proto_time.h"
#include "common/text.h"

namespace linli::scheduling {
namespace {

bool NeedsReview(const std::string& exception) {
  static const std::vector<std::string>* const kReviewed =
      new std::vector<std::string>{"OUTSIDE_GEOFENCE",   "OUTSIDE_GEOFENCE_AT_CHECK_OUT",
                                   "NO_LOCATION",        "SHORT_VISIT",
                                   "WORKER_NOT_PLANNED", "WORKER_MISSING",
                                   "PARTNER_REPORTED"};
  return std::find(kReviewed->begin(), kReviewed->end(), exception) != kReviewed->end();
}

bool Contains(const std::vector<std::string>& codes, const std::string& code) {
  return std::find(codes.begin(), codes.end(), code) != codes.end();
}

}  // namespace

std::vector<std::string> ExceptionsNeedingReview(const v1::Visit& visit) {
  std::vector<std::string> out;
  for (const std::string& e : visit.exceptions()) {
    if (NeedsReview(e)) out.push_back(e);
  }
  return out;
}

void OpenReviewIfNeeded(v1::Visit& visit) {
  const std::vector<std::string> exceptions = ExceptionsNeedingReview(visit);
  if (exceptions.empty()) return;
  v1::VisitReview* review = visit.mutable_review();
  review->Clear();
  review->set_state(v1::REVIEW_STATE_PENDING);
  for (const std::string& e : exceptions) review->add_exceptions(e);
}

const std::vector<std::string>& ApprovalReasons() {
  // Confirmed with the elder or the family (a call, a door visit), a device or GPS fault, a change
  // the elder agreed to (met elsewhere, a stand-in they know), the provider's record checked.
  static const std::vector<std::string>* const kCodes = new std::vector<std::string>{
      "CONFIRMED_WITH_ELDER", "CONFIRMED_WITH_FAMILY", "DEVICE_OR_GPS_FAULT", "AGREED_CHANGE",
      "PROVIDER_RECORD_CHECKED"};
  return *kCodes;
}

const std::vector<std::string>& RejectionReasons() {
  // The service was not given, not as promised, or the evidence does not show it.
  static const std::vector<std::string>* const kCodes =
      new std::vector<std::string>{"NOT_DELIVERED", "NOT_AS_PROMISED", "EVIDENCE_INSUFFICIENT"};
  return *kCodes;
}

absl::Status ValidateReview(const v1::ReviewVisitRequest& request) {
  FieldViolations v;
  const bool approve = request.decision() == v1::REVIEW_DECISION_APPROVE;
  const bool reject = request.decision() == v1::REVIEW_DECISION_REJECT;
  if (!approve && !reject) {
    v.Add("decision", "must be REVIEW_DECISION_APPROVE or REVIEW_DECISION_REJECT");
  } else {
    const std::vector<std::string>& codes = approve ? ApprovalReasons() : RejectionReasons();
    if (!Contains(codes, request.reason_code())) {
      // Kept under the 120 characters a violation's description is cut to.
      v.Add("reason_code",
            absl::StrCat(approve ? "approve with " : "reject with ", absl::StrJoin(codes, " ")));
    }
  }
  const std::optional<size_t> note = Utf8Length(request.note());
  if (!note.has_value() || *note > 500) {
    v.Add("note", "must be valid UTF-8 of at most 500 characters");
  }
  return v.ToStatus();
}

absl::Status ApplyReview(const v1::ReviewVisitRequest& request, const std::string& reviewer,
                         absl::Time now, v1::Visit& visit) {
  const v1::ReviewState state = visit.review().state();
  if (state != v1::REVIEW_STATE_PENDING) {
    return absl::FailedPreconditionError(
        state == v1::REVIEW_STATE_UNSPECIFIED
            ? absl::StrCat(visit.name(), " was completed without an exception to review")
            : absl::StrCat(visit.name(), " was already reviewed (", v1::ReviewState_Name(state),
                           ")"));
  }
  v1::VisitReview* review = visit.mutable_review();
  review->set_state(request.decision() == v1::REVIEW_DECISION_APPROVE ? v1::REVIEW_STATE_APPROVED
                                                                      : v1::REVIEW_STATE_REJECTED);
  review->set_reviewer(reviewer);
  review->set_reason_code(request.reason_code());
  review->set_note(request.note());
  *review->mutable_time() = ToTimestamp(now);
  return absl::OkStatus();
}

}  // namespace linli::scheduling
