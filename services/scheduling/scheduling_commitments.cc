// SchedulingService: commitments, their materialisation into visits, and single-visit changes.
#include <algorithm>
#include <functional>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "common/client.h"
#include "common/errors.h"
#include "common/idempotency.h"
#include "common/ids.h"
#include "common/pagination.h"
#include "common/recurrence/rrule.h"
#include "common/server.h"
#include "common/status_macros.h"
#include "common/text.h"
#include "google/protobuf/util/time_util.h"
#include "services/scheduling/commitment.h"
#include "services/scheduling/scheduling_service.h"
#include "services/scheduling/scheduling_store.h"
#include "services/scheduling/scheduling_util.h"

namespace linli::scheduling {
namespace {

using google::protobuf::util::TimeUtil;
using storage::Transaction;

constexpr int kDefaultPage = 100;
constexpr int kMaxPage = 1000;
constexpr size_t kMaxOccurrencesPerCommitment = 200;  // 62 days of a daily commitment, twice

}  // namespace

absl::Status SchedulingServiceImpl::RegistryError(const grpc::Status& status) {
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
    return WithReason(absl::UnavailableError("registry is unavailable; retry later"),
                      common::v1::ERROR_REASON_BACKEND_UNAVAILABLE);
  }
  return FromGrpcStatus(status);
}

absl::Status SchedulingServiceImpl::CheckReferences(grpc::ServerContext* context,
                                                    v1::Commitment& commitment) {
  // A registry error other than NOT_FOUND is passed on.
  auto backend = &RegistryError;
  registry::v1::GetElderRequest elder;
  elder.set_name(commitment.elder());  // masked view: no personal data, no audit
  registry::v1::GetElderResponse elder_response;
  grpc::Status status = registry_->GetElder(
      NewClientContext(context, options_.backend_timeout).get(), elder, &elder_response);
  if (status.error_code() == grpc::StatusCode::NOT_FOUND) {
    return InvalidField("commitment.elder", commitment.elder() + " does not exist");
  }
  if (!status.ok()) return backend(status);
  if (elder_response.elder().erased()) {
    return absl::FailedPreconditionError(commitment.elder() + " was erased");
  }
  if (elder_response.elder().has_location()) {
    *commitment.mutable_home() = elder_response.elder().location();
  }
  registry::v1::GetOrganisationRequest org;
  org.set_name(commitment.owner_organisation());
  registry::v1::GetOrganisationResponse org_response;
  status = registry_->GetOrganisation(NewClientContext(context, options_.backend_timeout).get(),
                                      org, &org_response);
  if (status.error_code() == grpc::StatusCode::NOT_FOUND) {
    return InvalidField("commitment.owner_organisation",
                        commitment.owner_organisation() + " does not exist");
  }
  if (!status.ok()) return backend(status);
  registry::v1::ListServiceTypesResponse types;
  status = registry_->ListServiceTypes(NewClientContext(context, options_.backend_timeout).get(),
                                       {}, &types);
  if (!status.ok()) return backend(status);
  for (const auto& type : types.service_types()) {
    if (type.name() == commitment.service_type()) return absl::OkStatus();
  }
  return InvalidField("commitment.service_type", commitment.service_type() + " does not exist");
}

grpc::Status SchedulingServiceImpl::CreateCommitment(grpc::ServerContext* context,
                                                     const v1::CreateCommitmentRequest* request,
                                                     v1::CreateCommitmentResponse* response) {
  v1::Commitment commitment = request->commitment();
  commitment.clear_home();  // output only
  ApplyCareGradeDefaults(commitment);
  if (commitment.workers_required() == 0) commitment.set_workers_required(1);
  FieldViolations v;
  ValidateCommitment(commitment, v);
  if (!ValidateRequestId(request->request_id()).ok()) v.Add("request_id", "is malformed");
  if (!v.empty()) return Reply(*context, v.ToStatus());
  // A retry gets its first answer even when the registry cannot be asked now.
  if (absl::StatusOr<bool> replayed = FindIdempotentResponse(
          db_, "CreateCommitment", request->request_id(), *request, response, clock_);
      !replayed.ok() || *replayed) {
    return Reply(*context, replayed.status());
  }
  if (absl::Status s = CheckReferences(context, commitment); !s.ok()) return Reply(*context, s);
  commitment.clear_care_grade();  // input only: health data stays in the registry
  commitment.set_state(v1::COMMITMENT_STATE_ACTIVE);
  *commitment.mutable_create_time() = ToProto(clock_.Now());
  return Reply(*context, RunIdempotent(
                             db_, "CreateCommitment", request->request_id(), *request, response,
                             [&](Transaction& tx) -> absl::Status {
                               const std::string id = NewId(clock_);
                               commitment.set_name("commitments/" + id);
                               RETURN_IF_ERROR(InsertCommitment(tx, id, commitment));
                               *response->mutable_commitment() = commitment;
                               return absl::OkStatus();
                             },
                             clock_));
}

