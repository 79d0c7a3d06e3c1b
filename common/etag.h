// Etags (AIP-154): the version of a stored record, so that two people editing one record cannot
// silently overwrite each other. Each write stores a new random etag in the record, so an etag
// says nothing about the record's content (a hash of it could be reversed for a field shown
// rounded, such as a worker's base location).
#ifndef LINLI_COMMON_ETAG_H_
#define LINLI_COMMON_ETAG_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace linli {

// A new etag: 16 lowercase hex digits (64 bits) from OpenSSL's random generator.
std::string NewEtag();

// The etag of a record stored before records had one: derived from its resource name alone, and
// stable until the record's first write stores a NewEtag().
std::string LegacyEtag(absl::string_view name);

// OK when `given` equals `current`. INVALID_ARGUMENT naming `field` when `given` is empty (an
// update must say which version it was made from); ABORTED with ERROR_REASON_STALE_ETAG when the
// record changed since.
absl::Status CheckEtag(absl::string_view given, absl::string_view current, absl::string_view field);

}  // namespace linli

#endif  // LINLI_COMMON_ETAG_H_
