// SchedulingService.ProposeFallback: can the owner organisation cover a commitment, and if not,
// who else (any sector) could — from the registry's provider search.
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "common/client.h"
#include "common/errors.h"
#include "common/recurrence/rrule.h"
#include "common/server.h"
#include "common/status_macros.h"
#include "common/text.h"
#include "services/scheduling/commitment.h"
#include "services/scheduling/scheduling_service.h"
#include "services/scheduling/scheduling_store.h"
#include "services/scheduling/scheduling_util.h"

namespace linli::scheduling {
namespace {

using storage::Transaction;

constexpr int kDefaultProposals = 5;
constexpr int kMaxProposals = 20;

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

// Visits a week of a commitment: its occurrences in the coming seven days (from `day`).
int PerWeek(const v1::Commitment& c, absl::CivilDay day) {
  return static_cast<int>(Occurrences(c, day, day + 7, 64).size());
}

}  // namespace

grpc::Status SchedulingServiceImpl::ProposeFallback(grpc::ServerContext* context,
                                                    const v1::ProposeFallbackRequest* request,
                                                    v1::ProposeFallbackResponse* response) {
  FieldViolations v;
  absl::StatusOr<std::string> id =
      ParseResourceName(request->commitment(), "commitments", "commitment");
  if (!id.ok()) v.Add("commitment", "must look like \"commitments/ID\"");
  if (request->radius_meters() < 0 || request->radius_meters() > 50000) {
    v.Add("radius_meters", "must be between 0 and 50000");
  }
  if (request->page_size() < 0 || request->page_size() > kMaxProposals) {
    v.Add("page_size", "must be between 0 and 20");
  }
  if (!v.empty()) return Reply(*context, v.ToStatus());

  // The commitment, and the week's promises of its owner for the same service.
  const absl::CivilDay today = absl::ToCivilDay(clock_.Now(), recurrence::ShanghaiTimeZone());
  v1::Commitment commitment;
  int promised = 0;
  absl::Status read = db_.RunInTransaction(
      [&](Transaction& tx) -> absl::Status {
        promised = 0;
        ASSIGN_OR_RETURN(auto found, FindCommitment(tx, *id));
        if (!found.has_value()) return NotFound(request->commitment());
        commitment = std::move(*found);
        for (std::string after;;) {
          ASSIGN_OR_RETURN(auto page, QueryCommitments(tx, "", true, after, 1000));
          for (const v1::Commitment& c : page) {
            if (c.owner_organisation() == commitment.owner_organisation() &&
                c.service_type() == commitment.service_type()) {
              promised += PerWeek(c, today);
            }
          }
          if (page.size() < 1000) break;
          after = page.back().name().substr(12);
        }
        return absl::OkStatus();
      },
      {.read_only = true});
  if (!read.ok()) return Reply(*context, read);
  response->set_promised_per_week(promised);
  auto gap = [&](const std::string& code, const std::string& message) {
    v1::CoverageGap* g = response->add_gaps();
    g->set_code(code);
    g->set_message(message);
  };
  const std::string& owner = commitment.owner_organisation();

  // The owner's offerings of the service and their weekly capacity.
  registry::v1::ListOfferingsRequest offerings_request;
  offerings_request.set_organisation(owner);
  offerings_request.set_service_type(commitment.service_type());
  offerings_request.set_page_size(100);
  registry::v1::ListOfferingsResponse offerings;
  grpc::Status status = registry_->ListOfferings(
      NewClientContext(context, options_.backend_timeout).get(), offerings_request, &offerings);
  if (!status.ok()) return Reply(*context, RegistryError(status));
  if (offerings.offerings().empty()) {
    gap("NO_OFFERING", absl::StrCat(owner, " has no offering of ", commitment.service_type()));
  } else {
    int capacity = 0;
    bool unlimited = false;
    for (const auto& o : offerings.offerings()) {
      unlimited = unlimited || o.capacity_per_week() == 0;
      capacity += o.capacity_per_week();
    }
    if (!unlimited && promised > capacity) {
      gap("NO_CAPACITY", absl::StrCat(owner, " has promised ", promised, " visits a week of ",
                                      commitment.service_type(), " and offers ", capacity));
    }
  }

  // Enough active workers with every required skill.
  int skilled = 0;
  registry::v1::ListWorkersRequest workers_request;
  workers_request.set_organisation(owner);
  workers_request.set_page_size(1000);
  do {
    registry::v1::ListWorkersResponse workers;
    status = registry_->ListWorkers(NewClientContext(context, options_.backend_timeout).get(),
                                    workers_request, &workers);
    if (!status.ok()) return Reply(*context, RegistryError(status));
    for (const auto& w : workers.workers()) {
      if (w.status() != registry::v1::WORKER_STATUS_ACTIVE) continue;
      const std::set<std::string> has(w.skills().begin(), w.skills().end());
      bool all = true;
      for (const std::string& skill : commitment.required_skills()) all = all && has.count(skill);
      skilled += all;
    }
    workers_request.set_page_token(workers.next_page_token());
  } while (!workers_request.page_token().empty());
  const int needed = std::max(1, commitment.workers_required());
  if (skilled < needed) {
    std::string skills;
    for (const std::string& s : commitment.required_skills()) {
      absl::StrAppend(&skills, skills.empty() ? "" : ", ", s);
    }
    gap("NO_SKILLED_WORKER", absl::StrCat(owner, " has ", skilled, " active worker(s)",
                                          skills.empty() ? "" : absl::StrCat(" with ", skills),
                                          "; the visit needs ", needed));
  }
  response->set_owner_can_cover(response->gaps().empty());
  if (response->owner_can_cover() && !request->always()) return Reply(*context, absl::OkStatus());

  // Other providers of the service covering the elder, any sector, with capacity left.
  registry::v1::SearchProvidersRequest search;
  search.set_elder(commitment.elder());
  search.set_service_type(commitment.service_type());
  search.set_radius_meters(request->radius_meters());
  search.set_page_size(100);
  registry::v1::SearchProvidersResponse found;
  status = registry_->SearchProviders(NewClientContext(context, options_.backend_timeout).get(),
                                      search, &found);
  if (!status.ok()) return Reply(*context, RegistryError(status));
  const int limit = request->page_size() == 0 ? kDefaultProposals : request->page_size();
  for (const auto& match : found.matches()) {
    if (response->proposals_size() >= limit) break;
    if (match.organisation().name() == owner || match.capacity_left_per_week() == 0) continue;
    v1::FallbackProposal* p = response->add_proposals();
    *p->mutable_provider() = match;
    const std::string service = match.offering().display_name().empty()
                                    ? match.offering().service_type()
                                    : match.offering().display_name();
    p->set_reason(absl::StrCat(SectorLabel(match.organisation().sector()), " ",
                               match.organisation().display_name(), ": offers ", service, " ",
                               Distance(match.distance_meters()), ", ",
                               match.capacity_left_per_week() < 0
                                   ? std::string("no weekly limit")
                                   : absl::StrCat(match.capacity_left_per_week(), " a week left")));
  }
  return Reply(*context, absl::OkStatus());
}

}  // namespace linli::scheduling
