#include "services/feedback/consumer.h"

#include <algorithm>
#include <atomic>
#include <functional>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/client.h"
#include "common/errors.h"
#include "common/grpc_status.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/status_macros.h"
#include "google/protobuf/util/time_util.h"

namespace linli::feedback {
namespace {

using google::protobuf::util::TimeUtil;

constexpr absl::Duration kRpcTimeout = absl::Seconds(5);

std::string StripPrefix(const std::string& name, absl::string_view prefix) {
  return absl::StartsWith(name, prefix) ? name.substr(prefix.size()) : name;
}

// Calls `fetch` for every key, up to kFetchThreads at a time (first sight of a batch's
// commitments and elders is otherwise a long row of serial round trips).
constexpr size_t kFetchThreads = 8;

template <typename T>
absl::Status FetchAll(const std::set<std::string>& keys,
                      const std::function<absl::StatusOr<T>(const std::string&)>& fetch,
                      std::map<std::string, T>* out) {
  const std::vector<std::string> list(keys.begin(), keys.end());
  std::vector<absl::StatusOr<T>> results(list.size(), absl::StatusOr<T>(absl::UnknownError("")));
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < list.size(); i = next++) results[i] = fetch(list[i]);
  };
  std::vector<std::thread> threads;
  for (size_t t = 1; t < std::min(kFetchThreads, list.size()); ++t) threads.emplace_back(work);
  work();
  for (std::thread& t : threads) t.join();
  for (size_t i = 0; i < list.size(); ++i) {
    if (!results[i].ok()) return results[i].status();
    (*out)[list[i]] = std::move(*results[i]);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<CommitmentFacts> RpcFacts::Commitment(const std::string& id) {
  scheduling::v1::GetCommitmentRequest request;
  request.set_name("commitments/" + id);
  scheduling::v1::GetCommitmentResponse response;
  auto context = NewClientContext(nullptr, kRpcTimeout);
  grpc::Status status = scheduling_->GetCommitment(context.get(), request, &response);
  CommitmentFacts facts;
  facts.id = id;
  if (status.error_code() == grpc::StatusCode::NOT_FOUND) return facts;
  if (!status.ok()) return FromGrpcStatus(status);
  const scheduling::v1::Commitment& c = response.commitment();
  facts.elder = c.elder();
  facts.organisation = c.owner_organisation();
  facts.preferred_worker = c.preferred_worker();
  facts.service_type = c.service_type();
  return facts;
}

absl::StatusOr<ElderFacts> RpcFacts::Elder(const std::string& elder) {
  ElderFacts facts;
  facts.elder = elder;
  registry::v1::GetElderRequest request;
  request.set_name(elder);
  registry::v1::GetElderResponse response;
  auto context = NewClientContext(nullptr, kRpcTimeout);
  grpc::Status status = registry_->GetElder(context.get(), request, &response);
  if (status.error_code() == grpc::StatusCode::NOT_FOUND ||
      status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
    return facts;
  }
  if (!status.ok()) return FromGrpcStatus(status);
  const registry::v1::Elder& e = response.elder();
  facts.committee = e.region();
  facts.solitary = e.living_situation() == registry::v1::LIVING_SITUATION_ALONE ||
                   e.living_situation() == registry::v1::LIVING_SITUATION_NO_FAMILY;
  for (int i = 0; i < e.contacts_size(); ++i) {
    if (e.contacts(i).proxy()) facts.proxy_contacts.push_back(i);
  }
  if (!facts.committee.empty()) {
    registry::v1::GetRegionRequest region_request;
    region_request.set_name(facts.committee);
    registry::v1::GetRegionResponse region_response;
    auto region_context = NewClientContext(nullptr, kRpcTimeout);
    grpc::Status region_status =
        registry_->GetRegion(region_context.get(), region_request, &region_response);
    if (!region_status.ok() && region_status.error_code() != grpc::StatusCode::NOT_FOUND) {
      return FromGrpcStatus(region_status);
    }
    facts.street = region_response.region().parent();
  }
  return facts;
}

absl::Status EventApplier::Apply(const std::vector<scheduling::v1::Event>& events) {
  absl::MutexLock lock(&mu_);
  const absl::Time now = clock_.Now();
  // Parse, and learn which facts are missing from the cache.
  struct Parsed {
    int64_t sequence;
    std::string type;
    scheduling::v1::Visit visit;
  };
  std::vector<Parsed> parsed;
  parsed.reserve(events.size());
  std::vector<scheduling::v1::Referral> referrals;
  int64_t max_sequence = 0;
  std::set<std::string> missing_commitments;
  for (const scheduling::v1::Event& event : events) {
    max_sequence = std::max(max_sequence, event.sequence());
    if (absl::StartsWith(event.type(), "referral.")) {
      scheduling::v1::Referral referral;
      if (!referral.ParseFromString(event.payload()) || referral.name().empty()) {
        LogWarning("scheduling event payload does not parse; skipped",
                   {{"sequence", absl::StrCat(event.sequence())}, {"type", event.type()}});
        continue;
      }
      referrals.push_back(std::move(referral));
      continue;
    }
    if (!absl::StartsWith(event.type(), "visit.")) continue;
    Parsed p{event.sequence(), event.type(), {}};
    if (!p.visit.ParseFromString(event.payload()) || p.visit.name().empty()) {
      LogWarning("scheduling event payload does not parse; skipped",
                 {{"sequence", absl::StrCat(event.sequence())}, {"type", event.type()}});
      continue;
    }
    const std::string commitment_id = StripPrefix(p.visit.commitment(), "commitments/");
    if (!commitments_.contains(commitment_id)) missing_commitments.insert(commitment_id);
    parsed.push_back(std::move(p));
  }

  // Facts already stored are cached; the others are fetched outside any transaction.
  std::map<std::string, CommitmentFacts> new_commitments;
  std::map<std::string, ElderFacts> new_elders;
  std::set<std::string> missing_elders;
  for (const Parsed& p : parsed) {
    if (!elders_.contains(p.visit.elder())) missing_elders.insert(p.visit.elder());
  }
  if (!missing_commitments.empty() || !missing_elders.empty()) {
    RETURN_IF_ERROR(db_.RunInTransaction(
        [&](storage::Transaction& tx) -> absl::Status {
          for (const std::string& id : missing_commitments) {
            ASSIGN_OR_RETURN(std::optional<CommitmentFacts> c, FindCommitmentFacts(tx, id));
            if (c.has_value()) commitments_[id] = *c;
          }
          for (const std::string& elder : missing_elders) {
            ASSIGN_OR_RETURN(std::optional<ElderFacts> e, FindElderFacts(tx, elder));
            if (e.has_value()) elders_[elder] = *e;
          }
          return absl::OkStatus();
        },
        {.read_only = true}));
  }
  std::set<std::string> fetch_commitments, fetch_elders;
  for (const std::string& id : missing_commitments) {
    if (!commitments_.contains(id)) fetch_commitments.insert(id);
  }
  for (const std::string& elder : missing_elders) {
    if (!elders_.contains(elder)) fetch_elders.insert(elder);
  }
  RETURN_IF_ERROR(FetchAll<CommitmentFacts>(
      fetch_commitments, [&](const std::string& id) { return facts_.Commitment(id); },
      &new_commitments));
  RETURN_IF_ERROR(FetchAll<ElderFacts>(
      fetch_elders,
      [&](const std::string& elder) -> absl::StatusOr<ElderFacts> {
        ASSIGN_OR_RETURN(ElderFacts e, facts_.Elder(elder));
        e.first_seen_us = absl::ToUnixMicros(now);
        return e;
      },
      &new_elders));

  const storage::Dialect dialect = db_.dialect();
  std::vector<NoticeDraft> notice_drafts;
  int notices_raised = 0;
  RETURN_IF_ERROR(db_.RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
    notices_raised = 0;
    for (const auto& [id, c] : new_commitments) {
      ASSIGN_OR_RETURN(std::optional<CommitmentFacts> existing, FindCommitmentFacts(tx, id));
      if (!existing.has_value()) RETURN_IF_ERROR(InsertCommitmentFacts(tx, c));
    }
    for (const auto& [elder, e] : new_elders) {
      ASSIGN_OR_RETURN(std::optional<ElderFacts> existing, FindElderFacts(tx, elder));
      if (!existing.has_value()) RETURN_IF_ERROR(InsertElderFacts(tx, e));
    }
    auto commitment_of = [&](const std::string& id) -> const CommitmentFacts& {
      auto it = new_commitments.find(id);
      return it != new_commitments.end() ? it->second : commitments_[id];
    };
    auto elder_of = [&](const std::string& elder) -> const ElderFacts& {
      auto it = new_elders.find(elder);
      return it != new_elders.end() ? it->second : elders_[elder];
    };

    struct Slot {
      ProjectedVisit visit;
      bool exists = false;
      bool dirty = false;
    };
    std::map<std::string, Slot> visits;
    std::map<std::string, int64_t> contacts;
    CounterBatch counters;
    notice_drafts.clear();
    for (const Parsed& p : parsed) {
      const std::string id = StripPrefix(p.visit.name(), "visits/");
      auto it = visits.find(id);
      if (it == visits.end()) {
        ASSIGN_OR_RETURN(std::optional<ProjectedVisit> stored, FindVisit(tx, id));
        Slot slot;
        if (stored.has_value()) {
          slot.visit = *stored;
          slot.exists = true;
        }
        it = visits.emplace(id, std::move(slot)).first;
      }
      Slot& slot = it->second;
      if (p.sequence <= slot.visit.last_sequence) continue;  // already applied, or older

      ProjectedVisit next;
      next.id = id;
      next.commitment_id = StripPrefix(p.visit.commitment(), "commitments/");
      next.elder = p.visit.elder();
      next.worker = p.visit.check_in().worker();
      next.day =
          LocalDay(absl::FromUnixMicros(TimeUtil::TimestampToMicroseconds(p.visit.window_start())));
      next.state = static_cast<VisitState>(p.visit.state());
      next.late = std::find(p.visit.exceptions().begin(), p.visit.exceptions().end(),
                            "LATE_ARRIVAL") != p.visit.exceptions().end();
      next.disputed = slot.visit.disputed;
      next.repaired = slot.visit.repaired;
      next.window_start_us = TimeUtil::TimestampToMicroseconds(p.visit.window_start());
      next.window_end_us = TimeUtil::TimestampToMicroseconds(p.visit.window_end());
      next.staffed = p.visit.assignments_size() > 0 ? 1 : 0;
      next.review = static_cast<int>(p.visit.review().state());
      next.booked_worker = p.visit.assignments_size() > 0 ? p.visit.assignments(0).worker() : "";
      next.check_in_us =
          p.visit.has_check_in() ? TimeUtil::TimestampToMicroseconds(p.visit.check_in().time()) : 0;
      next.duration_minutes = p.visit.duration_minutes();
      next.last_sequence = p.sequence;
      if (next.state == VisitState::kCompleted && p.visit.has_check_in()) {
        next.contact_time_us = TimeUtil::TimestampToMicroseconds(p.visit.check_in().time());
        int64_t& contact = contacts[next.elder];
        contact = std::max(contact, next.contact_time_us);
      }

      const CommitmentFacts& commitment = commitment_of(next.commitment_id);
      const ElderFacts& elder = elder_of(next.elder);
      VisitSubjects subjects{"commitments/" + next.commitment_id, next.elder,
                             commitment.organisation, elder.committee, elder.street};
      if (slot.exists || slot.dirty) {
        counters.Add(SubjectKeys(subjects, slot.visit.worker), slot.visit.day,
                     Figures() - VisitContribution(slot.visit, commitment.preferred_worker));
      }
      counters.Add(SubjectKeys(subjects, next.worker), next.day,
                   VisitContribution(next, commitment.preferred_worker));
      if (notices_ != nullptr) {
        for (NoticeDraft& draft : VisitChangeNotices(
                 slot.exists || slot.dirty ? &slot.visit : nullptr, next, commitment, elder, now)) {
          notice_drafts.push_back(std::move(draft));
        }
        if (p.type == "visit.make_up_declined" && p.visit.has_make_up_declined()) {
          const scheduling::v1::MakeUpDecline& decline = p.visit.make_up_declined();
          for (NoticeDraft& draft : MakeUpDeclinedNotices(
                   next, commitment, elder, decline.reason(),
                   absl::FromUnixMicros(TimeUtil::TimestampToMicroseconds(decline.time())), now)) {
            notice_drafts.push_back(std::move(draft));
          }
        }
      }
      slot.visit = std::move(next);
      slot.dirty = true;

      // A make-up visit completed (and not rejected on review) repairs the missed one it makes
      // good; rejected or cancelled later, the missed one counts as missed again.
      if (!p.visit.make_up_for().empty()) {
        const std::string missed_id = StripPrefix(p.visit.make_up_for(), "visits/");
        const bool repairs =
            slot.visit.state == VisitState::kCompleted && slot.visit.review != kReviewRejected;
        auto m = visits.find(missed_id);
        if (m == visits.end()) {
          ASSIGN_OR_RETURN(std::optional<ProjectedVisit> stored, FindVisit(tx, missed_id));
          Slot missed_slot;
          if (stored.has_value()) {
            missed_slot.visit = *stored;
            missed_slot.exists = true;
          }
          m = visits.emplace(missed_id, std::move(missed_slot)).first;
        }
        Slot& missed = m->second;
        if ((missed.exists || missed.dirty) && missed.visit.state == VisitState::kMissed &&
            missed.visit.repaired != repairs) {
          const std::vector<std::string> keys = SubjectKeys(subjects, missed.visit.worker);
          counters.Add(keys, missed.visit.day,
                       Figures() - VisitContribution(missed.visit, commitment.preferred_worker));
          missed.visit.repaired = repairs;
          counters.Add(keys, missed.visit.day,
                       VisitContribution(missed.visit, commitment.preferred_worker));
          missed.dirty = true;
        }
      }
    }
    for (const auto& [id, slot] : visits) {
      if (slot.dirty) RETURN_IF_ERROR(UpsertVisit(tx, slot.visit, slot.exists));
    }
    // Referrals: an accepted one moved its promise (not broken: ListPromises names where to);
    // each step tells whoever must act.
    for (const scheduling::v1::Referral& referral : referrals) {
      if (referral.state() == scheduling::v1::REFERRAL_STATE_ACCEPTED) {
        RETURN_IF_ERROR(RecordMove(tx, StripPrefix(referral.commitment(), "commitments/"),
                                   referral.provider_commitment()));
      }
      if (notices_ == nullptr) continue;
      for (NoticeDraft& draft : ReferralNotices(referral, now)) {
        notice_drafts.push_back(std::move(draft));
      }
    }
    RETURN_IF_ERROR(counters.Flush(tx, dialect));
    for (const auto& [elder, contact] : contacts) {
      RETURN_IF_ERROR(RaiseLastContact(tx, elder, contact));
    }
    if (!notice_drafts.empty()) {
      ASSIGN_OR_RETURN(notices_raised, notices_->Raise(tx, notice_drafts, now));
    }
    if (max_sequence > 0) {
      RETURN_IF_ERROR(AdvanceCursor(tx, kSchedulingSource, max_sequence, now));
    }
    return absl::OkStatus();
  }));
  if (notices_raised > 0) notices_->Committed();
  for (auto& [id, c] : new_commitments) commitments_[id] = std::move(c);
  for (auto& [elder, e] : new_elders) elders_[elder] = std::move(e);
  return absl::OkStatus();
}

