// The territorial hierarchy (块) as plain domain rules: no gRPC, no SQL.
//
// 市 municipality > 区 district > 街道/镇 street > 居委会/村委会 committee. A region's level must
// be exactly one below its parent's; only a municipality stands without a parent. A region's code
// extends its parent's code (GB/T 2260 and the statistical division codes):
//
//   市 310000        6 digits ending in 0000; its children extend its first 2 digits ("31")
//   区 310101        the municipality's 2 digits and 4 more
//   街道/镇 310101020  the district's 6 digits and 3 more
//   居委会 310101020001  the street's 9 digits and 3 more
//
// The code is a label, not the tree: who lies under whom is what the parent links record (the
// materialised `path`), and scope is decided on that path, never on code prefixes (codes created
// before the rule was enforced may not extend their parent's).
#ifndef LINLI_SERVICES_REGISTRY_REGION_H_
#define LINLI_SERVICES_REGISTRY_REGION_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/errors.h"
#include "common/text.h"

namespace linli::registry {

enum class RegionLevel { kMunicipality = 1, kDistrict = 2, kStreet = 3, kCommittee = 4 };

struct Region {
  std::string code;          // "310101"
  std::string display_name;  // "黄浦区"
  RegionLevel level = RegionLevel::kMunicipality;
  std::string parent_code;  // "" for a municipality
  absl::Time create_time;
  // Materialised path of codes from the root, "310000/310101/310101020/": a subtree is every
  // row whose path starts with the region path.
  std::string path;
};

// "regions/310101" -> "310101". INVALID_ARGUMENT naming `field` when malformed.
absl::StatusOr<std::string> ParseRegionName(absl::string_view name, absl::string_view field);
std::string RegionName(absl::string_view code);

// The level from its wire number; nullopt for 0 (unspecified) or unknown values.
std::optional<RegionLevel> RegionLevelFromNumber(int number);
absl::string_view RegionLevelLabel(RegionLevel level);  // "区", "街道/镇", …

// Checks the fields of a region to be created (code format, name, level present); adds
// violations under `prefix` (e.g. "region.").
void ValidateNewRegionFields(absl::string_view code, absl::string_view display_name,
                             std::optional<RegionLevel> level, FieldViolations& violations,
                             absl::string_view prefix);

// Checks that `level` nests directly under `parent_level` (nullopt: no parent).
absl::Status CheckNesting(RegionLevel level, std::optional<RegionLevel> parent_level,
                          absl::string_view parent_field);

// The number of digits of a code at `level`: 6 (市, 区), 9 (街道/镇), 12 (居委会/村委会).
size_t RegionCodeLength(RegionLevel level);

// Checks that `code`, of a region of `level`, extends `parent_code` (its parent's code; "" for a
// municipality) by the digits of its level, not all zeros (a municipality: 6 digits ending in
// 0000). Call it once CheckNesting passed (the parent is of the level right above). A violation
// is INVALID_ARGUMENT naming `code_field` with the reason and an example of a good code.
absl::Status CheckCodeExtendsParent(absl::string_view code, RegionLevel level,
                                    absl::string_view parent_code, absl::string_view code_field);

// The codes of the regions on `path` (a Region::path, "310000/310101/310101020/"), root first,
// the region's own code last. Empty when the path is malformed.
std::vector<std::string> PathCodes(absl::string_view path);

}  // namespace linli::registry

#endif  // LINLI_SERVICES_REGISTRY_REGION_H_
