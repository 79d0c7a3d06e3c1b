// The ImportCommitments use case without gRPC: a table answers for the registry (and counts the
// questions), SQLite holds the promises; imports racing on one roster, on SQLite and MariaDB.
#include <atomic>
#include <barrier>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
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
 public:
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

 protected:
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

TEST_F(CommitmentImportTest, ACancelledPromiseMayBeImportedAgain) {
  v1::ImportCommitmentsRequest request;
  *request.add_rows() = Row(2, "elders/e1", "2026-12-01");
  absl::StatusOr<v1::ImportCommitmentsResponse> first =
      ImportCommitments(*db_, clock_, registry_, request);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->created(), 1);
  v1::CancelCommitmentRequest cancel;
  cancel.set_name(first->commitments(0));
  cancel.set_reason("家属要求暂停");
  v1::CancelCommitmentResponse cancelled;
  ASSERT_TRUE(
      CancelCommitment(*db_, clock_, first->commitments(0).substr(12), cancel, &cancelled).ok());
  // The cancelled promise no longer holds its key: the roster's row registers it anew.
  absl::StatusOr<v1::ImportCommitmentsResponse> again =
      ImportCommitments(*db_, clock_, registry_, request);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->created(), 1);
  EXPECT_EQ(again->existing(), 0);
  EXPECT_NE(again->commitments(0), first->commitments(0));
  EXPECT_EQ(Stored(), 2);
}

// Eight staff import the same roster at the same moment, round after round: each promise is
// registered once, every call answers (created by one, existing for the others), none fails.
class CommitmentImportRaceTest : public ::testing::TestWithParam<std::string> {};

TEST_P(CommitmentImportRaceTest, EightImportsOfOneRosterRegisterEachPromiseOnce) {
  constexpr int kThreads = 8, kRounds = 15, kElders = 6;
  absl::StatusOr<std::string> url = testing::FreshDatabaseUrl(GetParam(), "commitment_race");
  ASSERT_TRUE(url.ok()) << url.status();
  storage::OpenOptions options;
  options.pool_size = kThreads;
  options.busy_timeout = absl::Seconds(30);
  auto db = storage::OpenDatabase(*url, options);
  ASSERT_TRUE(db.ok()) << db.status();
  ASSERT_TRUE(storage::ApplyMigrations(**db, "scheduling", SchedulingMigrations()).ok());
  const FakeClock clock(absl::FromUnixSeconds(1795140000));  // 2026-11-20 10:00 Shanghai
  TableRegistry registry;
  for (int e = 0; e < kElders; ++e) {
    registry::v1::Elder& elder = registry.elders[absl::StrCat("elders/e", e)];
    elder.set_name(absl::StrCat("elders/e", e));
    elder.mutable_location()->set_latitude(31.2);
    elder.mutable_location()->set_longitude(121.48);
  }
  registry.organisations["organisations/o"].set_name("organisations/o");
  registry.service_types = {"serviceTypes/visiting"};

  std::vector<std::atomic<int>> created(kRounds), existing(kRounds);
  std::barrier sync(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      TableRegistry mine = registry;  // its question counts are its own
      for (int round = 0; round < kRounds; ++round) {
        // Each round a roster of new promises (one day later), its rows in an order of its own.
        v1::ImportCommitmentsRequest request;
        const std::string day = absl::FormatCivilTime(absl::CivilDay(2026, 12, 1) + round);
        for (int e = 0; e < kElders; ++e) {
          *request.add_rows() = CommitmentImportTest::Row(e + 2, absl::StrCat("elders/e", e), day);
        }
        sync.arrive_and_wait();
        absl::StatusOr<v1::ImportCommitmentsResponse> imported =
            ImportCommitments(**db, clock, mine, request);
        if (!imported.ok()) {
          ADD_FAILURE() << "round " << round << ": " << imported.status();
          continue;
        }
        EXPECT_TRUE(imported->problems().empty());
        created[round].fetch_add(imported->created());
        existing[round].fetch_add(imported->existing());
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int round = 0; round < kRounds; ++round) {
    EXPECT_EQ(created[round].load(), kElders) << "round " << round;
    EXPECT_EQ(existing[round].load(), kElders * (kThreads - 1)) << "round " << round;
  }
  ASSERT_TRUE((*db)
                  ->RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
                    ASSIGN_OR_RETURN(auto all, QueryCommitments(tx, "", false, "", 10000));
                    EXPECT_EQ(all.size(), static_cast<size_t>(kRounds * kElders));
                    return absl::OkStatus();
                  })
                  .ok());
}

INSTANTIATE_TEST_SUITE_P(Backends, CommitmentImportRaceTest,
                         ::testing::ValuesIn(testing::Backends()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace linli::scheduling
