#include "services/registry/registry_store.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/errors.h"
#include "common/idempotency.h"
#include "common/status_macros.h"
#include "common/storage/proto_rows.h"

namespace linli::registry {
namespace {

using storage::Row;
using storage::Transaction;
using storage::Value;

constexpr char kSelectRegion[] =
    "SELECT code, display_name, level, parent_code, create_time_us, path FROM regions ";

Region RegionFromRow(const Row& row) {
  Region region;
  region.code = row.GetString(0);
  region.display_name = row.GetString(1);
  region.level = static_cast<RegionLevel>(row.GetInt(2));
  region.parent_code = row.GetString(3);
  region.create_time = absl::FromUnixMicros(row.GetInt(4));
  region.path = row.GetString(5);
  return region;
}

// NULL for "": what a unique column holds when the record has no value (many rows may).
Value NullIfEmpty(const std::string& s) { return s.empty() ? Value(storage::kNull) : Value(s); }

std::string Placeholders(size_t n) {
  std::vector<std::string> marks(n, "?");
  return absl::StrJoin(marks, ", ");
}

// ALREADY_EXISTS from the database, with the field that is duplicated named for the client.
absl::Status Duplicate(absl::Status status, absl::string_view what) {
  if (!absl::IsAlreadyExists(status)) return status;
  return WithReason(absl::AlreadyExistsError(std::string(what)),
                    common::v1::ERROR_REASON_ALREADY_EXISTS);
}

// The suffix of a locking read on `dialect`: SQLite serialises writing transactions as a whole,
// MySQL needs the row lock.
const char* ForUpdate(storage::Dialect dialect) {
  return dialect == storage::Dialect::kMysql ? " FOR UPDATE" : "";
}

// Parses stored records and stamps their etags.
template <typename Record>
absl::StatusOr<std::vector<Record>> ParseRecords(const std::vector<Row>& rows, int column) {
  ASSIGN_OR_RETURN(std::vector<Record> records, storage::ParseProtoColumns<Record>(rows, column));
  for (Record& record : records) StampEtag(record);
  return records;
}

template <typename Record>
absl::StatusOr<std::optional<Record>> ParseFirst(const std::vector<Row>& rows) {
  if (rows.empty()) return std::optional<Record>();
  ASSIGN_OR_RETURN(std::vector<Record> records, ParseRecords<Record>(rows, 0));
  return std::optional<Record>(std::move(records[0]));
}

std::string Bin(absl::string_view mysql_ddl) {
  return absl::StrCat(mysql_ddl, " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin");
}

}  // namespace

const std::vector<storage::Migration>& RegistryMigrations() {
  static const auto* migrations = new std::vector<storage::Migration>{
      {1, "regions",
       R"sql(CREATE TABLE regions (
  code TEXT PRIMARY KEY,
  display_name TEXT NOT NULL,
  level INTEGER NOT NULL,
  parent_code TEXT NOT NULL,
  create_time_us INTEGER NOT NULL,
  path TEXT NOT NULL
);
CREATE INDEX regions_by_parent ON regions (parent_code, code);
CREATE INDEX regions_by_path ON regions (path))sql",
       Bin(R"sql(CREATE TABLE regions (
  code VARCHAR(12) NOT NULL PRIMARY KEY,
  display_name VARCHAR(255) NOT NULL,
  level INT NOT NULL,
  parent_code VARCHAR(12) NOT NULL,
  create_time_us BIGINT NOT NULL,
  path VARCHAR(128) NOT NULL,
  INDEX regions_by_parent (parent_code, code),
  INDEX regions_by_path (path)
))sql")},
      IdempotencyMigration(2),
      {3, "lines, service types, organisations, relations",
       R"sql(CREATE TABLE functional_lines (
  id TEXT PRIMARY KEY,
  data BLOB NOT NULL
);
CREATE TABLE service_types (
  code TEXT PRIMARY KEY,
  parent_code TEXT NOT NULL,
  data BLOB NOT NULL
);
CREATE TABLE organisations (
  id TEXT PRIMARY KEY,
  region_code TEXT NOT NULL,
  region_path TEXT NOT NULL,
  kind INTEGER NOT NULL,
  data BLOB NOT NULL
);
CREATE INDEX organisations_by_path ON organisations (region_path, id);
CREATE TABLE organisation_lines (
  organisation_id TEXT NOT NULL,
  line_id TEXT NOT NULL,
  PRIMARY KEY (line_id, organisation_id)
);
CREATE TABLE relations (
  id TEXT PRIMARY KEY,
  source TEXT NOT NULL,
  target TEXT NOT NULL,
  type INTEGER NOT NULL,
  data BLOB NOT NULL,
  UNIQUE (source, target, type)
);
CREATE INDEX relations_by_target ON relations (target))sql",
       absl::StrCat(
           Bin("CREATE TABLE functional_lines (id VARCHAR(32) NOT NULL PRIMARY KEY, data LONGBLOB "
               "NOT NULL)"),
           ";\n",
           Bin("CREATE TABLE service_types (code VARCHAR(32) NOT NULL PRIMARY KEY, "
               "parent_code VARCHAR(32) NOT NULL, data LONGBLOB NOT NULL)"),
           ";\n",
           Bin("CREATE TABLE organisations (id VARCHAR(64) NOT NULL PRIMARY KEY, "
               "region_code VARCHAR(12) NOT NULL, region_path VARCHAR(128) NOT NULL, "
               "kind INT NOT NULL, data LONGBLOB NOT NULL, "
               "INDEX organisations_by_path (region_path, id))"),
           ";\n",
           Bin("CREATE TABLE organisation_lines (organisation_id VARCHAR(64) NOT NULL, "
               "line_id VARCHAR(32) NOT NULL, PRIMARY KEY (line_id, organisation_id))"),
           ";\n",
           Bin("CREATE TABLE relations (id VARCHAR(32) NOT NULL PRIMARY KEY, "
               "source VARCHAR(96) NOT NULL, target VARCHAR(96) NOT NULL, type INT NOT NULL, "
               "data LONGBLOB NOT NULL, UNIQUE KEY relations_triple (source, target, type), "
               "INDEX relations_by_target (target))"))},
      {4, "offerings, elders, workers, audit",
       R"sql(CREATE TABLE offerings (
  id TEXT PRIMARY KEY,
  organisation_id TEXT NOT NULL,
  service_code TEXT NOT NULL,
  data BLOB NOT NULL
);
CREATE INDEX offerings_by_organisation ON offerings (organisation_id, id);
CREATE TABLE offering_coverage (
  offering_id TEXT NOT NULL,
  region_code TEXT NOT NULL,
  service_code TEXT NOT NULL,
  PRIMARY KEY (region_code, service_code, offering_id)
);
CREATE TABLE elders (
  id TEXT PRIMARY KEY,
  region_code TEXT NOT NULL,
  region_path TEXT NOT NULL,
  living_situation INTEGER NOT NULL,
  erased INTEGER NOT NULL,
  stub BLOB NOT NULL,
  sealed TEXT NOT NULL,
  id_number_index TEXT,
  create_time_us INTEGER NOT NULL,
  UNIQUE (id_number_index)
);
CREATE INDEX elders_by_path ON elders (region_path, id);
CREATE TABLE workers (
  id TEXT PRIMARY KEY,
  organisation_id TEXT NOT NULL,
  data BLOB NOT NULL
);
CREATE INDEX workers_by_organisation ON workers (organisation_id, id);
CREATE TABLE pii_audit (
  sequence INTEGER PRIMARY KEY AUTOINCREMENT,
  time_us INTEGER NOT NULL,
  elder TEXT NOT NULL,
  data BLOB NOT NULL
);
CREATE INDEX pii_audit_by_elder ON pii_audit (elder, sequence))sql",
       absl::StrCat(
           Bin("CREATE TABLE offerings (id VARCHAR(32) NOT NULL PRIMARY KEY, "
               "organisation_id VARCHAR(64) NOT NULL, service_code VARCHAR(32) NOT NULL, "
               "data LONGBLOB NOT NULL, INDEX offerings_by_organisation (organisation_id, id))"),
           ";\n",
           Bin("CREATE TABLE offering_coverage (offering_id VARCHAR(32) NOT NULL, "
               "region_code VARCHAR(12) NOT NULL, service_code VARCHAR(32) NOT NULL, "
               "PRIMARY KEY (region_code, service_code, offering_id))"),
           ";\n",
           Bin("CREATE TABLE elders (id VARCHAR(32) NOT NULL PRIMARY KEY, "
               "region_code VARCHAR(12) NOT NULL, region_path VARCHAR(128) NOT NULL, "
               "living_situation INT NOT NULL, erased INT NOT NULL, stub LONGBLOB NOT NULL, "
               "sealed LONGTEXT NOT NULL, id_number_index VARCHAR(64) NULL, "
               "create_time_us BIGINT NOT NULL, UNIQUE KEY elders_id_number (id_number_index), "
               "INDEX elders_by_path (region_path, id))"),
           ";\n",
           Bin("CREATE TABLE workers (id VARCHAR(32) NOT NULL PRIMARY KEY, "
               "organisation_id VARCHAR(64) NOT NULL, data LONGBLOB NOT NULL, "
               "INDEX workers_by_organisation (organisation_id, id))"),
           ";\n",
           Bin("CREATE TABLE pii_audit (sequence BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, "
               "time_us BIGINT NOT NULL, elder VARCHAR(64) NOT NULL, data LONGBLOB NOT NULL, "
               "INDEX pii_audit_by_elder (elder, sequence))"))},
      // One statement each: MariaDB's DDL is not transactional, so a migration that failed half
      // way could not be applied again.
      {5, "retired organisations",
       "ALTER TABLE organisations ADD COLUMN retired INTEGER NOT NULL DEFAULT 0",
       "ALTER TABLE organisations ADD COLUMN retired INT NOT NULL DEFAULT 0"},
      {6, "elders who moved away or died",
       "ALTER TABLE elders ADD COLUMN status INTEGER NOT NULL DEFAULT 0",
       "ALTER TABLE elders ADD COLUMN status INT NOT NULL DEFAULT 0"},
      {7, "retired relations",
       "ALTER TABLE relations ADD COLUMN retired INTEGER NOT NULL DEFAULT 0",
       "ALTER TABLE relations ADD COLUMN retired INT NOT NULL DEFAULT 0"},
      {8, "retired offerings",
       "ALTER TABLE offerings ADD COLUMN retired INTEGER NOT NULL DEFAULT 0",
       "ALTER TABLE offerings ADD COLUMN retired INT NOT NULL DEFAULT 0"},
      {9, "retired service types",
       "ALTER TABLE service_types ADD COLUMN retired INTEGER NOT NULL DEFAULT 0",
       "ALTER TABLE service_types ADD COLUMN retired INT NOT NULL DEFAULT 0"},
      // NULL for an organisation without a code: a unique key lets many rows hold NULL.
      {10, "organisations' credit codes",
       "ALTER TABLE organisations ADD COLUMN credit_code TEXT;\n"
       "CREATE UNIQUE INDEX organisations_by_credit_code ON organisations (credit_code)",
       "ALTER TABLE organisations ADD COLUMN credit_code VARCHAR(18) NULL, "
       "ADD UNIQUE KEY organisations_by_credit_code (credit_code)"},
      // The phone sealed (a FieldCipher token) and its blind index, NULL without a phone; one
      // phone per organisation.
      {11, "workers' phones",
       "ALTER TABLE workers ADD COLUMN phone_sealed TEXT;\n"
       "ALTER TABLE workers ADD COLUMN phone_index TEXT;\n"
       "CREATE UNIQUE INDEX workers_by_phone ON workers (organisation_id, phone_index)",
       "ALTER TABLE workers ADD COLUMN phone_sealed TEXT NULL, "
       "ADD COLUMN phone_index VARCHAR(64) NULL, "
       "ADD UNIQUE KEY workers_by_phone (organisation_id, phone_index)"},
  };
  return *migrations;
}

