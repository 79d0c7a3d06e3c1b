// Fuzz bodies: the invariants checked by the libFuzzer targets in this folder, as plain functions
// so that fuzz_corpus_test replays the seed corpus (and fixed-seed random inputs) through exactly
// the same checks in the ordinary g++ build. Same pattern as common/recurrence/rrule_testing.h.
//
// Each body takes raw fuzzer bytes, never throws, and returns normally when every invariant
// holds. A broken invariant is a finding: LINLI_FUZZ_CHECK prints "fuzz invariant broken: ..."
// with the file and line to stderr and calls std::abort(), which libFuzzer turns into a saved
// crash-* reproducer and gtest into a failed (dead) test.
//
//   linli::fuzz::PageToken(data, size);   // aborts iff DecodePageToken misbehaves on data
//
// There is deliberately no gtest in here: the libFuzzer binaries link only this and the code
// under test.
#ifndef LINLI_TESTS_FUZZ_FUZZ_BODIES_H_
#define LINLI_TESTS_FUZZ_FUZZ_BODIES_H_

#include <cstddef>
#include <cstdint>

namespace linli::fuzz {

// The service whose request messages JsonToGatewayRequest and ProtoParseRequest fuzz.
inline constexpr char kGatewayService[] = "linli.gateway.v1.ConsoleService";
// The query fingerprint PageToken decodes under.
inline constexpr char kPageTokenFingerprint[] = "fp";
// The fixed keyring of FieldCipherToken: key id "k1", key bytes 0x00, 0x01, ..., 0x1f. Test-only;
// never a real key.
inline constexpr char kFieldCipherSpec[] = "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
// The associated data FieldCipherToken decrypts under. No token for it exists anywhere, so a
// successful Decrypt is a forgery.
inline constexpr char kFieldCipherAad[] = "aad";
// The associated data of the genuine tokens in corpus/field_cipher/ (made by Encrypt with
// kFieldCipherSpec); under it Decrypt may only ever return one of kFieldCipherSeedPlaintexts.
inline constexpr char kFieldCipherSeedAad[] = "elders/1#phone";
inline constexpr const char* kFieldCipherSeedPlaintexts[] = {
    "", "13812345678", "上海市黄浦区某路1号", "310101195001011234"};

// (a) First byte picks a method of kGatewayService (modulo the method count); the rest is parsed
// as JSON into that method's input message, exactly as the gateway's HTTP handler does
// (JsonStringToMessage, ignore_unknown_fields = false). An accepted message must print as JSON,
// parse back to an equal message (MessageDifferencer, NaN equal to NaN), and survive a binary
// serialize/parse round trip unchanged.
void JsonToGatewayRequest(const uint8_t* data, size_t size);

// (b) Same method choice; the rest is parsed as protobuf binary of the input message. An accepted
// message must serialize deterministically, parse back to an equal message (unknown fields
// included), and serialize again to the same bytes.
void ProtoParseRequest(const uint8_t* data, size_t size);

// (c) The whole input is a page token for kPageTokenFingerprint. DecodePageToken must not crash;
// a rejection must be INVALID_ARGUMENT; an acceptance of a non-empty token must round-trip
// exactly: EncodePageToken(key) == input and DecodePageToken(that) == key (every accepted token
// is the one canonical token for its key, so tokens are not malleable).
void PageToken(const uint8_t* data, size_t size);

// (d) The whole input is a field token for the kFieldCipherSpec keyring. Decrypt under
// kFieldCipherAad must fail with INVALID_ARGUMENT, FAILED_PRECONDITION or DATA_LOSS (success =
// forgery); Decrypt under kFieldCipherSeedAad may succeed only with a seed plaintext;
// NeedsReencryption must be false only for tokens that start "v1.k1.".
void FieldCipherToken(const uint8_t* data, size_t size);

// (e) Credentials the gateway accepts (common/auth). First byte even: the rest is an access
// token verified at kAuthFuzzNow against a key set of an HS256 key "k1" (secret kAuthFuzzSecret)
// and an RS256 public key "r1" whose private key nobody has. A rejection must be
// UNAUTHENTICATED; an acceptance must be under "k1" (an "r1" acceptance is a forgery), carry
// iss "linli-fuzz", and be spelled canonically (each segment re-encodes to itself, so tokens are
// not malleable); PrincipalFromClaims on it must give OK or UNAUTHENTICATED. First byte odd: the
// rest is a partner API key; ParseApiKey must reject with UNAUTHENTICATED or accept only the
// canonical "lk.<id>.<secret>" spelling.
inline constexpr char kAuthFuzzSecret[] = "fuzz-secret-0123456789abcdef0123";
inline constexpr int64_t kAuthFuzzNow = 1800000000;
void AuthToken(const uint8_t* data, size_t size);

}  // namespace linli::fuzz

#endif  // LINLI_TESTS_FUZZ_FUZZ_BODIES_H_
