// Domain rules about elders and their personal data: what a valid elder is, which consents
// storing personal data needs, what is sealed and what is shown masked, and what erasure keeps.
// No gRPC, no SQL, no keys: sealing and the blind index are the caller's (common/pii).
#ifndef LINLI_SERVICES_REGISTRY_ELDER_H_
#define LINLI_SERVICES_REGISTRY_ELDER_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/errors.h"
#include "linli/registry/v1/registry.pb.h"

namespace linli::registry {

// The personal fields a full read discloses, as the audit log names them.
inline constexpr char kPersonalFields[] =
    "display_name,address,location,id_number,phone,care_grade,contacts";

// Checks an elder to be registered; violations under "elder.". `today` is the Shanghai date of
// the service's clock: birth dates (in ID numbers) after it are implausible.
void ValidateElder(const v1::Elder& elder, absl::CivilDay today, FieldViolations& violations);

// Whether the latest consent recorded for `purpose` grants it (the last decision wins).
bool ConsentGranted(const v1::Elder& elder, v1::ConsentPurpose purpose);

// FAILED_PRECONDITION unless the elder's consents cover the personal data given: identity data
// (ID number, phone, address, contacts' phones) needs CONSENT_PURPOSE_PERSONAL_DATA, health data
// (care grade, assessment date) CONSENT_PURPOSE_HEALTH_DATA.
absl::Status CheckConsent(const v1::Elder& elder);

// Stamps every consent with `now` and `actor` (the caller): who recorded a decision is set by the
// server, never by the client.
void StampConsents(v1::Elder& elder, absl::Time now, absl::string_view actor);

// The fields UpdateElder may change. Consents change through RecordConsent, the status through
// RetireElder, so that each is recorded as what it is.
inline const std::vector<std::string> kElderUpdatePaths = {
    "display_name",     "region",     "address",         "location", "id_number", "phone",
    "living_situation", "care_grade", "assessment_date", "needs",    "contacts"};

// Records a consent decision on the full elder (personal part included): it replaces the earlier
// decision for `purpose`, stamped with `now` and `actor`. A withdrawal removes from `elder` the
// personal data the purpose covers (CheckConsent's identity data for
// CONSENT_PURPOSE_PERSONAL_DATA, health data for CONSENT_PURPOSE_HEALTH_DATA); returns the names
// of the fields it emptied.
std::vector<std::string> RecordConsentDecision(v1::Elder& elder, v1::ConsentPurpose purpose,
                                               bool granted, absl::Time now,
                                               absl::string_view actor);

// Whether the elder is still served: not moved away, not deceased, not erased.
bool ElderServed(const v1::Elder& elder);

// Checks a RetireElder request: a status that retires (moved away, deceased), a date "YYYY-MM-DD"
// that is not after `today`, a reason; violations by request field.
void ValidateRetirement(const v1::RetireElderRequest& request, absl::CivilDay today,
                        FieldViolations& violations);

// The personal part of `elder`: what is sealed (name, address, location, ID number, phone, care
// grade, assessment date, contacts).
v1::Elder PersonalPart(const v1::Elder& elder);

// `elder` with every personal field masked or removed: what is stored in the clear and shown by
// default. The location is coarsened, not removed: enough to rank providers by distance.
v1::Elder MaskedStub(const v1::Elder& elder);

// What remains of an erased elder: only what history needs to stay consistent (name, region,
// creation time), under the display name 已注销.
v1::Elder ErasedStub(const v1::Elder& stub);

// INVALID_ARGUMENT on "reason" unless it states why personal data is read or erased, in 4 to 256
// characters.
absl::Status ValidateReason(absl::string_view reason);

}  // namespace linli::registry

#endif  // LINLI_SERVICES_REGISTRY_ELDER_H_