// --- Regions ---------------------------------------------------------------------------------

absl::Status InsertRegion(Transaction& tx, const Region& region) {
  absl::StatusOr<int64_t> inserted = tx.Exec(
      "INSERT INTO regions (code, display_name, level, parent_code, create_time_us, path) "
      "VALUES (?, ?, ?, ?, ?, ?)",
      {region.code, region.display_name, static_cast<int64_t>(region.level), region.parent_code,
       absl::ToUnixMicros(region.create_time), region.path});
  return Duplicate(inserted.status(), absl::StrCat("region.code: a region with code ", region.code,
                                                   " already exists"));
}

absl::StatusOr<std::optional<Region>> FindRegion(Transaction& tx, const std::string& code) {
  ASSIGN_OR_RETURN(auto rows, tx.Query(std::string(kSelectRegion) + "WHERE code = ?", {code}));
  if (rows.empty()) return std::optional<Region>();
  return std::optional<Region>(RegionFromRow(rows[0]));
}

absl::StatusOr<std::vector<Region>> QueryRegions(Transaction& tx, const std::string& parent_code,
                                                 const std::string& after_code, int limit) {
  const int64_t limit64 = limit;
  absl::StatusOr<std::vector<Row>> rows =
      parent_code.empty()
          ? tx.Query(std::string(kSelectRegion) + "WHERE code > ? ORDER BY code LIMIT ?",
                     {after_code, limit64})
          : tx.Query(std::string(kSelectRegion) +
                         "WHERE parent_code = ? AND code > ? ORDER BY code LIMIT ?",
                     {parent_code, after_code, limit64});
  RETURN_IF_ERROR(rows.status());
  std::vector<Region> regions;
  regions.reserve(rows->size());
  for (const Row& row : *rows) regions.push_back(RegionFromRow(row));
  return regions;
}

