#include "common/auth/principal.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace linli::auth {
namespace {

constexpr size_t kMaxClaimLength = 128;
constexpr size_t kMaxElders = 16;

bool IsPrintableAscii(absl::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

bool IsRegionCode(absl::string_view code) {
  return code.size() <= 12 && std::all_of(code.begin(), code.end(), absl::ascii_isdigit);
}

absl::Status Bad(absl::string_view why) {
  return absl::UnauthenticatedError(absl::StrCat("invalid token: ", why));
}

}  // namespace

const char* RoleName(Role role) {
  switch (role) {
    case Role::kElder:
      return "elder";
    case Role::kFamily:
      return "family";
    case Role::kWorker:
      return "worker";
    case Role::kCommitteeStaff:
      return "committee_staff";
    case Role::kStreetStaff:
      return "street_staff";
    case Role::kPartner:
      return "partner";
    case Role::kAdmin:
      return "admin";
  }
  return "unknown";
}

bool ParseRole(absl::string_view name, Role* role) {
  for (Role r : kAllRoles) {
    if (name == RoleName(r)) {
      *role = r;
      return true;
    }
  }
  return false;
}

bool Principal::ActsFor(absl::string_view elder) const {
  return !elder.empty() && std::find(elders.begin(), elders.end(), elder) != elders.end();
}

bool Principal::HasScope(absl::string_view scope) const {
  return std::find(scopes.begin(), scopes.end(), scope) != scopes.end();
}

std::string Principal::Actor() const { return absl::StrCat(RoleName(role), ":", id); }

absl::Duration TokenLifetimes::For(Role role) const {
  return role == Role::kElder || role == Role::kFamily || role == Role::kWorker ? app : staff;
}

absl::StatusOr<Principal> PrincipalFromClaims(const nlohmann::json& claims,
                                              const TokenLifetimes& lifetimes) {
  Principal principal;
  if (!claims.contains("sub") || !claims["sub"].is_string()) return Bad("no sub");
  principal.id = claims["sub"].get<std::string>();
  if (principal.id.empty() || principal.id.size() > kMaxClaimLength ||
      !IsPrintableAscii(principal.id)) {
    return Bad("sub must be 1-128 printable ASCII characters");
  }
  if (!claims.contains("role") || !claims["role"].is_string() ||
      !ParseRole(claims["role"].get<std::string>(), &principal.role)) {
    return Bad("role missing or unknown");
  }
  if (principal.role == Role::kPartner) return Bad("partners use API keys, not tokens");
  if (!claims.contains("exp") || !claims["exp"].is_number() || !claims.contains("iat") ||
      !claims["iat"].is_number()) {
    return Bad("exp and iat must be numbers");
  }
  const double lifetime = claims["exp"].get<double>() - claims["iat"].get<double>();
  if (lifetime > absl::ToDoubleSeconds(lifetimes.For(principal.role))) {
    return Bad(absl::StrCat("a ", RoleName(principal.role), " token lives at most ",
                            absl::FormatDuration(lifetimes.For(principal.role))));
  }
  if (claims.contains("region")) {
    if (!claims["region"].is_string() || !IsRegionCode(claims["region"].get<std::string>())) {
      return Bad("region must be a region code of digits");
    }
    principal.region = claims["region"].get<std::string>();
  }
  if (claims.contains("elders")) {
    const nlohmann::json& elders = claims["elders"];
    if (!elders.is_array() || elders.size() > kMaxElders) return Bad("elders must be a short list");
    for (const nlohmann::json& elder : elders) {
      if (!elder.is_string() || !absl::StartsWith(elder.get<std::string>(), "elders/") ||
          elder.get<std::string>().size() > kMaxClaimLength ||
          !IsPrintableAscii(elder.get<std::string>())) {
        return Bad("elders must hold elders/{id} names");
      }
      principal.elders.push_back(elder.get<std::string>());
    }
  }
  if (principal.role == Role::kElder && principal.elders.empty()) {
    principal.elders.push_back(principal.id);  // an elder's token names the elder as sub
  }
  return principal;
}

}  // namespace linli::auth
