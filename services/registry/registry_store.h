// The registry's tables and queries. Portable SQL over storage::Transaction; the two backends
// differ only in the DDL of RegistryMigrations().
//
// Resources other than regions are stored as their serialized proto (`data`) next to the columns
// that queries filter or join on; uniqueness (codes, ids, relation triples, an elder's ID-number
// blind index, an organisation's credit code, a worker's phone within the organisation) is
// enforced by keys in the database.
#ifndef LINLI_SERVICES_REGISTRY_REGISTRY_STORE_H_
#define LINLI_SERVICES_REGISTRY_REGISTRY_STORE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/etag.h"
#include "common/storage/database.h"
#include "linli/registry/v1/registry.pb.h"
#include "services/registry/region.h"

namespace linli::registry {

// Schema versions of the registry, applied at start-up.
const std::vector<storage::Migration>& RegistryMigrations();

// Etags (common/etag.h): every write below stores a new random etag in the record it is given
// (Revise, so the caller's copy carries what was stored), and reads return it. A record written
// before etags existed reads with LegacyEtag(name) until its first write.
template <typename Record>
void Revise(Record& record) {
  record.set_etag(NewEtag());
}
template <typename Record>
void StampEtag(Record& record) {
  if (record.etag().empty()) record.set_etag(LegacyEtag(record.name()));
}

// --- Regions ---------------------------------------------------------------------------------

// Inserts a region. ALREADY_EXISTS (field region.code) when the code is taken.
absl::Status InsertRegion(storage::Transaction& tx, const Region& region);
absl::StatusOr<std::optional<Region>> FindRegion(storage::Transaction& tx, const std::string& code);
// Regions with code > after_code, ordered by code, at most `limit`. With a parent: only its
// direct children.
absl::StatusOr<std::vector<Region>> QueryRegions(storage::Transaction& tx,
                                                 const std::string& parent_code,
                                                 const std::string& after_code, int limit);
// Every region whose path starts with `path_prefix`, ordered by code.
absl::StatusOr<std::vector<Region>> RegionSubtree(storage::Transaction& tx,
                                                  const std::string& path_prefix);

// --- Lines, service types --------------------------------------------------------------------

absl::Status InsertLine(storage::Transaction& tx, const v1::Line& line);
absl::StatusOr<std::vector<v1::Line>> AllLines(storage::Transaction& tx);
absl::StatusOr<bool> LineExists(storage::Transaction& tx, const std::string& id);

absl::Status InsertServiceType(storage::Transaction& tx, v1::ServiceType& type,
                               const std::string& code, const std::string& parent_code);
// The taxonomy ordered by code; retired types only with `include_retired`.
absl::StatusOr<std::vector<v1::ServiceType>> AllServiceTypes(storage::Transaction& tx,
                                                             bool include_retired = false);
// Whether the service type exists and is not retired (what a new reference may name).
absl::StatusOr<bool> ServiceTypeExists(storage::Transaction& tx, const std::string& code);
// One service type by code (retired too) for a change: a locking read where the backend has one.
absl::StatusOr<std::optional<v1::ServiceType>> FindServiceTypeForUpdate(storage::Transaction& tx,
                                                                        storage::Dialect dialect,
                                                                        const std::string& code);
// Stores a service type's data and retirement (code and parent are fixed).
absl::Status UpdateServiceTypeRow(storage::Transaction& tx, const std::string& code,
                                  v1::ServiceType& type);

// --- Organisations and relations ---------------------------------------------------------------

struct OrganisationRow {
  v1::Organisation organisation;  // as returned to clients
  std::string id;
  std::string region_code;
  std::string region_path;
  std::vector<std::string> line_ids;
};
// Inserts an organisation and its lines, with the credit code (when it has one) in its unique
// column. ALREADY_EXISTS naming organisation.id or organisation.credit_code, whichever is taken.
absl::Status InsertOrganisation(storage::Transaction& tx, OrganisationRow& row);
// One organisation by id (retired ones too).
absl::StatusOr<std::optional<v1::Organisation>> FindOrganisation(storage::Transaction& tx,
                                                                 const std::string& id);
// The same for a change: a locking read where the backend has one (as FindOfferingForUpdate).
absl::StatusOr<std::optional<v1::Organisation>> FindOrganisationForUpdate(storage::Transaction& tx,
                                                                          storage::Dialect dialect,
                                                                          const std::string& id);
// Stores a changed organisation: its data, kind, retirement, credit code and lines (region and
// id are fixed). ALREADY_EXISTS (organisation.credit_code) when another organisation holds the
// credit code.
absl::Status UpdateOrganisationRow(storage::Transaction& tx, const std::string& id,
                                   v1::Organisation& organisation,
                                   const std::vector<std::string>& line_ids);
// The organisation registered under a unified social credit code (retired ones too).
absl::StatusOr<std::optional<v1::Organisation>> FindOrganisationByCreditCode(
    storage::Transaction& tx, const std::string& credit_code);
// The organisations sitting in the region whose path is `region_path` itself (not below it),
// retired ones too, ordered by id.
absl::StatusOr<std::vector<v1::Organisation>> OrganisationsAt(storage::Transaction& tx,
                                                              const std::string& region_path);
// The path of the region an organisation (retired ones too) sits in; nullopt when there is no
// such organisation.
absl::StatusOr<std::optional<std::string>> OrganisationRegionPath(storage::Transaction& tx,
                                                                  const std::string& id);
struct OrganisationFilter {
  std::string region_path;       // subtree; "" = all
  int kind = 0;                  // 0 = all
  std::string line_id;           // "" = all
  bool include_retired = false;  // retired organisations drop out unless asked for
};
absl::StatusOr<std::vector<v1::Organisation>> QueryOrganisations(storage::Transaction& tx,
                                                                 const OrganisationFilter& filter,
                                                                 const std::string& after_id,
                                                                 int limit);

// Relation endpoints are resource names ("organisations/x", "regions/310101").
absl::Status InsertRelation(storage::Transaction& tx, const std::string& id,
                            v1::Relation& relation);
// Relations touching `organisation_name` (all when empty); retired ones only with
// `include_retired`.
absl::StatusOr<std::vector<v1::Relation>> QueryRelations(storage::Transaction& tx,
                                                         const std::string& organisation_name,
                                                         bool include_retired,
                                                         const std::string& after_id, int limit);
// The relation with this source, target and type, retired or not.
absl::StatusOr<std::optional<v1::Relation>> FindRelationByTriple(storage::Transaction& tx,
                                                                 const v1::Relation& relation);
// One relation by id for a change: a locking read where the backend has one.
absl::StatusOr<std::optional<v1::Relation>> FindRelationForUpdate(storage::Transaction& tx,
                                                                  storage::Dialect dialect,
                                                                  const std::string& id);
// Stores a relation's data and retirement (its ends and type are fixed).
absl::Status UpdateRelationRow(storage::Transaction& tx, const std::string& id,
                               v1::Relation& relation);
// Targets of the administrative relations (not retired) whose source is `source`
// ("organisations/x").
absl::StatusOr<std::vector<std::string>> AdministrativeParents(storage::Transaction& tx,
                                                               const std::string& source);

// --- Offerings ---------------------------------------------------------------------------------

absl::Status InsertOffering(storage::Transaction& tx, const std::string& id,
                            const std::string& organisation_id, const std::string& service_code,
                            const std::vector<std::string>& covered_codes, v1::Offering& offering);
// Offerings by organisation and service (either may be empty); retired ones only with
// `include_retired`.
absl::StatusOr<std::vector<v1::Offering>> QueryOfferings(storage::Transaction& tx,
                                                         const std::string& organisation_id,
                                                         const std::string& service_code,
                                                         bool include_retired,
                                                         const std::string& after_id, int limit);
// One offering by id (without "offerings/"), for update: a locking read where the backend has
// one, so two concurrent updates apply one after the other.
absl::StatusOr<std::optional<v1::Offering>> FindOfferingForUpdate(storage::Transaction& tx,
                                                                  storage::Dialect dialect,
                                                                  const std::string& id);
// Stores the offering's data and retirement (organisation, service and coverage are never
// changed here).
absl::Status UpdateOfferingData(storage::Transaction& tx, const std::string& id,
                                v1::Offering& offering);
// Offerings, not retired, of any of `service_codes` that cover any of `region_codes`, of
// organisations that are not retired.
absl::StatusOr<std::vector<v1::Offering>> OfferingsCovering(
    storage::Transaction& tx, const std::vector<std::string>& service_codes,
    const std::vector<std::string>& region_codes);
// Ids of organisations, not retired, that have an offering (not retired) of any of
// `service_codes`.
absl::StatusOr<std::vector<std::string>> OrganisationsOffering(
    storage::Transaction& tx, const std::vector<std::string>& service_codes);

// --- Elders ------------------------------------------------------------------------------------

struct ElderRow {
  std::string id;
  std::string region_code;
  std::string region_path;
  int living_situation = 0;
  bool erased = false;
  // The Elder proto without personal data (display_name masked).
  v1::Elder stub;
  // Ciphertext token of an Elder proto holding only the personal fields ("" when none).
  std::string sealed_personal_data;
  // Blind index of the ID number ("" when none): unique, so an elder is registered once.
  std::string id_number_index;
  absl::Time create_time;
  // v1::ElderStatus (0 and 1: served).
  int status = 0;
};
absl::Status InsertElder(storage::Transaction& tx, ElderRow& row);
absl::Status UpdateElderRow(storage::Transaction& tx, ElderRow& row);
absl::StatusOr<std::optional<ElderRow>> FindElder(storage::Transaction& tx, const std::string& id);
// The same for a change: a locking read where the backend has one.
absl::StatusOr<std::optional<ElderRow>> FindElderForUpdate(storage::Transaction& tx,
                                                           storage::Dialect dialect,
                                                           const std::string& id);
// The id of the elder registered under an ID number's blind index, if any.
absl::StatusOr<std::optional<std::string>> FindElderIdByIdNumberIndex(storage::Transaction& tx,
                                                                      const std::string& index);
// Elders of a region subtree; those who moved away or died only with `include_retired`.
absl::StatusOr<std::vector<ElderRow>> QueryElders(storage::Transaction& tx,
                                                  const std::string& region_path,
                                                  int living_situation, bool include_retired,
                                                  const std::string& after_id, int limit);

// --- Workers -----------------------------------------------------------------------------------

struct WorkerRow {
  std::string id;
  std::string organisation_id;
  // The Worker proto as returned to clients: the phone masked.
  v1::Worker worker;
  // Ciphertext token of the phone ("" when none).
  std::string sealed_phone;
  // Blind index of the phone's WorkerPhoneKey ("" when none): unique within the organisation.
  std::string phone_index;
};
// Inserts a worker. ALREADY_EXISTS (worker.phone) when another worker of the organisation has
// the phone index.
absl::Status InsertWorker(storage::Transaction& tx, WorkerRow& row);
// One worker as returned to clients (the phone masked).
absl::StatusOr<std::optional<v1::Worker>> FindWorker(storage::Transaction& tx,
                                                     const std::string& id);
// One worker's row for a change: a locking read where the backend has one.
absl::StatusOr<std::optional<WorkerRow>> FindWorkerForUpdate(storage::Transaction& tx,
                                                             storage::Dialect dialect,
                                                             const std::string& id);
// Stores a changed worker: data, sealed phone and its index (id and organisation are fixed).
// ALREADY_EXISTS (worker.phone) as InsertWorker.
absl::Status UpdateWorkerRow(storage::Transaction& tx, WorkerRow& row);
// The id of the worker of `organisation_id` registered under a phone's blind index, if any.
absl::StatusOr<std::optional<std::string>> FindWorkerIdByPhoneIndex(
    storage::Transaction& tx, const std::string& organisation_id, const std::string& phone_index);
absl::StatusOr<std::vector<v1::Worker>> QueryWorkers(storage::Transaction& tx,
                                                     const std::string& organisation_id,
                                                     const std::string& after_id, int limit);

// --- Audit log: common/audit.h (AppendAudit, QueryAudit; append only, the table is pii_audit) ---

}  // namespace linli::registry

#endif  // LINLI_SERVICES_REGISTRY_REGISTRY_STORE_H_
