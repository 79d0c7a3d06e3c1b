#include "services/feedback/day_board.h"

#include <gtest/gtest.h>

namespace linli::feedback {
namespace {

// 2026-12-08 (a Tuesday) at hh:mm, Shanghai.
absl::Time At(int hour, int minute = 0) {
  return absl::FromCivil(absl::CivilMinute(2026, 12, 8, hour, minute),
                         absl::FixedTimeZone(8 * 3600));
}

ProjectedVisit Booked(const std::string& id, int start_hour, VisitState state) {
  ProjectedVisit v;
  v.id = id;
  v.commitment_id = "c-" + id;
  v.elder = "elders/" + id;
  v.state = state;
  v.window_start_us = absl::ToUnixMicros(At(start_hour));
  v.window_end_us = absl::ToUnixMicros(At(start_hour, 30));
  v.staffed = 1;
  return v;
}

TEST(BoardStateAt, AScheduledVisitTurnsLateOnceItsWindowClosesWithoutACheckIn) {
  const ProjectedVisit v = Booked("a", 9, VisitState::kScheduled);
  EXPECT_EQ(BoardStateAt(v, At(8)), v1::BOARD_STATE_SCHEDULED);
  EXPECT_EQ(BoardStateAt(v, At(9, 30)), v1::BOARD_STATE_SCHEDULED);  // the window's last minute
  EXPECT_EQ(BoardStateAt(v, At(9, 31)), v1::BOARD_STATE_LATE);
  ProjectedVisit nobody = v;
  nobody.staffed = 0;
  EXPECT_EQ(BoardStateAt(nobody, At(8)), v1::BOARD_STATE_UNSTAFFED);
  EXPECT_EQ(BoardStateAt(nobody, At(10)), v1::BOARD_STATE_UNSTAFFED);
  // Projected before bookings and windows were kept: not judged.
  ProjectedVisit unknown = v;
  unknown.staffed = -1;
  unknown.window_end_us = 0;
  EXPECT_EQ(BoardStateAt(unknown, At(12)), v1::BOARD_STATE_SCHEDULED);
}

TEST(BoardStateAt, WhatSchedulingSaysWinsOverTheClock) {
  EXPECT_EQ(BoardStateAt(Booked("a", 9, VisitState::kInProgress), At(12)),
            v1::BOARD_STATE_IN_PROGRESS);
  EXPECT_EQ(BoardStateAt(Booked("a", 9, VisitState::kCompleted), At(12)), v1::BOARD_STATE_DONE);
  EXPECT_EQ(BoardStateAt(Booked("a", 9, VisitState::kMissed), At(12)), v1::BOARD_STATE_MISSED);
  ProjectedVisit cancelled = Booked("a", 9, VisitState::kCancelled);
  cancelled.staffed = 0;
  EXPECT_EQ(BoardStateAt(cancelled, At(12)), v1::BOARD_STATE_CANCELLED);
}

TEST(BuildDayBoard, CountsPerCommitteeAndPutsWhatCanStillBeSavedFirst) {
  std::vector<BoardRow> rows;
  rows.push_back({Booked("done", 8, VisitState::kCompleted), "regions/2"});
  ProjectedVisit late_arrival = Booked("done-late", 8, VisitState::kCompleted);
  late_arrival.late = true;
  rows.push_back({late_arrival, "regions/1"});
  rows.push_back({Booked("missed", 7, VisitState::kMissed), "regions/1"});
  rows.push_back({Booked("late-10", 10, VisitState::kScheduled), "regions/1"});
  rows.push_back({Booked("late-9", 9, VisitState::kScheduled), "regions/2"});
  ProjectedVisit unstaffed = Booked("unstaffed", 8, VisitState::kScheduled);
  unstaffed.staffed = 0;
  rows.push_back({unstaffed, "regions/2"});
  rows.push_back({Booked("later", 15, VisitState::kScheduled), "regions/1"});
  rows.push_back({Booked("now", 11, VisitState::kInProgress), "regions/1"});

  const v1::GetDayBoardResponse board = BuildDayBoard(rows, At(11), 3);
  EXPECT_EQ(board.total().done(), 2);
  EXPECT_EQ(board.total().late_arrivals(), 1);
  EXPECT_EQ(board.total().missed(), 1);
  EXPECT_EQ(board.total().late(), 2);
  EXPECT_EQ(board.total().unstaffed(), 1);
  EXPECT_EQ(board.total().scheduled(), 1);
  EXPECT_EQ(board.total().in_progress(), 1);
  EXPECT_EQ(board.total().cancelled(), 0);
  ASSERT_EQ(board.committees_size(), 2);
  EXPECT_EQ(board.committees(0).committee(), "regions/1");
  EXPECT_EQ(board.committees(0).counts().late(), 1);
  EXPECT_EQ(board.committees(0).counts().missed(), 1);
  EXPECT_EQ(board.committees(0).counts().late_arrivals(), 1);
  EXPECT_EQ(board.committees(1).counts().unstaffed(), 1);
  // Late (earliest window first), then unstaffed, then missed; cut at the limit, counted whole.
  EXPECT_EQ(board.attention_total(), 4);
  ASSERT_EQ(board.attention_size(), 3);
  EXPECT_EQ(board.attention(0).visit(), "visits/late-9");
  EXPECT_EQ(board.attention(0).committee(), "regions/2");
  EXPECT_EQ(board.attention(1).visit(), "visits/late-10");
  EXPECT_EQ(board.attention(2).visit(), "visits/unstaffed");
  EXPECT_EQ(board.attention(2).state(), v1::BOARD_STATE_UNSTAFFED);
  EXPECT_EQ(board.attention(0).elder(), "elders/late-9");
  EXPECT_EQ(board.attention(0).commitment(), "commitments/c-late-9");
}

}  // namespace
}  // namespace linli::feedback
