// Small helpers shared by the `linli` CLI's commands (and Json, from tools/cli_json.h).
#ifndef LINLI_TOOLS_CLI_UTIL_H_
#define LINLI_TOOLS_CLI_UTIL_H_

#include <iostream>
#include <optional>
#include <string>

#include "common/errors.h"
#include "common/grpc_status.h"
#include "grpcpp/support/status.h"
#include "tools/cli_json.h"

namespace linli::cli {

// Prints a call's error for a person — the code, the message (which names every offending field)
// and the machine-readable reason — and returns exit code 1.
inline int Fail(const grpc::Status& status) {
  const absl::Status error = FromGrpcStatus(status);
  std::cerr << "error: " << absl::StatusCodeToString(error.code()) << ": " << error.message();
  if (std::optional<google::rpc::ErrorInfo> info = GetErrorInfo(error); info.has_value()) {
    std::cerr << " (" << info->reason() << ")";
  }
  std::cerr << "\n";
  return 1;
}

}  // namespace linli::cli

#endif  // LINLI_TOOLS_CLI_UTIL_H_
