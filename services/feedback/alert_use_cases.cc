#include "services/feedback/alert_use_cases.h"

#include <map>
#include <optional>
#include <vector>

#include "common/errors.h"
#include "common/ids.h"
#include "common/status_macros.h"
#include "services/feedback/work_order.h"

namespace linli::feedback {
namespace {

std::string AlertName(const std::string& id) { return "alerts/" + id; }

}  // namespace

AlertRow NewAlertRow(const Clock& clock, AlertDraft draft) {
  AlertRow row;
  row.id = NewId(clock);
  row.dedupe_key = std::move(draft.dedupe_key);
  row.alert = std::move(draft.alert);
  row.alert.set_name(AlertName(row.id));
  return row;
}

absl::StatusOr<v1::SweepAlertsResponse> AlertUseCases::Sweep(Directory& directory, absl::Time now) {
  v1::SweepAlertsResponse result;
  const int64_t today = LocalDay(now);

  // 1. Overdue work orders: escalate, then alert the committee. Each in its own transaction,
  // re-checked there (a person may have resolved it since it was listed); the registry is asked
  // outside them, once per street.
  std::vector<WorkOrderRow> overdue;
  RETURN_IF_ERROR(db_.RunInTransaction(
      [&](storage::Transaction& tx) -> absl::Status {
        ASSIGN_OR_RETURN(overdue, OverdueWorkOrders(tx, cipher_, now));
        return absl::OkStatus();
      },
      {.read_only = true}));
  std::map<std::string, std::string> targets;
  for (const WorkOrderRow& candidate : overdue) {
    if (!targets.contains(candidate.street)) {
      targets[candidate.street] = directory.EscalationTarget(candidate.street);
    }
    const std::string& target = targets[candidate.street];
    bool escalated = false;
    bool raised = false;
    RETURN_IF_ERROR(db_.RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
      escalated = raised = false;
      ASSIGN_OR_RETURN(std::optional<WorkOrderRow> row, FindWorkOrder(tx, cipher_, candidate.id));
      if (!row.has_value()) return absl::OkStatus();
      if (!EscalateIfOverdue(row->order, target, now)) return absl::OkStatus();
      RETURN_IF_ERROR(UpdateWorkOrder(tx, cipher_, *row));
      escalated = true;
      ASSIGN_OR_RETURN(
          raised,
          notices_.RaiseAlert(
              tx,
              NewAlertRow(clock_, OverdueWorkOrderAlert(row->order, row->committee, target, now)),
              now));
      if (std::optional<NoticeDraft> notice =
              WorkOrderNotice(row->order, row->committee, row->street)) {
        RETURN_IF_ERROR(notices_.Raise(tx, {std::move(*notice)}, now).status());
      }
      return absl::OkStatus();
    }));
    if (escalated) result.set_escalated(result.escalated() + 1);
    if (raised) result.set_raised(result.raised() + 1);
  }

  // 2. Solitary elders without verified contact; 3. falling indices. Found in a read-only
  // transaction (the consumer keeps writing meanwhile), then raised once each.
  std::vector<AlertRow> candidates;
  RETURN_IF_ERROR(db_.RunInTransaction(
      [&](storage::Transaction& tx) -> absl::Status {
        candidates.clear();
        ASSIGN_OR_RETURN(auto policies, AlertPolicies(tx));
        ASSIGN_OR_RETURN(std::vector<ElderFacts> elders, KnownElders(tx));
        for (const ElderFacts& e : elders) {
          if (std::optional<AlertDraft> alert =
                  NoContactAlert(e, NoContactDays(policies, e.committee), now)) {
            candidates.push_back(NewAlertRow(clock_, std::move(*alert)));
          }
          const DayRange recent_week = RecentWeek(today);
          ASSIGN_OR_RETURN(Figures recent,
                           SumCounters(tx, e.elder, recent_week.first, recent_week.last));
          if (!EnoughAnswersToCompare(recent)) continue;  // the week before need not be read
          const DayRange week_before = WeekBefore(today);
          ASSIGN_OR_RETURN(Figures before,
                           SumCounters(tx, e.elder, week_before.first, week_before.last));
          if (std::optional<AlertDraft> alert = FallingIndexAlert(e, recent, before, today, now)) {
            candidates.push_back(NewAlertRow(clock_, std::move(*alert)));
          }
        }
        return absl::OkStatus();
      },
      {.read_only = true}));
  int raised = 0;
  if (!candidates.empty()) {
    RETURN_IF_ERROR(db_.RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
      raised = 0;
      for (const AlertRow& candidate : candidates) {
        ASSIGN_OR_RETURN(bool inserted, notices_.RaiseAlert(tx, candidate, now));
        if (inserted) ++raised;
      }
      return absl::OkStatus();
    }));
  }
  result.set_raised(result.raised() + raised);
  notices_.Committed();
  ASSIGN_OR_RETURN(const int notices, notices_.Sweep(now));
  result.set_notices(notices);
  return result;
}

absl::Status AlertUseCases::List(const v1::ListAlertsRequest& request, const Page& page,
                                 v1::ListAlertsResponse* response) {
  return db_.RunInTransaction(
      [&](storage::Transaction& tx) -> absl::Status {
        response->Clear();
        ASSIGN_OR_RETURN(std::vector<AlertRow> rows,
                         QueryAlerts(tx, request.committee(), request.region(), request.state(),
                                     page.after, page.limit()));
        response->set_next_page_token(page.Finish(rows, [](const AlertRow& r) { return r.id; }));
        for (const AlertRow& r : rows) *response->add_alerts() = r.alert;
        return absl::OkStatus();
      },
      {.read_only = true});
}

absl::StatusOr<v1::Alert> AlertUseCases::Get(const std::string& id) {
  v1::Alert alert;
  RETURN_IF_ERROR(db_.RunInTransaction(
      [&](storage::Transaction& tx) -> absl::Status {
        ASSIGN_OR_RETURN(std::optional<AlertRow> row, FindAlert(tx, id));
        if (!row.has_value()) return NotFound(AlertName(id));
        alert = std::move(row->alert);
        return absl::OkStatus();
      },
      {.read_only = true}));
  return alert;
}

absl::StatusOr<v1::Alert> AlertUseCases::Update(
    const std::string& id, const std::function<absl::Status(v1::Alert&)>& change) {
  v1::Alert result;
  RETURN_IF_ERROR(db_.RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(std::optional<AlertRow> row, FindAlert(tx, id));
    if (!row.has_value()) return NotFound(AlertName(id));
    RETURN_IF_ERROR(change(row->alert));
    RETURN_IF_ERROR(UpdateAlert(tx, *row));
    result = row->alert;
    return absl::OkStatus();
  }));
  return result;
}

absl::StatusOr<v1::Alert> AlertUseCases::Acknowledge(const std::string& id,
                                                     const std::string& actor) {
  const absl::Time now = clock_.Now();
  return Update(id, [&](v1::Alert& alert) { return AcknowledgeAlert(alert, actor, now); });
}

absl::StatusOr<v1::Alert> AlertUseCases::Resolve(const std::string& id, const std::string& actor,
                                                 const std::string& note) {
  const absl::Time now = clock_.Now();
  return Update(id, [&](v1::Alert& alert) { return ResolveAlert(alert, actor, now, note); });
}

absl::Status AlertUseCases::SetPolicy(const std::string& committee, int no_contact_days) {
  const storage::Dialect dialect = db_.dialect();
  return db_.RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
    return SetAlertPolicy(tx, dialect, committee, no_contact_days);
  });
}

}  // namespace linli::feedback
