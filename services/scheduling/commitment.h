// Care commitments (承诺) as domain rules: defaults from the long-term-care grade, validation, and
// expansion into visit occurrences. Pure C++ over the proto messages; no gRPC, no SQL.
//
//   ApplyCareGradeDefaults(commitment);            // grade 4 -> MO-FR, 60 minutes
//   FieldViolations v; ValidateCommitment(commitment, v);
//   for (const Occurrence& o : Occurrences(commitment, from, to, 1000)) ...
#ifndef LINLI_SERVICES_SCHEDULING_COMMITMENT_H_
#define LINLI_SERVICES_SCHEDULING_COMMITMENT_H_

#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/errors.h"
#include "linli/scheduling/v1/scheduling.pb.h"

namespace linli::scheduling {

// Shanghai long-term-care home-care entitlement: grades 2-3 three visits a week, 4 five, 5-6
// seven, one hour each. Fills recurrence (from valid_from at 09:00, two-hour window) and duration
// when they are missing and care_grade is 2-6; otherwise leaves the commitment unchanged.
void ApplyCareGradeDefaults(v1::Commitment& commitment);

// Adds a violation per invalid field under "commitment.".
void ValidateCommitment(const v1::Commitment& commitment, FieldViolations& violations);

// A valid commitment's natural key: its elder, service type, owner organisation and first day
// (valid_from as a day, however written). Two promises with one key are the same promise.
std::string CommitmentKey(const v1::Commitment& commitment);

// One occurrence of a commitment.
struct Occurrence {
  std::string key;  // local "YYYY-MM-DDTHH:MM:SS": one visit per commitment and key
  absl::Time window_start;
  absl::Time window_end;
};

// Occurrences whose window opens on days [from, to), within the commitment's validity, in order,
// at most `max`. The commitment must be valid.
std::vector<Occurrence> Occurrences(const v1::Commitment& commitment, absl::CivilDay from,
                                    absl::CivilDay to, size_t max);

// Local "YYYY-MM-DDTHH:MM:SS" of a civil second.
std::string LocalKey(absl::CivilSecond t);

}  // namespace linli::scheduling

#endif  // LINLI_SERVICES_SCHEDULING_COMMITMENT_H_
