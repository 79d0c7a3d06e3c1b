// Companion of libfaketime for `make test-future` (scripts/test.sh preloads it after libfaketime).
//
// libfaketime moves what clock_gettime() and friends return, but not what the kernel measures.
// Abseil's Mutex/CondVar (and so gRPC's timers and every absl::Notification wait) sleep with
// syscall(SYS_futex, FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME, ..., deadline), where the absolute
// deadline was computed from the faked time. The kernel compares it with the real clock, so a
// one-second wait 400 days "ahead" lasts 400 days and every gRPC client stalls. libfaketime does
// not intercept syscall(); this library does, for that one case only, and moves the deadline
// back onto the real clock by the current offset. Every other call passes through untouched.
#include <dlfcn.h>
#include <linux/futex.h>
#include <sys/syscall.h>

#include <atomic>
#include <cstdarg>
#include <ctime>

namespace {

using SyscallFn = long (*)(long, ...);

// The next syscall(), resolved without a function-local static: the guard of one makes a second
// thread wait with syscall(SYS_futex), which lands back here and waits again, until its stack
// overflows (a SIGSEGV in this library when two gRPC threads made their first call at once).
// Two threads resolving it at once store the same pointer.
std::atomic<SyscallFn> real_syscall{nullptr};

SyscallFn RealSyscall() {
  SyscallFn real = real_syscall.load(std::memory_order_acquire);
  if (real == nullptr) {
    real = reinterpret_cast<SyscallFn>(dlsym(RTLD_NEXT, "syscall"));
    real_syscall.store(real, std::memory_order_release);
  }
  return real;
}

// Resolved while the library loads, before the program starts any thread.
__attribute__((constructor)) void ResolveRealSyscall() { RealSyscall(); }

}  // namespace

// <unistd.h> is not included: its declaration of syscall() would clash with this definition.
extern "C" long syscall(long number, ...) {
  va_list ap;
  va_start(ap, number);
  const long a1 = va_arg(ap, long), a2 = va_arg(ap, long), a3 = va_arg(ap, long);
  const long a4 = va_arg(ap, long), a5 = va_arg(ap, long), a6 = va_arg(ap, long);
  va_end(ap);
  const SyscallFn real = RealSyscall();
  const int op = static_cast<int>(a2);
  const auto* deadline = reinterpret_cast<const timespec*>(a4);
  // Reading the faked time below may itself wait on a futex (libfaketime's own locks): such a
  // nested call passes through untouched instead of recursing until the thread's stack runs out
  // (seen as a SIGSEGV in this library on a gRPC timer thread).
  static thread_local bool inside = false;
  if (number == SYS_futex && !inside && (op & FUTEX_CLOCK_REALTIME) != 0 && deadline != nullptr &&
      (op & FUTEX_CMD_MASK) == FUTEX_WAIT_BITSET) {
    inside = true;
    timespec faked{}, actual{};
    clock_gettime(CLOCK_REALTIME, &faked);                                // through libfaketime
    real(SYS_clock_gettime, static_cast<long>(CLOCK_REALTIME), &actual);  // the kernel's clock
    constexpr long long kNano = 1'000'000'000LL;
    long long nanos = deadline->tv_sec * kNano + deadline->tv_nsec -
                      (faked.tv_sec - actual.tv_sec) * kNano - (faked.tv_nsec - actual.tv_nsec);
    if (nanos < 0) nanos = 0;
    inside = false;
    timespec moved{static_cast<time_t>(nanos / kNano), static_cast<long>(nanos % kNano)};
    return real(number, a1, a2, a3, reinterpret_cast<long>(&moved), a5, a6);
  }
  return real(number, a1, a2, a3, a4, a5, a6);
}
