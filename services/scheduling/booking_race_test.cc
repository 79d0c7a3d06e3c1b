// Double-booking is impossible by construction: 64 threads (each with its own database
// connection) book the same worker at the same time, round after round; the database lets exactly
// one booking per round through. 1,000 rounds, against MariaDB and SQLite.
#include <atomic>
#include <barrier>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "gtest/gtest.h"
#include "services/scheduling/scheduling_store.h"
#include "tests/support/test_env.h"

namespace linli::scheduling {
namespace {

constexpr int kThreads = 64;

class BookingRaceTest : public ::testing::TestWithParam<std::string> {};

TEST_P(BookingRaceTest, SixtyFourThreadsOneWorkerOneSlotExactlyOneBookingPerRound) {
  constexpr int rounds = 1000;
  absl::StatusOr<std::string> url = testing::FreshDatabaseUrl(GetParam(), "booking_race");
  ASSERT_TRUE(url.ok()) << url.status();
  storage::OpenOptions options;
  options.pool_size = kThreads;
  options.busy_timeout = absl::Seconds(30);
  auto db = storage::OpenDatabase(*url, options);
  ASSERT_TRUE(db.ok()) << db.status();
  ASSERT_TRUE(storage::ApplyMigrations(**db, "scheduling", SchedulingMigrations()).ok());

  const absl::Time base = absl::FromUnixSeconds(1796263200);  // 2026-12-01 09:00 Shanghai
  std::vector<std::atomic<int>> winners(rounds);
  std::atomic<int> refused{0}, other_errors{0};
  std::barrier sync(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < rounds; ++round) {
        sync.arrive_and_wait();  // every thread starts the round together
        // One hour, shifted by a different number of minutes (and seconds) per thread so that
        // the bookings overlap without being identical; rounds are two hours apart.
        const absl::Time start =
            base + absl::Hours(2 * round) + absl::Minutes(t % 30) + absl::Seconds(t % 2 ? 0 : 20);
        const std::string visit = absl::StrCat("r", round, "t", t);
        absl::Status status = (*db)->RunInTransaction([&](storage::Transaction& tx) {
          return BookWorker(tx, "workers/w1", visit, start, start + absl::Hours(1));
        });
        if (status.ok()) {
          winners[round].fetch_add(1);
        } else if (absl::IsFailedPrecondition(status)) {
          refused.fetch_add(1);
        } else {
          other_errors.fetch_add(1);
          ADD_FAILURE() << status;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  int wrong_rounds = 0;
  for (int round = 0; round < rounds; ++round) wrong_rounds += winners[round].load() != 1;
  EXPECT_EQ(wrong_rounds, 0);
  EXPECT_EQ(refused.load(), rounds * (kThreads - 1));
  EXPECT_EQ(other_errors.load(), 0);
  // What the database holds agrees: one visit per round, an hour (of minutes) each, none shared.
  ASSERT_TRUE((*db)
                  ->RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
                    ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT COUNT(DISTINCT visit_id), "
                                                         "COUNT(*), COUNT(DISTINCT slot) FROM "
                                                         "worker_slots"));
                    EXPECT_EQ(rows[0].GetInt(0), rounds);
                    EXPECT_EQ(rows[0].GetInt(1), rows[0].GetInt(2));
                    EXPECT_GE(rows[0].GetInt(1), rounds * 60);
                    return absl::OkStatus();
                  })
                  .ok());
}

INSTANTIATE_TEST_SUITE_P(Backends, BookingRaceTest, ::testing::ValuesIn(testing::Backends()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace linli::scheduling