absl::StatusOr<int> SchedulingConsumer::PollOnce() {
  int64_t cursor = 0;
  RETURN_IF_ERROR(db_.RunInTransaction(
      [&](storage::Transaction& tx) -> absl::Status {
        ASSIGN_OR_RETURN(cursor, GetCursor(tx, kSchedulingSource));
        return absl::OkStatus();
      },
      {.read_only = true}));
  scheduling::v1::ListEventsRequest request;
  request.set_after_sequence(cursor);
  request.set_page_size(page_size_);
  scheduling::v1::ListEventsResponse response;
  auto context = NewClientContext(nullptr, kRpcTimeout);
  grpc::Status status = scheduling_->ListEvents(context.get(), request, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  // Outbox lag for /metrics: how far the stored cursor trails scheduling's newest event.
  static auto& applied_sequence = metrics::Registry::Default().AddGauge(
      "linli_event_consumer_sequence", "Highest event sequence applied, by stream.", {"stream"});
  static auto& lag = metrics::Registry::Default().AddGauge(
      "linli_event_consumer_lag_events", "Events recorded by the source but not yet applied.",
      {"stream"});
  int64_t applied_to = cursor;
  // Moving the cursor to the page's last sequence skips nothing: scheduling's ListEvents returns
  // a page only up to where no smaller sequence can still commit (its outbox gate).
  if (response.events_size() > 0) {
    std::vector<scheduling::v1::Event> events(response.events().begin(), response.events().end());
    RETURN_IF_ERROR(applier_.Apply(events));
    applied_to = std::max(cursor, response.events(response.events_size() - 1).sequence());
  }
  applied_sequence.WithLabels({kSchedulingSource}).Set(static_cast<double>(applied_to));
  lag.WithLabels({kSchedulingSource})
      .Set(static_cast<double>(std::max<int64_t>(0, response.last_sequence() - applied_to)));
  return response.events_size();
}

void SchedulingConsumer::RunUntil(absl::Notification& stopping, absl::Duration interval) {
  while (!stopping.HasBeenNotified()) {
    absl::StatusOr<int> applied = PollOnce();
    if (!applied.ok()) {
      LogWarning("applying scheduling events failed; retrying",
                 {{"error", applied.status().ToString()}});
    }
    if (applied.ok() && *applied > 0) continue;  // more may be waiting
    stopping.WaitForNotificationWithTimeout(interval);
  }
}

}  // namespace linli::feedback
