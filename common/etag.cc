#include "common/etag.h"

#include <openssl/sha.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/errors.h"

namespace linli {

std::string Etag(absl::string_view stored_bytes) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(stored_bytes.data()), stored_bytes.size(), digest);
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
