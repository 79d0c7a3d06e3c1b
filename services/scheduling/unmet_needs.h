// Needs without a promise (SchedulingService.ListUnmetNeeds): the services the registry records an
// elder as needing that no active commitment covers. A commitment covers a need when its service
// is the one needed or one of its sub-services (a "meal-delivery" promise meets a "meal" need).
// Pure C++: the use case reads the elders and promises, this counts.
#ifndef LINLI_SERVICES_SCHEDULING_UNMET_NEEDS_H_
#define LINLI_SERVICES_SCHEDULING_UNMET_NEEDS_H_

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "linli/scheduling/v1/scheduling.pb.h"

namespace linli::scheduling {

// One elder's recorded needs ("serviceTypes/…").
struct ElderNeeds {
  std::string elder;
  std::string committee;
  std::vector<std::string> needs;
};

// (elder, service type) of every active commitment.
using Promised = std::set<std::pair<std::string, std::string>>;

// Whether `offered` is `needed` or lies below it in the service taxonomy (`parents`: each
// service type's parent, "" at the top).
bool Covers(const std::string& offered, const std::string& needed,
            const std::map<std::string, std::string>& parents);

// The counts per committee (most unmet first, then by name) and the first `limit` unmet needs
// in that committee order, then by elder and service.
v1::ListUnmetNeedsResponse CountUnmetNeeds(const std::vector<ElderNeeds>& elders,
                                           const Promised& promised,
                                           const std::map<std::string, std::string>& parents,
                                           int limit);

}  // namespace linli::scheduling

#endif  // LINLI_SERVICES_SCHEDULING_UNMET_NEEDS_H_
