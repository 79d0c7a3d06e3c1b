// The work-order use cases (工单, the 12345 flow): each opens its transactions, loads through the
// store, applies the flow of work_order.h and stores the result. No gRPC: requests arrive
// validated by the adapter (feedback_work_orders.cc), names as ids, and errors are absl::Status.
#ifndef LINLI_SERVICES_FEEDBACK_WORK_ORDER_USE_CASES_H_
#define LINLI_SERVICES_FEEDBACK_WORK_ORDER_USE_CASES_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "common/audit.h"
#include "common/clock.h"
#include "common/pagination.h"
#include "common/pii/field_cipher.h"
#include "common/storage/database.h"
#include "linli/feedback/v1/feedback.pb.h"
#include "services/feedback/directory.h"
#include "services/feedback/notice_use_cases.h"
#include "services/feedback/work_order.h"

namespace linli::feedback {

class WorkOrderUseCases {
 public:
  // `cipher` seals the work orders (their texts are personal data). Every work order a call
  // returns with its texts is audited as read by the call's `caller`.
  // `notices` tells the filer of each step they hear of, and the committee of a safety report
  // (an alert), in the step's transaction.
  WorkOrderUseCases(storage::Database& db, const Clock& clock, const pii::FieldCipher& cipher,
                    NoticeUseCases& notices)
      : db_(db), clock_(clock), cipher_(cipher), notices_(notices) {}

  // Accepts a complaint about a commitment, or a visit of one, as `actor`; once per request_id.
  // NOT_FOUND for an unknown visit or commitment, INVALID_ARGUMENT when the visit is not of the
  // commitment named.
  absl::Status Create(const v1::CreateWorkOrderRequest& request, const std::string& actor,
                      v1::CreateWorkOrderResponse* response);
  absl::StatusOr<v1::WorkOrder> Get(const std::string& id, const Caller& caller);
  // The page `page` of the work orders `request` filters.
  absl::Status List(const v1::ListWorkOrdersRequest& request, const Page& page,
                    const Caller& caller, v1::ListWorkOrdersResponse* response);

  // The steps of the flow on work order `id`, by `caller` (recorded as the step's actor), with
  // `note` kept in the history.
  absl::StatusOr<v1::WorkOrder> Classify(const std::string& id, v1::WorkOrderCategory category,
                                         const Caller& caller, const std::string& note);
  // Routes to the commitment's owner, supervised as `directory` says.
  absl::StatusOr<v1::WorkOrder> Route(const std::string& id, Directory& directory,
                                      const Caller& caller, const std::string& note);
  absl::StatusOr<v1::WorkOrder> Resolve(const std::string& id, const std::string& resolution,
                                        const Caller& caller);
  absl::StatusOr<v1::WorkOrder> RecordCallback(const std::string& id, int satisfaction,
                                               const Caller& caller, const std::string& note);
  absl::StatusOr<v1::WorkOrder> Close(const std::string& id, const Caller& caller,
                                      const std::string& note);

 private:
  // Loads work order `id`, applies `step` to it at the clock's time and stores it, in one
  // transaction.
  absl::StatusOr<v1::WorkOrder> Apply(
      const std::string& id, const Caller& caller, const std::string& note,
      const std::function<absl::Status(v1::WorkOrder&, const WorkOrderStep&)>& step);

  storage::Database& db_;
  const Clock& clock_;
  const pii::FieldCipher& cipher_;
  NoticeUseCases& notices_;
};

}  // namespace linli::feedback

#endif  // LINLI_SERVICES_FEEDBACK_WORK_ORDER_USE_CASES_H_
