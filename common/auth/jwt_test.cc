#include "common/auth/jwt.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/auth/principal.h"
#include "gtest/gtest.h"

namespace linli::auth {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'790'000'000);

// A fresh key pair as PEM (private) and PEM (public).
std::pair<std::string, std::string> NewKeyPair(bool rsa) {
  EVP_PKEY* pkey = rsa ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048})
                       : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  BIO* priv = BIO_new(BIO_s_mem());
  BIO* pub = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(priv, pkey, nullptr, nullptr, 0, nullptr, nullptr);
  PEM_write_bio_PUBKEY(pub, pkey);
  char* data = nullptr;
  long n = BIO_get_mem_data(priv, &data);
  std::string priv_pem(data, n);
  n = BIO_get_mem_data(pub, &data);
  std::string pub_pem(data, n);
  BIO_free(priv);
  BIO_free(pub);
  EVP_PKEY_free(pkey);
  return {priv_pem, pub_pem};
}

// The public JSON Web Key of a PEM private key, as an identity provider publishes it.
nlohmann::json JwkOf(const std::string& kid, const std::string& private_pem) {
  BIO* bio = BIO_new_mem_buf(private_pem.data(), static_cast<int>(private_pem.size()));
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  nlohmann::json jwk = {{"kid", kid}, {"use", "sig"}};
  auto bytes = [&](const char* param) {
    BIGNUM* bn = nullptr;
    EVP_PKEY_get_bn_param(pkey, param, &bn);
    std::string out(BN_num_bytes(bn), '\0');
    BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
    BN_free(bn);
    return Base64UrlEncode(out);
  };
  if (EVP_PKEY_is_a(pkey, "RSA")) {
    jwk["kty"] = "RSA";
    jwk["n"] = bytes(OSSL_PKEY_PARAM_RSA_N);
    jwk["e"] = bytes(OSSL_PKEY_PARAM_RSA_E);
  } else {
    unsigned char point[65];
    size_t length = 0;
    EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point), &length);
    jwk["kty"] = "EC";
    jwk["crv"] = "P-256";
    jwk["x"] = Base64UrlEncode(std::string(reinterpret_cast<char*>(point) + 1, 32));
    jwk["y"] = Base64UrlEncode(std::string(reinterpret_cast<char*>(point) + 33, 32));
  }
  EVP_PKEY_free(pkey);
  return jwk;
}

const std::string kSecret = "0123456789abcdef0123456789abcdef";

nlohmann::json GoodClaims() {
  return {{"iss", "linli-test"},
          {"aud", "linli-gateway"},
          {"sub", "staff/zhang"},
          {"role", "street_staff"},
          {"region", "310101020"},
          {"exp", absl::ToUnixSeconds(kNow) + 600},
          {"iat", absl::ToUnixSeconds(kNow) - 10},
          {"nbf", absl::ToUnixSeconds(kNow) - 10}};
}

// Hand-made token: any header, any payload, any signature bytes.
std::string Compose(const nlohmann::json& header, const nlohmann::json& claims,
                    const std::string& signature) {
  return absl::StrCat(Base64UrlEncode(header.dump()), ".", Base64UrlEncode(claims.dump()), ".",
                      Base64UrlEncode(signature));
}

class JwtTest : public ::testing::Test {
 protected:
  JwtTest() {
    rsa_ = NewKeyPair(true);
    ec_ = NewKeyPair(false);
    hs_ = *JwtKey::Hmac("dev", kSecret);
    rs_private_ = *JwtKey::FromPem("rsa1", JwtAlgorithm::kRs256, rsa_.first);
    es_private_ = *JwtKey::FromPem("ec1", JwtAlgorithm::kEs256, ec_.first);
    nlohmann::json set = {{"keys",
                           {{{"kid", "dev"}, {"alg", "HS256"}, {"k", Base64UrlEncode(kSecret)}},
                            {{"kid", "rsa1"}, {"alg", "RS256"}, {"pem", rsa_.second}},
                            {{"kid", "ec1"}, {"alg", "ES256"}, {"pem", ec_.second}}}}};
    absl::StatusOr<JwtKeySet> keys = JwtKeySet::Parse(set.dump());
    EXPECT_TRUE(keys.ok()) << keys.status();
    verifier_ = std::make_unique<JwtVerifier>(
        std::move(*keys), JwtVerifierOptions{.issuer = "linli-test", .audience = "linli-gateway"});
  }

