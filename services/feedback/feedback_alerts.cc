// FeedbackService: the safety net — alerts for solitary elders without verified contact, falling
// indices, overdue work orders (escalated to the street's service office) and "nobody came"
// contradictions (raised by SubmitFeedback); acknowledge / resolve with who did it.
#include <cstdlib>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/client.h"
#include "common/errors.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/pagination.h"
#include "common/server.h"
#include "common/status_macros.h"
#include "common/text.h"
#include "google/protobuf/util/time_util.h"
#include "services/feedback/feedback_service.h"
#include "services/feedback/feedback_store.h"
#include "services/feedback/work_order.h"

namespace linli::feedback {
namespace {

using google::protobuf::util::TimeUtil;

google::protobuf::Timestamp ToTimestamp(absl::Time t) {
  return TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(t));
}

absl::Time FromTimestamp(const google::protobuf::Timestamp& t) {
  return absl::FromUnixMicros(TimeUtil::TimestampToMicroseconds(t));
}

// A drop of this many index points (last 7 days against the 7 before) raises an alert, when each
// week has at least kFallingMinAnswers answers behind it.
constexpr double kFallingDrop = 15.0;
constexpr int64_t kFallingMinAnswers = 2;

AlertRow NewAlert(const Clock& clock, absl::Time now, v1::AlertKind kind, std::string dedupe_key,
                  const std::string& committee, const std::string& subject,
                  const std::string& elder, const std::string& detail) {
  AlertRow row;
  row.id = NewId(clock);
  row.dedupe_key = std::move(dedupe_key);
  row.alert.set_name("alerts/" + row.id);
  row.alert.set_kind(kind);
  row.alert.set_committee(committee);
  row.alert.set_subject(subject);
  row.alert.set_elder(elder);
  row.alert.set_detail(detail);
  row.alert.set_state(v1::ALERT_STATE_OPEN);
  *row.alert.mutable_create_time() = ToTimestamp(now);
  return row;
}

bool IsRegion(const std::string& name) {
  return absl::StartsWith(name, "regions/") && IsSlug(name.substr(8), 32);
}

}  // namespace

std::string FeedbackServiceImpl::EscalationTarget(const grpc::ServerContext* context,
                                                  const std::string& street) {
  if (street.empty()) return "";
  // The street office department on the civil-affairs line (社区服务办公室), else the street
  // office.
  for (registry::v1::OrganisationKind kind :
       {registry::v1::ORGANISATION_KIND_STREET_OFFICE_DEPARTMENT,
        registry::v1::ORGANISATION_KIND_STREET_OFFICE}) {
    registry::v1::ListOrganisationsRequest request;
    request.set_region(street);
    request.set_kind(kind);
    request.set_page_size(1000);
    registry::v1::ListOrganisationsResponse response;
    auto ctx = NewClientContext(context, backend_timeout_);
    if (!registry_->ListOrganisations(ctx.get(), request, &response).ok()) return "";
    for (const registry::v1::Organisation& o : response.organisations()) {
      if (kind == registry::v1::ORGANISATION_KIND_STREET_OFFICE) return o.name();
      for (const std::string& line : o.lines()) {
        if (line == "lines/civil-affairs") return o.name();
      }
    }
  }
  return "";
}

