// Domain rules of the registry's catalogue (lines, organisations, relations, services,
// offerings, workers): names, ids, formats, the service taxonomy, what an offering update may
// change, and the administrative-cycle check. No gRPC, no SQL.
#ifndef LINLI_SERVICES_REGISTRY_CATALOGUE_H_
#define LINLI_SERVICES_REGISTRY_CATALOGUE_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/errors.h"
#include "common/text.h"
#include "google/protobuf/field_mask.pb.h"
#include "linli/registry/v1/registry.pb.h"

namespace linli::registry {

// Checks a display name: valid UTF-8, not blank, at most max_chars characters.
void ValidateDisplayName(absl::string_view text, size_t max_chars, const std::string& field,
                         FieldViolations& violations);

// "#RRGGBB" (hex digits of either case).
bool IsColor(absl::string_view color);

// Checks an opening schedule or availability: an RFC 5545 rule (a bad rule is reported with its
// position), a local start time and a duration of 1 to 1440 minutes; violations under `field`.
void ValidateSchedule(const v1::Schedule& schedule, const std::string& field,
                      FieldViolations& violations);

// Checks each skill is a slug of at most 32 characters; violations as "<field>[i]".
void ValidateSkills(const google::protobuf::RepeatedPtrField<std::string>& skills,
                    const std::string& field, FieldViolations& violations);

// Checks what an offering states about itself (capacities, schedule, skills, display name);
// violations under "offering.". The references (organisation, service, coverage) are the
// caller's to resolve.
void ValidateOfferingTerms(const v1::Offering& offering, FieldViolations& violations);

// The fields UpdateOffering may change (organisation, service and coverage are fixed once
// created).
inline const std::vector<std::string> kOfferingUpdatePaths = {
    "capacity_per_day", "capacity_per_week", "schedule", "display_name"};

// The paths of an UpdateOffering's mask (common/update_mask.h, kOfferingUpdatePaths), with the
// new values of the fields named checked; violations under "update_mask" and "offering.". The
// caller applies them with ApplyUpdateMask (a schedule named but absent clears it).
std::vector<std::string> OfferingUpdatePaths(const v1::Offering& update,
                                             const google::protobuf::FieldMask& mask,
                                             FieldViolations& violations);

// A worker registered without a status is active.
void ApplyWorkerDefaults(v1::Worker& worker);

// What an organisation states about itself: display name, kind, sector, location; violations
// under "organisation.". Region, lines and parent are references, the caller's to resolve.
void ValidateOrganisationTerms(const v1::Organisation& organisation, FieldViolations& violations);

// What a service type states about itself: display name, sector; violations under
// "service_type.".
void ValidateServiceTypeTerms(const v1::ServiceType& type, FieldViolations& violations);

// What a worker states about themself: display name, skills, availability, base location,
// status; violations under "worker.".
void ValidateWorkerTerms(const v1::Worker& worker, FieldViolations& violations);

// The fields UpdateOrganisation and UpdateWorker may change (region, parent, organisation are
// fixed: a move is a new record).
inline const std::vector<std::string> kOrganisationUpdatePaths = {"display_name", "kind", "sector",
                                                                  "lines", "location"};
inline const std::vector<std::string> kServiceTypeUpdatePaths = {"display_name", "sector"};
inline const std::vector<std::string> kWorkerUpdatePaths = {
    "display_name", "volunteer", "skills", "availability", "base_location", "status"};

// Codes of `code` and every service type below it in `taxonomy`: an offering of 送餐上门 is an
// offering of 助餐. The walk is bounded (a corrupt taxonomy cannot grow it forever).
std::vector<std::string> ServiceTypeWithDescendants(const std::string& code,
                                                    const std::vector<v1::ServiceType>& taxonomy);

// Whether adding "source is administratively under target" closes a cycle. `parents_of` returns
// the administrative parents of a node; the walk is bounded (a corrupt graph cannot loop forever).
absl::StatusOr<bool> WouldCloseCycle(
    const std::string& source, const std::string& target,
    const std::function<absl::StatusOr<std::vector<std::string>>(const std::string&)>& parents_of);

}  // namespace linli::registry

#endif  // LINLI_SERVICES_REGISTRY_CATALOGUE_H_
