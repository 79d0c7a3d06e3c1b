// SchedulingService: one visit, a worker's route of a day (from the worker's bookings) and
// workers' notes on visits. Notes are personal data (visit_notes.h): their text is stored sealed,
// and every read of them is audited in the same transaction (common/audit.h).
#include <algorithm>
#include <cstdint>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "common/audit.h"
#include "common/errors.h"
#include "common/idempotency.h"
#include "common/ids.h"
#include "common/pagination.h"
#include "common/recurrence/rrule.h"
#include "common/server.h"
#include "common/status_macros.h"
#include "common/text.h"
#include "services/scheduling/scheduling_service.h"
#include "services/scheduling/scheduling_store.h"
#include "services/scheduling/scheduling_util.h"
#include "services/scheduling/visit_notes.h"

namespace linli::scheduling {
namespace {

using storage::Transaction;

constexpr int kMaxRouteVisits = 200;
constexpr int kMaxNotes = 100;

bool IsWorkerName(const std::string& name) {
  return absl::StartsWith(name, "workers/") && IsSlug(name.substr(8), 64);
}

// The worker's booking on the visit, or null.
const v1::Assignment* BookingOf(const v1::Visit& visit, const std::string& worker) {
  for (const v1::Assignment& a : visit.assignments()) {
    if (a.worker() == worker) return &a;
  }
  return nullptr;
}

}  // namespace

grpc::Status SchedulingServiceImpl::ListWorkerVisits(grpc::ServerContext* context,
                                                     const v1::ListWorkerVisitsRequest* request,
                                                     v1::ListWorkerVisitsResponse* response) {
  FieldViolations v;
  if (!IsWorkerName(request->worker())) v.Add("worker", "must look like \"workers/ID\"");
  absl::CivilDay day;
  if (!absl::ParseCivilTime(request->date(), &day)) {
    v.Add("date", "must be a date \"YYYY-MM-DD\"");
  }
  if (!v.empty()) return Reply(*context, v.ToStatus());
  const absl::TimeZone tz = recurrence::ShanghaiTimeZone();
  const absl::Time from = absl::FromCivil(day, tz);
  const absl::Time to = absl::FromCivil(day + 1, tz);
  return Reply(*context, db_.RunInTransaction(
                             [&](Transaction& tx) -> absl::Status {
                               response->Clear();
                               // The bookings' slots are the index of a worker's time; the visit's
                               // own assignment says when the worker's part starts.
                               ASSIGN_OR_RETURN(std::vector<std::string> ids,
                                                BookedVisitIds(tx, request->worker(), from, to));
                               std::vector<v1::WorkerVisit> route;
                               for (const std::string& id : ids) {
                                 ASSIGN_OR_RETURN(std::optional<VisitRow> row, FindVisit(tx, id));
                                 if (!row.has_value()) continue;
                                 const v1::Assignment* booking =
                                     BookingOf(row->visit, request->worker());
                                 if (booking == nullptr) continue;
                                 const absl::Time start = FromProto(booking->start());
                                 if (start < from || start >= to)
                                   continue;  // a booking from the day before
                                 v1::WorkerVisit& stop = route.emplace_back();
                                 *stop.mutable_assignment() = *booking;
                                 *stop.mutable_visit() = std::move(row->visit);
                               }
                               std::sort(route.begin(), route.end(),
                                         [](const v1::WorkerVisit& a, const v1::WorkerVisit& b) {
                                           const absl::Time sa = FromProto(a.assignment().start());
                                           const absl::Time sb = FromProto(b.assignment().start());
                                           if (sa != sb) return sa < sb;
                                           return a.visit().name() < b.visit().name();
                                         });
                               if (route.size() > kMaxRouteVisits) route.resize(kMaxRouteVisits);
                               for (v1::WorkerVisit& stop : route)
                                 *response->add_visits() = std::move(stop);
                               return absl::OkStatus();
                             },
                             {.read_only = true}));
}

grpc::Status SchedulingServiceImpl::AddVisitNote(grpc::ServerContext* context,
                                                 const v1::AddVisitNoteRequest* request,
                                                 v1::AddVisitNoteResponse* response) {
  FieldViolations v;
  std::string visit_id;
  if (absl::StatusOr<std::string> id = ParseResourceName(request->visit(), "visits", "visit");
      id.ok()) {
    visit_id = *id;
  } else {
    v.Add("visit", "must look like \"visits/ID\"");
  }
  if (!IsWorkerName(request->author())) v.Add("author", "must look like \"workers/ID\"");
  std::optional<size_t> length = Utf8Length(request->text());
  if (!length.has_value() || *length < 1 || *length > 500) {
    v.Add("text", "must be valid UTF-8 of 1 to 500 characters");
  }
  if (absl::Status s = ValidateRequestId(request->request_id()); !s.ok()) {
    v.Add("request_id", std::string(s.message()));
  }
  if (!v.empty()) return Reply(*context, v.ToStatus());
  const absl::Time now = clock_.Now();
  absl::Status added = RunIdempotent(
      db_, "AddVisitNote", request->request_id(), *request, response,
      [&](Transaction& tx) -> absl::Status {
        ASSIGN_OR_RETURN(std::optional<VisitRow> row, FindVisit(tx, visit_id));
        if (!row.has_value()) return NotFound(request->visit());
        if (BookingOf(row->visit, request->author()) == nullptr &&
            row->visit.check_in().worker() != request->author()) {
          return absl::PermissionDeniedError(absl::StrCat(
              request->author(), " is not booked on and did not check in to ", request->visit()));
        }
        const std::string id = NewId(clock_);
        ASSIGN_OR_RETURN(std::string sealed,
                         cipher_.Encrypt(request->text(), VisitNoteAad(visit_id, id)));
        // The reply stored for request_id retries carries no text either; it is put back below
        // from the request, which a retry must repeat exactly.
        v1::VisitNote* note = response->mutable_note();
        note->set_name(absl::StrCat(request->visit(), "/notes/", id));
        note->set_author(request->author());
        *note->mutable_create_time() = ToProto(now);
        return InsertVisitNote(tx, id, visit_id, *note, sealed);
      },
      clock_);
  if (added.ok()) response->mutable_note()->set_text(request->text());
  return Reply(*context, added);
}

grpc::Status SchedulingServiceImpl::ListVisitNotes(grpc::ServerContext* context,
                                                   const v1::ListVisitNotesRequest* request,
                                                   v1::ListVisitNotesResponse* response) {
  FieldViolations v;
  std::string visit_id;
  if (absl::StatusOr<std::string> id = ParseResourceName(request->visit(), "visits", "visit");
      id.ok()) {
    visit_id = *id;
  } else {
    v.Add("visit", "must look like \"visits/ID\"");
  }
  std::optional<size_t> reason_length = Utf8Length(request->reason());
  if (!reason_length.has_value() || *reason_length > 256) {
    v.Add("reason", "must be valid UTF-8 of at most 256 characters");
  }
  if (!v.empty()) return Reply(*context, v.ToStatus());
  // The audit entry is written in the same transaction as the notes are decrypted: no audit, no
  // notes.
  return Reply(*context, db_.RunInTransaction([&](Transaction& tx) -> absl::Status {
    response->Clear();
    ASSIGN_OR_RETURN(std::optional<VisitRow> row, FindVisit(tx, visit_id));
    if (!row.has_value()) return NotFound(request->visit());
    ASSIGN_OR_RETURN(std::vector<StoredVisitNote> stored, QueryVisitNotes(tx, visit_id, kMaxNotes));
    for (StoredVisitNote& s : stored) {
      v1::VisitNote* note = response->add_notes();
      *note = std::move(s.note);
      if (!s.sealed) {  // written by an older replica; sealed at the next start-up
        note->set_text(std::move(s.text));
        continue;
      }
      ASSIGN_OR_RETURN(std::string text, cipher_.Decrypt(s.text, VisitNoteAad(visit_id, s.id)));
      note->set_text(std::move(text));
    }
    return AuditPersonalData(tx, *context, clock_.Now(),
                             {.elder = row->visit.elder(),
                              .resource = request->visit(),
                              .fields = "notes",
                              .reason = request->reason(),
                              .action = "read"});
  }));
}

grpc::Status SchedulingServiceImpl::ListAuditEntries(grpc::ServerContext* context,
                                                     const v1::ListAuditEntriesRequest* request,
                                                     v1::ListAuditEntriesResponse* response) {
  return Reply(*context, FillAuditPage(db_, *request, response));
}

}  // namespace linli::scheduling
