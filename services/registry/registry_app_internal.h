// What the registry's use-case files share, outside the registry's interface: the steps of
// registering a catalogue record, which the Create method of its kind and ImportRecords both take
// (registry_app_catalogue.cc), and how an import reports the rows it refuses.
//
// A record is registered in three steps: Prepare* checks what the request states, without the
// database, and readies the record; Resolve* checks its references in the transaction; Store*
// writes it. A row of an import is checked by the same steps as a Create call, so the two cannot
// drift apart.
#ifndef LINLI_SERVICES_REGISTRY_REGISTRY_APP_INTERNAL_H_
#define LINLI_SERVICES_REGISTRY_REGISTRY_APP_INTERNAL_H_

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/audit.h"
#include "common/clock.h"
#include "common/errors.h"
#include "common/import_problems.h"
#include "common/pii/field_cipher.h"
#include "common/storage/database.h"
#include "linli/common/v1/common.pb.h"
#include "linli/registry/v1/registry.pb.h"
#include "services/registry/region.h"
#include "services/registry/registry_store.h"

namespace linli::registry {

// --- Imports -----------------------------------------------------------------------------------

// An import's region guard: the subtree every row must lie within (none: anywhere).
struct RegionGuard {
  std::string name;  // "regions/{code}", "" for none
  std::string path;  // its path, "" for none

  bool Admits(const std::string& region_path) const {
    return path.empty() || absl::StartsWith(region_path, path);
  }
};

// The guard `name` ("regions/{code}", its code `code`; both "" for none) read in `tx`; NOT_FOUND
// when there is no such region.
inline absl::StatusOr<RegionGuard> LoadRegionGuard(storage::Transaction& tx,
                                                   const std::string& name,
                                                   const std::string& code) {
  if (code.empty()) return RegionGuard{};
  absl::StatusOr<std::optional<Region>> region = FindRegion(tx, code);
  if (!region.ok()) return region.status();
  if (!region->has_value()) return NotFound(name);
  return RegionGuard{name, (*region)->path};
}

// --- Organisations -------------------------------------------------------------------------------

struct NewOrganisation {
  // The record as it will be stored and returned, its id, region code and lines; the region
  // path once resolved.
  OrganisationRow row;
  // The administrative parent's id, "" without one.
  std::string parent_id;
};

// Checks an organisation to be registered (violations under "organisation.") and readies it,
// created at `now`.
NewOrganisation PrepareOrganisation(const v1::Organisation& in, absl::Time now,
                                    FieldViolations& violations);

// Resolves its region (the row's region path), lines and parent in `tx`: INVALID_ARGUMENT naming
// the field of one that does not exist. `earlier`, when given, says whether an id is one of an
// organisation registered by an earlier row of the same import, which the parent may name.
absl::Status ResolveOrganisation(storage::Transaction& tx, NewOrganisation& organisation,
                                 const std::function<bool(const std::string&)>& earlier = nullptr);

// Stores it, with the administrative relation to its parent. ALREADY_EXISTS as
// InsertOrganisation.
absl::Status StoreOrganisation(storage::Transaction& tx, const Clock& clock,
                               NewOrganisation& organisation);

// --- Relations -----------------------------------------------------------------------------------

struct NewRelation {
  v1::Relation relation;
  std::string source_id;
  // An organisation's id, or a region's code for RELATION_TYPE_SERVES_REGION.
  std::string target_id;
};

// Checks a relation to be made (violations under "relation.") and readies it.
NewRelation PrepareRelation(const v1::Relation& in, FieldViolations& violations);

// The administrative parents of a node ("organisations/x"), as WouldCloseCycle walks them.
using ParentsOf = std::function<absl::StatusOr<std::vector<std::string>>(const std::string&)>;

// Resolves its ends and, for an administrative relation, that it closes no cycle among
// `parents_of` (the stored relations; in an import also those of earlier rows). INVALID_ARGUMENT
// naming the field. `source_path`, when given, receives the path of the source's region.
absl::Status ResolveRelation(storage::Transaction& tx, const NewRelation& relation,
                             const ParentsOf& parents_of, std::string* source_path = nullptr,
                             std::string* target_path = nullptr);

// Stores it: the same tie made again after it was retired comes back; otherwise a new relation
// (ALREADY_EXISTS when the tie exists). The relation as stored goes to `out`.
absl::Status StoreRelation(storage::Transaction& tx, const Clock& clock, NewRelation& relation,
                           v1::Relation* out);

// --- Offerings -----------------------------------------------------------------------------------

struct NewOffering {
  v1::Offering offering;
  std::string organisation_id;
  std::string service_code;
  // Codes of the covered regions, in the request's order.
  std::vector<std::string> covered;
};

// Checks an offering to be registered (violations under "offering.") and readies it.
NewOffering PrepareOffering(const v1::Offering& in, FieldViolations& violations);

// Resolves its organisation, service type (not retired) and covered regions: INVALID_ARGUMENT
// naming the field. `covered_regions`, when given, receives the covered regions in order.
absl::Status ResolveOffering(storage::Transaction& tx, const NewOffering& offering,
                             std::vector<Region>* covered_regions = nullptr);

// Stores it under a new id; the offering as stored goes to `out` when given.
absl::Status StoreOffering(storage::Transaction& tx, const Clock& clock, NewOffering& offering,
                           v1::Offering* out = nullptr);

// --- Workers -------------------------------------------------------------------------------------

struct NewWorker {
  // With the phone in the clear.
  v1::Worker worker;
  std::string organisation_id;
};

// Checks a worker to be registered (violations under "worker.") and readies it.
NewWorker PrepareWorker(const v1::Worker& in, FieldViolations& violations);

// Resolves the worker's organisation: INVALID_ARGUMENT (worker.organisation) when there is none.
// `organisation_path`, when given, receives the path of the organisation's region.
absl::Status ResolveWorker(storage::Transaction& tx, const NewWorker& worker,
                           std::string* organisation_path = nullptr);

// Stores it under a new id: the phone sealed and blind-indexed, the record with the phone masked
// (which goes to `out` when given). ALREADY_EXISTS (worker.phone) when another worker of the
// organisation has the phone. A phone written is audited as `action` by `caller` at `now`.
absl::Status StoreWorker(storage::Transaction& tx, const Clock& clock,
                         const pii::FieldCipher& cipher, const Caller& caller, absl::Time now,
                         const std::string& action, NewWorker& worker, v1::Worker* out = nullptr);

}  // namespace linli::registry

#endif  // LINLI_SERVICES_REGISTRY_REGISTRY_APP_INTERNAL_H_
