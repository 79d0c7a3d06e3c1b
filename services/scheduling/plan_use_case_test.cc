// The Plan use case without gRPC: a table answers for the registry, SQLite holds the visits.
#include "services/scheduling/plan_use_case.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/errors.h"
#include "common/status_macros.h"
#include "gtest/gtest.h"
#include "services/scheduling/scheduling_store.h"
#include "services/scheduling/scheduling_util.h"
#include "services/scheduling/testing/table_registry.h"
#include "tests/support/test_env.h"

namespace linli::scheduling {
namespace {

const absl::Time kNine = absl::FromUnixSeconds(1796086800);  // 2026-12-01 09:00 Shanghai

class PlanUseCaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::string> url = testing::FreshDatabaseUrl("sqlite", "plan_use_case");
    ASSERT_TRUE(url.ok()) << url.status();
    auto db = storage::OpenDatabase(*url);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    ASSERT_TRUE(storage::ApplyMigrations(*db_, "scheduling", SchedulingMigrations()).ok());
    // One bathing commitment of organisations/o with a visit at 09:00-11:00 at the elder's home.
    v1::Commitment c;
    c.set_name("commitments/c1");
    c.set_elder("elders/e1");
    c.set_owner_organisation("organisations/o");
    c.add_required_skills("bathing");
    c.set_workers_required(1);
    c.set_state(v1::COMMITMENT_STATE_ACTIVE);
    VisitRow row;
    row.id = "v1";
    row.commitment_id = "c1";
    row.window_start_us = absl::ToUnixMicros(kNine);
    row.visit.set_name("visits/v1");
    row.visit.set_commitment("commitments/c1");
    row.visit.set_elder("elders/e1");
    row.visit.set_occurrence("2026-12-01T09:00:00");
    *row.visit.mutable_window_start() = ToTimestamp(kNine);
    *row.visit.mutable_window_end() = ToTimestamp(kNine + absl::Hours(2));
    row.visit.set_duration_minutes(60);
    row.visit.set_workers_required(1);
    row.visit.mutable_home()->set_latitude(31.2);
    row.visit.mutable_home()->set_longitude(121.48);
    row.visit.set_state(v1::VISIT_STATE_SCHEDULED);
    ASSERT_TRUE(db_->RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
                     RETURN_IF_ERROR(InsertCommitment(tx, "c1", c));
                     return InsertVisit(tx, row);
                   })
                    .ok());
    registry::v1::Worker w;
    w.set_name("workers/w1");
    w.set_organisation("organisations/o");
    w.add_skills("bathing");
    w.set_status(registry::v1::WORKER_STATUS_ACTIVE);
    registry_.workers["organisations/o"] = {w};
    registry_.region_elders["regions/r"] = {"elders/e1"};
    request_.set_from_date("2026-12-01");
    request_.set_days(1);
    request_.set_time_limit_seconds(0.2);
    request_.set_seed(1);
  }

  absl::Status Plan(v1::PlanResponse* response, bool cancelled = false) {
    return RunPlan(
        *db_, clock_, registry_, [cancelled] { return cancelled; }, request_, response);
  }

  v1::Visit Stored() {
    v1::Visit visit;
    EXPECT_TRUE(db_->RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
                     ASSIGN_OR_RETURN(std::optional<VisitRow> row, FindVisit(tx, "v1"));
                     visit = row->visit;
                     return absl::OkStatus();
                   })
                    .ok());
    return visit;
  }

  std::unique_ptr<storage::Database> db_;
  FakeClock clock_{kNine - absl::Hours(24)};
  TableRegistry registry_;
  v1::PlanRequest request_;
};

TEST_F(PlanUseCaseTest, BooksTheRoutesUnlessDryRun) {
  request_.set_dry_run(true);
  v1::PlanResponse dry;
  ASSERT_TRUE(Plan(&dry).ok());
  EXPECT_EQ(dry.visits(), 1);
  EXPECT_EQ(dry.workers(), 1);
  EXPECT_EQ(dry.booked(), 1);
  EXPECT_EQ(Stored().assignments_size(), 0);

  request_.set_dry_run(false);
  request_.set_region("regions/r");
  v1::PlanResponse plan;
  absl::Status status = Plan(&plan);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(plan.booked(), 1);
  EXPECT_EQ(plan.conflicts(), 0);
  const v1::Visit visit = Stored();
  ASSERT_EQ(visit.assignments_size(), 1);
  EXPECT_EQ(visit.assignments(0).worker(), "workers/w1");
  EXPECT_EQ(visit.assignments(0).source(), plan.name());

  // Booked now: nothing left to plan.
  v1::PlanResponse again;
  ASSERT_TRUE(Plan(&again).ok());
  EXPECT_EQ(again.visits(), 0);
}

TEST_F(PlanUseCaseTest, AnUnknownRegionIsABadField) {
  request_.set_region("regions/nowhere");
  v1::PlanResponse plan;
  absl::Status status = Plan(&plan);
  ASSERT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_EQ(GetBadRequest(status)->field_violations(0).field(), "region");
}

TEST_F(PlanUseCaseTest, ARequestIsValidatedBeforeAnythingIsAsked) {
  request_.set_days(0);
  v1::PlanResponse plan;
  EXPECT_TRUE(absl::IsInvalidArgument(Plan(&plan)));
  EXPECT_EQ(registry_.calls(), 0);
}

TEST_F(PlanUseCaseTest, RegistryFailuresArePassedOn) {
  registry_.failure = absl::UnavailableError("registry is unavailable; retry later");
  v1::PlanResponse plan;
  EXPECT_TRUE(absl::IsUnavailable(Plan(&plan)));
}

TEST_F(PlanUseCaseTest, ACallerWhoWentAwayStopsTheWorkAndNothingIsBooked) {
  v1::PlanResponse plan;
  EXPECT_TRUE(absl::IsCancelled(Plan(&plan, /*cancelled=*/true)));
  EXPECT_EQ(Stored().assignments_size(), 0);
  request_.set_region("regions/r");
  EXPECT_TRUE(absl::IsCancelled(Plan(&plan, /*cancelled=*/true)));
  EXPECT_EQ(registry_.calls(), 0);  // not even the region's first page was asked for
}

}  // namespace
}  // namespace linli::scheduling
