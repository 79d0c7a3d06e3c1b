#include "common/pagination.h"
#include "absl/strings/string_view.h"

#include <openssl/sha.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/status_macros.h"

namespace linli {
namespace {

constexpr char kVersion = '1';
constexpr size_t kChecksumBytes = 8;

// The first bytes of SHA-256 over the token body and the query fingerprint: binds a token to its
// query and detects corruption or hand-made tokens.
std::string Checksum(absl::string_view body, absl::string_view fingerprint) {
  std::string input = absl::StrCat(body, "\x1f", fingerprint);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  return std::string(reinterpret_cast<const char*>(digest), kChecksumBytes);
}

absl::Status BadToken(std::string description) {
  return InvalidField("page_token", std::move(description),
                      common::v1::ERROR_REASON_INVALID_PAGE_TOKEN);
}

}  // namespace

absl::StatusOr<int> ResolvePageSize(int requested, int default_size, int max_size) {
  if (requested < 0) return InvalidField("page_size", "must not be negative");
  if (requested == 0) return default_size;
  return requested > max_size ? max_size : requested;
}

std::string EncodePageToken(absl::string_view last_key, absl::string_view query_fingerprint) {
  std::string body = absl::StrCat(std::string(1, kVersion), last_key);
  return absl::WebSafeBase64Escape(absl::StrCat(Checksum(body, query_fingerprint), body));
}

absl::StatusOr<std::string> DecodePageToken(absl::string_view token,
                                            absl::string_view query_fingerprint) {
  if (token.empty()) return std::string();
  if (token.size() > 1024) return BadToken("is too long");
  std::string raw;
  // Only the exact text EncodePageToken produces is accepted (Abseil's decoder also takes
  // whitespace, padding and stray low bits): one page, one token.
  if (!absl::WebSafeBase64Unescape(token, &raw) || raw.size() < kChecksumBytes + 1 ||
      absl::WebSafeBase64Escape(raw) != token) {
    return BadToken("is not a token issued by this service");
  }
  absl::string_view checksum(raw.data(), kChecksumBytes);
  absl::string_view body(raw.data() + kChecksumBytes, raw.size() - kChecksumBytes);
  if (body[0] != kVersion || checksum != Checksum(body, query_fingerprint)) {
    return BadToken("is not a token issued for this query (were the filters changed?)");
  }
  return std::string(body.substr(1));
}

absl::StatusOr<Page> Page::Start(int requested_size, absl::string_view token,
                                 std::string fingerprint, int default_size, int max_size) {
  Page page;
  ASSIGN_OR_RETURN(page.size, ResolvePageSize(requested_size, default_size, max_size));
  ASSIGN_OR_RETURN(page.after, DecodePageToken(token, fingerprint));
  page.fingerprint = std::move(fingerprint);
  return page;
}

}  // namespace linli
