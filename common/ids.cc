#include "common/ids.h"

#include <cstdint>

#include "absl/random/random.h"

namespace linli {

std::string NewId(const Clock& clock) {
  thread_local absl::BitGen gen;
  const uint64_t millis =
      static_cast<uint64_t>(absl::ToUnixMillis(clock.Now())) & 0xFFFFFFFFFFFFull;
  const uint16_t random_high = absl::Uniform<uint16_t>(gen);
  const uint64_t random_low = absl::Uniform<uint64_t>(gen);
  // 12 hex digits of milliseconds, 4 and 16 of random bits (one id per call served: no
  // formatting library on this path).
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(32, '0');
  auto put = [&](size_t end, uint64_t value, int digits) {
    for (int i = 0; i < digits; ++i, value >>= 4) id[end - 1 - i] = kHex[value & 0xF];
  };
  put(12, millis, 12);
  put(16, random_high, 4);
  put(32, random_low, 16);
  return id;
}

}  // namespace linli
