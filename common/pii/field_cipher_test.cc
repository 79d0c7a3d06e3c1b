#include "common/pii/field_cipher.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace linli::pii {
namespace {

// Fixed keys so tests are reproducible; base64 of bytes 0..31 and of 32 bytes 0xA5.
constexpr absl::string_view kKey1 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
constexpr absl::string_view kKey2 = "paWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaU=";

FieldCipher MustCipher(absl::string_view spec) {
  absl::StatusOr<FieldCipher> cipher = FieldCipher::FromSpec(spec);
  EXPECT_TRUE(cipher.ok()) << cipher.status();
  if (!cipher.ok()) std::abort();
  return *std::move(cipher);
}

std::string Encrypted(const FieldCipher& cipher, absl::string_view plaintext,
                      absl::string_view aad) {
  absl::StatusOr<std::string> token = cipher.Encrypt(plaintext, aad);
  EXPECT_TRUE(token.ok()) << token.status();
  return token.ok() ? *token : std::string();
}

// Returns the token with its body (after "v1.<id>.") decoded, edited and re-encoded.
template <typename Edit>
std::string EditBody(absl::string_view token, Edit edit) {
  const size_t dot = token.rfind('.');
  std::string body;
  EXPECT_TRUE(absl::WebSafeBase64Unescape(token.substr(dot + 1), &body));
  edit(body);
  return absl::StrCat(token.substr(0, dot + 1), absl::WebSafeBase64Escape(body));
}

TEST(FieldCipherTest, RoundTripsIncludingChineseTextEmptyAndBinary) {
  FieldCipher cipher = MustCipher(absl::StrCat("k1:", kKey1));
  const std::vector<std::string> values = {
      "13812345678",
      "310101194501011234",
      "上海市徐汇区漕溪北路398号5号楼301室",
      "",
      std::string("a\0b\xff", 4),
      std::string(5000, 'z'),
  };
  for (const std::string& value : values) {
    std::string token = Encrypted(cipher, value, "elders/123#address");
    absl::StatusOr<std::string> back = cipher.Decrypt(token, "elders/123#address");
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, value);
  }
}

TEST(FieldCipherTest, TokenIsPrintableV1FormatOfExpectedLength) {
  FieldCipher cipher = MustCipher(absl::StrCat("k1:", kKey1));
  std::string token = Encrypted(cipher, "13812345678", "elders/1#phone");
  ASSERT_TRUE(absl::StartsWith(token, "v1.k1.")) << token;
  absl::string_view body = absl::string_view(token).substr(6);
  EXPECT_EQ(
      body.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
      absl::string_view::npos)
      << token;
  std::string raw;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(body, &raw));
  EXPECT_EQ(raw.size(), FieldCipher::kNonceBytes + 11 + FieldCipher::kTagBytes);
  EXPECT_FALSE(absl::StrContains(token, "13812345678"));
}

TEST(FieldCipherTest, SamePlaintextEncryptsDifferentlyEachTime) {
  FieldCipher cipher = MustCipher(absl::StrCat("k1:", kKey1));
  std::set<std::string> tokens;
  for (int i = 0; i < 200; ++i) {
    EXPECT_TRUE(tokens.insert(Encrypted(cipher, "13812345678", "elders/1#phone")).second);
  }
}

