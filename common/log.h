// JSON log lines on stderr, one object per line, for log shippers:
//   {"ts":"2026-11-27T03:30:00.123Z","level":"info","service":"registry","msg":"listening",
//    "address":"127.0.0.1:50051"}
//
//   LogInfo("listening", {{"address", address}});
//   LogError("migration failed", {{"error", status.ToString()}});
#ifndef LINLI_COMMON_LOG_H_
#define LINLI_COMMON_LOG_H_

#include <string>

#include <string_view>
#include <utility>
#include <vector>
#include "absl/strings/string_view.h"

namespace linli {

using LogFields = std::vector<std::pair<std::string, std::string>>;

// Names the process in every line ("registry", "gateway", …). Call once at start-up.
void SetLogService(absl::string_view service);

void Log(absl::string_view level, absl::string_view message, const LogFields& fields = {});
inline void LogInfo(absl::string_view message, const LogFields& fields = {}) {
  Log("info", message, fields);
}
inline void LogWarning(absl::string_view message, const LogFields& fields = {}) {
  Log("warning", message, fields);
}
inline void LogError(absl::string_view message, const LogFields& fields = {}) {
  Log("error", message, fields);
}

}  // namespace linli

#endif  // LINLI_COMMON_LOG_H_
