// Planning on stored data, as rules: which requests are valid, which visits a plan takes, how
// visits, commitments and workers become a planner problem (PlanProblem), and how the planner's
// routes become bookings. Pure C++ over the proto messages; the use case (plan_use_case.h) reads
// the rows and the registry, solves and books.
//
//   ASSIGN_OR_RETURN(PlanPeriod period, ValidatePlanRequest(request));
//   PlanScope scope{elders_of_region, request.owner_organisation()};  // filter the stored visits
//   BuiltProblem built = BuildPlanProblem(name, period, candidates, previous, workers, weights);
//   ... planner::PlanVisits(built.problem, PlanSettingsFor(request)) ...
//   for (const PlannedBooking& b : CompleteBookings(plan, candidates, period.begin)) ...
#ifndef LINLI_SERVICES_SCHEDULING_PLAN_PROBLEM_H_
#define LINLI_SERVICES_SCHEDULING_PLAN_PROBLEM_H_

#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "linli/registry/v1/registry.pb.h"
#include "linli/scheduling/v1/planning.pb.h"
#include "linli/scheduling/v1/scheduling.pb.h"
#include "services/scheduling/planner/planner.h"

namespace linli::scheduling {

// Planner time limit when the request sets none, and the most a request may ask for: the planner
// has no cancellation hook, so this bounds how long a plan runs for a caller that went away.
inline constexpr double kDefaultPlanTimeLimitSeconds = 10;
inline constexpr double kMaxPlanTimeLimitSeconds = 120;
// A response lists at most this many visits left unplanned.
inline constexpr int kMaxUnassignedListed = 100;
// Why a visit without a home location is not planned.
inline constexpr char kNoHomeLocationReason[] = "the registry has no location for the elder's home";

// The days a plan covers: [begin, end) = `days` Shanghai days from `first`.
struct PlanPeriod {
  absl::CivilDay first;
  int days = 0;
  absl::Time begin;
  absl::Time end;
};

// INVALID_ARGUMENT listing every bad field of `request` (dates, 1-7 days, region and owner
// names, time limit, weights); otherwise the period it plans.
absl::StatusOr<PlanPeriod> ValidatePlanRequest(const v1::PlanRequest& request);

// Which of the period's scheduled visits a plan takes: those without a worker yet, of the
// region's elders (when the plan is for a region), whose commitment the owner organisation holds
// (when the plan is for one owner).
struct PlanScope {
  std::optional<std::set<std::string>> elders;  // nullopt: any elder
  std::string owner_organisation;               // "": any owner

  // The visit's own test (no worker yet, elder in the region); its commitment is read only then.
  bool Takes(const v1::Visit& visit) const;
  bool Takes(const v1::Commitment& commitment) const;
};

// A visit to plan, with what the problem needs from its commitment.
struct PlanCandidate {
  std::string visit_id;
  std::string commitment_id;
  v1::Visit visit;
  v1::Commitment commitment;
};

// Who came last time: the workers who checked in to `visit` (both of a two-worker visit), in
// check-in order, without duplicates.
std::vector<std::string> WorkersWhoCame(const v1::Visit& visit);

// A planning problem and the candidates it could not take.
struct BuiltProblem {
  v1::PlanProblem problem;
  // Names of the candidates that cannot be routed (no home location), in candidate order.
  std::vector<std::string> unlocated;
};

// The planning problem named `name` of `candidates` (times in minutes from period.begin,
// haversine travel from the elders' homes and the workers' bases). `previous`: the workers who
// came last time, by commitment id; `workers`: the owners' active workers, by name. A worker
// enters the problem with the services (owner organisation + required skills) they can serve and
// their shifts of the period; one with neither is left out, and preferences for them are dropped.
// Unset weights take the planner's defaults, except continuity (kContinuityWeight).
//
// A visit by a worker the elder does not know costs as much as 30 minutes of extra travel
// (travel weighs 1/3 per minute): elders and families value a familiar face (熟人) over a shorter
// route.
inline constexpr double kContinuityWeight = 10;
BuiltProblem BuildPlanProblem(const std::string& name, const PlanPeriod& period,
                              const std::vector<PlanCandidate>& candidates,
                              const std::map<std::string, std::vector<std::string>>& previous,
                              const std::map<std::string, registry::v1::Worker>& workers,
                              const v1::PlanWeights& weights);

// The planner's settings for `request`: its time limit (kDefaultPlanTimeLimitSeconds when 0) and
// seed (when set).
planner::PlanSettings PlanSettingsFor(const v1::PlanRequest& request);

// The booked start of a task the planner starts `minutes` after `begin`: rounded up to the whole
// minute. Durations are whole minutes, so a route whose visits follow one another still does
// after rounding, and never shares a booked minute.
absl::Time PlannedStart(absl::Time begin, double minutes);

// A candidate the plan staffs completely, with its workers and their booked starts.
struct PlannedBooking {
  const PlanCandidate* candidate = nullptr;
  std::vector<std::pair<std::string, absl::Time>> workers;  // worker name, start
};

// The candidates whose every task the plan's routes carry (a two-worker visit with one worker
// planned is not booked), in candidate order.
std::vector<PlannedBooking> CompleteBookings(const v1::Plan& plan,
                                             const std::vector<PlanCandidate>& candidates,
                                             absl::Time begin);

// The routes of `plan` as a caller of Plan sees them: per route of the plan (in its order), the
// visits of `booked` (names of the visits booked, or with a dry run that would be) in route order
// with their elder, promise, planned start and end; a route left with no such visit is left out.
// Travel (the route's and each stop's) is the plan's when every visit of the route is booked, and
// 0 (unknown) when some are not: the planned trips went by them.
// `workers`: the owners' workers by name (for the worker's name and organisation).
std::vector<v1::PlannedRoute> BookedRoutes(
    const v1::Plan& plan, const std::vector<PlanCandidate>& candidates,
    const std::set<std::string>& booked, const std::map<std::string, registry::v1::Worker>& workers,
    absl::Time begin);

}  // namespace linli::scheduling

#endif  // LINLI_SERVICES_SCHEDULING_PLAN_PROBLEM_H_
