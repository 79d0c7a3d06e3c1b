// JSON Web Tokens (RFC 7519) signed with JWS compact serialisation (RFC 7515): verification for
// the gateway, signing for `linli token` and tests.
//
// Each key of a key set carries its own algorithm; a token is verified only with the key its
// "kid" names and only if its "alg" equals that key's algorithm (the algorithm is pinned per
// key, so "alg":"none" and HS256-signed-with-an-RSA-public-key confusion cannot work). Then
// "exp" and "iat" (both required; exp - iat at most max_lifetime), "nbf", "iss" and "aud" are
// checked with a small leeway.
//
// The key set file is JSON, one entry per key:
//   {"keys": [
//     {"kid": "dev", "alg": "HS256", "k": "<base64url secret, at least 32 bytes>"},
//     {"kid": "idp-2026", "alg": "RS256", "pem": "-----BEGIN PUBLIC KEY-----\n..."},
//     {"kid": "idp-ec", "alg": "ES256", "pem": "-----BEGIN PUBLIC KEY-----\n..."},
//     {"kid": "idp-2027", "kty": "RSA", "n": "...", "e": "AQAB", "use": "sig"}]}
// A "pem" may be a private key: verification uses its public half, signing needs it. An entry
// with "kty" is a public JSON Web Key (RFC 7517/7518: RSA n/e for RS256, EC P-256 x/y for ES256;
// "alg", when present, must be the one these imply), so an identity provider's published key set
// (its jwks_uri document) is a key set as it stands: its keys that cannot verify Linli's tokens
// (encryption keys, other algorithms or curves, no kid) are skipped and listed in skipped(); a
// symmetric ("oct") JWK and a broken RS256/ES256 key are refused.
//
//   ASSIGN_OR_RETURN(JwtKeySet keys, JwtKeySet::Parse(file_contents));
//   JwtVerifier verifier(std::move(keys), {.issuer = "linli-dev", .audience = "linli-gateway"});
//   absl::StatusOr<nlohmann::json> claims = verifier.Verify(token, absl::Now());
//   // every rejection is UNAUTHENTICATED with a message naming the reason
#ifndef LINLI_COMMON_AUTH_JWT_H_
#define LINLI_COMMON_AUTH_JWT_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace linli::auth {

// Unpadded base64url (RFC 4648 §5).
std::string Base64UrlEncode(absl::string_view data);
// Strict decoding: only the base64url alphabet, no padding, no non-zero trailing bits (so every
// byte string has exactly one accepted spelling). nullopt-like: returns false on bad input.
bool Base64UrlDecode(absl::string_view text, std::string* out);

// The signature algorithms accepted. There is no "none".
enum class JwtAlgorithm { kHs256, kRs256, kEs256 };
// "HS256", "RS256", "ES256".
const char* JwtAlgorithmName(JwtAlgorithm algorithm);

// One key of a key set: an HMAC secret or an RSA / P-256 EC key (public, or private for signing).
class JwtKey {
 public:
  static absl::StatusOr<JwtKey> Hmac(std::string kid, std::string secret);
  // `pem`: a public key (SubjectPublicKeyInfo) or a private key. RS256 needs RSA >= 2048 bits;
  // ES256 needs an EC key on P-256.
  static absl::StatusOr<JwtKey> FromPem(std::string kid, JwtAlgorithm algorithm,
                                        absl::string_view pem);
  // A public JSON Web Key: {"kid", "kty": "RSA", "n", "e"} or {"kid", "kty": "EC", "crv": "P-256",
  // "x", "y"}, with an optional "alg" (RS256 / ES256) that must match.
  static absl::StatusOr<JwtKey> FromJwk(const nlohmann::json& jwk);

  const std::string& kid() const { return kid_; }
  JwtAlgorithm algorithm() const { return algorithm_; }

  // The JWS signature of `signing_input` (raw bytes; r||s for ES256). Needs a private key for
  // RS256/ES256.
  absl::StatusOr<std::string> Sign(absl::string_view signing_input) const;
  // True when `signature` is a valid signature of `signing_input` under this key.
  bool Verify(absl::string_view signing_input, absl::string_view signature) const;

 private:
  JwtKey() = default;
  // Takes ownership of `evp_pkey` (an EVP_PKEY*) and checks it suits `algorithm`.
  static absl::StatusOr<JwtKey> FromPkey(std::string kid, JwtAlgorithm algorithm, void* evp_pkey,
                                         bool has_private);
  std::string kid_;
  JwtAlgorithm algorithm_ = JwtAlgorithm::kHs256;
  std::string secret_;          // HS256
  std::shared_ptr<void> pkey_;  // EVP_PKEY, RS256/ES256
  bool has_private_ = false;
};

// Keys by kid.
class JwtKeySet {
 public:
  // Parses the JSON key set described above; every entry must be valid, kids unique.
  static absl::StatusOr<JwtKeySet> Parse(absl::string_view json);
  void Add(JwtKey key);
  const JwtKey* Find(absl::string_view kid) const;
  size_t size() const { return keys_.size(); }
  // The published keys left out, each named with why ("key k2 (kty OKP, alg EdDSA)").
  const std::vector<std::string>& skipped() const { return skipped_; }

 private:
  absl::Status AddJwk(const nlohmann::json& jwk);

  std::map<std::string, JwtKey, std::less<>> keys_;
  std::vector<std::string> skipped_;
};

struct JwtVerifierOptions {
  // Required "iss".
  std::string issuer;
  // Required to appear in "aud" (a string or an array of strings).
  std::string audience;
  // Clock skew tolerated for exp, nbf and iat.
  absl::Duration leeway = absl::Seconds(30);
  // "iat" is required, and a token whose exp - iat is longer than this is refused, however far
  // away its exp is. The role's own limit is PrincipalFromClaims'.
  absl::Duration max_lifetime = absl::Hours(24 * 30);
  // Longer tokens are rejected before any parsing.
  size_t max_token_bytes = 8192;
};

class JwtVerifier {
 public:
  JwtVerifier(JwtKeySet keys, JwtVerifierOptions options)
      : keys_(std::move(keys)), options_(std::move(options)) {}

  // The claims of a valid token; UNAUTHENTICATED naming the problem otherwise.
  absl::StatusOr<nlohmann::json> Verify(absl::string_view token, absl::Time now) const;

 private:
  JwtKeySet keys_;
  JwtVerifierOptions options_;
};

// A compact JWS of `claims` with header {"alg": key's, "typ": "JWT", "kid": key's}.
absl::StatusOr<std::string> SignJwt(const JwtKey& key, const nlohmann::json& claims);

}  // namespace linli::auth

#endif  // LINLI_COMMON_AUTH_JWT_H_
