#include "services/registry/region.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "services/registry/catalogue.h"

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

bool AllDigits(absl::string_view text) {
  for (char c : text) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

bool AllZeros(absl::string_view text) {
  return text.find_first_not_of('0') == absl::string_view::npos;
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
  ValidateDisplayName(display_name, kMaxDisplayNameLength, absl::StrCat(prefix, "display_name"),
                      violations);
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

size_t RegionCodeLength(RegionLevel level) {
  switch (level) {
    case RegionLevel::kMunicipality:
    case RegionLevel::kDistrict:
      return 6;
    case RegionLevel::kStreet:
      return 9;
    case RegionLevel::kCommittee:
      return 12;
  }
  return 0;
}

absl::Status CheckCodeExtendsParent(absl::string_view code, RegionLevel level,
                                    absl::string_view parent_code, absl::string_view code_field) {
  const size_t length = RegionCodeLength(level);
  const absl::string_view shown = code.substr(0, 16);
  if (level == RegionLevel::kMunicipality) {
    if (code.size() == length && AllDigits(code) && absl::EndsWith(code, "0000") &&
        !AllZeros(code)) {
      return absl::OkStatus();
    }
    return InvalidField(
        std::string(code_field),
        absl::StrCat("a ", RegionLevelLabel(level),
                     " code has 6 digits ending in 0000, e.g. \"310000\"; got \"", shown, "\""));
  }
  // A municipality's children extend its province digits ("31" of "310000"); every other
  // region's children extend its whole code.
  const absl::string_view stem =
      level == RegionLevel::kDistrict ? parent_code.substr(0, 2) : parent_code;
  if (code.size() == length && AllDigits(code) && stem.size() < length &&
      absl::StartsWith(code, stem) && !AllZeros(code.substr(stem.size()))) {
    return absl::OkStatus();
  }
  std::string rule =
      level == RegionLevel::kDistrict
          ? absl::StrCat("the first ", stem.size(), " digits of its parent's code ", parent_code)
          : absl::StrCat("its parent's code ", parent_code);
  std::string example;
  if (stem.size() < length) {
    example = absl::StrCat(", e.g. \"", stem, std::string(length - stem.size() - 1, '0'), "1\"");
  }
  return InvalidField(std::string(code_field),
                      absl::StrCat("a ", RegionLevelLabel(level), " code has ", length, " digits: ",
                                   rule, " and ", length > stem.size() ? length - stem.size() : 0,
                                   " more, not all zeros", example, "; got \"", shown, "\""));
}

std::vector<std::string> PathCodes(absl::string_view path) {
  if (!absl::ConsumeSuffix(&path, "/") || path.empty()) return {};
  std::vector<std::string> codes = absl::StrSplit(path, '/');
  for (const std::string& code : codes) {
    if (!IsRegionCode(code)) return {};
  }
  return codes;
}

}  // namespace linli::registry
