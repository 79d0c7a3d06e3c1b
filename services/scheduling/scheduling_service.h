// gRPC adapter of scheduling: proto in/out, validation, status mapping.
#ifndef LINLI_SERVICES_SCHEDULING_SCHEDULING_SERVICE_H_
#define LINLI_SERVICES_SCHEDULING_SCHEDULING_SERVICE_H_

#include "common/storage/database.h"
#include "linli/scheduling/v1/scheduling.grpc.pb.h"

namespace linli::scheduling {

class SchedulingServiceImpl final : public v1::SchedulingService::Service {
 public:
  explicit SchedulingServiceImpl(storage::Database& db) : db_(db) {}

  grpc::Status ListEvents(grpc::ServerContext* context, const v1::ListEventsRequest* request,
                          v1::ListEventsResponse* response) override;

 private:
  storage::Database& db_;
};

}  // namespace linli::scheduling

#endif  // LINLI_SERVICES_SCHEDULING_SCHEDULING_SERVICE_H_
