#include "services/scheduling/unmet_needs.h"

#include <algorithm>

namespace linli::scheduling {

bool Covers(const std::string& offered, const std::string& needed,
            const std::map<std::string, std::string>& parents) {
  // Walks up from the offered service; the taxonomy is a tree, the bound guards a stored cycle.
  std::string type = offered;
  for (size_t steps = 0; !type.empty() && steps <= parents.size(); ++steps) {
    if (type == needed) return true;
    auto it = parents.find(type);
    if (it == parents.end()) return false;
    type = it->second;
  }
  return false;
}

v1::ListUnmetNeedsResponse CountUnmetNeeds(const std::vector<ElderNeeds>& elders,
                                           const Promised& promised,
                                           const std::map<std::string, std::string>& parents,
                                           int limit) {
  // The services promised to each elder.
  std::map<std::string, std::vector<std::string>> by_elder;
  for (const auto& [elder, type] : promised) by_elder[elder].push_back(type);

  std::map<std::string, v1::CommitteeNeeds> committees;
  std::map<std::string, std::vector<v1::UnmetNeed>> unmet_by_committee;
  for (const ElderNeeds& e : elders) {
    if (e.needs.empty()) continue;
    v1::CommitteeNeeds& c = committees[e.committee];
    c.set_committee(e.committee);
    c.set_elders_with_needs(c.elders_with_needs() + 1);
    const std::vector<std::string>& has = by_elder[e.elder];
    std::set<std::string> needs(e.needs.begin(), e.needs.end());
    bool any_unmet = false;
    for (const std::string& need : needs) {
      c.set_needs(c.needs() + 1);
      const bool met = std::any_of(has.begin(), has.end(), [&](const std::string& offered) {
        return Covers(offered, need, parents);
      });
      if (met) continue;
      any_unmet = true;
      c.set_unmet(c.unmet() + 1);
      v1::UnmetNeed u;
      u.set_elder(e.elder);
      u.set_committee(e.committee);
      u.set_service_type(need);
      unmet_by_committee[e.committee].push_back(std::move(u));
    }
    if (any_unmet) c.set_elders_unmet(c.elders_unmet() + 1);
  }

  std::vector<v1::CommitteeNeeds> order;
  for (auto& [name, c] : committees) order.push_back(std::move(c));
  std::stable_sort(order.begin(), order.end(),
                   [](const v1::CommitteeNeeds& a, const v1::CommitteeNeeds& b) {
                     return a.unmet() > b.unmet();
                   });
  v1::ListUnmetNeedsResponse response;
  for (v1::CommitteeNeeds& c : order) {
    std::vector<v1::UnmetNeed>& unmet = unmet_by_committee[c.committee()];
    std::sort(unmet.begin(), unmet.end(), [](const v1::UnmetNeed& a, const v1::UnmetNeed& b) {
      return std::tie(a.elder(), a.service_type()) < std::tie(b.elder(), b.service_type());
    });
    for (v1::UnmetNeed& u : unmet) {
      if (response.unmet_size() >= limit) {
        response.set_truncated(true);
        break;
      }
      *response.add_unmet() = std::move(u);
    }
    *response.add_committees() = std::move(c);
  }
  return response;
}

}  // namespace linli::scheduling
