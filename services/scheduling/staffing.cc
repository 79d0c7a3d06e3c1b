#include "services/scheduling/staffing.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/recurrence/rrule.h"
#include "services/scheduling/availability.h"
#include "services/scheduling/scheduling_util.h"

namespace linli::scheduling {

int FindAssignment(const v1::Visit& visit, const std::string& worker) {
  for (int i = 0; i < visit.assignments_size(); ++i) {
    if (visit.assignments(i).worker() == worker) return i;
  }
  return -1;
}

void RemoveAssignment(v1::Visit& visit, int index) {
  visit.mutable_assignments()->erase(visit.mutable_assignments()->begin() + index);
}

void AddAssignment(v1::Visit& visit, const std::string& worker, absl::Time start,
                   const std::string& source) {
  v1::Assignment* a = visit.add_assignments();
  a->set_worker(worker);
  *a->mutable_start() = ToTimestamp(start);
  *a->mutable_end() = ToTimestamp(start + absl::Minutes(visit.duration_minutes()));
  a->set_source(source);
}

bool HasSkills(const registry::v1::Worker& worker,
               const google::protobuf::RepeatedPtrField<std::string>& skills) {
  const std::set<std::string> has(worker.skills().begin(), worker.skills().end());
  return std::all_of(skills.begin(), skills.end(),
                     [&](const std::string& skill) { return has.count(skill) > 0; });
}

absl::Status CheckRoomFor(const v1::Visit& visit, const std::string& worker,
                          const std::string& field) {
  if (FindAssignment(visit, worker) >= 0) {
    return InvalidField(field, absl::StrCat(worker, " is already booked on ", visit.name()));
  }
  if (visit.assignments_size() >= std::max(1, visit.workers_required())) {
    return absl::FailedPreconditionError(absl::StrCat(visit.name(), " already has the ",
                                                      visit.workers_required(),
                                                      " worker(s) it needs; unassign one first"));
  }
  return absl::OkStatus();
}

absl::Status CheckWorkerFits(const v1::Visit& visit, const v1::Commitment& commitment,
                             const registry::v1::Worker& worker, absl::Time start,
                             const std::string& field, bool check_availability) {
  const std::set<std::string> has(worker.skills().begin(), worker.skills().end());
  std::string missing;
  for (const std::string& skill : commitment.required_skills()) {
    if (has.count(skill) == 0) absl::StrAppend(&missing, missing.empty() ? "" : ", ", skill);
  }
  if (!missing.empty()) {
    return InvalidField(field, absl::StrCat(worker.name(), " lacks the skill(s) ", missing,
                                            " that ", visit.commitment(), " requires"));
  }
  const absl::Time end = start + absl::Minutes(visit.duration_minutes());
  if (check_availability && !WithinAvailability(worker, start, end)) {
    return WithReason(
        absl::FailedPreconditionError(absl::StrCat(
            field, ": ", worker.name(), " does not work from ",
            absl::FormatTime("%Y-%m-%d %H:%M", start, recurrence::ShanghaiTimeZone()), " to ",
            absl::FormatTime("%H:%M", end, recurrence::ShanghaiTimeZone()),
            " (outside their availability); book with outside_availability if agreed")),
        common::v1::ERROR_REASON_WORKER_UNAVAILABLE);
  }
  return absl::OkStatus();
}

absl::Status CheckManualStart(const v1::Visit& visit, absl::Time start) {
  const absl::Time window = FromTimestamp(visit.window_start());
  if (start < window || start > window + kMaxStartAfterWindow) {
    return InvalidField("start", "must be within 12 hours after the visit's window opens");
  }
  return absl::OkStatus();
}

}  // namespace linli::scheduling
