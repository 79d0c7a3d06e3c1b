// An injectable clock, so that time-dependent logic is tested with a fixed, movable time.
//
//   FakeClock clock(absl::FromUnixSeconds(1'800'000'000));
//   clock.Advance(absl::Hours(24));
//   service.DoSomething(clock);   // sees the advanced time
#ifndef LINLI_COMMON_CLOCK_H_
#define LINLI_COMMON_CLOCK_H_

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace linli {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
  // The process-wide wall clock.
  static const Clock& Real();
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
