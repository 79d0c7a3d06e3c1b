// JSON output of the command-line tools, for people. No gRPC: linli-plan uses it too.
#ifndef LINLI_TOOLS_CLI_JSON_H_
#define LINLI_TOOLS_CLI_JSON_H_

#include <string>

#include "google/protobuf/message.h"
#include "google/protobuf/util/json_util.h"

namespace linli::cli {

// Indented JSON with the proto field names.
inline std::string Json(const google::protobuf::Message& message) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  return json;
}

}  // namespace linli::cli

#endif  // LINLI_TOOLS_CLI_JSON_H_
