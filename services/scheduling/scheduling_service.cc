#include "services/scheduling/scheduling_service.h"

#include "common/errors.h"
#include "common/pagination.h"
#include "common/proto_time.h"
#include "common/server.h"
#include "common/status_macros.h"
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

  // ListEvents (the store's) stops at the settled end of the outbox, so that a consumer moving
  // its cursor to the last event of the page skips none.
  absl::StatusOr<EventPage> page =
      scheduling::ListEvents(db_, request->after_sequence(), *page_size);
  if (!page.ok()) return Reply(*context, page.status());
  response->Clear();
  for (const OutboxEvent& event : page->events) {
    v1::Event* out = response->add_events();
    out->set_sequence(event.sequence);
    out->set_type(event.type);
    out->set_subject(event.subject);
    out->set_payload(event.payload);
    *out->mutable_create_time() = ToTimestamp(event.create_time);
  }
  response->set_last_sequence(page->last_sequence);
  return Reply(*context, absl::OkStatus());
}

}  // namespace linli::scheduling
