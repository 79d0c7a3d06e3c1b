// Who may answer for a visit, and when, pure C++ (no gRPC, no SQL).
//
// The author is the elder, a proxy among the elder's contacts ("elders/ID/contacts/N" with N
// marked proxy in the registry) or the worker who checked in. Only the elder's voice (elder or
// proxy) counts towards felt care; the worker's answer is recorded, not counted. Answers are
// only for completed visits, and only the elder's voice can say that nobody came. Completed
// visits without an answer in the elder's voice wait in a queue ordered by need (RankByNeed).
#ifndef LINLI_SERVICES_FEEDBACK_FEEDBACK_ANSWER_H_
#define LINLI_SERVICES_FEEDBACK_FEEDBACK_ANSWER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
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

// OK when an answer given at `answer_time` (in the past, imported) can be about `visit`: not
// before its check-in when the projection knows it, else not before its local day;
// INVALID_ARGUMENT on feedback.answer_time otherwise.
absl::Status CheckAnswerTime(absl::Time answer_time, const ProjectedVisit& visit);

// Whether an answer in the elder's voice disputes the visit ("not as promised" or "nobody came").
bool Disputes(const v1::Feedback& answer);

// A completed visit still waiting for the elder's answer, with what decides its place.
struct AwaitingAnswer {
  std::string visit_id;       // without "visits/"
  std::string elder;          // "elders/…"
  std::string commitment_id;  // without "commitments/"
  std::string worker;         // "workers/…" or ""
  int64_t day = 0;            // local day of the visit (LocalDay)
  bool solitary = false;
  int disputed_visits = 0;     // the elder's disputed visits in the window
  int64_t last_answer_us = 0;  // the elder's last answer in their own voice, 0 = never
};

// The queue's order, as a key that sorts the way the queue does (so pages can resume after it):
// solitary elders first, then elders who disputed a visit, then the longest silence (never
// answered before any answer), then the oldest visit; the visit id breaks ties.
std::string NeedKey(const AwaitingAnswer& visit);

// Sorts `queue` by NeedKey.
void RankByNeed(std::vector<AwaitingAnswer>& queue);

}  // namespace linli::feedback

#endif  // LINLI_SERVICES_FEEDBACK_FEEDBACK_ANSWER_H_
