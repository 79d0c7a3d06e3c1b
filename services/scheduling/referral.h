// Cross-sector referral (转介) rules: a promise its owner cannot keep handed to another provider,
// who accepts or declines; accepted, the promise moves (the provider's own commitment with the
// same terms, the visits still to come moved with their dates) rather than breaking. Pure C++
// over the protos: the use cases (referral_use_cases.h) read and write, these decide.
//
//   sent ──accept──> accepted ──first check-in──> in service ──complete──> completed
//     │                  └──────────────complete──────────────────────────────┘
//     ├──decline──> declined
//     ├──respond_by passes──> expired
//     └──withdraw (or the promise ends)──> withdrawn
#ifndef LINLI_SERVICES_SCHEDULING_REFERRAL_H_
#define LINLI_SERVICES_SCHEDULING_REFERRAL_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "linli/registry/v1/registry.pb.h"
#include "linli/scheduling/v1/scheduling.pb.h"

namespace linli::scheduling {

inline constexpr int kDefaultRespondWithinHours = 48;
inline constexpr int kMaxRespondWithinHours = 168;

// INVALID_ARGUMENT naming each bad field of a CreateReferral request (resource names, a reason,
// the answer time, the request id).
absl::Status ValidateCreateReferral(const v1::CreateReferralRequest& request);
// The same for AnswerReferral (a decline needs its reason; an accept takes none) and
// CompleteReferral (an outcome).
absl::Status ValidateAnswerReferral(const v1::AnswerReferralRequest& request);
absl::Status ValidateCompleteReferral(const v1::CompleteReferralRequest& request);

// Whether the elder's latest decision on sharing with providers is a grant.
bool SharesWithProviders(const registry::v1::Elder& elder);

// The referral of `commitment` (active) to `match` (the registry's provider search found it for
// the elder), sent by `actor` at `now`: FAILED_PRECONDITION when the elder did not consent to
// sharing with providers; INVALID_ARGUMENT (offering) when the offering is the owner's own.
// `committee` and `street` are the elder's regions.
absl::StatusOr<v1::Referral> NewReferral(const v1::Commitment& commitment,
                                         const registry::v1::Elder& elder,
                                         const registry::v1::ProviderMatch& match,
                                         const std::string& street,
                                         const v1::CreateReferralRequest& request,
                                         const std::string& actor, absl::Time now);

// The promise's terms as the receiving provider sees them: no name, owner-specific worker,
// state or history of the promise.
v1::Commitment ReferralTerms(const v1::Commitment& commitment);

// The receiving organisation's answer: FAILED_PRECONDITION unless the referral is sent and its
// respond_by has not passed. Sets state, who answered and when, and the decline reason.
absl::Status ApplyAnswer(const v1::AnswerReferralRequest& request, const std::string& actor,
                         absl::Time now, v1::Referral& referral);

// The provider's commitment of an accepted referral: the referred promise's terms, owned by the
// receiving organisation from `today` (or the promise's own first day, when later), active.
v1::Commitment ProviderCommitment(const v1::Commitment& referred, const v1::Referral& referral,
                                  absl::CivilDay today, absl::Time now);

// Closing by the provider: FAILED_PRECONDITION unless accepted or in service.
absl::Status ApplyCompletion(const v1::CompleteReferralRequest& request, const std::string& actor,
                             absl::Time now, v1::Referral& referral);

// Taken back by the sender (or ended with its promise): FAILED_PRECONDITION unless sent.
absl::Status ApplyWithdrawal(const std::string& actor, absl::Time now, v1::Referral& referral);

// Whether a sent referral is past its respond_by at `now` (the sweep then expires it).
bool IsOverdue(const v1::Referral& referral, absl::Time now);
void MarkExpired(absl::Time now, v1::Referral& referral);
// An accepted referral whose provider checked in at `first_check_in`.
void MarkInService(absl::Time first_check_in, v1::Referral& referral);

// The outbox event type of a referral in its state: "referral.sent", "referral.accepted", ...
std::string ReferralEventType(const v1::Referral& referral);

}  // namespace linli::scheduling

#endif  // LINLI_SERVICES_SCHEDULING_REFERRAL_H_
