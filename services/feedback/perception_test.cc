// The pure arithmetic of feedback: contributions, verdicts, the index formula and local days.
#include "services/feedback/perception.h"

#include "gtest/gtest.h"

namespace linli::feedback {
namespace {

ProjectedVisit Completed(const std::string& worker, bool late) {
  ProjectedVisit v;
  v.state = VisitState::kCompleted;
  v.worker = worker;
  v.late = late;
  return v;
}

TEST(Perception, VisitContributionsFollowTheState) {
  ProjectedVisit planned;
  planned.state = VisitState::kScheduled;
  EXPECT_TRUE(VisitContribution(planned, "workers/a").IsZero());
  planned.state = VisitState::kCancelled;
  EXPECT_TRUE(VisitContribution(planned, "workers/a").IsZero());
  planned.state = VisitState::kMissed;
  Figures missed = VisitContribution(planned, "workers/a");
  EXPECT_EQ(missed[kExpected], 1);
  EXPECT_EQ(missed[kMissed], 1);
  EXPECT_EQ(missed[kVerified], 0);

  Figures on_time = VisitContribution(Completed("workers/a", false), "workers/a");
  EXPECT_EQ(on_time[kVerified], 1);
  EXPECT_EQ(on_time[kPunctual], 1);
  EXPECT_EQ(on_time[kFamiliarEligible], 1);
  EXPECT_EQ(on_time[kFamiliar], 1);
  Figures late_stranger = VisitContribution(Completed("workers/b", true), "workers/a");
  EXPECT_EQ(late_stranger[kPunctual], 0);
  EXPECT_EQ(late_stranger[kFamiliar], 0);
  EXPECT_EQ(late_stranger[kFamiliarEligible], 1);
  // No familiar worker promised: not counted for continuity at all.
  EXPECT_EQ(VisitContribution(Completed("workers/b", false), "")[kFamiliarEligible], 0);
}

// Verified with exception: not judged while the review is pending (neither kept nor broken), kept
// once approved, broken when rejected; moving between them moves the counters exactly.
TEST(Perception, AVisitUnderReviewCountsAsKeptOnlyOnceApproved) {
  ProjectedVisit v = Completed("workers/a", false);
  v.review = kReviewPending;
  const Figures pending = VisitContribution(v, "workers/a");
  EXPECT_EQ(pending[kExpected], 1);
  EXPECT_EQ(pending[kUnderReview], 1);
  EXPECT_EQ(pending[kVerified], 0);
  EXPECT_EQ(pending[kPunctual], 0);
  EXPECT_EQ(KeptRatio(pending), 1.0);  // not judged yet: no visit decided
  Figures with_a_kept_one = pending;
  with_a_kept_one += VisitContribution(Completed("workers/a", false), "workers/a");
  EXPECT_EQ(KeptRatio(with_a_kept_one), 1.0);
  v.review = kReviewApproved;
  const Figures approved = VisitContribution(v, "workers/a");
  EXPECT_EQ(approved[kVerified], 1);
  EXPECT_EQ(approved[kUnderReview], 0);
  EXPECT_EQ(KeptRatio(approved), 1.0);
  v.review = kReviewRejected;
  const Figures rejected = VisitContribution(v, "workers/a");
  EXPECT_EQ(rejected[kRejected], 1);
  EXPECT_EQ(rejected[kVerified], 0);
  EXPECT_EQ(Verdict(rejected), PromiseVerdict::kBroken);
  Figures day = pending;
  day -= pending;
  day += approved;
  EXPECT_EQ(day[kUnderReview], 0);
  EXPECT_EQ(day[kVerified], 1);
}

TEST(Perception, RetractingAndReapplyingIsExact) {
  ProjectedVisit v = Completed("workers/a", false);
  Figures total;
  total += VisitContribution(v, "workers/a");
  v.disputed = true;
  total += VisitContribution(v, "workers/a") -
           VisitContribution(Completed("workers/a", false), "workers/a");
  EXPECT_EQ(total[kDisputed], 1);
  EXPECT_EQ(total[kVerified], 1);
}

TEST(Perception, VerdictThresholds) {
  Figures f;
  EXPECT_EQ(Verdict(f), PromiseVerdict::kKept);  // nothing expected
  f[kExpected] = 10;
  f[kVerified] = 9;
  EXPECT_EQ(Verdict(f), PromiseVerdict::kKept);
  f[kDisputed] = 1;  // 8 / 10
  EXPECT_EQ(Verdict(f), PromiseVerdict::kAtRisk);
  f[kVerified] = 7;  // 6 / 10
  EXPECT_EQ(Verdict(f), PromiseVerdict::kBroken);
}

TEST(Perception, IndexFormula) {
  Figures none;
  EXPECT_FALSE(ComputeIndex(none).has_value);

  // Answers only: felt care alone. Faces 4 and 2 (mean 3), cared yes + no (0.5).
  Figures answers = AnswerContribution(4, 0, 1);
  answers += AnswerContribution(2, 0, 3);
  IndexValue care = ComputeIndex(answers);
  ASSERT_TRUE(care.has_value);
  EXPECT_DOUBLE_EQ(care.felt_care_score, 100 * (0.6 * 0.5 + 0.4 * 0.5));
  EXPECT_DOUBLE_EQ(care.value, care.felt_care_score);
  EXPECT_DOUBLE_EQ(care.confidence, 2.0 / 7.0);

  // Visits only: 4 expected, 3 verified (2 punctual), no familiar worker named.
  Figures visits;
  visits[kExpected] = 4;
  visits[kVerified] = 3;
  visits[kPunctual] = 2;
  IndexValue promise = ComputeIndex(visits);
  EXPECT_DOUBLE_EQ(promise.promise_score, 100 * (0.5 * 0.75 + 0.2 * 2.0 / 3.0) / 0.7);
  EXPECT_DOUBLE_EQ(promise.confidence, 0.0);

  Figures both = visits;
  both += answers;
  EXPECT_DOUBLE_EQ(ComputeIndex(both).value, (promise.promise_score + care.felt_care_score) / 2);
}

TEST(Perception, LocalDaysAreShanghaiDays) {
  // 2026-12-01 00:30 in Shanghai is still 2026-11-30 in UTC.
  const absl::Time t =
      absl::FromCivil(absl::CivilSecond(2026, 11, 30, 16, 30, 0), absl::UTCTimeZone());
  EXPECT_EQ(DayString(LocalDay(t)), "2026-12-01");
  EXPECT_EQ(DayString(LocalDay(t - absl::Hours(1))), "2026-11-30");
  int64_t day = 0;
  ASSERT_TRUE(ParseDay("2026-12-01", &day));
  EXPECT_EQ(day, LocalDay(t));
  EXPECT_FALSE(ParseDay("2026-02-30", &day));
  EXPECT_FALSE(ParseDay("2026-12-1", &day));
  EXPECT_FALSE(ParseDay("yesterday", &day));
}

TEST(Perception, WeeksStartOnMonday) {
  int64_t monday = 0;
  ASSERT_TRUE(ParseDay("2026-11-30", &monday));  // a Monday
  for (int d = 0; d < 7; ++d) EXPECT_EQ(WeekStart(monday + d), monday) << d;
  EXPECT_EQ(WeekStart(monday - 1), monday - 7);  // Sunday belongs to the week before
  EXPECT_EQ(DayString(WeekStart(0)), "1969-12-29");
  EXPECT_EQ(DayString(WeekStart(-1)), "1969-12-29");
  EXPECT_EQ(DayString(WeekStart(-4)), "1969-12-22");
}

}  // namespace
}  // namespace linli::feedback
