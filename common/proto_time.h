// absl::Time <-> google.protobuf.Timestamp at microsecond precision, the precision every Linli
// store keeps. Header-only, no gRPC: domain code uses it.
#ifndef LINLI_COMMON_PROTO_TIME_H_
#define LINLI_COMMON_PROTO_TIME_H_

#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/protobuf/util/time_util.h"

namespace linli {

inline google::protobuf::Timestamp ToTimestamp(absl::Time t) {
  return google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(t));
}

inline absl::Time FromTimestamp(const google::protobuf::Timestamp& t) {
  return absl::FromUnixMicros(google::protobuf::util::TimeUtil::TimestampToMicroseconds(t));
}

}  // namespace linli

#endif  // LINLI_COMMON_PROTO_TIME_H_
