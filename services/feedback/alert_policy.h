// The safety net's rules, pure C++ (no gRPC, no SQL): when an alert is due, what it says, the key
// that raises it only once, and the steps an alert takes (open -> acknowledged -> resolved).
//
//   no contact      a solitary elder without a verified visit for the committee's number of days
//                   (kDefaultNoContactDays unless it set its own), once per silence
//   falling index   the last 7 local days at least kFallingDrop points below the 7 before, each
//                   week with kFallingMinAnswers answers or more, once a day
//   overdue order   a work order escalated by the sweep, once per work order
//   contradiction   "nobody came" for a visit recorded as completed, once per visit
//   safety report   a work order classified SAFETY (a worker's report or a complaint), once per
//                   work order
//
// The use cases give a draft its id (AlertRow) and store it unless its key was already raised.
#ifndef LINLI_SERVICES_FEEDBACK_ALERT_POLICY_H_
#define LINLI_SERVICES_FEEDBACK_ALERT_POLICY_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "linli/feedback/v1/feedback.pb.h"
#include "services/feedback/facts.h"
#include "services/feedback/perception.h"

namespace linli::feedback {

// Days without verified contact before a solitary elder raises an alert, unless the committee
// set its own (SetAlertPolicy), which must lie in [kMinNoContactDays, kMaxNoContactDays].
inline constexpr int kDefaultNoContactDays = 7;
inline constexpr int kMinNoContactDays = 1;
inline constexpr int kMaxNoContactDays = 60;

// A drop of this many index points (last 7 days against the 7 before) raises an alert, when each
// week has at least kFallingMinAnswers answers behind it: fewer answers make the index noise.
inline constexpr double kFallingDrop = 15.0;
inline constexpr int64_t kFallingMinAnswers = 2;

// An alert to raise, before it has an id (and so a name): open, created at the time it was found.
struct AlertDraft {
  std::string dedupe_key;  // one alert per key, ever
  v1::Alert alert;
};

// Whether `days` may be a committee's no-contact limit.
bool ValidNoContactDays(int days);
// The no-contact limit of `committee`: its policy, else kDefaultNoContactDays.
int NoContactDays(const std::map<std::string, int>& policies, const std::string& committee);

// The no-contact alert of `elder` at `now` with a limit of `days`, when due: solitary and silent
// for `days` days since the last verified contact (never contacted: since feedback first saw the
// elder).
std::optional<AlertDraft> NoContactAlert(const ElderFacts& elder, int days, absl::Time now);

// The local days [first, last] of a week compared for a falling index.
struct DayRange {
  int64_t first = 0;
  int64_t last = 0;
};
// The 7 local days ending with `today`, and the 7 before them.
DayRange RecentWeek(int64_t today);
DayRange WeekBefore(int64_t today);
// Whether a week's counters have enough answers to compare (the other week need not be read
// when one has not).
bool EnoughAnswersToCompare(const Figures& week);
// The falling-index alert of `elder` found on local day `today` at `now`, when `recent`
// (RecentWeek) is at least kFallingDrop index points below `before` (WeekBefore).
std::optional<AlertDraft> FallingIndexAlert(const ElderFacts& elder, const Figures& recent,
                                            const Figures& before, int64_t today, absl::Time now);

// The alert of `order`, overdue and escalated to `target`, for the elder's `committee`.
AlertDraft OverdueWorkOrderAlert(const v1::WorkOrder& order, const std::string& committee,
                                 const std::string& target, absl::Time now);

// The alert of `author` saying nobody came to `visit` ("visits/…" of `elder`), which scheduling
// records as completed by `worker`.
AlertDraft ContradictionAlert(const std::string& visit, const std::string& elder,
                              const std::string& committee, const std::string& author,
                              const std::string& worker, absl::Time now);

// The alert of `order`, classified SAFETY, for the elder's `committee`; nullopt for another
// category.
std::optional<AlertDraft> SafetyReportAlert(const v1::WorkOrder& order,
                                            const std::string& committee, absl::Time now);

// Acknowledges an open alert as `actor`; FAILED_PRECONDITION naming its state otherwise.
absl::Status AcknowledgeAlert(v1::Alert& alert, const std::string& actor, absl::Time now);
// Resolves an alert not yet resolved as `actor` with `note`; FAILED_PRECONDITION otherwise.
absl::Status ResolveAlert(v1::Alert& alert, const std::string& actor, absl::Time now,
                          const std::string& note);

}  // namespace linli::feedback

#endif  // LINLI_SERVICES_FEEDBACK_ALERT_POLICY_H_
