// The safety net's rules: when each kind of alert is due, its key (raised once) and its text, and
// the steps an alert takes.
#include "services/feedback/alert_policy.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/proto_time.h"
#include "gtest/gtest.h"

namespace linli::feedback {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'780'000'000);

ElderFacts Solitary(absl::Time last_contact) {
  ElderFacts e;
  e.elder = "elders/e1";
  e.committee = "regions/310101001001";
  e.solitary = true;
  e.first_seen_us = absl::ToUnixMicros(kNow - absl::Hours(24 * 30));
  e.last_contact_us = absl::ToUnixMicros(last_contact);
  return e;
}

// Counters of a week with `answers` answers, all of `faces` faces and nothing else.
Figures Week(int64_t answers, int faces) {
  Figures f;
  for (int64_t i = 0; i < answers; ++i) f += AnswerContribution(faces, 0, 0);
  return f;
}

TEST(AlertPolicy, NoContactLimitIsTheCommitteesOrSevenDays) {
  const std::map<std::string, int> policies = {{"regions/1", 3}};
  EXPECT_EQ(NoContactDays(policies, "regions/1"), 3);
  EXPECT_EQ(NoContactDays(policies, "regions/2"), kDefaultNoContactDays);
  EXPECT_EQ(kDefaultNoContactDays, 7);
  EXPECT_FALSE(ValidNoContactDays(0));
  EXPECT_TRUE(ValidNoContactDays(1));
  EXPECT_TRUE(ValidNoContactDays(60));
  EXPECT_FALSE(ValidNoContactDays(61));
}

TEST(AlertPolicy, NoContactIsDueAfterTheLimitForSolitaryEldersOnly) {
  const absl::Time last = kNow - absl::Hours(24 * 7);
  EXPECT_FALSE(NoContactAlert(Solitary(last + absl::Seconds(1)), 7, kNow).has_value());
  std::optional<AlertDraft> due = NoContactAlert(Solitary(last), 7, kNow);
  ASSERT_TRUE(due.has_value());
  EXPECT_EQ(due->dedupe_key, absl::StrCat("no_contact:elders/e1:", absl::ToUnixMicros(last)));
  EXPECT_EQ(due->alert.kind(), v1::ALERT_KIND_NO_CONTACT);
  EXPECT_EQ(due->alert.state(), v1::ALERT_STATE_OPEN);
  EXPECT_EQ(due->alert.committee(), "regions/310101001001");
  EXPECT_EQ(due->alert.subject(), "elders/e1");
  EXPECT_EQ(due->alert.elder(), "elders/e1");
  EXPECT_EQ(FromTimestamp(due->alert.create_time()), kNow);
  EXPECT_TRUE(due->alert.name().empty()) << "the use case names it";
  EXPECT_EQ(due->alert.detail(),
            "独居/孤寡老人 168h without verified contact (limit 7 days); last: " +
                absl::FormatTime(last));

  ElderFacts with_family = Solitary(last);
  with_family.solitary = false;
  EXPECT_FALSE(NoContactAlert(with_family, 7, kNow).has_value());
  // A committee with a shorter limit is alerted sooner.
  EXPECT_TRUE(NoContactAlert(Solitary(kNow - absl::Hours(24 * 3)), 3, kNow).has_value());
}

TEST(AlertPolicy, NeverContactedCountsFromFirstSight) {
  ElderFacts never = Solitary(absl::UnixEpoch());
  never.last_contact_us = 0;
  never.first_seen_us = absl::ToUnixMicros(kNow - absl::Hours(24 * 6));
  EXPECT_FALSE(NoContactAlert(never, 7, kNow).has_value());
  never.first_seen_us = absl::ToUnixMicros(kNow - absl::Hours(24 * 8));
  std::optional<AlertDraft> due = NoContactAlert(never, 7, kNow);
  ASSERT_TRUE(due.has_value());
  EXPECT_EQ(due->dedupe_key, absl::StrCat("no_contact:elders/e1:", never.first_seen_us));
  EXPECT_TRUE(absl::EndsWith(due->alert.detail(), "; last: never")) << due->alert.detail();
}

TEST(AlertPolicy, TheComparedWeeksAreTheLastSevenDaysAndTheSevenBefore) {
  EXPECT_EQ(RecentWeek(100).first, 94);
  EXPECT_EQ(RecentWeek(100).last, 100);
  EXPECT_EQ(WeekBefore(100).first, 87);
  EXPECT_EQ(WeekBefore(100).last, 93);
}

TEST(AlertPolicy, AFallOfFifteenPointsWithTwoAnswersEachWeekIsDue) {
  ElderFacts e = Solitary(kNow);
  // Faces 5 -> 100 felt care; faces 3 -> 50: the index (felt care only) falls by 50.
  EXPECT_TRUE(EnoughAnswersToCompare(Week(2, 5)));
  EXPECT_FALSE(EnoughAnswersToCompare(Week(1, 5)));
  EXPECT_FALSE(FallingIndexAlert(e, Week(1, 3), Week(2, 5), 100, kNow).has_value());
  EXPECT_FALSE(FallingIndexAlert(e, Week(2, 3), Week(1, 5), 100, kNow).has_value());
  EXPECT_FALSE(FallingIndexAlert(e, Week(2, 5), Week(2, 3), 100, kNow).has_value()) << "a rise";
  std::optional<AlertDraft> due = FallingIndexAlert(e, Week(2, 3), Week(2, 5), 100, kNow);
  ASSERT_TRUE(due.has_value());
  EXPECT_EQ(due->dedupe_key, "falling:elders/e1:100");
  EXPECT_EQ(due->alert.kind(), v1::ALERT_KIND_FALLING_INDEX);
  EXPECT_EQ(due->alert.detail(),
            "感受度指数下降 index fell from 100.0 to 50.0 (last 7 days against the 7 before)");
  // Faces 4 -> 75: a fall of 25 points is due, faces 5 against 4.5 average (87.5) is not.
  EXPECT_TRUE(FallingIndexAlert(e, Week(2, 4), Week(2, 5), 100, kNow).has_value());
  Figures mixed = Week(1, 5);
  mixed += Week(1, 4);
  EXPECT_FALSE(FallingIndexAlert(e, mixed, Week(2, 5), 100, kNow).has_value());
}

TEST(AlertPolicy, OverdueAndContradictionAlertsAreKeyedByTheirSubject) {
  v1::WorkOrder order;
  order.set_name("workOrders/w1");
  order.set_elder("elders/e1");
  const AlertDraft overdue =
      OverdueWorkOrderAlert(order, "regions/310101001001", "organisations/office", kNow);
  EXPECT_EQ(overdue.dedupe_key, "overdue:workOrders/w1");
  EXPECT_EQ(overdue.alert.kind(), v1::ALERT_KIND_OVERDUE_WORK_ORDER);
  EXPECT_EQ(overdue.alert.subject(), "workOrders/w1");
  EXPECT_EQ(overdue.alert.elder(), "elders/e1");
  EXPECT_EQ(overdue.alert.committee(), "regions/310101001001");
  EXPECT_EQ(overdue.alert.detail(),
            "工单超期 work order overdue, escalated to organisations/office");

  const AlertDraft contradiction = ContradictionAlert(
      "visits/v1", "elders/e1", "regions/310101001001", "elders/e1", "workers/w1", kNow);
  EXPECT_EQ(contradiction.dedupe_key, "contradiction:visits/v1");
  EXPECT_EQ(contradiction.alert.kind(), v1::ALERT_KIND_CONTRADICTION);
  EXPECT_EQ(contradiction.alert.subject(), "visits/v1");
  EXPECT_EQ(contradiction.alert.detail(),
            "“没人来” reported by elders/e1 for visits/v1, which scheduling records as completed "
            "by workers/w1");
  EXPECT_EQ(contradiction.alert.state(), v1::ALERT_STATE_OPEN);
}

TEST(AlertPolicy, AnAlertIsAcknowledgedWhileOpenAndResolvedOnce) {
  v1::Alert alert;
  alert.set_name("alerts/a1");
  alert.set_state(v1::ALERT_STATE_OPEN);
  ASSERT_TRUE(AcknowledgeAlert(alert, "staff-1", kNow).ok());
  EXPECT_EQ(alert.state(), v1::ALERT_STATE_ACKNOWLEDGED);
  EXPECT_EQ(alert.acknowledged_by(), "staff-1");
  EXPECT_EQ(FromTimestamp(alert.acknowledge_time()), kNow);
  const absl::Status again = AcknowledgeAlert(alert, "staff-2", kNow);
  EXPECT_TRUE(absl::IsFailedPrecondition(again));
  EXPECT_EQ(again.message(),
            "alerts/a1 is ALERT_STATE_ACKNOWLEDGED; only an open alert is acknowledged");
  EXPECT_EQ(alert.acknowledged_by(), "staff-1");

  ASSERT_TRUE(ResolveAlert(alert, "staff-2", kNow + absl::Hours(1), "visited").ok());
  EXPECT_EQ(alert.state(), v1::ALERT_STATE_RESOLVED);
  EXPECT_EQ(alert.resolved_by(), "staff-2");
  EXPECT_EQ(alert.resolution_note(), "visited");
  EXPECT_EQ(FromTimestamp(alert.resolve_time()), kNow + absl::Hours(1));
  const absl::Status twice = ResolveAlert(alert, "staff-3", kNow, "again");
  EXPECT_TRUE(absl::IsFailedPrecondition(twice));
  EXPECT_EQ(twice.message(), "alerts/a1 is already resolved");
  EXPECT_EQ(alert.resolved_by(), "staff-2");

  // An open alert may be resolved without being acknowledged first.
  v1::Alert open;
  open.set_state(v1::ALERT_STATE_OPEN);
  EXPECT_TRUE(ResolveAlert(open, "staff-1", kNow, "false alarm").ok());
}

}  // namespace
}  // namespace linli::feedback
