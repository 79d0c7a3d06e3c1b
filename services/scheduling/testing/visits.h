// A scheduled visit for tests of the visit rules: "visits/v", its window opening at `opens` for
// two hours (tolerance 30 minutes), 60 minutes long, at the elder's home (31.2, 121.48).
#ifndef LINLI_SERVICES_SCHEDULING_TESTING_VISITS_H_
#define LINLI_SERVICES_SCHEDULING_TESTING_VISITS_H_

#include "absl/time/time.h"
#include "common/proto_time.h"
#include "linli/scheduling/v1/scheduling.pb.h"

namespace linli::scheduling {

inline v1::Visit ScheduledVisit(absl::Time opens, int workers_required = 1) {
  v1::Visit visit;
  visit.set_name("visits/v");
  visit.set_state(v1::VISIT_STATE_SCHEDULED);
  visit.set_duration_minutes(60);
  visit.set_workers_required(workers_required);
  visit.set_tolerance_minutes(30);
  *visit.mutable_window_start() = ToTimestamp(opens);
  *visit.mutable_window_end() = ToTimestamp(opens + absl::Hours(2));
  visit.mutable_home()->set_latitude(31.2);
  visit.mutable_home()->set_longitude(121.48);
  return visit;
}

}  // namespace linli::scheduling

#endif  // LINLI_SERVICES_SCHEDULING_TESTING_VISITS_H_