  absl::Status Check(const std::string& token) { return verifier_->Verify(token, kNow).status(); }

  // Rejected with UNAUTHENTICATED and a message containing `why`.
  void ExpectRejected(const std::string& token, const std::string& why) {
    absl::Status status = Check(token);
    EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated) << token;
    EXPECT_NE(status.message().find(why), std::string::npos) << status;
  }

  std::pair<std::string, std::string> rsa_, ec_;
  JwtKey hs_ = *JwtKey::Hmac("x", kSecret);
  JwtKey rs_private_ = hs_, es_private_ = hs_;
  std::unique_ptr<JwtVerifier> verifier_;
};

TEST_F(JwtTest, EveryAlgorithmVerifies) {
  for (const JwtKey* key : {&hs_, &rs_private_, &es_private_}) {
    absl::StatusOr<std::string> token = SignJwt(*key, GoodClaims());
    ASSERT_TRUE(token.ok()) << token.status();
    absl::StatusOr<nlohmann::json> claims = verifier_->Verify(*token, kNow);
    ASSERT_TRUE(claims.ok()) << JwtAlgorithmName(key->algorithm()) << ": " << claims.status();
    EXPECT_EQ((*claims)["sub"], "staff/zhang");
    absl::StatusOr<Principal> principal = PrincipalFromClaims(*claims, TokenLifetimes{});
    ASSERT_TRUE(principal.ok()) << principal.status();
    EXPECT_EQ(principal->role, Role::kStreetStaff);
    EXPECT_EQ(principal->region, "310101020");
  }
}

TEST_F(JwtTest, Es256SignatureIsRawRAndS) {
  absl::StatusOr<std::string> token = SignJwt(es_private_, GoodClaims());
  ASSERT_TRUE(token.ok());
  std::vector<std::string> parts = absl::StrSplit(*token, '.');
  std::string signature;
  ASSERT_TRUE(Base64UrlDecode(parts[2], &signature));
  EXPECT_EQ(signature.size(), 64u);
}

TEST_F(JwtTest, AlgNoneIsRejected) {
  ExpectRejected(Compose({{"alg", "none"}, {"kid", "dev"}}, GoodClaims(), ""), "alg none");
  ExpectRejected(absl::StrCat(Base64UrlEncode(R"({"alg":"none","kid":"dev"})"), ".",
                              Base64UrlEncode(GoodClaims().dump()), "."),
                 "alg none");
  ExpectRejected(Compose({{"alg", "NONE"}, {"kid", "dev"}}, GoodClaims(), "x"), "alg none");
}

TEST_F(JwtTest, UnknownOrMissingKidIsRejected) {
  JwtKey other = *JwtKey::Hmac("nobody", kSecret);
  ExpectRejected(*SignJwt(other, GoodClaims()), "unknown kid");
  std::string signing_input = absl::StrCat(Base64UrlEncode(R"({"alg":"HS256"})"), ".",
                                           Base64UrlEncode(GoodClaims().dump()));
  ExpectRejected(absl::StrCat(signing_input, ".", Base64UrlEncode(*hs_.Sign(signing_input))),
                 "no kid");
}

TEST_F(JwtTest, AlgorithmIsPinnedPerKid) {
  // The classic confusion: HS256 with the RSA public key as the HMAC secret, naming the RSA kid.
  JwtKey confused = *JwtKey::Hmac("rsa1", rsa_.second);
  ExpectRejected(*SignJwt(confused, GoodClaims()), "not the algorithm of this kid");
  // An RS256 signature presented under the EC kid.
  std::string token = *SignJwt(rs_private_, GoodClaims());
  std::vector<std::string> parts = absl::StrSplit(token, '.');
  ExpectRejected(
      absl::StrCat(Base64UrlEncode(R"({"alg":"RS256","kid":"ec1"})"), ".", parts[1], ".", parts[2]),
      "not the algorithm of this kid");
}

