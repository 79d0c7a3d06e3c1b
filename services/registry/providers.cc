#include "services/registry/providers.h"

#include <algorithm>
#include <cstdint>
#include <tuple>

#include "absl/strings/str_split.h"
#include "common/geo.h"

namespace linli::registry {
namespace {

constexpr int kDefaultRadius = 5000;
constexpr int kMaxRadius = 50000;
constexpr int kDefaultMatches = 20;
constexpr int kMaxMatches = 100;

}  // namespace

int ProviderSearchRadius(int requested_meters) {
  return requested_meters == 0 ? kDefaultRadius : std::min(requested_meters, kMaxRadius);
}

int ProviderMatchLimit(int requested) {
  return requested == 0 ? kDefaultMatches : std::min(requested, kMaxMatches);
}

std::vector<std::string> CoveringPlaces(absl::string_view region_path) {
  return absl::StrSplit(region_path, '/', absl::SkipEmpty());
}

std::optional<v1::ProviderMatch> MatchProvider(const common::v1::LatLng& origin,
                                               const v1::Organisation& organisation,
                                               v1::Offering offering, int radius_meters) {
  int distance = -1;
  if (HasLocation(origin) && organisation.has_location() && HasLocation(organisation.location())) {
    distance = static_cast<int>(HaversineMeters(origin, organisation.location()) + 0.5);
    if (distance > radius_meters) return std::nullopt;
  }
  v1::ProviderMatch match;
  match.set_distance_meters(distance);
  match.set_capacity_left_per_week(offering.capacity_per_week() > 0 ? offering.capacity_per_week()
                                                                    : -1);
  *match.mutable_organisation() = organisation;
  *match.mutable_offering() = std::move(offering);
  return match;
}

void RankProviders(std::vector<v1::ProviderMatch>& matches, int limit) {
  std::sort(matches.begin(), matches.end(),
            [](const v1::ProviderMatch& a, const v1::ProviderMatch& b) {
              auto key = [](const v1::ProviderMatch& m) {
                // Unlimited capacity (-1) ranks before any limited capacity.
                const int64_t capacity =
                    m.capacity_left_per_week() < 0 ? INT64_MAX : m.capacity_left_per_week();
                return std::make_tuple(m.distance_meters() < 0, m.distance_meters(), -capacity,
                                       m.offering().name());
              };
              return key(a) < key(b);
            });
  if (static_cast<int>(matches.size()) > limit) matches.resize(limit);
}

}  // namespace linli::registry
