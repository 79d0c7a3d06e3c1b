// Who may answer for a visit, and when.
#include "services/feedback/feedback_answer.h"

#include "absl/strings/match.h"
#include "common/errors.h"
#include "gtest/gtest.h"

namespace linli::feedback {
namespace {

ProjectedVisit Visit(VisitState state) {
  ProjectedVisit v;
  v.id = "v1";
  v.elder = "elders/e1";
  v.worker = "workers/w1";
  v.state = state;
  return v;
}

ElderFacts WithProxy(int contact) {
  ElderFacts e;
  e.elder = "elders/e1";
  e.proxy_contacts = {contact};
  return e;
}

TEST(FeedbackAnswer, TheElderAndProxiesSpeakForTheElderTheWorkerDoesNot) {
  const ProjectedVisit visit = Visit(VisitState::kCompleted);
  EXPECT_EQ(IsElderVoice("elders/e1", visit, WithProxy(2)).value(), true);
  EXPECT_EQ(IsElderVoice("elders/e1/contacts/2", visit, WithProxy(2)).value(), true);
  EXPECT_EQ(IsElderVoice("workers/w1", visit, WithProxy(2)).value(), false);
}

TEST(FeedbackAnswer, StrangersAndNonProxiesAreRefusedOnTheAuthor) {
  const ProjectedVisit visit = Visit(VisitState::kCompleted);
  absl::StatusOr<bool> contact = IsElderVoice("elders/e1/contacts/1", visit, WithProxy(2));
  ASSERT_TRUE(absl::IsInvalidArgument(contact.status()));
  EXPECT_EQ(GetBadRequest(contact.status())->field_violations(0).field(), "feedback.author");
  EXPECT_EQ(GetBadRequest(contact.status())->field_violations(0).description(),
            "elders/e1/contacts/1 is not a proxy of elders/e1 in the registry");
  EXPECT_TRUE(
      absl::IsInvalidArgument(IsElderVoice("elders/e1/contacts/x", visit, WithProxy(2)).status()));

  absl::StatusOr<bool> stranger = IsElderVoice("elders/e2", visit, WithProxy(2));
  ASSERT_TRUE(absl::IsInvalidArgument(stranger.status()));
  EXPECT_EQ(GetBadRequest(stranger.status())->field_violations(0).description(),
            "elders/e2 is neither the elder, a proxy of the elder nor the worker of visits/v1");
  // Before check-in no worker may answer, even one named "".
  ProjectedVisit planned = Visit(VisitState::kScheduled);
  planned.worker = "";
  EXPECT_TRUE(absl::IsInvalidArgument(IsElderVoice("", planned, WithProxy(2)).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(IsElderVoice("workers/w1", planned, WithProxy(2)).status()));
}

TEST(FeedbackAnswer, AnImportedAnswerIsNotBeforeTheVisit) {
  // Checked in 2026-12-03 11:30 Shanghai, on local day 2026-12-03.
  const absl::Time check_in = absl::FromUnixSeconds(1796227200 + 11 * 3600 + 30 * 60);
  ProjectedVisit visit = Visit(VisitState::kCompleted);
  ASSERT_TRUE(ParseDay("2026-12-03", &visit.day));
  visit.check_in_us = absl::ToUnixMicros(check_in);
  visit.contact_time_us = visit.check_in_us;
  EXPECT_TRUE(CheckAnswerTime(check_in, visit).ok());
  EXPECT_TRUE(CheckAnswerTime(check_in + absl::Hours(30), visit).ok());
  const absl::Status early = CheckAnswerTime(check_in - absl::Minutes(1), visit);
  ASSERT_TRUE(absl::IsInvalidArgument(early));
  EXPECT_EQ(GetBadRequest(early)->field_violations(0).field(), "feedback.answer_time");
  EXPECT_EQ(GetBadRequest(early)->field_violations(0).description(),
            "is before visits/v1 began (checked in at 2026-12-03T11:30:00+08:00)");
  // Without its check-in, the visit's local day bounds the answer.
  visit.check_in_us = 0;
  visit.contact_time_us = 0;
  EXPECT_TRUE(CheckAnswerTime(check_in - absl::Hours(11), visit).ok());  // 00:30 that day
  const absl::Status day_before = CheckAnswerTime(check_in - absl::Hours(12), visit);
  ASSERT_TRUE(absl::IsInvalidArgument(day_before));
  EXPECT_EQ(GetBadRequest(day_before)->field_violations(0).description(),
            "is before the day of visits/v1, 2026-12-03");
}

TEST(FeedbackAnswer, OnlyCompletedVisitsAreAnswered) {
  v1::Feedback answer;
  answer.set_visit("visits/v1");
  EXPECT_TRUE(CheckAnswerable(answer, Visit(VisitState::kCompleted), true).ok());
  const absl::Status missed = CheckAnswerable(answer, Visit(VisitState::kMissed), true);
  EXPECT_TRUE(absl::IsFailedPrecondition(missed));
  EXPECT_EQ(missed.message(),
            "visits/v1 did not happen: scheduling records it as missed; feedback is only for "
            "completed visits");
  EXPECT_TRUE(absl::StrContains(
      CheckAnswerable(answer, Visit(VisitState::kInProgress), true).message(), "in progress"));
  EXPECT_TRUE(absl::StrContains(
      CheckAnswerable(answer, Visit(VisitState::kCancelled), true).message(), "cancelled"));
  EXPECT_TRUE(absl::StrContains(
      CheckAnswerable(answer, Visit(VisitState::kScheduled), true).message(), "scheduled"));
}

TEST(FeedbackAnswer, OnlyTheEldersVoiceSaysNobodyCame) {
  v1::Feedback answer;
  answer.set_visit("visits/v1");
  answer.set_nobody_came(true);
  const ProjectedVisit visit = Visit(VisitState::kCompleted);
  EXPECT_TRUE(CheckAnswerable(answer, visit, true).ok());
  const absl::Status worker = CheckAnswerable(answer, visit, false);
  ASSERT_TRUE(absl::IsInvalidArgument(worker));
  EXPECT_EQ(GetBadRequest(worker)->field_violations(0).field(), "feedback.nobody_came");
}

TEST(FeedbackAnswer, NotAsPromisedOrNobodyCameDisputesTheVisit) {
  v1::Feedback answer;
  EXPECT_FALSE(Disputes(answer));
  answer.set_did_as_promised(v1::ANSWER_PARTLY);
  EXPECT_FALSE(Disputes(answer));
  answer.set_did_as_promised(v1::ANSWER_NO);
  EXPECT_TRUE(Disputes(answer));
  answer.set_did_as_promised(v1::ANSWER_YES);
  answer.set_nobody_came(true);
  EXPECT_TRUE(Disputes(answer));
}

AwaitingAnswer Awaiting(std::string id, int64_t day) {
  AwaitingAnswer a;
  a.visit_id = std::move(id);
  a.elder = "elders/e-" + a.visit_id;
  a.day = day;
  a.last_answer_us = 1'000'000;  // answered once, long ago
  return a;
}

std::vector<std::string> Order(std::vector<AwaitingAnswer> queue) {
  RankByNeed(queue);
  std::vector<std::string> ids;
  for (const AwaitingAnswer& a : queue) ids.push_back(a.visit_id);
  return ids;
}

TEST(AnswerQueue, SolitaryThenDisputedThenLongestSilenceThenOldestVisit) {
  AwaitingAnswer plain = Awaiting("plain", 20500);
  AwaitingAnswer older = Awaiting("older", 20490);
  AwaitingAnswer recent_answer = Awaiting("recent", 20400);
  recent_answer.last_answer_us = 2'000'000'000'000'000;
  AwaitingAnswer never = Awaiting("never", 20500);
  never.last_answer_us = 0;
  AwaitingAnswer disputed = Awaiting("disputed", 20500);
  disputed.disputed_visits = 2;
  AwaitingAnswer alone = Awaiting("alone", 20500);
  alone.solitary = true;
  AwaitingAnswer alone_disputed = Awaiting("alone-disputed", 20510);
  alone_disputed.solitary = true;
  alone_disputed.disputed_visits = 1;
  EXPECT_EQ(Order({plain, older, recent_answer, never, disputed, alone, alone_disputed}),
            (std::vector<std::string>{"alone-disputed", "alone", "disputed", "never", "older",
                                      "plain", "recent"}));
}

TEST(AnswerQueue, KeysSortLikeTheQueueSoAPageResumesAfterTheLastKey) {
  // Numbers of different widths still compare as numbers.
  AwaitingAnswer a = Awaiting("a", 999);
  AwaitingAnswer b = Awaiting("b", 1000);
  EXPECT_LT(NeedKey(a), NeedKey(b));
  a.last_answer_us = 99;
  b.last_answer_us = 100'000;
  b.day = 1;
  EXPECT_LT(NeedKey(a), NeedKey(b));
  // The visit id breaks ties, so no two visits share a key.
  AwaitingAnswer c = Awaiting("c", 999);
  c.last_answer_us = 99;
  EXPECT_LT(NeedKey(a), NeedKey(c));
  EXPECT_NE(NeedKey(a), NeedKey(c));
}

}  // namespace
}  // namespace linli::feedback
