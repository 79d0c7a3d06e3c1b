// The ledger and the index as API messages.
#include "services/feedback/perception_proto.h"

#include "gtest/gtest.h"

namespace linli::feedback {
namespace {

// Ten visits expected, eight verified, one of them late and one disputed; two answers.
Figures Window() {
  Figures f;
  f[kExpected] = 10;
  f[kVerified] = 8;
  f[kPunctual] = 7;
  f[kFamiliarEligible] = 8;
  f[kFamiliar] = 6;
  f[kMissed] = 2;
  f[kDisputed] = 1;
  f += AnswerContribution(5, 1, 1);
  f += AnswerContribution(3, 3, 2);
  return f;
}

TEST(PerceptionProto, FiguresAreCopiedAndDoneAsPromisedIsDerived) {
  v1::PromiseFigures out;
  ToProto(Window(), &out);
  EXPECT_EQ(out.expected_visits(), 10);
  EXPECT_EQ(out.verified_visits(), 8);
  EXPECT_EQ(out.punctual_visits(), 7);
  EXPECT_EQ(out.familiar_eligible_visits(), 8);
  EXPECT_EQ(out.familiar_visits(), 6);
  EXPECT_EQ(out.missed_visits(), 2);
  EXPECT_EQ(out.disputed_visits(), 1);
  EXPECT_EQ(out.done_as_promised(), 7);
  EXPECT_EQ(out.feedback_answers(), 2);
  EXPECT_EQ(out.faces_sum(), 8);
  EXPECT_EQ(out.as_promised_yes(), 1);
  EXPECT_EQ(out.as_promised_no(), 1);
  EXPECT_EQ(out.cared_yes(), 1);
  EXPECT_EQ(out.cared_partly(), 1);
}

TEST(PerceptionProto, TheLedgerNamesItsDaysAndVerdict) {
  int64_t last = 0;
  ASSERT_TRUE(ParseDay("2026-12-04", &last));
  const v1::PromiseLedger ledger = MakeLedger("elders/e1", 7, last, Window());
  EXPECT_EQ(ledger.subject(), "elders/e1");
  EXPECT_EQ(ledger.window_days(), 7);
  EXPECT_EQ(ledger.first_day(), "2026-11-28");
  EXPECT_EQ(ledger.last_day(), "2026-12-04");
  EXPECT_EQ(ledger.figures().verified_visits(), 8);
  EXPECT_DOUBLE_EQ(ledger.punctuality(), Punctuality(Window()));
  EXPECT_DOUBLE_EQ(ledger.continuity(), Continuity(Window()));
  EXPECT_DOUBLE_EQ(ledger.kept_ratio(), 0.7);
  EXPECT_EQ(ledger.status(), v1::PROMISE_STATUS_AT_RISK);
}

TEST(PerceptionProto, TheIndexCarriesItsParts) {
  v1::PerceptionIndex index;
  ToProto("organisations/o1", 30, Window(), &index);
  const IndexValue expected = ComputeIndex(Window());
  EXPECT_EQ(index.subject(), "organisations/o1");
  EXPECT_EQ(index.window_days(), 30);
  EXPECT_TRUE(index.has_value());
  EXPECT_DOUBLE_EQ(index.value(), expected.value);
  EXPECT_DOUBLE_EQ(index.promise_score(), expected.promise_score);
  EXPECT_DOUBLE_EQ(index.felt_care_score(), expected.felt_care_score);
  EXPECT_EQ(index.felt_care_answers(), 2);
  EXPECT_DOUBLE_EQ(index.confidence(), 2.0 / 7.0);
  EXPECT_EQ(index.figures().expected_visits(), 10);
}

Figures Counts(int expected, int verified, int punctual, int missed, int disputed) {
  Figures f;
  f[kExpected] = expected;
  f[kVerified] = verified;
  f[kPunctual] = punctual;
  f[kMissed] = missed;
  f[kDisputed] = disputed;
  return f;
}

TEST(PromiseIssues, MostSeriousFirst) {
  EXPECT_EQ(
      PromiseIssues(Counts(3, 2, 1, 1, 1), 1),
      (std::vector<v1::PromiseIssue>{v1::PROMISE_ISSUE_MISSED_VISIT, v1::PROMISE_ISSUE_DISPUTED,
                                     v1::PROMISE_ISSUE_LATE, v1::PROMISE_ISSUE_COMPLAINT_OPEN}));
  Figures reviewed = Counts(3, 1, 1, 0, 0);
  reviewed[kUnderReview] = 1;
  reviewed[kRejected] = 1;
  EXPECT_EQ(
      PromiseIssues(reviewed, 0),
      (std::vector<v1::PromiseIssue>{v1::PROMISE_ISSUE_REJECTED, v1::PROMISE_ISSUE_UNDER_REVIEW}));
  EXPECT_EQ(PromiseIssues(Counts(2, 2, 1, 0, 0), 0),
            std::vector<v1::PromiseIssue>{v1::PROMISE_ISSUE_LATE});
  EXPECT_EQ(PromiseIssues(Counts(0, 0, 0, 0, 0), 2),
            std::vector<v1::PromiseIssue>{v1::PROMISE_ISSUE_COMPLAINT_OPEN});
  EXPECT_TRUE(PromiseIssues(Counts(2, 2, 2, 0, 0), 0).empty());
}

TEST(PromiseIssues, KeysSortByTheLedgersVerdictWorstFirst) {
  const Figures broken_twice = Counts(4, 2, 2, 2, 0);  // 50 %: broken
  const Figures broken_once = Counts(2, 1, 1, 1, 0);   // 50 %: broken
  const Figures at_risk = Counts(10, 8, 8, 2, 0);      // 80 %: at risk, though more missed
  const Figures kept = Counts(2, 2, 2, 0, 0);
  EXPECT_LT(PromiseKey(broken_twice, 1, "z"), PromiseKey(broken_once, 1, "a"));
  EXPECT_LT(PromiseKey(broken_once, 1, "z"), PromiseKey(at_risk, 1, "a"));
  EXPECT_LT(PromiseKey(at_risk, 1, "z"), PromiseKey(kept, 0, "a"));
  // Among kept promises, one with an open complaint comes first; then the id.
  EXPECT_LT(PromiseKey(kept, 1, "z"), PromiseKey(kept, 0, "a"));
  EXPECT_LT(PromiseKey(kept, 0, "a"), PromiseKey(kept, 0, "b"));
}

}  // namespace
}  // namespace linli::feedback
