// The conversion between absl::Status (inside the code) and grpc::Status (on the wire), used only
// by adapters: servers, clients and interceptors. Details travel as google.rpc.Status in
// "grpc-status-details-bin" (see common/errors.h for the payloads).
#ifndef LINLI_COMMON_GRPC_STATUS_H_
#define LINLI_COMMON_GRPC_STATUS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "grpcpp/support/status.h"

namespace linli {

// absl::Status -> grpc::Status with google.rpc.Status details. INTERNAL, UNKNOWN and DATA_LOSS
// messages may hold SQL or driver text: they are replaced by a generic message that names
// `request_id` (the full text goes to the log by the caller).
grpc::Status ToGrpcStatus(const absl::Status& status, absl::string_view request_id = "");

// The canonical name of a gRPC code ("NOT_FOUND"); "UNKNOWN" for a value outside the enum.
absl::string_view GrpcCodeName(grpc::StatusCode code);

// grpc::Status -> absl::Status, keeping BadRequest and ErrorInfo details.
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace linli

#endif  // LINLI_COMMON_GRPC_STATUS_H_
