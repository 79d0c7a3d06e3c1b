#include "services/registry/catalogue.h"

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/status_macros.h"
#include "services/registry/region.h"

namespace linli::registry {

void ValidateDisplayName(absl::string_view text, size_t max_chars, const std::string& field,
                         FieldViolations& violations) {
  std::optional<size_t> length = Utf8Length(text);
  if (!length.has_value()) {
    violations.Add(field, "must be valid UTF-8");
  } else if (absl::StripAsciiWhitespace(text).empty()) {
    violations.Add(field, "must not be empty");
  } else if (*length > max_chars) {
    violations.Add(field, absl::StrCat("must be at most ", max_chars, " characters"));
  }
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
