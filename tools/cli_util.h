// Small helpers shared by the `linli` CLI's commands.
#ifndef LINLI_TOOLS_CLI_UTIL_H_
#define LINLI_TOOLS_CLI_UTIL_H_

#include <iostream>
#include <string>

#include "common/errors.h"
#include "google/protobuf/message.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/support/status.h"

namespace linli::cli {

// Prints a call's error (with its field violations and reason) and returns exit code 1.
inline int Fail(const grpc::Status& status) {
  std::cerr << "error: " << FromGrpcStatus(status) << "\n";
  return 1;
}

// Indented JSON with the proto field names, for people.
inline std::string Json(const google::protobuf::Message& message) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  return json;
}

}  // namespace linli::cli

#endif  // LINLI_TOOLS_CLI_UTIL_H_
