#include "common/pii/field_cipher.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace linli::pii {
namespace {

constexpr absl::string_view kTokenVersion = "v1";
constexpr absl::string_view kIndexEntryId = "index";
constexpr absl::string_view kBlindIndexInfo = "linli/pii/blind-index/v1";
constexpr size_t kMaxKeyIdChars = 32;
// A keyring secret is a few lines; refuse to slurp something that clearly is not one.
constexpr size_t kMaxSpecFileBytes = 64 * 1024;
// base64url of nonce + kMaxPlaintextBytes + tag, plus header; anything longer is not ours.
constexpr size_t kMaxTokenChars =
    64 +
    ((FieldCipher::kNonceBytes + FieldCipher::kMaxPlaintextBytes + FieldCipher::kTagBytes) * 4 / 3 +
     4);

struct CipherCtxDeleter {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter>;

struct PkeyCtxDeleter {
  void operator()(EVP_PKEY_CTX* ctx) const { EVP_PKEY_CTX_free(ctx); }
};
using PkeyCtx = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter>;

// Wipes a std::string's bytes (decoded key material, file contents) before it is freed.
class StringWiper {
 public:
  explicit StringWiper(std::string* s) : s_(s) {}
  ~StringWiper() {
    if (!s_->empty()) OPENSSL_cleanse(s_->data(), s_->size());
  }
  StringWiper(const StringWiper&) = delete;
  StringWiper& operator=(const StringWiper&) = delete;

 private:
  std::string* s_;
};

const unsigned char* Bytes(absl::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

bool IsValidKeyId(absl::string_view id) {
  if (id.empty() || id.size() > kMaxKeyIdChars) return false;
  for (char c : id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
  }
  return true;
}

absl::Status OpenSslError(absl::string_view what) {
  return absl::InternalError(absl::StrCat("OpenSSL ", what, " failed"));
}

// HKDF-SHA256 (RFC 5869) of a 32-byte key with no salt and the given info, 32 bytes out.
bool DeriveKey(const uint8_t* ikm, absl::string_view info, uint8_t* out) {
  PkeyCtx ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nullptr));
  if (ctx == nullptr) return false;
  size_t out_len = FieldCipher::kKeyBytes;
  return EVP_PKEY_derive_init(ctx.get()) == 1 &&
         EVP_PKEY_CTX_set_hkdf_md(ctx.get(), EVP_sha256()) == 1 &&
         EVP_PKEY_CTX_set1_hkdf_key(ctx.get(), ikm, static_cast<int>(FieldCipher::kKeyBytes)) ==
             1 &&
         EVP_PKEY_CTX_add1_hkdf_info(ctx.get(), Bytes(info), static_cast<int>(info.size())) == 1 &&
         EVP_PKEY_derive(ctx.get(), out, &out_len) == 1 && out_len == FieldCipher::kKeyBytes;
}

// Splits "v1.<keyid>.<body>" without judging the body. Returns false if the shape is wrong.
bool SplitToken(absl::string_view token, absl::string_view* key_id, absl::string_view* body) {
  if (!absl::ConsumePrefix(&token, kTokenVersion) || !absl::ConsumePrefix(&token, ".")) {
    return false;
  }
  size_t dot = token.find('.');
  if (dot == absl::string_view::npos) return false;
  *key_id = token.substr(0, dot);
  *body = token.substr(dot + 1);
  return IsValidKeyId(*key_id);
}

}  // namespace

FieldCipher::SecretKey::~SecretKey() { OPENSSL_cleanse(bytes.data(), bytes.size()); }

