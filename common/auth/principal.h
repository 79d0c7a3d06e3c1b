// Who a gateway call acts for: a role, a region scope, the elders the caller may act for, and
// (partners) an organisation and scopes. Built from verified JWT claims or a partner API key.
//
// Claims of a Linli access token (besides iss, aud, exp, iat, nbf):
//   "sub"    the principal, e.g. "workers/w17", "users/13800001111", "staff/zhang"
//   "role"   one of the role names below
//   "region" the region scope as a code, e.g. "310101020" (a street) or "310101020001" (a
//            committee); the principal may touch that region and the regions below it (the
//            gateway decides on the registry's parent links, never on code prefixes). Ignored for
//            admin (everywhere).
//   "elders" for elder and family roles: the elders ("elders/{id}") the caller is or may act for.
#ifndef LINLI_COMMON_AUTH_PRINCIPAL_H_
#define LINLI_COMMON_AUTH_PRINCIPAL_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace linli::auth {

enum class Role {
  kElder,           // the elder, in the elder app
  kFamily,          // a family member or proxy acting for elders
  kWorker,          // a care worker or volunteer, in the worker app
  kCommitteeStaff,  // neighbourhood committee (居委) staff, in the console
  kStreetStaff,     // street office (街道) staff, in the console
  kPartner,         // a provider or the 12345 hotline, through an API key
  kAdmin,           // platform operators
};

inline constexpr Role kAllRoles[] = {Role::kElder,          Role::kFamily,      Role::kWorker,
                                     Role::kCommitteeStaff, Role::kStreetStaff, Role::kPartner,
                                     Role::kAdmin};

// "elder", "family", "worker", "committee_staff", "street_staff", "partner", "admin".
const char* RoleName(Role role);
bool ParseRole(absl::string_view name, Role* role);

struct Principal {
  // Stable id for audit logs, rate limits and x-linli-actor, e.g. "staff/zhang" or
  // "partners/meal-co".
  std::string id;
  Role role = Role::kElder;
  // Region code prefix ("310101020"); empty: no region at all (unless admin).
  std::string region;
  // Elders this principal is (elder) or acts for (family), "elders/{id}".
  std::vector<std::string> elders;
  // Partners: the organisation, "organisations/{id}", and the scopes of the key.
  std::string organisation;
  std::vector<std::string> scopes;

  bool ActsFor(absl::string_view elder) const;
  bool HasScope(absl::string_view scope) const;
  // The value passed to backends in x-linli-actor: "role:id".
  std::string Actor() const;
};

// The longest an access token may live (exp - iat), by role: staff at a desk sign in for a
// working day; the elder, family and worker apps hold refresh-style tokens of at most a month.
struct TokenLifetimes {
  absl::Duration staff = absl::Hours(12);     // committee_staff, street_staff, admin
  absl::Duration app = absl::Hours(24 * 30);  // elder, family, worker
  absl::Duration For(Role role) const;
};

// A principal from verified claims (exp and iat numbers, as JwtVerifier checks); UNAUTHENTICATED
// when a claim is missing or malformed, or the token lives longer than its role may.
absl::StatusOr<Principal> PrincipalFromClaims(const nlohmann::json& claims,
                                              const TokenLifetimes& lifetimes);

}  // namespace linli::auth

#endif  // LINLI_COMMON_AUTH_PRINCIPAL_H_
