// SchedulingService: commitments (one by one or a roster imported), their materialisation into
// visits, reading visits and single-visit changes. The handlers check the requests' form and
// call commitment_use_cases.h and visit_use_cases.h; the reads go to the store directly.
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "common/errors.h"
#include "common/idempotency.h"
#include "common/pagination.h"
#include "common/recurrence/rrule.h"
#include "common/server.h"
#include "common/status_macros.h"
#include "common/text.h"
#include "services/scheduling/commitment_use_cases.h"
#include "services/scheduling/grpc_registry_view.h"
#include "services/scheduling/scheduling_service.h"
#include "services/scheduling/scheduling_store.h"
#include "services/scheduling/scheduling_util.h"
#include "services/scheduling/visit_review.h"
#include "services/scheduling/visit_use_cases.h"

namespace linli::scheduling {
namespace {

using storage::Transaction;

constexpr int kDefaultPage = 100;
constexpr int kMaxPage = 1000;

}  // namespace

grpc::Status SchedulingServiceImpl::CreateCommitment(grpc::ServerContext* context,
                                                     const v1::CreateCommitmentRequest* request,
                                                     v1::CreateCommitmentResponse* response) {
  GrpcRegistryView registry(*registry_, context, options_.backend_timeout);
  return Reply(*context, scheduling::CreateCommitment(db_, clock_, registry, *request, response));
}

grpc::Status SchedulingServiceImpl::ImportCommitments(grpc::ServerContext* context,
                                                      const v1::ImportCommitmentsRequest* request,
                                                      v1::ImportCommitmentsResponse* response) {
  GrpcRegistryView registry(*registry_, context, options_.backend_timeout);
  absl::StatusOr<v1::ImportCommitmentsResponse> imported =
      scheduling::ImportCommitments(db_, clock_, registry, *request);
  if (imported.ok()) *response = std::move(*imported);
  return Reply(*context, imported.status());
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
  return Reply(*context, scheduling::CancelCommitment(db_, clock_, *id, *request, response));
}

grpc::Status SchedulingServiceImpl::MaterializeVisits(grpc::ServerContext* context,
                                                      const v1::MaterializeVisitsRequest* request,
                                                      v1::MaterializeVisitsResponse* response) {
  absl::StatusOr<v1::MaterializeVisitsResponse> made =
      scheduling::MaterializeVisits(db_, clock_, *request);
  if (made.ok()) *response = std::move(*made);
  return Reply(*context, made.status());
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
  return Reply(*context, scheduling::CancelVisit(db_, clock_, *id, *request, response));
}

grpc::Status SchedulingServiceImpl::ReviewVisit(grpc::ServerContext* context,
                                                const v1::ReviewVisitRequest* request,
                                                v1::ReviewVisitResponse* response) {
  absl::StatusOr<std::string> id = ParseResourceName(request->name(), "visits", "name");
  if (!id.ok()) return Reply(*context, id.status());
  if (absl::Status s = ValidateReview(*request); !s.ok()) return Reply(*context, s);
  if (!ValidateRequestId(request->request_id()).ok()) {
    return Reply(*context, InvalidField("request_id", "is malformed"));
  }
  return Reply(*context,
               scheduling::ReviewVisit(db_, clock_, *id, *request, Actor(*context), response));
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
  return Reply(*context,
               scheduling::RescheduleVisit(db_, clock_, *id, new_start, *request, response));
}

}  // namespace linli::scheduling