absl::StatusOr<FieldCipher> FieldCipher::FromSpec(absl::string_view spec) {
  FieldCipher cipher;
  bool have_index_key = false;
  SecretKey index_source;
  int position = 0;
  for (absl::string_view raw : absl::StrSplit(spec, absl::ByAnyChar(",\n"))) {
    absl::string_view entry = absl::StripAsciiWhitespace(raw);
    if (entry.empty() || absl::StartsWith(entry, "#")) continue;
    ++position;
    // Errors say "entry N" and, once known, the key id; never the key text, which may be the
    // whole entry when the ':' is missing.
    size_t colon = entry.find(':');
    if (colon == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          "keyring entry ", position, " is not of the form KEYID:BASE64KEY (missing ':')"));
    }
    absl::string_view id = absl::StripAsciiWhitespace(entry.substr(0, colon));
    absl::string_view encoded = absl::StripAsciiWhitespace(entry.substr(colon + 1));
    if (!IsValidKeyId(id)) {
      return absl::InvalidArgumentError(
          absl::StrCat("keyring entry ", position, " has an invalid key id: use 1-", kMaxKeyIdChars,
                       " characters from [A-Za-z0-9_-]"));
    }
    const bool is_index = id == kIndexEntryId;
    if ((is_index && have_index_key) || (!is_index && cipher.FindKey(id) != nullptr)) {
      return absl::InvalidArgumentError(
          absl::StrCat("keyring entry ", position, " repeats key id \"", id, "\""));
    }
    std::string decoded;
    StringWiper wipe_decoded(&decoded);
    // Canonical standard base64 only: re-encoding must give the text back, which rejects
    // base64url, missing padding and stray bits that a lenient decoder would ignore.
    bool canonical = absl::Base64Unescape(encoded, &decoded);
    if (canonical) {
      std::string reencoded = absl::Base64Escape(decoded);
      StringWiper wipe_reencoded(&reencoded);
      canonical = reencoded == encoded;
    }
    if (!canonical) {
      return absl::InvalidArgumentError(absl::StrCat("keyring entry ", position, " (key id \"", id,
                                                     "\") is not valid standard base64"));
    }
    if (decoded.size() != kKeyBytes) {
      return absl::InvalidArgumentError(absl::StrCat("keyring entry ", position, " (key id \"", id,
                                                     "\") decodes to ", decoded.size(),
                                                     " bytes; AES-256 needs exactly ", kKeyBytes));
    }
    SecretKey secret;
    std::memcpy(secret.bytes.data(), decoded.data(), kKeyBytes);
    if (is_index) {
      index_source = secret;
      have_index_key = true;
    } else {
      cipher.keys_.push_back(Key{std::string(id), secret});
    }
  }
  if (cipher.keys_.empty()) {
    return absl::InvalidArgumentError(
        "keyring has no encryption key: expected entries KEYID:BASE64KEY, the first is active");
  }
  const SecretKey& source = have_index_key ? index_source : cipher.keys_.front().secret;
  if (!DeriveKey(source.bytes.data(), kBlindIndexInfo, cipher.index_key_.bytes.data())) {
    return OpenSslError("HKDF");
  }
  cipher.index_key_id_ = have_index_key ? std::string(kIndexEntryId) : cipher.keys_.front().id;
  return cipher;
}

absl::StatusOr<FieldCipher> FieldCipher::FromFile(const std::string& path) {
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    std::string message = absl::StrCat("cannot open keyring file ", path, ": ",
                                       err != 0 ? std::strerror(err) : "unknown error");
    return err == ENOENT ? absl::NotFoundError(message) : absl::FailedPreconditionError(message);
  }
  std::string contents(kMaxSpecFileBytes + 1, '\0');
  StringWiper wipe_contents(&contents);
  in.read(contents.data(), static_cast<std::streamsize>(contents.size()));
  if (in.bad()) {
    return absl::FailedPreconditionError(absl::StrCat("cannot read keyring file ", path));
  }
  const size_t size = static_cast<size_t>(in.gcount());
  if (size > kMaxSpecFileBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("keyring file ", path, " is larger than ", kMaxSpecFileBytes, " bytes"));
  }
  absl::StatusOr<FieldCipher> cipher = FromSpec(absl::string_view(contents.data(), size));
  if (!cipher.ok()) {
    return absl::Status(cipher.status().code(),
                        absl::StrCat("keyring file ", path, ": ", cipher.status().message()));
  }
  return cipher;
}