TEST_F(JwtTest, WrongIssuerAudienceAndTimesAreRejected) {
  nlohmann::json claims = GoodClaims();
  claims["iss"] = "someone-else";
  ExpectRejected(*SignJwt(hs_, claims), "wrong issuer");
  claims = GoodClaims();
  claims.erase("iss");
  ExpectRejected(*SignJwt(hs_, claims), "wrong issuer");
  claims = GoodClaims();
  claims["aud"] = "another-api";
  ExpectRejected(*SignJwt(hs_, claims), "wrong audience");
  claims["aud"] = {"another-api", "linli-gateway"};
  EXPECT_TRUE(Check(*SignJwt(hs_, claims)).ok());
  claims.erase("aud");
  ExpectRejected(*SignJwt(hs_, claims), "wrong audience");
  claims = GoodClaims();
  claims["exp"] = absl::ToUnixSeconds(kNow) - 31;  // beyond the 30 s leeway
  ExpectRejected(*SignJwt(hs_, claims), "expired");
  claims["exp"] = absl::ToUnixSeconds(kNow) - 20;  // within it
  EXPECT_TRUE(Check(*SignJwt(hs_, claims)).ok());
  claims.erase("exp");
  ExpectRejected(*SignJwt(hs_, claims), "exp missing");
  claims = GoodClaims();
  claims["exp"] = "tomorrow";
  ExpectRejected(*SignJwt(hs_, claims), "exp missing");
  claims = GoodClaims();
  claims["nbf"] = absl::ToUnixSeconds(kNow) + 3600;
  ExpectRejected(*SignJwt(hs_, claims), "not valid yet");
}

// A token must say when it was issued and may not live longer than the verifier allows, however
// far away its exp: a token with exp in 2099 is refused.
TEST_F(JwtTest, IssuedAtIsRequiredAndLifetimesAreBounded) {
  nlohmann::json claims = GoodClaims();
  claims.erase("iat");
  ExpectRejected(*SignJwt(hs_, claims), "iat missing");
  claims["iat"] = "yesterday";
  ExpectRejected(*SignJwt(hs_, claims), "iat missing");
  claims["iat"] = absl::ToUnixSeconds(kNow) + 3600;
  ExpectRejected(*SignJwt(hs_, claims), "issued in the future");
  claims = GoodClaims();
  claims["exp"] =
      absl::ToUnixSeconds(absl::FromCivil(absl::CivilDay(2099, 1, 1), absl::UTCTimeZone()));
  ExpectRejected(*SignJwt(hs_, claims), "lives longer");
  claims["exp"] = std::numeric_limits<int64_t>::max();
  ExpectRejected(*SignJwt(hs_, claims), "lives longer");  // and no overflow
  claims = GoodClaims();
  claims["exp"] = claims["iat"].get<int64_t>() + 30 * 24 * 3600;  // exactly the default maximum
  EXPECT_TRUE(Check(*SignJwt(hs_, claims)).ok());
}

TEST_F(JwtTest, TamperedPayloadOrSignatureIsRejected) {
  for (const JwtKey* key : {&hs_, &rs_private_, &es_private_}) {
    std::string token = *SignJwt(*key, GoodClaims());
    std::vector<std::string> parts = absl::StrSplit(token, '.');
    nlohmann::json escalated = GoodClaims();
    escalated["role"] = "admin";
    ExpectRejected(absl::StrCat(parts[0], ".", Base64UrlEncode(escalated.dump()), ".", parts[2]),
                   "bad signature");
    std::string signature;
    ASSERT_TRUE(Base64UrlDecode(parts[2], &signature));
    signature[signature.size() / 2] ^= 0x01;
    ExpectRejected(absl::StrCat(parts[0], ".", parts[1], ".", Base64UrlEncode(signature)),
                   "bad signature");
    signature.pop_back();
    ExpectRejected(absl::StrCat(parts[0], ".", parts[1], ".", Base64UrlEncode(signature)),
                   "bad signature");
  }
}