grpc::Status SchedulingServiceImpl::GetCommitment(grpc::ServerContext* context,
                                                  const v1::GetCommitmentRequest* request,
                                                  v1::GetCommitmentResponse* response) {
  absl::StatusOr<std::string> id = ParseResourceName(request->name(), "commitments", "name");
  if (!id.ok()) return Reply(*context, id.status());
  return Reply(*context, db_.RunInTransaction(
                             [&](Transaction& tx) -> absl::Status {
                               ASSIGN_OR_RETURN(auto c, FindCommitment(tx, *id));
                               if (!c.has_value()) return NotFound(request->name());
                               *response->mutable_commitment() = std::move(*c);
                               return absl::OkStatus();
                             },
                             {.read_only = true}));
}

grpc::Status SchedulingServiceImpl::GetVisit(grpc::ServerContext* context,
                                             const v1::GetVisitRequest* request,
                                             v1::GetVisitResponse* response) {
  absl::StatusOr<std::string> id = ParseResourceName(request->name(), "visits", "name");
  if (!id.ok()) return Reply(*context, id.status());
  return Reply(*context, db_.RunInTransaction(
                             [&](Transaction& tx) -> absl::Status {
                               ASSIGN_OR_RETURN(auto row, FindVisit(tx, *id));
                               if (!row.has_value()) return NotFound(request->name());
                               *response->mutable_visit() = std::move(row->visit);
                               return absl::OkStatus();
                             },
                             {.read_only = true}));
}

grpc::Status SchedulingServiceImpl::ListCommitments(grpc::ServerContext* context,
                                                    const v1::ListCommitmentsRequest* request,
                                                    v1::ListCommitmentsResponse* response) {
  if (!request->elder().empty()) {
    if (auto id = ParseResourceName(request->elder(), "elders", "elder"); !id.ok()) {
      return Reply(*context, id.status());
    }
  }
  absl::StatusOr<Page> page =
      Page::Start(request->page_size(), request->page_token(), "commitments|" + request->elder(),
                  kDefaultPage, kMaxPage);
  if (!page.ok()) return Reply(*context, page.status());
  return Reply(*context,
               db_.RunInTransaction(
                   [&](Transaction& tx) -> absl::Status {
                     ASSIGN_OR_RETURN(auto rows, QueryCommitments(tx, request->elder(), false,
                                                                  page->after, page->limit()));
                     response->Clear();
                     response->set_next_page_token(page->Finish(
                         rows, [](const v1::Commitment& c) { return c.name().substr(12); }));
                     for (auto& c : rows) *response->add_commitments() = std::move(c);
                     return absl::OkStatus();
                   },
                   {.read_only = true}));
}

grpc::Status SchedulingServiceImpl::CancelCommitment(grpc::ServerContext* context,
                                                     const v1::CancelCommitmentRequest* request,
                                                     v1::CancelCommitmentResponse* response) {
  absl::StatusOr<std::string> id = ParseResourceName(request->name(), "commitments", "name");
  if (!id.ok()) return Reply(*context, id.status());
  if (std::optional<size_t> n = Utf8Length(request->reason()); !n || *n < 2 || *n > 256) {
    return Reply(*context, InvalidField("reason", "must state why, in 2 to 256 characters"));
  }
  const absl::Time now = clock_.Now();
  auto cancel = [&](Transaction& tx) -> absl::Status {
    response->Clear();
    ASSIGN_OR_RETURN(auto commitment, FindCommitment(tx, *id));
    if (!commitment.has_value()) return NotFound(request->name());
    if (commitment->state() != v1::COMMITMENT_STATE_CANCELLED) {
      commitment->set_state(v1::COMMITMENT_STATE_CANCELLED);
      RETURN_IF_ERROR(UpdateCommitment(tx, *id, *commitment));
      VisitFilter future{*id, "", absl::ToUnixMicros(now), INT64_MAX, v1::VISIT_STATE_SCHEDULED};
      ASSIGN_OR_RETURN(auto visits, QueryVisits(tx, future, INT64_MIN, "", 100000));
      int cancelled = 0;
      for (VisitRow& row : visits) {
        row.visit.clear_assignments();
        row.visit.set_state(v1::VISIT_STATE_CANCELLED);
        row.visit.set_reason_code("COMMITMENT_CANCELLED");
        row.visit.set_note(request->reason());
        ASSIGN_OR_RETURN(bool stored, UpdateVisitIf(tx, row, v1::VISIT_STATE_SCHEDULED));
        if (!stored) continue;  // started meanwhile: it keeps its course
        RETURN_IF_ERROR(ReleaseBookings(tx, row.id));
        RETURN_IF_ERROR(AppendVisitEvent(tx, "visit.cancelled", row.visit, now));
        ++cancelled;
      }
      response->set_cancelled_visits(cancelled);
    }
    *response->mutable_commitment() = std::move(*commitment);
    return absl::OkStatus();
  };
  return Reply(*context, RunIdempotent(db_, "CancelCommitment", request->request_id(), *request,
                                       response, cancel, clock_));
}

