// Making good a missed visit, as rules: which arrival windows a make-up may take (the missed
// visit's time of day and window length, on the days after today on which the promise has no
// occurrence of its own, so that it never takes the place of a regular visit) and in which order
// the owner's workers are tried (the familiar worker first). Pure C++; the use case
// (make_up_use_case.h) asks the registry and books through BookOnVisit.
#ifndef LINLI_SERVICES_SCHEDULING_MAKE_UP_H_
#define LINLI_SERVICES_SCHEDULING_MAKE_UP_H_

#include <vector>

#include "absl/time/civil_time.h"
#include "linli/registry/v1/registry.pb.h"
#include "linli/scheduling/v1/scheduling.pb.h"
#include "services/scheduling/commitment.h"

namespace linli::scheduling {

inline constexpr int kDefaultMakeUpDays = 3;
inline constexpr int kMaxMakeUpDays = 7;

// The windows a make-up of `missed` (a visit of `commitment`) may take, one a day on the
// `within_days` days after `today` (Shanghai dates) on which the commitment has no occurrence,
// earliest first; each as an Occurrence whose key is its local start (the make-up visit's
// occurrence).
std::vector<Occurrence> MakeUpWindows(const v1::Commitment& commitment, const v1::Visit& missed,
                                      absl::CivilDay today, int within_days);

// Of `workers` (the owner's), those who can serve `commitment` (CanServe), the preferred worker
// first, then by name.
std::vector<registry::v1::Worker> MakeUpCandidates(std::vector<registry::v1::Worker> workers,
                                                   const v1::Commitment& commitment);

}  // namespace linli::scheduling

#endif  // LINLI_SERVICES_SCHEDULING_MAKE_UP_H_
