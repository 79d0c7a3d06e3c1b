#include "services/scheduling/visit_history.h"

#include <algorithm>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "common/errors.h"
#include "common/geo.h"
#include "common/status_macros.h"
#include "common/text.h"
#include "services/scheduling/commitment.h"
#include "services/scheduling/scheduling_util.h"
#include "services/scheduling/visit_check.h"
#include "services/scheduling/visit_rules.h"

namespace linli::scheduling {
namespace {

std::string AttendanceField(int i, absl::string_view field) {
  return absl::StrCat("visit.attendance[", i, "].", field);
}

// One check of an attendance, to be replayed in time order.
struct Check {
  absl::Time time;
  bool arrival = false;
  int attendance = 0;
};

}  // namespace

absl::Status ValidateImportedVisit(const v1::ImportedVisit& row, absl::Time now) {
  FieldViolations v;
  if (NamesPromiseByKey(row)) {
    if (!row.commitment().empty()) {
      v.Add("visit.commitment",
            "name the promise by its name or by elder, service type and owner, not both");
    }
    if (!ParseResourceName(row.elder(), "elders", "elder").ok()) {
      v.Add("visit.elder", "must look like \"elders/ID\"");
    }
    if (!ParseResourceName(row.service_type(), "serviceTypes", "service_type").ok()) {
      v.Add("visit.service_type", "must look like \"serviceTypes/ID\"");
    }
    if (!ParseResourceName(row.owner_organisation(), "organisations", "owner_organisation").ok()) {
      v.Add("visit.owner_organisation", "must look like \"organisations/ID\"");
    }
  } else if (!ParseResourceName(row.commitment(), "commitments", "commitment").ok()) {
    v.Add("visit.commitment",
          "must look like \"commitments/ID\" (or give elder, service_type and "
          "owner_organisation)");
  }
  absl::CivilSecond occurrence;
  if (row.occurrence().size() != 19 || !absl::ParseCivilTime(row.occurrence(), &occurrence)) {
    v.Add("visit.occurrence", "must be a local time \"YYYY-MM-DDTHH:MM:SS\"");
  }
  switch (row.state()) {
    case v1::VISIT_STATE_COMPLETED:
      if (row.attendance().empty()) {
        v.Add("visit.attendance", "a completed visit needs the worker who came");
      }
      break;
    case v1::VISIT_STATE_MISSED:
    case v1::VISIT_STATE_CANCELLED:
      if (!row.attendance().empty()) {
        v.Add("visit.attendance", "only a completed visit has workers who came");
      }
      break;
    default:
      v.Add("visit.state",
            "must be VISIT_STATE_COMPLETED, VISIT_STATE_MISSED or VISIT_STATE_CANCELLED");
  }
  if (row.state() == v1::VISIT_STATE_CANCELLED) {
    if (!IsReasonCode(row.reason_code())) {
      v.Add("visit.reason_code",
            "a cancelled visit needs 2-32 characters of A-Z, 0-9 and '_', e.g. ELDER_IN_HOSPITAL");
    }
  } else if (!row.reason_code().empty()) {
    v.Add("visit.reason_code", "only a cancelled visit has a reason code");
  }
  std::set<std::string> workers;
  for (int i = 0; i < row.attendance_size(); ++i) {
    const v1::ImportedAttendance& a = row.attendance(i);
    if (!ParseResourceName(a.worker(), "workers", "worker").ok()) {
      v.Add(AttendanceField(i, "worker"), "must look like \"workers/ID\"");
    } else if (!workers.insert(a.worker()).second) {
      v.Add(AttendanceField(i, "worker"), "appears twice: one attendance per worker");
    }
    if (a.method() == v1::CHECK_METHOD_UNSPECIFIED || !v1::CheckMethod_IsValid(a.method())) {
      v.Add(AttendanceField(i, "method"),
            "must be CHECK_METHOD_APP_GPS, _PHONE, _FAMILY_PROXY or _PARTNER_REPORT");
    }
    if (a.has_check_in_location()) {
      ValidateLatLng(a.check_in_location(), AttendanceField(i, "check_in_location"), v);
    }
    if (a.has_check_out_location()) {
      ValidateLatLng(a.check_out_location(), AttendanceField(i, "check_out_location"), v);
    }
    if (!a.has_check_in_time()) v.Add(AttendanceField(i, "check_in_time"), "is required");
    if (!a.has_check_out_time()) v.Add(AttendanceField(i, "check_out_time"), "is required");
    if (!a.has_check_in_time() || !a.has_check_out_time()) continue;
    const absl::Time in = FromTimestamp(a.check_in_time());
    const absl::Time out = FromTimestamp(a.check_out_time());
    if (out < in) v.Add(AttendanceField(i, "check_out_time"), "is before the check-in");
    if (out > now) {
      v.Add(AttendanceField(i, "check_out_time"),
            "is in the future: only visits that are over are imported");
    }
  }
  return v.ToStatus();
}

bool NamesPromiseByKey(const v1::ImportedVisit& row) {
  return !row.elder().empty() || !row.service_type().empty() || !row.owner_organisation().empty();
}

const v1::Commitment* PromiseOfOccurrence(const std::vector<v1::Commitment>& promises,
                                          const v1::ImportedVisit& row) {
  absl::CivilSecond start;
  if (!absl::ParseCivilTime(row.occurrence(), &start)) return nullptr;
  const absl::CivilDay day(start);
  const v1::Commitment* best = nullptr;
  auto rank = [](const v1::Commitment& c) {
    absl::CivilDay from;
    absl::ParseCivilTime(c.valid_from(), &from);
    return std::pair(c.state() != v1::COMMITMENT_STATE_CANCELLED, from);
  };
  for (const v1::Commitment& c : promises) {
    if (c.service_type() != row.service_type() ||
        c.owner_organisation() != row.owner_organisation()) {
      continue;
    }
    bool has = false;
    for (const Occurrence& o : Occurrences(c, day, day + 1, 100)) has |= o.key == row.occurrence();
    if (has && (best == nullptr || rank(c) > rank(*best))) best = &c;
  }
  return best;
}

absl::StatusOr<std::string> ReplayVisit(const v1::ImportedVisit& row, double geofence_radius_m,
                                        v1::Visit& visit) {
  if (row.state() == v1::VISIT_STATE_MISSED) {
    visit.clear_assignments();
    visit.set_state(v1::VISIT_STATE_MISSED);
    return std::string("visit.missed");
  }
  if (row.state() == v1::VISIT_STATE_CANCELLED) {
    MarkCancelled(visit, row.reason_code(), "");
    return std::string("visit.cancelled");
  }
  if (row.attendance_size() > visit.workers_required()) {
    return InvalidField("visit.attendance",
                        absl::StrCat(row.attendance_size(), " workers came to a visit of ",
                                     visit.workers_required()));
  }
  const absl::Time opens = FromTimestamp(visit.window_start());
  const absl::Time closes =
      FromTimestamp(visit.window_end()) + absl::Minutes(visit.tolerance_minutes());
  std::vector<Check> checks;
  for (int i = 0; i < row.attendance_size(); ++i) {
    const absl::Time in = FromTimestamp(row.attendance(i).check_in_time());
    if (in < opens - kHistoryArrivalSlack || in > closes + kHistoryArrivalSlack) {
      return InvalidField(AttendanceField(i, "check_in_time"),
                          absl::StrCat("is more than ", absl::FormatDuration(kHistoryArrivalSlack),
                                       " from the occurrence's window"));
    }
    checks.push_back({in, true, i});
    checks.push_back({FromTimestamp(row.attendance(i).check_out_time()), false, i});
  }
  // As it happened: by time, an arrival before a departure at the same moment.
  std::stable_sort(checks.begin(), checks.end(), [](const Check& a, const Check& b) {
    if (a.time != b.time) return a.time < b.time;
    return a.arrival && !b.arrival;
  });
  std::string event;
  for (const Check& c : checks) {
    const v1::ImportedAttendance& a = row.attendance(c.attendance);
    absl::Status applied;
    if (c.arrival) {
      v1::CheckInVisitRequest in;
      in.set_name(visit.name());
      in.set_worker(a.worker());
      if (a.has_check_in_location()) *in.mutable_location() = a.check_in_location();
      in.set_method(a.method());
      in.set_substitute(true);
      applied = ApplyCheckIn(in, c.time, geofence_radius_m, visit);
    } else {
      v1::CheckOutVisitRequest out;
      out.set_name(visit.name());
      out.set_worker(a.worker());
      if (a.has_check_out_location()) *out.mutable_location() = a.check_out_location();
      out.set_method(a.method());
      absl::StatusOr<std::string> left = ApplyCheckOut(out, c.time, geofence_radius_m, visit);
      applied = left.status();
      if (left.ok()) event = *left;
    }
    if (!applied.ok()) {
      // The live rules refuse this order of checks (a worker arriving after the visit was over).
      return InvalidField(
          AttendanceField(c.attendance, c.arrival ? "check_in_time" : "check_out_time"),
          std::string(applied.message()));
    }
  }
  if (visit.state() != v1::VISIT_STATE_COMPLETED) {
    return InvalidField("visit.attendance", "the workers' checks do not complete the visit");
  }
  return event;
}

}  // namespace linli::scheduling
