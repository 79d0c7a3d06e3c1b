// Field-level encryption for personal data at rest (PIPL): elders' ID numbers, phones and
// addresses are stored as AES-256-GCM tokens, never as plaintext, and found again by an exact
// match on a keyed blind index instead of the value itself.
//
//   ASSIGN_OR_RETURN(FieldCipher cipher, FieldCipher::FromFile("/var/run/secrets/linli/pii"));
//   std::string aad = absl::StrCat("elders/", elder_id, "#phone");
//   ASSIGN_OR_RETURN(std::string token, cipher.Encrypt("13812345678", aad));
//   // token == "v1.k2.Xq3...": store it; store cipher.BlindIndex(normalized_phone) beside it.
//   ASSIGN_OR_RETURN(std::string phone, cipher.Decrypt(token, aad));
//
// Keyring spec (config value or the content of a mounted Kubernetes secret file): entries of the
// form KEYID:BASE64KEY separated by commas and/or newlines. Each key is standard base64 (with
// padding) of exactly 32 random bytes. The FIRST key entry is the active key: it encrypts; every
// listed key decrypts. Rotation is therefore "prepend the new key, keep the old ones until
// NeedsReencryption() is false for every stored token, then drop them":
//
//   k2:3q2+7w...=,
//   k1:AAECAw...=
//   index:nK8v0Q...=      <- optional, see BlindIndex()
//
// Blank entries, surrounding whitespace and lines starting with '#' are ignored. Key ids are
// 1-32 characters from [A-Za-z0-9_-]; "index" is reserved for the blind-index key. Generate a
// new entry with GenerateKeySpec("k3") (or `head -c32 /dev/urandom | base64`).
//
// Token format: "v1.<keyid>.<base64url without padding of (12-byte nonce || ciphertext ||
// 16-byte tag)>", printable ASCII that fits a VARCHAR/TEXT column. The nonce is random
// (RAND_bytes), so encrypting the same value twice gives different tokens; with random 96-bit
// nonces a key must encrypt fewer than 2^32 values, far beyond this workload, and rotation resets
// the count anyway. The GCM authenticated data is the token header "v1.<keyid>." followed by the
// caller's associated_data, so a token only decrypts under the record/field it was written for
// (copying elders/1's phone into elders/2's row fails authentication) and its header cannot be
// edited.
//
// Thread safety: a FieldCipher is immutable after construction; all methods are const and may
// be called concurrently. Key bytes are wiped (OPENSSL_cleanse) when a FieldCipher is destroyed
// and never appear in error messages.
#ifndef LINLI_COMMON_PII_FIELD_CIPHER_H_
#define LINLI_COMMON_PII_FIELD_CIPHER_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace linli::pii {

class FieldCipher {
 public:
  static constexpr size_t kKeyBytes = 32;                // AES-256
  static constexpr size_t kNonceBytes = 12;              // GCM's standard IV length
  static constexpr size_t kTagBytes = 16;                // full-length GCM tag
  static constexpr size_t kMaxPlaintextBytes = 1 << 20;  // PII fields are small; bounds work
  static constexpr size_t kBlindIndexHexChars = 32;      // 128 bits of HMAC-SHA256

  // Parses a keyring spec (format above). INVALID_ARGUMENT names the offending entry by position
  // and key id but never shows key material: empty keyring, entry without ':', bad key id,
  // duplicate key id, key that is not canonical base64 of exactly 32 bytes.
  static absl::StatusOr<FieldCipher> FromSpec(absl::string_view spec);

  // Reads a keyring spec from a file (e.g. a mounted Kubernetes secret; trailing newlines are
  // fine). NOT_FOUND if the file does not exist, FAILED_PRECONDITION if it cannot be read,
  // otherwise as FromSpec.
  static absl::StatusOr<FieldCipher> FromFile(const std::string& path);

  // A new keyring entry "KEYID:BASE64KEY" with 32 fresh random bytes, for operators and tests.
  // `key_id` must be a valid key id (see above) and not "index" unless an index key is wanted;
  // aborts on an invalid id or a failing RNG (never hands out a weak key).
  static std::string GenerateKeySpec(absl::string_view key_id);

