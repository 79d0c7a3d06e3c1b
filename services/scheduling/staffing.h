// Who may be booked on a visit, as rules over the messages: the worker is not already on the
// visit, the visit is not fully staffed, the worker has the commitment's required skills and works
// then (unless the caller waives it), and a manual start lies in the 12 hours after the window
// opens. Pure C++; BookOnVisit (booking.h) applies them with the database's slot keys.
#ifndef LINLI_SERVICES_SCHEDULING_STAFFING_H_
#define LINLI_SERVICES_SCHEDULING_STAFFING_H_

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "linli/registry/v1/registry.pb.h"
#include "linli/scheduling/v1/scheduling.pb.h"

namespace linli::scheduling {

// Latest planned start after the window opens that a booking may have.
inline constexpr absl::Duration kMaxStartAfterWindow = absl::Hours(12);

// Index of `worker`'s assignment on the visit, or -1.
int FindAssignment(const v1::Visit& visit, const std::string& worker);
void RemoveAssignment(v1::Visit& visit, int index);
// Adds the assignment of `worker` from `start` for the visit's duration, with `source` ("manual",
// "swap", "plans/…").
void AddAssignment(v1::Visit& visit, const std::string& worker, absl::Time start,
                   const std::string& source);

// Whether `worker` has every one of `skills`.
bool HasSkills(const registry::v1::Worker& worker,
               const google::protobuf::RepeatedPtrField<std::string>& skills);

// INVALID_ARGUMENT naming `field` when `worker` is already booked on the visit;
// FAILED_PRECONDITION when the visit already has the workers it needs.
absl::Status CheckRoomFor(const v1::Visit& visit, const std::string& worker,
                          const std::string& field);

// INVALID_ARGUMENT naming `field` when the worker lacks a skill `commitment` (the visit's)
// requires; with `check_availability`, FAILED_PRECONDITION (ERROR_REASON_WORKER_UNAVAILABLE) when
// [start, start + duration) lies outside the worker's availability (availability.h).
absl::Status CheckWorkerFits(const v1::Visit& visit, const v1::Commitment& commitment,
                             const registry::v1::Worker& worker, absl::Time start,
                             const std::string& field, bool check_availability);

// INVALID_ARGUMENT naming "start" unless `start` lies within kMaxStartAfterWindow after the
// visit's window opens.
absl::Status CheckManualStart(const v1::Visit& visit, absl::Time start);

}  // namespace linli::scheduling

#endif  // LINLI_SERVICES_SCHEDULING_STAFFING_H_
