#include "common/ids.h"

#include <cstdint>

#include "absl/random/random.h"
#include "absl/strings/str_format.h"

namespace linli {

std::string NewId(const Clock& clock) {
  thread_local absl::BitGen gen;
  uint64_t millis = static_cast<uint64_t>(absl::ToUnixMillis(clock.Now())) & 0xFFFFFFFFFFFFull;
  uint16_t random_high = absl::Uniform<uint16_t>(gen);
  uint64_t random_low = absl::Uniform<uint64_t>(gen);
  return absl::StrFormat("%012x%04x%016x", millis, random_high, random_low);
}

}  // namespace linli
