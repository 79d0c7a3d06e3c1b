// Who is told what, and when: the rules of notices, pure C++ (no gRPC, no SQL).
//
//   missed          a visit turned missed             -> the elder, the provider, the committee
//   nobody coming   nobody booked on a visit whose window opens within kUnstaffedLead (left
//                   unstaffed, or its worker released)  -> the elder, the provider
//   running late    a booked visit not checked in by window start + kLateMargin, while its
//                   window lasts                        -> the elder (with when the worker is
//                   expected, when they are on another visit now)
//   safety          a safety alert raised (a worker's safety report, a solitary elder without
//                   verified contact)                   -> the committee, urgent
//   escalated       a safety alert still open kSafetyAckTime after it was raised -> the street
//   work order      a complaint accepted, routed, escalated, resolved or closed -> whoever filed
//                   it (the elder for the app and staff, the partner for a partner's)
//   referral        sent -> the receiving provider; declined, expired, or ended by the provider
//                   -> the committee (another provider is needed); accepted -> the committee and
//                   the elder
//   make-up declined  the elder declined a missed visit's make-up -> the provider, the committee
//
// Each draft has a cause: a recipient hears of one cause once (the store keeps one notice per
// recipient and cause), so a repeated event or a second sweep tells nobody twice.
#ifndef LINLI_SERVICES_FEEDBACK_NOTICE_POLICY_H_
#define LINLI_SERVICES_FEEDBACK_NOTICE_POLICY_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "linli/feedback/v1/feedback.pb.h"
#include "linli/scheduling/v1/scheduling.pb.h"
#include "services/feedback/facts.h"
#include "services/feedback/perception.h"

