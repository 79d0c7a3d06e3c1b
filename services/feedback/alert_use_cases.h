// The safety-net use cases: the sweep that escalates overdue work orders and raises alerts, and
// an alert's life (list, get, acknowledge, resolve) and the committees' policies. Each opens its
// transactions and calls the rules of alert_policy.h / work_order.h and the store. No gRPC:
// requests arrive validated by the adapter (feedback_alerts.cc), names as ids.
#ifndef LINLI_SERVICES_FEEDBACK_ALERT_USE_CASES_H_
#define LINLI_SERVICES_FEEDBACK_ALERT_USE_CASES_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/pagination.h"
#include "common/pii/field_cipher.h"
#include "common/storage/database.h"
#include "linli/feedback/v1/feedback.pb.h"
#include "services/feedback/alert_policy.h"
#include "services/feedback/directory.h"
#include "services/feedback/feedback_store.h"
#include "services/feedback/notice_use_cases.h"

namespace linli::feedback {

class AlertUseCases {
 public:
  // `cipher` opens and seals the work orders the sweep escalates.
  // `notices` tells the committee of safety alerts and the filer of an escalated work order, and
  // its sweep runs with this one.
  AlertUseCases(storage::Database& db, const Clock& clock, const pii::FieldCipher& cipher,
                NoticeUseCases& notices)
      : db_(db), clock_(clock), cipher_(cipher), notices_(notices) {}

  // The safety-net checks as of `now`: overdue work orders are escalated to the street office
  // `directory` names and alerted, then solitary elders without contact and falling indices are
  // alerted. Each alert is raised once (alert_policy.h). Then the notices' sweep
  // (NoticeUseCases::Sweep).
  absl::StatusOr<v1::SweepAlertsResponse> Sweep(Directory& directory, absl::Time now);

  // The page `page` of the alerts `request` filters, newest first.
  absl::Status List(const v1::ListAlertsRequest& request, const Page& page,
                    v1::ListAlertsResponse* response);
  absl::StatusOr<v1::Alert> Get(const std::string& id);
  absl::StatusOr<v1::Alert> Acknowledge(const std::string& id, const std::string& actor);
  absl::StatusOr<v1::Alert> Resolve(const std::string& id, const std::string& actor,
                                    const std::string& note);
  // Sets `committee`'s no-contact limit (ValidNoContactDays).
  absl::Status SetPolicy(const std::string& committee, int no_contact_days);

 private:
  // Loads alert `id`, lets `change` edit it and stores it, in one transaction.
  absl::StatusOr<v1::Alert> Update(const std::string& id,
                                   const std::function<absl::Status(v1::Alert&)>& change);

  storage::Database& db_;
  const Clock& clock_;
  const pii::FieldCipher& cipher_;
  NoticeUseCases& notices_;
};

// The row that stores `draft`, with a new id (and so its name).
AlertRow NewAlertRow(const Clock& clock, AlertDraft draft);

}  // namespace linli::feedback

#endif  // LINLI_SERVICES_FEEDBACK_ALERT_USE_CASES_H_
