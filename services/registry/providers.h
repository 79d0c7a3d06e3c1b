// Provider search as domain rules: which places' coverage counts for an elder, which offerings
// match (within the radius), and how matches are ranked. No gRPC, no SQL.
#ifndef LINLI_SERVICES_REGISTRY_PROVIDERS_H_
#define LINLI_SERVICES_REGISTRY_PROVIDERS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "linli/common/v1/common.pb.h"
#include "linli/registry/v1/registry.pb.h"

namespace linli::registry {

// The search radius in metres for a requested one: 0 means 5 km, at most 50 km.
int ProviderSearchRadius(int requested_meters);

// The number of matches returned for a requested page size: 0 means 20, at most 100.
int ProviderMatchLimit(int requested);

// The codes whose coverage reaches a place with Region::path `region_path`: the place itself and
// every region above it (coverage of a street or district includes every committee below it).
std::vector<std::string> CoveringPlaces(absl::string_view region_path);

// The match of `offering` of `organisation` for a search from `origin` (unset: no distance), or
// nullopt when the organisation lies farther than `radius_meters`. An organisation without a
// location matches at an unknown distance (-1); capacity 0 (unlimited) is reported as -1.
std::optional<v1::ProviderMatch> MatchProvider(const common::v1::LatLng& origin,
                                               const v1::Organisation& organisation,
                                               v1::Offering offering, int radius_meters);

// Sorts matches best first and keeps the first `limit`: known distances before unknown ones,
// nearer first, then more weekly capacity left (unlimited first), then by offering name so that
// the order is stable.
void RankProviders(std::vector<v1::ProviderMatch>& matches, int limit);

}  // namespace linli::registry

#endif  // LINLI_SERVICES_REGISTRY_PROVIDERS_H_
