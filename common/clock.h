// The one place Linli reads the time.
//
// "The time" (what day it is, when a visit was checked in, whether a stored reply has expired) is
// read from a Clock that is injected into every service, so that tests fix and move it:
//
//   FakeClock clock(absl::FromUnixSeconds(1'800'000'000));
//   clock.Advance(absl::Hours(24));
//   service.DoSomething(clock);   // sees the advanced time
//
// Clock::Real() is taken once by each program's main (and by the operational records that are
// about the wall clock by definition: log timestamps, request ids, the process start metric,
// migration records); nothing takes it as a default argument. Elapsed time (latencies, progress,
// time limits) is measured with a Stopwatch on the monotonic clock, and gRPC deadlines, which gRPC
// compares with its own clock, come from DeadlineAfter. tests/check_clock_reads.py keeps every
// other direct read of the system clock out of common/, services/ and tools/.
#ifndef LINLI_COMMON_CLOCK_H_
#define LINLI_COMMON_CLOCK_H_

#include <chrono>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace linli {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
  // The process-wide wall clock: for mains to inject, never a default argument.
  static const Clock& Real();
};

// The deadline `timeout` from now, for grpc::ClientContext::set_deadline, completion queues and
// server shutdown. gRPC measures deadlines against its own real-time clock, so a deadline is
// never derived from an injected (possibly fake) Clock.
std::chrono::system_clock::time_point DeadlineAfter(absl::Duration timeout);

// Elapsed time on the monotonic clock, unaffected by changes of the wall clock.
class Stopwatch {
 public:
  Stopwatch() : start_(std::chrono::steady_clock::now()) {}
  absl::Duration Elapsed() const {
    return absl::FromChrono(std::chrono::steady_clock::now() - start_);
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

class FakeClock : public Clock {
 public:
  explicit FakeClock(absl::Time start) : now_(start) {}
  absl::Time Now() const override {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  void Advance(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    now_ += d;
  }
  void Set(absl::Time t) {
    absl::MutexLock lock(&mu_);
    now_ = t;
  }

 private:
  mutable absl::Mutex mu_;
  absl::Time now_;
};

}  // namespace linli

#endif  // LINLI_COMMON_CLOCK_H_
