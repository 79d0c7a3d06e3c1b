// Cross-sector fallback as rules: whether a commitment's owner can cover it (an offering of the
// service, weekly capacity for what it promised, enough active workers with the skills), and how
// other providers found by the registry's search become proposals, each with its reason. Pure C++;
// the use case (fallback_use_case.h) reads the commitments and asks the registry.
#ifndef LINLI_SERVICES_SCHEDULING_FALLBACK_H_
#define LINLI_SERVICES_SCHEDULING_FALLBACK_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "linli/registry/v1/registry.pb.h"
#include "linli/scheduling/v1/scheduling.pb.h"

namespace linli::scheduling {

inline constexpr int kDefaultFallbackProposals = 5;
inline constexpr int kMaxFallbackProposals = 20;

// INVALID_ARGUMENT listing the bad fields (commitment name, radius, page size); otherwise the
// commitment's id.
absl::StatusOr<std::string> ValidateFallbackRequest(const v1::ProposeFallbackRequest& request);

// Visits a week of a commitment: its occurrences in the seven days from `day`.
int VisitsPerWeek(const v1::Commitment& commitment, absl::CivilDay day);

// Whether `worker` can serve visits of `commitment`: active, with every required skill.
bool CanServe(const registry::v1::Worker& worker, const v1::Commitment& commitment);

// What the owner lacks to cover `commitment`, in this order: NO_OFFERING (none of `offerings`,
// the owner's offerings of the service) or NO_CAPACITY (the `promised` visits a week exceed the
// offerings' weekly capacity; an offering without a limit has room), then NO_SKILLED_WORKER
// (fewer than the visit's workers among the `skilled` ones, CanServe). Empty: the owner can
// cover it.
std::vector<v1::CoverageGap> CoverageGaps(const v1::Commitment& commitment, int promised,
                                          const std::vector<registry::v1::Offering>& offerings,
                                          int skilled);

// Proposals from the registry's `matches` (nearest first): providers other than `owner` with
// capacity left, at most `limit`, each with a reason such as "社会力量 X: offers Y 800 m away,
// 3 a week left".
std::vector<v1::FallbackProposal> Proposals(const std::vector<registry::v1::ProviderMatch>& matches,
                                            const std::string& owner, int limit);

}  // namespace linli::scheduling

#endif  // LINLI_SERVICES_SCHEDULING_FALLBACK_H_
