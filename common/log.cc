#include "common/log.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <thread>

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

// Lines are collected in a buffer and written to stderr (fd 2) in one write per batch instead of
// one write per line (those writes were about 3 % of the gateway's CPU in a profile): by a
// flusher thread every kFlushInterval, at once when the buffer reaches kFlushBytes, after a
// warning or an error (so nothing is lost before a deliberate exit), on FlushLog() and at exit.
// Order is kept: lines reach the buffer in the order their writers took the lock, and batches
// are written in order.
class LogSink {
 public:
  static constexpr size_t kFlushBytes = 64 * 1024;
  static constexpr absl::Duration kFlushInterval = absl::Milliseconds(50);

  static LogSink& Get() {
    static LogSink* sink = [] {
      auto* s = new LogSink();  // never destroyed: lines may be written until the process ends
      std::atexit([] { Get().Flush(); });
      // The flusher takes no signals (a process-directed SIGTERM must reach the thread that
      // waits for it, whenever the first line is logged): it starts with all of them blocked.
      sigset_t all, previous;
      sigfillset(&all);
      pthread_sigmask(SIG_SETMASK, &all, &previous);
      std::thread([s] { s->FlushEvery(kFlushInterval); }).detach();
      pthread_sigmask(SIG_SETMASK, &previous, nullptr);
      return s;
    }();
    return *sink;
  }

  void Append(const std::string& line, bool urgent) {
    absl::MutexLock lock(&mu_);
    buffer_ += line;
    if (urgent || buffer_.size() >= kFlushBytes) WriteLocked();
  }

  void Flush() {
    absl::MutexLock lock(&mu_);
    WriteLocked();
  }

 private:
  void FlushEvery(absl::Duration interval) {
    for (;;) {
      absl::SleepFor(interval);
      Flush();
    }
  }

  void WriteLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    std::fflush(stderr);  // anything written through stdio first
    size_t done = 0;
    while (done < buffer_.size()) {
      ssize_t n = ::write(2, buffer_.data() + done, buffer_.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // stderr closed or full: the lines cannot be written anywhere
      done += static_cast<size_t>(n);
    }
    buffer_.clear();
    if (buffer_.capacity() > 4 * kFlushBytes) buffer_.shrink_to_fit();
  }

  absl::Mutex mu_;
  std::string buffer_ ABSL_GUARDED_BY(mu_);
};

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
  LogSink::Get().Append(line, level != "info");
}

void FlushLog() { LogSink::Get().Flush(); }

const std::string& CurrentRequestId() { return current_request_id; }

void SetCurrentRequestId(std::string request_id) { current_request_id = std::move(request_id); }

void SwapCurrentRequestId(std::string& other) { current_request_id.swap(other); }

ScopedRequestId::ScopedRequestId(std::string request_id) : previous_(current_request_id) {
  current_request_id = std::move(request_id);
}

ScopedRequestId::~ScopedRequestId() { current_request_id = std::move(previous_); }

}  // namespace linli
