// A deterministic fictional Shanghai street with the real structure, for `make run` and
// benchmarks: the territorial tree, eight lines, the street office and its eight offices,
// district bureaus, public centres, elder-care facilities, deliberative bodies, ~17
// neighbourhood committees each with an owners' committee, a property company, a joint meeting
// and a volunteer team, social organisations and enterprises, shops, a foundation, the 12345
// hotline, typed relations among them, a service taxonomy, offerings with capacities, ~300
// workers and volunteers and ~25,000 elders with realistic shares of living situations and
// care grades. Names, codes, ID numbers, phones and addresses are invented.
#ifndef LINLI_TOOLS_DEMO_STREET_H_
#define LINLI_TOOLS_DEMO_STREET_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "linli/feedback/v1/feedback.pb.h"
#include "linli/registry/v1/registry.pb.h"
#include "linli/scheduling/v1/scheduling.pb.h"

namespace linli::demo {

struct DemoStreet {
  std::vector<registry::v1::CreateRegionRequest> regions;
  std::vector<registry::v1::CreateLineRequest> lines;
  std::vector<registry::v1::CreateServiceTypeRequest> service_types;
  std::vector<registry::v1::CreateOrganisationRequest> organisations;  // parents first
  std::vector<registry::v1::CreateRelationRequest> relations;
  std::vector<registry::v1::CreateOfferingRequest> offerings;
  std::vector<registry::v1::CreateWorkerRequest> workers;
  std::vector<registry::v1::CreateElderRequest> elders;
};

// The same street for the same arguments, every time. Every request carries a stable request_id.
DemoStreet GenerateDemoStreet(int elders = 25000, int committees = 17);

// When the demo street's promises hold and which visits are materialised: the demo lives in the
// present (the week of "today" on the caller's clock, Asia/Shanghai), or in a pinned week for
// reproducible figures.
struct DemoCalendar {
  absl::CivilDay week_start;   // the Monday of the demo's week
  absl::CivilDay valid_from;   // the promises' first day, a Monday kDemoHistoryWeeks before
  absl::CivilDay visits_from;  // the first day visits are materialised for
  int visit_days = 0;          // ... through the Sunday of the following week
};

// The Monday of the week holding `day`.
absl::CivilDay WeekStart(absl::CivilDay day);

// Weeks of history the demo street has before its week.
inline constexpr int kDemoHistoryWeeks = 4;

// Unpinned: the week of `today`, promises from kDemoHistoryWeeks Mondays before it, visits
// materialised from today through next week's Sunday (the days before have their history).
// Pinned: the week holding `*pinned`, promises from kDemoHistoryWeeks before its Monday and visits
// for that week and the next.
DemoCalendar DemoCalendarFor(absl::CivilDay today, std::optional<absl::CivilDay> pinned);

// The care promises of the demo street, for the elders registered from `street.elders` (whose
// registry names are `elder_names`, same order): long-term-care home care for assessed elders
// (grade defaults), a weekly visit for those living alone, meals three times a week for those
// who need them, each owned by the organisation that offers it; valid from
// `calendar.valid_from`, recurrences anchored on that Monday.
std::vector<scheduling::v1::CreateCommitmentRequest> DemoCommitments(
    const DemoStreet& street, const std::vector<std::string>& elder_names,
    const DemoCalendar& calendar);

// One occurrence of a promise whose window has closed (as scheduling computes it).
struct PastOccurrence {
  std::string key;  // local "YYYY-MM-DDTHH:MM:SS"
  absl::Time window_start;
};

// What the providers recorded of `commitment`'s past `occurrences` (rows of
// SchedulingService.ImportVisits, line 0): mostly kept on time by the elder's familiar worker of
// the owner (`workers`, the owner's worker names in a stable order; two for a two-worker visit),
// some late, a few short, outside the geofence, missed, or cancelled while the elder was in
// hospital. `index` is the promise's place among the demo's promises; the same arguments give
// the same rows, so the history depends only on the street and its week.
std::vector<scheduling::v1::ImportedVisit> DemoVisitHistory(
    const scheduling::v1::Commitment& commitment, int index,
    const std::vector<PastOccurrence>& occurrences, const std::vector<std::string>& workers);

// The elders' answers about the completed visits among `rows`, whose recorded names are `visits`
// (same order; empty names are skipped): about a third answered by phone or at the door a few
// hours to a day after the visit, mostly content, some not, a few saying nobody came; none given
// after `now`. Rows of FeedbackService.ImportFeedback, line 0; deterministic like the visits.
std::vector<feedback::v1::ImportedFeedback> DemoAnswers(
    const scheduling::v1::Commitment& commitment, int index,
    const std::vector<scheduling::v1::ImportedVisit>& rows, const std::vector<std::string>& visits,
    absl::Time now);

// The demo street's region name, "regions/310101020".
inline constexpr char kDemoStreetRegion[] = "regions/310101020";

// A valid 18-character resident ID number (GB 11643 check digit) from its first 17 digits.
std::string WithCheckDigit(const std::string& first17);

}  // namespace linli::demo

#endif  // LINLI_TOOLS_DEMO_STREET_H_
