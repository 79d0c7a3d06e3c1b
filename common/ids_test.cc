#include "common/ids.h"

#include <set>

#include "gtest/gtest.h"

namespace linli {
namespace {

TEST(IdsTest, IdsAreUniqueHexAndOrderedByTime) {
  FakeClock clock(absl::FromUnixSeconds(1'800'000'000));
  std::set<std::string> ids;
  std::string previous;
  for (int i = 0; i < 1000; ++i) {
    std::string id = NewId(clock);
    ASSERT_EQ(id.size(), 32u);
    ASSERT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
    EXPECT_TRUE(ids.insert(id).second);
    if (!previous.empty()) {
      EXPECT_LT(previous.substr(0, 12), id.substr(0, 12));
    }
    previous = id;
    clock.Advance(absl::Milliseconds(1));
  }
}

TEST(ClockTest, FakeClockMovesOnlyWhenTold) {
  FakeClock clock(absl::FromUnixSeconds(100));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(100));
  clock.Advance(absl::Hours(1));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(3700));
  EXPECT_GT(Clock::Real().Now(), absl::FromUnixSeconds(1'700'000'000));
}

}  // namespace
}  // namespace linli
