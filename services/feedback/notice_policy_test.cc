#include "services/feedback/notice_policy.h"

#include <set>

#include "common/proto_time.h"
#include "gtest/gtest.h"

namespace linli::feedback {
namespace {

const absl::TimeZone kShanghai = absl::FixedTimeZone(8 * 3600);

absl::Time Local(int y, int mo, int d, int h, int mi) {
  return absl::FromCivil(absl::CivilMinute(y, mo, d, h, mi), kShanghai);
}

struct Fixture {
  CommitmentFacts commitment{"c1", "elders/e1", "organisations/meals", "", "serviceTypes/meal"};
  ElderFacts elder{"elders/e1", "regions/310101020001", "regions/310101020", true, {}, 0, 0};
  ProjectedVisit Visit(absl::Time start, VisitState state, int staffed) const {
    ProjectedVisit v;
    v.id = "v1";
    v.commitment_id = "c1";
    v.elder = "elders/e1";
    v.state = state;
    v.window_start_us = absl::ToUnixMicros(start);
    v.window_end_us = absl::ToUnixMicros(start + absl::Hours(1));
    v.staffed = staffed;
    return v;
  }
};

std::set<std::string> Recipients(const std::vector<NoticeDraft>& drafts) {
  std::set<std::string> out;
  for (const NoticeDraft& d : drafts) out.insert(d.notice.recipient());
  return out;
}

TEST(NoticePolicyTest, AMissedVisitTellsTheElderTheProviderAndTheCommittee) {
  Fixture f;
  const absl::Time start = Local(2026, 3, 2, 10, 0);
  ProjectedVisit before = f.Visit(start, VisitState::kScheduled, 1);
  ProjectedVisit after = f.Visit(start, VisitState::kMissed, 0);
  std::vector<NoticeDraft> drafts =
      VisitChangeNotices(&before, after, f.commitment, f.elder, start + absl::Hours(2));
  EXPECT_EQ(Recipients(drafts),
            (std::set<std::string>{"elders/e1", "organisations/meals", "regions/310101020001"}));
  for (const NoticeDraft& d : drafts) {
    EXPECT_EQ(d.cause, "missed:visits/v1");
    EXPECT_EQ(d.notice.kind(), v1::NOTICE_KIND_MISSED);
    EXPECT_EQ(d.notice.subject(), "visits/v1");
    EXPECT_FALSE(d.notice.urgent());
    EXPECT_NE(d.notice.text().find("10:00-11:00"), std::string::npos) << d.notice.text();
  }
  // Already missed before: nothing new. Long past (a replayed stream): nothing at all.
  EXPECT_TRUE(
      VisitChangeNotices(&after, after, f.commitment, f.elder, start + absl::Hours(2)).empty());
  EXPECT_TRUE(
      VisitChangeNotices(&before, after, f.commitment, f.elder, start + absl::Hours(30)).empty());
}

TEST(NoticePolicyTest, AWorkerTakenOffCloseToTheWindowMeansNobodyIsComing) {
  Fixture f;
  const absl::Time start = Local(2026, 3, 2, 10, 0);
  ProjectedVisit booked = f.Visit(start, VisitState::kScheduled, 1);
  ProjectedVisit released = f.Visit(start, VisitState::kScheduled, 0);
  std::vector<NoticeDraft> soon =
      VisitChangeNotices(&booked, released, f.commitment, f.elder, start - absl::Minutes(90));
  EXPECT_EQ(Recipients(soon), (std::set<std::string>{"elders/e1", "organisations/meals"}));
  EXPECT_EQ(soon[0].notice.kind(), v1::NOTICE_KIND_NOBODY_COMING);
  EXPECT_EQ(soon[0].cause, "unstaffed:visits/v1");
  // A day ahead, planning has time: nobody is told yet.
  EXPECT_TRUE(VisitChangeNotices(&booked, released, f.commitment, f.elder, start - absl::Hours(24))
                  .empty());
}

TEST(NoticePolicyTest, TheSweepFindsLateAndUnstaffedVisitsWhileTheirWindowLasts) {
  Fixture f;
  const absl::Time start = Local(2026, 3, 2, 10, 0);
  ProjectedVisit booked = f.Visit(start, VisitState::kScheduled, 1);
  // Not yet late at 10:14; late at 10:15; over at 11:00 (the missed sweep's).
  EXPECT_TRUE(
      VisitSweepNotices(booked, f.commitment, f.elder, start + absl::Minutes(14), std::nullopt)
          .empty());
  std::vector<NoticeDraft> late =
      VisitSweepNotices(booked, f.commitment, f.elder, start + kLateMargin, std::nullopt);
  ASSERT_EQ(late.size(), 1u);
  EXPECT_EQ(late[0].notice.recipient(), "elders/e1");
  EXPECT_EQ(late[0].notice.kind(), v1::NOTICE_KIND_RUNNING_LATE);
  EXPECT_FALSE(late[0].notice.has_expected_time());
  EXPECT_TRUE(VisitSweepNotices(booked, f.commitment, f.elder, start + absl::Hours(1), std::nullopt)
                  .empty());
  // With the worker's route: expected at 10:40, said in the text.
  std::vector<NoticeDraft> known = VisitSweepNotices(
      booked, f.commitment, f.elder, start + absl::Minutes(20), start + absl::Minutes(40));
  ASSERT_EQ(known.size(), 1u);
  EXPECT_EQ(FromTimestamp(known[0].notice.expected_time()), start + absl::Minutes(40));
  EXPECT_NE(known[0].notice.text().find("10:40"), std::string::npos) << known[0].notice.text();

  ProjectedVisit unstaffed = f.Visit(start, VisitState::kScheduled, 0);
  EXPECT_TRUE(
      VisitSweepNotices(unstaffed, f.commitment, f.elder, start - absl::Hours(3), std::nullopt)
          .empty());
  EXPECT_EQ(Recipients(VisitSweepNotices(unstaffed, f.commitment, f.elder, start - absl::Hours(1),
                                         std::nullopt)),
            (std::set<std::string>{"elders/e1", "organisations/meals"}));
}

TEST(NoticePolicyTest, ALateWorkerIsExpectedAfterTheVisitTheyAreOn) {
  ProjectedVisit current;
  current.state = VisitState::kInProgress;
  const absl::Time check_in = Local(2026, 3, 2, 9, 30);
  current.check_in_us = absl::ToUnixMicros(check_in);
  current.duration_minutes = 45;
  EXPECT_EQ(ExpectedArrival(&current), check_in + absl::Minutes(45) + kTravelAllowance);
  EXPECT_EQ(ExpectedArrival(nullptr), std::nullopt);
  current.state = VisitState::kCompleted;
  EXPECT_EQ(ExpectedArrival(&current), std::nullopt);
}

TEST(NoticePolicyTest, SafetyAlertsGoToTheCommitteeAndUpToTheStreetWhenNobodyAcknowledges) {
  v1::Alert alert;
  alert.set_name("alerts/a1");
  alert.set_kind(v1::ALERT_KIND_SAFETY_REPORT);
  alert.set_committee("regions/310101020001");
  alert.set_elder("elders/e1");
  alert.set_state(v1::ALERT_STATE_OPEN);
  const absl::Time raised = Local(2026, 3, 2, 3, 0);
  *alert.mutable_create_time() = ToTimestamp(raised);
  NoticeDraft notice = SafetyNotice(alert, "regions/310101020");
  EXPECT_EQ(notice.notice.recipient(), "regions/310101020001");
  EXPECT_TRUE(notice.notice.urgent());
  EXPECT_EQ(notice.notice.kind(), v1::NOTICE_KIND_SAFETY);

  EXPECT_EQ(EscalatedSafetyNotice(alert, "regions/310101020", raised + absl::Minutes(29)),
            std::nullopt);
  std::optional<NoticeDraft> up =
      EscalatedSafetyNotice(alert, "regions/310101020", raised + kSafetyAckTime);
  ASSERT_TRUE(up.has_value());
  EXPECT_EQ(up->notice.recipient(), "regions/310101020");
  EXPECT_EQ(up->notice.kind(), v1::NOTICE_KIND_SAFETY_ESCALATED);
  EXPECT_TRUE(up->notice.urgent());
  alert.set_state(v1::ALERT_STATE_ACKNOWLEDGED);
  EXPECT_EQ(EscalatedSafetyNotice(alert, "regions/310101020", raised + absl::Hours(2)),
            std::nullopt);
  alert.set_state(v1::ALERT_STATE_OPEN);
  alert.set_kind(v1::ALERT_KIND_FALLING_INDEX);  // not a safety matter
  EXPECT_FALSE(IsSafetyAlert(alert.kind()));
  EXPECT_EQ(EscalatedSafetyNotice(alert, "regions/310101020", raised + absl::Hours(2)),
            std::nullopt);
}

TEST(NoticePolicyTest, TheFilerOfAComplaintHearsOfItsSteps) {
  v1::WorkOrder order;
  order.set_name("workOrders/w1");
  order.set_elder("elders/e1");
  order.set_source(v1::WORK_ORDER_SOURCE_APP);
  order.set_state(v1::WORK_ORDER_STATE_ACCEPTED);
  order.add_history()->set_actor("elder:users/e1");
  std::optional<NoticeDraft> accepted = WorkOrderNotice(order, "regions/c", "regions/s");
  ASSERT_TRUE(accepted.has_value());
  EXPECT_EQ(accepted->notice.recipient(), "elders/e1");
  EXPECT_EQ(accepted->notice.work_order_state(), v1::WORK_ORDER_STATE_ACCEPTED);
  order.set_state(v1::WORK_ORDER_STATE_CLASSIFIED);  // an internal step
  EXPECT_EQ(WorkOrderNotice(order, "regions/c", "regions/s"), std::nullopt);
  order.set_state(v1::WORK_ORDER_STATE_RESOLVED);
  std::optional<NoticeDraft> resolved = WorkOrderNotice(order, "regions/c", "regions/s");
  ASSERT_TRUE(resolved.has_value());
  EXPECT_NE(resolved->cause, accepted->cause);

  // From 12345: the hotline partner hears; from a worker: nobody (staff business).
  order.set_source(v1::WORK_ORDER_SOURCE_HOTLINE_12345);
  order.mutable_history(0)->set_actor("partner:partners/hotline-12345");
  EXPECT_EQ(WorkOrderNotice(order, "regions/c", "regions/s")->notice.recipient(),
            "partners/hotline-12345");
  order.set_source(v1::WORK_ORDER_SOURCE_WORKER_APP);
  EXPECT_EQ(WorkOrderNotice(order, "regions/c", "regions/s"), std::nullopt);
}

TEST(NoticePolicyTest, QuietHoursHoldBackAllButUrgentNotices) {
  v1::NoticePreferences elder = DefaultPreferences("elders/e1");
  EXPECT_EQ(elder.quiet_start(), "21:00");
  EXPECT_EQ(elder.quiet_end(), "07:00");
  EXPECT_TRUE(DefaultPreferences("regions/310101020001").quiet_start().empty());

  const absl::Time three_am = Local(2026, 3, 2, 3, 0);
  EXPECT_EQ(DeliverableAt(elder, false, three_am), Local(2026, 3, 2, 7, 0));
  EXPECT_EQ(DeliverableAt(elder, true, three_am), three_am);
  const absl::Time ten_pm = Local(2026, 3, 2, 22, 0);
  EXPECT_EQ(DeliverableAt(elder, false, ten_pm), Local(2026, 3, 3, 7, 0));
  const absl::Time noon = Local(2026, 3, 2, 12, 0);
  EXPECT_EQ(DeliverableAt(elder, false, noon), noon);

  v1::NoticePreferences lunch;
  lunch.set_quiet_start("12:00");
  lunch.set_quiet_end("13:30");
  EXPECT_EQ(DeliverableAt(lunch, false, noon), Local(2026, 3, 2, 13, 30));
  EXPECT_EQ(DeliverableAt(lunch, false, ten_pm), ten_pm);

  EXPECT_TRUE(ValidatePreferences(lunch).ok());
  lunch.set_quiet_end("25:00");
  absl::Status bad = ValidatePreferences(lunch);
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.ToString().find("quiet_end"), std::string::npos);
  lunch.set_quiet_end("");
  EXPECT_FALSE(ValidatePreferences(lunch).ok());
}

TEST(NoticePolicyTest, RetriesBackOffWithJitterAndStopAfterThreeDays) {
  const absl::Time first = Local(2026, 3, 2, 9, 0);
  EXPECT_EQ(NextAttempt(1, first, first, 1.0), first + absl::Seconds(10));
  EXPECT_EQ(NextAttempt(2, first, first, 1.0), first + absl::Seconds(20));
  EXPECT_EQ(NextAttempt(3, first, first, 0.5), first + absl::Seconds(20));
  EXPECT_EQ(NextAttempt(30, first, first, 1.0), first + absl::Minutes(10));
  EXPECT_EQ(NextAttempt(5, first, first + kDeliveryGiveUp, 1.0), std::nullopt);
  // An endpoint down for an hour is tried again within ten minutes of coming back.
  const absl::Time later = first + absl::Hours(1);
  EXPECT_LE(*NextAttempt(20, first, later, 1.0) - later, absl::Minutes(10));
}

TEST(NoticePolicyTest, WebhookUrlsMustBeHttpsExceptOnLoopback) {
  EXPECT_EQ(WebhookUrlProblem("https://sms.example.cn/hooks/linli"), std::nullopt);
  EXPECT_EQ(WebhookUrlProblem("http://127.0.0.1:8099/hook"), std::nullopt);
  EXPECT_EQ(WebhookUrlProblem("http://[::1]:8099/"), std::nullopt);
  for (const char* bad : {"http://sms.example.cn/hook", "ftp://x", "https://", "https://u@h/",
                          "https://h:99999/", "https://h/a b"}) {
    std::optional<std::string> problem = WebhookUrlProblem(bad);
    ASSERT_TRUE(problem.has_value()) << bad;
    EXPECT_FALSE(problem->empty()) << bad;
  }
  EXPECT_NE(WebhookUrlProblem("http://sms.example.cn/hook")->find("https://"), std::string::npos);
}

TEST(NoticePolicyTest, AWebhookReceivesItsRecipientsNoticesOrThoseOfTheEldersOfItsRegion) {
  NoticeDraft draft;
  draft.notice.set_recipient("elders/e1");
  draft.notice.set_kind(v1::NOTICE_KIND_MISSED);
  draft.committee = "regions/310101020001";
  draft.street = "regions/310101020";
  EXPECT_TRUE(WebhookWants("elders/e1", false, {}, draft));
  EXPECT_FALSE(WebhookWants("regions/310101020001", false, {}, draft));
  EXPECT_TRUE(WebhookWants("regions/310101020", true, {}, draft));
  EXPECT_TRUE(WebhookWants("regions/310101020001", true, {v1::NOTICE_KIND_MISSED}, draft));
  EXPECT_FALSE(WebhookWants("regions/310101020001", true, {v1::NOTICE_KIND_SAFETY}, draft));
  draft.notice.set_recipient("regions/310101020001");  // the committee's own notice
  EXPECT_FALSE(WebhookWants("regions/310101020001", true, {}, draft));
  EXPECT_TRUE(WebhookWants("regions/310101020001", false, {}, draft));
}

TEST(NoticePolicyTest, ADeclinedMakeUpTellsTheProviderAndTheCommitteeWhy) {
  Fixture f;
  const absl::Time start = Local(2026, 3, 2, 10, 0);
  const ProjectedVisit missed = f.Visit(start, VisitState::kMissed, 0);
  const absl::Time declined = start + absl::Hours(50);  // days later is still news
  std::vector<NoticeDraft> drafts = MakeUpDeclinedNotices(
      missed, f.commitment, f.elder, scheduling::v1::MAKE_UP_DECLINE_REASON_UNHAPPY_WITH_PROVIDER,
      declined, declined + absl::Minutes(1));
  EXPECT_EQ(Recipients(drafts),
            (std::set<std::string>{"organisations/meals", "regions/310101020001"}));
  for (const NoticeDraft& d : drafts) {
    EXPECT_EQ(d.cause, "make_up_declined:visits/v1");
    EXPECT_EQ(d.notice.kind(), v1::NOTICE_KIND_MAKE_UP_DECLINED);
    EXPECT_NE(d.notice.text().find("对服务机构不满意"), std::string::npos) << d.notice.text();
    EXPECT_NE(d.notice.text().find("3月2日 10:00-11:00"), std::string::npos) << d.notice.text();
  }
  // A decline replayed long after: nothing.
  EXPECT_TRUE(MakeUpDeclinedNotices(missed, f.commitment, f.elder,
                                    scheduling::v1::MAKE_UP_DECLINE_REASON_OTHER, declined,
                                    declined + absl::Hours(25))
                  .empty());
}

TEST(NoticePolicyTest, AMutedChannelCarriesOnlyUrgentNotices) {
  v1::NoticePreferences p;
  v1::ChannelPreference* texts = p.add_channels();
  texts->set_channel(v1::NOTICE_CHANNEL_TEXT_MESSAGE);
  texts->add_muted_kinds(v1::NOTICE_KIND_RUNNING_LATE);
  v1::ChannelPreference* calls = p.add_channels();
  calls->set_channel(v1::NOTICE_CHANNEL_VOICE_CALL);
  calls->set_muted(true);
  EXPECT_TRUE(ValidatePreferences(p).ok());
  v1::Notice late;
  late.set_kind(v1::NOTICE_KIND_RUNNING_LATE);
  v1::Notice missed;
  missed.set_kind(v1::NOTICE_KIND_MISSED);
  v1::Notice safety;
  safety.set_kind(v1::NOTICE_KIND_SAFETY);
  safety.set_urgent(true);
  EXPECT_FALSE(ChannelWants(p, v1::NOTICE_CHANNEL_TEXT_MESSAGE, late));
  EXPECT_TRUE(ChannelWants(p, v1::NOTICE_CHANNEL_TEXT_MESSAGE, missed));
  EXPECT_FALSE(ChannelWants(p, v1::NOTICE_CHANNEL_VOICE_CALL, missed));
  EXPECT_TRUE(ChannelWants(p, v1::NOTICE_CHANNEL_VOICE_CALL, safety));  // urgent goes anyway
  EXPECT_TRUE(ChannelWants(p, v1::NOTICE_CHANNEL_WECHAT, late));        // no preference
  EXPECT_TRUE(ChannelWants(p, v1::NOTICE_CHANNEL_UNSPECIFIED, late));   // a plain webhook
  EXPECT_TRUE(ChannelWants(v1::NoticePreferences(), v1::NOTICE_CHANNEL_VOICE_CALL, missed));
}

TEST(NoticePolicyTest, AReferralsStepsTellTheProviderTheCommitteeAndTheElder) {
  namespace sch = scheduling::v1;
  const absl::Time now = absl::FromUnixSeconds(1796227200);
  sch::Referral r;
  r.set_name("referrals/r1");
  r.set_elder("elders/e1");
  r.set_committee("regions/310101020001");
  r.set_street("regions/310101020");
  r.set_service_type("serviceTypes/bathing");
  r.set_commitment("commitments/old");
  r.set_to_organisation("organisations/station");
  r.set_state(sch::REFERRAL_STATE_SENT);
  *r.mutable_send_time() = ToTimestamp(now - absl::Minutes(1));
  *r.mutable_respond_by() = ToTimestamp(now + absl::Hours(48));
  auto recipients = [](const std::vector<NoticeDraft>& drafts) {
    std::vector<std::string> out;
    for (const NoticeDraft& d : drafts) {
      EXPECT_EQ(d.notice.kind(), v1::NOTICE_KIND_REFERRAL);
      EXPECT_EQ(d.notice.subject(), "referrals/r1");
      EXPECT_EQ(d.committee, "regions/310101020001");
      out.push_back(d.notice.recipient());
    }
    return out;
  };
  std::vector<NoticeDraft> sent = ReferralNotices(r, now);
  EXPECT_EQ(recipients(sent), std::vector<std::string>{"organisations/station"});
  EXPECT_EQ(sent[0].notice.commitment(), "commitments/old");

  r.set_state(sch::REFERRAL_STATE_ACCEPTED);
  r.set_provider_commitment("commitments/new");
  *r.mutable_answer_time() = ToTimestamp(now);
  std::vector<NoticeDraft> accepted = ReferralNotices(r, now);
  EXPECT_EQ(recipients(accepted), (std::vector<std::string>{"regions/310101020001", "elders/e1"}));
  EXPECT_EQ(accepted[0].notice.commitment(), "commitments/new");
  EXPECT_NE(accepted[0].cause, sent[0].cause) << "each step is its own cause";

  r.set_state(sch::REFERRAL_STATE_DECLINED);
  r.set_decline_reason(sch::DECLINE_REASON_NO_CAPACITY);
  std::vector<NoticeDraft> declined = ReferralNotices(r, now);
  EXPECT_EQ(recipients(declined), std::vector<std::string>{"regions/310101020001"});
  EXPECT_NE(declined[0].notice.text().find("另找服务方"), std::string::npos);

  r.set_state(sch::REFERRAL_STATE_EXPIRED);
  *r.mutable_end_time() = ToTimestamp(now);
  EXPECT_EQ(recipients(ReferralNotices(r, now)), std::vector<std::string>{"regions/310101020001"});
  r.set_state(sch::REFERRAL_STATE_COMPLETED);
  r.set_outcome(sch::REFERRAL_OUTCOME_NEED_MET);
  EXPECT_TRUE(ReferralNotices(r, now).empty()) << "a need met needs no action";
  r.set_outcome(sch::REFERRAL_OUTCOME_PROVIDER_ENDED);
  EXPECT_EQ(ReferralNotices(r, now).size(), 1u);
  r.set_state(sch::REFERRAL_STATE_WITHDRAWN);
  EXPECT_TRUE(ReferralNotices(r, now).empty());
  // Last week's step, replayed: nobody is told again.
  r.set_state(sch::REFERRAL_STATE_EXPIRED);
  *r.mutable_end_time() = ToTimestamp(now - absl::Hours(24 * 7));
  EXPECT_TRUE(ReferralNotices(r, now).empty());
}

}  // namespace
}  // namespace linli::feedback
