#include "services/scheduling/fallback.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/errors.h"
#include "common/text.h"
#include "services/scheduling/commitment.h"
#include "services/scheduling/staffing.h"

namespace linli::scheduling {
namespace {

std::string SectorLabel(registry::v1::Sector sector) {
  switch (sector) {
    case registry::v1::SECTOR_PUBLIC:
      return "公共服务";
    case registry::v1::SECTOR_COMMERCIAL:
      return "市场主体";
    case registry::v1::SECTOR_SOCIAL:
      return "社会力量";
    default:
      return "其他";
  }
}

std::string Distance(int meters) {
  if (meters < 0) return "distance unknown";
  if (meters < 1000) return absl::StrCat(meters, " m away");
  return absl::StrFormat("%.1f km away", meters / 1000.0);
}

v1::CoverageGap Gap(const std::string& code, const std::string& message) {
  v1::CoverageGap gap;
  gap.set_code(code);
  gap.set_message(message);
  return gap;
}

}  // namespace

absl::StatusOr<std::string> ValidateFallbackRequest(const v1::ProposeFallbackRequest& request) {
  FieldViolations v;
  absl::StatusOr<std::string> id =
      ParseResourceName(request.commitment(), "commitments", "commitment");
  if (!id.ok()) v.Add("commitment", "must look like \"commitments/ID\"");
  if (request.radius_meters() < 0 || request.radius_meters() > 50000) {
    v.Add("radius_meters", "must be between 0 and 50000");
  }
  if (request.page_size() < 0 || request.page_size() > kMaxFallbackProposals) {
    v.Add("page_size", "must be between 0 and 20");
  }
  if (!v.empty()) return v.ToStatus();
  return *id;
}

int VisitsPerWeek(const v1::Commitment& commitment, absl::CivilDay day) {
  return static_cast<int>(Occurrences(commitment, day, day + 7, 64).size());
}

bool CanServe(const registry::v1::Worker& worker, const v1::Commitment& commitment) {
  return worker.status() == registry::v1::WORKER_STATUS_ACTIVE &&
         HasSkills(worker, commitment.required_skills());
}

std::vector<v1::CoverageGap> CoverageGaps(const v1::Commitment& commitment, int promised,
                                          const std::vector<registry::v1::Offering>& offerings,
                                          int skilled) {
  std::vector<v1::CoverageGap> gaps;
  const std::string& owner = commitment.owner_organisation();
  if (offerings.empty()) {
    gaps.push_back(
        Gap("NO_OFFERING", absl::StrCat(owner, " has no offering of ", commitment.service_type())));
  } else {
    int capacity = 0;
    bool unlimited = false;
    for (const auto& o : offerings) {
      unlimited = unlimited || o.capacity_per_week() == 0;
      capacity += o.capacity_per_week();
    }
    if (!unlimited && promised > capacity) {
      gaps.push_back(
          Gap("NO_CAPACITY", absl::StrCat(owner, " has promised ", promised, " visits a week of ",
                                          commitment.service_type(), " and offers ", capacity)));
    }
  }
  const int needed = std::max(1, commitment.workers_required());
  if (skilled < needed) {
    std::string skills;
    for (const std::string& s : commitment.required_skills()) {
      absl::StrAppend(&skills, skills.empty() ? "" : ", ", s);
    }
    gaps.push_back(
        Gap("NO_SKILLED_WORKER", absl::StrCat(owner, " has ", skilled, " active worker(s)",
                                              skills.empty() ? "" : absl::StrCat(" with ", skills),
                                              "; the visit needs ", needed)));
  }
  return gaps;
}

std::vector<v1::FallbackProposal> Proposals(const std::vector<registry::v1::ProviderMatch>& matches,
                                            const std::string& owner, int limit) {
  std::vector<v1::FallbackProposal> proposals;
  for (const auto& match : matches) {
    if (static_cast<int>(proposals.size()) >= limit) break;
    if (match.organisation().name() == owner || match.capacity_left_per_week() == 0) continue;
    v1::FallbackProposal& p = proposals.emplace_back();
    *p.mutable_provider() = match;
    const std::string service = match.offering().display_name().empty()
                                    ? match.offering().service_type()
                                    : match.offering().display_name();
    p.set_reason(absl::StrCat(SectorLabel(match.organisation().sector()), " ",
                              match.organisation().display_name(), ": offers ", service, " ",
                              Distance(match.distance_meters()), ", ",
                              match.capacity_left_per_week() < 0
                                  ? std::string("no weekly limit")
                                  : absl::StrCat(match.capacity_left_per_week(), " a week left")));
  }
  return proposals;
}

}  // namespace linli::scheduling
