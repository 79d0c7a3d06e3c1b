#include "services/feedback/alert_policy.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/proto_time.h"

namespace linli::feedback {
namespace {

AlertDraft Draft(v1::AlertKind kind, std::string dedupe_key, const std::string& committee,
                 const std::string& subject, const std::string& elder, const std::string& detail,
                 absl::Time now) {
  AlertDraft draft;
  draft.dedupe_key = std::move(dedupe_key);
  draft.alert.set_kind(kind);
  draft.alert.set_committee(committee);
  draft.alert.set_subject(subject);
  draft.alert.set_elder(elder);
  draft.alert.set_detail(detail);
  draft.alert.set_state(v1::ALERT_STATE_OPEN);
  *draft.alert.mutable_create_time() = ToTimestamp(now);
  return draft;
}

}  // namespace

bool ValidNoContactDays(int days) { return days >= kMinNoContactDays && days <= kMaxNoContactDays; }

int NoContactDays(const std::map<std::string, int>& policies, const std::string& committee) {
  auto it = policies.find(committee);
  return it != policies.end() ? it->second : kDefaultNoContactDays;
}

std::optional<AlertDraft> NoContactAlert(const ElderFacts& elder, int days, absl::Time now) {
  if (!elder.solitary) return std::nullopt;
  const int64_t since_us = elder.last_contact_us > 0 ? elder.last_contact_us : elder.first_seen_us;
  const absl::Time since = absl::FromUnixMicros(since_us);
  if (now - since < absl::Hours(24) * days) return std::nullopt;
  // Keyed by the start of the silence: a new alert only after a contact ends this one.
  return Draft(
      v1::ALERT_KIND_NO_CONTACT, absl::StrCat("no_contact:", elder.elder, ":", since_us),
      elder.committee, elder.elder, elder.elder,
      absl::StrCat("独居/孤寡老人 ", absl::FormatDuration(now - since),
                   " without verified contact (limit ", days, " days); last: ",
                   elder.last_contact_us > 0 ? absl::FormatTime(since) : std::string("never")),
      now);
}

DayRange RecentWeek(int64_t today) { return {today - 6, today}; }

DayRange WeekBefore(int64_t today) { return {today - 13, today - 7}; }

bool EnoughAnswersToCompare(const Figures& week) { return week[kAnswers] >= kFallingMinAnswers; }

std::optional<AlertDraft> FallingIndexAlert(const ElderFacts& elder, const Figures& recent,
                                            const Figures& before, int64_t today, absl::Time now) {
  if (!EnoughAnswersToCompare(recent) || !EnoughAnswersToCompare(before)) return std::nullopt;
  const IndexValue now_index = ComputeIndex(recent);
  const IndexValue before_index = ComputeIndex(before);
  if (before_index.value - now_index.value < kFallingDrop) return std::nullopt;
  // Keyed by the day found: raised at most once a day while the fall lasts.
  return Draft(v1::ALERT_KIND_FALLING_INDEX, absl::StrCat("falling:", elder.elder, ":", today),
               elder.committee, elder.elder, elder.elder,
               absl::StrFormat("感受度指数下降 index fell from %.1f to %.1f (last 7 days "
                               "against the 7 before)",
                               before_index.value, now_index.value),
               now);
}

AlertDraft OverdueWorkOrderAlert(const v1::WorkOrder& order, const std::string& committee,
                                 const std::string& target, absl::Time now) {
  return Draft(v1::ALERT_KIND_OVERDUE_WORK_ORDER, "overdue:" + order.name(), committee,
               order.name(), order.elder(),
               absl::StrCat("工单超期 work order overdue, escalated to ", target), now);
}

AlertDraft ContradictionAlert(const std::string& visit, const std::string& elder,
                              const std::string& committee, const std::string& author,
                              const std::string& worker, absl::Time now) {
  return Draft(v1::ALERT_KIND_CONTRADICTION, "contradiction:" + visit, committee, visit, elder,
               absl::StrCat("“没人来” reported by ", author, " for ", visit,
                            ", which scheduling records as completed by ", worker),
               now);
}

absl::Status AcknowledgeAlert(v1::Alert& alert, const std::string& actor, absl::Time now) {
  if (alert.state() != v1::ALERT_STATE_OPEN) {
    return absl::FailedPreconditionError(absl::StrCat(alert.name(), " is ",
                                                      v1::AlertState_Name(alert.state()),
                                                      "; only an open alert is acknowledged"));
  }
  alert.set_state(v1::ALERT_STATE_ACKNOWLEDGED);
  alert.set_acknowledged_by(actor);
  *alert.mutable_acknowledge_time() = ToTimestamp(now);
  return absl::OkStatus();
}

absl::Status ResolveAlert(v1::Alert& alert, const std::string& actor, absl::Time now,
                          const std::string& note) {
  if (alert.state() == v1::ALERT_STATE_RESOLVED) {
    return absl::FailedPreconditionError(alert.name() + " is already resolved");
  }
  alert.set_state(v1::ALERT_STATE_RESOLVED);
  alert.set_resolved_by(actor);
  *alert.mutable_resolve_time() = ToTimestamp(now);
  alert.set_resolution_note(note);
  return absl::OkStatus();
}

std::optional<AlertDraft> SafetyReportAlert(const v1::WorkOrder& order,
                                            const std::string& committee, absl::Time now) {
  if (order.category() != v1::WORK_ORDER_CATEGORY_SAFETY) return std::nullopt;
  return Draft(
      v1::ALERT_KIND_SAFETY_REPORT, "safety:" + order.name(), committee, order.name(),
      order.elder(),
      absl::StrCat("安全问题 a work order classified as a safety matter (", order.name(), ")"),
      now);
}

}  // namespace linli::feedback
