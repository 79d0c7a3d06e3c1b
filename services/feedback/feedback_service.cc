#include "services/feedback/feedback_service.h"

#include "common/server.h"
#include "common/status_macros.h"
#include "google/protobuf/util/time_util.h"
#include "services/feedback/feedback_store.h"

namespace linli::feedback {

grpc::Status FeedbackServiceImpl::GetConsumerStatus(grpc::ServerContext* context,
                                                    const v1::GetConsumerStatusRequest*,
                                                    v1::GetConsumerStatusResponse* response) {
  absl::Status status = db_.RunInTransaction(
      [&](storage::Transaction& tx) -> absl::Status {
        response->Clear();
        ASSIGN_OR_RETURN(std::vector<ConsumerCursor> cursors, ListCursors(tx));
        for (const ConsumerCursor& cursor : cursors) {
          v1::ConsumerCursor* out = response->add_cursors();
          out->set_source(cursor.source);
          out->set_sequence(cursor.sequence);
          if (cursor.update_time > absl::UnixEpoch()) {
            *out->mutable_update_time() = google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(
                absl::ToUnixMicros(cursor.update_time));
          }
        }
        return absl::OkStatus();
      },
      {.read_only = true});
  return Reply(*context, status);
}

}  // namespace linli::feedback
