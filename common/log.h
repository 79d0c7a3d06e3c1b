// JSON log lines on stderr, one object per line, for log shippers:
//   {"ts":"2026-11-27T03:30:00.123Z","level":"info","service":"registry","msg":"listening",
//    "address":"127.0.0.1:50051"}
//
//   LogInfo("listening", {{"address", address}});
//   LogError("migration failed", {{"error", status.ToString()}});
//
// Lines are buffered and written in batches (see FlushLog).
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

// Every line gets a "request_id" field when the calling thread is serving a call (the server
// interceptor sets it; see ScopedRequestId), unless `fields` already has one.
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

// Writes the lines logged so far. Lines are written in batches: within 50 ms, at once after a
// warning or an error, and at exit; call this before reading stderr or before a process ends
// without exit() (std::_Exit, a fatal signal).
void FlushLog();

// The request id of the call the current thread is serving ("" when none).
const std::string& CurrentRequestId();

// Sets the current thread's request id for its lifetime (restoring the previous one after), so
// that every log line written while serving a call carries it. The gRPC server runtime does this
// for each call; background jobs can use it to give a run its own id.
class ScopedRequestId {
 public:
  explicit ScopedRequestId(std::string request_id);
  ~ScopedRequestId();
  ScopedRequestId(const ScopedRequestId&) = delete;
  ScopedRequestId& operator=(const ScopedRequestId&) = delete;

 private:
  std::string previous_;
};

// Low-level form of ScopedRequestId for code whose set and reset happen in different scopes.
void SetCurrentRequestId(std::string request_id);
// Exchanges the current thread's request id with `other` (no copy): for code that runs several
// calls in turn on one thread (the gateway's fibers).
void SwapCurrentRequestId(std::string& other);

}  // namespace linli

#endif  // LINLI_COMMON_LOG_H_
