// The ImportCommitments use case without gRPC: a table answers for the registry (and counts the
// questions), SQLite holds the promises.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/errors.h"
#include "common/status_macros.h"
#include "gtest/gtest.h"
#include "services/scheduling/commitment_use_cases.h"
#include "services/scheduling/scheduling_store.h"
#include "services/scheduling/testing/table_registry.h"
#include "tests/support/test_env.h"

namespace linli::scheduling {
namespace {

class CommitmentImportTest : public ::testing::Test {
 protected:
  // 2026-11-20 10:00 Shanghai.
  CommitmentImportTest() : clock_(absl::FromUnixSeconds(1795140000)) {}

  void SetUp() override {
    absl::StatusOr<std::string> url = testing::FreshDatabaseUrl("sqlite", "commitment_import");
    ASSERT_TRUE(url.ok()) << url.status();
    auto db = storage::OpenDatabase(*url);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    ASSERT_TRUE(storage::ApplyMigrations(*db_, "scheduling", SchedulingMigrations()).ok());
    for (const char* name : {"elders/e1", "elders/e2", "elders/gone"}) {
      registry::v1::Elder& elder = registry_.elders[name];
      elder.set_name(name);
      elder.mutable_location()->set_latitude(31.2);
      elder.mutable_location()->set_longitude(121.48);
    }
    registry_.elders["elders/gone"].set_erased(true);
    registry_.organisations["organisations/o"].set_name("organisations/o");
    registry_.service_types = {"serviceTypes/visiting"};
  }

  // A promise of `elder` on Tuesdays from `valid_from`.
  static v1::ImportedCommitment Row(int line, const std::string& elder,
                                    const std::string& valid_from) {
    v1::ImportedCommitment row;
    row.set_line(line);
    v1::Commitment* c = row.mutable_commitment();
    c->set_elder(elder);
    c->set_service_type("serviceTypes/visiting");
    c->set_owner_organisation("organisations/o");
    c->mutable_recurrence()->set_rrule("FREQ=WEEKLY;BYDAY=TU");
    c->mutable_recurrence()->set_dtstart(valid_from + "T09:00:00");
    c->set_window_minutes(60);
    c->set_duration_minutes(45);
    c->set_valid_from(valid_from);
    return row;
  }

  int Stored() {
    int n = -1;
    EXPECT_TRUE(db_->RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
                     ASSIGN_OR_RETURN(auto all, QueryCommitments(tx, "", false, "", 10000));
                     n = static_cast<int>(all.size());
                     return absl::OkStatus();
                   })
                    .ok());
    return n;
  }

  FakeClock clock_;
  TableRegistry registry_;
  std::unique_ptr<storage::Database> db_;
};

TEST_F(CommitmentImportTest, ImportCommitmentsAsksTheRegistryOncePerName) {
  v1::ImportCommitmentsRequest request;
  const std::vector<std::string> days = {"2026-12-01", "2026-12-08", "2026-12-15", "2026-12-22"};
  int line = 2;
  for (const std::string& day : days) {
    *request.add_rows() = Row(line++, "elders/e1", day);
    *request.add_rows() = Row(line++, "elders/e2", day);
  }
  absl::StatusOr<v1::ImportCommitmentsResponse> imported =
      ImportCommitments(*db_, clock_, registry_, request);
  ASSERT_TRUE(imported.ok()) << imported.status();
  EXPECT_EQ(imported->created(), 8);
  EXPECT_TRUE(imported->written());
  EXPECT_EQ(registry_.asked, (std::map<std::string, int>{{"GetElder elders/e1", 1},
                                                         {"GetElder elders/e2", 1},
                                                         {"GetOrganisation organisations/o", 1},
                                                         {"ListServiceTypes", 1}}));
  EXPECT_EQ(Stored(), 8);
}

TEST_F(CommitmentImportTest, ImportCommitmentsRefusesAnElderNoLongerServed) {
  v1::ImportCommitmentsRequest request;
  *request.add_rows() = Row(2, "elders/e1", "2026-12-01");
  *request.add_rows() = Row(3, "elders/gone", "2026-12-01");
  absl::StatusOr<v1::ImportCommitmentsResponse> imported =
      ImportCommitments(*db_, clock_, registry_, request);
  ASSERT_TRUE(imported.ok()) << imported.status();
  ASSERT_EQ(imported->problems_size(), 1);
  EXPECT_EQ(imported->problems(0).line(), 3);
  EXPECT_EQ(imported->problems(0).field(), "commitment.elder");
  EXPECT_FALSE(imported->problems(0).reason_zh().empty());
  EXPECT_EQ(imported->created(), 1);
  EXPECT_FALSE(imported->written());
  EXPECT_EQ(Stored(), 0);
}

TEST_F(CommitmentImportTest, ImportCommitmentsFailsWholeWhenTheRegistryCannotBeAsked) {
  registry_.failure = absl::UnavailableError("registry down");
  v1::ImportCommitmentsRequest request;
  *request.add_rows() = Row(2, "elders/e1", "2026-12-01");
  request.set_skip_bad_rows(true);
  absl::StatusOr<v1::ImportCommitmentsResponse> imported =
      ImportCommitments(*db_, clock_, registry_, request);
  EXPECT_EQ(imported.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(Stored(), 0);
}

TEST_F(CommitmentImportTest, ImportCommitmentsKnowsTheSameDayHoweverWritten) {
  v1::ImportCommitmentsRequest request;
  *request.add_rows() = Row(2, "elders/e1", "2026-12-01");
  ASSERT_TRUE(ImportCommitments(*db_, clock_, registry_, request).ok());
  // The same day, without the leading zero the date parser does not require.
  v1::ImportCommitmentsRequest again;
  *again.add_rows() = Row(2, "elders/e1", "2026-12-1");
  absl::StatusOr<v1::ImportCommitmentsResponse> imported =
      ImportCommitments(*db_, clock_, registry_, again);
  ASSERT_TRUE(imported.ok()) << imported.status();
  EXPECT_TRUE(imported->problems().empty()) << imported->problems(0).reason();
  EXPECT_EQ(imported->existing(), 1);
  EXPECT_EQ(imported->created(), 0);
  EXPECT_EQ(Stored(), 1);
}

}  // namespace
}  // namespace linli::scheduling
