// perception.h's figures as API messages: the promise ledger, the perception index of a window and
// the state of a promise over a period. Pure C++ on protobuf messages.
#ifndef LINLI_SERVICES_FEEDBACK_PERCEPTION_PROTO_H_
#define LINLI_SERVICES_FEEDBACK_PERCEPTION_PROTO_H_

#include <cstdint>
#include <string>
#include <vector>

#include "linli/feedback/v1/feedback.pb.h"
#include "services/feedback/perception.h"

namespace linli::feedback {

// Fills a proto with counters.
void ToProto(const Figures& f, v1::PromiseFigures* out);
// The perception index proto of counters.
void ToProto(const std::string& subject, int window_days, const Figures& f,
             v1::PerceptionIndex* out);
// The ledger of `subject` over the `window_days` local days ending with `last_day`, whose counters
// sum to `f`.
v1::PromiseLedger MakeLedger(const std::string& subject, int window_days, int64_t last_day,
                             const Figures& f);

// What stands against a promise over a period whose counters are `f`, with `open_complaints`
// about it now, most serious first: missed visits, disputed visits, late arrivals, open
// complaints.
std::vector<v1::PromiseIssue> PromiseIssues(const Figures& f, int open_complaints);
// A key that sorts promises worst first: by the ledger's verdict (broken, at risk, kept), then by
// more missed and disputed visits, then by more issues, then by commitment id (unique), so pages
// resume after it.
std::string PromiseKey(const Figures& f, size_t issues, const std::string& commitment_id);

}  // namespace linli::feedback

#endif  // LINLI_SERVICES_FEEDBACK_PERCEPTION_PROTO_H_
