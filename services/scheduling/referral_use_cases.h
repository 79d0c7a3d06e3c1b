// The referral use cases (referral.h): sending one (the elder's consent and the provider checked
// against the registry), reading them, the receiving organisation's answer (accepted, the
// promise moves with its visits in one transaction), its completion, the sender's withdrawal and
// the sweep (expiry, first check-in). Each opens its transactions, records an outbox event per
// change ("referral.sent", "referral.accepted", …, payload the Referral) and calls the rules of
// referral.h. No gRPC: the adapter is scheduling_referrals.cc.
#ifndef LINLI_SERVICES_SCHEDULING_REFERRAL_USE_CASES_H_
#define LINLI_SERVICES_SCHEDULING_REFERRAL_USE_CASES_H_

#include <string>

#include "absl/status/status.h"
#include "common/clock.h"
#include "common/storage/database.h"
#include "linli/scheduling/v1/scheduling.pb.h"
#include "services/scheduling/registry_view.h"

namespace linli::scheduling {

// See SchedulingService.CreateReferral. `actor` is the caller.
absl::Status CreateReferral(storage::Database& db, const Clock& clock, RegistryView& registry,
                            const v1::CreateReferralRequest& request, const std::string& actor,
                            v1::CreateReferralResponse* response);

absl::Status GetReferral(storage::Database& db, const v1::GetReferralRequest& request,
                         v1::GetReferralResponse* response);

absl::Status ListReferrals(storage::Database& db, const v1::ListReferralsRequest& request,
                           v1::ListReferralsResponse* response);

absl::Status AnswerReferral(storage::Database& db, const Clock& clock,
                            const v1::AnswerReferralRequest& request, const std::string& actor,
                            v1::AnswerReferralResponse* response);

absl::Status CompleteReferral(storage::Database& db, const Clock& clock,
                              const v1::CompleteReferralRequest& request, const std::string& actor,
                              v1::CompleteReferralResponse* response);

absl::Status WithdrawReferral(storage::Database& db, const Clock& clock,
                              const v1::WithdrawReferralRequest& request, const std::string& actor,
                              v1::WithdrawReferralResponse* response);

// Expires the sent referrals past their respond_by and marks in service the accepted ones whose
// provider checked in to a visit; counts both into `response`.
absl::Status SweepReferrals(storage::Database& db, const Clock& clock,
                            v1::SweepMissedVisitsResponse* response);

}  // namespace linli::scheduling

#endif  // LINLI_SERVICES_SCHEDULING_REFERRAL_USE_CASES_H_