TEST(FieldCipherTest, WrongAssociatedDataFailsAuthentication) {
  FieldCipher cipher = MustCipher(absl::StrCat("k1:", kKey1));
  std::string token = Encrypted(cipher, "13812345678", "elders/1#phone");
  for (absl::string_view wrong : {"elders/2#phone", "elders/1#id_number", "", "elders/1#phone "}) {
    absl::StatusOr<std::string> result = cipher.Decrypt(token, wrong);
    ASSERT_FALSE(result.ok()) << wrong;
    EXPECT_EQ(result.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_EQ(result.status().message(), "ciphertext failed authentication");
  }
  // Empty AAD is a valid choice too, and must also be matched exactly.
  std::string no_aad = Encrypted(cipher, "x", "");
  EXPECT_TRUE(cipher.Decrypt(no_aad, "").ok());
  EXPECT_EQ(cipher.Decrypt(no_aad, "elders/1#phone").status().code(), absl::StatusCode::kDataLoss);
}

TEST(FieldCipherTest, EveryBitFlipInNonceCiphertextOrTagIsDataLoss) {
  FieldCipher cipher = MustCipher(absl::StrCat("k1:", kKey1));
  std::string token = Encrypted(cipher, "王秀英 13812345678", "elders/1#phone");
  std::string body;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(absl::string_view(token).substr(6), &body));
  for (size_t byte = 0; byte < body.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string tampered = EditBody(
          token, [&](std::string& b) { b[byte] = static_cast<char>(b[byte] ^ (1 << bit)); });
      absl::StatusOr<std::string> result = cipher.Decrypt(tampered, "elders/1#phone");
      ASSERT_FALSE(result.ok()) << "byte " << byte << " bit " << bit;
      EXPECT_EQ(result.status().code(), absl::StatusCode::kDataLoss);
    }
  }
}

TEST(FieldCipherTest, EveryCharacterSubstitutionOfTheTokenIsAnError) {
  FieldCipher cipher = MustCipher(absl::StrCat("k1:", kKey1, ",k2:", kKey2));
  const std::string token = Encrypted(cipher, "310101194501011234", "elders/9#id_number");
  const std::string alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ ";
  for (size_t i = 0; i < token.size(); ++i) {
    for (char c : alphabet) {
      if (c == token[i]) continue;
      std::string tampered = token;
      tampered[i] = c;
      absl::StatusOr<std::string> result = cipher.Decrypt(tampered, "elders/9#id_number");
      ASSERT_FALSE(result.ok()) << "position " << i << " -> '" << c << "' decrypted to " << *result;
    }
  }
  // Truncations and extensions are rejected too.
  for (size_t n = 0; n < token.size(); ++n) {
    EXPECT_FALSE(cipher.Decrypt(token.substr(0, n), "elders/9#id_number").ok()) << n;
  }
  EXPECT_FALSE(cipher.Decrypt(token + "A", "elders/9#id_number").ok());
  EXPECT_FALSE(cipher.Decrypt(token + "AAAA", "elders/9#id_number").ok());
}

TEST(FieldCipherTest, HeaderIsAuthenticatedEvenWhenTwoIdsShareAKey) {
  // Operators sometimes re-list a key under a new id; the header is still bound to the data.
  FieldCipher cipher = MustCipher(absl::StrCat("a:", kKey1, ",b:", kKey1));
  std::string token = Encrypted(cipher, "13812345678", "elders/1#phone");
  ASSERT_TRUE(absl::StartsWith(token, "v1.a."));
  std::string renamed = "v1.b." + token.substr(5);
  EXPECT_EQ(cipher.Decrypt(renamed, "elders/1#phone").status().code(), absl::StatusCode::kDataLoss);
}

