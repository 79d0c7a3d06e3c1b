// The registry's tables and queries. Portable SQL over storage::Transaction; the two backends
// differ only in the DDL of kRegistryMigrations.
#ifndef LINLI_SERVICES_REGISTRY_REGISTRY_STORE_H_
#define LINLI_SERVICES_REGISTRY_REGISTRY_STORE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/storage/database.h"
#include "services/registry/region.h"

namespace linli::registry {

// Schema versions of the registry, applied at start-up.
const std::vector<storage::Migration>& RegistryMigrations();

// Inserts a region. ALREADY_EXISTS (field region.code) when the code is taken.
absl::Status InsertRegion(storage::Transaction& tx, const Region& region);

absl::StatusOr<std::optional<Region>> FindRegion(storage::Transaction& tx, const std::string& code);

// Regions with code > after_code, ordered by code, at most `limit`. With a parent: only its
// direct children.
absl::StatusOr<std::vector<Region>> QueryRegions(storage::Transaction& tx,
                                                 const std::string& parent_code,
                                                 const std::string& after_code, int limit);

}  // namespace linli::registry

#endif  // LINLI_SERVICES_REGISTRY_REGISTRY_STORE_H_
