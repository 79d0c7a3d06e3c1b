#include "common/auth/jwt.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <cmath>
#include <limits>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"

namespace linli::auth {
namespace {

absl::Status Unauthenticated(absl::string_view why) {
  return absl::UnauthenticatedError(absl::StrCat("invalid token: ", why));
}

EVP_PKEY* Pkey(const std::shared_ptr<void>& p) { return static_cast<EVP_PKEY*>(p.get()); }

// JSON numbers as whole seconds; nullopt-like false for anything else (strings, NaN, huge).
bool NumericDate(const nlohmann::json& value, int64_t* seconds) {
  if (value.is_number_integer()) {
    *seconds = value.get<int64_t>();
    return true;
  }
  if (value.is_number_float()) {
    double d = value.get<double>();
    if (!std::isfinite(d) || d > 1e15 || d < -1e15) return false;
    *seconds = static_cast<int64_t>(d);
    return true;
  }
  return false;
}

// ES256 signatures are r||s (32 bytes each) in JWS; EVP speaks DER.
bool RawToDer(absl::string_view raw, std::string* der) {
  if (raw.size() != 64) return false;
  ECDSA_SIG* sig = ECDSA_SIG_new();
  if (sig == nullptr) return false;
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr);
  if (r == nullptr || s == nullptr || ECDSA_SIG_set0(sig, r, s) != 1) {
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return false;
  }
  unsigned char* out = nullptr;
  int length = i2d_ECDSA_SIG(sig, &out);
  ECDSA_SIG_free(sig);
  if (length <= 0) return false;
  der->assign(reinterpret_cast<char*>(out), length);
  OPENSSL_free(out);
  return true;
}

bool DerToRaw(absl::string_view der, std::string* raw) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
  if (sig == nullptr) return false;
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig, &r, &s);
  unsigned char buffer[64];
  bool ok = BN_bn2binpad(r, buffer, 32) == 32 && BN_bn2binpad(s, buffer + 32, 32) == 32;
  ECDSA_SIG_free(sig);
  if (ok) raw->assign(reinterpret_cast<char*>(buffer), 64);
  return ok;
}

}  // namespace

std::string Base64UrlEncode(absl::string_view data) { return absl::WebSafeBase64Escape(data); }

bool Base64UrlDecode(absl::string_view text, std::string* out) {
  // absl is lenient: it skips whitespace, accepts '=' padding and ignores non-zero trailing bits.
  // Accepting only the one spelling absl itself would write rejects all of that, so that a byte
  // string (a signature, a key) has exactly one accepted spelling.
  return absl::WebSafeBase64Unescape(text, out) && absl::WebSafeBase64Escape(*out) == text;
}

const char* JwtAlgorithmName(JwtAlgorithm algorithm) {
  switch (algorithm) {
    case JwtAlgorithm::kHs256:
      return "HS256";
    case JwtAlgorithm::kRs256:
      return "RS256";
    case JwtAlgorithm::kEs256:
      return "ES256";
  }
  return "?";
}

absl::StatusOr<JwtKey> JwtKey::Hmac(std::string kid, std::string secret) {
  if (kid.empty()) return absl::InvalidArgumentError("a key needs a kid");
  if (secret.size() < 32) {
    return absl::InvalidArgumentError(
        absl::StrCat("HS256 key ", kid, ": the secret must have at least 32 bytes"));
  }
  JwtKey key;
  key.kid_ = std::move(kid);
  key.algorithm_ = JwtAlgorithm::kHs256;
  key.secret_ = std::move(secret);
  return key;
}

absl::StatusOr<JwtKey> JwtKey::FromPem(std::string kid, JwtAlgorithm algorithm,
                                       absl::string_view pem) {
  if (kid.empty()) return absl::InvalidArgumentError("a key needs a kid");
  if (algorithm == JwtAlgorithm::kHs256) {
    return absl::InvalidArgumentError("HS256 keys are secrets, not PEM keys");
  }
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return absl::ResourceExhaustedError("out of memory");
  bool has_private = true;
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  if (pkey == nullptr) {
    has_private = false;
    BIO_reset(bio);
    pkey = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  }
  BIO_free(bio);
  if (pkey == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("key ", kid, ": not a PEM public or private key"));
  }
  return FromPkey(std::move(kid), algorithm, pkey, has_private);
}

