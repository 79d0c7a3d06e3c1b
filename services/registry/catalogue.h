// Domain rules of the registry's catalogue (lines, organisations, relations, services,
// offerings, workers): names, ids, and the administrative-cycle check. No gRPC, no SQL.
#ifndef LINLI_SERVICES_REGISTRY_CATALOGUE_H_
#define LINLI_SERVICES_REGISTRY_CATALOGUE_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/errors.h"
#include "common/text.h"

namespace linli::registry {

// Checks a display name: valid UTF-8, not blank, at most max_chars characters.
void ValidateDisplayName(absl::string_view text, size_t max_chars, const std::string& field,
                         FieldViolations& violations);

// Whether adding "source is administratively under target" closes a cycle. `parents_of` returns
// the administrative parents of a node; the walk is bounded (a corrupt graph cannot loop forever).
absl::StatusOr<bool> WouldCloseCycle(
    const std::string& source, const std::string& target,
    const std::function<absl::StatusOr<std::vector<std::string>>(const std::string&)>& parents_of);

}  // namespace linli::registry

#endif  // LINLI_SERVICES_REGISTRY_CATALOGUE_H_