TEST(FieldCipherTest, RotationDecryptsOldKeysAndEncryptsWithTheNewOne) {
  FieldCipher old_cipher = MustCipher(absl::StrCat("k1:", kKey1));
  FieldCipher rotated = MustCipher(absl::StrCat("k2:", kKey2, ",k1:", kKey1));
  EXPECT_EQ(old_cipher.active_key_id(), "k1");
  EXPECT_EQ(rotated.active_key_id(), "k2");

  std::string old_token = Encrypted(old_cipher, "021-64181234", "elders/7#phone");
  absl::StatusOr<std::string> back = rotated.Decrypt(old_token, "elders/7#phone");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, "021-64181234");
  EXPECT_TRUE(rotated.NeedsReencryption(old_token));
  EXPECT_FALSE(old_cipher.NeedsReencryption(old_token));

  std::string new_token = Encrypted(rotated, *back, "elders/7#phone");
  EXPECT_TRUE(absl::StartsWith(new_token, "v1.k2.")) << new_token;
  EXPECT_FALSE(rotated.NeedsReencryption(new_token));

  // A service still on the old keyring names the key it lacks.
  absl::Status missing = old_cipher.Decrypt(new_token, "elders/7#phone").status();
  EXPECT_EQ(missing.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(missing.message(), "\"k2\"")) << missing;

  // Same id, different key material: authentication fails rather than returning garbage.
  FieldCipher impostor = MustCipher(absl::StrCat("k1:", kKey2));
  EXPECT_EQ(impostor.Decrypt(old_token, "elders/7#phone").status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(FieldCipherTest, NeedsReencryptionForNonTokens) {
  FieldCipher cipher = MustCipher(absl::StrCat("k1:", kKey1));
  EXPECT_TRUE(cipher.NeedsReencryption("13812345678"));  // legacy plaintext
  EXPECT_TRUE(cipher.NeedsReencryption(""));
  EXPECT_TRUE(cipher.NeedsReencryption("v2.k1.AAAA"));
  EXPECT_TRUE(cipher.NeedsReencryption("v1.k1"));
}

TEST(FieldCipherTest, MalformedTokensAreInvalidArgument) {
  FieldCipher cipher = MustCipher(absl::StrCat("k1:", kKey1));
  const std::string good = Encrypted(cipher, "x", "aad");
  const std::string body = good.substr(6);
  const std::vector<std::string> bad = {
      "",
      "13812345678",
      "v1",
      "v1.",
      "v1.k1",
      "v1.k1.",
      "v2.k1." + body,
      "V1.k1." + body,
      "v1..." + body,
      "v1.k!." + body,
      "v1.k1." + body + "=",
      "v1.k1.@@@@",
      "v1.k1." + absl::WebSafeBase64Escape(std::string(27, 'a')),  // shorter than nonce + tag
  };
  for (const std::string& token : bad) {
    absl::StatusOr<std::string> result = cipher.Decrypt(token, "aad");
    ASSERT_FALSE(result.ok()) << token;
    EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument) << token;
  }
  absl::StatusOr<std::string> unknown = cipher.Decrypt("v1.k9." + body, "aad");
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(unknown.status().message(), "k9")) << unknown.status();
}

TEST(FieldCipherTest, PlaintextSizeIsBounded) {
  FieldCipher cipher = MustCipher(absl::StrCat("k1:", kKey1));
  std::string max(FieldCipher::kMaxPlaintextBytes, 'a');
  std::string token = Encrypted(cipher, max, "big");
  absl::StatusOr<std::string> back = cipher.Decrypt(token, "big");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, max);
  EXPECT_EQ(cipher.Encrypt(max + "a", "big").status().code(), absl::StatusCode::kInvalidArgument);
}

// Encrypts with OpenSSL directly, following the format documented in field_cipher.h, so the
// documentation (AAD = "v1.<keyid>." + associated data) is checked, not just self-consistency.
TEST(FieldCipherTest, DecryptsATokenBuiltIndependentlyFromTheDocumentedFormat) {
  std::string key;
  ASSERT_TRUE(absl::Base64Unescape(kKey1, &key));
  const std::string plaintext = "上海市徐汇区漕溪北路398号";
  const std::string aad = "v1.k1.elders/5#address";
  unsigned char nonce[12];
  ASSERT_EQ(RAND_bytes(nonce, sizeof(nonce)), 1);
  std::string ciphertext(plaintext.size(), '\0');
  unsigned char tag[16];
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  ASSERT_NE(ctx, nullptr);
  int len = 0;
  ASSERT_EQ(EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr,
                               reinterpret_cast<const unsigned char*>(key.data()), nonce),
            1);
  ASSERT_EQ(
      EVP_EncryptUpdate(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())),
      1);
  ASSERT_EQ(EVP_EncryptUpdate(ctx, reinterpret_cast<unsigned char*>(ciphertext.data()), &len,
                              reinterpret_cast<const unsigned char*>(plaintext.data()),
                              static_cast<int>(plaintext.size())),
            1);
  ASSERT_EQ(EVP_EncryptFinal_ex(ctx, nullptr, &len), 1);
  ASSERT_EQ(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag), 1);
  EVP_CIPHER_CTX_free(ctx);
  std::string body = absl::StrCat(absl::string_view(reinterpret_cast<char*>(nonce), 12), ciphertext,
                                  absl::string_view(reinterpret_cast<char*>(tag), 16));
  std::string token = "v1.k1." + absl::WebSafeBase64Escape(body);

  FieldCipher cipher = MustCipher(absl::StrCat("k1:", kKey1));
  absl::StatusOr<std::string> back = cipher.Decrypt(token, "elders/5#address");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, plaintext);
}

