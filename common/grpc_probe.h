// Client probes of the standard gRPC side services, for operators, `make run` and tests: the
// health check (grpc.health.v1) and server reflection (grpc.reflection.v1alpha), with the stubs
// generated from Debian's grpc-proto (see proto/CMakeLists.txt for why reflection uses the copy
// compiled into libgrpc++_reflection).
//
//   ASSIGN_OR_RETURN(HealthStatus s, CheckHealth(*channel, "linli.registry.v1.RegistryService",
//                                                absl::Seconds(2)));
//   ASSIGN_OR_RETURN(std::vector<std::string> names, ListServices(*channel, absl::Seconds(2)));
#ifndef LINLI_COMMON_GRPC_PROBE_H_
#define LINLI_COMMON_GRPC_PROBE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "grpcpp/support/byte_buffer.h"

namespace linli {

// grpc.health.v1.HealthCheckResponse.ServingStatus.
enum class HealthStatus { kUnknown = 0, kServing = 1, kNotServing = 2, kServiceUnknown = 3 };

// Health of `service` ("" = the server as a whole). gRPC errors come back as the status.
absl::StatusOr<HealthStatus> CheckHealth(grpc::Channel& channel, const std::string& service,
                                         absl::Duration timeout);

// Fully-qualified names of the services a server offers, via server reflection.
absl::StatusOr<std::vector<std::string>> ListServices(grpc::Channel& channel,
                                                      absl::Duration timeout);

// A message's bytes as a gRPC buffer and back, for calls that carry serialized messages without
// a stub (generic calls, the gateway's raw method handlers).
grpc::ByteBuffer ToByteBuffer(const std::string& bytes);
std::string FromByteBuffer(const grpc::ByteBuffer& buffer);

}  // namespace linli

#endif  // LINLI_COMMON_GRPC_PROBE_H_
