#include "services/scheduling/commitment_use_cases.h"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "common/errors.h"
#include "common/idempotency.h"
#include "common/ids.h"
#include "common/import_problems.h"
#include "common/status_macros.h"
#include "common/text.h"
#include "services/scheduling/commitment.h"
#include "services/scheduling/referral.h"
#include "services/scheduling/scheduling_store.h"
#include "services/scheduling/scheduling_util.h"
#include "services/scheduling/visit_rules.h"

namespace linli::scheduling {
namespace {

using storage::Transaction;

constexpr size_t kMaxOccurrencesPerCommitment = 200;  // 62 days of a daily commitment, twice
constexpr int kCommitmentsPerRead = 200;

// A commitment as given, with the care-grade defaults; its problems (without the registry) in `v`.
void ApplyDefaultsAndValidate(v1::Commitment& commitment, FieldViolations& v) {
  commitment.clear_home();  // output only
  ApplyCareGradeDefaults(commitment);
  if (commitment.workers_required() == 0) commitment.set_workers_required(1);
  ValidateCommitment(commitment, v);
}

// A checked commitment (CheckReferences recorded the home) as it is stored: active, created at
// `now`, without the care grade.
void MakeActive(v1::Commitment& commitment, absl::Time now) {
  commitment.clear_care_grade();  // input only: health data stays in the registry
  commitment.set_state(v1::COMMITMENT_STATE_ACTIVE);
  *commitment.mutable_create_time() = ToTimestamp(now);
}

// Stores an active commitment under a new id, which names it (and, when imported, its key).
absl::Status InsertNewCommitment(Transaction& tx, const Clock& clock, v1::Commitment& commitment,
                                 const std::string& import_key = "") {
  const std::string id = NewId(clock);
  commitment.set_name("commitments/" + id);
  return InsertCommitment(tx, id, commitment, import_key);
}

// The registry for one import: each distinct question asked once, its answer (or failure) kept.
class RememberingRegistry final : public RegistryView {
 public:
  explicit RememberingRegistry(RegistryView& registry) : registry_(registry) {}

  absl::StatusOr<registry::v1::GetElderResponse> GetElder(
      const registry::v1::GetElderRequest& request) override {
    return Remember(elders_, request, [&] { return registry_.GetElder(request); });
  }
  absl::StatusOr<registry::v1::GetOrganisationResponse> GetOrganisation(
      const registry::v1::GetOrganisationRequest& request) override {
    return Remember(organisations_, request, [&] { return registry_.GetOrganisation(request); });
  }
  absl::StatusOr<registry::v1::ListServiceTypesResponse> ListServiceTypes(
      const registry::v1::ListServiceTypesRequest& request) override {
    return Remember(service_types_, request, [&] { return registry_.ListServiceTypes(request); });
  }
  // Not asked by CheckReferences: passed on.
  absl::StatusOr<registry::v1::GetRegionResponse> GetRegion(
      const registry::v1::GetRegionRequest& request) override {
    return registry_.GetRegion(request);
  }
  absl::StatusOr<registry::v1::GetWorkerResponse> GetWorker(
      const registry::v1::GetWorkerRequest& request) override {
    return registry_.GetWorker(request);
  }
  absl::StatusOr<registry::v1::ListEldersResponse> ListElders(
      const registry::v1::ListEldersRequest& request) override {
    return registry_.ListElders(request);
  }
  absl::StatusOr<registry::v1::ListWorkersResponse> ListWorkers(
      const registry::v1::ListWorkersRequest& request) override {
    return registry_.ListWorkers(request);
  }
  absl::StatusOr<registry::v1::ListOfferingsResponse> ListOfferings(
      const registry::v1::ListOfferingsRequest& request) override {
    return registry_.ListOfferings(request);
  }
  absl::StatusOr<registry::v1::SearchProvidersResponse> SearchProviders(
      const registry::v1::SearchProvidersRequest& request) override {
    return registry_.SearchProviders(request);
  }

 private:
  template <typename Response, typename Request, typename Ask>
  static absl::StatusOr<Response> Remember(std::map<std::string, absl::StatusOr<Response>>& memo,
                                           const Request& request, Ask ask) {
    const std::string key = request.SerializeAsString();
    auto it = memo.find(key);
    if (it == memo.end()) it = memo.emplace(key, ask()).first;
    return it->second;
  }