std::string FieldCipher::GenerateKeySpec(absl::string_view key_id) {
  if (!IsValidKeyId(key_id)) {
    std::fprintf(stderr, "FieldCipher::GenerateKeySpec: invalid key id\n");
    std::abort();
  }
  SecretKey key;
  if (RAND_bytes(key.bytes.data(), static_cast<int>(key.bytes.size())) != 1) {
    std::fprintf(stderr, "FieldCipher::GenerateKeySpec: RAND_bytes failed\n");
    std::abort();
  }
  return absl::StrCat(key_id, ":",
                      absl::Base64Escape(absl::string_view(
                          reinterpret_cast<const char*>(key.bytes.data()), key.bytes.size())));
}

const FieldCipher::Key* FieldCipher::FindKey(absl::string_view id) const {
  for (const Key& key : keys_) {
    if (key.id == id) return &key;
  }
  return nullptr;
}

absl::StatusOr<std::string> FieldCipher::Encrypt(absl::string_view plaintext,
                                                 absl::string_view associated_data) const {
  if (plaintext.size() > kMaxPlaintextBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("plaintext is larger than ", kMaxPlaintextBytes, " bytes"));
  }
  if (associated_data.size() > INT_MAX) {
    return absl::InvalidArgumentError("associated data is too large");
  }
  const Key& key = keys_.front();
  const std::string header = absl::StrCat(kTokenVersion, ".", key.id, ".");

  // body = nonce || ciphertext || tag; GCM ciphertext is as long as the plaintext.
  std::string body(kNonceBytes + plaintext.size() + kTagBytes, '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(body.data());
  unsigned char* out = nonce + kNonceBytes;
  unsigned char* tag = out + plaintext.size();
  if (RAND_bytes(nonce, static_cast<int>(kNonceBytes)) != 1) return OpenSslError("RAND_bytes");

  CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (ctx == nullptr) return OpenSslError("EVP_CIPHER_CTX_new");
  if (EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(kNonceBytes),
                          nullptr) != 1 ||
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, key.secret.bytes.data(), nonce) != 1) {
    return OpenSslError("AES-256-GCM encrypt init");
  }
  int len = 0;
  if (EVP_EncryptUpdate(ctx.get(), nullptr, &len, Bytes(header), static_cast<int>(header.size())) !=
      1) {
    return OpenSslError("AES-256-GCM AAD");
  }
  if (!associated_data.empty() &&
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, Bytes(associated_data),
                        static_cast<int>(associated_data.size())) != 1) {
    return OpenSslError("AES-256-GCM AAD");
  }
  int written = 0;
  if (!plaintext.empty()) {
    if (EVP_EncryptUpdate(ctx.get(), out, &len, Bytes(plaintext),
                          static_cast<int>(plaintext.size())) != 1) {
      return OpenSslError("AES-256-GCM encrypt");
    }
    written = len;
  }
  if (EVP_EncryptFinal_ex(ctx.get(), out + written, &len) != 1) {
    return OpenSslError("AES-256-GCM encrypt final");
  }
  written += len;
  if (static_cast<size_t>(written) != plaintext.size()) {
    return absl::InternalError("AES-256-GCM produced an unexpected ciphertext length");
  }
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagBytes), tag) != 1) {
    return OpenSslError("AES-256-GCM get tag");
  }
  return absl::StrCat(header, absl::WebSafeBase64Escape(body));
}

