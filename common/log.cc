#include "common/log.h"

#include <cstdio>
#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/text.h"

namespace linli {
namespace {

absl::Mutex log_mu;
thread_local std::string current_request_id;
std::string& ServiceName() {
  static std::string* name = new std::string("linli");
  return *name;
}

void AppendField(std::string* line, absl::string_view key, absl::string_view value) {
  line->push_back(',');
  AppendJsonString(line, key);
  line->push_back(':');
  AppendJsonString(line, value);
}

}  // namespace

void SetLogService(absl::string_view service) {
  absl::MutexLock lock(&log_mu);
  ServiceName() = std::string(service);
}

void Log(absl::string_view level, absl::string_view message, const LogFields& fields) {
  // Built without a JSON library: one line per RPC is on the hot path of every call.
  std::string line = "{\"ts\":";
  AppendJsonString(
      &line, absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", Clock::Real().Now(), absl::UTCTimeZone()));
  AppendField(&line, "level", level);
  {
    absl::MutexLock lock(&log_mu);
    AppendField(&line, "service", ServiceName());
  }
  AppendField(&line, "msg", message);
  bool has_request_id = false;
  for (const auto& [key, value] : fields) {
    AppendField(&line, key, value);
    has_request_id = has_request_id || key == "request_id";
  }
  if (!has_request_id && !current_request_id.empty()) {
    AppendField(&line, "request_id", current_request_id);
  }
  line += "}\n";
  // One write per line: stderr is unbuffered, so lines from several threads never interleave.
  std::fwrite(line.data(), 1, line.size(), stderr);
}

const std::string& CurrentRequestId() { return current_request_id; }

void SetCurrentRequestId(std::string request_id) { current_request_id = std::move(request_id); }

void SwapCurrentRequestId(std::string& other) { current_request_id.swap(other); }

ScopedRequestId::ScopedRequestId(std::string request_id) : previous_(current_request_id) {
  current_request_id = std::move(request_id);
}

ScopedRequestId::~ScopedRequestId() { current_request_id = std::move(previous_); }

}  // namespace linli
