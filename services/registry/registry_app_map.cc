// Registry use cases: the 条块 map of a region, and the search for providers of a service.
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/geo.h"
#include "common/status_macros.h"
#include "services/registry/catalogue.h"
#include "services/registry/map.h"
#include "services/registry/providers.h"
#include "services/registry/region.h"
#include "services/registry/registry_app.h"
#include "services/registry/registry_store.h"

namespace linli::registry {
namespace {

using storage::Transaction;

// The map reads at most this many organisations / relations; a street has a few hundred.
constexpr int kMapLimit = 20000;

// The service types a filter or search names, with every type below them in the taxonomy.
absl::StatusOr<std::vector<std::string>> ServiceTypesBelow(Transaction& tx,
                                                           const std::set<std::string>& codes) {
  ASSIGN_OR_RETURN(std::vector<v1::ServiceType> taxonomy, AllServiceTypes(tx));
  std::vector<std::string> out;
  for (const std::string& code : codes) {
    for (std::string& c : ServiceTypeWithDescendants(code, taxonomy)) out.push_back(std::move(c));
  }
  return out;
}

}  // namespace

absl::Status Registry::GetMap(const v1::GetMapRequest& request, v1::GetMapResponse* response) {
  FieldViolations v;
  absl::StatusOr<std::string> root_code = ParseRegionName(request.region(), "region");
  if (!root_code.ok()) v.Add("region", "must look like \"regions/310101020\"");
  const int depth = request.has_depth() ? request.depth() : kMaxMapDepth;
  if (depth < 0 || depth > kMaxMapDepth) {
    v.Add("depth", absl::StrCat("must be between 0 and ", kMaxMapDepth));
  }
  MapFilter filter;
  std::set<std::string> services;
  for (int i = 0; i < request.lines_size(); ++i) {
    if (!ParseResourceName(request.lines(i), "lines", "l").ok()) {
      v.Add(absl::StrCat("lines[", i, "]"), "must look like \"lines/ID\"");
    }
    filter.lines.insert(request.lines(i));
  }
  for (int i = 0; i < request.service_types_size(); ++i) {
    absl::StatusOr<std::string> code =
        ParseResourceName(request.service_types(i), "serviceTypes", "s");
    if (!code.ok()) {
      v.Add(absl::StrCat("service_types[", i, "]"), "must look like \"serviceTypes/CODE\"");
    } else {
      services.insert(*code);
    }
  }
  for (int i = 0; i < request.kinds_size(); ++i) {
    const int kind = request.kinds(i);
    if (kind == 0 || !v1::OrganisationKind_IsValid(kind)) {
      v.Add(absl::StrCat("kinds[", i, "]"), "must be an ORGANISATION_KIND_ value");
    }
    filter.kinds.insert(kind);
  }
  RETURN_IF_ERROR(v.ToStatus());

  return db_.RunInTransaction(
      [&](Transaction& tx) -> absl::Status {
        response->Clear();
        ASSIGN_OR_RETURN(std::optional<Region> root, FindRegion(tx, *root_code));
        if (!root.has_value()) return NotFound(request.region());
        MapFilter this_filter = filter;  // the body may run again
        if (!services.empty()) {
          ASSIGN_OR_RETURN(std::vector<std::string> codes, ServiceTypesBelow(tx, services));
          ASSIGN_OR_RETURN(std::vector<std::string> ids, OrganisationsOffering(tx, codes));
          this_filter.offering_organisations.emplace(ids.begin(), ids.end());
        }
        MapBuilder map(*root, depth, std::move(this_filter));
        ASSIGN_OR_RETURN(std::vector<Region> regions, RegionSubtree(tx, root->path));
        map.AddRegions(regions);
        ASSIGN_OR_RETURN(std::vector<v1::Organisation> orgs,
                         QueryOrganisations(tx, {root->path, 0, ""}, "", kMapLimit));
        map.AddOrganisations(orgs);
        ASSIGN_OR_RETURN(std::vector<v1::Relation> relations,
                         QueryRelations(tx, "", /*include_retired=*/false, "", kMapLimit));
        for (const v1::Relation& relation : relations) {
          std::optional<std::string> target = map.OutsideTarget(relation);
          if (!target.has_value()) continue;
          ASSIGN_OR_RETURN(std::optional<v1::Organisation> outside, FindOrganisation(tx, *target));
          if (!outside.has_value() || outside->retired() || !map.filter().Passes(*outside)) {
            continue;
          }
          ASSIGN_OR_RETURN(std::optional<Region> where,
                           FindRegion(tx, outside->region().substr(8)));
          map.AddOutside(*outside, where.has_value() ? where->path : "");
        }
        ASSIGN_OR_RETURN(std::vector<v1::Line> lines, AllLines(tx));
        *response = map.Finish(relations, std::move(lines));
        return absl::OkStatus();
      },
      {.read_only = true});
}

absl::Status Registry::SearchProviders(const v1::SearchProvidersRequest& request,
                                       v1::SearchProvidersResponse* response) {
  FieldViolations v;
  std::string elder_id, request_region_code;
  if (!request.elder().empty()) {
    absl::StatusOr<std::string> id = ParseResourceName(request.elder(), "elders", "elder");
    if (!id.ok()) v.Add("elder", "must look like \"elders/ID\"");
    if (id.ok()) elder_id = *id;
    if (!request.region().empty()) v.Add("region", "give either elder or region, not both");
  } else if (!request.region().empty()) {
    absl::StatusOr<std::string> code = ParseRegionName(request.region(), "region");
    if (!code.ok()) v.Add("region", "must look like \"regions/310101020001\"");
    if (code.ok()) request_region_code = *code;
  } else {
    v.Add("elder", "either elder or region is required");
  }
  if (request.has_point()) ValidateLatLng(request.point(), "point", v);
  absl::StatusOr<std::string> service =
      ParseResourceName(request.service_type(), "serviceTypes", "service_type");
  if (!service.ok()) v.Add("service_type", "must look like \"serviceTypes/CODE\"");
  if (request.radius_meters() < 0) v.Add("radius_meters", "must not be negative");
  if (request.page_size() < 0) v.Add("page_size", "must not be negative");
  RETURN_IF_ERROR(v.ToStatus());
  const int radius = ProviderSearchRadius(request.radius_meters());
  const int limit = ProviderMatchLimit(request.page_size());

  return db_.RunInTransaction(
      [&](Transaction& tx) -> absl::Status {
        response->Clear();
        common::v1::LatLng origin = request.point();
        std::string region_code = request_region_code;
        if (!elder_id.empty()) {
          ASSIGN_OR_RETURN(std::optional<ElderRow> elder, FindElder(tx, elder_id));
          if (!elder.has_value()) return NotFound(request.elder());
          region_code = elder->region_code;
          if (elder->stub.has_location()) origin = elder->stub.location();
        }
        ASSIGN_OR_RETURN(std::optional<Region> region, FindRegion(tx, region_code));
        if (!region.has_value()) return NotFound(RegionName(region_code));
        ASSIGN_OR_RETURN(bool service_exists, ServiceTypeExists(tx, *service));
        if (!service_exists) return NotFound(request.service_type());
        ASSIGN_OR_RETURN(std::vector<std::string> services, ServiceTypesBelow(tx, {*service}));
        ASSIGN_OR_RETURN(std::vector<v1::Offering> offerings,
                         OfferingsCovering(tx, services, CoveringPlaces(region->path)));
        std::map<std::string, v1::Organisation> orgs;
        std::vector<v1::ProviderMatch> matches;
        for (v1::Offering& offering : offerings) {
          const std::string org_id = offering.organisation().substr(14);
          if (orgs.count(org_id) == 0) {
            ASSIGN_OR_RETURN(auto org, FindOrganisation(tx, org_id));
            if (!org.has_value()) continue;
            orgs[org_id] = std::move(*org);
          }
          std::optional<v1::ProviderMatch> match =
              MatchProvider(origin, orgs[org_id], std::move(offering), radius);
          if (match.has_value()) matches.push_back(std::move(*match));
        }
        RankProviders(matches, limit);
        for (auto& m : matches) *response->add_matches() = std::move(m);
        return absl::OkStatus();
      },
      {.read_only = true});
}

}  // namespace linli::registry
