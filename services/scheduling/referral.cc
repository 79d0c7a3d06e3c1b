#include "services/scheduling/referral.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/errors.h"
#include "common/idempotency.h"
#include "common/proto_time.h"
#include "common/text.h"

namespace linli::scheduling {
namespace {

void CheckName(FieldViolations& v, const std::string& name, const char* collection,
               const char* field) {
  if (!ParseResourceName(name, collection, field).ok()) {
    v.Add(field, absl::StrCat("must look like \"", collection, "/ID\""));
  }
}

absl::Status NotInState(const v1::Referral& referral, const char* wanted) {
  return absl::FailedPreconditionError(absl::StrCat(
      referral.name(), " is ", v1::ReferralState_Name(referral.state()), ", not ", wanted));
}

}  // namespace

absl::Status ValidateCreateReferral(const v1::CreateReferralRequest& request) {
  FieldViolations v;
  CheckName(v, request.commitment(), "commitments", "commitment");
  CheckName(v, request.offering(), "offerings", "offering");
  if (request.reason() == v1::REFERRAL_REASON_UNSPECIFIED ||
      !v1::ReferralReason_IsValid(request.reason())) {
    v.Add("reason", "is required (REFERRAL_REASON_OWNER_NO_CAPACITY, …_ELDER_REQUEST, …)");
  }
  if (request.respond_within_hours() < 0 ||
      request.respond_within_hours() > kMaxRespondWithinHours) {
    v.Add("respond_within_hours", "must be between 1 and 168 (0: 48)");
  }
  if (!ValidateRequestId(request.request_id()).ok()) v.Add("request_id", "is malformed");
  return v.ToStatus();
}

absl::Status ValidateAnswerReferral(const v1::AnswerReferralRequest& request) {
  FieldViolations v;
  CheckName(v, request.name(), "referrals", "name");
  CheckName(v, request.organisation(), "organisations", "organisation");
  if (!v1::DeclineReason_IsValid(request.decline_reason())) {
    v.Add("decline_reason", "is not a known reason");
  } else if (!request.accept() && request.decline_reason() == v1::DECLINE_REASON_UNSPECIFIED) {
    v.Add("decline_reason", "is required to decline (DECLINE_REASON_NO_CAPACITY, …)");
  } else if (request.accept() && request.decline_reason() != v1::DECLINE_REASON_UNSPECIFIED) {
    v.Add("decline_reason", "must be empty when accepting");
  }
  if (!ValidateRequestId(request.request_id()).ok()) v.Add("request_id", "is malformed");
  return v.ToStatus();
}

absl::Status ValidateCompleteReferral(const v1::CompleteReferralRequest& request) {
  FieldViolations v;
  CheckName(v, request.name(), "referrals", "name");
  CheckName(v, request.organisation(), "organisations", "organisation");
  if (request.outcome() == v1::REFERRAL_OUTCOME_UNSPECIFIED ||
      !v1::ReferralOutcome_IsValid(request.outcome())) {
    v.Add("outcome", "is required (REFERRAL_OUTCOME_NEED_MET, …)");
  }
  if (!ValidateRequestId(request.request_id()).ok()) v.Add("request_id", "is malformed");
  return v.ToStatus();
}

bool SharesWithProviders(const registry::v1::Elder& elder) {
  // The registry keeps the latest decision per purpose; the last one listed wins regardless.
  bool granted = false;
  for (const registry::v1::Consent& consent : elder.consents()) {
    if (consent.purpose() == registry::v1::CONSENT_PURPOSE_SHARE_WITH_PROVIDERS) {
      granted = consent.granted();
    }
  }
  return granted;
}

v1::Commitment ReferralTerms(const v1::Commitment& commitment) {
  v1::Commitment terms = commitment;
  terms.clear_name();
  terms.clear_owner_organisation();
  terms.clear_preferred_worker();  // a worker of the owner
  terms.clear_state();
  terms.clear_create_time();
  terms.clear_moved_to();
  terms.clear_referral();
  terms.clear_care_grade();
  return terms;
}

absl::StatusOr<v1::Referral> NewReferral(const v1::Commitment& commitment,
                                         const registry::v1::Elder& elder,
                                         const registry::v1::ProviderMatch& match,
                                         const std::string& street,
                                         const v1::CreateReferralRequest& request,
                                         const std::string& actor, absl::Time now) {
  if (!SharesWithProviders(elder)) {
    return absl::FailedPreconditionError(absl::StrCat(
        commitment.elder(),
        " has not consented to sharing with providers (CONSENT_PURPOSE_SHARE_WITH_PROVIDERS): "
        "record the elder's consent before referring"));
  }
  if (match.offering().organisation() == commitment.owner_organisation()) {
    return InvalidField("offering",
                        absl::StrCat(request.offering(), " is ", commitment.owner_organisation(),
                                     "'s own: refer to another provider"));
  }
  v1::Referral referral;
  referral.set_commitment(commitment.name());
  referral.set_elder(commitment.elder());
  referral.set_committee(elder.region());
  referral.set_street(street);
  referral.set_service_type(commitment.service_type());
  referral.set_from_organisation(commitment.owner_organisation());
  referral.set_to_organisation(match.offering().organisation());
  referral.set_offering(match.offering().name());
  referral.set_reason(request.reason());
  referral.set_state(v1::REFERRAL_STATE_SENT);
  *referral.mutable_terms() = ReferralTerms(commitment);
  referral.set_sent_by(actor);
  *referral.mutable_send_time() = ToTimestamp(now);
  const int hours = request.respond_within_hours() == 0 ? kDefaultRespondWithinHours
                                                        : request.respond_within_hours();
  *referral.mutable_respond_by() = ToTimestamp(now + absl::Hours(hours));
  return referral;
}

absl::Status ApplyAnswer(const v1::AnswerReferralRequest& request, const std::string& actor,
                         absl::Time now, v1::Referral& referral) {
  if (referral.state() != v1::REFERRAL_STATE_SENT) return NotInState(referral, "SENT");
  if (IsOverdue(referral, now)) {
    return absl::FailedPreconditionError(absl::StrCat(
        referral.name(), " expired at ", absl::FormatTime(FromTimestamp(referral.respond_by()))));
  }
  referral.set_state(request.accept() ? v1::REFERRAL_STATE_ACCEPTED : v1::REFERRAL_STATE_DECLINED);
  referral.set_decline_reason(request.accept() ? v1::DECLINE_REASON_UNSPECIFIED
                                               : request.decline_reason());
  referral.set_answered_by(actor);
  *referral.mutable_answer_time() = ToTimestamp(now);
  return absl::OkStatus();
}

v1::Commitment ProviderCommitment(const v1::Commitment& referred, const v1::Referral& referral,
                                  absl::CivilDay today, absl::Time now) {
  v1::Commitment commitment = ReferralTerms(referred);
  commitment.set_owner_organisation(referral.to_organisation());
  commitment.set_referral(referral.name());
  commitment.set_state(v1::COMMITMENT_STATE_ACTIVE);
  *commitment.mutable_create_time() = ToTimestamp(now);
  absl::CivilDay from;
  if (!absl::ParseCivilTime(referred.valid_from(), &from) || from < today) from = today;
  commitment.set_valid_from(absl::FormatCivilTime(from));
  return commitment;
}

absl::Status ApplyCompletion(const v1::CompleteReferralRequest& request, const std::string& actor,
                             absl::Time now, v1::Referral& referral) {
  if (referral.state() != v1::REFERRAL_STATE_ACCEPTED &&
      referral.state() != v1::REFERRAL_STATE_IN_SERVICE) {
    return NotInState(referral, "ACCEPTED or IN_SERVICE");
  }
  referral.set_state(v1::REFERRAL_STATE_COMPLETED);
  referral.set_outcome(request.outcome());
  referral.set_ended_by(actor);
  *referral.mutable_end_time() = ToTimestamp(now);
  return absl::OkStatus();
}

absl::Status ApplyWithdrawal(const std::string& actor, absl::Time now, v1::Referral& referral) {
  if (referral.state() != v1::REFERRAL_STATE_SENT) return NotInState(referral, "SENT");
  referral.set_state(v1::REFERRAL_STATE_WITHDRAWN);
  referral.set_ended_by(actor);
  *referral.mutable_end_time() = ToTimestamp(now);
  return absl::OkStatus();
}

bool IsOverdue(const v1::Referral& referral, absl::Time now) {
  return referral.state() == v1::REFERRAL_STATE_SENT && FromTimestamp(referral.respond_by()) <= now;
}

void MarkExpired(absl::Time now, v1::Referral& referral) {
  referral.set_state(v1::REFERRAL_STATE_EXPIRED);
  *referral.mutable_end_time() = ToTimestamp(now);
}

void MarkInService(absl::Time first_check_in, v1::Referral& referral) {
  referral.set_state(v1::REFERRAL_STATE_IN_SERVICE);
  *referral.mutable_service_start_time() = ToTimestamp(first_check_in);
}

std::string ReferralEventType(const v1::Referral& referral) {
  return "referral." + absl::AsciiStrToLower(absl::StripPrefix(
                           v1::ReferralState_Name(referral.state()), "REFERRAL_STATE_"));
}

}  // namespace linli::scheduling