namespace linli::feedback {

inline constexpr absl::Duration kLateMargin = absl::Minutes(15);
inline constexpr absl::Duration kUnstaffedLead = absl::Hours(2);
inline constexpr absl::Duration kSafetyAckTime = absl::Minutes(30);
// A visit that ended longer ago than this tells nobody (an event stream replayed from the start
// must not send last month's news).
inline constexpr absl::Duration kNoticeStaleAfter = absl::Hours(24);
// Between the end of the visit a late worker is on and their arrival at the next one.
inline constexpr absl::Duration kTravelAllowance = absl::Minutes(15);

// A notice to raise: recipient, kind, subject, the facts and the text are set; name, sequence
// and times are the store's.
struct NoticeDraft {
  std::string cause;  // one notice per (recipient, cause), ever
  v1::Notice notice;
  // The elder's committee and street (for webhooks of "the elders of a region").
  std::string committee;
  std::string street;
};

// The notices a visit's change from `before` (nullptr: first seen) to `after` causes at `now`:
// missed, and nobody coming when its worker was taken off within kUnstaffedLead of the window.
// None for a visit whose window ended more than kNoticeStaleAfter before `now`.
std::vector<NoticeDraft> VisitChangeNotices(const ProjectedVisit* before,
                                            const ProjectedVisit& after,
                                            const CommitmentFacts& commitment,
                                            const ElderFacts& elder, absl::Time now);

// The notices the sweep finds for a scheduled `visit` at `now`: running late (booked, not
// checked in kLateMargin after the window opened, window not over) or nobody coming (nobody
// booked, window opening within kUnstaffedLead, not over). `expected` is when the late worker is
// expected, when known.
std::vector<NoticeDraft> VisitSweepNotices(const ProjectedVisit& visit,
                                           const CommitmentFacts& commitment,
                                           const ElderFacts& elder, absl::Time now,
                                           std::optional<absl::Time> expected);

// When the worker of a late visit is expected: `current` is the visit they checked in to and are
// still on, if any (with its check-in time and duration).
std::optional<absl::Time> ExpectedArrival(const ProjectedVisit* current);

// Whether an alert of `kind` is a safety matter (told to the committee at once, escalated).
bool IsSafetyAlert(v1::AlertKind kind);
// The committee's notice of a safety alert just raised.
NoticeDraft SafetyNotice(const v1::Alert& alert, const std::string& street);
// The street's notice of a safety alert still open kSafetyAckTime after it was raised at
// `now`; nullopt when it is not due (acknowledged, not yet late, or no street).
std::optional<NoticeDraft> EscalatedSafetyNotice(const v1::Alert& alert, const std::string& street,
                                                 absl::Time now);

// The notice of a complaint's step to whoever filed it (the actor of its first step, "role:id",
// for a partner's), when that step is one they hear of and the filer has an inbox.
std::optional<NoticeDraft> WorkOrderNotice(const v1::WorkOrder& order, const std::string& committee,
                                           const std::string& street);

// The notices of a referral's step (its state now); none for a step that happened more than
// kNoticeStaleAfter before `now` (a replayed event stream).
std::vector<NoticeDraft> ReferralNotices(const scheduling::v1::Referral& referral, absl::Time now);

// The notices of the decline (at `declined`, for `reason`) of missed visit `v`'s make-up: to the
// provider and the elder's committee. None when it happened more than kNoticeStaleAfter before
// `now` (a replayed event stream).
std::vector<NoticeDraft> MakeUpDeclinedNotices(const ProjectedVisit& v,
                                               const CommitmentFacts& commitment,
                                               const ElderFacts& elder,
                                               scheduling::v1::MakeUpDeclineReason reason,
                                               absl::Time declined, absl::Time now);

// --- Quiet hours and channels --------------------------------------------------------------------

// "HH:MM" -> minutes after midnight; nullopt when malformed.
std::optional<int> ParseClockTime(const std::string& hhmm);
// INVALID_ARGUMENT naming the field when the preferences are malformed: both times or neither;
// channels named (not UNSPECIFIED), known, once each, with known kinds.
absl::Status ValidatePreferences(const v1::NoticePreferences& preferences);
// The defaults of `recipient`: elders 21:00-07:00, others none.
v1::NoticePreferences DefaultPreferences(const std::string& recipient);
// When a delivery of a notice (urgent or not) at `now` may be made: `now`, or the end of the
// recipient's quiet hours (Shanghai time) when `now` falls inside them and it is not urgent.
absl::Time DeliverableAt(const v1::NoticePreferences& preferences, bool urgent, absl::Time now);

// Whether a webhook of `channel` (UNSPECIFIED: WEBHOOK) may carry `notice` by its recipient's
// `preferences`: urgent notices always; otherwise not when the channel is muted or the notice's
// kind is muted on it.
bool ChannelWants(const v1::NoticePreferences& preferences, v1::NoticeChannel channel,
                  const v1::Notice& notice);

// --- Webhooks ------------------------------------------------------------------------------------

// Retries stop this long after the first attempt (the delivery is then FAILED).
inline constexpr absl::Duration kDeliveryGiveUp = absl::Hours(72);
// When the next attempt is due after `attempts` failed ones (1, 2, …): 10 s doubling, at most
// 10 minutes, scaled by `jitter` in [0.5, 1]; nullopt when `first_attempt` is kDeliveryGiveUp
// ago or more.
std::optional<absl::Time> NextAttempt(int attempts, absl::Time first_attempt, absl::Time now,
                                      double jitter);
// What is wrong with `url` as a webhook's address, or nullopt when it is https://host[:port][/path]
// or http:// to a loopback host (127.0.0.1, ::1, localhost).
std::optional<std::string> WebhookUrlProblem(const std::string& url);
// Whether a webhook of `recipient` (elders_of_region: the elders of that region) wanting `kinds`
// (empty: all) receives `draft`.
bool WebhookWants(const std::string& recipient, bool elders_of_region,
                  const std::vector<int>& kinds, const NoticeDraft& draft);

}  // namespace linli::feedback

#endif  // LINLI_SERVICES_FEEDBACK_NOTICE_POLICY_H_
