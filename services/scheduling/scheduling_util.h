// Small helpers shared by the scheduling adapter's files: resource names, reason codes (and the
// timestamp conversions of common/proto_time.h).
#ifndef LINLI_SERVICES_SCHEDULING_SCHEDULING_UTIL_H_
#define LINLI_SERVICES_SCHEDULING_SCHEDULING_UTIL_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/proto_time.h"  // ToTimestamp, FromTimestamp

namespace linli::scheduling {

// 2-32 characters of A-Z, 0-9 and '_', e.g. "ELDER_IN_HOSPITAL".
bool IsReasonCode(absl::string_view code);

}  // namespace linli::scheduling

#endif  // LINLI_SERVICES_SCHEDULING_SCHEDULING_UTIL_H_
