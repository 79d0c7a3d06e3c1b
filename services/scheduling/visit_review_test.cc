#include "services/scheduling/visit_review.h"

#include "common/proto_time.h"
#include "gtest/gtest.h"

namespace linli::scheduling {
namespace {

v1::Visit Completed(std::initializer_list<const char*> exceptions) {
  v1::Visit visit;
  visit.set_name("visits/v1");
  visit.set_state(v1::VISIT_STATE_COMPLETED);
  for (const char* e : exceptions) visit.add_exceptions(e);
  OpenReviewIfNeeded(visit);
  return visit;
}

v1::ReviewVisitRequest Decision(v1::ReviewDecision decision, const std::string& reason) {
  v1::ReviewVisitRequest request;
  request.set_name("visits/v1");
  request.set_decision(decision);
  request.set_reason_code(reason);
  return request;
}

TEST(VisitReview, OnlyExceptionsThatWeakenTheEvidenceOpenAReview) {
  EXPECT_FALSE(Completed({}).has_review());
  EXPECT_FALSE(Completed({"LATE_ARRIVAL", "EARLY_ARRIVAL", "OVERRUN"}).has_review());
  const v1::Visit v = Completed({"LATE_ARRIVAL", "OUTSIDE_GEOFENCE", "SHORT_VISIT"});
  EXPECT_EQ(v.review().state(), v1::REVIEW_STATE_PENDING);
  EXPECT_EQ(
      std::vector<std::string>(v.review().exceptions().begin(), v.review().exceptions().end()),
      (std::vector<std::string>{"OUTSIDE_GEOFENCE", "SHORT_VISIT"}));
  for (const char* e : {"OUTSIDE_GEOFENCE_AT_CHECK_OUT", "NO_LOCATION", "WORKER_NOT_PLANNED",
                        "WORKER_MISSING", "PARTNER_REPORTED"}) {
    EXPECT_EQ(Completed({e}).review().state(), v1::REVIEW_STATE_PENDING) << e;
  }
}

TEST(VisitReview, ADecisionIsRecordedOnceWithItsReviewer) {
  v1::Visit visit = Completed({"NO_LOCATION"});
  const absl::Time now = absl::FromUnixSeconds(1796000000);
  ASSERT_TRUE(ApplyReview(Decision(v1::REVIEW_DECISION_APPROVE, "CONFIRMED_WITH_ELDER"),
                          "committee_staff:staff/zhou", now, visit)
                  .ok());
  EXPECT_EQ(visit.review().state(), v1::REVIEW_STATE_APPROVED);
  EXPECT_EQ(visit.review().reviewer(), "committee_staff:staff/zhou");
  EXPECT_EQ(visit.review().reason_code(), "CONFIRMED_WITH_ELDER");
  EXPECT_EQ(FromTimestamp(visit.review().time()), now);
  // Final: a second decision is refused, and so is one on a visit without exception.
  EXPECT_TRUE(absl::IsFailedPrecondition(
      ApplyReview(Decision(v1::REVIEW_DECISION_REJECT, "NOT_DELIVERED"), "x", now, visit)));
  v1::Visit clean = Completed({});
  EXPECT_TRUE(absl::IsFailedPrecondition(
      ApplyReview(Decision(v1::REVIEW_DECISION_APPROVE, "AGREED_CHANGE"), "x", now, clean)));
  v1::Visit rejected = Completed({"PARTNER_REPORTED"});
  ASSERT_TRUE(
      ApplyReview(Decision(v1::REVIEW_DECISION_REJECT, "NOT_DELIVERED"), "x", now, rejected).ok());
  EXPECT_EQ(rejected.review().state(), v1::REVIEW_STATE_REJECTED);
}

TEST(VisitReview, EachDecisionTakesItsOwnReasonCodes) {
  EXPECT_TRUE(ValidateReview(Decision(v1::REVIEW_DECISION_APPROVE, "DEVICE_OR_GPS_FAULT")).ok());
  EXPECT_TRUE(ValidateReview(Decision(v1::REVIEW_DECISION_REJECT, "EVIDENCE_INSUFFICIENT")).ok());
  const absl::Status wrong_code =
      ValidateReview(Decision(v1::REVIEW_DECISION_APPROVE, "NOT_DELIVERED"));
  EXPECT_TRUE(absl::IsInvalidArgument(wrong_code));
  // Every code the decision takes is named in the message.
  for (const std::string& code : ApprovalReasons()) {
    EXPECT_NE(wrong_code.message().find(code), std::string::npos) << code;
  }
  EXPECT_TRUE(absl::IsInvalidArgument(
      ValidateReview(Decision(v1::REVIEW_DECISION_REJECT, "CONFIRMED_WITH_ELDER"))));
  EXPECT_TRUE(absl::IsInvalidArgument(
      ValidateReview(Decision(v1::REVIEW_DECISION_UNSPECIFIED, "CONFIRMED_WITH_ELDER"))));
  v1::ReviewVisitRequest long_note = Decision(v1::REVIEW_DECISION_APPROVE, "AGREED_CHANGE");
  long_note.set_note(std::string(501, 'x'));
  EXPECT_TRUE(absl::IsInvalidArgument(ValidateReview(long_note)));
}

}  // namespace
}  // namespace linli::scheduling