absl::StatusOr<std::vector<Region>> RegionSubtree(Transaction& tx, const std::string& path_prefix) {
  ASSIGN_OR_RETURN(auto rows,
                   tx.Query(std::string(kSelectRegion) + "WHERE path LIKE ? ORDER BY code",
                            {path_prefix + "%"}));
  std::vector<Region> regions;
  for (const Row& row : rows) regions.push_back(RegionFromRow(row));
  return regions;
}

// --- Lines, service types --------------------------------------------------------------------

absl::Status InsertLine(Transaction& tx, const v1::Line& line) {
  return Duplicate(tx.Exec("INSERT INTO functional_lines (id, data) VALUES (?, ?)",
                           {line.id(), line.SerializeAsString()})
                       .status(),
                   absl::StrCat("line.id: line ", line.id(), " already exists"));
}

absl::StatusOr<std::vector<v1::Line>> AllLines(Transaction& tx) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT data FROM functional_lines ORDER BY id"));
  return storage::ParseProtoColumns<v1::Line>(rows, 0);
}

absl::StatusOr<bool> LineExists(Transaction& tx, const std::string& id) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT 1 FROM functional_lines WHERE id = ?", {id}));
  return !rows.empty();
}

absl::Status InsertServiceType(Transaction& tx, v1::ServiceType& type, const std::string& code,
                               const std::string& parent_code) {
  Revise(type);
  return Duplicate(tx.Exec("INSERT INTO service_types (code, parent_code, data) VALUES (?, ?, ?)",
                           {code, parent_code, type.SerializeAsString()})
                       .status(),
                   absl::StrCat("service_type.code: service type ", code, " already exists"));
}

