#include "common/etag.h"

#include <openssl/rand.h>
#include <openssl/sha.h>

#include <cstdlib>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/errors.h"

namespace linli {

std::string NewEtag() {
  unsigned char bytes[8];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    // OpenSSL's generator does not fail once seeded from the operating system; should it, a
    // version must still differ from the last one, which a fresh SHA-256 of the failure does not
    // promise, so stop rather than hand out a repeated etag.
    std::abort();
  }
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(bytes), 8));
}

std::string LegacyEtag(absl::string_view name) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  const std::string seed = absl::StrCat("linli/etag/v0:", name);
  SHA256(reinterpret_cast<const unsigned char*>(seed.data()), seed.size(), digest);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(digest), 8));
}

absl::Status CheckEtag(absl::string_view given, absl::string_view current,
                       absl::string_view field) {
  if (given.empty()) {
    return InvalidField(std::string(field),
                        "required: the etag of your last read of the record, so that a change "
                        "saved meanwhile is not overwritten");
  }
  if (given == current) return absl::OkStatus();
  return WithReason(absl::AbortedError(absl::StrCat(
                        field,
                        ": the record changed since you read it (someone else saved a change); "
                        "read it again and reapply yours")),
                    common::v1::ERROR_REASON_STALE_ETAG);
}

}  // namespace linli