absl::StatusOr<JwtKey> JwtKey::FromPkey(std::string kid, JwtAlgorithm algorithm, void* evp_pkey,
                                        bool has_private) {
  EVP_PKEY* pkey = static_cast<EVP_PKEY*>(evp_pkey);
  JwtKey key;
  key.pkey_ =
      std::shared_ptr<void>(pkey, [](void* p) { EVP_PKEY_free(static_cast<EVP_PKEY*>(p)); });
  if (algorithm == JwtAlgorithm::kRs256) {
    if (!EVP_PKEY_is_a(pkey, "RSA") || EVP_PKEY_get_bits(pkey) < 2048) {
      return absl::InvalidArgumentError(
          absl::StrCat("key ", kid, ": RS256 needs an RSA key of 2048 bits or more"));
    }
  } else {
    char group[64] = {0};
    size_t length = 0;
    if (!EVP_PKEY_is_a(pkey, "EC") ||
        EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                       &length) != 1 ||
        std::string(group, length) != "prime256v1") {
      return absl::InvalidArgumentError(
          absl::StrCat("key ", kid, ": ES256 needs an EC key on P-256"));
    }
  }
  key.kid_ = std::move(kid);
  key.algorithm_ = algorithm;
  key.has_private_ = has_private;
  return key;
}

namespace {

// The unsigned big-endian integer of a JWK member (base64url), or "" when missing or malformed.
std::string JwkBytes(const nlohmann::json& jwk, const char* member) {
  std::string bytes;
  if (!jwk.contains(member) || !jwk[member].is_string() ||
      !Base64UrlDecode(jwk[member].get<std::string>(), &bytes)) {
    return "";
  }
  return bytes;
}

// A string member of a JSON object, "" when missing or not a string.
std::string StringMember(const nlohmann::json& object, const char* member) {
  auto it = object.find(member);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

// An EVP_PKEY of `type` ("RSA", "EC") from OSSL parameters, or nullptr.
EVP_PKEY* PublicKeyFromParams(const char* type, OSSL_PARAM_BLD* build) {
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(build);
  EVP_PKEY_CTX* context = EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr);
  EVP_PKEY* pkey = nullptr;
  if (params == nullptr || context == nullptr || EVP_PKEY_fromdata_init(context) != 1 ||
      EVP_PKEY_fromdata(context, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
    pkey = nullptr;
  }
  EVP_PKEY_CTX_free(context);
  OSSL_PARAM_free(params);
  return pkey;
}

}  // namespace

absl::StatusOr<JwtKey> JwtKey::FromJwk(const nlohmann::json& jwk) {
  if (!jwk.is_object() || !jwk.contains("kid") || !jwk["kid"].is_string() ||
      jwk["kid"].get<std::string>().empty()) {
    return absl::InvalidArgumentError("a JWK needs a string kid");
  }
  std::string kid = jwk["kid"].get<std::string>();
  const std::string kty = StringMember(jwk, "kty");
  const std::string alg = jwk.contains("alg") ? StringMember(jwk, "alg")
                          : kty == "RSA"      ? "RS256"
                          : kty == "EC"       ? "ES256"
                                              : "";
  if (!((kty == "RSA" && alg == "RS256") || (kty == "EC" && alg == "ES256"))) {
    return absl::InvalidArgumentError(absl::StrCat(
        "key ", kid, ": a JWK must be kty RSA with alg RS256 or kty EC with alg ES256 (is kty \"",
        kty, "\", alg \"", alg, "\")"));
  }
  OSSL_PARAM_BLD* build = OSSL_PARAM_BLD_new();
  if (build == nullptr) return absl::ResourceExhaustedError("out of memory");
  EVP_PKEY* pkey = nullptr;
  std::string problem;
  BIGNUM* n = nullptr;
  BIGNUM* e = nullptr;
  if (kty == "RSA") {
    const std::string n_bytes = JwkBytes(jwk, "n");
    const std::string e_bytes = JwkBytes(jwk, "e");
    if (n_bytes.empty() || e_bytes.empty()) {
      problem = "an RSA JWK needs \"n\" and \"e\", base64url";
    } else {
      n = BN_bin2bn(reinterpret_cast<const unsigned char*>(n_bytes.data()),
                    static_cast<int>(n_bytes.size()), nullptr);
      e = BN_bin2bn(reinterpret_cast<const unsigned char*>(e_bytes.data()),
                    static_cast<int>(e_bytes.size()), nullptr);
      if (n != nullptr && e != nullptr &&
          OSSL_PARAM_BLD_push_BN(build, OSSL_PKEY_PARAM_RSA_N, n) == 1 &&
          OSSL_PARAM_BLD_push_BN(build, OSSL_PKEY_PARAM_RSA_E, e) == 1) {
        pkey = PublicKeyFromParams("RSA", build);
      }
      if (pkey == nullptr) problem = "not a usable RSA public key";
    }
  } else {
    const std::string x = JwkBytes(jwk, "x");
    const std::string y = JwkBytes(jwk, "y");
    if (StringMember(jwk, "crv") != "P-256" || x.size() != 32 || y.size() != 32) {
      problem = "an ES256 JWK needs crv P-256 and 32-byte \"x\" and \"y\", base64url";
    } else {
      const std::string point = absl::StrCat("\x04", x, y);
      if (OSSL_PARAM_BLD_push_utf8_string(build, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ==
              1 &&
          OSSL_PARAM_BLD_push_octet_string(build, OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                           point.size()) == 1) {
        pkey = PublicKeyFromParams("EC", build);
      }
      // A point that is not on the curve must not become a key.
      if (pkey != nullptr) {
        EVP_PKEY_CTX* check = EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr);
        if (check == nullptr || EVP_PKEY_public_check(check) != 1) {
          EVP_PKEY_free(pkey);
          pkey = nullptr;
        }
        EVP_PKEY_CTX_free(check);
      }
      if (pkey == nullptr) problem = "not a point of P-256";
    }
  }
  BN_free(n);
  BN_free(e);
  OSSL_PARAM_BLD_free(build);
  if (pkey == nullptr) return absl::InvalidArgumentError(absl::StrCat("key ", kid, ": ", problem));
  return FromPkey(std::move(kid), alg == "RS256" ? JwtAlgorithm::kRs256 : JwtAlgorithm::kEs256,
                  pkey, /*has_private=*/false);
}

absl::StatusOr<std::string> JwtKey::Sign(absl::string_view signing_input) const {
  if (algorithm_ == JwtAlgorithm::kHs256) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
             reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(),
             mac, &length) == nullptr) {
      return absl::InternalError("HMAC failed");
    }
    return std::string(reinterpret_cast<char*>(mac), length);
  }
  if (!has_private_)
    return absl::FailedPreconditionError(absl::StrCat("key ", kid_, " is public only"));
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t length = 0;
  std::string signature;
  bool ok = ctx != nullptr &&
            EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, Pkey(pkey_)) == 1 &&
            EVP_DigestSign(ctx, nullptr, &length,
                           reinterpret_cast<const unsigned char*>(signing_input.data()),
                           signing_input.size()) == 1;
  if (ok) {
    signature.resize(length);
    ok = EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(signature.data()), &length,
                        reinterpret_cast<const unsigned char*>(signing_input.data()),
                        signing_input.size()) == 1;
    signature.resize(length);
  }
  EVP_MD_CTX_free(ctx);
  if (!ok) return absl::InternalError("signing failed");
  if (algorithm_ == JwtAlgorithm::kEs256) {
    std::string raw;
    if (!DerToRaw(signature, &raw)) return absl::InternalError("bad ECDSA signature");
    return raw;
  }
  return signature;
}

