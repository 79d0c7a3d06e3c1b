// gRPC adapter of scheduling: proto in/out, validation, status mapping. Rules live in
// commitment.{h,cc}, tables in scheduling_store.{h,cc}. Every change to a visit records its event
// in the outbox in the same transaction.
#ifndef LINLI_SERVICES_SCHEDULING_SCHEDULING_SERVICE_H_
#define LINLI_SERVICES_SCHEDULING_SCHEDULING_SERVICE_H_

#include <memory>
#include "common/clock.h"
#include "common/storage/database.h"

#include "absl/time/time.h"
#include "linli/registry/v1/registry.grpc.pb.h"
#include "linli/scheduling/v1/scheduling.grpc.pb.h"

namespace linli::scheduling {

class SchedulingServiceImpl final : public v1::SchedulingService::Service {
 public:
  // `registry` confirms that the elder, organisation and service a commitment names exist.
  SchedulingServiceImpl(storage::Database& db, const Clock& clock,
                        std::shared_ptr<registry::v1::RegistryService::StubInterface> registry,
                        absl::Duration backend_timeout = absl::Seconds(5))
      : db_(db), clock_(clock), registry_(std::move(registry)), backend_timeout_(backend_timeout) {}

#define LINLI_RPC(Method)                                                               \
  grpc::Status Method(grpc::ServerContext* context, const v1::Method##Request* request, \
                      v1::Method##Response* response) override
  LINLI_RPC(ListEvents);
  LINLI_RPC(CreateCommitment);
  LINLI_RPC(GetCommitment);
  LINLI_RPC(ListCommitments);
  LINLI_RPC(CancelCommitment);
  LINLI_RPC(MaterializeVisits);
  LINLI_RPC(ListVisits);
  LINLI_RPC(CancelVisit);
  LINLI_RPC(RescheduleVisit);
  LINLI_RPC(CheckInVisit);
  LINLI_RPC(CheckOutVisit);
  LINLI_RPC(SweepMissedVisits);
#undef LINLI_RPC

  // Marks scheduled visits whose window plus tolerance has passed as missed; returns how many.
  // The server calls it periodically; SweepMissedVisits calls it on demand.
  absl::StatusOr<int> SweepMissed();

 private:
  // INVALID_ARGUMENT naming the field when the registry does not know a referenced resource;
  // UNAVAILABLE when the registry cannot be asked.
  absl::Status CheckReferences(grpc::ServerContext* context, const v1::Commitment& commitment);

  storage::Database& db_;
  const Clock& clock_;
  std::shared_ptr<registry::v1::RegistryService::StubInterface> registry_;
  absl::Duration backend_timeout_;
};

}  // namespace linli::scheduling

#endif  // LINLI_SERVICES_SCHEDULING_SCHEDULING_SERVICE_H_