absl::StatusOr<std::vector<v1::ServiceType>> AllServiceTypes(Transaction& tx,
                                                             bool include_retired) {
  ASSIGN_OR_RETURN(auto rows,
                   tx.Query(include_retired ? "SELECT data FROM service_types ORDER BY code"
                                            : "SELECT data FROM service_types WHERE retired = 0 "
                                              "ORDER BY code"));
  return ParseRecords<v1::ServiceType>(rows, 0);
}

absl::StatusOr<bool> ServiceTypeExists(Transaction& tx, const std::string& code) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT 1 FROM service_types WHERE code = ? AND "
                                       "retired = 0",
                                       {code}));
  return !rows.empty();
}

absl::StatusOr<std::optional<v1::ServiceType>> FindServiceTypeForUpdate(Transaction& tx,
                                                                        storage::Dialect dialect,
                                                                        const std::string& code) {
  ASSIGN_OR_RETURN(auto rows, tx.Query(absl::StrCat("SELECT data FROM service_types WHERE code = ?",
                                                    ForUpdate(dialect)),
                                       {code}));
  return ParseFirst<v1::ServiceType>(rows);
}

absl::Status UpdateServiceTypeRow(Transaction& tx, const std::string& code, v1::ServiceType& type) {
  Revise(type);
  ASSIGN_OR_RETURN(int64_t n,
                   tx.Exec("UPDATE service_types SET retired = ?, data = ? WHERE code = ?",
                           {static_cast<int64_t>(type.retired()), type.SerializeAsString(), code}));
  if (n != 1) return absl::NotFoundError(absl::StrCat("serviceTypes/", code, " not found"));
  return absl::OkStatus();
}

// --- Organisations and relations ---------------------------------------------------------------

namespace {

constexpr char kCreditCodeTaken[] =
    "organisation.credit_code: another organisation is registered under this credit code";

}  // namespace

