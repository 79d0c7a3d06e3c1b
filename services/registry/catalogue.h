// Domain rules of the registry's catalogue (lines, organisations, relations, services,
// offerings, workers): names, ids, formats, the service taxonomy, what an offering update may
// change, and the administrative-cycle check. No gRPC, no SQL.
#ifndef LINLI_SERVICES_REGISTRY_CATALOGUE_H_
#define LINLI_SERVICES_REGISTRY_CATALOGUE_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/errors.h"
#include "common/text.h"
#include "google/protobuf/field_mask.pb.h"
#include "linli/registry/v1/registry.pb.h"

namespace linli::registry {

// Checks a display name: valid UTF-8, not blank, at most max_chars characters, one line without
// control characters (with `line_breaks`, as for an address, it may span lines: "\n" and "\r"
// pass, other control characters do not).
void ValidateDisplayName(absl::string_view text, size_t max_chars, const std::string& field,
                         FieldViolations& violations, bool line_breaks = false);

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

// The check character GB 32100-2015 gives the first 17 characters of a unified social credit
// code (统一社会信用代码): each character's value is its position in
// "0123456789ABCDEFGHJKLMNPQRTUWXY", weighted by 3^i mod 31 (1, 3, 9, 27, 19, …, 28); the check
// value is 31 - (sum mod 31), where 31 stands for '0'. Nullopt unless `first17` is 17 characters
// of that alphabet.
std::optional<char> CreditCodeCheckCharacter(absl::string_view first17);

// Checks a unified social credit code: 18 characters of that alphabet (digits and capital
// letters without I, O, S, V, Z) whose last is the check character; violations under `field`.
void ValidateCreditCode(absl::string_view code, const std::string& field,
                        FieldViolations& violations);

// What an organisation states about itself: display name, kind, sector, location, credit code
// (when given); violations under "organisation.". Region, lines and parent are references, the
// caller's to resolve.
void ValidateOrganisationTerms(const v1::Organisation& organisation, FieldViolations& violations);

// What a service type states about itself: display name, sector; violations under
// "service_type.".
void ValidateServiceTypeTerms(const v1::ServiceType& type, FieldViolations& violations);

// What a worker states about themself: display name, skills, availability, base location,
// status, phone (when given, in the clear: the form an elder's phone takes); violations under
// "worker.".
void ValidateWorkerTerms(const v1::Worker& worker, FieldViolations& violations);

// The value a worker's phone is blind-indexed by (pii::FieldCipher::BlindIndex): "phone:" and
// the digits dialled within China (pii::NormalizePhone), so one phone written two ways is one
// key. "" for an empty phone or one that does not normalize.
std::string WorkerPhoneKey(absl::string_view phone);

// `worker` as stored in the clear and returned by every method: the phone masked
// ("138****5678"); the phone itself is sealed apart.
v1::Worker MaskedWorker(const v1::Worker& worker);

// The fields UpdateOrganisation and UpdateWorker may change (region, parent, organisation are
// fixed: a move is a new record).
inline const std::vector<std::string> kOrganisationUpdatePaths = {
    "display_name", "kind", "sector", "lines", "location", "credit_code"};
inline const std::vector<std::string> kServiceTypeUpdatePaths = {"display_name", "sector"};
inline const std::vector<std::string> kWorkerUpdatePaths = {
    "display_name", "volunteer", "skills", "availability", "base_location", "status", "phone"};

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
