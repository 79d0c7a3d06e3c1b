#include "common/log.h"

#include <cstdint>
#include <cstdio>
#include <limits>
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

// "2026-11-27T03:30:00.123Z" of `now`: the text up to the seconds is formatted once per second
// per thread (a full format costs about as much as the rest of a line), the milliseconds each time.
std::string Timestamp(absl::Time now) {
  thread_local int64_t cached_second = std::numeric_limits<int64_t>::min();
  thread_local std::string cached_prefix;
  const int64_t millis = absl::ToUnixMillis(now);  // rounds towards the past, as %E3S truncates
  const int64_t second = millis >= 0 ? millis / 1000 : (millis - 999) / 1000;
  if (second != cached_second) {
    cached_prefix =
        absl::FormatTime("%Y-%m-%dT%H:%M:%S", absl::FromUnixSeconds(second), absl::UTCTimeZone());
    cached_second = second;
  }
  const int ms = static_cast<int>(millis - second * 1000);
  std::string text;
  text.reserve(cached_prefix.size() + 5);
  text += cached_prefix;
  text.push_back('.');
  text.push_back(static_cast<char>('0' + ms / 100));
  text.push_back(static_cast<char>('0' + ms / 10 % 10));
  text.push_back(static_cast<char>('0' + ms % 10));
  text.push_back('Z');
  return text;
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
  std::string line;
  line.reserve(256);
  line += "{\"ts\":";
  AppendJsonString(&line, Timestamp(Clock::Real().Now()));
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
