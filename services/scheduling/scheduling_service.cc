#include "services/scheduling/scheduling_service.h"

#include "common/errors.h"
#include "common/pagination.h"
#include "common/server.h"
#include "common/status_macros.h"
#include "google/protobuf/util/time_util.h"
#include "services/scheduling/scheduling_store.h"

namespace linli::scheduling {

grpc::Status SchedulingServiceImpl::ListEvents(grpc::ServerContext* context,
                                               const v1::ListEventsRequest* request,
                                               v1::ListEventsResponse* response) {
  FieldViolations violations;
  if (request->after_sequence() < 0) violations.Add("after_sequence", "must not be negative");
  absl::StatusOr<int> page_size = ResolvePageSize(request->page_size(), 100, 1000);
  if (!page_size.ok()) violations.Add("page_size", "must not be negative");
  if (!violations.empty()) return Reply(*context, violations.ToStatus());

  absl::Status status = db_.RunInTransaction(
      [&](storage::Transaction& tx) -> absl::Status {
        response->Clear();
        ASSIGN_OR_RETURN(std::vector<OutboxEvent> events,
                         scheduling::ListEvents(tx, request->after_sequence(), *page_size));
        ASSIGN_OR_RETURN(int64_t last, LastSequence(tx));
        for (const OutboxEvent& event : events) {
          v1::Event* out = response->add_events();
          out->set_sequence(event.sequence);
          out->set_type(event.type);
          out->set_subject(event.subject);
          out->set_payload(event.payload);
          *out->mutable_create_time() = google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(
              absl::ToUnixMicros(event.create_time));
        }
        response->set_last_sequence(last);
        return absl::OkStatus();
      },
      {.read_only = true});
  return Reply(*context, status);
}

}  // namespace linli::scheduling
