#include "services/feedback/notice_policy.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/errors.h"
#include "common/proto_time.h"

namespace linli::feedback {
namespace {

const absl::TimeZone kShanghai = absl::FixedTimeZone(8 * 3600);

// "12月5日 09:00-10:00", "3月2日 …" (or "09:00-10:00" alone when `with_day` is false).
std::string Window(int64_t start_us, int64_t end_us, bool with_day = true) {
  const absl::Time start = absl::FromUnixMicros(start_us);
  const absl::Time end = absl::FromUnixMicros(end_us);
  std::string text;
  if (with_day) {
    const absl::CivilDay day = absl::ToCivilDay(start, kShanghai);
    text = absl::StrCat(day.month(), "月", day.day(), "日 ");
  }
  absl::StrAppend(&text, absl::FormatTime("%H:%M", start, kShanghai), "-",
                  absl::FormatTime("%H:%M", end, kShanghai));
  return text;
}

NoticeDraft VisitDraft(v1::NoticeKind kind, const std::string& cause, const std::string& recipient,
                       const ProjectedVisit& visit, const CommitmentFacts& commitment,
                       const ElderFacts& elder, std::string text) {
  NoticeDraft draft;
  draft.cause = cause;
  draft.committee = elder.committee;
  draft.street = elder.street;
  v1::Notice& n = draft.notice;
  n.set_recipient(recipient);
  n.set_kind(kind);
  n.set_subject("visits/" + visit.id);
  n.set_elder(visit.elder);
  n.set_commitment("commitments/" + visit.commitment_id);
  n.set_service_type(commitment.service_type);
  n.set_organisation(commitment.organisation);
  if (visit.window_start_us > 0) {
    *n.mutable_window_start() = ToTimestamp(absl::FromUnixMicros(visit.window_start_us));
    *n.mutable_window_end() = ToTimestamp(absl::FromUnixMicros(visit.window_end_us));
  }
  n.set_text(std::move(text));
  return draft;
}

// One notice of `kind` about visit `v` to each recipient of `to` (recipient, text) that is known;
// the cause is "{cause}:visits/{id}".
std::vector<NoticeDraft> VisitDrafts(v1::NoticeKind kind, absl::string_view cause,
                                     const ProjectedVisit& v, const CommitmentFacts& c,
                                     const ElderFacts& e,
                                     std::vector<std::pair<std::string, std::string>> to) {
  std::vector<NoticeDraft> drafts;
  for (auto& [recipient, text] : to) {
    if (recipient.empty()) continue;
    drafts.push_back(VisitDraft(kind, absl::StrCat(cause, ":visits/", v.id), recipient, v, c, e,
                                std::move(text)));
  }
  return drafts;
}

std::vector<NoticeDraft> MissedNotices(const ProjectedVisit& v, const CommitmentFacts& c,
                                       const ElderFacts& e) {
  const std::string when = Window(v.window_start_us, v.window_end_us);
  return VisitDrafts(
      v1::NOTICE_KIND_MISSED, "missed", v, c, e,
      {{v.elder, absl::StrCat("很抱歉，您", when,
                              "的上门服务没有完成。服务机构和居委会已收到通知。"
                              "您可以在应用里选一个补上门的时间，或等服务机构与您联系。")},
       {c.organisation,
        absl::StrCat(when, "的上门服务（visits/", v.id, "）未完成，请联系老人安排补服务。")},
       {e.committee, absl::StrCat("辖区老人", when, "的上门服务（visits/", v.id,
                                  "）未完成，服务机构已收到通知，请跟进。")}});
}

std::vector<NoticeDraft> NobodyComingNotices(const ProjectedVisit& v, const CommitmentFacts& c,
                                             const ElderFacts& e) {
  const std::string when = Window(v.window_start_us, v.window_end_us);
  return VisitDrafts(
      v1::NOTICE_KIND_NOBODY_COMING, "unstaffed", v, c, e,
      {{v.elder, absl::StrCat("您", when,
                              "的上门服务暂时没有安排到服务人员，服务机构正在安排；"
                              "如果安排不上，会与您另约时间。")},
       {c.organisation, absl::StrCat(when, "的上门服务（visits/", v.id,
                                     "）还没有服务人员，请尽快安排，或与老人另约时间。")}});
}

bool Scheduled(const ProjectedVisit& v) { return v.state == VisitState::kScheduled; }

std::string DeclineReasonText(scheduling::v1::MakeUpDeclineReason reason) {
  switch (reason) {
    case scheduling::v1::MAKE_UP_DECLINE_REASON_NOT_NEEDED:
      return "不需要补";
    case scheduling::v1::MAKE_UP_DECLINE_REASON_TIMES_DO_NOT_SUIT:
      return "时间不合适";
    case scheduling::v1::MAKE_UP_DECLINE_REASON_AWAY:
      return "老人不在家";
    case scheduling::v1::MAKE_UP_DECLINE_REASON_UNHAPPY_WITH_PROVIDER:
      return "对服务机构不满意";
    default:
      return "其他原因";
  }
}

// The actor's id of "role:id" when the role is `role`, else "".
std::string ActorOfRole(const std::string& actor, absl::string_view role) {
  const std::string prefix = absl::StrCat(role, ":");
  return absl::StartsWith(actor, prefix) ? actor.substr(prefix.size()) : std::string();
}

}  // namespace

std::vector<NoticeDraft> VisitChangeNotices(const ProjectedVisit* before,
                                            const ProjectedVisit& after,
                                            const CommitmentFacts& commitment,
                                            const ElderFacts& elder, absl::Time now) {
  if (after.window_end_us > 0 &&
      now - absl::FromUnixMicros(after.window_end_us) > kNoticeStaleAfter) {
    return {};
  }
  if (after.state == VisitState::kMissed &&
      (before == nullptr || before->state != VisitState::kMissed)) {
    return MissedNotices(after, commitment, elder);
  }
  // A worker taken off a visit close to its window (released ill, unassigned): nobody is coming
  // unless someone is booked again. Further away, planning has time; the sweep tells them when
  // the window comes within kUnstaffedLead and still nobody is booked.
  const absl::Time start = absl::FromUnixMicros(after.window_start_us);
  if (before != nullptr && Scheduled(after) && before->staffed == 1 && after.staffed == 0 &&
      after.window_start_us > 0 && start - now <= kUnstaffedLead &&
      absl::FromUnixMicros(after.window_end_us) > now) {
    return NobodyComingNotices(after, commitment, elder);
  }
  return {};
}

std::vector<NoticeDraft> MakeUpDeclinedNotices(const ProjectedVisit& v,
                                               const CommitmentFacts& commitment,
                                               const ElderFacts& elder,
                                               scheduling::v1::MakeUpDeclineReason reason,
                                               absl::Time declined, absl::Time now) {
  if (now - declined > kNoticeStaleAfter) return {};
  const std::string when = Window(v.window_start_us, v.window_end_us);
  const std::string why = DeclineReasonText(reason);
  return VisitDrafts(
      v1::NOTICE_KIND_MAKE_UP_DECLINED, "make_up_declined", v, commitment, elder,
      {{commitment.organisation, absl::StrCat("老人谢绝了", when, "未完成上门服务（visits/", v.id,
                                              "）的补上门（", why, "），该次服务记为未履约。")},
       {elder.committee, absl::StrCat("辖区老人谢绝了", when, "未完成上门服务（visits/", v.id,
                                      "）的补上门（", why, "），请回访了解情况。")}});
}

std::vector<NoticeDraft> VisitSweepNotices(const ProjectedVisit& visit,
                                           const CommitmentFacts& commitment,
                                           const ElderFacts& elder, absl::Time now,
                                           std::optional<absl::Time> expected) {
  if (!Scheduled(visit) || visit.window_start_us <= 0) return {};
  const absl::Time start = absl::FromUnixMicros(visit.window_start_us);
  const absl::Time end = absl::FromUnixMicros(visit.window_end_us);
  if (now >= end) return {};  // the missed-visit sweep takes it from here
  if (visit.staffed == 0 && start - now <= kUnstaffedLead) {
    return NobodyComingNotices(visit, commitment, elder);
  }
  if (visit.staffed == 1 && now - start >= kLateMargin) {
    std::string text = absl::StrCat("您", Window(visit.window_start_us, visit.window_end_us, false),
                                    "的上门服务，服务人员还没有到。");
    if (expected.has_value() && *expected > now) {
      absl::StrAppend(&text, "他/她正在上一位老人家中，预计",
                      absl::FormatTime("%H:%M", *expected, kShanghai), "左右到达。");
    } else {
      absl::StrAppend(&text, "服务机构已收到提醒，请稍候。");
    }
    NoticeDraft draft = VisitDraft(v1::NOTICE_KIND_RUNNING_LATE, "late:visits/" + visit.id,
                                   visit.elder, visit, commitment, elder, std::move(text));
    if (expected.has_value() && *expected > now) {
      *draft.notice.mutable_expected_time() = ToTimestamp(*expected);
    }
    return {std::move(draft)};
  }
  return {};
}

std::optional<absl::Time> ExpectedArrival(const ProjectedVisit* current) {
  if (current == nullptr || current->state != VisitState::kInProgress ||
      current->check_in_us <= 0 || current->duration_minutes <= 0) {
    return std::nullopt;
  }
  return absl::FromUnixMicros(current->check_in_us) + absl::Minutes(current->duration_minutes) +
         kTravelAllowance;
}

bool IsSafetyAlert(v1::AlertKind kind) {
  return kind == v1::ALERT_KIND_SAFETY_REPORT || kind == v1::ALERT_KIND_NO_CONTACT;
}

NoticeDraft SafetyNotice(const v1::Alert& alert, const std::string& street) {
  NoticeDraft draft;
  draft.cause = "safety:" + alert.name();
  draft.committee = alert.committee();
  draft.street = street;
  v1::Notice& n = draft.notice;
  n.set_recipient(alert.committee());
  n.set_kind(v1::NOTICE_KIND_SAFETY);
  n.set_subject(alert.name());
  n.set_elder(alert.elder());
  n.set_urgent(true);
  n.set_text(alert.kind() == v1::ALERT_KIND_SAFETY_REPORT
                 ? absl::StrCat("有老人的安全问题待处理（", alert.name(), "），请立即处理，并在",
                                absl::ToInt64Minutes(kSafetyAckTime), "分钟内确认告警。")
                 : absl::StrCat("有独居/孤寡老人长时间没有核实的上门接触（", alert.name(),
                                "），请尽快联系，并在", absl::ToInt64Minutes(kSafetyAckTime),
                                "分钟内确认告警。"));
  return draft;
}

std::optional<NoticeDraft> EscalatedSafetyNotice(const v1::Alert& alert, const std::string& street,
                                                 absl::Time now) {
  if (!IsSafetyAlert(alert.kind()) || alert.state() != v1::ALERT_STATE_OPEN || street.empty() ||
      now - FromTimestamp(alert.create_time()) < kSafetyAckTime) {
    return std::nullopt;
  }
  NoticeDraft draft;
  draft.cause = "escalated:" + alert.name();
  draft.committee = alert.committee();
  draft.street = street;
  v1::Notice& n = draft.notice;
  n.set_recipient(street);
  n.set_kind(v1::NOTICE_KIND_SAFETY_ESCALATED);
  n.set_subject(alert.name());
  n.set_elder(alert.elder());
  n.set_urgent(true);
  n.set_text(absl::StrCat("安全告警（", alert.name(), "）", absl::ToInt64Minutes(kSafetyAckTime),
                          "分钟内无人确认，居委会（", alert.committee(), "）请街道跟进。"));
  return draft;
}

std::vector<NoticeDraft> ReferralNotices(const scheduling::v1::Referral& referral, absl::Time now) {
  namespace sch = scheduling::v1;
  std::vector<NoticeDraft> drafts;
  // When this step happened.
  const google::protobuf::Timestamp& step = referral.state() == sch::REFERRAL_STATE_SENT
                                                ? referral.send_time()
                                            : referral.state() == sch::REFERRAL_STATE_ACCEPTED ||
                                                    referral.state() == sch::REFERRAL_STATE_DECLINED
                                                ? referral.answer_time()
                                                : referral.end_time();
  if (FromTimestamp(step) < now - kNoticeStaleAfter) return drafts;
  auto add = [&](const std::string& recipient, std::string text) {
    if (recipient.empty()) return;
    NoticeDraft draft;
    draft.cause =
        absl::StrCat("referral:", referral.name(), ":", static_cast<int>(referral.state()));
    draft.committee = referral.committee();
    draft.street = referral.street();
    v1::Notice& n = draft.notice;
    n.set_recipient(recipient);
    n.set_kind(v1::NOTICE_KIND_REFERRAL);
    n.set_subject(referral.name());
    n.set_elder(referral.elder());
    n.set_commitment(referral.state() == sch::REFERRAL_STATE_SENT ? referral.commitment()
                                                                  : referral.provider_commitment());
    n.set_service_type(referral.service_type());
    n.set_organisation(referral.to_organisation());
    n.set_text(std::move(text));
    drafts.push_back(std::move(draft));
  };
  const std::string when =
      absl::FormatTime("%m月%d日 %H:%M", FromTimestamp(referral.respond_by()), kShanghai);
  switch (referral.state()) {
    case sch::REFERRAL_STATE_SENT:
      add(referral.to_organisation(),
          absl::StrCat("新的转介（", referral.name(), "）：一位老人的", referral.service_type(),
                       "服务请贵机构承接，请于", when, "前答复。"));
      break;
    case sch::REFERRAL_STATE_ACCEPTED:
      add(referral.committee(), absl::StrCat("转介（", referral.name(), "）已被",
                                             referral.to_organisation(), "接受，服务由其承接。"));
      add(referral.elder(), "您的上门服务将改由新的服务机构提供，原定时间不变。");
      break;
    case sch::REFERRAL_STATE_DECLINED:
      add(referral.committee(),
          absl::StrCat("转介（", referral.name(), "）被", referral.to_organisation(), "拒绝（",
                       sch::DeclineReason_Name(referral.decline_reason()), "），请另找服务方。"));
      break;
    case sch::REFERRAL_STATE_EXPIRED:
      add(referral.committee(), absl::StrCat("转介（", referral.name(), "）在", when,
                                             "前无人答复，已过期，请另找服务方。"));
      break;
    case sch::REFERRAL_STATE_COMPLETED:
      if (referral.outcome() == sch::REFERRAL_OUTCOME_PROVIDER_ENDED) {
        add(referral.committee(), absl::StrCat(referral.to_organisation(), "已停止转介服务（",
                                               referral.name(), "），请另行安排。"));
      }
      break;
    default:  // in service, withdrawn: nobody needs telling
      break;
  }
  return drafts;
}

std::optional<NoticeDraft> WorkOrderNotice(const v1::WorkOrder& order, const std::string& committee,
                                           const std::string& street) {
  const std::string filed_by = order.history_size() > 0 ? order.history(0).actor() : "";
  std::string recipient;
  switch (order.source()) {
    case v1::WORK_ORDER_SOURCE_APP:
    case v1::WORK_ORDER_SOURCE_STAFF:
      recipient = order.elder();
      break;
    case v1::WORK_ORDER_SOURCE_HOTLINE_12345:
    case v1::WORK_ORDER_SOURCE_OTHER_PLATFORM:
      recipient = ActorOfRole(filed_by, "partner");
      break;
    default:  // worker reports are staff business (a safety one raises an alert)
      return std::nullopt;
  }
  if (recipient.empty()) return std::nullopt;
  std::string text;
  switch (order.state()) {
    case v1::WORK_ORDER_STATE_ACCEPTED:
      text = absl::StrCat("您的反映已受理（", order.name(), "），我们会尽快处理。");
      break;
    case v1::WORK_ORDER_STATE_ROUTED:
      text = absl::StrCat(
          "您的反映（", order.name(), "）已转交服务机构处理，处理时限",
          absl::FormatTime("%m月%d日 %H:%M", FromTimestamp(order.deadline()), kShanghai), "。");
      break;
    case v1::WORK_ORDER_STATE_ESCALATED:
      text = absl::StrCat("您的反映（", order.name(), "）处理超时，已上报上级部门督办。");
      break;
    case v1::WORK_ORDER_STATE_RESOLVED:
      text = absl::StrCat("您的反映（", order.name(),
                          "）服务机构已处理完毕，近日会回访，请告诉我们是否满意。");
      break;
    case v1::WORK_ORDER_STATE_CLOSED:
      text = absl::StrCat("您的反映（", order.name(), "）已办结，感谢您的反馈。");
      break;
    default:  // classified and called back are internal steps
      return std::nullopt;
  }
  NoticeDraft draft;
  draft.cause = absl::StrCat("workorder:", order.name(), ":", static_cast<int>(order.state()));
  draft.committee = committee;
  draft.street = street;
  v1::Notice& n = draft.notice;
  n.set_recipient(recipient);
  n.set_kind(v1::NOTICE_KIND_WORK_ORDER);
  n.set_subject(order.name());
  n.set_elder(order.elder());
  n.set_commitment(order.commitment());
  n.set_organisation(order.responsible_organisation());
  n.set_work_order_state(order.state());
  n.set_text(std::move(text));
  return draft;
}

// --- Quiet hours ---------------------------------------------------------------------------------

std::optional<int> ParseClockTime(const std::string& hhmm) {
  std::vector<std::string> parts = absl::StrSplit(hhmm, ':');
  if (parts.size() != 2 || parts[0].size() != 2 || parts[1].size() != 2) return std::nullopt;
  int h = 0, m = 0;
  if (!absl::SimpleAtoi(parts[0], &h) || !absl::SimpleAtoi(parts[1], &m)) return std::nullopt;
  if (h < 0 || h > 23 || m < 0 || m > 59) return std::nullopt;
  return h * 60 + m;
}

absl::Status ValidatePreferences(const v1::NoticePreferences& p) {
  std::vector<int> seen;
  for (int i = 0; i < p.channels_size(); ++i) {
    const v1::ChannelPreference& c = p.channels(i);
    const std::string field = absl::StrCat("preferences.channels[", i, "]");
    if (c.channel() == v1::NOTICE_CHANNEL_UNSPECIFIED || !v1::NoticeChannel_IsValid(c.channel())) {
      return InvalidField(field + ".channel", "must name a channel (NoticeChannel)");
    }
    if (std::find(seen.begin(), seen.end(), c.channel()) != seen.end()) {
      return InvalidField(field + ".channel", "names a channel that has a preference already");
    }
    seen.push_back(c.channel());
    for (int j = 0; j < c.muted_kinds_size(); ++j) {
      if (c.muted_kinds(j) == v1::NOTICE_KIND_UNSPECIFIED ||
          !v1::NoticeKind_IsValid(c.muted_kinds(j))) {
        return InvalidField(absl::StrCat(field, ".muted_kinds[", j, "]"), "unknown kind");
      }
    }
    if (c.muted_kinds_size() > 10) return InvalidField(field + ".muted_kinds", "at most 10");
  }
  if (p.quiet_start().empty() && p.quiet_end().empty()) return absl::OkStatus();
  if (!ParseClockTime(p.quiet_start()).has_value()) {
    return InvalidField("preferences.quiet_start", "must be a time \"HH:MM\" (with quiet_end)");
  }
  if (!ParseClockTime(p.quiet_end()).has_value()) {
    return InvalidField("preferences.quiet_end", "must be a time \"HH:MM\" (with quiet_start)");
  }
  if (p.quiet_start() == p.quiet_end()) {
    return InvalidField("preferences.quiet_end", "must differ from quiet_start");
  }
  return absl::OkStatus();
}

v1::NoticePreferences DefaultPreferences(const std::string& recipient) {
  v1::NoticePreferences p;
  p.set_recipient(recipient);
  if (absl::StartsWith(recipient, "elders/")) {
    p.set_quiet_start("21:00");
    p.set_quiet_end("07:00");
  }
  return p;
}

absl::Time DeliverableAt(const v1::NoticePreferences& p, bool urgent, absl::Time now) {
  if (urgent) return now;
  const std::optional<int> start = ParseClockTime(p.quiet_start());
  const std::optional<int> end = ParseClockTime(p.quiet_end());
  if (!start.has_value() || !end.has_value() || *start == *end) return now;
  const absl::CivilSecond local = absl::ToCivilSecond(now, kShanghai);
  const int minute = local.hour() * 60 + local.minute();
  const bool quiet =
      *start < *end ? (minute >= *start && minute < *end) : (minute >= *start || minute < *end);
  if (!quiet) return now;
  // The end of the quiet hours: today's when it is still ahead, else tomorrow's.
  absl::CivilMinute until(local.year(), local.month(), local.day(), *end / 60, *end % 60);
  if (minute >= *end) until = absl::CivilMinute(absl::CivilDay(until) + 1) + *end;
  return absl::FromCivil(until, kShanghai);
}

bool ChannelWants(const v1::NoticePreferences& preferences, v1::NoticeChannel channel,
                  const v1::Notice& notice) {
  if (notice.urgent()) return true;
  if (channel == v1::NOTICE_CHANNEL_UNSPECIFIED) channel = v1::NOTICE_CHANNEL_WEBHOOK;
  for (const v1::ChannelPreference& c : preferences.channels()) {
    if (c.channel() != channel) continue;
    if (c.muted()) return false;
    return std::find(c.muted_kinds().begin(), c.muted_kinds().end(), notice.kind()) ==
           c.muted_kinds().end();
  }
  return true;
}

// --- Webhooks ------------------------------------------------------------------------------------

std::optional<absl::Time> NextAttempt(int attempts, absl::Time first_attempt, absl::Time now,
                                      double jitter) {
  if (now - first_attempt >= kDeliveryGiveUp) return std::nullopt;
  const int doublings = std::clamp(attempts - 1, 0, 16);
  const absl::Duration backoff =
      std::min(absl::Seconds(10) * (int64_t{1} << doublings), absl::Minutes(10));
  return now + backoff * std::clamp(jitter, 0.5, 1.0);
}

std::optional<std::string> WebhookUrlProblem(const std::string& url) {
  std::string rest;
  bool https = false;
  if (absl::StartsWith(url, "https://")) {
    https = true;
    rest = url.substr(8);
  } else if (absl::StartsWith(url, "http://")) {
    rest = url.substr(7);
  } else {
    return std::string("must start with https:// (http:// only to a loopback address)");
  }
  if (url.size() > 500) return std::string("must be at most 500 characters");
  for (char ch : url) {
    if (static_cast<unsigned char>(ch) <= ' ' || ch == 0x7f) {
      return std::string("must not contain spaces or control characters");
    }
  }
  std::string authority = rest.substr(0, rest.find_first_of("/?#"));
  if (authority.empty() || authority.find('@') != std::string::npos) {
    return std::string("must name a host (and no user name)");
  }
  std::string host = authority;
  if (host.front() == '[') {
    const size_t close = host.find(']');
    if (close == std::string::npos) return std::string("has an unclosed [IPv6] host");
    host = host.substr(1, close - 1);
  } else if (const size_t colon = host.rfind(':'); colon != std::string::npos) {
    int port = 0;
    if (!absl::SimpleAtoi(host.substr(colon + 1), &port) || port < 1 || port > 65535) {
      return std::string("has a port that is not 1-65535");
    }
    host = host.substr(0, colon);
  }
  if (host.empty()) return std::string("must name a host");
  const std::string lower = absl::AsciiStrToLower(host);
  if (!https && lower != "127.0.0.1" && lower != "::1" && lower != "localhost") {
    return std::string("must use https:// (http:// only to a loopback address)");
  }
  return std::nullopt;
}

bool WebhookWants(const std::string& recipient, bool elders_of_region,
                  const std::vector<int>& kinds, const NoticeDraft& draft) {
  const v1::Notice& n = draft.notice;
  if (!kinds.empty() &&
      std::find(kinds.begin(), kinds.end(), static_cast<int>(n.kind())) == kinds.end()) {
    return false;
  }
  if (!elders_of_region) return n.recipient() == recipient;
  return absl::StartsWith(n.recipient(), "elders/") &&
         (draft.committee == recipient || draft.street == recipient);
}

}  // namespace linli::feedback
