// What happens to a visit's own record when it is cancelled, rescheduled or created from a
// commitment's occurrence. Pure C++ over the messages; the use cases free the bookings and record
// the events in the same transaction.
#ifndef LINLI_SERVICES_SCHEDULING_VISIT_RULES_H_
#define LINLI_SERVICES_SCHEDULING_VISIT_RULES_H_

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "linli/scheduling/v1/scheduling.pb.h"
#include "services/scheduling/commitment.h"

namespace linli::scheduling {

// The scheduled visit `name` of `commitment`'s occurrence `o`: window, duration, workers,
// tolerance and the elder's home as the commitment has them.
v1::Visit NewVisit(const v1::Commitment& commitment, const Occurrence& o, const std::string& name);

// Whether an occurrence's window and tolerance closed before `now` (MaterializeVisits with
// skip_closed_windows does not create such visits: nobody can come any more).
bool WindowClosed(const v1::Commitment& commitment, const Occurrence& o, absl::Time now);

// Cancels the visit: its workers are no longer booked, the reason is kept.
void MarkCancelled(v1::Visit& visit, const std::string& reason_code, const std::string& note);

// Moves the visit's window to open at `new_start` (same length); the bookings were for the old
// time, so the visit is to be planned again.
void MoveWindow(v1::Visit& visit, absl::Time new_start, const std::string& reason_code,
                const std::string& note);

// Whether `author` may write a note on the visit: booked on it, or the worker who checked in.
bool MayAddNote(const v1::Visit& visit, const std::string& author);

// A worker's route of a day: of `visits` (those the worker has slots on), the ones whose booking
// of `worker` starts in [from, to) (not a booking from the day before that runs past midnight),
// by booked start then name, at most `max`.
std::vector<v1::WorkerVisit> DayRoute(std::vector<v1::Visit> visits, const std::string& worker,
                                      absl::Time from, absl::Time to, size_t max);

}  // namespace linli::scheduling

#endif  // LINLI_SERVICES_SCHEDULING_VISIT_RULES_H_