grpc::Status SchedulingServiceImpl::MaterializeVisits(grpc::ServerContext* context,
                                                      const v1::MaterializeVisitsRequest* request,
                                                      v1::MaterializeVisitsResponse* response) {
  FieldViolations v;
  absl::CivilDay from;
  if (!absl::ParseCivilTime(request->from_date(), &from)) {
    v.Add("from_date", "must be a date \"YYYY-MM-DD\"");
  }
  if (request->days() < 1 || request->days() > 62) v.Add("days", "must be between 1 and 62");
  std::string only;
  if (!request->commitment().empty()) {
    absl::StatusOr<std::string> id =
        ParseResourceName(request->commitment(), "commitments", "commitment");
    if (!id.ok()) v.Add("commitment", "must look like \"commitments/ID\"");
    if (id.ok()) only = *id;
  }
  if (!v.empty()) return Reply(*context, v.ToStatus());
  const absl::CivilDay to = from + request->days();
  const std::string from_key = LocalKey(absl::CivilSecond(from));
  const std::string to_key = LocalKey(absl::CivilSecond(to));
  response->Clear();

  // One transaction per commitment keeps transactions short; a failure part-way leaves whole
  // commitments done and the call can simply be repeated (it is idempotent).
  std::string after;
  while (true) {
    std::vector<v1::Commitment> batch;
    absl::Status listed = db_.RunInTransaction(
        [&](Transaction& tx) -> absl::Status {
          if (!only.empty()) {
            batch.clear();
            if (!after.empty()) return absl::OkStatus();
            ASSIGN_OR_RETURN(auto c, FindCommitment(tx, only));
            if (!c.has_value()) return NotFound(request->commitment());
            if (c->state() == v1::COMMITMENT_STATE_ACTIVE) batch.push_back(std::move(*c));
            return absl::OkStatus();
          }
          ASSIGN_OR_RETURN(batch, QueryCommitments(tx, "", true, after, 200));
          return absl::OkStatus();
        },
        {.read_only = true});
    if (!listed.ok()) return Reply(*context, listed);
    if (batch.empty()) break;
    after = batch.back().name().substr(12);
    for (const v1::Commitment& commitment : batch) {
      const std::string commitment_id = commitment.name().substr(12);
      const std::vector<Occurrence> occurrences =
          Occurrences(commitment, from, to, kMaxOccurrencesPerCommitment);
      int created = 0, existing = 0, skipped = 0;
      absl::Status status = db_.RunInTransaction([&](Transaction& tx) -> absl::Status {
        created = existing = skipped = 0;
        ASSIGN_OR_RETURN(std::vector<std::string> keys,
                         OccurrenceKeys(tx, commitment_id, from_key, to_key));
        const std::set<std::string> have(keys.begin(), keys.end());
        const absl::Time now = clock_.Now();
        for (const Occurrence& o : occurrences) {
          if (have.count(o.key) > 0) {
            ++existing;
            continue;
          }
          if (request->skip_closed_windows() &&
              o.window_end + absl::Minutes(commitment.tolerance_minutes()) < now) {
            ++skipped;
            continue;
          }
          VisitRow row;
          row.id = NewId(clock_);
          row.commitment_id = commitment_id;
          row.window_start_us = absl::ToUnixMicros(o.window_start);
          v1::Visit& visit = row.visit;
          visit.set_name("visits/" + row.id);
          visit.set_commitment(commitment.name());
          visit.set_elder(commitment.elder());
          visit.set_service_type(commitment.service_type());
          visit.set_occurrence(o.key);
          *visit.mutable_window_start() = ToProto(o.window_start);
          *visit.mutable_window_end() = ToProto(o.window_end);
          visit.set_duration_minutes(commitment.duration_minutes());
          visit.set_workers_required(commitment.workers_required());
          visit.set_tolerance_minutes(commitment.tolerance_minutes());
          if (commitment.has_home()) *visit.mutable_home() = commitment.home();
          visit.set_state(v1::VISIT_STATE_SCHEDULED);
          // A concurrent materialiser that inserted the same occurrence first makes this
          // ALREADY_EXISTS; retrying the transaction then counts it as existing.
          absl::Status inserted = InsertVisit(tx, row);
          if (absl::IsAlreadyExists(inserted)) return absl::AbortedError("occurrence taken");
          RETURN_IF_ERROR(inserted);
          RETURN_IF_ERROR(AppendVisitEvent(tx, "visit.scheduled", visit, now));
          ++created;
        }
        return absl::OkStatus();
      });
      if (!status.ok()) return Reply(*context, status);
      response->set_commitments(response->commitments() + 1);
      response->set_created(response->created() + created);
      response->set_existing(response->existing() + existing);
      response->set_skipped(response->skipped() + skipped);
    }
    if (!only.empty()) break;
  }
  return Reply(*context, absl::OkStatus());
}