absl::Status InsertOrganisation(Transaction& tx, OrganisationRow& row) {
  Revise(row.organisation);
  const std::string& credit_code = row.organisation.credit_code();
  absl::Status inserted =
      tx.Exec(
            "INSERT INTO organisations (id, region_code, region_path, kind, credit_code, data) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            {row.id, row.region_code, row.region_path,
             static_cast<int64_t>(row.organisation.kind()), NullIfEmpty(credit_code),
             row.organisation.SerializeAsString()})
          .status();
  // Two keys can refuse the row: the id, or the credit code of another organisation.
  if (absl::IsAlreadyExists(inserted) && !credit_code.empty()) {
    ASSIGN_OR_RETURN(std::optional<v1::Organisation> holder,
                     FindOrganisationByCreditCode(tx, credit_code));
    if (holder.has_value() && holder->id() != row.id) {
      return Duplicate(inserted, kCreditCodeTaken);
    }
  }
  RETURN_IF_ERROR(Duplicate(
      inserted, absl::StrCat("organisation.id: organisation ", row.id, " already exists")));
  for (const std::string& line : row.line_ids) {
    RETURN_IF_ERROR(
        Duplicate(tx.Exec("INSERT INTO organisation_lines (organisation_id, line_id) VALUES (?, ?)",
                          {row.id, line})
                      .status(),
                  "organisation.lines: a line is listed twice"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<v1::Organisation>> FindOrganisation(Transaction& tx,
                                                                 const std::string& id) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT data FROM organisations WHERE id = ?", {id}));
  return ParseFirst<v1::Organisation>(rows);
}

absl::StatusOr<std::optional<v1::Organisation>> FindOrganisationForUpdate(Transaction& tx,
                                                                          storage::Dialect dialect,
                                                                          const std::string& id) {
  ASSIGN_OR_RETURN(auto rows, tx.Query(absl::StrCat("SELECT data FROM organisations WHERE id = ?",
                                                    ForUpdate(dialect)),
                                       {id}));
  return ParseFirst<v1::Organisation>(rows);
}

absl::Status UpdateOrganisationRow(Transaction& tx, const std::string& id,
                                   v1::Organisation& organisation,
                                   const std::vector<std::string>& line_ids) {
  Revise(organisation);
  absl::StatusOr<int64_t> updated = tx.Exec(
      "UPDATE organisations SET kind = ?, retired = ?, credit_code = ?, data = ? WHERE id = ?",
      {static_cast<int64_t>(organisation.kind()), static_cast<int64_t>(organisation.retired()),
       NullIfEmpty(organisation.credit_code()), organisation.SerializeAsString(), id});
  RETURN_IF_ERROR(Duplicate(updated.status(), kCreditCodeTaken));
  const int64_t n = *updated;
  if (n != 1) return absl::NotFoundError(absl::StrCat("organisations/", id, " not found"));
  RETURN_IF_ERROR(
      tx.Exec("DELETE FROM organisation_lines WHERE organisation_id = ?", {id}).status());
  for (const std::string& line : line_ids) {
    RETURN_IF_ERROR(
        Duplicate(tx.Exec("INSERT INTO organisation_lines (organisation_id, line_id) VALUES (?, ?)",
                          {id, line})
                      .status(),
                  "organisation.lines: a line is listed twice"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<v1::Organisation>> FindOrganisationByCreditCode(
    Transaction& tx, const std::string& credit_code) {
  ASSIGN_OR_RETURN(auto rows,
                   tx.Query("SELECT data FROM organisations WHERE credit_code = ?", {credit_code}));
  return ParseFirst<v1::Organisation>(rows);
}

absl::StatusOr<std::vector<v1::Organisation>> OrganisationsAt(Transaction& tx,
                                                              const std::string& region_path) {
  ASSIGN_OR_RETURN(
      auto rows,
      tx.Query("SELECT data FROM organisations WHERE region_path = ? ORDER BY id", {region_path}));
  return ParseRecords<v1::Organisation>(rows, 0);
}

absl::StatusOr<std::optional<std::string>> OrganisationRegionPath(Transaction& tx,
                                                                  const std::string& id) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT region_path FROM organisations WHERE id = ?", {id}));
  if (rows.empty()) return std::optional<std::string>();
  return std::optional<std::string>(rows[0].GetString(0));
}

absl::StatusOr<std::vector<v1::Organisation>> QueryOrganisations(Transaction& tx,
                                                                 const OrganisationFilter& filter,
                                                                 const std::string& after_id,
                                                                 int limit) {
  std::string sql = "SELECT o.data FROM organisations o ";
  std::vector<Value> params;
  if (!filter.line_id.empty()) {
    sql += "JOIN organisation_lines l ON l.organisation_id = o.id AND l.line_id = ? ";
    params.push_back(filter.line_id);
  }
  sql += "WHERE o.id > ? ";
  params.push_back(after_id);
  if (!filter.region_path.empty()) {
    sql += "AND o.region_path LIKE ? ";
    params.push_back(filter.region_path + "%");
  }
  if (filter.kind != 0) {
    sql += "AND o.kind = ? ";
    params.push_back(static_cast<int64_t>(filter.kind));
  }
  if (!filter.include_retired) sql += "AND o.retired = 0 ";
  sql += "ORDER BY o.id LIMIT ?";
  params.push_back(static_cast<int64_t>(limit));
  ASSIGN_OR_RETURN(auto rows, tx.Query(sql, params));
  return ParseRecords<v1::Organisation>(rows, 0);
}

absl::Status InsertRelation(Transaction& tx, const std::string& id, v1::Relation& relation) {
  Revise(relation);
  return Duplicate(
      tx.Exec("INSERT INTO relations (id, source, target, type, data) VALUES (?, ?, ?, ?, ?)",
              {id, relation.source(), relation.target(), static_cast<int64_t>(relation.type()),
               relation.SerializeAsString()})
          .status(),
      "relation: the same source, target and type already exist");
}

absl::StatusOr<std::vector<v1::Relation>> QueryRelations(Transaction& tx,
                                                         const std::string& organisation_name,
                                                         bool include_retired,
                                                         const std::string& after_id, int limit) {
  std::string sql = "SELECT data FROM relations WHERE id > ? ";
  std::vector<Value> params = {after_id};
  if (!organisation_name.empty()) {
    sql += "AND (source = ? OR target = ?) ";
    params.push_back(organisation_name);
    params.push_back(organisation_name);
  }
  if (!include_retired) sql += "AND retired = 0 ";
  sql += "ORDER BY id LIMIT ?";
  params.push_back(static_cast<int64_t>(limit));
  ASSIGN_OR_RETURN(auto rows, tx.Query(sql, params));
  return ParseRecords<v1::Relation>(rows, 0);
}

absl::StatusOr<std::optional<v1::Relation>> FindRelationByTriple(Transaction& tx,
                                                                 const v1::Relation& relation) {
  ASSIGN_OR_RETURN(
      auto rows,
      tx.Query("SELECT data FROM relations WHERE source = ? AND target = ? AND "
               "type = ?",
               {relation.source(), relation.target(), static_cast<int64_t>(relation.type())}));
  return ParseFirst<v1::Relation>(rows);
}

absl::StatusOr<std::optional<v1::Relation>> FindRelationForUpdate(Transaction& tx,
                                                                  storage::Dialect dialect,
                                                                  const std::string& id) {
  ASSIGN_OR_RETURN(
      auto rows,
      tx.Query(absl::StrCat("SELECT data FROM relations WHERE id = ?", ForUpdate(dialect)), {id}));
  return ParseFirst<v1::Relation>(rows);
}

absl::Status UpdateRelationRow(Transaction& tx, const std::string& id, v1::Relation& relation) {
  Revise(relation);
  ASSIGN_OR_RETURN(int64_t n, tx.Exec("UPDATE relations SET retired = ?, data = ? WHERE id = ?",
                                      {static_cast<int64_t>(relation.retired()),
                                       relation.SerializeAsString(), id}));
  if (n != 1) return absl::NotFoundError(absl::StrCat("relations/", id, " not found"));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> AdministrativeParents(Transaction& tx,
                                                               const std::string& source) {
  ASSIGN_OR_RETURN(
      auto rows,
      tx.Query("SELECT target FROM relations WHERE source = ? AND type = ? AND retired = 0",
               {source, static_cast<int64_t>(v1::RELATION_TYPE_ADMINISTRATIVE)}));
  std::vector<std::string> targets;
  for (const Row& row : rows) targets.push_back(row.GetString(0));
  return targets;
}

// --- Offerings ---------------------------------------------------------------------------------

absl::Status InsertOffering(Transaction& tx, const std::string& id,
                            const std::string& organisation_id, const std::string& service_code,
                            const std::vector<std::string>& covered_codes, v1::Offering& offering) {
  Revise(offering);
  RETURN_IF_ERROR(
      tx.Exec("INSERT INTO offerings (id, organisation_id, service_code, data) VALUES (?, ?, ?, ?)",
              {id, organisation_id, service_code, offering.SerializeAsString()})
          .status());
  for (const std::string& code : covered_codes) {
    RETURN_IF_ERROR(
        Duplicate(tx.Exec("INSERT INTO offering_coverage (offering_id, region_code, service_code) "
                          "VALUES (?, ?, ?)",
                          {id, code, service_code})
                      .status(),
                  "offering.covered_regions: a region is listed twice"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::Offering>> QueryOfferings(Transaction& tx,
                                                         const std::string& organisation_id,
                                                         const std::string& service_code,
                                                         bool include_retired,
                                                         const std::string& after_id, int limit) {
  std::string sql = "SELECT data FROM offerings WHERE id > ? ";
  std::vector<Value> params = {after_id};
  if (!organisation_id.empty()) {
    sql += "AND organisation_id = ? ";
    params.push_back(organisation_id);
  }
  if (!service_code.empty()) {
    sql += "AND service_code = ? ";
    params.push_back(service_code);
  }
  if (!include_retired) sql += "AND retired = 0 ";
  sql += "ORDER BY id LIMIT ?";
  params.push_back(static_cast<int64_t>(limit));
  ASSIGN_OR_RETURN(auto rows, tx.Query(sql, params));
  return ParseRecords<v1::Offering>(rows, 0);
}

absl::StatusOr<std::optional<v1::Offering>> FindOfferingForUpdate(Transaction& tx,
                                                                  storage::Dialect dialect,
                                                                  const std::string& id) {
  ASSIGN_OR_RETURN(
      auto rows,
      tx.Query(absl::StrCat("SELECT data FROM offerings WHERE id = ?", ForUpdate(dialect)), {id}));
  return ParseFirst<v1::Offering>(rows);
}

absl::Status UpdateOfferingData(Transaction& tx, const std::string& id, v1::Offering& offering) {
  Revise(offering);
  ASSIGN_OR_RETURN(int64_t n, tx.Exec("UPDATE offerings SET retired = ?, data = ? WHERE id = ?",
                                      {static_cast<int64_t>(offering.retired()),
                                       offering.SerializeAsString(), id}));
  if (n != 1) return absl::NotFoundError(absl::StrCat("offerings/", id, " not found"));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::Offering>> OfferingsCovering(
    Transaction& tx, const std::vector<std::string>& service_codes,
    const std::vector<std::string>& region_codes) {
  if (service_codes.empty() || region_codes.empty()) return std::vector<v1::Offering>();
  std::vector<Value> params;
  for (const auto& c : region_codes) params.push_back(c);
  for (const auto& c : service_codes) params.push_back(c);
  ASSIGN_OR_RETURN(
      auto rows,
      tx.Query(absl::StrCat(
                   "SELECT DISTINCT o.id, o.data FROM offering_coverage c JOIN offerings "
                   "o ON o.id = c.offering_id JOIN organisations g ON g.id = "
                   "o.organisation_id AND g.retired = 0 WHERE o.retired = 0 AND c.region_code IN (",
                   Placeholders(region_codes.size()), ") AND c.service_code IN (",
                   Placeholders(service_codes.size()), ") ORDER BY o.id"),
               params));
  return ParseRecords<v1::Offering>(rows, 1);
}

absl::StatusOr<std::vector<std::string>> OrganisationsOffering(
    Transaction& tx, const std::vector<std::string>& service_codes) {
  if (service_codes.empty()) return std::vector<std::string>();
  std::vector<Value> params(service_codes.begin(), service_codes.end());
  ASSIGN_OR_RETURN(
      auto rows, tx.Query(absl::StrCat("SELECT DISTINCT o.organisation_id FROM offerings o JOIN "
                                       "organisations g ON g.id = o.organisation_id AND "
                                       "g.retired = 0 WHERE o.retired = 0 AND o.service_code IN (",
                                       Placeholders(service_codes.size()), ")"),
                          params));
  std::vector<std::string> ids;
  for (const Row& row : rows) ids.push_back(row.GetString(0));
  return ids;
}

// --- Elders ------------------------------------------------------------------------------------

namespace {

constexpr char kSelectElder[] =
    "SELECT id, region_code, region_path, living_situation, erased, stub, sealed, "
    "id_number_index, create_time_us, status FROM elders ";

absl::StatusOr<ElderRow> ElderFromRow(const Row& row) {
  ElderRow elder;
  elder.id = row.GetString(0);
  elder.region_code = row.GetString(1);
  elder.region_path = row.GetString(2);
  elder.living_situation = static_cast<int>(row.GetInt(3));
  elder.erased = row.GetInt(4) != 0;
  ASSIGN_OR_RETURN(elder.stub, storage::ParseProtoColumn<v1::Elder>(row, 5));
  elder.sealed_personal_data = row.GetString(6);
  elder.id_number_index = row.GetString(7);
  elder.create_time = absl::FromUnixMicros(row.GetInt(8));
  elder.status = static_cast<int>(row.GetInt(9));
  StampEtag(elder.stub);
  return elder;
}

absl::StatusOr<std::optional<ElderRow>> FirstElder(const std::vector<Row>& rows) {
  if (rows.empty()) return std::optional<ElderRow>();
  ASSIGN_OR_RETURN(ElderRow row, ElderFromRow(rows[0]));
  return std::optional<ElderRow>(std::move(row));
}

}  // namespace

absl::Status InsertElder(Transaction& tx, ElderRow& row) {
  Revise(row.stub);
  return Duplicate(
      tx.Exec("INSERT INTO elders (id, region_code, region_path, living_situation, erased, stub, "
              "sealed, id_number_index, create_time_us, status) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
              {row.id, row.region_code, row.region_path, static_cast<int64_t>(row.living_situation),
               static_cast<int64_t>(row.erased), row.stub.SerializeAsString(),
               row.sealed_personal_data, NullIfEmpty(row.id_number_index),
               absl::ToUnixMicros(row.create_time), static_cast<int64_t>(row.status)})
          .status(),
      "elder.id_number: an elder with this ID number is already registered");
}

absl::Status UpdateElderRow(Transaction& tx, ElderRow& row) {
  Revise(row.stub);
  absl::StatusOr<int64_t> updated = tx.Exec(
      "UPDATE elders SET region_code = ?, region_path = ?, living_situation = ?, "
      "erased = ?, stub = ?, sealed = ?, id_number_index = ?, status = ? WHERE id = ?",
      {row.region_code, row.region_path, static_cast<int64_t>(row.living_situation),
       static_cast<int64_t>(row.erased), row.stub.SerializeAsString(), row.sealed_personal_data,
       NullIfEmpty(row.id_number_index), static_cast<int64_t>(row.status), row.id});
  RETURN_IF_ERROR(Duplicate(updated.status(),
                            "elder.id_number: an elder with this ID number is already registered"));
  if (*updated != 1) return absl::NotFoundError(absl::StrCat("elders/", row.id, " not found"));
  return absl::OkStatus();
}

absl::StatusOr<std::optional<ElderRow>> FindElder(Transaction& tx, const std::string& id) {
  ASSIGN_OR_RETURN(auto rows, tx.Query(std::string(kSelectElder) + "WHERE id = ?", {id}));
  return FirstElder(rows);
}

absl::StatusOr<std::optional<std::string>> FindElderIdByIdNumberIndex(Transaction& tx,
                                                                      const std::string& index) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT id FROM elders WHERE id_number_index = ?", {index}));
  if (rows.empty()) return std::optional<std::string>();
  return std::optional<std::string>(rows[0].GetString(0));
}

absl::StatusOr<std::optional<ElderRow>> FindElderForUpdate(Transaction& tx,
                                                           storage::Dialect dialect,
                                                           const std::string& id) {
  ASSIGN_OR_RETURN(auto rows,
                   tx.Query(absl::StrCat(kSelectElder, "WHERE id = ?", ForUpdate(dialect)), {id}));
  return FirstElder(rows);
}

absl::StatusOr<std::vector<ElderRow>> QueryElders(Transaction& tx, const std::string& region_path,
                                                  int living_situation, bool include_retired,
                                                  const std::string& after_id, int limit) {
  std::string sql = std::string(kSelectElder) + "WHERE id > ? ";
  std::vector<Value> params = {after_id};
  if (!region_path.empty()) {
    sql += "AND region_path LIKE ? ";
    params.push_back(region_path + "%");
  }
  if (living_situation != 0) {
    sql += "AND living_situation = ? ";
    params.push_back(static_cast<int64_t>(living_situation));
  }
  if (!include_retired) {
    sql += "AND status <= ? ";
    params.push_back(static_cast<int64_t>(v1::ELDER_STATUS_ACTIVE));
  }
  sql += "ORDER BY id LIMIT ?";
  params.push_back(static_cast<int64_t>(limit));
  ASSIGN_OR_RETURN(auto rows, tx.Query(sql, params));
  std::vector<ElderRow> elders;
  for (const Row& row : rows) {
    ASSIGN_OR_RETURN(ElderRow elder, ElderFromRow(row));
    elders.push_back(std::move(elder));
  }
  return elders;
}

// --- Workers -----------------------------------------------------------------------------------

namespace {

constexpr char kSelectWorker[] =
    "SELECT id, organisation_id, data, phone_sealed, phone_index FROM workers ";

absl::StatusOr<std::optional<WorkerRow>> FirstWorker(const std::vector<Row>& rows) {
  if (rows.empty()) return std::optional<WorkerRow>();
  WorkerRow worker;
  worker.id = rows[0].GetString(0);
  worker.organisation_id = rows[0].GetString(1);
  ASSIGN_OR_RETURN(worker.worker, storage::ParseProtoColumn<v1::Worker>(rows[0], 2));
  worker.sealed_phone = rows[0].GetString(3);
  worker.phone_index = rows[0].GetString(4);
  StampEtag(worker.worker);
  return std::optional<WorkerRow>(std::move(worker));
}

constexpr char kPhoneTaken[] =
    "worker.phone: another worker of the organisation is registered with this phone";

}  // namespace

absl::Status InsertWorker(Transaction& tx, WorkerRow& row) {
  Revise(row.worker);
  return Duplicate(tx.Exec("INSERT INTO workers (id, organisation_id, data, phone_sealed, "
                           "phone_index) VALUES (?, ?, ?, ?, ?)",
                           {row.id, row.organisation_id, row.worker.SerializeAsString(),
                            NullIfEmpty(row.sealed_phone), NullIfEmpty(row.phone_index)})
                       .status(),
                   kPhoneTaken);
}

absl::StatusOr<std::optional<v1::Worker>> FindWorker(Transaction& tx, const std::string& id) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT data FROM workers WHERE id = ?", {id}));
  return ParseFirst<v1::Worker>(rows);
}

absl::StatusOr<std::optional<WorkerRow>> FindWorkerForUpdate(Transaction& tx,
                                                             storage::Dialect dialect,
                                                             const std::string& id) {
  ASSIGN_OR_RETURN(auto rows,
                   tx.Query(absl::StrCat(kSelectWorker, "WHERE id = ?", ForUpdate(dialect)), {id}));
  return FirstWorker(rows);
}

absl::Status UpdateWorkerRow(Transaction& tx, WorkerRow& row) {
  Revise(row.worker);
  absl::StatusOr<int64_t> updated =
      tx.Exec("UPDATE workers SET data = ?, phone_sealed = ?, phone_index = ? WHERE id = ?",
              {row.worker.SerializeAsString(), NullIfEmpty(row.sealed_phone),
               NullIfEmpty(row.phone_index), row.id});
  RETURN_IF_ERROR(Duplicate(updated.status(), kPhoneTaken));
  if (*updated != 1) return absl::NotFoundError(absl::StrCat("workers/", row.id, " not found"));
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> FindWorkerIdByPhoneIndex(
    Transaction& tx, const std::string& organisation_id, const std::string& phone_index) {
  ASSIGN_OR_RETURN(auto rows,
                   tx.Query("SELECT id FROM workers WHERE organisation_id = ? AND phone_index = ?",
                            {organisation_id, phone_index}));
  if (rows.empty()) return std::optional<std::string>();
  return std::optional<std::string>(rows[0].GetString(0));
}

absl::StatusOr<std::vector<v1::Worker>> QueryWorkers(Transaction& tx,
                                                     const std::string& organisation_id,
                                                     const std::string& after_id, int limit) {
  const int64_t limit64 = limit;
  absl::StatusOr<std::vector<Row>> rows =
      organisation_id.empty()
          ? tx.Query("SELECT data FROM workers WHERE id > ? ORDER BY id LIMIT ?",
                     {after_id, limit64})
          : tx.Query(
                "SELECT data FROM workers WHERE organisation_id = ? AND id > ? ORDER BY id "
                "LIMIT ?",
                {organisation_id, after_id, limit64});
  RETURN_IF_ERROR(rows.status());
  return ParseRecords<v1::Worker>(*rows, 0);
}

}  // namespace linli::registry
