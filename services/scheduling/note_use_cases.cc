#include "services/scheduling/note_use_cases.h"

#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/idempotency.h"
#include "common/ids.h"
#include "common/recurrence/rrule.h"
#include "common/status_macros.h"
#include "services/scheduling/scheduling_store.h"
#include "services/scheduling/scheduling_util.h"
#include "services/scheduling/visit_notes.h"
#include "services/scheduling/visit_rules.h"

namespace linli::scheduling {
namespace {

using storage::Transaction;

constexpr size_t kMaxRouteVisits = 200;
constexpr int kMaxNotes = 100;

}  // namespace

absl::StatusOr<v1::ListWorkerVisitsResponse> ListWorkerVisits(storage::Database& db,
                                                              const std::string& worker,
                                                              absl::CivilDay day) {
  const absl::TimeZone tz = recurrence::ShanghaiTimeZone();
  const absl::Time from = absl::FromCivil(day, tz);
  const absl::Time to = absl::FromCivil(day + 1, tz);
  v1::ListWorkerVisitsResponse response;
  RETURN_IF_ERROR(db.RunInTransaction(
      [&](Transaction& tx) -> absl::Status {
        response.Clear();
        // The bookings' slots are the index of a worker's time; the visit's own assignment says
        // when the worker's part starts.
        ASSIGN_OR_RETURN(std::vector<std::string> ids, BookedVisitIds(tx, worker, from, to));
        std::vector<v1::Visit> visits;
        for (const std::string& id : ids) {
          ASSIGN_OR_RETURN(std::optional<VisitRow> row, FindVisit(tx, id));
          if (row.has_value()) visits.push_back(std::move(row->visit));
        }
        for (v1::WorkerVisit& stop :
             DayRoute(std::move(visits), worker, from, to, kMaxRouteVisits)) {
          *response.add_visits() = std::move(stop);
        }
        return absl::OkStatus();
      },
      {.read_only = true}));
  return response;
}

absl::Status AddVisitNote(storage::Database& db, const Clock& clock, const pii::FieldCipher& cipher,
                          const std::string& visit_id, const v1::AddVisitNoteRequest& request,
                          v1::AddVisitNoteResponse* response) {
  const absl::Time now = clock.Now();
  RETURN_IF_ERROR(RunIdempotent(
      db, "AddVisitNote", request.request_id(), request, response,
      [&](Transaction& tx) -> absl::Status {
        ASSIGN_OR_RETURN(std::optional<VisitRow> row, FindVisit(tx, visit_id));
        if (!row.has_value()) return NotFound(request.visit());
        if (!MayAddNote(row->visit, request.author())) {
          return absl::PermissionDeniedError(absl::StrCat(
              request.author(), " is not booked on and did not check in to ", request.visit()));
        }
        const std::string id = NewId(clock);
        ASSIGN_OR_RETURN(std::string sealed,
                         cipher.Encrypt(request.text(), VisitNoteAad(visit_id, id)));
        // The reply stored for request_id retries carries no text either; it is put back below
        // from the request, which a retry must repeat exactly.
        v1::VisitNote* note = response->mutable_note();
        note->set_name(absl::StrCat(request.visit(), "/notes/", id));
        note->set_author(request.author());
        *note->mutable_create_time() = ToTimestamp(now);
        return InsertVisitNote(tx, id, visit_id, *note, sealed);
      },
      clock));
  response->mutable_note()->set_text(request.text());
  return absl::OkStatus();
}

absl::Status ListVisitNotes(storage::Database& db, const pii::FieldCipher& cipher,
                            const Clock& clock, const std::string& visit_id,
                            const v1::ListVisitNotesRequest& request, const Caller& caller,
                            v1::ListVisitNotesResponse* response) {
  return db.RunInTransaction([&](Transaction& tx) -> absl::Status {
    response->Clear();
    ASSIGN_OR_RETURN(std::optional<VisitRow> row, FindVisit(tx, visit_id));
    if (!row.has_value()) return NotFound(request.visit());
    ASSIGN_OR_RETURN(std::vector<StoredVisitNote> stored, QueryVisitNotes(tx, visit_id, kMaxNotes));
    for (StoredVisitNote& s : stored) {
      v1::VisitNote* note = response->add_notes();
      *note = std::move(s.note);
      if (!s.sealed) {  // written by an older replica; sealed at the next start-up
        note->set_text(std::move(s.text));
        continue;
      }
      ASSIGN_OR_RETURN(std::string text, cipher.Decrypt(s.text, VisitNoteAad(visit_id, s.id)));
      note->set_text(std::move(text));
    }
    return AuditPersonalData(tx, caller, clock.Now(),
                             {.elder = row->visit.elder(),
                              .resource = request.visit(),
                              .fields = "notes",
                              .reason = request.reason(),
                              .action = "read"});
  });
}

}  // namespace linli::scheduling
