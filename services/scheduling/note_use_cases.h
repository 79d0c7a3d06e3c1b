// A worker's route of a day and workers' notes on visits. Notes are personal data (visit_notes.h):
// their text is stored sealed, and every read of them is audited in the same transaction as it is
// decrypted. No gRPC: the adapter (scheduling_notes.cc) passes the caller (common/audit.h) and
// requests validated, visit names as ids.
#ifndef LINLI_SERVICES_SCHEDULING_NOTE_USE_CASES_H_
#define LINLI_SERVICES_SCHEDULING_NOTE_USE_CASES_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "common/audit.h"
#include "common/clock.h"
#include "common/pii/field_cipher.h"
#include "common/storage/database.h"
#include "linli/scheduling/v1/scheduling.pb.h"

namespace linli::scheduling {

// The visits `worker` is booked on that start on `day` (Shanghai), in order (DayRoute).
absl::StatusOr<v1::ListWorkerVisitsResponse> ListWorkerVisits(storage::Database& db,
                                                              const std::string& worker,
                                                              absl::CivilDay day);

// Seals and stores request.text as a note of visit `visit_id` by request.author, who must be
// booked on it or have checked in (PERMISSION_DENIED otherwise). Idempotent by request_id; the
// reply stored for retries carries no text, the response does.
absl::Status AddVisitNote(storage::Database& db, const Clock& clock, const pii::FieldCipher& cipher,
                          const std::string& visit_id, const v1::AddVisitNoteRequest& request,
                          v1::AddVisitNoteResponse* response);

// The notes of visit `visit_id` (request.visit), oldest first, decrypted; the read is audited in
// `caller`'s name with request.reason in the same transaction: no audit, no notes.
absl::Status ListVisitNotes(storage::Database& db, const pii::FieldCipher& cipher,
                            const Clock& clock, const std::string& visit_id,
                            const v1::ListVisitNotesRequest& request, const Caller& caller,
                            v1::ListVisitNotesResponse* response);

}  // namespace linli::scheduling

#endif  // LINLI_SERVICES_SCHEDULING_NOTE_USE_CASES_H_
