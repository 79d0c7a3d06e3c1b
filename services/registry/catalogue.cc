#include "services/registry/catalogue.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "common/geo.h"
#include "common/pii/masking.h"
#include "common/recurrence/rrule.h"
#include "common/status_macros.h"
#include "common/update_mask.h"
#include "services/registry/region.h"

namespace linli::registry {

namespace {

// In valid UTF-8: a C0 control (NUL, BEL, tab, line breaks...), DEL or a C1 control (U+0080 to
// U+009F, encoded 0xC2 0x80-0x9F). A name is shown in one line of a table, a CSV cell, a notice.
// `line_breaks`: "\n" and "\r" are not counted.
bool HasControlCharacter(absl::string_view text, bool line_breaks) {
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (line_breaks && (c == '\n' || c == '\r')) continue;
    if (c < 0x20 || c == 0x7F) return true;
    if (c == 0xC2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) < 0xA0) {
      return true;
    }
  }
  return false;
}

}  // namespace

void ValidateDisplayName(absl::string_view text, size_t max_chars, const std::string& field,
                         FieldViolations& violations, bool line_breaks) {
  std::optional<size_t> length = Utf8Length(text);
  if (!length.has_value()) {
    violations.Add(field, "must be valid UTF-8");
  } else if (HasControlCharacter(text, line_breaks)) {
    violations.Add(field, line_breaks
                              ? "must not contain control characters other than line breaks"
                              : "must be one line of text: no line breaks, tabs or other control "
                                "characters");
  } else if (absl::StripAsciiWhitespace(text).empty()) {
    violations.Add(field, "must not be empty");
  } else if (*length > max_chars) {
    violations.Add(field, absl::StrCat("must be at most ", max_chars, " characters"));
  }
}

