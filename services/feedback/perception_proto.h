// perception.h's figures as API messages: the promise ledger and the perception index of a
// window. Pure C++ on protobuf messages.
#ifndef LINLI_SERVICES_FEEDBACK_PERCEPTION_PROTO_H_
#define LINLI_SERVICES_FEEDBACK_PERCEPTION_PROTO_H_

#include <cstdint>
#include <string>

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

}  // namespace linli::feedback

#endif  // LINLI_SERVICES_FEEDBACK_PERCEPTION_PROTO_H_