TEST(FieldCipherSpecTest, AcceptsNewlinesCommasCommentsAndWhitespace) {
  FieldCipher cipher = MustCipher(
      absl::StrCat("# rotated 2024-05\r\n  k2 : ", kKey2, " \r\n\n, k1:", kKey1, ",\n\n"));
  EXPECT_EQ(cipher.active_key_id(), "k2");
  std::string token = Encrypted(MustCipher(absl::StrCat("k1:", kKey1)), "v", "a");
  EXPECT_TRUE(cipher.Decrypt(token, "a").ok());
}

TEST(FieldCipherSpecTest, RejectsMalformedSpecsWithoutLeakingKeys) {
  std::string key31;
  std::string key33;
  ASSERT_TRUE(absl::Base64Unescape(kKey1, &key31));
  key33 = key31 + "x";
  key31.pop_back();
  const std::string url_safe_key = absl::WebSafeBase64Escape(std::string(32, '\xfb'));
  const std::string unpadded_key = std::string(kKey1.substr(0, kKey1.size() - 1));
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "no encryption key"},
      {" \n\n , # only a comment\n", "no encryption key"},
      {std::string(kKey1), "missing ':'"},
      {absl::StrCat("k1", kKey1), "missing ':'"},
      {"k1:", "decodes to 0 bytes"},
      {absl::StrCat("k1:", kKey1.substr(0, 20), "!!", kKey1.substr(22)), "base64"},
      {absl::StrCat("k1:", unpadded_key), "base64"},
      {absl::StrCat("k1:", url_safe_key), "base64"},
      {absl::StrCat("k1:", absl::Base64Escape(key31)), "31 bytes"},
      {absl::StrCat("k1:", absl::Base64Escape(key33)), "33 bytes"},
      {absl::StrCat("k1:", kKey1, ",k1:", kKey2), "repeats key id \"k1\""},
      {absl::StrCat("k.1:", kKey1), "invalid key id"},
      {absl::StrCat(":", kKey1), "invalid key id"},
      {absl::StrCat(std::string(33, 'k'), ":", kKey1), "invalid key id"},
      {absl::StrCat("index:", kKey1), "no encryption key"},
      {absl::StrCat("k1:", kKey1, ",index:", kKey2, ",index:", kKey2), "repeats key id"},
  };
  for (const auto& [spec, expected] : cases) {
    absl::StatusOr<FieldCipher> cipher = FieldCipher::FromSpec(spec);
    ASSERT_FALSE(cipher.ok()) << spec;
    EXPECT_EQ(cipher.status().code(), absl::StatusCode::kInvalidArgument) << spec;
    const absl::string_view message = cipher.status().message();
    EXPECT_TRUE(absl::StrContains(message, expected)) << spec << " -> " << message;
    // No fragment of any key (8+ characters of base64) may appear in the message.
    for (absl::string_view key : {kKey1, kKey2, absl::string_view(url_safe_key)}) {
      for (size_t i = 0; i + 8 <= key.size(); ++i) {
        ASSERT_FALSE(absl::StrContains(message, key.substr(i, 8))) << message;
      }
    }
  }
}