bool JwtKey::Verify(absl::string_view signing_input, absl::string_view signature) const {
  if (algorithm_ == JwtAlgorithm::kHs256) {
    absl::StatusOr<std::string> expected = Sign(signing_input);
    return expected.ok() && expected->size() == signature.size() &&
           CRYPTO_memcmp(expected->data(), signature.data(), signature.size()) == 0;
  }
  std::string der;
  if (algorithm_ == JwtAlgorithm::kEs256) {
    if (!RawToDer(signature, &der)) return false;
    signature = der;
  } else if (signature.size() != static_cast<size_t>(EVP_PKEY_get_size(Pkey(pkey_)))) {
    return false;
  }
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = ctx != nullptr &&
            EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, Pkey(pkey_)) == 1 &&
            EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()),
                             signature.size(),
                             reinterpret_cast<const unsigned char*>(signing_input.data()),
                             signing_input.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

absl::StatusOr<JwtKeySet> JwtKeySet::Parse(absl::string_view json) {
  nlohmann::json document = nlohmann::json::parse(json.begin(), json.end(), nullptr, false);
  if (document.is_discarded() || !document.is_object() || !document.contains("keys") ||
      !document["keys"].is_array()) {
    return absl::InvalidArgumentError("key set: expected {\"keys\": [...]}");
  }
  JwtKeySet set;
  for (const nlohmann::json& entry : document["keys"]) {
    if (entry.is_object() && entry.contains("kty")) {
      RETURN_IF_ERROR(set.AddJwk(entry));
      continue;
    }
    if (!entry.is_object() || !entry.contains("kid") || !entry["kid"].is_string() ||
        !entry.contains("alg") || !entry["alg"].is_string()) {
      return absl::InvalidArgumentError(
          "key set: every key needs a string kid, and an alg unless it is a JWK (kty)");
    }
    std::string kid = entry["kid"].get<std::string>();
    if (set.Find(kid) != nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("key set: kid ", kid, " appears twice"));
    }
    std::string alg = entry["alg"].get<std::string>();
    absl::StatusOr<JwtKey> key = absl::InvalidArgumentError(absl::StrCat(
        "key set: key ", kid, " has unsupported alg \"", alg, "\" (HS256, RS256 or ES256)"));
    if (alg == "HS256") {
      std::string secret;
      if (!entry.contains("k") || !entry["k"].is_string() ||
          !Base64UrlDecode(entry["k"].get<std::string>(), &secret)) {
        return absl::InvalidArgumentError(
            absl::StrCat("key set: HS256 key ", kid, " needs \"k\", base64url"));
      }
      key = JwtKey::Hmac(kid, std::move(secret));
    } else if (alg == "RS256" || alg == "ES256") {
      if (!entry.contains("pem") || !entry["pem"].is_string()) {
        return absl::InvalidArgumentError(absl::StrCat("key set: key ", kid, " needs \"pem\""));
      }
      key = JwtKey::FromPem(kid, alg == "RS256" ? JwtAlgorithm::kRs256 : JwtAlgorithm::kEs256,
                            entry["pem"].get<std::string>());
    }
    if (!key.ok()) return key.status();
    set.Add(std::move(*key));
  }
  if (set.size() == 0) {
    return absl::InvalidArgumentError(set.skipped_.empty()
                                          ? "key set: no keys"
                                          : absl::StrCat("key set: no usable keys (skipped: ",
                                                         absl::StrJoin(set.skipped_, "; "), ")"));
  }
  return set;
}

