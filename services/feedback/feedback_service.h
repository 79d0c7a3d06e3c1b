// gRPC adapter of feedback: proto in/out, validation, status mapping.
#ifndef LINLI_SERVICES_FEEDBACK_FEEDBACK_SERVICE_H_
#define LINLI_SERVICES_FEEDBACK_FEEDBACK_SERVICE_H_

#include "common/storage/database.h"
#include "linli/feedback/v1/feedback.grpc.pb.h"

namespace linli::feedback {

class FeedbackServiceImpl final : public v1::FeedbackService::Service {
 public:
  explicit FeedbackServiceImpl(storage::Database& db) : db_(db) {}

  grpc::Status GetConsumerStatus(grpc::ServerContext* context,
                                 const v1::GetConsumerStatusRequest* request,
                                 v1::GetConsumerStatusResponse* response) override;

 private:
  storage::Database& db_;
};

}  // namespace linli::feedback

#endif  // LINLI_SERVICES_FEEDBACK_FEEDBACK_SERVICE_H_