class TempFile {
 public:
  explicit TempFile(absl::string_view contents) {
    char name[] = "/tmp/pii_keyring_XXXXXX";
    int fd = mkstemp(name);
    EXPECT_GE(fd, 0);
    close(fd);
    path_ = name;
    std::ofstream(path_, std::ios::binary) << contents;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(FieldCipherFileTest, LoadsAMountedSecretWithTrailingNewlines) {
  TempFile file(absl::StrCat("k2:", kKey2, "\nk1:", kKey1, "\n\n"));
  absl::StatusOr<FieldCipher> cipher = FieldCipher::FromFile(file.path());
  ASSERT_TRUE(cipher.ok()) << cipher.status();
  EXPECT_EQ(cipher->active_key_id(), "k2");
  std::string token = Encrypted(MustCipher(absl::StrCat("k1:", kKey1)), "13812345678", "r#f");
  absl::StatusOr<std::string> back = cipher->Decrypt(token, "r#f");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, "13812345678");
}

TEST(FieldCipherFileTest, ReportsMissingAndMalformedFiles) {
  absl::StatusOr<FieldCipher> missing = FieldCipher::FromFile("/nonexistent/pii/keyring");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StrContains(missing.status().message(), "/nonexistent/pii/keyring"));

  TempFile bad(absl::StrCat("k1:", kKey1.substr(0, 40), "\n"));
  absl::StatusOr<FieldCipher> malformed = FieldCipher::FromFile(bad.path());
  EXPECT_EQ(malformed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(malformed.status().message(), bad.path()));
  EXPECT_FALSE(absl::StrContains(malformed.status().message(), kKey1.substr(0, 40)));

