#include "services/scheduling/visit_rules.h"

#include <algorithm>

#include "services/scheduling/scheduling_util.h"
#include "services/scheduling/staffing.h"

namespace linli::scheduling {

v1::Visit NewVisit(const v1::Commitment& commitment, const Occurrence& o, const std::string& name) {
  v1::Visit visit;
  visit.set_name(name);
  visit.set_commitment(commitment.name());
  visit.set_elder(commitment.elder());
  visit.set_service_type(commitment.service_type());
  visit.set_occurrence(o.key);
  *visit.mutable_window_start() = ToTimestamp(o.window_start);
  *visit.mutable_window_end() = ToTimestamp(o.window_end);
  visit.set_duration_minutes(commitment.duration_minutes());
  visit.set_workers_required(commitment.workers_required());
  visit.set_tolerance_minutes(commitment.tolerance_minutes());
  if (commitment.has_home()) *visit.mutable_home() = commitment.home();
  visit.set_state(v1::VISIT_STATE_SCHEDULED);
  return visit;
}

bool WindowClosed(const v1::Commitment& commitment, const Occurrence& o, absl::Time now) {
  return o.window_end + absl::Minutes(commitment.tolerance_minutes()) < now;
}

void MarkCancelled(v1::Visit& visit, const std::string& reason_code, const std::string& note) {
  visit.clear_assignments();
  visit.set_state(v1::VISIT_STATE_CANCELLED);
  visit.set_reason_code(reason_code);
  visit.set_note(note);
}

void MoveWindow(v1::Visit& visit, absl::Time new_start, const std::string& reason_code,
                const std::string& note) {
  visit.clear_assignments();
  const absl::Duration window =
      FromTimestamp(visit.window_end()) - FromTimestamp(visit.window_start());
  *visit.mutable_window_start() = ToTimestamp(new_start);
  *visit.mutable_window_end() = ToTimestamp(new_start + window);
  visit.set_reason_code(reason_code);
  visit.set_note(note);
}

bool MayAddNote(const v1::Visit& visit, const std::string& author) {
  return FindAssignment(visit, author) >= 0 || visit.check_in().worker() == author;
}

std::vector<v1::WorkerVisit> DayRoute(std::vector<v1::Visit> visits, const std::string& worker,
                                      absl::Time from, absl::Time to, size_t max) {
  std::vector<v1::WorkerVisit> route;
  for (v1::Visit& visit : visits) {
    const int index = FindAssignment(visit, worker);
    if (index < 0) continue;
    const absl::Time start = FromTimestamp(visit.assignments(index).start());
    if (start < from || start >= to) continue;  // a booking from the day before
    v1::WorkerVisit& stop = route.emplace_back();
    *stop.mutable_assignment() = visit.assignments(index);
    *stop.mutable_visit() = std::move(visit);
  }
  std::sort(route.begin(), route.end(), [](const v1::WorkerVisit& a, const v1::WorkerVisit& b) {
    const absl::Time sa = FromTimestamp(a.assignment().start());
    const absl::Time sb = FromTimestamp(b.assignment().start());
    if (sa != sb) return sa < sb;
    return a.visit().name() < b.visit().name();
  });
  if (route.size() > max) route.resize(max);
  return route;
}

}  // namespace linli::scheduling
