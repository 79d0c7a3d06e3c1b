#include "services/registry/registry_store.h"

#include "common/errors.h"
#include "common/idempotency.h"
#include "common/status_macros.h"

namespace linli::registry {
namespace {

constexpr char kSelectRegion[] =
    "SELECT code, display_name, level, parent_code, create_time_us FROM regions ";

Region RegionFromRow(const storage::Row& row) {
  Region region;
  region.code = row.GetString(0);
  region.display_name = row.GetString(1);
  region.level = static_cast<RegionLevel>(row.GetInt(2));
  region.parent_code = row.GetString(3);
  region.create_time = absl::FromUnixMicros(row.GetInt(4));
  return region;
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
  create_time_us INTEGER NOT NULL
);
CREATE INDEX regions_by_parent ON regions (parent_code, code))sql",
       R"sql(CREATE TABLE regions (
  code VARCHAR(12) NOT NULL PRIMARY KEY,
  display_name VARCHAR(255) NOT NULL,
  level INT NOT NULL,
  parent_code VARCHAR(12) NOT NULL,
  create_time_us BIGINT NOT NULL,
  INDEX regions_by_parent (parent_code, code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci)sql"},
      IdempotencyMigration(2),
  };
  return *migrations;
}

absl::Status InsertRegion(storage::Transaction& tx, const Region& region) {
  absl::StatusOr<int64_t> inserted = tx.Exec(
      "INSERT INTO regions (code, display_name, level, parent_code, create_time_us) "
      "VALUES (?, ?, ?, ?, ?)",
      {region.code, region.display_name, static_cast<int64_t>(region.level), region.parent_code,
       absl::ToUnixMicros(region.create_time)});
  if (absl::IsAlreadyExists(inserted.status())) {
    return WithReason(absl::AlreadyExistsError("region.code: a region with code " + region.code +
                                               " already exists"),
                      common::v1::ERROR_REASON_ALREADY_EXISTS);
  }
  return inserted.status();
}

absl::StatusOr<std::optional<Region>> FindRegion(storage::Transaction& tx,
                                                 const std::string& code) {
  ASSIGN_OR_RETURN(auto rows, tx.Query(std::string(kSelectRegion) + "WHERE code = ?", {code}));
  if (rows.empty()) return std::optional<Region>();
  return std::optional<Region>(RegionFromRow(rows[0]));
}

absl::StatusOr<std::vector<Region>> QueryRegions(storage::Transaction& tx,
                                                 const std::string& parent_code,
                                                 const std::string& after_code, int limit) {
  const int64_t limit64 = limit;
  absl::StatusOr<std::vector<storage::Row>> rows =
      parent_code.empty()
          ? tx.Query(std::string(kSelectRegion) + "WHERE code > ? ORDER BY code LIMIT ?",
                     {after_code, limit64})
          : tx.Query(std::string(kSelectRegion) +
                         "WHERE parent_code = ? AND code > ? ORDER BY code LIMIT ?",
                     {parent_code, after_code, limit64});
  RETURN_IF_ERROR(rows.status());
  std::vector<Region> regions;
  regions.reserve(rows->size());
  for (const storage::Row& row : *rows) regions.push_back(RegionFromRow(row));
  return regions;
}

}  // namespace linli::registry