  TempFile empty("");
  EXPECT_EQ(FieldCipher::FromFile(empty.path()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(FieldCipherTest, GenerateKeySpecMakesUsableDistinctKeys) {
  std::string a = FieldCipher::GenerateKeySpec("k3");
  std::string b = FieldCipher::GenerateKeySpec("k3");
  EXPECT_NE(a, b);
  EXPECT_TRUE(absl::StartsWith(a, "k3:"));
  EXPECT_EQ(a.size(), 3u + 44u);
  FieldCipher cipher = MustCipher(absl::StrCat(a, "\n", FieldCipher::GenerateKeySpec("index")));
  EXPECT_EQ(cipher.active_key_id(), "k3");
  EXPECT_EQ(cipher.blind_index_key_id(), "index");
  std::string token = Encrypted(cipher, "hello", "x");
  EXPECT_EQ(*cipher.Decrypt(token, "x"), "hello");
  EXPECT_EQ(MustCipher(b).Decrypt(token, "x").status().code(), absl::StatusCode::kDataLoss);
}

// Recomputes the documented derivation with plain HMAC: HKDF-SHA256 with no salt (RFC 5869:
// salt = 32 zero bytes) and info "linli/pii/blind-index/v1", then HMAC-SHA256, first 16 bytes.
std::string ExpectedBlindIndex(absl::string_view base64_key, absl::string_view value) {
  std::string ikm;
  EXPECT_TRUE(absl::Base64Unescape(base64_key, &ikm));
  auto hmac = [](absl::string_view key, absl::string_view data) {
    unsigned char out[32];
    unsigned int len = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
    return std::string(reinterpret_cast<char*>(out), len);
  };
  std::string prk = hmac(std::string(32, '\0'), ikm);
  std::string okm = hmac(prk, absl::StrCat("linli/pii/blind-index/v1", std::string(1, '\x01')));
  return absl::BytesToHexString(hmac(okm, value).substr(0, 16));
}

TEST(BlindIndexTest, MatchesTheDocumentedDerivation) {
  FieldCipher cipher = MustCipher(absl::StrCat("k1:", kKey1));
  EXPECT_EQ(cipher.BlindIndex("13812345678"), ExpectedBlindIndex(kKey1, "13812345678"));
  FieldCipher with_index = MustCipher(absl::StrCat("k1:", kKey1, ",index:", kKey2));
  EXPECT_EQ(with_index.BlindIndex("13812345678"), ExpectedBlindIndex(kKey2, "13812345678"));
}

TEST(BlindIndexTest, StableAcrossInstancesAndDistinctAcrossValues) {
  FieldCipher a = MustCipher(absl::StrCat("k1:", kKey1));
  FieldCipher b = MustCipher(absl::StrCat("k1:", kKey1));
  const std::string index = a.BlindIndex("310101194501011234");
  EXPECT_EQ(index.size(), FieldCipher::kBlindIndexHexChars);
  EXPECT_EQ(index.find_first_not_of("0123456789abcdef"), std::string::npos) << index;
  EXPECT_EQ(index, a.BlindIndex("310101194501011234"));
  EXPECT_EQ(index, b.BlindIndex("310101194501011234"));

  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    EXPECT_TRUE(seen.insert(a.BlindIndex(absl::StrCat("138", 10000000 + i))).second);
  }
  EXPECT_NE(a.BlindIndex(""), a.BlindIndex(" "));
  EXPECT_NE(index, MustCipher(absl::StrCat("k1:", kKey2)).BlindIndex("310101194501011234"));
}

TEST(BlindIndexTest, DedicatedIndexKeySurvivesRotationDerivedOneDoesNot) {
  FieldCipher before = MustCipher(absl::StrCat("k1:", kKey1, "\nindex:", kKey2));
  FieldCipher after = MustCipher(absl::StrCat("k2:", FieldCipher::GenerateKeySpec("x").substr(2),
                                              "\nk1:", kKey1, "\nindex:", kKey2));
  EXPECT_EQ(before.blind_index_key_id(), "index");
  EXPECT_EQ(before.BlindIndex("13812345678"), after.BlindIndex("13812345678"));

  FieldCipher derived_before = MustCipher(absl::StrCat("k1:", kKey1));
  FieldCipher derived_after = MustCipher(absl::StrCat("k2:", kKey2, ",k1:", kKey1));
  EXPECT_EQ(derived_before.blind_index_key_id(), "k1");
  EXPECT_EQ(derived_after.blind_index_key_id(), "k2");
  EXPECT_NE(derived_before.BlindIndex("13812345678"), derived_after.BlindIndex("13812345678"));
  // The index key is derived, never the encryption key used directly as an HMAC key.
  std::string raw_key;
  ASSERT_TRUE(absl::Base64Unescape(kKey1, &raw_key));
  unsigned char mac[32];
  unsigned int len = 0;
  HMAC(EVP_sha256(), raw_key.data(), 32, reinterpret_cast<const unsigned char*>("13812345678"), 11,
       mac, &len);
  EXPECT_NE(derived_before.BlindIndex("13812345678"),
            absl::BytesToHexString(absl::string_view(reinterpret_cast<char*>(mac), 16)));
}

TEST(FieldCipherConcurrencyTest, EightThreadsShareOneCipher) {
  const FieldCipher cipher = MustCipher(absl::StrCat("k2:", kKey2, ",k1:", kKey1));
  const std::string expected_index = cipher.BlindIndex("13812345678");
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 1000; ++i) {
        const std::string value = absl::StrCat("thread ", t, " 上海 value ", i);
        const std::string aad = absl::StrCat("elders/", t, "-", i, "#address");
        absl::StatusOr<std::string> token = cipher.Encrypt(value, aad);
        if (!token.ok()) {
          ++failures;
          continue;
        }
        absl::StatusOr<std::string> back = cipher.Decrypt(*token, aad);
        if (!back.ok() || *back != value || cipher.NeedsReencryption(*token) ||
            cipher.BlindIndex("13812345678") != expected_index) {
          ++failures;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace linli::pii
