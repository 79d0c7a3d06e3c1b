// Errors: absl::Status inside the code, grpc::Status on the wire (common/grpc_status.h converts at
// the adapters), google.rpc details in between. This header needs no gRPC: domain code uses it.
//
// Validation code collects every problem with a request before answering, so that a client sees
// all offending fields at once:
//
//   FieldViolations v;
//   if (region.display_name().empty()) v.Add("region.display_name", "must not be empty");
//   RETURN_IF_ERROR(v.ToStatus());   // INVALID_ARGUMENT + google.rpc.BadRequest + ErrorInfo
//
// Statuses carry google.rpc.BadRequest and google.rpc.ErrorInfo as absl::Status payloads keyed by
// their type URL; ToGrpcStatus (common/grpc_status.h) packs them into google.rpc.Status in the
// binary details
// ("grpc-status-details-bin"), which every gRPC client library can decode. FromGrpcStatus does
// the reverse, so errors survive a hop through another service unchanged.
#ifndef LINLI_COMMON_ERRORS_H_
#define LINLI_COMMON_ERRORS_H_

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/rpc/error_details.pb.h"
#include "linli/common/v1/common.pb.h"

namespace linli {

// The ErrorInfo domain of every Linli error.
inline constexpr char kErrorDomain[] = "linli.dev";

// Collects field violations of one request.
class FieldViolations {
 public:
  // `field` is a path in the request such as "region.display_name" (proto field names).
  void Add(std::string field, std::string description);
  bool empty() const { return violations_.empty(); }
  // OK when empty, otherwise INVALID_ARGUMENT listing every violation, with ErrorInfo `reason`.
  absl::Status ToStatus(
      common::v1::ErrorReason reason = common::v1::ERROR_REASON_INVALID_FIELD) const;

 private:
  std::vector<std::pair<std::string, std::string>> violations_;
};

// INVALID_ARGUMENT naming one field.
absl::Status InvalidField(std::string field, std::string description,
                          common::v1::ErrorReason reason = common::v1::ERROR_REASON_INVALID_FIELD);

// NOT_FOUND "<what> not found" with reason ERROR_REASON_NOT_FOUND, e.g. NotFound("elders/123").
absl::Status NotFound(absl::string_view what);

// Attaches a google.rpc.ErrorInfo (domain linli.dev) to `status`.
absl::Status WithReason(absl::Status status, common::v1::ErrorReason reason);

// The BadRequest / ErrorInfo attached to a status, if any.
std::optional<google::rpc::BadRequest> GetBadRequest(const absl::Status& status);
std::optional<google::rpc::ErrorInfo> GetErrorInfo(const absl::Status& status);

}  // namespace linli

#endif  // LINLI_COMMON_ERRORS_H_