absl::StatusOr<v1::SweepAlertsResponse> FeedbackServiceImpl::Sweep(
    const grpc::ServerContext* context, absl::Time now) {
  v1::SweepAlertsResponse result;
  const int64_t today = LocalDay(now);

  // 1. Overdue work orders: escalate, then alert the committee.
  std::vector<WorkOrderRow> overdue;
  RETURN_IF_ERROR(db_.RunInTransaction(
      [&](storage::Transaction& tx) -> absl::Status {
        ASSIGN_OR_RETURN(overdue, OverdueWorkOrders(tx, now));
        return absl::OkStatus();
      },
      {.read_only = true}));
  std::map<std::string, std::string> targets;
  for (const WorkOrderRow& candidate : overdue) {
    if (!targets.contains(candidate.street)) {
      targets[candidate.street] = EscalationTarget(context, candidate.street);
    }
    const std::string& target = targets[candidate.street];
    bool escalated = false;
    bool raised = false;
    RETURN_IF_ERROR(db_.RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
      escalated = raised = false;
      ASSIGN_OR_RETURN(std::optional<WorkOrderRow> row, FindWorkOrder(tx, candidate.id));
      if (!row.has_value()) return absl::OkStatus();
      v1::WorkOrder& order = row->order;
      if (!IsOverdue(order.state(), FromTimestamp(order.deadline()), now)) return absl::OkStatus();
      v1::WorkOrderTransition* step = order.add_history();
      step->set_from_state(order.state());
      step->set_to_state(v1::WORK_ORDER_STATE_ESCALATED);
      step->set_actor("system");
      *step->mutable_time() = ToTimestamp(now);
      step->set_note(
          absl::StrCat("overdue since ", absl::FormatTime(FromTimestamp(order.deadline())),
                       "; escalated to ", target.empty() ? "(no service office)" : target));
      order.set_state(v1::WORK_ORDER_STATE_ESCALATED);
      order.set_escalated_to(target);
      RETURN_IF_ERROR(UpdateWorkOrder(tx, *row));
      escalated = true;
      ASSIGN_OR_RETURN(raised,
                       InsertAlertOnce(tx, NewAlert(clock_, now, v1::ALERT_KIND_OVERDUE_WORK_ORDER,
                                                    "overdue:" + order.name(), row->committee,
                                                    order.name(), order.elder(),
                                                    absl::StrCat("工单超期 work order overdue, "
                                                                 "escalated to ",
                                                                 target))));
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
          if (e.solitary) {
            auto it = policies.find(e.committee);
            const int days = it != policies.end() ? it->second : kDefaultNoContactDays;
            const int64_t since_us = e.last_contact_us > 0 ? e.last_contact_us : e.first_seen_us;
            const absl::Time since = absl::FromUnixMicros(since_us);
            if (now - since >= absl::Hours(24) * days) {
              candidates.push_back(
                  NewAlert(clock_, now, v1::ALERT_KIND_NO_CONTACT,
                           absl::StrCat("no_contact:", e.elder, ":", since_us), e.committee,
                           e.elder, e.elder,
                           absl::StrCat("独居/孤寡老人 ", absl::FormatDuration(now - since),
                                        " without verified contact (limit ", days, " days); last: ",
                                        e.last_contact_us > 0 ? absl::FormatTime(since)
                                                              : std::string("never"))));
            }
          }
          ASSIGN_OR_RETURN(Figures recent, SumCounters(tx, e.elder, today - 6, today));
          if (recent[kAnswers] < kFallingMinAnswers) continue;
          ASSIGN_OR_RETURN(Figures before, SumCounters(tx, e.elder, today - 13, today - 7));
          if (before[kAnswers] < kFallingMinAnswers) continue;
          const IndexValue now_index = ComputeIndex(recent);
          const IndexValue before_index = ComputeIndex(before);
          if (before_index.value - now_index.value >= kFallingDrop) {
            candidates.push_back(NewAlert(
                clock_, now, v1::ALERT_KIND_FALLING_INDEX,
                absl::StrCat("falling:", e.elder, ":", today), e.committee, e.elder, e.elder,
                absl::StrFormat("感受度指数下降 index fell from %.1f to %.1f (last 7 days "
                                "against the 7 before)",
                                before_index.value, now_index.value)));
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
        ASSIGN_OR_RETURN(bool inserted, InsertAlertOnce(tx, candidate));
        if (inserted) ++raised;
      }
      return absl::OkStatus();
    }));
  }
  result.set_raised(result.raised() + raised);
  return result;
}

grpc::Status FeedbackServiceImpl::SweepAlerts(grpc::ServerContext* context,
                                              const v1::SweepAlertsRequest* request,
                                              v1::SweepAlertsResponse* response) {
  absl::Time now = clock_.Now();
  if (request->has_as_of()) {
    const google::protobuf::Timestamp& as_of = request->as_of();
    const bool in_range = as_of.nanos() >= 0 && as_of.nanos() < 1'000'000'000 &&
                          std::abs(as_of.seconds() - absl::ToUnixSeconds(now)) <= 366 * 86400;
    if (!in_range) {
      return Reply(*context,
                   InvalidField("as_of", "must be a valid time at most 366 days from now"));
    }
    now = FromTimestamp(as_of);
  }
  absl::StatusOr<v1::SweepAlertsResponse> result = Sweep(context, now);
  if (result.ok()) *response = *result;
  return Reply(*context, result.status());
}

grpc::Status FeedbackServiceImpl::ListAlerts(grpc::ServerContext* context,
                                             const v1::ListAlertsRequest* request,
                                             v1::ListAlertsResponse* response) {
  FieldViolations v;
  if (!IsRegion(request->committee())) v.Add("committee", "must look like \"regions/CODE\"");
  if (!v1::AlertState_IsValid(request->state())) v.Add("state", "unknown state");
  if (absl::Status s = v.ToStatus(); !s.ok()) return Reply(*context, s);
  absl::StatusOr<Page> page = Page::Start(
      request->page_size(), request->page_token(),
      absl::StrCat("alerts|", request->committee(), "|", static_cast<int>(request->state())), 50,
      500);
  if (!page.ok()) return Reply(*context, page.status());
  return Reply(*context, db_.RunInTransaction(
                             [&](storage::Transaction& tx) -> absl::Status {
                               response->Clear();
                               ASSIGN_OR_RETURN(
                                   std::vector<AlertRow> rows,
                                   QueryAlerts(tx, request->committee(), request->state(),
                                               page->after, page->limit()));
                               response->set_next_page_token(
                                   page->Finish(rows, [](const AlertRow& r) { return r.id; }));
                               for (const AlertRow& r : rows) *response->add_alerts() = r.alert;
                               return absl::OkStatus();
                             },
                             {.read_only = true}));
}

