// Who a gateway call acts for: a role, a region scope, the elders the caller may act for, and
// (partners) an organisation and scopes. Built from verified JWT claims or a partner API key.
//
// Claims of a Linli access token (besides iss, aud, exp, nbf):
//   "sub"    the principal, e.g. "workers/w17", "users/13800001111", "staff/zhang"
//   "role"   one of the role names below
//   "region" the region scope as a code, e.g. "310101020" (a street) or "310101020001" (a
//            committee); the principal may touch regions whose code starts with it. Ignored for
//            admin (everywhere).
//   "elders" for elder and family roles: the elders ("elders/{id}") the caller is or may act for.
#ifndef LINLI_COMMON_AUTH_PRINCIPAL_H_
#define LINLI_COMMON_AUTH_PRINCIPAL_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
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

  // True when `region` ("regions/{code}" or a bare code) lies inside this principal's scope.
  bool CoversRegion(absl::string_view region) const;
  bool ActsFor(absl::string_view elder) const;
  bool HasScope(absl::string_view scope) const;
  // The value passed to backends in x-linli-actor: "role:id".
  std::string Actor() const;
};

// A principal from verified claims; UNAUTHENTICATED when a claim is missing or malformed.
absl::StatusOr<Principal> PrincipalFromClaims(const nlohmann::json& claims);

}  // namespace linli::auth

#endif  // LINLI_COMMON_AUTH_PRINCIPAL_H_