  FieldCipher(const FieldCipher&) = default;
  FieldCipher& operator=(const FieldCipher&) = default;
  FieldCipher(FieldCipher&&) = default;
  FieldCipher& operator=(FieldCipher&&) = default;
  ~FieldCipher() = default;

  // Encrypts under the active key. `associated_data` is not stored in the token; pass the same
  // value to Decrypt. Use a stable name of the record and field, e.g. "elders/123#id_number".
  // INVALID_ARGUMENT if plaintext exceeds kMaxPlaintextBytes; INTERNAL if OpenSSL fails.
  absl::StatusOr<std::string> Encrypt(absl::string_view plaintext,
                                      absl::string_view associated_data) const;

  // Decrypts a token made by Encrypt with any key of the keyring.
  //   INVALID_ARGUMENT     token is not a well-formed v1 token (wrong prefix, bad base64, short);
  //   FAILED_PRECONDITION  token's key id is not in the keyring (message names the id: an old key
  //                        was dropped before re-encryption finished, or the wrong secret is
  //                        mounted);
  //   DATA_LOSS            "ciphertext failed authentication": tampered token, wrong
  //                        associated_data, or a different key under the same id.
  // Never returns a plaintext that was not produced by Encrypt with this associated_data.
  absl::StatusOr<std::string> Decrypt(absl::string_view token,
                                      absl::string_view associated_data) const;

  // True unless `token` is a well-formed v1 token under the active key, i.e. it was written with
  // an older key (re-encrypt it: Decrypt then Encrypt) or it is not a token at all (legacy
  // plaintext to encrypt, or garbage that Decrypt will explain). Does no cryptography.
  bool NeedsReencryption(absl::string_view token) const;

  absl::string_view active_key_id() const { return keys_.front().id; }

  // Deterministic keyed index for exact-match lookups of a NORMALIZED value (NormalizePhone,
  // NormalizeIdNumber): lowercase hex of HMAC-SHA256(index_key, value), truncated to
  // kBlindIndexHexChars. Equal inputs give equal indexes; without the key the index reveals
  // nothing beyond equality. Callers that want per-field separation prefix the value
  // (e.g. "phone:" + value) consistently on write and lookup.
  //
  // index_key = HKDF-SHA256(ikm = source key, salt = none, info = "linli/pii/blind-index/v1"),
  // 32 bytes, so the index key is never the encryption key itself. The source key is:
  //   - the spec's "index:BASE64KEY" entry when present (RECOMMENDED for production): indexes
  //     then survive rotation of the encryption keys unchanged;
  //   - otherwise the active key: rotating the active key changes every blind index, so all
  //     stored indexes must be recomputed (decrypt, normalize, re-index) in the same migration
  //     that re-encrypts, or lookups silently stop matching.
  // blind_index_key_id() says which ("index" or the active key id); store it with the indexes
  // to detect rows that need re-indexing. Aborts only if OpenSSL's HMAC itself fails (allocation
  // failure), because a silently wrong index would corrupt lookups.
  std::string BlindIndex(absl::string_view normalized_value) const;
  absl::string_view blind_index_key_id() const { return index_key_id_; }

 private:
  // 32 key bytes that are wiped when destroyed (copies wipe their own).
  struct SecretKey {
    SecretKey() = default;
    SecretKey(const SecretKey&) = default;
    SecretKey& operator=(const SecretKey&) = default;
    ~SecretKey();
    std::array<uint8_t, kKeyBytes> bytes{};
  };
  struct Key {
    std::string id;
    SecretKey secret;
  };

  FieldCipher() = default;
  const Key* FindKey(absl::string_view id) const;

  std::vector<Key> keys_;  // keys_[0] is active; never empty
  SecretKey index_key_;    // already HKDF-derived
  std::string index_key_id_;
};

}  // namespace linli::pii

#endif  // LINLI_COMMON_PII_FIELD_CIPHER_H_
