#include "common/text.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "common/errors.h"

namespace linli {

size_t Utf8SequenceLength(absl::string_view text) {
  if (text.empty()) return 0;
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char c = byte(0);
  size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (len == 0 || len > text.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((byte(k) >> 6) != 0x2) return 0;
  }
  if (len == 2 && c < 0xC2) return 0;                            // overlong
  if (len == 3 && c == 0xE0 && byte(1) < 0xA0) return 0;         // overlong
  if (len == 3 && c == 0xED && byte(1) >= 0xA0) return 0;        // surrogates
  if (len == 4 && (c > 0xF4 || (c == 0xF0 && byte(1) < 0x90) ||  // overlong
                   (c == 0xF4 && byte(1) >= 0x90))) {            // beyond U+10FFFF
    return 0;
  }
  return len;
}

std::optional<size_t> Utf8Length(absl::string_view text) {
  size_t count = 0;
  for (size_t i = 0; i < text.size(); ++count) {
    const size_t len = Utf8SequenceLength(text.substr(i));
    if (len == 0) return std::nullopt;
    i += len;
  }
  return count;
}

std::string Utf8Prefix(absl::string_view text, size_t max_bytes) {
  static constexpr absl::string_view kEllipsis = "\u2026";
  static constexpr absl::string_view kReplacement = "\uFFFD";
  std::string out;
  // Written out piece by piece; `end` is the longest prefix so far that leaves room for the
  // ellipsis, where the text is cut if the whole does not fit.
  size_t end = 0;
  for (size_t i = 0; i < text.size();) {
    const size_t len = Utf8SequenceLength(text.substr(i));
    const absl::string_view piece = len == 0 ? kReplacement : text.substr(i, len);
    if (out.size() + piece.size() > max_bytes) {
      out.resize(end);
      if (end + kEllipsis.size() <= max_bytes) out.append(kEllipsis.data(), kEllipsis.size());
      return out;
    }
    out.append(piece.data(), piece.size());
    if (out.size() + kEllipsis.size() <= max_bytes) end = out.size();
    i += len == 0 ? 1 : len;
  }
  return out;
}

bool IsSlug(absl::string_view id, size_t max_length) {
  if (id.empty() || id.size() > max_length || id.front() == '-' || id.back() == '-') return false;
  for (char c : id) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

void AppendJsonString(std::string* out, absl::string_view text) {
  out->push_back('"');
  for (size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
      ++i;
    } else if (c < 0x20) {
      absl::StrAppendFormat(out, "\\u%04x", c);
      ++i;
    } else if (c < 0x80) {
      out->push_back(static_cast<char>(c));
      ++i;
    } else if (const size_t len = Utf8SequenceLength(text.substr(i)); len > 0) {
      out->append(text.data() + i, len);
      i += len;
    } else {
      out->append("\xEF\xBF\xBD");  // U+FFFD
      ++i;
    }
  }
  out->push_back('"');
}

absl::StatusOr<std::string> ParseResourceName(absl::string_view name, absl::string_view collection,
                                              absl::string_view field) {
  absl::string_view id = name;
  if (!absl::ConsumePrefix(&id, collection) || !absl::ConsumePrefix(&id, "/") || !IsSlug(id, 64)) {
    return InvalidField(std::string(field), absl::StrCat("must look like \"", collection,
                                                         "/ID\" (ID: lowercase "
                                                         "letters, digits and '-'), got \"",
                                                         name.substr(0, 80), "\""));
  }
  return std::string(id);
}

}  // namespace linli