absl::Status JwtKeySet::AddJwk(const nlohmann::json& jwk) {
  const std::string kid = StringMember(jwk, "kid");
  const std::string kty = StringMember(jwk, "kty");
  const std::string alg = StringMember(jwk, "alg");
  const std::string name = kid.empty() ? "a key without kid" : absl::StrCat("key ", kid);
  // A symmetric secret has no place in a set of published keys.
  if (kty == "oct") {
    return absl::InvalidArgumentError(absl::StrCat(
        "key set: ", name,
        " is a symmetric JWK (kty \"oct\"): a development secret is {\"kid\", \"alg\": "
        "\"HS256\", \"k\"}"));
  }
  // An identity provider publishes keys of other kinds too (encryption, RS384, PS256, P-384,
  // EdDSA) and may rotate them in at any time: those are skipped, not fatal.
  const bool signing = StringMember(jwk, "use").empty() || StringMember(jwk, "use") == "sig";
  const bool usable =
      signing && !kid.empty() && !(jwk.contains("alg") && alg.empty()) &&
      ((kty == "RSA" && (alg.empty() || alg == "RS256")) ||
       (kty == "EC" && StringMember(jwk, "crv") == "P-256" && (alg.empty() || alg == "ES256")));
  if (!usable) {
    skipped_.push_back(absl::StrCat(name, " (kty ", kty.empty() ? "?" : kty,
                                    alg.empty() ? "" : absl::StrCat(", alg ", alg),
                                    signing ? "" : ", not for signatures", ")"));
    return absl::OkStatus();
  }
  if (Find(kid) != nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("key set: kid ", kid, " appears twice"));
  }
  absl::StatusOr<JwtKey> key = JwtKey::FromJwk(jwk);
  if (!key.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("key set: ", key.status().message()));
  }
  Add(*std::move(key));
  return absl::OkStatus();
}

void JwtKeySet::Add(JwtKey key) {
  std::string kid = key.kid();
  keys_.insert_or_assign(std::move(kid), std::move(key));
}

const JwtKey* JwtKeySet::Find(absl::string_view kid) const {
  auto it = keys_.find(kid);
  return it == keys_.end() ? nullptr : &it->second;
}

