#include "services/feedback/feedback_answer.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/errors.h"

namespace linli::feedback {
namespace {

const char* StateWord(VisitState state) {
  switch (state) {
    case VisitState::kScheduled:
      return "scheduled";
    case VisitState::kInProgress:
      return "in progress";
    case VisitState::kMissed:
      return "missed";
    case VisitState::kCancelled:
      return "cancelled";
    default:
      return "unknown";
  }
}

}  // namespace

absl::StatusOr<bool> IsElderVoice(const std::string& author, const ProjectedVisit& visit,
                                  const ElderFacts& elder) {
  if (author == visit.elder) return true;
  const std::string contacts_prefix = visit.elder + "/contacts/";
  if (absl::StartsWith(author, contacts_prefix)) {
    int index = -1;
    if (absl::SimpleAtoi(author.substr(contacts_prefix.size()), &index)) {
      for (int proxy : elder.proxy_contacts) {
        if (proxy == index) return true;
      }
    }
    return InvalidField("feedback.author", absl::StrCat(author, " is not a proxy of ", visit.elder,
                                                        " in the registry"));
  }
  if (!visit.worker.empty() && author == visit.worker) return false;
  return InvalidField("feedback.author",
                      absl::StrCat(author,
                                   " is neither the elder, a proxy of the elder nor the "
                                   "worker of visits/",
                                   visit.id));
}

absl::Status CheckAnswerable(const v1::Feedback& answer, const ProjectedVisit& visit,
                             bool elder_voice) {
  if (visit.state != VisitState::kCompleted) {
    return absl::FailedPreconditionError(
        absl::StrCat(answer.visit(), " did not happen: scheduling records it as ",
                     StateWord(visit.state), "; feedback is only for completed visits"));
  }
  if (!elder_voice && answer.nobody_came()) {
    return InvalidField("feedback.nobody_came",
                        "the worker who checked in cannot report that nobody came");
  }
  return absl::OkStatus();
}

absl::Status CheckAnswerTime(absl::Time answer_time, const ProjectedVisit& visit) {
  // The projection keeps the check-in of a visit, not its check-out: the arrival bounds the
  // answer; a visit projected before check-ins were kept has only its day.
  const int64_t check_in_us = visit.check_in_us > 0 ? visit.check_in_us : visit.contact_time_us;
  if (check_in_us > 0) {
    const absl::Time check_in = absl::FromUnixMicros(check_in_us);
    if (answer_time < check_in) {
      return InvalidField(
          "feedback.answer_time",
          absl::StrCat("is before visits/", visit.id, " began (checked in at ",
                       absl::FormatTime(absl::RFC3339_sec, check_in, absl::FixedTimeZone(8 * 3600)),
                       ")"));
    }
    return absl::OkStatus();
  }
  if (LocalDay(answer_time) < visit.day) {
    return InvalidField("feedback.answer_time", absl::StrCat("is before the day of visits/",
                                                             visit.id, ", ", DayString(visit.day)));
  }
  return absl::OkStatus();
}

bool Disputes(const v1::Feedback& answer) {
  return answer.nobody_came() || answer.did_as_promised() == v1::ANSWER_NO;
}

std::string NeedKey(const AwaitingAnswer& visit) {
  // Fixed-width fields compare as the numbers they hold; times and days are never negative here
  // (microseconds and days since 1970).
  return absl::StrFormat(
      "%d|%d|%020d|%020d|%s", visit.solitary ? 0 : 1, visit.disputed_visits > 0 ? 0 : 1,
      std::max<int64_t>(visit.last_answer_us, 0), std::max<int64_t>(visit.day, 0), visit.visit_id);
}

void RankByNeed(std::vector<AwaitingAnswer>& queue) {
  std::vector<std::pair<std::string, AwaitingAnswer>> keyed;
  keyed.reserve(queue.size());
  for (AwaitingAnswer& visit : queue) keyed.emplace_back(NeedKey(visit), std::move(visit));
  std::sort(keyed.begin(), keyed.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  queue.clear();
  for (auto& [key, visit] : keyed) queue.push_back(std::move(visit));
}

}  // namespace linli::feedback
