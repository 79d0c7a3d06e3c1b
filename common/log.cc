#include "common/log.h"
#include "absl/strings/string_view.h"

#include <cstdio>
#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace linli {
namespace {

absl::Mutex log_mu;
std::string& ServiceName() {
  static std::string* name = new std::string("linli");
  return *name;
}

}  // namespace

void SetLogService(absl::string_view service) {
  absl::MutexLock lock(&log_mu);
  ServiceName() = std::string(service);
}

void Log(absl::string_view level, absl::string_view message, const LogFields& fields) {
  nlohmann::ordered_json line;
  line["ts"] = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone());
  line["level"] = level;
  absl::MutexLock lock(&log_mu);
  line["service"] = ServiceName();
  line["msg"] = message;
  for (const auto& [key, value] : fields) line[key] = value;
  // `replace` keeps a line valid JSON even if a value holds invalid UTF-8.
  std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  text.push_back('\n');
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
}

}  // namespace linli
