#include "services/scheduling/plan_problem.h"

#include <algorithm>

#include "common/errors.h"
#include "common/proto_time.h"
#include "common/recurrence/rrule.h"
#include "gtest/gtest.h"
#include "services/scheduling/scheduling_util.h"

namespace linli::scheduling {
namespace {

std::vector<std::string> Fields(const absl::Status& status) {
  std::vector<std::string> fields;
  if (auto bad = GetBadRequest(status)) {
    for (const auto& v : bad->field_violations()) fields.push_back(v.field());
  }
  return fields;
}

PlanPeriod Tuesday() {
  v1::PlanRequest request;
  request.set_from_date("2026-12-01");
  request.set_days(1);
  absl::StatusOr<PlanPeriod> period = ValidatePlanRequest(request);
  EXPECT_TRUE(period.ok()) << period.status();
  return *period;
}

// A visit of `owner`'s commitment `id` at 09:00-11:00 on the period's day, at `lat`/`lng` (0, 0:
// no home location).
PlanCandidate Candidate(const std::string& id, const std::string& owner,
                        std::vector<std::string> skills, int workers = 1, double lat = 31.2,
                        double lng = 121.48) {
  const PlanPeriod period = Tuesday();
  PlanCandidate c;
  c.visit_id = id;
  c.commitment_id = "c-" + id;
  c.visit.set_name("visits/" + id);
  c.visit.set_commitment("commitments/c-" + id);
  c.visit.set_elder("elders/e-" + id);
  *c.visit.mutable_window_start() = ToTimestamp(period.begin + absl::Hours(9));
  *c.visit.mutable_window_end() = ToTimestamp(period.begin + absl::Hours(11));
  c.visit.set_duration_minutes(60);
  c.visit.set_workers_required(workers);
  if (lat != 0 || lng != 0) {
    c.visit.mutable_home()->set_latitude(lat);
    c.visit.mutable_home()->set_longitude(lng);
  }
  c.commitment.set_name(c.visit.commitment());
  c.commitment.set_owner_organisation(owner);
  for (const std::string& s : skills) c.commitment.add_required_skills(s);
  c.commitment.set_workers_required(workers);
  return c;
}

registry::v1::Worker Worker(const std::string& id, const std::string& org,
                            std::vector<std::string> skills) {
  registry::v1::Worker w;
  w.set_name("workers/" + id);
  w.set_display_name(id);
  w.set_organisation(org);
  for (const std::string& s : skills) w.add_skills(s);
  w.set_status(registry::v1::WORKER_STATUS_ACTIVE);
  return w;
}

TEST(ValidatePlanRequest, NamesEveryBadField) {
  v1::PlanRequest request;
  request.set_from_date("1 December");
  request.set_days(8);
  request.set_region("streets/x");
  request.set_owner_organisation("orgs/x");
  request.set_time_limit_seconds(121);
  request.mutable_weights()->set_continuity(-1);
  request.mutable_weights()->set_travel(2e6);
  absl::StatusOr<PlanPeriod> period = ValidatePlanRequest(request);
  ASSERT_TRUE(absl::IsInvalidArgument(period.status()));
  EXPECT_EQ(
      Fields(period.status()),
      (std::vector<std::string>{"from_date", "days", "region", "owner_organisation",
                                "time_limit_seconds", "weights.travel", "weights.continuity"}));
}

TEST(ValidatePlanRequest, ThePeriodIsShanghaiDays) {
  v1::PlanRequest request;
  request.set_from_date("2026-12-01");
  request.set_days(7);
  request.mutable_weights()->set_unassigned(0);  // zero is a weight like any other
  absl::StatusOr<PlanPeriod> period = ValidatePlanRequest(request);
  ASSERT_TRUE(period.ok()) << period.status();
  EXPECT_EQ(period->first, absl::CivilDay(2026, 12, 1));
  EXPECT_EQ(period->days, 7);
  EXPECT_EQ(period->begin,
            absl::FromCivil(absl::CivilDay(2026, 12, 1), recurrence::ShanghaiTimeZone()));
  EXPECT_EQ(period->end - period->begin, absl::Hours(24 * 7));
}

TEST(PlanScope, TakesUnstaffedVisitsOfTheRegionAndOwner) {
  PlanCandidate c = Candidate("a", "organisations/o", {});
  PlanScope any;
  EXPECT_TRUE(any.Takes(c.visit));
  EXPECT_TRUE(any.Takes(c.commitment));
  PlanScope region{std::set<std::string>{"elders/other"}, ""};
  EXPECT_FALSE(region.Takes(c.visit));
  region.elders->insert(c.visit.elder());
  EXPECT_TRUE(region.Takes(c.visit));
  PlanScope owner{std::nullopt, "organisations/p"};
  EXPECT_FALSE(owner.Takes(c.commitment));
  c.visit.add_assignments()->set_worker("workers/w");
  EXPECT_FALSE(any.Takes(c.visit));
}

TEST(WorkersWhoCame, BothWorkersOfATeamOnce) {
  v1::Visit visit;
  EXPECT_TRUE(WorkersWhoCame(visit).empty());
  visit.mutable_check_in()->set_worker("workers/a");
  visit.add_team_check_ins()->set_worker("workers/b");
  visit.add_team_check_ins()->set_worker("workers/a");
  EXPECT_EQ(WorkersWhoCame(visit), (std::vector<std::string>{"workers/a", "workers/b"}));
}

TEST(BuildPlanProblem, ServicesAreOwnerAndSortedSkills) {
  const PlanPeriod period = Tuesday();
  std::vector<PlanCandidate> candidates = {
      Candidate("a", "organisations/o", {"nursing", "bathing"}, 2),
      Candidate("b", "organisations/o", {}),
      Candidate("c", "organisations/p", {}, 1, 0, 0)};  // no home: not routable
  candidates[0].commitment.mutable_synchronisation()->set_type(v1::SYNCHRONISATION_TYPE_ORDERED);
  candidates[0].commitment.mutable_synchronisation()->set_min_gap_minutes(10);
  candidates[0].commitment.mutable_synchronisation()->set_max_gap_minutes(30);
  std::map<std::string, registry::v1::Worker> workers;
  for (const auto& w : {Worker("nurse", "organisations/o", {"bathing", "nursing"}),
                        Worker("helper", "organisations/o", {"visiting"}),
                        Worker("stranger", "organisations/p", {"bathing", "nursing"})}) {
    workers[w.name()] = w;
  }
  BuiltProblem built = BuildPlanProblem("plans/1", period, candidates, {}, workers, {});
  const v1::PlanProblem& p = built.problem;
  EXPECT_EQ(built.unlocated, std::vector<std::string>{"visits/c"});
  EXPECT_EQ(p.name(), "plans/1");
  EXPECT_EQ(FromTimestamp(p.horizon_start()), period.begin);
  ASSERT_EQ(p.visits_size(), 2);
  const v1::PlanVisit& a = p.visits(0);
  EXPECT_EQ(a.window_start(), 9 * 60);
  EXPECT_EQ(a.window_end(), 11 * 60);
  ASSERT_EQ(a.tasks_size(), 2);
  EXPECT_EQ(a.tasks(0).service(), "organisations/o|bathing+nursing");
  EXPECT_EQ(a.tasks(0).duration(), 60);
  EXPECT_EQ(a.sync().type(), v1::PLAN_SYNC_TYPE_ORDERED);
  EXPECT_EQ(a.sync().min_gap(), 10);
  EXPECT_EQ(a.sync().max_gap(), 30);
  EXPECT_EQ(p.visits(1).tasks(0).service(), "organisations/o|");
  EXPECT_FALSE(p.visits(1).has_sync());
  ASSERT_EQ(p.services_size(), 2);
  // Everyone of the owner serves the skill-less service; only the nurse the bathing one. The
  // other organisation's worker has no service of theirs to serve.
  ASSERT_EQ(p.workers_size(), 2);
  EXPECT_EQ(p.workers(0).id(), "workers/helper");
  EXPECT_EQ(p.workers(0).skills_size(), 1);
  EXPECT_EQ(p.workers(1).id(), "workers/nurse");
  EXPECT_EQ(p.workers(1).skills_size(), 2);
  // Without an availability schedule: 08:00-20:00.
  ASSERT_EQ(p.workers(1).shifts_size(), 1);
  EXPECT_EQ(p.workers(1).shifts(0).start(), 8 * 60);
  EXPECT_EQ(p.workers(1).shifts(0).end(), 20 * 60);
  EXPECT_EQ(p.weights().continuity(), kContinuityWeight);
  EXPECT_TRUE(p.options().unservable_as_unassigned());
}

TEST(BuildPlanProblem, AWorkerWithoutABaseStartsFromTheMiddleOfTheHomes) {
  std::vector<PlanCandidate> candidates = {Candidate("a", "organisations/o", {}, 1, 31.2, 121.4),
                                           Candidate("b", "organisations/o", {}, 1, 31.4, 121.6)};
  registry::v1::Worker based = Worker("based", "organisations/o", {});
  based.mutable_base_location()->set_latitude(31.0);
  based.mutable_base_location()->set_longitude(121.0);
  std::map<std::string, registry::v1::Worker> workers = {
      {"workers/based", based}, {"workers/w", Worker("w", "organisations/o", {})}};
  const v1::PlanProblem p =
      BuildPlanProblem("plans/1", Tuesday(), candidates, {}, workers, {}).problem;
  ASSERT_EQ(p.locations_size(), 4);  // two homes, two bases
  EXPECT_EQ(p.locations(2).id(), "workers/based");
  EXPECT_DOUBLE_EQ(p.locations(2).latitude(), 31.0);
  EXPECT_EQ(p.locations(3).id(), "workers/w");
  EXPECT_DOUBLE_EQ(p.locations(3).latitude(), 31.3);
  EXPECT_DOUBLE_EQ(p.locations(3).longitude(), 121.5);
}

TEST(BuildPlanProblem, FamiliarWorkersWhoCannotWorkThenAreDropped) {
  std::vector<PlanCandidate> candidates = {Candidate("a", "organisations/o", {}, 2)};
  candidates[0].commitment.set_preferred_worker("workers/weekend");
  registry::v1::Worker weekend = Worker("weekend", "organisations/o", {});
  weekend.mutable_availability()->set_rrule("FREQ=WEEKLY;BYDAY=SA,SU");
  weekend.mutable_availability()->set_dtstart("2026-01-03T08:00:00");
  weekend.mutable_availability()->set_duration_minutes(480);
  std::map<std::string, registry::v1::Worker> workers = {
      {"workers/weekend", weekend},
      {"workers/x", Worker("x", "organisations/o", {})},
      {"workers/y", Worker("y", "organisations/o", {})}};
  // Last time: the weekend volunteer and x; "left" is no longer among the owner's workers.
  std::map<std::string, std::vector<std::string>> previous = {
      {"c-a", {"workers/left", "workers/weekend", "workers/x"}}};
  const v1::PlanProblem p =
      BuildPlanProblem("plans/1", Tuesday(), candidates, previous, workers, {}).problem;
  ASSERT_EQ(p.workers_size(), 2);  // the volunteer has no shift on a Tuesday
  const v1::PlanVisit& v = p.visits(0);
  EXPECT_EQ(v.previous_worker(), "");  // was the volunteer
  EXPECT_EQ(std::vector<std::string>(v.preferred_workers().begin(), v.preferred_workers().end()),
            std::vector<std::string>{"workers/x"});

  previous = {{"c-a", {"workers/y", "workers/x"}}};
  const v1::PlanVisit w =
      BuildPlanProblem("plans/1", Tuesday(), candidates, previous, workers, {}).problem.visits(0);
  EXPECT_EQ(w.previous_worker(), "workers/y");
  EXPECT_EQ(std::vector<std::string>(w.preferred_workers().begin(), w.preferred_workers().end()),
            std::vector<std::string>{"workers/x"});
}

TEST(BuildPlanProblem, GivenWeightsAreKept) {
  v1::PlanWeights weights;
  weights.set_continuity(0);
  weights.set_travel(2);
  const v1::PlanProblem p =
      BuildPlanProblem("plans/1", Tuesday(), {Candidate("a", "organisations/o", {})}, {}, {},
                       weights)
          .problem;
  EXPECT_TRUE(p.weights().has_continuity());
  EXPECT_EQ(p.weights().continuity(), 0);
  EXPECT_EQ(p.weights().travel(), 2);
  EXPECT_EQ(p.workers_size(), 0);
}

TEST(PlanSettingsFor, DefaultTimeLimitAndSeed) {
  v1::PlanRequest request;
  planner::PlanSettings settings = PlanSettingsFor(request);
  EXPECT_EQ(settings.time_limit_seconds, kDefaultPlanTimeLimitSeconds);
  EXPECT_FALSE(settings.seed.has_value());
  request.set_time_limit_seconds(1.5);
  request.set_seed(7);
  settings = PlanSettingsFor(request);
  EXPECT_EQ(settings.time_limit_seconds, 1.5);
  EXPECT_EQ(settings.seed, 7u);
}

TEST(PlannedStart, RoundsUpToTheMinuteButNotWholeMinutes) {
  const absl::Time begin = absl::FromUnixSeconds(1796140800);
  EXPECT_EQ(PlannedStart(begin, 540), begin + absl::Minutes(540));
  EXPECT_EQ(PlannedStart(begin, 540 + 1e-12), begin + absl::Minutes(540));  // float noise
  EXPECT_EQ(PlannedStart(begin, 540.2), begin + absl::Minutes(541));
}

TEST(CompleteBookings, OnlyVisitsWithEveryTaskPlanned) {
  const PlanPeriod period = Tuesday();
  std::vector<PlanCandidate> candidates = {Candidate("a", "organisations/o", {}, 2),
                                           Candidate("b", "organisations/o", {}),
                                           Candidate("c", "organisations/o", {}, 2)};
  v1::Plan plan;
  v1::Route* x = plan.add_routes();
  x->set_worker("workers/x");
  auto visit = [](v1::Route* route, const std::string& name, double start) {
    v1::PlannedVisit* pv = route->add_visits();
    pv->set_visit(name);
    pv->set_start(start);
  };
  visit(x, "visits/c", 600);
  visit(x, "visits/b", 540.5);
  visit(x, "visits/a", 700);
  v1::Route* y = plan.add_routes();
  y->set_worker("workers/y");
  visit(y, "visits/a", 710);
  const std::vector<PlannedBooking> complete = CompleteBookings(plan, candidates, period.begin);
  ASSERT_EQ(complete.size(), 2u);  // c has one of its two workers
  EXPECT_EQ(complete[0].candidate, &candidates[0]);
  ASSERT_EQ(complete[0].workers.size(), 2u);
  EXPECT_EQ(complete[0].workers[0].first, "workers/x");
  EXPECT_EQ(complete[0].workers[1].first, "workers/y");
  EXPECT_EQ(complete[0].workers[1].second, period.begin + absl::Minutes(710));
  EXPECT_EQ(complete[1].candidate, &candidates[1]);
  EXPECT_EQ(complete[1].workers[0].second, period.begin + absl::Minutes(541));
}

TEST(BookedRoutes, TheBookedVisitsOfEachRouteInOrderWithTheirWorker) {
  const PlanPeriod period = Tuesday();
  std::vector<PlanCandidate> candidates = {Candidate("a", "organisations/o", {}),
                                           Candidate("b", "organisations/o", {}),
                                           Candidate("c", "organisations/o", {})};
  v1::Plan plan;
  auto visit = [](v1::Route* route, const std::string& name, double start, double travel) {
    v1::PlannedVisit* pv = route->add_visits();
    pv->set_visit(name);
    pv->set_start(start);
    pv->set_end(start + 30);
    pv->set_travel_from_previous(travel);
  };
  v1::Route* x = plan.add_routes();
  x->set_worker("workers/x");
  x->set_travel(42);
  visit(x, "visits/c", 600, 12);
  visit(x, "visits/b", 540.5, 5);  // the route's order is kept, whatever the times
  v1::Route* y = plan.add_routes();
  y->set_worker("workers/y");
  visit(y, "visits/a", 700, 9);
  std::map<std::string, registry::v1::Worker> workers;
  workers["workers/x"].set_display_name("李阿姨");
  workers["workers/x"].set_organisation("organisations/o");

  // "a" was refused (a conflict): y's route is left out; x keeps its two visits in order.
  const std::vector<v1::PlannedRoute> routes =
      BookedRoutes(plan, candidates, {"visits/b", "visits/c"}, workers, period.begin);
  ASSERT_EQ(routes.size(), 1u);
  EXPECT_EQ(routes[0].worker(), "workers/x");
  EXPECT_EQ(routes[0].worker_display_name(), "李阿姨");
  EXPECT_EQ(routes[0].organisation(), "organisations/o");
  EXPECT_EQ(routes[0].travel_minutes(), 42);  // x's visits are all booked
  ASSERT_EQ(routes[0].stops_size(), 2);
  const v1::PlannedStop& first = routes[0].stops(0);
  EXPECT_EQ(first.visit(), "visits/c");
  EXPECT_EQ(first.elder(), candidates[2].visit.elder());
  EXPECT_EQ(first.commitment(), candidates[2].visit.commitment());
  EXPECT_EQ(FromTimestamp(first.start()), period.begin + absl::Minutes(600));
  EXPECT_EQ(FromTimestamp(first.end()), period.begin + absl::Minutes(630));
  EXPECT_EQ(first.travel_minutes(), 12);
  // Starts are whole minutes, as booked.
  EXPECT_EQ(FromTimestamp(routes[0].stops(1).start()), period.begin + absl::Minutes(541));
  EXPECT_EQ(routes[0].stops(1).visit(), "visits/b");

  // Everything booked: both routes, a worker the map does not know keeps only their name.
  const std::vector<v1::PlannedRoute> all =
      BookedRoutes(plan, candidates, {"visits/a", "visits/b", "visits/c"}, workers, period.begin);
  ASSERT_EQ(all.size(), 2u);
  // A route with a visit left out has no travel: the planned trips went by that visit.
  const std::vector<v1::PlannedRoute> part =
      BookedRoutes(plan, candidates, {"visits/a", "visits/b"}, workers, period.begin);
  ASSERT_EQ(part.size(), 2u);
  EXPECT_EQ(part[0].stops_size(), 1);
  EXPECT_EQ(part[0].travel_minutes(), 0);
  EXPECT_EQ(part[0].stops(0).travel_minutes(), 0);
  EXPECT_EQ(part[1].stops(0).travel_minutes(), 9);
  EXPECT_EQ(all[1].worker(), "workers/y");
  EXPECT_EQ(all[1].worker_display_name(), "");
  EXPECT_EQ(all[1].stops(0).visit(), "visits/a");
}

}  // namespace
}  // namespace linli::scheduling