absl::StatusOr<nlohmann::json> JwtVerifier::Verify(absl::string_view token, absl::Time now) const {
  if (token.empty()) return Unauthenticated("empty");
  if (token.size() > options_.max_token_bytes) {
    return Unauthenticated(absl::StrCat("longer than ", options_.max_token_bytes, " bytes"));
  }
  std::vector<absl::string_view> parts = absl::StrSplit(token, '.');
  if (parts.size() != 3) return Unauthenticated("expected three dot-separated segments");
  std::string header_text, payload_text, signature;
  if (!Base64UrlDecode(parts[0], &header_text)) return Unauthenticated("header is not base64url");
  if (!Base64UrlDecode(parts[1], &payload_text)) {
    return Unauthenticated("payload is not base64url");
  }
  if (!Base64UrlDecode(parts[2], &signature)) {
    return Unauthenticated("signature is not base64url");
  }
  nlohmann::json header = nlohmann::json::parse(header_text, nullptr, false);
  if (header.is_discarded() || !header.is_object()) {
    return Unauthenticated("header is not a JSON object");
  }
  if (!header.contains("alg") || !header["alg"].is_string()) {
    return Unauthenticated("header has no alg");
  }
  const std::string alg = header["alg"].get<std::string>();
  if (alg == "none" || alg == "None" || alg == "NONE" || signature.empty()) {
    return Unauthenticated("unsigned tokens (alg none) are not accepted");
  }
  if (header.contains("crit")) return Unauthenticated("critical header extensions unsupported");
  if (!header.contains("kid") || !header["kid"].is_string()) {
    return Unauthenticated("header has no kid");
  }
  const JwtKey* key = keys_.Find(header["kid"].get<std::string>());
  if (key == nullptr) return Unauthenticated("unknown kid");
  if (alg != JwtAlgorithmName(key->algorithm())) {
    return Unauthenticated(
        absl::StrCat("alg ", alg.substr(0, 16), " is not the algorithm of this kid"));
  }
  const absl::string_view signing_input = token.substr(0, parts[0].size() + 1 + parts[1].size());
  if (!key->Verify(signing_input, signature)) return Unauthenticated("bad signature");

  nlohmann::json claims = nlohmann::json::parse(payload_text, nullptr, false);
  if (claims.is_discarded() || !claims.is_object()) {
    return Unauthenticated("payload is not a JSON object");
  }
  const int64_t now_s = absl::ToUnixSeconds(now);
  const int64_t leeway = absl::ToInt64Seconds(options_.leeway);
  int64_t exp = 0;
  if (!claims.contains("exp") || !NumericDate(claims["exp"], &exp)) {
    return Unauthenticated("exp missing or not a number");
  }
  if (now_s - leeway > exp) return Unauthenticated("expired");
  int64_t iat = 0;
  if (!claims.contains("iat") || !NumericDate(claims["iat"], &iat)) {
    return Unauthenticated("iat missing or not a number");
  }
  if (iat > now_s + leeway) return Unauthenticated("issued in the future (iat)");
  if (exp - iat > absl::ToInt64Seconds(options_.max_lifetime)) {
    return Unauthenticated("lives longer than any token may (exp - iat)");
  }
  if (claims.contains("nbf")) {
    int64_t nbf = 0;
    if (!NumericDate(claims["nbf"], &nbf)) return Unauthenticated("nbf is not a number");
    if (now_s + leeway < nbf) return Unauthenticated("not valid yet (nbf)");
  }
  if (!claims.contains("iss") || !claims["iss"].is_string() ||
      claims["iss"].get<std::string>() != options_.issuer) {
    return Unauthenticated("wrong issuer");
  }
  bool audience_ok = false;
  if (claims.contains("aud")) {
    const nlohmann::json& aud = claims["aud"];
    if (aud.is_string()) {
      audience_ok = aud.get<std::string>() == options_.audience;
    } else if (aud.is_array()) {
      for (const nlohmann::json& a : aud) {
        if (a.is_string() && a.get<std::string>() == options_.audience) audience_ok = true;
      }
    }
  }
  if (!audience_ok) return Unauthenticated("wrong audience");
  return claims;
}

absl::StatusOr<std::string> SignJwt(const JwtKey& key, const nlohmann::json& claims) {
  nlohmann::json header = {
      {"alg", JwtAlgorithmName(key.algorithm())}, {"typ", "JWT"}, {"kid", key.kid()}};
  std::string signing_input =
      absl::StrCat(Base64UrlEncode(header.dump()), ".", Base64UrlEncode(claims.dump()));
  absl::StatusOr<std::string> signature = key.Sign(signing_input);
  if (!signature.ok()) return signature.status();
  return absl::StrCat(signing_input, ".", Base64UrlEncode(*signature));
}

}  // namespace linli::auth