TEST_F(JwtTest, MalformedSegmentsAreRejected) {
  std::string good = *SignJwt(hs_, GoodClaims());
  ExpectRejected("", "empty");
  ExpectRejected("abc", "three");
  ExpectRejected("a.b", "three");
  ExpectRejected(good + ".extra", "three");
  ExpectRejected("!!!." + good.substr(good.find('.') + 1), "header is not base64url");
  ExpectRejected(absl::StrCat(Base64UrlEncode("not json"), ".", Base64UrlEncode("{}"), ".abc"),
                 "header is not a JSON object");
  ExpectRejected(absl::StrCat(Base64UrlEncode("[1,2]"), ".", Base64UrlEncode("{}"), ".abc"),
                 "header is not a JSON object");
  // A payload that is not JSON, correctly signed, is still rejected.
  std::string signing_input = absl::StrCat(Base64UrlEncode(R"({"alg":"HS256","kid":"dev"})"), ".",
                                           Base64UrlEncode("\xff\xfe not json"));
  ExpectRejected(absl::StrCat(signing_input, ".", Base64UrlEncode(*hs_.Sign(signing_input))),
                 "payload is not a JSON object");
  // Padding and non-canonical base64url spellings are refused.
  std::vector<std::string> parts = absl::StrSplit(good, '.');
  ExpectRejected(absl::StrCat(parts[0], "=.", parts[1], ".", parts[2]), "base64url");
}

TEST_F(JwtTest, HugeTokensAreRejectedBeforeParsing) {
  nlohmann::json claims = GoodClaims();
  claims["padding"] = std::string(20000, 'x');
  ExpectRejected(*SignJwt(hs_, claims), "longer than");
  ExpectRejected(std::string(1 << 20, 'A'), "longer than");
}

TEST(Base64Url, RoundTripsAndIsStrict) {
  for (std::string data : {"", "f", "fo", "foo", "foob", "fooba", "foobar", "\xff\xfe\x00"}) {
    std::string decoded;
    ASSERT_TRUE(Base64UrlDecode(Base64UrlEncode(data), &decoded));
    EXPECT_EQ(decoded, data);
  }
  std::string out;
  EXPECT_FALSE(Base64UrlDecode("Zg==", &out));  // padding
  EXPECT_FALSE(Base64UrlDecode("Zh", &out));    // non-zero trailing bits ("Zg" is canonical)
  EXPECT_FALSE(Base64UrlDecode("Z", &out));     // impossible length
  EXPECT_FALSE(Base64UrlDecode("Zm9v+/", &out));
}

TEST(Base64Url, EncodesUnpaddedWithTheUrlAlphabet) {
  // RFC 4648 §10 vectors, without their padding.
  EXPECT_EQ(Base64UrlEncode("f"), "Zg");
  EXPECT_EQ(Base64UrlEncode("fo"), "Zm8");
  EXPECT_EQ(Base64UrlEncode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64UrlEncode("\xfb\xff\xbf"), "-_-_");  // "+/+/" in standard base64
  std::string decoded;
  ASSERT_TRUE(Base64UrlDecode("-_-_", &decoded));
  EXPECT_EQ(decoded, "\xfb\xff\xbf");
}