bool IsColor(absl::string_view color) {
  if (color.size() != 7 || color[0] != '#') return false;
  for (char c : color.substr(1)) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

void ValidateSchedule(const v1::Schedule& schedule, const std::string& field,
                      FieldViolations& violations) {
  absl::StatusOr<recurrence::RecurrenceRule> rule = recurrence::ParseRule(schedule.rrule());
  if (!rule.ok()) violations.Add(field + ".rrule", std::string(rule.status().message()));
  absl::CivilSecond start;
  if (!absl::ParseCivilTime(schedule.dtstart(), &start)) {
    violations.Add(field + ".dtstart", "must be local time \"YYYY-MM-DDTHH:MM:SS\"");
  }
  if (schedule.duration_minutes() < 1 || schedule.duration_minutes() > 1440) {
    violations.Add(field + ".duration_minutes", "must be between 1 and 1440");
  }
}

void ValidateSkills(const google::protobuf::RepeatedPtrField<std::string>& skills,
                    const std::string& field, FieldViolations& violations) {
  for (int i = 0; i < skills.size(); ++i) {
    if (!IsSlug(skills[i], 32)) {
      violations.Add(absl::StrCat(field, "[", i, "]"),
                     "must be 1-32 lowercase letters, digits or '-'");
    }
  }
}

void ValidateOfferingTerms(const v1::Offering& offering, FieldViolations& violations) {
  if (offering.capacity_per_day() < 0) {
    violations.Add("offering.capacity_per_day", "must not be negative");
  }
  if (offering.capacity_per_week() < 0) {
    violations.Add("offering.capacity_per_week", "must not be negative");
  }
  if (offering.has_schedule())
    ValidateSchedule(offering.schedule(), "offering.schedule", violations);
  ValidateSkills(offering.required_skills(), "offering.required_skills", violations);
  if (!offering.display_name().empty()) {
    ValidateDisplayName(offering.display_name(), 128, "offering.display_name", violations);
  }
}

std::vector<std::string> OfferingUpdatePaths(const v1::Offering& update,
                                             const google::protobuf::FieldMask& mask,
                                             FieldViolations& violations) {
  std::vector<std::string> paths = UpdateMaskPaths(mask, kOfferingUpdatePaths, violations);
  for (const std::string& path : paths) {
    if (path == "capacity_per_day" && update.capacity_per_day() < 0) {
      violations.Add("offering.capacity_per_day", "must not be negative");
    } else if (path == "capacity_per_week" && update.capacity_per_week() < 0) {
      violations.Add("offering.capacity_per_week", "must not be negative");
    } else if (path == "schedule" && update.has_schedule()) {
      ValidateSchedule(update.schedule(), "offering.schedule", violations);
    } else if (path == "display_name" && !update.display_name().empty()) {
      ValidateDisplayName(update.display_name(), 128, "offering.display_name", violations);
    }
  }
  return paths;
}

void ApplyWorkerDefaults(v1::Worker& worker) {
  if (worker.status() == v1::WORKER_STATUS_UNSPECIFIED) worker.set_status(v1::WORKER_STATUS_ACTIVE);
}

namespace {

// The characters of a unified social credit code, each standing for its position.
constexpr absl::string_view kCreditCodeAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY";

}  // namespace

std::optional<char> CreditCodeCheckCharacter(absl::string_view first17) {
  if (first17.size() != 17) return std::nullopt;
  int sum = 0;
  int weight = 1;
  for (char c : first17) {
    const size_t value = kCreditCodeAlphabet.find(c);
    if (value == absl::string_view::npos) return std::nullopt;
    sum += static_cast<int>(value) * weight;
    weight = weight * 3 % 31;
  }
  return kCreditCodeAlphabet[(31 - sum % 31) % 31];
}

void ValidateCreditCode(absl::string_view code, const std::string& field, FieldViolations& v) {
  if (code.size() != 18 || code.find_first_not_of(kCreditCodeAlphabet) != absl::string_view::npos) {
    v.Add(field, "must be 18 digits and capital letters (without I, O, S, V, Z)");
    return;
  }
  if (CreditCodeCheckCharacter(code.substr(0, 17)) != code[17]) {
    v.Add(field, "does not end in its check character (GB 32100-2015): a character is mistyped");
  }
}

void ValidateOrganisationTerms(const v1::Organisation& in, FieldViolations& v) {
  ValidateDisplayName(in.display_name(), 128, "organisation.display_name", v);
  if (in.kind() == v1::ORGANISATION_KIND_UNSPECIFIED || !v1::OrganisationKind_IsValid(in.kind())) {
    v.Add("organisation.kind", "must be one of the ORGANISATION_KIND_ values");
  }
  if (in.sector() == v1::SECTOR_UNSPECIFIED || !v1::Sector_IsValid(in.sector())) {
    v.Add("organisation.sector", "must be SECTOR_PUBLIC, SECTOR_COMMERCIAL or SECTOR_SOCIAL");
  }
  if (in.has_location()) ValidateLatLng(in.location(), "organisation.location", v);
  if (!in.credit_code().empty()) {
    ValidateCreditCode(in.credit_code(), "organisation.credit_code", v);
  }
}

void ValidateServiceTypeTerms(const v1::ServiceType& in, FieldViolations& v) {
  ValidateDisplayName(in.display_name(), 64, "service_type.display_name", v);
  if (!v1::Sector_IsValid(in.sector())) v.Add("service_type.sector", "is not a known sector");
}

void ValidateWorkerTerms(const v1::Worker& in, FieldViolations& v) {
  ValidateDisplayName(in.display_name(), 64, "worker.display_name", v);
  ValidateSkills(in.skills(), "worker.skills", v);
  if (in.has_availability()) ValidateSchedule(in.availability(), "worker.availability", v);
  if (in.has_base_location()) ValidateLatLng(in.base_location(), "worker.base_location", v);
  if (!v1::WorkerStatus_IsValid(in.status())) v.Add("worker.status", "is not a known status");
  if (!in.phone().empty()) {
    if (absl::Status s = pii::ValidatePhone(in.phone()); !s.ok()) {
      v.Add("worker.phone", std::string(s.message()));
    }
  }
}

std::string WorkerPhoneKey(absl::string_view phone) {
  absl::StatusOr<std::string> normalized = pii::NormalizePhone(phone);
  if (phone.empty() || !normalized.ok()) return "";
  return "phone:" + *normalized;
}

v1::Worker MaskedWorker(const v1::Worker& worker) {
  v1::Worker masked = worker;
  masked.set_phone(pii::MaskPhone(worker.phone()));
  return masked;
}

std::vector<std::string> ServiceTypeWithDescendants(const std::string& code,
                                                    const std::vector<v1::ServiceType>& taxonomy) {
  std::multimap<std::string, std::string> children;
  for (const v1::ServiceType& t : taxonomy) {
    if (!t.parent().empty()) children.emplace(t.parent().substr(13), t.code());
  }
  std::vector<std::string> out = {code};
  for (size_t i = 0; i < out.size() && out.size() < 1000; ++i) {
    auto [begin, end] = children.equal_range(out[i]);
    for (auto it = begin; it != end; ++it) out.push_back(it->second);
  }
  return out;
}

absl::StatusOr<bool> WouldCloseCycle(
    const std::string& source, const std::string& target,
    const std::function<absl::StatusOr<std::vector<std::string>>(const std::string&)>& parents_of) {
  if (source == target) return true;
  // Walk up from the target: reaching the source means source is already above target.
  std::vector<std::string> frontier = {target};
  std::set<std::string> seen = {target};
  constexpr size_t kMaxVisited = 10000;
  while (!frontier.empty()) {
    std::string node = std::move(frontier.back());
    frontier.pop_back();
    ASSIGN_OR_RETURN(std::vector<std::string> parents, parents_of(node));
    for (std::string& parent : parents) {
      if (parent == source) return true;
      if (seen.insert(parent).second) {
        if (seen.size() > kMaxVisited) {
          return absl::FailedPreconditionError("administrative hierarchy is too deep to check");
        }
        frontier.push_back(std::move(parent));
      }
    }
  }
  return false;
}

}  // namespace linli::registry
