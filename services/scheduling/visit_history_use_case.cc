#include "services/scheduling/visit_history_use_case.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "common/errors.h"
#include "common/ids.h"
#include "common/import_problems.h"
#include "common/status_macros.h"
#include "common/text.h"
#include "services/scheduling/commitment.h"
#include "services/scheduling/scheduling_store.h"
#include "services/scheduling/visit_history.h"
#include "services/scheduling/visit_rules.h"

namespace linli::scheduling {
namespace {

using storage::Transaction;

// A row that passed the checks without the database, with what the transaction decides.
struct Ready {
  int index = 0;  // in the request
  std::string commitment_id;
};

// What the transaction decided for a row: a visit to write (new, or the scheduled one replayed),
// or an occurrence already recorded.
struct Outcome {
  int index = 0;
  bool existing = false;
  bool insert = false;  // new visit (else an update of the scheduled one read)
  VisitRow row;
  v1::VisitState read_state = v1::VISIT_STATE_UNSPECIFIED;
  std::string event;
};

}  // namespace

absl::StatusOr<v1::ImportVisitsResponse> ImportVisits(storage::Database& db, const Clock& clock,
                                                      RegistryView& registry,
                                                      const v1::ImportVisitsRequest& request,
                                                      double geofence_radius_m) {
  if (request.rows_size() == 0 || request.rows_size() > kMaxImportRows) {
    return InvalidField("rows", absl::StrCat("must hold 1 to ", kMaxImportRows, " rows"));
  }
  if (!request.owner_guard().empty() &&
      !ParseResourceName(request.owner_guard(), "organisations", "owner_guard").ok()) {
    return InvalidField("owner_guard", "must look like \"organisations/ID\"");
  }
  const absl::Time now = clock.Now();
  v1::ImportVisitsResponse response;
  RowProblems* problems = response.mutable_problems();
  response.mutable_visits()->Reserve(request.rows_size());
  for (int i = 0; i < request.rows_size(); ++i) response.add_visits();

  // Checks without the database.
  std::vector<Ready> ready;
  for (int i = 0; i < request.rows_size(); ++i) {
    const v1::ImportedVisit& row = request.rows(i);
    absl::Status valid = ValidateImportedVisit(row, now);
    if (!valid.ok()) {
      AddProblems(row.line(), valid, problems, "visit");
      continue;
    }
    // A row naming its promise by elder, service type and owner learns its id below.
    ready.push_back({i, NamesPromiseByKey(row) ? "" : row.commitment().substr(12)});
  }

  // The promises named, read once (and every promise of each elder a row names); then the
  // workers of their organisations, outside any transaction.
  std::map<std::string, v1::Commitment> commitments;
  std::map<std::string, std::vector<v1::Commitment>> of_elder;
  RETURN_IF_ERROR(db.RunInTransaction(
      [&](Transaction& tx) -> absl::Status {
        commitments.clear();
        of_elder.clear();
        for (const Ready& r : ready) {
          const std::string& elder = request.rows(r.index).elder();
          if (r.commitment_id.empty() && !of_elder.contains(elder)) {
            ASSIGN_OR_RETURN(std::vector<v1::Commitment> all,
                             QueryCommitments(tx, elder, false, "", kMaxImportRows));
            of_elder.emplace(elder, std::move(all));
          }
          if (r.commitment_id.empty() || commitments.contains(r.commitment_id)) continue;
          ASSIGN_OR_RETURN(std::optional<v1::Commitment> c, FindCommitment(tx, r.commitment_id));
          if (c.has_value()) commitments.emplace(r.commitment_id, std::move(*c));
        }
        return absl::OkStatus();
      },
      {.read_only = true}));
  std::map<std::string, std::set<std::string>> workers_of;  // organisation -> worker names
  std::vector<Ready> known;
  for (Ready& r : ready) {
    const v1::ImportedVisit& row = request.rows(r.index);
    if (r.commitment_id.empty()) {
      const v1::Commitment* promise = PromiseOfOccurrence(of_elder[row.elder()], row);
      if (promise == nullptr) {
        AddProblem(
            row.line(), "visit.occurrence",
            absl::StrCat("no promise of ", row.service_type(), " by ", row.owner_organisation(),
                         " to ", row.elder(), " has an occurrence at this time"),
            "该老人没有这家单位这项服务在此时间的上门安排", problems);
        continue;
      }
      r.commitment_id = promise->name().substr(12);
      commitments.emplace(r.commitment_id, *promise);
    }
    auto c = commitments.find(r.commitment_id);
    if (c == commitments.end() || (!request.owner_guard().empty() &&
                                   c->second.owner_organisation() != request.owner_guard())) {
      // A promise of another provider is refused as one that does not exist.
      AddProblem(row.line(), "visit.commitment",
                 absl::StrCat("commitments/", r.commitment_id, " not found"), "找不到该服务承诺",
                 problems);
      continue;
    }
    const std::string& owner = c->second.owner_organisation();
    if (!workers_of.contains(owner)) {
      ASSIGN_OR_RETURN(std::vector<registry::v1::Worker> workers, AllWorkers(registry, owner));
      std::set<std::string>& names = workers_of[owner];
      for (const registry::v1::Worker& w : workers) names.insert(w.name());
    }
    bool ok = true;
    for (int a = 0; a < row.attendance_size(); ++a) {
      if (!workers_of[owner].contains(row.attendance(a).worker())) {
        AddProblem(row.line(), absl::StrCat("visit.attendance[", a, "].worker"),
                   absl::StrCat(row.attendance(a).worker(), " is not a worker of ", owner),
                   "该人员不属于承诺的服务单位", problems);
        ok = false;
      }
    }
    if (ok) known.push_back(r);
  }
  const int checked = problems->size();

  absl::Status status = db.RunInTransaction([&](Transaction& tx) -> absl::Status {
    // A retried transaction starts the database checks again.
    while (problems->size() > checked) problems->RemoveLast();
    response.set_created(0);
    response.set_existing(0);
    response.set_written(false);
    for (std::string& name : *response.mutable_visits()) name.clear();
    std::vector<Outcome> outcomes;
    std::map<std::pair<std::string, std::string>, int> lines;  // occurrence -> first line
    for (const Ready& r : known) {
      const v1::ImportedVisit& row = request.rows(r.index);
      const v1::Commitment& commitment = commitments.at(r.commitment_id);
      auto [first, fresh] = lines.emplace(std::pair(r.commitment_id, row.occurrence()), row.line());
      if (!fresh) {
        AddProblem(row.line(), "visit.occurrence",
                   absl::StrCat("the same visit as line ", first->second),
                   absl::StrCat("与第 ", first->second, " 行是同一次上门"), problems);
        continue;
      }
      absl::CivilSecond start;
      absl::ParseCivilTime(row.occurrence(), &start);  // checked by ValidateImportedVisit
      const absl::CivilDay day = absl::CivilDay(start);
      std::optional<Occurrence> occurrence;
      for (Occurrence& o : Occurrences(commitment, day, day + 1, 100)) {
        if (o.key == row.occurrence()) occurrence = std::move(o);
      }
      if (!occurrence.has_value()) {
        AddProblem(row.line(), "visit.occurrence",
                   absl::StrCat("is not an occurrence of commitments/", r.commitment_id,
                                " (its recurrence, from its valid_from to its valid_until)"),
                   "不是该承诺排定的上门时间", problems);
        continue;
      }
      if (!WindowClosed(commitment, *occurrence, now)) {
        AddProblem(row.line(), "visit.occurrence",
                   "has not passed yet: a visit still to come is checked in live",
                   "尚未过去：未来的上门请现场签到", problems);
        continue;
      }
      ASSIGN_OR_RETURN(std::optional<VisitRow> stored,
                       FindVisitOfOccurrence(tx, r.commitment_id, row.occurrence()));
      Outcome outcome;
      outcome.index = r.index;
      if (stored.has_value() && stored->visit.state() != v1::VISIT_STATE_SCHEDULED) {
        outcome.existing = true;
        response.set_visits(r.index, stored->visit.name());
        outcomes.push_back(std::move(outcome));
        continue;
      }
      if (stored.has_value()) {
        outcome.row = std::move(*stored);
      } else {
        outcome.insert = true;
        outcome.row.id = NewId(clock);
        outcome.row.commitment_id = r.commitment_id;
        outcome.row.window_start_us = absl::ToUnixMicros(occurrence->window_start);
        outcome.row.visit = NewVisit(commitment, *occurrence, "visits/" + outcome.row.id);
      }
      outcome.read_state = outcome.row.visit.state();
      absl::StatusOr<std::string> event = ReplayVisit(row, geofence_radius_m, outcome.row.visit);
      if (!event.ok()) {
        AddProblems(row.line(), event.status(), problems, "visit");
        continue;
      }
      outcome.event = std::move(*event);
      outcomes.push_back(std::move(outcome));
    }
    int created = 0;
    for (const Outcome& o : outcomes) {
      if (o.existing) {
        response.set_existing(response.existing() + 1);
      } else {
        ++created;
      }
    }
    response.set_created(created);
    if (request.dry_run() || (problems->size() > 0 && !request.skip_bad_rows())) {
      return absl::OkStatus();
    }
    std::vector<OutboxEvent> events;
    for (Outcome& o : outcomes) {
      if (o.existing) continue;
      if (o.insert) {
        absl::Status inserted = InsertVisit(tx, o.row);
        // Another call recorded the occurrence since this one looked: start again, and find it.
        if (absl::IsAlreadyExists(inserted)) return absl::AbortedError("occurrence taken");
        RETURN_IF_ERROR(inserted);
      } else {
        ASSIGN_OR_RETURN(bool updated, UpdateVisitIf(tx, o.row, o.read_state));
        if (!updated) return absl::AbortedError("visit changed concurrently");
        // The visit is over: whoever was booked on it is free again.
        RETURN_IF_ERROR(ReleaseBookings(tx, o.row.id));
      }
      response.set_visits(o.index, o.row.visit.name());
      events.push_back(
          OutboxEvent{0, o.event, o.row.visit.name(), o.row.visit.SerializeAsString(), now});
    }
    if (!events.empty()) RETURN_IF_ERROR(AppendEvents(tx, events));
    response.set_written(!events.empty());
    return absl::OkStatus();
  });
  RETURN_IF_ERROR(status);
  // The problems by line: those found without the database came first.
  SortByLine(*problems);
  return response;
}

}  // namespace linli::scheduling