// None of these is strict unpadded base64url. absl::WebSafeBase64Unescape alone would accept the
// padded, whitespaced and non-zero-trailing-bit ones.
TEST(Base64Url, RejectsWhatIsNotStrictUnpaddedBase64Url) {
  std::string out;
  for (absl::string_view text : {
           "Zm9vYg==", "Zm9vYmE=",  "Zm9v=", "=",  // padding, whole or partial
           "Zm9v+w",   "Zm9v/w",                   // the standard alphabet
           " Zm9v",    "Zm9v ",     "Zm 9v", "Zm9v\n", "Zm\t9v", "Zm9v\r\n",  // whitespace
           "Zm9vZ",    "Zm9vYmFyZ",                                           // length 4n+1
           "Zm9vYh",   "Zm9vYmF",   "Zm9",   "_x",     "__9",  // non-zero trailing bits
           "Zm9v.",    "Zm9v*",                                // other characters
       }) {
    EXPECT_FALSE(Base64UrlDecode(text, &out)) << "accepted \"" << text << "\"";
  }
  EXPECT_FALSE(Base64UrlDecode(absl::string_view("Zm\0v", 4), &out));
  // Their canonical spellings are accepted.
  for (absl::string_view text : {"Zm9vYg", "Zm9vYmE", "Zm9v", "Zm8", "_w", "__8", ""}) {
    EXPECT_TRUE(Base64UrlDecode(text, &out)) << "refused \"" << text << "\"";
  }
}

TEST(JwtKeySet, BadKeySetsAreRefused) {
  EXPECT_FALSE(JwtKeySet::Parse("").ok());
  EXPECT_FALSE(JwtKeySet::Parse(R"({"keys":[]})").ok());
  EXPECT_FALSE(JwtKeySet::Parse(R"({"keys":[{"kid":"a","alg":"none"}]})").ok());
  EXPECT_FALSE(JwtKeySet::Parse(R"({"keys":[{"kid":"a","alg":"HS256","k":"c2hvcnQ"}]})").ok());
  EXPECT_FALSE(JwtKeySet::Parse(R"({"keys":[{"kid":"a","alg":"RS256","pem":"nope"}]})").ok());
  // An EC key cannot be declared RS256 and vice versa.
  auto ec = NewKeyPair(false);
  nlohmann::json set = {{"keys", {{{"kid", "e"}, {"alg", "RS256"}, {"pem", ec.second}}}}};
  EXPECT_FALSE(JwtKeySet::Parse(set.dump()).ok());
  std::string k = Base64UrlEncode(kSecret);
  nlohmann::json twice = {
      "keys",
      {{{"kid", "a"}, {"alg", "HS256"}, {"k", k}}, {{"kid", "a"}, {"alg", "HS256"}, {"k", k}}}};
  EXPECT_FALSE(JwtKeySet::Parse(nlohmann::json::object({twice}).dump()).ok());
}

