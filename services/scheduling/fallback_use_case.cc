#include "services/scheduling/fallback_use_case.h"

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "common/errors.h"
#include "common/recurrence/rrule.h"
#include "common/status_macros.h"
#include "common/text.h"
#include "services/scheduling/fallback.h"
#include "services/scheduling/scheduling_store.h"
#include "services/scheduling/unmet_needs.h"

namespace linli::scheduling {

absl::StatusOr<v1::ProposeFallbackResponse> ProposeFallback(
    storage::Database& db, const Clock& clock, RegistryView& registry,
    const v1::ProposeFallbackRequest& request) {
  ASSIGN_OR_RETURN(const std::string id, ValidateFallbackRequest(request));

  // The commitment, and the week's promises of its owner for the same service.
  const absl::CivilDay today = absl::ToCivilDay(clock.Now(), recurrence::ShanghaiTimeZone());
  v1::Commitment commitment;
  int promised = 0;
  RETURN_IF_ERROR(db.RunInTransaction(
      [&](storage::Transaction& tx) -> absl::Status {
        promised = 0;
        ASSIGN_OR_RETURN(auto found, FindCommitment(tx, id));
        if (!found.has_value()) return NotFound(request.commitment());
        commitment = std::move(*found);
        for (std::string after;;) {
          ASSIGN_OR_RETURN(auto page, QueryCommitments(tx, "", true, after, 1000));
          for (const v1::Commitment& c : page) {
            if (c.owner_organisation() == commitment.owner_organisation() &&
                c.service_type() == commitment.service_type()) {
              promised += VisitsPerWeek(c, today);
            }
          }
          if (page.size() < 1000) break;
          after = page.back().name().substr(12);
        }
        return absl::OkStatus();
      },
      {.read_only = true}));
  v1::ProposeFallbackResponse response;
  response.set_promised_per_week(promised);
  const std::string& owner = commitment.owner_organisation();

  // The owner's offerings of the service, and its active workers with every required skill.
  registry::v1::ListOfferingsRequest offerings_request;
  offerings_request.set_organisation(owner);
  offerings_request.set_service_type(commitment.service_type());
  offerings_request.set_page_size(100);
  ASSIGN_OR_RETURN(registry::v1::ListOfferingsResponse offerings,
                   registry.ListOfferings(offerings_request));
  int skilled = 0;
  ASSIGN_OR_RETURN(const std::vector<registry::v1::Worker> workers, AllWorkers(registry, owner));
  for (const auto& w : workers) skilled += CanServe(w, commitment);
  for (v1::CoverageGap& gap :
       CoverageGaps(commitment, promised,
                    {offerings.offerings().begin(), offerings.offerings().end()}, skilled)) {
    *response.add_gaps() = std::move(gap);
  }
  response.set_owner_can_cover(response.gaps().empty());
  if (response.owner_can_cover() && !request.always()) return response;

  // Other providers of the service covering the elder, any sector, with capacity left.
  registry::v1::SearchProvidersRequest search;
  search.set_elder(commitment.elder());
  search.set_service_type(commitment.service_type());
  search.set_radius_meters(request.radius_meters());
  search.set_page_size(100);
  ASSIGN_OR_RETURN(registry::v1::SearchProvidersResponse found, registry.SearchProviders(search));
  const int limit = request.page_size() == 0 ? kDefaultFallbackProposals : request.page_size();
  for (v1::FallbackProposal& p :
       Proposals({found.matches().begin(), found.matches().end()}, owner, limit)) {
    *response.add_proposals() = std::move(p);
  }
  return response;
}

absl::StatusOr<v1::ListUnmetNeedsResponse> ListUnmetNeeds(
    storage::Database& db, RegistryView& registry, const v1::ListUnmetNeedsRequest& request) {
  FieldViolations v;
  if (!ParseResourceName(request.region(), "regions", "region").ok()) {
    v.Add("region", "must be a committee or street, \"regions/CODE\"");
  }
  if (request.page_size() < 0 || request.page_size() > 1000) {
    v.Add("page_size", "must be between 1 and 1000 (0: 100)");
  }
  RETURN_IF_ERROR(v.ToStatus());

  // The region's active elders with their recorded needs (masked view: needs are no personal
  // data), and the service taxonomy.
  std::vector<ElderNeeds> elders;
  std::set<std::string> with_needs;
  registry::v1::ListEldersRequest list;
  list.set_region(request.region());
  list.set_page_size(1000);
  do {
    ASSIGN_OR_RETURN(registry::v1::ListEldersResponse page, registry.ListElders(list));
    for (const registry::v1::Elder& e : page.elders()) {
      if (e.needs().empty()) continue;
      elders.push_back({e.name(), e.region(), {e.needs().begin(), e.needs().end()}});
      with_needs.insert(e.name());
    }
    list.set_page_token(page.next_page_token());
  } while (!list.page_token().empty());
  ASSIGN_OR_RETURN(registry::v1::ListServiceTypesResponse types, registry.ListServiceTypes({}));
  std::map<std::string, std::string> parents;
  for (const auto& t : types.service_types()) parents[t.name()] = t.parent();

  // What is promised to them now.
  Promised promised;
  RETURN_IF_ERROR(db.RunInTransaction(
      [&](storage::Transaction& tx) -> absl::Status {
        promised.clear();
        for (std::string after;;) {
          ASSIGN_OR_RETURN(auto page, QueryCommitments(tx, "", true, after, 1000));
          for (const v1::Commitment& c : page) {
            if (with_needs.contains(c.elder())) promised.insert({c.elder(), c.service_type()});
          }
          if (page.size() < 1000) break;
          after = page.back().name().substr(12);
        }
        return absl::OkStatus();
      },
      {.read_only = true}));
  return CountUnmetNeeds(elders, promised, parents,
                         request.page_size() == 0 ? 100 : request.page_size());
}

}  // namespace linli::scheduling
