// UTF-8 text helpers shared by validation and logging.
//
//   if (!Utf8Length(name).has_value()) v.Add("name", "must be valid UTF-8");
//   std::string line; AppendJsonString(&line, value);   // "…" with escapes
#ifndef LINLI_COMMON_TEXT_H_
#define LINLI_COMMON_TEXT_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace linli {

// Length in bytes of the valid UTF-8 sequence starting at text[0]; 0 if it is not one (a stray
// continuation byte, a truncated sequence, an overlong form or a surrogate).
size_t Utf8SequenceLength(absl::string_view text);

// Number of Unicode code points in valid UTF-8 text; nullopt if `text` is not valid UTF-8.
std::optional<size_t> Utf8Length(absl::string_view text);

// `text` cut to at most `max_bytes` bytes for a message: the longest prefix that ends on a
// character boundary, followed by "…" when anything was cut (the result then stays within
// max_bytes, "…" included). Bytes that are not UTF-8 become U+FFFD (which may shorten what fits).
std::string Utf8Prefix(absl::string_view text, size_t max_bytes);

// A caller-chosen id or code: 1..max_length of [a-z0-9-], not starting or ending with '-'.
bool IsSlug(absl::string_view id, size_t max_length);

// "organisations/wlq-office" -> "wlq-office" when `name` is "<collection>/<id>" and the id is a
// slug of at most 64 characters. INVALID_ARGUMENT naming `field` otherwise.
absl::StatusOr<std::string> ParseResourceName(absl::string_view name, absl::string_view collection,
                                              absl::string_view field);

// Appends `text` as a JSON string literal (quotes included). Invalid UTF-8 bytes become U+FFFD,
// so the output is always valid JSON.
void AppendJsonString(std::string* out, absl::string_view text);

}  // namespace linli

#endif  // LINLI_COMMON_TEXT_H_