TEST_F(JwtTest, AnIdentityProvidersPublishedKeySetVerifiesItsTokens) {
  // As a jwks_uri document: RSA and EC signing keys, an encryption key (skipped), "alg" optional.
  nlohmann::json rsa = JwkOf("idp-rsa", rsa_.first);
  nlohmann::json ec = JwkOf("idp-ec", ec_.first);
  ec["alg"] = "ES256";
  nlohmann::json enc = JwkOf("idp-enc", rsa_.first);
  enc["use"] = "enc";
  enc["alg"] = "RSA-OAEP";
  // Keys of kinds Linli does not verify with, as providers publish them beside: skipped.
  nlohmann::json rs512 = JwkOf("idp-rs512", NewKeyPair(true).first);
  rs512["alg"] = "RS512";
  const nlohmann::json okp = {{"kid", "idp-ed"},
                              {"kty", "OKP"},
                              {"crv", "Ed25519"},
                              {"x", Base64UrlEncode(std::string(32, 'x'))}};
  nlohmann::json oaep = JwkOf("idp-oaep", rsa_.first);
  oaep.erase("use");
  oaep["alg"] = "RSA-OAEP";
  nlohmann::json no_kid = JwkOf("x", ec_.first);
  no_kid.erase("kid");
  nlohmann::json document = {{"keys", {rsa, ec, enc, rs512, okp, oaep, no_kid}}};
  absl::StatusOr<JwtKeySet> keys = JwtKeySet::Parse(document.dump());
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ(keys->size(), 2u);
  EXPECT_EQ(keys->Find("idp-enc"), nullptr);
  EXPECT_EQ(keys->Find("idp-rs512"), nullptr);
  EXPECT_EQ(keys->skipped(),
            (std::vector<std::string>{"key idp-enc (kty RSA, alg RSA-OAEP, not for signatures)",
                                      "key idp-rs512 (kty RSA, alg RS512)", "key idp-ed (kty OKP)",
                                      "key idp-oaep (kty RSA, alg RSA-OAEP)",
                                      "a key without kid (kty EC)"}));
  JwtVerifier verifier(std::move(*keys), {.issuer = "linli-test", .audience = "linli-gateway"});
  for (const auto& [kid, pem] : {std::pair{"idp-rsa", rsa_.first}, {"idp-ec", ec_.first}}) {
    absl::StatusOr<JwtKey> signer = JwtKey::FromPem(
        kid, std::string(kid) == "idp-rsa" ? JwtAlgorithm::kRs256 : JwtAlgorithm::kEs256, pem);
    ASSERT_TRUE(signer.ok()) << signer.status();
    absl::StatusOr<std::string> token = SignJwt(*signer, GoodClaims());
    ASSERT_TRUE(token.ok());
    EXPECT_TRUE(verifier.Verify(*token, kNow).ok()) << kid;
  }
  // The public keys cannot sign: only the provider holds the private halves.
  EXPECT_FALSE(SignJwt(*JwtKey::FromJwk(rsa), GoodClaims()).ok());
  // A token signed by another key under the published kid fails.
  absl::StatusOr<JwtKey> impostor =
      JwtKey::FromPem("idp-rsa", JwtAlgorithm::kRs256, NewKeyPair(true).first);
  EXPECT_EQ(verifier.Verify(*SignJwt(*impostor, GoodClaims()), kNow).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(JwtKeySet, BadJsonWebKeysAreRefusedNamingTheProblem) {
  const nlohmann::json rsa = JwkOf("r", NewKeyPair(true).first);
  const nlohmann::json ec = JwkOf("e", NewKeyPair(false).first);
  auto Problem = [](const nlohmann::json& jwk) {
    absl::StatusOr<JwtKeySet> set = JwtKeySet::Parse(nlohmann::json{{"keys", {jwk}}}.dump());
    return set.ok() ? std::string("accepted") : std::string(set.status().message());
  };
  auto With = [](nlohmann::json jwk, const char* member, nlohmann::json value) {
    jwk[member] = std::move(value);
    return jwk;
  };
  auto Without = [](nlohmann::json jwk, const char* member) {
    jwk.erase(member);
    return jwk;
  };
  EXPECT_EQ(Problem(rsa), "accepted");
  EXPECT_EQ(Problem(ec), "accepted");
  // A set whose every key is of another kind has no usable key, and says what it skipped.
  EXPECT_EQ(Problem(With(rsa, "alg", "ES256")),
            "key set: no usable keys (skipped: key r (kty RSA, alg ES256))");
  EXPECT_TRUE(absl::StrContains(Problem(With(rsa, "alg", "HS256")), "skipped: key r"));
  EXPECT_TRUE(absl::StrContains(Problem(Without(rsa, "kid")), "a key without kid"));
  EXPECT_TRUE(absl::StrContains(Problem(With(rsa, "kty", 7)), "kty ?"));
  EXPECT_TRUE(absl::StrContains(Problem(With(rsa, "alg", 256)), "skipped"));
  // A symmetric ("oct") key, or a broken key of a kind that is used, is refused outright.
  EXPECT_TRUE(absl::StrContains(
      Problem({{"kid", "s"}, {"kty", "oct"}, {"k", Base64UrlEncode(kSecret)}}), "kty \"oct\""));
  EXPECT_TRUE(absl::StrContains(Problem(Without(rsa, "n")), "needs \"n\" and \"e\""));
  EXPECT_TRUE(absl::StrContains(Problem(With(rsa, "e", "AQAB=")), "needs \"n\" and \"e\""));
  EXPECT_TRUE(absl::StrContains(
      JwtKeySet::Parse(nlohmann::json{{"keys", {rsa, rsa}}}.dump()).status().message(),
      "appears twice"));
  // A 1024-bit RSA key is too weak for RS256.
  nlohmann::json small = rsa;
  small["n"] = Base64UrlEncode(std::string(128, '\xC5'));
  EXPECT_TRUE(absl::StrContains(Problem(small), "2048 bits"));
  // EC: another curve is skipped; the coordinates' length and a point on the curve are checked.
  EXPECT_TRUE(absl::StrContains(Problem(With(ec, "crv", "P-384")), "skipped: key e (kty EC)"));
  EXPECT_TRUE(absl::StrContains(Problem(With(ec, "x", Base64UrlEncode("short"))), "crv P-256"));
  EXPECT_TRUE(absl::StrContains(Problem(With(ec, "y", Base64UrlEncode(std::string(32, '\x01')))),
                                "not a point of P-256"));
}

// A one-hour token issued at 1,800,000,000 (the lifetime is exp - iat).
nlohmann::json Lived(nlohmann::json claims, int64_t seconds = 3600) {
  claims["iat"] = 1'800'000'000;
  claims["exp"] = 1'800'000'000 + seconds;
  return claims;
}

TEST(Principal, ClaimsAreChecked) {
  const TokenLifetimes limits;
  auto PrincipalFromClaims = [&](const nlohmann::json& claims) {
    return auth::PrincipalFromClaims(Lived(claims), limits);
  };
  nlohmann::json claims = {{"sub", "elders/e1"}, {"role", "elder"}};
  absl::StatusOr<Principal> elder = PrincipalFromClaims(claims);
  ASSERT_TRUE(elder.ok());
  EXPECT_TRUE(elder->ActsFor("elders/e1"));
  EXPECT_FALSE(elder->ActsFor("elders/e2"));
  EXPECT_TRUE(elder->region.empty());
  claims["role"] = "root";
  EXPECT_EQ(PrincipalFromClaims(claims).status().code(), absl::StatusCode::kUnauthenticated);
  claims["role"] = "partner";
  EXPECT_FALSE(PrincipalFromClaims(claims).ok());
  claims = {{"sub", "staff/a"}, {"role", "street_staff"}, {"region", "31 OR 1=1"}};
  EXPECT_FALSE(PrincipalFromClaims(claims).ok());
  claims = {{"sub", "families/f"}, {"role", "family"}, {"elders", {"workers/w1"}}};
  EXPECT_FALSE(PrincipalFromClaims(claims).ok());
  claims = {{"sub", "ops"}, {"role", "admin"}};
  EXPECT_EQ(PrincipalFromClaims(claims)->role, Role::kAdmin);
}

// Staff tokens live a working day, app tokens a month at most; both limits are the caller's.
TEST(Principal, EachRoleHasAMaximumLifetime) {
  const TokenLifetimes limits;  // 12 h staff, 30 days apps
  const nlohmann::json staff = {
      {"sub", "staff/a"}, {"role", "street_staff"}, {"region", "310101020"}};
  EXPECT_TRUE(PrincipalFromClaims(Lived(staff, 12 * 3600), limits).ok());
  absl::StatusOr<Principal> too_long = PrincipalFromClaims(Lived(staff, 12 * 3600 + 1), limits);
  EXPECT_EQ(too_long.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(absl::StrContains(too_long.status().message(), "street_staff token lives at most"));
  EXPECT_FALSE(
      PrincipalFromClaims(Lived({{"sub", "ops"}, {"role", "admin"}}, 13 * 3600), limits).ok());
  const nlohmann::json worker = {{"sub", "workers/w1"}, {"role", "worker"}};
  EXPECT_TRUE(PrincipalFromClaims(Lived(worker, 30 * 24 * 3600), limits).ok());
  EXPECT_FALSE(PrincipalFromClaims(Lived(worker, 30 * 24 * 3600 + 1), limits).ok());
  TokenLifetimes shorter;
  shorter.app = absl::Hours(1);
  EXPECT_FALSE(PrincipalFromClaims(Lived(worker, 2 * 3600), shorter).ok());
  nlohmann::json without_iat = Lived(worker);
  without_iat.erase("iat");
  EXPECT_FALSE(PrincipalFromClaims(without_iat, limits).ok());
}

}  // namespace
}  // namespace linli::auth
