// Partner API keys: "lk.<key id>.<secret>", sent as "Authorization: Bearer lk.…" or "x-api-key".
//
// Only a keyed hash of the secret is stored (HMAC-SHA256 under a pepper held outside the key
// file), so a leaked key file reveals no usable key. Each key names its organisation, region
// scope and scopes, and optionally the partner it belongs to (default: the key id), so that a
// partner rotating keys keeps one identity — its inbox, the complaints it filed, its rate limit.
// The key file is re-read whenever it changes, so a key is revoked by deleting its line, without
// restarting the gateway:
//
//   # key_id   organisation            region     scopes                      hmac_sha256  partner
//   meal01     organisations/meal-co   310101020  visits.read,offerings.read  9f86d0…      meal-co
//   meal02     organisations/meal-co   310101020  visits.read,offerings.read  4e07a8…      meal-co
//
//   ApiKeyStore store(path, pepper);
//   absl::StatusOr<Principal> partner = store.Authenticate("lk.meal01.3q2-…");
#ifndef LINLI_COMMON_AUTH_API_KEYS_H_
#define LINLI_COMMON_AUTH_API_KEYS_H_

#include <ctime>
#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "common/auth/principal.h"

namespace linli::auth {

struct ApiKeyParts {
  std::string key_id;  // 1-32 of [a-z0-9_-]
  std::string secret;  // the decoded secret, 32 bytes
};

// Whether `id` may be a key id or a partner id: 1-32 of [a-z0-9_-].
bool IsKeyId(absl::string_view id);

// Splits and checks "lk.<key id>.<base64url secret>"; UNAUTHENTICATED naming the problem.
absl::StatusOr<ApiKeyParts> ParseApiKey(absl::string_view key);

// A new key for `key_id` with a random secret: the key to hand to the partner.
std::string NewApiKey(absl::string_view key_id);

// Lower-case hex HMAC-SHA256(pepper, secret): what the key file stores.
std::string HashApiSecret(absl::string_view pepper, absl::string_view secret);

struct ApiKeyEntry {
  std::string key_id;
  std::string organisation;
  std::string region;
  std::vector<std::string> scopes;
  std::string hash;
  // The partner the key belongs to, 1-32 of [a-z0-9_-]; empty: the key id.
  std::string partner;
};

// One line of the key file.
std::string FormatApiKeyEntry(const ApiKeyEntry& entry);

// Parses a whole key file; INVALID_ARGUMENT naming the first bad line.
absl::StatusOr<std::map<std::string, ApiKeyEntry>> ParseApiKeyFile(absl::string_view text);

class ApiKeyStore {
 public:
  ApiKeyStore(std::string path, std::string pepper)
      : path_(std::move(path)), pepper_(std::move(pepper)) {}

  // The partner principal ("partners/<partner>", by default "partners/<key id>") of a valid,
  // unrevoked key; UNAUTHENTICATED
  // otherwise. Re-reads the key file when its modification time or size changed; a file that
  // became unreadable or malformed keeps the last good set (and the error is logged once).
  absl::StatusOr<Principal> Authenticate(absl::string_view key);

 private:
  void ReloadIfChanged();

  const std::string path_;
  const std::string pepper_;
  absl::Mutex mu_;
  std::map<std::string, ApiKeyEntry> entries_ ABSL_GUARDED_BY(mu_);
  struct timespec mtime_ ABSL_GUARDED_BY(mu_) = {0, 0};
  off_t size_ ABSL_GUARDED_BY(mu_) = -1;
  ino_t inode_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace linli::auth

#endif  // LINLI_COMMON_AUTH_API_KEYS_H_
