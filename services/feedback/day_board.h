// The day board (a street's or committee's visits of one day by state), pure C++: where each
// visit of the day stands at a given time, the counts per committee, and which visits need
// someone to act first. The store reads the visits from feedback's projection of scheduling's
// events (so the board moves as events arrive); the use case fills the proto.
#ifndef LINLI_SERVICES_FEEDBACK_DAY_BOARD_H_
#define LINLI_SERVICES_FEEDBACK_DAY_BOARD_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "linli/feedback/v1/feedback.pb.h"
#include "services/feedback/perception.h"

namespace linli::feedback {

// One visit of the day as the board sees it.
struct BoardRow {
  ProjectedVisit visit;
  std::string committee;  // the elder's, "regions/…"
};

// Where `visit` stands at `now`:
//   cancelled, missed, done (completed), in progress — as scheduling says;
//   a scheduled visit with nobody booked: UNSTAFFED;
//   a scheduled, booked visit nobody checked in to after its arrival window closed: LATE;
//   otherwise SCHEDULED.
// A visit projected before the board knew bookings and windows (staffed < 0) is SCHEDULED.
v1::BoardState BoardStateAt(const ProjectedVisit& visit, absl::Time now);

// Adds `visit`, in `state`, to `counts`.
void Count(const ProjectedVisit& visit, v1::BoardState state, v1::BoardCounts& counts);

// The board of `rows` at `now`: totals, one line per committee (ordered by committee), and the
// visits that need someone to act — late first, then unstaffed, then missed, each earliest
// window first — at most `attention_limit` of them (`attention_total` counts them all).
v1::GetDayBoardResponse BuildDayBoard(const std::vector<BoardRow>& rows, absl::Time now,
                                      int attention_limit);

}  // namespace linli::feedback

#endif  // LINLI_SERVICES_FEEDBACK_DAY_BOARD_H_