  RegistryView& registry_;
  std::map<std::string, absl::StatusOr<registry::v1::GetElderResponse>> elders_;
  std::map<std::string, absl::StatusOr<registry::v1::GetOrganisationResponse>> organisations_;
  std::map<std::string, absl::StatusOr<registry::v1::ListServiceTypesResponse>> service_types_;
};

// A row that passed the checks without the database: its promise, ready to store.
struct Ready {
  int index = 0;  // in the request
  v1::Commitment commitment;
};

}  // namespace

absl::Status CheckReferences(RegistryView& registry, v1::Commitment& commitment) {
  registry::v1::GetElderRequest elder;
  elder.set_name(commitment.elder());
  absl::StatusOr<registry::v1::GetElderResponse> found = registry.GetElder(elder);
  if (absl::IsNotFound(found.status())) {
    return InvalidField("commitment.elder", commitment.elder() + " does not exist");
  }
  RETURN_IF_ERROR(found.status());
  if (found->elder().erased()) {
    return absl::FailedPreconditionError(commitment.elder() + " was erased");
  }
  if (found->elder().status() == registry::v1::ELDER_STATUS_DECEASED ||
      found->elder().status() == registry::v1::ELDER_STATUS_MOVED_AWAY) {
    return absl::FailedPreconditionError(absl::StrCat(
        commitment.elder(), " is no longer served (",
        found->elder().status() == registry::v1::ELDER_STATUS_DECEASED ? "deceased" : "moved away",
        " since ", found->elder().status_date(), ")"));
  }
  if (found->elder().has_location()) *commitment.mutable_home() = found->elder().location();
  registry::v1::GetOrganisationRequest org;
  org.set_name(commitment.owner_organisation());
  absl::StatusOr<registry::v1::GetOrganisationResponse> owner = registry.GetOrganisation(org);
  if (absl::IsNotFound(owner.status())) {
    return InvalidField("commitment.owner_organisation",
                        commitment.owner_organisation() + " does not exist");
  }
  RETURN_IF_ERROR(owner.status());
  if (owner->organisation().retired()) {
    return InvalidField("commitment.owner_organisation",
                        commitment.owner_organisation() + " is retired");
  }
  ASSIGN_OR_RETURN(registry::v1::ListServiceTypesResponse types, registry.ListServiceTypes({}));
  for (const auto& type : types.service_types()) {
    if (type.name() == commitment.service_type()) return absl::OkStatus();
  }
  return InvalidField("commitment.service_type", commitment.service_type() + " does not exist");
}

absl::Status CreateCommitment(storage::Database& db, const Clock& clock, RegistryView& registry,
                              const v1::CreateCommitmentRequest& request,
                              v1::CreateCommitmentResponse* response) {
  v1::Commitment commitment = request.commitment();
  FieldViolations v;
  ApplyDefaultsAndValidate(commitment, v);
  if (!ValidateRequestId(request.request_id()).ok()) v.Add("request_id", "is malformed");
  RETURN_IF_ERROR(v.ToStatus());
  // A retry gets its first answer even when the registry cannot be asked now.
  ASSIGN_OR_RETURN(bool replayed,
                   FindIdempotentResponse(db, "CreateCommitment", request.request_id(), request,
                                          response, clock));
  if (replayed) return absl::OkStatus();
  RETURN_IF_ERROR(CheckReferences(registry, commitment));
  MakeActive(commitment, clock.Now());
  return RunIdempotent(
      db, "CreateCommitment", request.request_id(), request, response,
      [&](Transaction& tx) -> absl::Status {
        RETURN_IF_ERROR(InsertNewCommitment(tx, clock, commitment));
        *response->mutable_commitment() = commitment;
        return absl::OkStatus();
      },
      clock);
}

absl::StatusOr<v1::ImportCommitmentsResponse> ImportCommitments(
    storage::Database& db, const Clock& clock, RegistryView& registry,
    const v1::ImportCommitmentsRequest& request) {
  if (request.rows_size() == 0 || request.rows_size() > kMaxImportRows) {
    return InvalidField("rows", absl::StrCat("must hold 1 to ", kMaxImportRows, " rows"));
  }
  const absl::Time now = clock.Now();
  v1::ImportCommitmentsResponse response;
  RowProblems* problems = response.mutable_problems();
  response.mutable_commitments()->Reserve(request.rows_size());
  for (int i = 0; i < request.rows_size(); ++i) response.add_commitments();

  // Checks without the database: the form, then the registry (each question asked once).
  RememberingRegistry remembering(registry);
  std::vector<Ready> ready;
  // CommitmentKey -> the first line naming it
  std::map<std::string, int> lines;
  for (int i = 0; i < request.rows_size(); ++i) {
    const v1::ImportedCommitment& row = request.rows(i);
    v1::Commitment commitment = row.commitment();
    FieldViolations v;
    ApplyDefaultsAndValidate(commitment, v);
    if (absl::Status valid = v.ToStatus(); !valid.ok()) {
      AddProblems(row.line(), valid, problems, "commitment");
      continue;
    }
    absl::Status known = CheckReferences(remembering, commitment);
    if (absl::IsInvalidArgument(known)) {  // a name the registry does not know
      AddProblems(row.line(), known, problems, "commitment");
      continue;
    }
    if (absl::IsFailedPrecondition(known)) {  // erased, deceased or moved away
      AddProblem(row.line(), "commitment.elder", std::string(known.message()),
                 "该老人已不在服务范围（档案已删除、已故或已迁出）", problems);
      continue;
    }
    RETURN_IF_ERROR(known);  // the registry cannot be asked: the whole call fails
    auto [first, fresh] = lines.emplace(CommitmentKey(commitment), row.line());
    if (!fresh) {
      AddProblem(row.line(), "commitment", absl::StrCat("the same promise as line ", first->second),
                 absl::StrCat("与第 ", first->second, " 行是同一项承诺"), problems);
      continue;
    }
    MakeActive(commitment, now);
    ready.push_back({i, std::move(commitment)});
  }

  RETURN_IF_ERROR(db.RunInTransaction([&](Transaction& tx) -> absl::Status {
    // A retried transaction starts the database checks again.
    response.set_created(0);
    response.set_existing(0);
    response.set_written(false);
    for (std::string& name : *response.mutable_commitments()) name.clear();
    std::vector<const Ready*> fresh;
    for (const Ready& r : ready) {
      const v1::Commitment& c = r.commitment;
      ASSIGN_OR_RETURN(std::optional<v1::Commitment> stored,
                       FindLiveCommitment(tx, c.elder(), c.service_type(), c.owner_organisation(),
                                          c.valid_from()));
      if (stored.has_value()) {
        response.set_existing(response.existing() + 1);
        response.set_commitments(r.index, stored->name());
        continue;
      }
      fresh.push_back(&r);
    }
    response.set_created(static_cast<int>(fresh.size()));
    if (request.dry_run() || (problems->size() > 0 && !request.skip_bad_rows())) {
      return absl::OkStatus();
    }
    for (const Ready* r : fresh) {
      v1::Commitment commitment = r->commitment;
      absl::Status inserted = InsertNewCommitment(tx, clock, commitment, CommitmentKey(commitment));
      // Another import registered the same promise since this one looked (its key is taken):
      // start again, and find it registered.
      if (absl::IsAlreadyExists(inserted)) return absl::AbortedError(inserted.message());
      RETURN_IF_ERROR(inserted);
      response.set_commitments(r->index, commitment.name());
    }
    response.set_written(!fresh.empty());
    return absl::OkStatus();
  }));
  // The problems by line, in the order each row's were found.
  SortByLine(*problems);
  return response;
}

absl::StatusOr<std::vector<VisitRow>> EndCommitmentIn(Transaction& tx, absl::Time now,
                                                      const std::string& id,
                                                      v1::Commitment& commitment,
                                                      const std::string& code,
                                                      const std::string& note) {
  commitment.set_state(v1::COMMITMENT_STATE_CANCELLED);
  RETURN_IF_ERROR(UpdateCommitment(tx, id, commitment));
  // A referral still waiting for an answer has nothing left to hand over.
  ASSIGN_OR_RETURN(std::optional<v1::Referral> open, FindOpenReferral(tx, id));
  if (open.has_value()) {
    RETURN_IF_ERROR(ApplyWithdrawal("promise ended: " + code, now, *open));
    ASSIGN_OR_RETURN(bool stored,
                     UpdateReferralIf(tx, open->name().substr(10), *open, v1::REFERRAL_STATE_SENT));
    if (!stored) return absl::AbortedError("the promise's referral changed meanwhile");
    RETURN_IF_ERROR(AppendEvent(tx, OutboxEvent{0, ReferralEventType(*open), open->name(),
                                                open->SerializeAsString(), now}));
  }
  VisitFilter future{id, "", absl::ToUnixMicros(now), INT64_MAX, v1::VISIT_STATE_SCHEDULED};
  ASSIGN_OR_RETURN(auto visits, QueryVisits(tx, future, INT64_MIN, "", 100000));
  std::vector<VisitRow> cancelled;
  for (VisitRow& row : visits) {
    MarkCancelled(row.visit, code, note);
    ASSIGN_OR_RETURN(bool stored, UpdateVisitIf(tx, row, v1::VISIT_STATE_SCHEDULED));
    if (!stored) continue;  // started meanwhile: it keeps its course
    RETURN_IF_ERROR(ReleaseBookings(tx, row.id));
    RETURN_IF_ERROR(AppendVisitEvent(tx, "visit.cancelled", row.visit, now));
    cancelled.push_back(std::move(row));
  }
  return cancelled;
}

absl::Status CancelCommitment(storage::Database& db, const Clock& clock, const std::string& id,
                              const v1::CancelCommitmentRequest& request,
                              v1::CancelCommitmentResponse* response) {
  const absl::Time now = clock.Now();
  auto cancel = [&](Transaction& tx) -> absl::Status {
    response->Clear();
    ASSIGN_OR_RETURN(auto commitment, FindCommitment(tx, id));
    if (!commitment.has_value()) return NotFound(request.name());
    if (commitment->state() != v1::COMMITMENT_STATE_CANCELLED) {
      ASSIGN_OR_RETURN(
          std::vector<VisitRow> cancelled,
          EndCommitmentIn(tx, now, id, *commitment, "COMMITMENT_CANCELLED", request.reason()));
      response->set_cancelled_visits(static_cast<int>(cancelled.size()));
    }
    *response->mutable_commitment() = std::move(*commitment);
    return absl::OkStatus();
  };
  return RunIdempotent(db, "CancelCommitment", request.request_id(), request, response, cancel,
                       clock);
}

absl::StatusOr<v1::MaterializeVisitsResponse> MaterializeVisits(
    storage::Database& db, const Clock& clock, const v1::MaterializeVisitsRequest& request) {
  FieldViolations v;
  absl::CivilDay from;
  if (!absl::ParseCivilTime(request.from_date(), &from)) {
    v.Add("from_date", "must be a date \"YYYY-MM-DD\"");
  }
  if (request.days() < 1 || request.days() > 62) v.Add("days", "must be between 1 and 62");
  std::string only;
  if (!request.commitment().empty()) {
    absl::StatusOr<std::string> id =
        ParseResourceName(request.commitment(), "commitments", "commitment");
    if (!id.ok()) v.Add("commitment", "must look like \"commitments/ID\"");
    if (id.ok()) only = *id;
  }
  RETURN_IF_ERROR(v.ToStatus());
  const absl::CivilDay to = from + request.days();
  const std::string from_key = LocalKey(absl::CivilSecond(from));
  const std::string to_key = LocalKey(absl::CivilSecond(to));
  v1::MaterializeVisitsResponse response;

  std::string after;
  while (true) {
    std::vector<v1::Commitment> batch;
    RETURN_IF_ERROR(db.RunInTransaction(
        [&](Transaction& tx) -> absl::Status {
          if (!only.empty()) {
            batch.clear();
            if (!after.empty()) return absl::OkStatus();
            ASSIGN_OR_RETURN(auto c, FindCommitment(tx, only));
            if (!c.has_value()) return NotFound(request.commitment());
            if (c->state() == v1::COMMITMENT_STATE_ACTIVE) batch.push_back(std::move(*c));
            return absl::OkStatus();
          }
          ASSIGN_OR_RETURN(batch, QueryCommitments(tx, "", true, after, kCommitmentsPerRead));
          return absl::OkStatus();
        },
        {.read_only = true}));
    if (batch.empty()) break;
    after = batch.back().name().substr(12);
    for (const v1::Commitment& commitment : batch) {
      const std::string commitment_id = commitment.name().substr(12);
      const std::vector<Occurrence> occurrences =
          Occurrences(commitment, from, to, kMaxOccurrencesPerCommitment);
      int created = 0, existing = 0, skipped = 0;
      RETURN_IF_ERROR(db.RunInTransaction([&](Transaction& tx) -> absl::Status {
        created = existing = skipped = 0;
        ASSIGN_OR_RETURN(std::vector<std::string> keys,
                         OccurrenceKeys(tx, commitment_id, from_key, to_key));
        const std::set<std::string> have(keys.begin(), keys.end());
        const absl::Time now = clock.Now();
        for (const Occurrence& o : occurrences) {
          if (have.count(o.key) > 0) {
            ++existing;
            continue;
          }
          if (request.skip_closed_windows() && WindowClosed(commitment, o, now)) {
            ++skipped;
            continue;
          }
          VisitRow row;
          row.id = NewId(clock);
          row.commitment_id = commitment_id;
          row.window_start_us = absl::ToUnixMicros(o.window_start);
          row.visit = NewVisit(commitment, o, "visits/" + row.id);
          // A concurrent materialiser that inserted the same occurrence first makes this
          // ALREADY_EXISTS; retrying the transaction then counts it as existing.
          absl::Status inserted = InsertVisit(tx, row);
          if (absl::IsAlreadyExists(inserted)) return absl::AbortedError("occurrence taken");
          RETURN_IF_ERROR(inserted);
          RETURN_IF_ERROR(AppendVisitEvent(tx, "visit.scheduled", row.visit, now));
          ++created;
        }
        return absl::OkStatus();
      }));
      response.set_commitments(response.commitments() + 1);
      response.set_created(response.created() + created);
      response.set_existing(response.existing() + existing);
      response.set_skipped(response.skipped() + skipped);
    }
    if (!only.empty()) break;
  }
  return response;
}

}  // namespace linli::scheduling