absl::StatusOr<std::string> FieldCipher::Decrypt(absl::string_view token,
                                                 absl::string_view associated_data) const {
  absl::string_view key_id;
  absl::string_view encoded;
  if (token.size() > kMaxTokenChars || !SplitToken(token, &key_id, &encoded)) {
    return absl::InvalidArgumentError("not a v1 field token (expected \"v1.<keyid>.<data>\")");
  }
  if (associated_data.size() > INT_MAX) {
    return absl::InvalidArgumentError("associated data is too large");
  }
  std::string body;
  // Canonical base64url only, so every distinct token text is a distinct byte string: a token
  // edited in its padding bits is rejected rather than decrypting as if untouched.
  if (!absl::WebSafeBase64Unescape(encoded, &body) || absl::WebSafeBase64Escape(body) != encoded) {
    return absl::InvalidArgumentError("field token data is not valid base64url");
  }
  if (body.size() < kNonceBytes + kTagBytes) {
    return absl::InvalidArgumentError("field token data is too short");
  }
  const Key* key = FindKey(key_id);
  if (key == nullptr) {
    // The id passed IsValidKeyId, so echoing it is safe and tells operators which key is missing.
    return absl::FailedPreconditionError(absl::StrCat("field token was encrypted with key id \"",
                                                      key_id, "\", which is not in the keyring"));
  }
  const absl::string_view header = token.substr(0, token.size() - encoded.size());
  const auto* nonce = reinterpret_cast<const unsigned char*>(body.data());
  const unsigned char* in = nonce + kNonceBytes;
  const size_t in_len = body.size() - kNonceBytes - kTagBytes;
  // EVP_CTRL_GCM_SET_TAG takes a non-const pointer; copy rather than cast constness away.
  std::array<unsigned char, kTagBytes> tag;
  std::memcpy(tag.data(), in + in_len, kTagBytes);

  CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (ctx == nullptr) return OpenSslError("EVP_CIPHER_CTX_new");
  if (EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(kNonceBytes),
                          nullptr) != 1 ||
      EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, key->secret.bytes.data(), nonce) != 1) {
    return OpenSslError("AES-256-GCM decrypt init");
  }
  int len = 0;
  if (EVP_DecryptUpdate(ctx.get(), nullptr, &len, Bytes(header), static_cast<int>(header.size())) !=
      1) {
    return OpenSslError("AES-256-GCM AAD");
  }
  if (!associated_data.empty() &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, Bytes(associated_data),
                        static_cast<int>(associated_data.size())) != 1) {
    return OpenSslError("AES-256-GCM AAD");
  }
  std::string plaintext(in_len, '\0');
  auto* out = reinterpret_cast<unsigned char*>(plaintext.data());
  int written = 0;
  if (in_len > 0) {
    if (EVP_DecryptUpdate(ctx.get(), out, &len, in, static_cast<int>(in_len)) != 1) {
      return OpenSslError("AES-256-GCM decrypt");
    }
    written = len;
  }
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagBytes),
                          tag.data()) != 1) {
    return OpenSslError("AES-256-GCM set tag");
  }
  // The tag is checked here; until it passes, `plaintext` holds unauthenticated bytes that must
  // not escape, so wipe them on failure.
  if (EVP_DecryptFinal_ex(ctx.get(), out + written, &len) != 1) {
    OPENSSL_cleanse(plaintext.data(), plaintext.size());
    return absl::DataLossError("ciphertext failed authentication");
  }
  written += len;
  if (static_cast<size_t>(written) != in_len) {
    OPENSSL_cleanse(plaintext.data(), plaintext.size());
    return absl::InternalError("AES-256-GCM produced an unexpected plaintext length");
  }
  return plaintext;
}

bool FieldCipher::NeedsReencryption(absl::string_view token) const {
  absl::string_view key_id;
  absl::string_view body;
  return !SplitToken(token, &key_id, &body) || key_id != active_key_id();
}

std::string FieldCipher::BlindIndex(absl::string_view normalized_value) const {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  // One-shot HMAC() keeps no shared state. It only fails on allocation failure inside OpenSSL;
  // an index must never silently become a constant, so treat that as fatal.
  if (HMAC(EVP_sha256(), index_key_.bytes.data(), static_cast<int>(index_key_.bytes.size()),
           Bytes(normalized_value), normalized_value.size(), mac, &mac_len) == nullptr ||
      mac_len * 2 < kBlindIndexHexChars) {
    std::fprintf(stderr, "FieldCipher::BlindIndex: HMAC-SHA256 failed\n");
    std::abort();
  }
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(mac), kBlindIndexHexChars / 2));
}

}  // namespace linli::pii