grpc::Status SchedulingServiceImpl::ListVisits(grpc::ServerContext* context,
                                               const v1::ListVisitsRequest* request,
                                               v1::ListVisitsResponse* response) {
  FieldViolations v;
  VisitFilter filter;
  if (!request->commitment().empty()) {
    absl::StatusOr<std::string> id =
        ParseResourceName(request->commitment(), "commitments", "commitment");
    if (id.ok()) filter.commitment_id = *id;
    if (!id.ok()) v.Add("commitment", "must look like \"commitments/ID\"");
  }
  if (!request->elder().empty()) {
    if (!ParseResourceName(request->elder(), "elders", "elder").ok()) {
      v.Add("elder", "must look like \"elders/ID\"");
    }
    filter.elder = request->elder();
  }
  if (!request->owner_organisation().empty()) {
    if (!ParseResourceName(request->owner_organisation(), "organisations", "owner_organisation")
             .ok()) {
      v.Add("owner_organisation", "must look like \"organisations/ID\"");
    }
    filter.owner_organisation = request->owner_organisation();
  }
  const absl::TimeZone tz = recurrence::ShanghaiTimeZone();
  absl::CivilDay day;
  if (!request->from_date().empty()) {
    if (absl::ParseCivilTime(request->from_date(), &day)) {
      filter.from_us = absl::ToUnixMicros(absl::FromCivil(day, tz));
    } else {
      v.Add("from_date", "must be a date \"YYYY-MM-DD\"");
    }
  }
  if (!request->to_date().empty()) {
    if (absl::ParseCivilTime(request->to_date(), &day)) {
      filter.to_us = absl::ToUnixMicros(absl::FromCivil(day, tz));
    } else {
      v.Add("to_date", "must be a date \"YYYY-MM-DD\"");
    }
  }
  if (!v.empty()) return Reply(*context, v.ToStatus());
  absl::StatusOr<Page> page =
      Page::Start(request->page_size(), request->page_token(),
                  absl::StrCat("visits|", filter.commitment_id, "|", filter.elder, "|",
                               filter.from_us, "|", filter.to_us, "|", filter.owner_organisation),
                  kDefaultPage, kMaxPage);
  if (!page.ok()) return Reply(*context, page.status());
  int64_t after_start = INT64_MIN;
  std::string after_id;
  if (!page->after.empty()) {
    std::vector<std::string> parts = absl::StrSplit(page->after, '|');
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &after_start)) {
      return Reply(*context, InvalidField("page_token", "is not a token issued by this service",
                                          common::v1::ERROR_REASON_INVALID_PAGE_TOKEN));
    }
    after_id = parts[1];
  }
  return Reply(*context,
               db_.RunInTransaction(
                   [&](Transaction& tx) -> absl::Status {
                     ASSIGN_OR_RETURN(
                         auto rows, QueryVisits(tx, filter, after_start, after_id, page->limit()));
                     response->Clear();
                     response->set_next_page_token(page->Finish(rows, [](const VisitRow& r) {
                       return absl::StrCat(r.window_start_us, "|", r.id);
                     }));
                     for (auto& r : rows) *response->add_visits() = std::move(r.visit);
                     return absl::OkStatus();
                   },
                   {.read_only = true}));
}

