#include "services/scheduling/make_up.h"

#include <algorithm>

#include "common/proto_time.h"
#include "services/scheduling/fallback.h"

namespace linli::scheduling {
namespace {

const absl::TimeZone kShanghai = absl::FixedTimeZone(8 * 3600);

}  // namespace

std::vector<Occurrence> MakeUpWindows(const v1::Commitment& commitment, const v1::Visit& missed,
                                      absl::CivilDay today, int within_days) {
  const absl::Time missed_start = FromTimestamp(missed.window_start());
  const absl::Duration length = FromTimestamp(missed.window_end()) - missed_start;
  const absl::CivilSecond local = absl::ToCivilSecond(missed_start, kShanghai);
  std::vector<Occurrence> windows;
  for (int d = 1; d <= within_days; ++d) {
    const absl::CivilDay day = today + d;
    if (!Occurrences(commitment, day, day + 1, 1).empty()) continue;  // a regular visit's day
    const absl::CivilSecond start(day.year(), day.month(), day.day(), local.hour(), local.minute(),
                                  local.second());
    Occurrence o;
    o.key = absl::FormatCivilTime(start);
    o.window_start = absl::FromCivil(start, kShanghai);
    o.window_end = o.window_start + length;
    windows.push_back(std::move(o));
  }
  return windows;
}

std::vector<registry::v1::Worker> MakeUpCandidates(std::vector<registry::v1::Worker> workers,
                                                   const v1::Commitment& commitment) {
  std::vector<registry::v1::Worker> out;
  for (registry::v1::Worker& w : workers) {
    if (CanServe(w, commitment)) out.push_back(std::move(w));
  }
  const std::string& preferred = commitment.preferred_worker();
  std::stable_sort(out.begin(), out.end(), [&](const auto& a, const auto& b) {
    const bool pa = a.name() == preferred, pb = b.name() == preferred;
    if (pa != pb) return pa;
    return a.name() < b.name();
  });
  return out;
}

}  // namespace linli::scheduling
