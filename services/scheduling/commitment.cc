#include "services/scheduling/commitment.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/recurrence/rrule.h"
#include "common/text.h"

namespace linli::scheduling {
namespace {

bool IsName(absl::string_view name, absl::string_view collection, size_t max_id = 64) {
  const std::string prefix = absl::StrCat(collection, "/");
  return absl::StartsWith(name, prefix) && IsSlug(name.substr(prefix.size()), max_id);
}

}  // namespace

std::string LocalKey(absl::CivilSecond t) {
  return absl::StrFormat("%04d-%02d-%02dT%02d:%02d:%02d", t.year(), t.month(), t.day(), t.hour(),
                         t.minute(), t.second());
}

std::string CommitmentKey(const v1::Commitment& commitment) {
  absl::CivilDay from;
  absl::ParseCivilTime(commitment.valid_from(), &from);  // checked by ValidateCommitment
  // '\x1f' (unit separator) cannot occur in a resource name or a date.
  return absl::StrCat(commitment.elder(), "\x1f", commitment.service_type(), "\x1f",
                      commitment.owner_organisation(), "\x1f", absl::FormatCivilTime(from));
}

void ApplyCareGradeDefaults(v1::Commitment& c) {
  if (!c.has_care_grade() || c.care_grade() < 2 || c.care_grade() > 6) return;
  if (c.recurrence().rrule().empty()) {
    const int grade = c.care_grade();
    c.mutable_recurrence()->set_rrule(grade <= 3   ? "FREQ=WEEKLY;BYDAY=MO,WE,FR"
                                      : grade == 4 ? "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"
                                                   : "FREQ=DAILY");
    if (c.recurrence().dtstart().empty()) {
      c.mutable_recurrence()->set_dtstart(absl::StrCat(c.valid_from(), "T09:00:00"));
    }
    if (c.window_minutes() == 0) c.set_window_minutes(120);
  }
  if (c.duration_minutes() == 0) c.set_duration_minutes(60);
}

void ValidateCommitment(const v1::Commitment& c, FieldViolations& v) {
  if (!IsName(c.elder(), "elders")) v.Add("commitment.elder", "must look like \"elders/ID\"");
  if (!IsName(c.service_type(), "serviceTypes", 32)) {
    v.Add("commitment.service_type", "must look like \"serviceTypes/CODE\"");
  }
  if (!IsName(c.owner_organisation(), "organisations")) {
    v.Add("commitment.owner_organisation", "must look like \"organisations/ID\"");
  }
  if (std::optional<size_t> n = Utf8Length(c.funding_programme()); !n.has_value() || *n > 64) {
    v.Add("commitment.funding_programme", "must be valid UTF-8 of at most 64 characters");
  }
  absl::StatusOr<recurrence::RecurrenceRule> rule = recurrence::ParseRule(c.recurrence().rrule());
  if (c.recurrence().rrule().empty()) {
    v.Add("commitment.recurrence.rrule",
          "is required (or give care_grade 2-6 for the long-term-care defaults)");
  } else if (!rule.ok()) {
    v.Add("commitment.recurrence.rrule", std::string(rule.status().message()));
  }
  absl::CivilSecond dtstart;
  if (!absl::ParseCivilTime(c.recurrence().dtstart(), &dtstart)) {
    v.Add("commitment.recurrence.dtstart", "must be local time \"YYYY-MM-DDTHH:MM:SS\"");
  }
  if (c.window_minutes() < 0 || c.window_minutes() > 720) {
    v.Add("commitment.window_minutes", "must be between 0 and 720");
  }
  if (c.duration_minutes() < 1 || c.duration_minutes() > 720) {
    v.Add("commitment.duration_minutes", "must be between 1 and 720");
  }
  if (c.workers_required() < 0 || c.workers_required() > 2) {
    v.Add("commitment.workers_required", "must be 1 or 2");
  }
  if (c.workers_required() == 2) {
    const v1::Synchronisation& s = c.synchronisation();
    if (s.type() == v1::SYNCHRONISATION_TYPE_UNSPECIFIED ||
        !v1::SynchronisationType_IsValid(s.type())) {
      v.Add("commitment.synchronisation.type", "is required for a two-worker visit");
    } else if (s.type() == v1::SYNCHRONISATION_TYPE_ORDERED &&
               (s.min_gap_minutes() < 0 || s.max_gap_minutes() < s.min_gap_minutes() ||
                s.max_gap_minutes() > 720)) {
      v.Add("commitment.synchronisation", "needs 0 <= min_gap_minutes <= max_gap_minutes <= 720");
    }
  }
  for (int i = 0; i < c.required_skills_size(); ++i) {
    if (!IsSlug(c.required_skills(i), 32)) {
      v.Add(absl::StrCat("commitment.required_skills[", i, "]"),
            "must be 1-32 lowercase letters, digits or '-'");
    }
  }
  if (!c.preferred_worker().empty() && !IsName(c.preferred_worker(), "workers")) {
    v.Add("commitment.preferred_worker", "must look like \"workers/ID\"");
  }
  absl::CivilDay from, until;
  const bool from_ok = absl::ParseCivilTime(c.valid_from(), &from);
  if (!from_ok) v.Add("commitment.valid_from", "must be a date \"YYYY-MM-DD\"");
  bool until_ok = false;
  if (!c.valid_until().empty()) {
    if (!absl::ParseCivilTime(c.valid_until(), &until)) {
      v.Add("commitment.valid_until", "must be a date \"YYYY-MM-DD\"");
    } else if (from_ok && until < from) {
      v.Add("commitment.valid_until", "must not be before valid_from");
    } else {
      until_ok = true;
    }
  }
  if (c.tolerance_minutes() < 0 || c.tolerance_minutes() > 240) {
    v.Add("commitment.tolerance_minutes", "must be between 0 and 240");
  }
  if (c.has_care_grade() && (c.care_grade() < 0 || c.care_grade() > 6)) {
    v.Add("commitment.care_grade", "must be between 0 and 6");
  }
  // A rule that parses but never produces an occurrence in the next two years is impossible; so
  // is one whose first occurrence comes after valid_until (found by fuzzing: such a commitment
  // was accepted and never produced a visit).
  if (rule.ok() && absl::ParseCivilTime(c.recurrence().dtstart(), &dtstart) && from_ok) {
    const absl::CivilSecond start = std::max(absl::CivilSecond(from), dtstart);
    absl::CivilSecond end = start + 2 * 366 * 86400;
    if (until_ok) end = std::min(end, absl::CivilSecond(until + 1));
    if (end <= start) {
      v.Add("commitment.recurrence.dtstart", "must not be after valid_until");
    } else if (recurrence::Occurrences(*rule, dtstart, start, end, 1).empty()) {
      v.Add("commitment.recurrence.rrule",
            until_ok ? "has no occurrence between valid_from and valid_until"
                     : "has no occurrence in the two years after valid_from");
    }
  }
}

std::vector<Occurrence> Occurrences(const v1::Commitment& c, absl::CivilDay from, absl::CivilDay to,
                                    size_t max) {
  std::vector<Occurrence> out;
  absl::StatusOr<recurrence::RecurrenceRule> rule = recurrence::ParseRule(c.recurrence().rrule());
  absl::CivilSecond dtstart;
  absl::CivilDay valid_from, valid_until;
  if (!rule.ok() || !absl::ParseCivilTime(c.recurrence().dtstart(), &dtstart) ||
      !absl::ParseCivilTime(c.valid_from(), &valid_from)) {
    return out;
  }
  absl::CivilDay end = to;
  if (!c.valid_until().empty() && absl::ParseCivilTime(c.valid_until(), &valid_until)) {
    end = std::min(end, valid_until + 1);
  }
  const absl::CivilDay begin = std::max(from, valid_from);
  if (begin >= end) return out;
  const absl::TimeZone tz = recurrence::ShanghaiTimeZone();
  for (absl::CivilSecond start : recurrence::Occurrences(*rule, dtstart, absl::CivilSecond(begin),
                                                         absl::CivilSecond(end), max)) {
    const absl::Time window_start = absl::FromCivil(start, tz);
    out.push_back(Occurrence{LocalKey(start), window_start,
                             window_start + absl::Minutes(c.window_minutes())});
  }
  return out;
}

}  // namespace linli::scheduling
