#include "services/scheduling/referral.h"

#include <gtest/gtest.h>

#include "common/proto_time.h"

namespace linli::scheduling {
namespace {

const absl::Time kNow = absl::FromCivil(absl::CivilMinute(2026, 12, 3, 10, 0), absl::UTCTimeZone());

v1::Commitment Promise() {
  v1::Commitment c;
  c.set_name("commitments/c1");
  c.set_elder("elders/e1");
  c.set_service_type("serviceTypes/bathing");
  c.set_owner_organisation("organisations/owner");
  c.set_preferred_worker("workers/w1");
  c.set_valid_from("2026-11-01");
  c.set_duration_minutes(60);
  c.set_state(v1::COMMITMENT_STATE_ACTIVE);
  c.mutable_recurrence()->set_rrule("FREQ=WEEKLY;BYDAY=TU");
  c.mutable_recurrence()->set_dtstart("2026-11-03T09:00:00");
  return c;
}

registry::v1::Elder Elder(bool shares) {
  registry::v1::Elder elder;
  elder.set_name("elders/e1");
  elder.set_region("regions/310101020001");
  registry::v1::Consent* consent = elder.add_consents();
  consent->set_purpose(registry::v1::CONSENT_PURPOSE_SHARE_WITH_PROVIDERS);
  consent->set_granted(shares);
  return elder;
}

registry::v1::ProviderMatch Match(const std::string& organisation) {
  registry::v1::ProviderMatch match;
  match.mutable_offering()->set_name("offerings/o1");
  match.mutable_offering()->set_organisation(organisation);
  return match;
}

v1::CreateReferralRequest Request() {
  v1::CreateReferralRequest request;
  request.set_commitment("commitments/c1");
  request.set_offering("offerings/o1");
  request.set_reason(v1::REFERRAL_REASON_OWNER_NO_CAPACITY);
  return request;
}

v1::Referral Sent() {
  absl::StatusOr<v1::Referral> r = NewReferral(Promise(), Elder(true), Match("organisations/ngo"),
                                               "regions/310101020", Request(), "staff-1", kNow);
  EXPECT_TRUE(r.ok()) << r.status();
  r->set_name("referrals/r1");
  return *r;
}

TEST(ReferralTest, ARequestNamesEveryBadField) {
  v1::CreateReferralRequest request;
  request.set_respond_within_hours(200);
  absl::Status status = ValidateCreateReferral(request);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  for (const char* field : {"commitment", "offering", "reason", "respond_within_hours"}) {
    EXPECT_NE(std::string(status.message()).find(field), std::string::npos) << field;
  }
  EXPECT_TRUE(ValidateCreateReferral(Request()).ok());
}

TEST(ReferralTest, NoReferralWithoutTheEldersConsentToShareWithProviders) {
  absl::StatusOr<v1::Referral> refused = NewReferral(
      Promise(), Elder(false), Match("organisations/ngo"), "", Request(), "staff-1", kNow);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("CONSENT_PURPOSE_SHARE_WITH_PROVIDERS"),
            std::string::npos);
  registry::v1::Elder never;
  EXPECT_FALSE(SharesWithProviders(never));
  // Granted, then withdrawn: the latest decision counts.
  registry::v1::Elder withdrawn = Elder(true);
  *withdrawn.add_consents() = Elder(false).consents(0);
  EXPECT_FALSE(SharesWithProviders(withdrawn));
}

TEST(ReferralTest, TheOwnerCannotBeReferredTo) {
  absl::StatusOr<v1::Referral> refused = NewReferral(
      Promise(), Elder(true), Match("organisations/owner"), "", Request(), "staff-1", kNow);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("offering"), std::string::npos);
}

TEST(ReferralTest, ASentReferralCarriesThePromisesTermsAndNoOwnerDetails) {
  const v1::Referral referral = Sent();
  EXPECT_EQ(referral.state(), v1::REFERRAL_STATE_SENT);
  EXPECT_EQ(referral.from_organisation(), "organisations/owner");
  EXPECT_EQ(referral.to_organisation(), "organisations/ngo");
  EXPECT_EQ(referral.committee(), "regions/310101020001");
  EXPECT_EQ(referral.street(), "regions/310101020");
  EXPECT_EQ(FromTimestamp(referral.respond_by()), kNow + absl::Hours(48));
  EXPECT_EQ(referral.terms().recurrence().rrule(), "FREQ=WEEKLY;BYDAY=TU");
  EXPECT_EQ(referral.terms().duration_minutes(), 60);
  EXPECT_TRUE(referral.terms().preferred_worker().empty());
  EXPECT_TRUE(referral.terms().owner_organisation().empty());
  EXPECT_TRUE(referral.terms().name().empty());
  v1::CreateReferralRequest soon = Request();
  soon.set_respond_within_hours(4);
  absl::StatusOr<v1::Referral> quick =
      NewReferral(Promise(), Elder(true), Match("organisations/x"), "", soon, "staff-1", kNow);
  ASSERT_TRUE(quick.ok());
  EXPECT_EQ(FromTimestamp(quick->respond_by()), kNow + absl::Hours(4));
}

