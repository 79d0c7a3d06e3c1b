// The arithmetic of perception management, pure C++ (no gRPC, no SQL): daily counters, what one
// visit contributes to them, the promise ledger's verdict and the perception index formula.
//
// Everything feedback knows about visits and answers is kept as counters per subject and local
// day (Shanghai time). A visit's contribution depends only on its latest state, so when an event
// changes a visit the old contribution is subtracted and the new one added: applying the same
// event again, or an older one after a newer one, changes nothing. A window read sums at most 90
// rows of counters, whatever the history's length.
//
//   Figures f = ...;                      // sum of the window's daily rows
//   LedgerVerdict v = Verdict(f);         // kept / at risk / broken
//   IndexValue i = ComputeIndex(f);       // 0-100 with a confidence
#ifndef LINLI_SERVICES_FEEDBACK_PERCEPTION_H_
#define LINLI_SERVICES_FEEDBACK_PERCEPTION_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace linli::feedback {

// The daily counters, in their column order.
enum Counter : int {
  kExpected = 0,      // visit window came: in progress, completed or missed
  kVerified,          // completed (checked in and out)
  kPunctual,          // completed without LATE_ARRIVAL
  kFamiliarEligible,  // completed, the commitment names a preferred worker
  kFamiliar,          // ... and that worker checked in
  kMissed,            // marked missed
  kDisputed,          // completed but an elder/proxy said "not as promised" or "nobody came"
  kAnswers,           // feedback answers by the elder or a proxy
  kFacesSum,          // sum of their faces (1-5)
  kAsPromisedYes,
  kAsPromisedPartly,
  kAsPromisedNo,
  kCaredYes,
  kCaredPartly,
  kCaredNo,
  kUnderReview,  // completed with an exception whose review is pending: not kept (yet)
  kRejected,     // completed with an exception, rejected on review: broken
  kRepaired,     // missed, then made good by a completed make-up visit: neither expected nor missed
  kCounterCount
};
// The counters of the first schema (migration 3); the later ones were added by ALTER TABLE.
inline constexpr int kFirstSchemaCounters = kUnderReview;

// Column names of the counters, in Counter order.
const std::array<const char*, kCounterCount>& CounterColumns();

// A vector of counters; added and subtracted element-wise.
struct Figures {
  std::array<int64_t, kCounterCount> c{};
  int64_t operator[](Counter k) const { return c[k]; }
  int64_t& operator[](Counter k) { return c[k]; }
  Figures& operator+=(const Figures& o);
  Figures& operator-=(const Figures& o);
  bool IsZero() const;
};
Figures operator-(Figures a, const Figures& b);

// Visit states as scheduling numbers them (scheduling.v1.VisitState).
enum class VisitState : int {
  kUnspecified = 0,
  kScheduled = 1,
  kInProgress = 2,
  kCompleted = 3,
  kMissed = 4,
  kCancelled = 5
};

// The review states of a visit completed with an exception (scheduling.v1.ReviewState).
inline constexpr int kReviewPending = 1;
inline constexpr int kReviewApproved = 2;
inline constexpr int kReviewRejected = 3;

// What feedback keeps of one visit: enough to compute its contribution and the subjects it counts
// for.
struct ProjectedVisit {
  std::string id;             // visit id (without "visits/")
  std::string commitment_id;  // without "commitments/"
  std::string elder;          // "elders/…"
  std::string worker;         // "workers/…" who checked in, "" before
  int64_t day = 0;            // local day of window start (LocalDay)
  VisitState state = VisitState::kUnspecified;
  bool late = false;            // LATE_ARRIVAL exception
  bool disputed = false;        // see kDisputed
  int64_t last_sequence = 0;    // sequence of the event the state comes from
  int64_t contact_time_us = 0;  // check-in time of a completed visit (0 otherwise)
  // The arrival window (0 when projected before the board needed it) and whether a worker is
  // booked (1), nobody is (0) or it is not known (-1, projected before bookings were kept).
  int64_t window_start_us = 0;
  int64_t window_end_us = 0;
  int staffed = -1;
  // The review of a visit completed with an exception (scheduling.v1.ReviewState): 0 none,
  // 1 pending, 2 approved, 3 rejected.
  int review = 0;
  // For notices: the first worker booked ("" when none), when the worker checked in (0 before)
  // and how long the visit is planned to last.
  std::string booked_worker;
  int64_t check_in_us = 0;
  int duration_minutes = 0;
  // A missed visit made good by a make-up visit of the same promise that was completed (and not
  // rejected on review); only feedback sets it, from the make-up visit's events.
  bool repaired = false;
};

// The contribution of `visit` to its day's counters, given its commitment's preferred worker.
Figures VisitContribution(const ProjectedVisit& visit, const std::string& preferred_worker);

// One feedback answer's contribution (answers are 1 yes, 2 partly, 3 no, 0 none).
Figures AnswerContribution(int faces, int did_as_promised, int felt_cared_for);

// Local (Asia/Shanghai, UTC+8, no daylight saving) day number since 1970-01-01.
int64_t LocalDay(absl::Time t);
// "YYYY-MM-DD" of a local day number.
std::string DayString(int64_t day);
// Local day number of "YYYY-MM-DD"; false when malformed.
bool ParseDay(const std::string& text, int64_t* day);
// The Monday of the week (Monday to Sunday) holding local day `day`.
int64_t WeekStart(int64_t day);

// Ratios of a window; 0 when the denominator is 0 (kept_ratio: 1).
double Punctuality(const Figures& f);
double Continuity(const Figures& f);
double KeptRatio(const Figures& f);
double MeanFaces(const Figures& f);

enum class PromiseVerdict { kKept = 1, kAtRisk = 2, kBroken = 3 };
// kept >= 0.9 > at risk >= 0.7 > broken, on KeptRatio.
PromiseVerdict Verdict(const Figures& f);

// The perception index (README "Feedback"):
//   promise = 100 * weighted mean of the available parts
//             kept ratio (0.5), punctuality (0.2), continuity (0.15), "did as promised" (0.15)
//   felt care = 100 * (0.6 * (mean faces - 1) / 4 + 0.4 * "felt cared for")   (yes 1, partly 0.5)
//   index = (promise + felt care) / 2, or the one that exists
//   confidence = answers / (answers + 5)
struct IndexValue {
  bool has_value = false;
  double value = 0;
  double promise_score = 0;
  double felt_care_score = 0;
  int64_t answers = 0;
  double confidence = 0;
};
IndexValue ComputeIndex(const Figures& f);

// The subjects whose counters a visit feeds: its commitment, elder, owner organisation,
// committee, street and (once checked in) worker.
struct VisitSubjects {
  std::string commitment;    // "commitments/…"
  std::string elder;         // "elders/…"
  std::string organisation;  // "organisations/…"
  std::string committee;     // "regions/…" ("" when unknown)
  std::string street;        // "regions/…" ("" when unknown)
};
std::vector<std::string> SubjectKeys(const VisitSubjects& s, const std::string& worker);

}  // namespace linli::feedback

#endif  // LINLI_SERVICES_FEEDBACK_PERCEPTION_H_
