// Etags (AIP-154): the version of a stored record, so that two people editing one record cannot
// silently overwrite each other. An etag is derived from the record's stored bytes, so it changes
// with every write that changes the record and needs no column of its own.
#ifndef LINLI_COMMON_ETAG_H_
#define LINLI_COMMON_ETAG_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace linli {

// 16 lowercase hex digits of SHA-256 over `stored_bytes` (64 bits: a collision between two
// versions of one record is not a practical concern).
std::string Etag(absl::string_view stored_bytes);

// OK when `given` equals `current`. INVALID_ARGUMENT naming `field` when `given` is empty (an
// update must say which version it was made from); ABORTED with ERROR_REASON_STALE_ETAG when the
// record changed since.
absl::Status CheckEtag(absl::string_view given, absl::string_view current, absl::string_view field);

}  // namespace linli

#endif  // LINLI_COMMON_ETAG_H_
