// Who may answer for a visit, and when, pure C++ (no gRPC, no SQL).
//
// The author is the elder, a proxy among the elder's contacts ("elders/ID/contacts/N" with N
// marked proxy in the registry) or the worker who checked in. Only the elder's voice (elder or
// proxy) counts towards felt care; the worker's answer is recorded, not counted. Answers are
// only for completed visits, and only the elder's voice can say that nobody came.
#ifndef LINLI_SERVICES_FEEDBACK_FEEDBACK_ANSWER_H_
#define LINLI_SERVICES_FEEDBACK_FEEDBACK_ANSWER_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "linli/feedback/v1/feedback.pb.h"
#include "services/feedback/facts.h"
#include "services/feedback/perception.h"

namespace linli::feedback {

// True when `author` answers with the elder's voice, false when it is the worker who checked in;
// INVALID_ARGUMENT on feedback.author for anyone else.
absl::StatusOr<bool> IsElderVoice(const std::string& author, const ProjectedVisit& visit,
                                  const ElderFacts& elder);

// OK when `answer` may be given for `visit` by an author whose voice IsElderVoice told:
// FAILED_PRECONDITION when the visit did not happen (saying what scheduling records),
// INVALID_ARGUMENT when the worker says nobody came.
absl::Status CheckAnswerable(const v1::Feedback& answer, const ProjectedVisit& visit,
                             bool elder_voice);

// Whether an answer in the elder's voice disputes the visit ("not as promised" or "nobody came").
bool Disputes(const v1::Feedback& answer);

}  // namespace linli::feedback

#endif  // LINLI_SERVICES_FEEDBACK_FEEDBACK_ANSWER_H_
