// Small helpers shared by the `linli` CLI's commands (and Json, from tools/cli_json.h).
#ifndef LINLI_TOOLS_CLI_UTIL_H_
#define LINLI_TOOLS_CLI_UTIL_H_

#include <iostream>
#include <string>

#include "common/errors.h"
#include "common/grpc_status.h"
#include "grpcpp/support/status.h"
#include "tools/cli_json.h"

namespace linli::cli {

// Prints a call's error (with its field violations and reason) and returns exit code 1.
inline int Fail(const grpc::Status& status) {
  std::cerr << "error: " << FromGrpcStatus(status) << "\n";
  return 1;
}

}  // namespace linli::cli

#endif  // LINLI_TOOLS_CLI_UTIL_H_