grpc::Status SchedulingServiceImpl::CancelVisit(grpc::ServerContext* context,
                                                const v1::CancelVisitRequest* request,
                                                v1::CancelVisitResponse* response) {
  FieldViolations v;
  if (!IsReasonCode(request->reason_code())) {
    v.Add("reason_code", "must be 2-32 characters of A-Z, 0-9 and '_', e.g. ELDER_IN_HOSPITAL");
  }
  if (std::optional<size_t> n = Utf8Length(request->note()); !n || *n > 256) {
    v.Add("note", "must be valid UTF-8 of at most 256 characters");
  }
  if (!ValidateRequestId(request->request_id()).ok()) v.Add("request_id", "is malformed");
  if (!v.empty()) return Reply(*context, v.ToStatus());
  absl::StatusOr<std::string> id = ParseResourceName(request->name(), "visits", "name");
  if (!id.ok()) return Reply(*context, id.status());
  const absl::Time now = clock_.Now();
  return Reply(*context, RunIdempotent(
                             db_, "CancelVisit", request->request_id(), *request, response,
                             [&](Transaction& tx) {
                               return ChangeVisitIn(
                                   tx, now, *id, request->name(), v1::VISIT_STATE_SCHEDULED,
                                   "visit.cancelled",
                                   [&](Transaction& tx, v1::Visit& visit) -> absl::Status {
                                     // The booked workers are free again.
                                     RETURN_IF_ERROR(ReleaseBookings(tx, *id));
                                     visit.clear_assignments();
                                     visit.set_state(v1::VISIT_STATE_CANCELLED);
                                     visit.set_reason_code(request->reason_code());
                                     visit.set_note(request->note());
                                     return absl::OkStatus();
                                   },
                                   response->mutable_visit());
                             },
                             clock_));
}

grpc::Status SchedulingServiceImpl::RescheduleVisit(grpc::ServerContext* context,
                                                    const v1::RescheduleVisitRequest* request,
                                                    v1::RescheduleVisitResponse* response) {
  FieldViolations v;
  absl::CivilSecond start;
  if (!absl::ParseCivilTime(request->new_start(), &start)) {
    v.Add("new_start", "must be local time \"YYYY-MM-DDTHH:MM:SS\"");
  }
  if (!IsReasonCode(request->reason_code())) {
    v.Add("reason_code", "must be 2-32 characters of A-Z, 0-9 and '_'");
  }
  if (std::optional<size_t> n = Utf8Length(request->note()); !n || *n > 256) {
    v.Add("note", "must be valid UTF-8 of at most 256 characters");
  }
  if (!ValidateRequestId(request->request_id()).ok()) v.Add("request_id", "is malformed");
  if (!v.empty()) return Reply(*context, v.ToStatus());
  const absl::Time new_start = absl::FromCivil(start, recurrence::ShanghaiTimeZone());
  absl::StatusOr<std::string> id = ParseResourceName(request->name(), "visits", "name");
  if (!id.ok()) return Reply(*context, id.status());
  const absl::Time now = clock_.Now();
  return Reply(*context, RunIdempotent(
                             db_, "RescheduleVisit", request->request_id(), *request, response,
                             [&](Transaction& tx) {
                               return ChangeVisitIn(
                                   tx, now, *id, request->name(), v1::VISIT_STATE_SCHEDULED,
                                   "visit.rescheduled",
                                   [&](Transaction& tx, v1::Visit& visit) -> absl::Status {
                                     // The bookings were for the old time: the visit is re-planned.
                                     RETURN_IF_ERROR(ReleaseBookings(tx, *id));
                                     visit.clear_assignments();
                                     const absl::Duration window = FromProto(visit.window_end()) -
                                                                   FromProto(visit.window_start());
                                     *visit.mutable_window_start() = ToProto(new_start);
                                     *visit.mutable_window_end() = ToProto(new_start + window);
                                     visit.set_reason_code(request->reason_code());
                                     visit.set_note(request->note());
                                     return absl::OkStatus();
                                   },
                                   response->mutable_visit());
                             },
                             clock_));
}

}  // namespace linli::scheduling
