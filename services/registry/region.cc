#include "services/registry/region.h"
#include "absl/strings/string_view.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace linli::registry {
namespace {

constexpr absl::string_view kRegionPrefix = "regions/";
constexpr size_t kMaxDisplayNameLength = 64;

bool IsRegionCode(absl::string_view code) {
  if (code.size() < 2 || code.size() > 12) return false;
  for (char c : code) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<std::string> ParseRegionName(absl::string_view name, absl::string_view field) {
  absl::string_view code = name;
  if (!absl::ConsumePrefix(&code, kRegionPrefix) || !IsRegionCode(code)) {
    return InvalidField(std::string(field),
                        absl::StrCat("must look like \"regions/310101\" (2-12 digits), got \"",
                                     name.substr(0, 64), "\""));
  }
  return std::string(code);
}

std::string RegionName(absl::string_view code) { return absl::StrCat(kRegionPrefix, code); }

std::optional<RegionLevel> RegionLevelFromNumber(int number) {
  if (number < 1 || number > 4) return std::nullopt;
  return static_cast<RegionLevel>(number);
}

absl::string_view RegionLevelLabel(RegionLevel level) {
  switch (level) {
    case RegionLevel::kMunicipality:
      return "市";
    case RegionLevel::kDistrict:
      return "区";
    case RegionLevel::kStreet:
      return "街道/镇";
    case RegionLevel::kCommittee:
      return "居委会/村委会";
  }
  return "?";
}

void ValidateNewRegionFields(absl::string_view code, absl::string_view display_name,
                             std::optional<RegionLevel> level, FieldViolations& violations,
                             absl::string_view prefix) {
  if (!IsRegionCode(code)) {
    violations.Add(absl::StrCat(prefix, "code"), "must be 2 to 12 ASCII digits, e.g. \"310101\"");
  }
  std::optional<size_t> length = Utf8Length(display_name);
  if (!length.has_value()) {
    violations.Add(absl::StrCat(prefix, "display_name"), "must be valid UTF-8");
  } else if (absl::StripAsciiWhitespace(display_name).empty()) {
    violations.Add(absl::StrCat(prefix, "display_name"), "must not be empty");
  } else if (*length > kMaxDisplayNameLength) {
    violations.Add(absl::StrCat(prefix, "display_name"),
                   absl::StrCat("must be at most ", kMaxDisplayNameLength, " characters"));
  }
  if (!level.has_value()) {
    violations.Add(absl::StrCat(prefix, "level"),
                   "must be one of REGION_LEVEL_MUNICIPALITY, _DISTRICT, _STREET, _COMMITTEE");
  }
}

absl::Status CheckNesting(RegionLevel level, std::optional<RegionLevel> parent_level,
                          absl::string_view parent_field) {
  if (level == RegionLevel::kMunicipality) {
    if (parent_level.has_value()) {
      return InvalidField(std::string(parent_field), "a municipality (市) has no parent");
    }
    return absl::OkStatus();
  }
  if (!parent_level.has_value()) {
    return InvalidField(std::string(parent_field),
                        absl::StrCat("a ", RegionLevelLabel(level), " needs a parent region"));
  }
  if (static_cast<int>(*parent_level) + 1 != static_cast<int>(level)) {
    RegionLevel expected = static_cast<RegionLevel>(static_cast<int>(level) - 1);
    return InvalidField(std::string(parent_field),
                        absl::StrCat("a ", RegionLevelLabel(level), " must sit directly under a ",
                                     RegionLevelLabel(expected), ", not under a ",
                                     RegionLevelLabel(*parent_level)));
  }
  return absl::OkStatus();
}

}  // namespace linli::registry
