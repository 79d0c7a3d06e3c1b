#include "services/scheduling/referral_use_cases.h"

#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/idempotency.h"
#include "common/ids.h"
#include "common/pagination.h"
#include "common/proto_time.h"
#include "common/recurrence/rrule.h"
#include "common/status_macros.h"
#include "common/text.h"
#include "services/scheduling/commitment.h"
#include "services/scheduling/commitment_use_cases.h"
#include "services/scheduling/referral.h"
#include "services/scheduling/scheduling_store.h"
#include "services/scheduling/visit_rules.h"

namespace linli::scheduling {
namespace {

using storage::Transaction;

// The registry's provider search radius at its widest: a referral goes to a provider the search
// finds for the elder (it offers the service and covers the elder's region).
constexpr int kReferralRadiusMeters = 50000;
constexpr int kSweepBatch = 200;

std::string IdOf(const std::string& name, size_t prefix) { return name.substr(prefix); }

absl::Status RecordReferral(Transaction& tx, const v1::Referral& referral, absl::Time now) {
  return AppendEvent(tx, OutboxEvent{0, ReferralEventType(referral), referral.name(),
                                     referral.SerializeAsString(), now});
}

// Stores `referral` if it is still in `expected`, with its event; ABORTED (the transaction runs
// again and reads the new state) when someone changed it meanwhile.
absl::Status StoreReferral(Transaction& tx, const v1::Referral& referral,
                           v1::ReferralState expected, absl::Time now) {
  ASSIGN_OR_RETURN(bool stored,
                   UpdateReferralIf(tx, IdOf(referral.name(), 10), referral, expected));
  if (!stored) return absl::AbortedError(referral.name() + " changed meanwhile");
  return RecordReferral(tx, referral, now);
}

// The referral sent to `organisation`: NOT_FOUND for one that does not exist and for one sent to
// another organisation alike, so nothing of another provider's referrals shows.
absl::StatusOr<v1::Referral> ReferralTo(Transaction& tx, const std::string& name,
                                        const std::string& organisation) {
  ASSIGN_OR_RETURN(std::optional<v1::Referral> found, FindReferral(tx, IdOf(name, 10)));
  if (!found.has_value() || found->to_organisation() != organisation) return NotFound(name);
  return std::move(*found);
}

absl::StatusOr<v1::Commitment> ActiveCommitment(Transaction& tx, const std::string& name) {
  ASSIGN_OR_RETURN(std::optional<v1::Commitment> found, FindCommitment(tx, IdOf(name, 12)));
  if (!found.has_value()) return NotFound(name);
  if (found->state() != v1::COMMITMENT_STATE_ACTIVE) {
    return absl::FailedPreconditionError(absl::StrCat(
        "commitment: ", name, " is ", v1::CommitmentState_Name(found->state()), ", not active"));
  }
  return std::move(*found);
}

// Accepting: the provider's commitment, the referred promise ended as moved, and each of its
// visits still to come created again under the provider's commitment for the same occurrence.
absl::Status MovePromise(Transaction& tx, const Clock& clock, absl::Time now,
                         v1::Referral& referral, v1::AnswerReferralResponse* response) {
  ASSIGN_OR_RETURN(v1::Commitment referred, ActiveCommitment(tx, referral.commitment()));
  const absl::CivilDay today = absl::ToCivilDay(now, recurrence::ShanghaiTimeZone());
  v1::Commitment provider = ProviderCommitment(referred, referral, today, now);
  const std::string provider_id = NewId(clock);
  provider.set_name("commitments/" + provider_id);
  RETURN_IF_ERROR(InsertCommitment(tx, provider_id, provider));
  referral.set_provider_commitment(provider.name());
  RETURN_IF_ERROR(StoreReferral(tx, referral, v1::REFERRAL_STATE_SENT, now));

  referred.set_moved_to(provider.name());
  ASSIGN_OR_RETURN(std::vector<VisitRow> moved,
                   EndCommitmentIn(tx, now, IdOf(referred.name(), 12), referred,
                                   "MOVED_BY_REFERRAL", referral.name()));
  for (const VisitRow& old : moved) {
    const Occurrence occurrence{old.visit.occurrence(), FromTimestamp(old.visit.window_start()),
                                FromTimestamp(old.visit.window_end())};
    VisitRow row;
    row.id = NewId(clock);
    row.commitment_id = provider_id;
    row.window_start_us = absl::ToUnixMicros(occurrence.window_start);
    row.visit = NewVisit(provider, occurrence, "visits/" + row.id);
    RETURN_IF_ERROR(InsertVisit(tx, row));
    RETURN_IF_ERROR(AppendVisitEvent(tx, "visit.scheduled", row.visit, now));
  }
  *response->mutable_commitment() = std::move(provider);
  response->set_moved_visits(static_cast<int>(moved.size()));
  return absl::OkStatus();
}

}  // namespace

absl::Status CreateReferral(storage::Database& db, const Clock& clock, RegistryView& registry,
                            const v1::CreateReferralRequest& request, const std::string& actor,
                            v1::CreateReferralResponse* response) {
  RETURN_IF_ERROR(ValidateCreateReferral(request));
  // A retry gets its first answer even when the registry cannot be asked now.
  ASSIGN_OR_RETURN(bool replayed, FindIdempotentResponse(db, "CreateReferral", request.request_id(),
                                                         request, response, clock));
  if (replayed) return absl::OkStatus();

  v1::Commitment commitment;
  RETURN_IF_ERROR(db.RunInTransaction(
      [&](Transaction& tx) -> absl::Status {
        ASSIGN_OR_RETURN(commitment, ActiveCommitment(tx, request.commitment()));
        return absl::OkStatus();
      },
      {.read_only = true}));

  // The elder (consents, committee) and the committee's street.
  registry::v1::GetElderRequest elder_request;
  elder_request.set_name(commitment.elder());
  ASSIGN_OR_RETURN(registry::v1::GetElderResponse elder, registry.GetElder(elder_request));
  registry::v1::GetRegionRequest region_request;
  region_request.set_name(elder.elder().region());
  ASSIGN_OR_RETURN(registry::v1::GetRegionResponse region, registry.GetRegion(region_request));

  // The offering must be one the provider search finds for this elder and service.
  registry::v1::SearchProvidersRequest search;
  search.set_elder(commitment.elder());
  search.set_service_type(commitment.service_type());
  search.set_radius_meters(kReferralRadiusMeters);
  search.set_page_size(100);
  ASSIGN_OR_RETURN(registry::v1::SearchProvidersResponse found, registry.SearchProviders(search));
  const registry::v1::ProviderMatch* match = nullptr;
  for (const registry::v1::ProviderMatch& m : found.matches()) {
    if (m.offering().name() == request.offering()) match = &m;
  }
  if (match == nullptr) {
    return InvalidField(
        "offering", absl::StrCat(request.offering(), " does not offer ", commitment.service_type(),
                                 " to ", commitment.elder(),
                                 " (no active offering of it covers the elder's region within "
                                 "50 km; ProposeFallback lists those that do)"));
  }
  ASSIGN_OR_RETURN(v1::Referral referral,
                   NewReferral(commitment, elder.elder(), *match, region.region().parent(), request,
                               actor, clock.Now()));

  return RunIdempotent(
      db, "CreateReferral", request.request_id(), request, response,
      [&](Transaction& tx) -> absl::Status {
        RETURN_IF_ERROR(ActiveCommitment(tx, request.commitment()).status());
        const std::string commitment_id = IdOf(request.commitment(), 12);
        auto already = [&](const v1::Referral& open) {
          return absl::FailedPreconditionError(
              absl::StrCat("commitment: ", request.commitment(), " already has ", open.name(),
                           " waiting for an answer (withdraw it first)"));
        };
        ASSIGN_OR_RETURN(std::optional<v1::Referral> open, FindOpenReferral(tx, commitment_id));
        if (open.has_value()) return already(*open);
        const std::string id = NewId(clock);
        referral.set_name("referrals/" + id);
        absl::Status inserted = InsertReferral(tx, id, referral);
        if (absl::IsAlreadyExists(inserted)) {
          // Another one was sent at the same moment: the unique open-referral key kept it single.
          return absl::AbortedError("another referral of the promise was sent meanwhile");
        }
        RETURN_IF_ERROR(inserted);
        RETURN_IF_ERROR(RecordReferral(tx, referral, clock.Now()));
        *response->mutable_referral() = referral;
        return absl::OkStatus();
      },
      clock);
}

absl::Status GetReferral(storage::Database& db, const v1::GetReferralRequest& request,
                         v1::GetReferralResponse* response) {
  ASSIGN_OR_RETURN(std::string id, ParseResourceName(request.name(), "referrals", "name"));
  return db.RunInTransaction(
      [&](Transaction& tx) -> absl::Status {
        ASSIGN_OR_RETURN(std::optional<v1::Referral> found, FindReferral(tx, id));
        if (!found.has_value()) return NotFound(request.name());
        *response->mutable_referral() = std::move(*found);
        return absl::OkStatus();
      },
      {.read_only = true});
}

absl::Status ListReferrals(storage::Database& db, const v1::ListReferralsRequest& request,
                           v1::ListReferralsResponse* response) {
  FieldViolations v;
  ReferralFilter filter;
  if (!request.region().empty()) {
    if (!ParseResourceName(request.region(), "regions", "region").ok()) {
      v.Add("region", "must be a committee or street, \"regions/CODE\"");
    }
    filter.region = request.region();
  }
  if (!request.to_organisation().empty() &&
      !ParseResourceName(request.to_organisation(), "organisations", "to_organisation").ok()) {
    v.Add("to_organisation", "must look like \"organisations/ID\"");
  }
  filter.to_organisation = request.to_organisation();
  if (!request.from_organisation().empty() &&
      !ParseResourceName(request.from_organisation(), "organisations", "from_organisation").ok()) {
    v.Add("from_organisation", "must look like \"organisations/ID\"");
  }
  filter.from_organisation = request.from_organisation();
  if (!request.commitment().empty()) {
    absl::StatusOr<std::string> id =
        ParseResourceName(request.commitment(), "commitments", "commitment");
    if (!id.ok()) v.Add("commitment", "must look like \"commitments/ID\"");
    if (id.ok()) filter.commitment_id = *id;
  }
  if (request.region().empty() && request.to_organisation().empty() &&
      request.from_organisation().empty() && request.commitment().empty()) {
    v.Add("region", "a region, an organisation (to or from) or a commitment is required");
  }
  std::string fingerprint = absl::StrCat(request.region(), "|", request.to_organisation(), "|",
                                         request.from_organisation(), "|", request.commitment());
  for (int state : request.states()) {
    if (state == v1::REFERRAL_STATE_UNSPECIFIED || !v1::ReferralState_IsValid(state)) {
      v.Add("states", "must list known states (REFERRAL_STATE_SENT, …)");
      break;
    }
    filter.states.push_back(state);
    absl::StrAppend(&fingerprint, ",", state);
  }
  RETURN_IF_ERROR(v.ToStatus());
  ASSIGN_OR_RETURN(Page page,
                   Page::Start(request.page_size(), request.page_token(), fingerprint, 50, 200));
  return db.RunInTransaction(
      [&](Transaction& tx) -> absl::Status {
        response->Clear();
        ASSIGN_OR_RETURN(std::vector<v1::Referral> rows,
                         QueryReferrals(tx, filter, page.after, page.limit()));
        response->set_next_page_token(
            page.Finish(rows, [](const v1::Referral& r) { return IdOf(r.name(), 10); }));
        for (v1::Referral& r : rows) *response->add_referrals() = std::move(r);
        return absl::OkStatus();
      },
      {.read_only = true});
}

absl::Status AnswerReferral(storage::Database& db, const Clock& clock,
                            const v1::AnswerReferralRequest& request, const std::string& actor,
                            v1::AnswerReferralResponse* response) {
  RETURN_IF_ERROR(ValidateAnswerReferral(request));
  return RunIdempotent(
      db, "AnswerReferral", request.request_id(), request, response,
      [&](Transaction& tx) -> absl::Status {
        response->Clear();
        const absl::Time now = clock.Now();
        ASSIGN_OR_RETURN(v1::Referral referral,
                         ReferralTo(tx, request.name(), request.organisation()));
        RETURN_IF_ERROR(ApplyAnswer(request, actor, now, referral));
        if (request.accept()) {
          RETURN_IF_ERROR(MovePromise(tx, clock, now, referral, response));
        } else {
          RETURN_IF_ERROR(StoreReferral(tx, referral, v1::REFERRAL_STATE_SENT, now));
        }
        *response->mutable_referral() = std::move(referral);
        return absl::OkStatus();
      },
      clock);
}

absl::Status CompleteReferral(storage::Database& db, const Clock& clock,
                              const v1::CompleteReferralRequest& request, const std::string& actor,
                              v1::CompleteReferralResponse* response) {
  RETURN_IF_ERROR(ValidateCompleteReferral(request));
  return RunIdempotent(
      db, "CompleteReferral", request.request_id(), request, response,
      [&](Transaction& tx) -> absl::Status {
        response->Clear();
        const absl::Time now = clock.Now();
        ASSIGN_OR_RETURN(v1::Referral referral,
                         ReferralTo(tx, request.name(), request.organisation()));
        const v1::ReferralState before = referral.state();
        RETURN_IF_ERROR(ApplyCompletion(request, actor, now, referral));
        const std::string provider_id = IdOf(referral.provider_commitment(), 12);
        ASSIGN_OR_RETURN(std::optional<v1::Commitment> provider, FindCommitment(tx, provider_id));
        if (provider.has_value() && provider->state() == v1::COMMITMENT_STATE_ACTIVE) {
          ASSIGN_OR_RETURN(std::vector<VisitRow> cancelled,
                           EndCommitmentIn(tx, now, provider_id, *provider, "REFERRAL_COMPLETED",
                                           v1::ReferralOutcome_Name(request.outcome())));
          response->set_cancelled_visits(static_cast<int>(cancelled.size()));
        }
        RETURN_IF_ERROR(StoreReferral(tx, referral, before, now));
        *response->mutable_referral() = std::move(referral);
        return absl::OkStatus();
      },
      clock);
}

absl::Status WithdrawReferral(storage::Database& db, const Clock& clock,
                              const v1::WithdrawReferralRequest& request, const std::string& actor,
                              v1::WithdrawReferralResponse* response) {
  ASSIGN_OR_RETURN(std::string id, ParseResourceName(request.name(), "referrals", "name"));
  if (!ValidateRequestId(request.request_id()).ok()) {
    return InvalidField("request_id", "is malformed");
  }
  return RunIdempotent(
      db, "WithdrawReferral", request.request_id(), request, response,
      [&](Transaction& tx) -> absl::Status {
        response->Clear();
        const absl::Time now = clock.Now();
        ASSIGN_OR_RETURN(std::optional<v1::Referral> referral, FindReferral(tx, id));
        if (!referral.has_value()) return NotFound(request.name());
        RETURN_IF_ERROR(ApplyWithdrawal(actor, now, *referral));
        RETURN_IF_ERROR(StoreReferral(tx, *referral, v1::REFERRAL_STATE_SENT, now));
        *response->mutable_referral() = std::move(*referral);
        return absl::OkStatus();
      },
      clock);
}

absl::Status SweepReferrals(storage::Database& db, const Clock& clock,
                            v1::SweepMissedVisitsResponse* response) {
  const absl::Time now = clock.Now();
  // Sent and past respond_by: expired.
  for (std::string after;;) {
    int read = 0, expired = 0;
    std::string last;
    RETURN_IF_ERROR(db.RunInTransaction([&](Transaction& tx) -> absl::Status {
      ASSIGN_OR_RETURN(std::vector<v1::Referral> page,
                       ReferralsInState(tx, v1::REFERRAL_STATE_SENT, after, kSweepBatch));
      read = static_cast<int>(page.size());
      expired = 0;
      for (v1::Referral& referral : page) {
        if (!IsOverdue(referral, now)) continue;
        MarkExpired(now, referral);
        // Answered at the same moment: the answer stands.
        ASSIGN_OR_RETURN(bool stored, UpdateReferralIf(tx, IdOf(referral.name(), 10), referral,
                                                       v1::REFERRAL_STATE_SENT));
        if (!stored) continue;
        RETURN_IF_ERROR(RecordReferral(tx, referral, now));
        ++expired;
      }
      if (!page.empty()) last = IdOf(page.back().name(), 10);
      return absl::OkStatus();
    }));
    response->set_referrals_expired(response->referrals_expired() + expired);
    after = last;
    if (read < kSweepBatch) break;
  }
  // Accepted, and the provider has checked in to a visit: in service.
  for (std::string after;;) {
    int read = 0, started = 0;
    std::string last;
    RETURN_IF_ERROR(db.RunInTransaction([&](Transaction& tx) -> absl::Status {
      ASSIGN_OR_RETURN(std::vector<v1::Referral> page,
                       ReferralsInState(tx, v1::REFERRAL_STATE_ACCEPTED, after, kSweepBatch));
      read = static_cast<int>(page.size());
      started = 0;
      for (v1::Referral& referral : page) {
        // The first visits checked in to (an early arrival may come before its window).
        std::optional<absl::Time> first;
        for (v1::VisitState state : {v1::VISIT_STATE_IN_PROGRESS, v1::VISIT_STATE_COMPLETED}) {
          VisitFilter filter;
          filter.commitment_id = IdOf(referral.provider_commitment(), 12);
          filter.state = state;
          ASSIGN_OR_RETURN(std::vector<VisitRow> visits,
                           QueryVisits(tx, filter, INT64_MIN, "", 10));
          for (const VisitRow& v : visits) {
            const absl::Time at = FromTimestamp(v.visit.check_in().time());
            if (!first.has_value() || at < *first) first = at;
          }
        }
        if (!first.has_value()) continue;
        MarkInService(*first, referral);
        ASSIGN_OR_RETURN(bool stored, UpdateReferralIf(tx, IdOf(referral.name(), 10), referral,
                                                       v1::REFERRAL_STATE_ACCEPTED));
        if (!stored) continue;
        RETURN_IF_ERROR(RecordReferral(tx, referral, now));
        ++started;
      }
      if (!page.empty()) last = IdOf(page.back().name(), 10);
      return absl::OkStatus();
    }));
    response->set_referrals_in_service(response->referrals_in_service() + started);
    after = last;
    if (read < kSweepBatch) break;
  }
  return absl::OkStatus();
}

}  // namespace linli::scheduling
