// Replays the fuzz bodies (fuzz_bodies.h) in the ordinary build, so `make test` checks the same
// invariants as the libFuzzer targets without clang:
//   - every seed file in corpus/<target>/ through its target's body (one test per file);
//   - 2,000 deterministic pseudo-random inputs per body (fixed seeds): half are seeds with a few
//     random byte edits, half are random strings over an alphabet suited to the target.
// Known findings (fuzz_bodies.h) are tolerated here so that `make test` stays green while they
// are open; each has a DISABLED_ test below that expects the fixed behaviour (run them with
// --gtest_also_run_disabled_tests). A broken invariant aborts the test binary with "fuzz invariant
// broken at ..." on stderr.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "common/auth/api_keys.h"
#include "common/auth/jwt.h"
#include "common/auth/principal.h"
#include "common/pagination.h"
#include "common/pii/field_cipher.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/fuzz/corpus_replay.h"
#include "tests/fuzz/fuzz_bodies.h"

namespace linli::fuzz {
namespace {

const Target kTargets[] = {
    {"gateway_json", JsonToGatewayRequest, "{}[]\":,.-+0123456789eE truefalsnul\\u\"nameparent"},
    {"gateway_proto", ProtoParseRequest, "\x08\x0a\x10\x12\x18\x1a\x20\x22\x01\x02\x05\x7f\x80"},
    {"page_token", PageToken, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_="},
    {"field_cipher", FieldCipherToken,
     "v1.k2_-ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"},
    {"auth_token", AuthToken,
     "\x00\x01.eyJhbGciOiJIUzI1NiIsImtpZCI6ImsxIn0lk_-ABCDEFabcdef0123456789"},
};

class CorpusReplay : public ::testing::TestWithParam<SeedParam> {};

TEST_P(CorpusReplay, BodyHolds) {
  const Target& target = kTargets[GetParam().first];
  const std::filesystem::path path = SeedPath(target, GetParam().second);
  ASSERT_TRUE(std::filesystem::is_regular_file(path)) << path;
  Feed(target, ReadFile(path));
}

INSTANTIATE_TEST_SUITE_P(Seeds, CorpusReplay, ::testing::ValuesIn(AllSeeds(kTargets)),
                         [](const ::testing::TestParamInfo<SeedParam>& info) {
                           return SeedTestName(kTargets, info.param);
                         });

TEST(Corpus, EveryTargetHasSeeds) {
  for (const Target& target : kTargets) {
    const size_t count = Seeds(target).size();
    EXPECT_GE(count, 5u) << target.name;
    EXPECT_LE(count, 15u) << target.name;
  }
}

// The seeds are what they claim: every seed not named bad_* / other_* / short / unknown_* is
// accepted by the code under test, so the corpus reaches the round-trip checks, not only the
// rejections.
bool ExpectedValid(const std::string& file) {
  return !absl::StartsWith(file, "bad_") && !absl::StartsWith(file, "other_") &&
         !absl::StartsWith(file, "unknown_") && file != "short";
}

const google::protobuf::Message& Prototype(const std::string& seed) {
  const auto* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(kGatewayService);
  const auto* method = service->method(static_cast<uint8_t>(seed[0]) % service->method_count());
  return *google::protobuf::MessageFactory::generated_factory()->GetPrototype(method->input_type());
}

TEST(Corpus, ValidSeedsAreAccepted) {
  const auto cipher = pii::FieldCipher::FromSpec(kFieldCipherSpec);
  ASSERT_TRUE(cipher.ok()) << cipher.status();
  for (const Target& target : kTargets) {
    for (const std::string& file : Seeds(target)) {
      const std::string seed = ReadFile(SeedPath(target, file));
      const std::string name = std::string(target.name) + "/" + file;
      bool accepted = false;
      if (target.body == JsonToGatewayRequest) {
        ASSERT_FALSE(seed.empty()) << name;
        std::unique_ptr<google::protobuf::Message> request(Prototype(seed).New());
        accepted = google::protobuf::util::JsonStringToMessage(seed.substr(1), request.get()).ok();
      } else if (target.body == ProtoParseRequest) {
        ASSERT_FALSE(seed.empty()) << name;
        std::unique_ptr<google::protobuf::Message> request(Prototype(seed).New());
        accepted = request->ParseFromString(seed.substr(1));
      } else if (target.body == PageToken) {
        accepted = DecodePageToken(seed, kPageTokenFingerprint).ok();
      } else if (target.body == AuthToken) {
        ASSERT_FALSE(seed.empty()) << name;
        accepted = seed[0] % 2 == 1
                       ? auth::ParseApiKey(seed.substr(1)).ok()
                       : auth::PrincipalFromClaims(
                             auth::JwtVerifier(
                                 [] {
                                   auth::JwtKeySet keys;
                                   keys.Add(*auth::JwtKey::Hmac("k1", kAuthFuzzSecret));
                                   return keys;
                                 }(),
                                 {.issuer = "linli-fuzz", .audience = "linli-gateway"})
                                 .Verify(seed.substr(1), absl::FromUnixSeconds(kAuthFuzzNow))
                                 .value_or(nlohmann::json::object()),
                             auth::TokenLifetimes{})
                             .ok();
      } else {
        accepted = cipher->Decrypt(seed, kFieldCipherSeedAad).ok();
      }
      EXPECT_EQ(accepted, ExpectedValid(file)) << name;
    }
  }
}

// 2,000 inputs per target from a fixed seed: seeds with up to 4 random edits (replace, insert,
// erase, truncate), and random strings mostly over the target's alphabet.
void RandomInputs(const Target& target, uint32_t seed) {
  InputMaker inputs(target, seed);
  ASSERT_TRUE(inputs.has_seeds()) << target.name;
  for (int i = 0; i < 2000; ++i) Feed(target, i % 2 == 0 ? inputs.Seed() : inputs.Random());
}

TEST(RandomInputs, GatewayJson) { RandomInputs(kTargets[0], 1001); }
TEST(RandomInputs, GatewayProto) { RandomInputs(kTargets[1], 1002); }
TEST(RandomInputs, PageToken) { RandomInputs(kTargets[2], 1003); }
TEST(RandomInputs, FieldCipher) { RandomInputs(kTargets[3], 1004); }
TEST(RandomInputs, AuthToken) { RandomInputs(kTargets[4], 1005); }

// Found by RandomInputs.PageToken and page_token_fuzz: DecodePageToken used to accept spellings of
// a genuine token with whitespace, padding or other unused low bits ("pJDvyJKFFmcxM\tTIzNDU="
// for "pJDvyJKFFmcxMTIzNDU"). One page has exactly one token.
TEST(PageTokens, NonCanonicalSpellingsAreRejected) {
  const std::string token = EncodePageToken("12345", kPageTokenFingerprint);
  ASSERT_EQ(token, "pJDvyJKFFmcxMTIzNDU");
  std::string other_trailing_bits = token;
  other_trailing_bits.back() = 'V';  // 'U' = 010100: the two low bits are unused
  for (const std::string& edited :
       {token.substr(0, 4) + "\v" + token.substr(4), token + "\n", " " + token, token + "=",
        token.substr(0, 13) + "\t" + token.substr(13) + "=", other_trailing_bits}) {
    EXPECT_EQ(DecodePageToken(edited, kPageTokenFingerprint).status().code(),
              absl::StatusCode::kInvalidArgument)
        << absl::CHexEscape(edited);
  }
}

}  // namespace
}  // namespace linli::fuzz
