// RegistryService: the 条块 map of a region, and the search for providers of a service.
#include <algorithm>
#include <climits>
#include <map>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/errors.h"
#include "common/geo.h"
#include "common/server.h"
#include "common/status_macros.h"
#include "services/registry/catalogue.h"
#include "services/registry/map.h"
#include "services/registry/registry_service.h"
#include "services/registry/registry_store.h"

namespace linli::registry {
namespace {

using storage::Transaction;

constexpr int kMaxDepth = 3;
constexpr int kDefaultRadius = 5000;
constexpr int kMaxRadius = 50000;
constexpr int kDefaultMatches = 20;
constexpr int kMaxMatches = 100;
// The map reads at most this many organisations / relations; a street has a few hundred.
constexpr int kMapLimit = 20000;

// "ORGANISATION_KIND_NEIGHBOURHOOD_COMMITTEE" -> "neighbourhood_committee".
std::string LowerSuffix(const std::string& enum_name, size_t prefix_length) {
  return absl::AsciiStrToLower(enum_name.substr(std::min(prefix_length, enum_name.size())));
}

// Codes of `code` and every service type below it in the taxonomy.
std::vector<std::string> WithDescendants(const std::string& code,
                                         const std::vector<v1::ServiceType>& taxonomy) {
  std::multimap<std::string, std::string> children;
  for (const v1::ServiceType& t : taxonomy) {
    if (!t.parent().empty()) children.emplace(t.parent().substr(13), t.code());
  }
  std::vector<std::string> out = {code};
  for (size_t i = 0; i < out.size() && out.size() < 1000; ++i) {
    auto [begin, end] = children.equal_range(out[i]);
    for (auto it = begin; it != end; ++it) out.push_back(it->second);
  }
  return out;
}

}  // namespace

grpc::Status RegistryServiceImpl::GetMap(grpc::ServerContext* context,
                                         const v1::GetMapRequest* request,
                                         v1::GetMapResponse* response) {
  FieldViolations v;
  absl::StatusOr<std::string> root_code = ParseRegionName(request->region(), "region");
  if (!root_code.ok()) v.Add("region", "must look like \"regions/310101020\"");
  const int depth = request->has_depth() ? request->depth() : kMaxDepth;
  if (depth < 0 || depth > kMaxDepth) v.Add("depth", "must be between 0 and 3");
  std::set<std::string> line_filter, service_filter;
  std::set<int> kind_filter;
  for (int i = 0; i < request->lines_size(); ++i) {
    if (!ParseResourceName(request->lines(i), "lines", "l").ok()) {
      v.Add(absl::StrCat("lines[", i, "]"), "must look like \"lines/ID\"");
    }
    line_filter.insert(request->lines(i));
  }
  for (int i = 0; i < request->service_types_size(); ++i) {
    absl::StatusOr<std::string> code =
        ParseResourceName(request->service_types(i), "serviceTypes", "s");
    if (!code.ok()) {
      v.Add(absl::StrCat("service_types[", i, "]"), "must look like \"serviceTypes/CODE\"");
    } else {
      service_filter.insert(*code);
    }
  }
  for (int i = 0; i < request->kinds_size(); ++i) {
    const int kind = request->kinds(i);
    if (kind == 0 || !v1::OrganisationKind_IsValid(kind)) {
      v.Add(absl::StrCat("kinds[", i, "]"), "must be an ORGANISATION_KIND_ value");
    }
    kind_filter.insert(kind);
  }
  if (!v.empty()) return Reply(*context, v.ToStatus());

  return Reply(
      *context,
      db_.RunInTransaction(
          [&](Transaction& tx) -> absl::Status {
            response->Clear();
            ASSIGN_OR_RETURN(std::optional<Region> root, FindRegion(tx, *root_code));
            if (!root.has_value()) {
              return NotFound(request->region());
            }
            ASSIGN_OR_RETURN(std::vector<Region> regions, RegionSubtree(tx, root->path));
            std::set<std::string> region_names;
            const int max_level = static_cast<int>(root->level) + depth;
            for (const Region& r : regions) {
              if (static_cast<int>(r.level) > max_level) continue;
              region_names.insert(RegionName(r.code));
              v1::MapNode* node = response->add_nodes();
              node->set_name(RegionName(r.code));
              node->set_label(r.display_name);
              node->set_kind("region");
              if (r.code != root->code) node->set_region(RegionName(r.parent_code));
            }
            std::set<std::string> offering_orgs;
            if (!service_filter.empty()) {
              ASSIGN_OR_RETURN(std::vector<v1::ServiceType> taxonomy, AllServiceTypes(tx));
              std::vector<std::string> codes;
              for (const std::string& code : service_filter) {
                for (std::string& c : WithDescendants(code, taxonomy)) codes.push_back(c);
              }
              ASSIGN_OR_RETURN(std::vector<std::string> ids, OrganisationsOffering(tx, codes));
              offering_orgs.insert(ids.begin(), ids.end());
            }
            ASSIGN_OR_RETURN(std::vector<v1::Organisation> orgs,
                             QueryOrganisations(tx, {root->path, 0, ""}, "", kMapLimit));
            std::set<std::string> org_names;
            std::set<std::string> used_lines;
            auto passes_filters = [&](const v1::Organisation& org) {
              if (!kind_filter.empty() && kind_filter.count(org.kind()) == 0) return false;
              if (!service_filter.empty() && offering_orgs.count(org.id()) == 0) return false;
              return line_filter.empty() ||
                     std::any_of(org.lines().begin(), org.lines().end(),
                                 [&](const std::string& l) { return line_filter.count(l) > 0; });
            };
            for (const v1::Organisation& org : orgs) {
              if (region_names.count(org.region()) == 0) continue;  // deeper than `depth`
              if (!passes_filters(org)) continue;
              org_names.insert(org.name());
              v1::MapNode* node = response->add_nodes();
              node->set_name(org.name());
              node->set_label(org.display_name());
              node->set_kind(LowerSuffix(v1::OrganisationKind_Name(org.kind()), 18));
              node->set_region(org.region());
              *node->mutable_lines() = org.lines();
              node->set_sector(org.sector());
              used_lines.insert(org.lines().begin(), org.lines().end());
            }
            ASSIGN_OR_RETURN(std::vector<v1::Relation> relations,
                             QueryRelations(tx, "", "", kMapLimit));
            // Organisations outside the region that its organisations report to along a line,
            // are funded by or partner with (e.g. the district bureaus): the 条 of the map.
            for (const v1::Relation& rel : relations) {
              if (org_names.count(rel.source()) == 0 || org_names.count(rel.target()) > 0 ||
                  rel.target().rfind("organisations/", 0) != 0 || org_names.size() > 5000) {
                continue;
              }
              ASSIGN_OR_RETURN(auto outside, FindOrganisation(tx, rel.target().substr(14)));
              if (!outside.has_value() || !passes_filters(*outside)) continue;
              ASSIGN_OR_RETURN(auto where, FindRegion(tx, outside->region().substr(8)));
              if (where.has_value() && where->path.rfind(root->path, 0) == 0) {
                continue;  // inside the region, left out by `depth`
              }
              org_names.insert(outside->name());
              v1::MapNode* node = response->add_nodes();
              node->set_name(outside->name());
              node->set_label(outside->display_name());
              node->set_kind(LowerSuffix(v1::OrganisationKind_Name(outside->kind()), 18));
              node->set_region(outside->region());
              *node->mutable_lines() = outside->lines();
              node->set_sector(outside->sector());
              used_lines.insert(outside->lines().begin(), outside->lines().end());
            }
            for (const v1::MapNode& node : response->nodes()) {
              if (node.region().empty() || region_names.count(node.region()) == 0) continue;
              v1::MapEdge* edge = response->add_edges();
              edge->set_source(node.region());
              edge->set_target(node.name());
              edge->set_type("contains");
            }
            for (const v1::Relation& rel : relations) {
              if (org_names.count(rel.source()) == 0) continue;
              if (org_names.count(rel.target()) == 0 && region_names.count(rel.target()) == 0) {
                continue;
              }
              v1::MapEdge* edge = response->add_edges();
              edge->set_source(rel.source());
              edge->set_target(rel.target());
              edge->set_type(LowerSuffix(v1::RelationType_Name(rel.type()), 14));
            }
            ASSIGN_OR_RETURN(std::vector<v1::Line> all_lines, AllLines(tx));
            std::map<std::string, v1::Line> lines;
            for (v1::Line& line : all_lines) {
              if (used_lines.count(line.name()) > 0) lines[line.name()] = std::move(line);
            }
            response->set_dot(RenderDot(*response, lines));
            return absl::OkStatus();
          },
          {.read_only = true}));
}

grpc::Status RegistryServiceImpl::SearchProviders(grpc::ServerContext* context,
                                                  const v1::SearchProvidersRequest* request,
                                                  v1::SearchProvidersResponse* response) {
  FieldViolations v;
  std::string elder_id, region_code, service_code;
  if (!request->elder().empty()) {
    absl::StatusOr<std::string> id = ParseResourceName(request->elder(), "elders", "elder");
    if (!id.ok()) v.Add("elder", "must look like \"elders/ID\"");
    if (id.ok()) elder_id = *id;
    if (!request->region().empty()) v.Add("region", "give either elder or region, not both");
  } else if (!request->region().empty()) {
    absl::StatusOr<std::string> code = ParseRegionName(request->region(), "region");
    if (!code.ok()) v.Add("region", "must look like \"regions/310101020001\"");
    if (code.ok()) region_code = *code;
  } else {
    v.Add("elder", "either elder or region is required");
  }
  if (request->has_point()) ValidateLatLng(request->point(), "point", v);
  absl::StatusOr<std::string> service =
      ParseResourceName(request->service_type(), "serviceTypes", "service_type");
  if (!service.ok()) v.Add("service_type", "must look like \"serviceTypes/CODE\"");
  if (request->radius_meters() < 0) v.Add("radius_meters", "must not be negative");
  if (request->page_size() < 0) v.Add("page_size", "must not be negative");
  if (!v.empty()) return Reply(*context, v.ToStatus());
  const int radius = request->radius_meters() == 0 ? kDefaultRadius
                                                   : std::min(request->radius_meters(), kMaxRadius);
  const int max_matches =
      request->page_size() == 0 ? kDefaultMatches : std::min(request->page_size(), kMaxMatches);

  return Reply(
      *context,
      db_.RunInTransaction(
          [&](Transaction& tx) -> absl::Status {
            response->Clear();
            common::v1::LatLng origin = request->point();
            if (!elder_id.empty()) {
              ASSIGN_OR_RETURN(std::optional<ElderRow> elder, FindElder(tx, elder_id));
              if (!elder.has_value()) {
                return NotFound(request->elder());
              }
              region_code = elder->region_code;
              if (elder->stub.has_location()) origin = elder->stub.location();
            }
            ASSIGN_OR_RETURN(std::optional<Region> region, FindRegion(tx, region_code));
            if (!region.has_value()) {
              return NotFound(RegionName(region_code));
            }
            ASSIGN_OR_RETURN(auto type_rows,
                             tx.Query("SELECT 1 FROM service_types WHERE code = ?", {*service}));
            if (type_rows.empty()) {
              return NotFound(request->service_type());
            }
            // Coverage of a street or district includes every committee below it.
            std::vector<std::string> places = absl::StrSplit(region->path, '/', absl::SkipEmpty());
            ASSIGN_OR_RETURN(std::vector<v1::ServiceType> taxonomy, AllServiceTypes(tx));
            ASSIGN_OR_RETURN(std::vector<v1::Offering> offerings,
                             OfferingsCovering(tx, WithDescendants(*service, taxonomy), places));
            std::map<std::string, v1::Organisation> orgs;
            std::vector<v1::ProviderMatch> matches;
            for (v1::Offering& offering : offerings) {
              const std::string org_id = offering.organisation().substr(14);
              if (orgs.count(org_id) == 0) {
                ASSIGN_OR_RETURN(auto org, FindOrganisation(tx, org_id));
                if (!org.has_value()) continue;
                orgs[org_id] = std::move(*org);
              }
              const v1::Organisation& org = orgs[org_id];
              int distance = -1;
              if (HasLocation(origin) && org.has_location() && HasLocation(org.location())) {
                distance = static_cast<int>(HaversineMeters(origin, org.location()) + 0.5);
                if (distance > radius) continue;
              }
              v1::ProviderMatch match;
              match.set_distance_meters(distance);
              match.set_capacity_left_per_week(
                  offering.capacity_per_week() > 0 ? offering.capacity_per_week() : -1);
              *match.mutable_organisation() = org;
              *match.mutable_offering() = std::move(offering);
              matches.push_back(std::move(match));
            }
            std::sort(matches.begin(), matches.end(),
                      [](const v1::ProviderMatch& a, const v1::ProviderMatch& b) {
                        auto key = [](const v1::ProviderMatch& m) {
                          // Unlimited capacity (-1) ranks before any limited capacity.
                          const int64_t capacity = m.capacity_left_per_week() < 0
                                                       ? INT64_MAX
                                                       : m.capacity_left_per_week();
                          return std::make_tuple(m.distance_meters() < 0, m.distance_meters(),
                                                 -capacity, m.offering().name());
                        };
                        return key(a) < key(b);
                      });
            if (static_cast<int>(matches.size()) > max_matches) matches.resize(max_matches);
            for (auto& m : matches) *response->add_matches() = std::move(m);
            return absl::OkStatus();
          },
          {.read_only = true}));
}

}  // namespace linli::registry