namespace {

absl::StatusOr<std::string> AlertId(const std::string& name) {
  return ParseResourceName(name, "alerts", "name");
}

}  // namespace

grpc::Status FeedbackServiceImpl::GetAlert(grpc::ServerContext* context,
                                           const v1::GetAlertRequest* request,
                                           v1::GetAlertResponse* response) {
  absl::StatusOr<std::string> id = AlertId(request->name());
  if (!id.ok()) return Reply(*context, id.status());
  return Reply(*context, db_.RunInTransaction(
                             [&](storage::Transaction& tx) -> absl::Status {
                               ASSIGN_OR_RETURN(std::optional<AlertRow> row, FindAlert(tx, *id));
                               if (!row.has_value()) return NotFound(request->name());
                               *response->mutable_alert() = row->alert;
                               return absl::OkStatus();
                             },
                             {.read_only = true}));
}

grpc::Status FeedbackServiceImpl::AcknowledgeAlert(grpc::ServerContext* context,
                                                   const v1::AcknowledgeAlertRequest* request,
                                                   v1::AcknowledgeAlertResponse* response) {
  absl::StatusOr<std::string> id = AlertId(request->name());
  if (!id.ok()) return Reply(*context, id.status());
  const absl::Time now = clock_.Now();
  const std::string actor = Actor(*context);
  return Reply(*context, db_.RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(std::optional<AlertRow> row, FindAlert(tx, *id));
    if (!row.has_value()) return NotFound(request->name());
    if (row->alert.state() != v1::ALERT_STATE_OPEN) {
      return absl::FailedPreconditionError(absl::StrCat(request->name(), " is ",
                                                        v1::AlertState_Name(row->alert.state()),
                                                        "; only an open "
                                                        "alert is acknowledged"));
    }
    row->alert.set_state(v1::ALERT_STATE_ACKNOWLEDGED);
    row->alert.set_acknowledged_by(actor);
    *row->alert.mutable_acknowledge_time() = ToTimestamp(now);
    RETURN_IF_ERROR(UpdateAlert(tx, *row));
    *response->mutable_alert() = row->alert;
    return absl::OkStatus();
  }));
}

grpc::Status FeedbackServiceImpl::ResolveAlert(grpc::ServerContext* context,
                                               const v1::ResolveAlertRequest* request,
                                               v1::ResolveAlertResponse* response) {
  FieldViolations v;
  absl::StatusOr<std::string> id = AlertId(request->name());
  if (!id.ok()) v.Add("name", "must look like \"alerts/ID\"");
  std::optional<size_t> n = Utf8Length(request->note());
  if (!n.has_value() || *n < 2 || *n > 500) {
    v.Add("note", "must be valid UTF-8 of 2 to 500 characters");
  }
  if (absl::Status s = v.ToStatus(); !s.ok()) return Reply(*context, s);
  const absl::Time now = clock_.Now();
  const std::string actor = Actor(*context);
  return Reply(*context, db_.RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(std::optional<AlertRow> row, FindAlert(tx, *id));
    if (!row.has_value()) return NotFound(request->name());
    if (row->alert.state() == v1::ALERT_STATE_RESOLVED) {
      return absl::FailedPreconditionError(request->name() + " is already resolved");
    }
    row->alert.set_state(v1::ALERT_STATE_RESOLVED);
    row->alert.set_resolved_by(actor);
    *row->alert.mutable_resolve_time() = ToTimestamp(now);
    row->alert.set_resolution_note(request->note());
    RETURN_IF_ERROR(UpdateAlert(tx, *row));
    *response->mutable_alert() = row->alert;
    return absl::OkStatus();
  }));
}

grpc::Status FeedbackServiceImpl::SetAlertPolicy(grpc::ServerContext* context,
                                                 const v1::SetAlertPolicyRequest* request,
                                                 v1::SetAlertPolicyResponse* response) {
  FieldViolations v;
  if (!IsRegion(request->committee())) v.Add("committee", "must look like \"regions/CODE\"");
  if (request->no_contact_days() < 1 || request->no_contact_days() > 60) {
    v.Add("no_contact_days", "must be between 1 and 60");
  }
  if (absl::Status s = v.ToStatus(); !s.ok()) return Reply(*context, s);
  const storage::Dialect dialect = db_.dialect();
  return Reply(*context, db_.RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
    RETURN_IF_ERROR(
        feedback::SetAlertPolicy(tx, dialect, request->committee(), request->no_contact_days()));
    response->set_committee(request->committee());
    response->set_no_contact_days(request->no_contact_days());
    return absl::OkStatus();
  }));
}

}  // namespace linli::feedback
