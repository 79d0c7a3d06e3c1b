#include "common/auth/webhook_signature.h"

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "openssl/crypto.h"
#include "openssl/evp.h"
#include "openssl/hmac.h"

namespace linli::auth {

std::string SignWebhook(absl::string_view secret, int64_t timestamp, absl::string_view body) {
  const std::string message = absl::StrCat(timestamp, ".", body);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  // One-shot HMAC() keeps no shared state; it fails only when OpenSSL cannot allocate, and then
  // the empty MAC below verifies against nothing.
  if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac,
           &length) == nullptr) {
    length = 0;
  }
  return absl::StrCat(
      "v1=", absl::BytesToHexString(absl::string_view(reinterpret_cast<char*>(mac), length)));
}

absl::Status VerifyWebhook(absl::string_view secret, absl::string_view timestamp,
                           absl::string_view signature, absl::string_view body, absl::Time now,
                           absl::Duration tolerance) {
  int64_t seconds = 0;
  if (!absl::SimpleAtoi(timestamp, &seconds)) {
    return absl::UnauthenticatedError(
        absl::StrCat(kWebhookTimestampHeader, " is missing or not unix seconds"));
  }
  if (absl::AbsDuration(now - absl::FromUnixSeconds(seconds)) > tolerance) {
    return absl::UnauthenticatedError(absl::StrCat(kWebhookTimestampHeader, " is more than ",
                                                   absl::FormatDuration(tolerance), " away"));
  }
  const std::string expected = SignWebhook(secret, seconds, body);
  if (signature.size() != expected.size() ||
      CRYPTO_memcmp(signature.data(), expected.data(), expected.size()) != 0) {
    return absl::UnauthenticatedError(
        absl::StrCat(kWebhookSignatureHeader, " does not match the body"));
  }
  return absl::OkStatus();
}

}  // namespace linli::auth
