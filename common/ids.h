// Identifiers: 32 lowercase hex digits, time-ordered like UUIDv7 (48 bits of Unix milliseconds,
// then 80 random bits), so ids sort roughly by creation and index well in B-trees.
//
//   std::string id = NewId(Clock::Real());   // "018f3c2a9b7e4f1c8d2a6b0e9f1a2b3c"
#ifndef LINLI_COMMON_IDS_H_
#define LINLI_COMMON_IDS_H_

#include <string>

#include "common/clock.h"

namespace linli {

std::string NewId(const Clock& clock);

}  // namespace linli

#endif  // LINLI_COMMON_IDS_H_
