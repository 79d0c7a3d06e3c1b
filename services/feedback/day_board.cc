#include "services/feedback/day_board.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "common/proto_time.h"

namespace linli::feedback {

v1::BoardState BoardStateAt(const ProjectedVisit& visit, absl::Time now) {
  switch (visit.state) {
    case VisitState::kCancelled:
      return v1::BOARD_STATE_CANCELLED;
    case VisitState::kMissed:
      return v1::BOARD_STATE_MISSED;
    case VisitState::kCompleted:
      return v1::BOARD_STATE_DONE;
    case VisitState::kInProgress:
      return v1::BOARD_STATE_IN_PROGRESS;
    case VisitState::kScheduled:
    case VisitState::kUnspecified:
      break;
  }
  if (visit.staffed == 0) return v1::BOARD_STATE_UNSTAFFED;
  if (visit.staffed > 0 && visit.window_end_us > 0 &&
      now > absl::FromUnixMicros(visit.window_end_us)) {
    return v1::BOARD_STATE_LATE;
  }
  return v1::BOARD_STATE_SCHEDULED;
}

void Count(const ProjectedVisit& visit, v1::BoardState state, v1::BoardCounts& counts) {
  switch (state) {
    case v1::BOARD_STATE_SCHEDULED:
      counts.set_scheduled(counts.scheduled() + 1);
      break;
    case v1::BOARD_STATE_UNSTAFFED:
      counts.set_unstaffed(counts.unstaffed() + 1);
      break;
    case v1::BOARD_STATE_LATE:
      counts.set_late(counts.late() + 1);
      break;
    case v1::BOARD_STATE_IN_PROGRESS:
      counts.set_in_progress(counts.in_progress() + 1);
      break;
    case v1::BOARD_STATE_DONE:
      counts.set_done(counts.done() + 1);
      break;
    case v1::BOARD_STATE_MISSED:
      counts.set_missed(counts.missed() + 1);
      break;
    case v1::BOARD_STATE_CANCELLED:
      counts.set_cancelled(counts.cancelled() + 1);
      break;
    default:
      return;
  }
  if (visit.late) counts.set_late_arrivals(counts.late_arrivals() + 1);
  if (state == v1::BOARD_STATE_DONE && visit.review == kReviewPending) {
    counts.set_under_review(counts.under_review() + 1);
  }
}

namespace {

// Order of the attention list: what can still be saved first.
int Urgency(v1::BoardState state) {
  switch (state) {
    case v1::BOARD_STATE_LATE:
      return 0;
    case v1::BOARD_STATE_UNSTAFFED:
      return 1;
    case v1::BOARD_STATE_MISSED:
      return 2;
    default:
      return -1;  // needs nobody
  }
}

}  // namespace

v1::GetDayBoardResponse BuildDayBoard(const std::vector<BoardRow>& rows, absl::Time now,
                                      int attention_limit) {
  v1::GetDayBoardResponse board;
  std::map<std::string, v1::BoardCounts> committees;
  struct Attention {
    int urgency;
    int64_t window_start_us;
    const BoardRow* row;
    v1::BoardState state;
  };
  std::vector<Attention> attention;
  for (const BoardRow& row : rows) {
    const v1::BoardState state = BoardStateAt(row.visit, now);
    Count(row.visit, state, *board.mutable_total());
    Count(row.visit, state, committees[row.committee]);
    if (const int urgency = Urgency(state); urgency >= 0) {
      attention.push_back({urgency, row.visit.window_start_us, &row, state});
    }
  }
  for (auto& [committee, counts] : committees) {
    v1::CommitteeDay* day = board.add_committees();
    day->set_committee(committee);
    *day->mutable_counts() = std::move(counts);
  }
  std::sort(attention.begin(), attention.end(), [](const Attention& a, const Attention& b) {
    return std::tie(a.urgency, a.window_start_us, a.row->visit.id) <
           std::tie(b.urgency, b.window_start_us, b.row->visit.id);
  });
  board.set_attention_total(static_cast<int32_t>(attention.size()));
  for (const Attention& a : attention) {
    if (board.attention_size() >= attention_limit) break;
    const ProjectedVisit& v = a.row->visit;
    v1::BoardVisit* out = board.add_attention();
    out->set_visit("visits/" + v.id);
    out->set_elder(v.elder);
    out->set_commitment("commitments/" + v.commitment_id);
    out->set_committee(a.row->committee);
    out->set_state(a.state);
    if (v.window_start_us > 0) {
      *out->mutable_window_start() = ToTimestamp(absl::FromUnixMicros(v.window_start_us));
    }
    if (v.window_end_us > 0) {
      *out->mutable_window_end() = ToTimestamp(absl::FromUnixMicros(v.window_end_us));
    }
  }
  return board;
}

}  // namespace linli::feedback