TEST(ReferralTest, AnAnswerComesOnceAndBeforeRespondBy) {
  v1::AnswerReferralRequest decline;
  decline.set_name("referrals/r1");
  decline.set_organisation("organisations/ngo");
  EXPECT_EQ(ValidateAnswerReferral(decline).code(), absl::StatusCode::kInvalidArgument)
      << "a decline needs its reason";
  decline.set_decline_reason(v1::DECLINE_REASON_NO_CAPACITY);
  ASSERT_TRUE(ValidateAnswerReferral(decline).ok());

  v1::Referral referral = Sent();
  ASSERT_TRUE(ApplyAnswer(decline, "partner-key", kNow + absl::Hours(1), referral).ok());
  EXPECT_EQ(referral.state(), v1::REFERRAL_STATE_DECLINED);
  EXPECT_EQ(referral.decline_reason(), v1::DECLINE_REASON_NO_CAPACITY);
  EXPECT_EQ(referral.answered_by(), "partner-key");
  v1::AnswerReferralRequest accept = decline;
  accept.set_accept(true);
  accept.clear_decline_reason();
  EXPECT_EQ(ApplyAnswer(accept, "partner-key", kNow + absl::Hours(2), referral).code(),
            absl::StatusCode::kFailedPrecondition);

  v1::Referral late = Sent();
  EXPECT_FALSE(IsOverdue(late, kNow + absl::Hours(47)));
  EXPECT_TRUE(IsOverdue(late, kNow + absl::Hours(48)));
  EXPECT_EQ(ApplyAnswer(accept, "partner-key", kNow + absl::Hours(49), late).code(),
            absl::StatusCode::kFailedPrecondition);
  MarkExpired(kNow + absl::Hours(49), late);
  EXPECT_EQ(late.state(), v1::REFERRAL_STATE_EXPIRED);
  EXPECT_FALSE(IsOverdue(late, kNow + absl::Hours(50)));
}

TEST(ReferralTest, TheProvidersPromiseKeepsTheTermsFromToday) {
  v1::Referral referral = Sent();
  const v1::Commitment provider =
      ProviderCommitment(Promise(), referral, absl::CivilDay(2026, 12, 3), kNow);
  EXPECT_EQ(provider.owner_organisation(), "organisations/ngo");
  EXPECT_EQ(provider.referral(), "referrals/r1");
  EXPECT_EQ(provider.valid_from(), "2026-12-03");
  EXPECT_EQ(provider.state(), v1::COMMITMENT_STATE_ACTIVE);
  EXPECT_EQ(provider.elder(), "elders/e1");
  EXPECT_EQ(provider.recurrence().dtstart(), "2026-11-03T09:00:00");
  EXPECT_TRUE(provider.preferred_worker().empty());
  // A promise that starts later keeps its own first day.
  v1::Commitment later = Promise();
  later.set_valid_from("2027-01-04");
  EXPECT_EQ(ProviderCommitment(later, referral, absl::CivilDay(2026, 12, 3), kNow).valid_from(),
            "2027-01-04");
}

TEST(ReferralTest, OnlyAnAcceptedReferralIsCompletedAndOnlyASentOneWithdrawn) {
  v1::CompleteReferralRequest complete;
  complete.set_name("referrals/r1");
  complete.set_organisation("organisations/ngo");
  EXPECT_EQ(ValidateCompleteReferral(complete).code(), absl::StatusCode::kInvalidArgument);
  complete.set_outcome(v1::REFERRAL_OUTCOME_NEED_MET);
  v1::Referral referral = Sent();
  EXPECT_EQ(ApplyCompletion(complete, "p", kNow, referral).code(),
            absl::StatusCode::kFailedPrecondition);
  referral.set_state(v1::REFERRAL_STATE_ACCEPTED);
  MarkInService(kNow, referral);
  EXPECT_EQ(ReferralEventType(referral), "referral.in_service");
  ASSERT_TRUE(ApplyCompletion(complete, "p", kNow, referral).ok());
  EXPECT_EQ(referral.state(), v1::REFERRAL_STATE_COMPLETED);
  EXPECT_EQ(referral.outcome(), v1::REFERRAL_OUTCOME_NEED_MET);
  EXPECT_EQ(ApplyWithdrawal("staff-1", kNow, referral).code(),
            absl::StatusCode::kFailedPrecondition);
  v1::Referral sent = Sent();
  ASSERT_TRUE(ApplyWithdrawal("staff-1", kNow, sent).ok());
  EXPECT_EQ(ReferralEventType(sent), "referral.withdrawn");
}

}  // namespace
}  // namespace linli::scheduling
