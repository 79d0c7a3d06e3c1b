#include "common/pii/masking.h"

#include <algorithm>
#include <cstddef>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace linli::pii {
namespace {

constexpr absl::string_view kReplacementChar = "\xEF\xBF\xBD";  // U+FFFD
constexpr absl::string_view kAddressMask = "****";

bool IsContinuation(unsigned char b) { return (b & 0xC0) == 0x80; }

// Byte length of a well-formed UTF-8 character starting at s[0], or 0 if it is not one.
size_t Utf8CharLength(absl::string_view s) {
  const auto b0 = static_cast<unsigned char>(s[0]);
  size_t n = 0;
  if (b0 < 0x80) return 1;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
  } else {
    return 0;
  }
  if (s.size() < n) return 0;
  for (size_t i = 1; i < n; ++i) {
    if (!IsContinuation(static_cast<unsigned char>(s[i]))) return 0;
  }
  const auto b1 = static_cast<unsigned char>(s[1]);
  // Reject overlong forms, UTF-16 surrogates and code points above U+10FFFF.
  if ((b0 == 0xE0 && b1 < 0xA0) || (b0 == 0xED && b1 > 0x9F) || (b0 == 0xF0 && b1 < 0x90) ||
      (b0 == 0xF4 && b1 > 0x8F)) {
    return 0;
  }
  return n;
}

// Splits into characters. An invalid byte becomes its own one-byte "character" that Append()
// turns into U+FFFD, so every output is valid UTF-8 and nothing is cut mid-character.
std::vector<absl::string_view> Utf8Chars(absl::string_view s) {
  std::vector<absl::string_view> chars;
  chars.reserve(s.size());
  while (!s.empty()) {
    size_t n = Utf8CharLength(s);
    chars.push_back(s.substr(0, n == 0 ? 1 : n));
    s.remove_prefix(n == 0 ? 1 : n);
  }
  return chars;
}

void AppendKept(std::string* out, absl::string_view c) {
  if (Utf8CharLength(c) == c.size()) {
    out->append(c.data(), c.size());
  } else {
    out->append(kReplacementChar.data(), kReplacementChar.size());
  }
}

// Keeps chars[0, head) and chars[size - tail, size), one '*' for each character in between.
std::string KeepHeadTail(const std::vector<absl::string_view>& chars, size_t head, size_t tail) {
  std::string out;
  for (size_t i = 0; i < chars.size(); ++i) {
    if (i < head || i + tail >= chars.size()) {
      AppendKept(&out, chars[i]);
    } else {
      out.push_back('*');
    }
  }
  return out;
}

bool AllDigits(absl::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return absl::ascii_isdigit(c); });
}

bool IsMobile(absl::string_view s) {
  return s.size() == 11 && s[0] == '1' && s[1] >= '3' && s[1] <= '9' && AllDigits(s);
}

bool IsAreaCode(absl::string_view s) {
  return (s.size() == 3 || s.size() == 4) && s[0] == '0' && AllDigits(s);
}

bool IsLocalNumber(absl::string_view s) { return (s.size() == 7 || s.size() == 8) && AllDigits(s); }

std::string RemoveChars(absl::string_view s, absl::string_view drop) {
  std::string out;
  for (char c : s) {
    if (drop.find(c) == absl::string_view::npos) out.push_back(c);
  }
  return out;
}

// The national number without separators or country code, if that is what `phone` looks like.
std::string CompactPhone(absl::string_view phone) {
  std::string compact = RemoveChars(absl::StripAsciiWhitespace(phone), " \t-");
  absl::string_view rest = compact;
  if (absl::ConsumePrefix(&rest, "+86") || absl::ConsumePrefix(&rest, "0086")) {
    return std::string(rest);
  }
  return compact;
}

}  // namespace

std::string MaskIdNumber(absl::string_view id_number) {
  std::vector<absl::string_view> chars = Utf8Chars(id_number);
  if (chars.size() == 18) return KeepHeadTail(chars, 3, 4);
  return KeepHeadTail(chars, 0, std::min<size_t>(2, chars.size() / 2));
}

std::string MaskPhone(absl::string_view phone) {
  const std::string compact = CompactPhone(phone);
  if (IsMobile(compact)) {
    return absl::StrCat(compact.substr(0, 3), "****", compact.substr(7));
  }
  absl::string_view trimmed = absl::StripAsciiWhitespace(phone);
  const size_t separator = trimmed.find_first_of("- ");
  if (separator != absl::string_view::npos) {
    absl::string_view area = trimmed.substr(0, separator);
    const std::string local = RemoveChars(trimmed.substr(separator + 1), " \t-");
    if (IsAreaCode(area) && IsLocalNumber(local)) {
      return absl::StrCat(area, "-", std::string(local.size() - 4, '*'),
                          absl::string_view(local).substr(local.size() - 4));
    }
  }
  std::vector<absl::string_view> chars = Utf8Chars(trimmed);
  return KeepHeadTail(chars, 0, std::min<size_t>(4, chars.size() / 2));
}

std::string MaskAddress(absl::string_view address) {
  std::vector<absl::string_view> chars = Utf8Chars(absl::StripAsciiWhitespace(address));
  if (chars.empty()) return "";
  // Street-level markers: what comes after them (number, building, room) pinpoints the home.
  static constexpr absl::string_view kMarkers[] = {"路", "街", "弄", "村", "镇", "道"};
  size_t keep = std::min<size_t>(6, chars.size() / 2);
  for (size_t i = 0; i < chars.size(); ++i) {
    if (std::find(std::begin(kMarkers), std::end(kMarkers), chars[i]) != std::end(kMarkers)) {
      keep = i + 1;
      break;
    }
  }
  std::string out;
  for (size_t i = 0; i < keep; ++i) AppendKept(&out, chars[i]);
  out.append(kAddressMask.data(), kAddressMask.size());
  return out;
}

std::string MaskName(absl::string_view name) {
  std::vector<absl::string_view> chars = Utf8Chars(absl::StripAsciiWhitespace(name));
  if (chars.size() <= 1) return std::string(chars.size(), '*');
  return KeepHeadTail(chars, 1, 0);
}

absl::Status ValidateIdNumber(absl::string_view id, absl::CivilDay today) {
  if (id.size() != 18) {
    return absl::InvalidArgumentError("ID number must be 18 characters");
  }
  if (!AllDigits(id.substr(0, 17))) {
    return absl::InvalidArgumentError("ID number must start with 17 digits");
  }
  if (!absl::ascii_isdigit(id[17]) && id[17] != 'X') {
    return absl::InvalidArgumentError(
        "ID number must end with a digit or uppercase X (check character)");
  }

  auto number = [&](size_t pos, size_t len) {
    int value = 0;
    for (size_t i = pos; i < pos + len; ++i) value = value * 10 + (id[i] - '0');
    return value;
  };
  const int year = number(6, 4), month = number(10, 2), day = number(12, 2);
  // CivilDay normalises 2023-02-30 to March 2nd: a date that does not round-trip is not real.
  const absl::CivilDay birth(year, month, day);
  if (birth.year() != year || birth.month() != month || birth.day() != day || year < 1900 ||
      birth > today) {
    return absl::InvalidArgumentError("ID number does not contain a plausible birth date");
  }

  // ISO 7064 MOD 11-2: weight of position i (0-based) is 2^(17-i) mod 11.
  static constexpr int kWeights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  static constexpr char kCheck[] = "10X98765432";
  int sum = 0;
  for (size_t i = 0; i < 17; ++i) sum += (id[i] - '0') * kWeights[i];
  if (id[17] != kCheck[sum % 11]) {
    return absl::InvalidArgumentError("ID number check character does not match");
  }
  return absl::OkStatus();
}

std::string NormalizeIdNumber(absl::string_view id_number) {
  std::string out(absl::StripAsciiWhitespace(id_number));
  if (!out.empty() && out.back() == 'x') out.back() = 'X';
  return out;
}

absl::Status ValidatePhone(absl::string_view phone) {
  if (IsMobile(phone)) return absl::OkStatus();
  const size_t dash = phone.find('-');
  if (dash != absl::string_view::npos && IsAreaCode(phone.substr(0, dash)) &&
      IsLocalNumber(phone.substr(dash + 1))) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      "phone must be a mobile number (1, then 3-9, then 9 digits) or a landline (0 and a 2-3 "
      "digit area code, '-', 7-8 digits)");
}

absl::StatusOr<std::string> NormalizePhone(absl::string_view phone) {
  std::string compact = CompactPhone(phone);
  if (IsMobile(compact)) return compact;
  if (compact.size() >= 10 && compact.size() <= 12 && compact[0] == '0' && AllDigits(compact)) {
    return compact;
  }
  return absl::InvalidArgumentError(
      "phone must be a mobile number (1, then 3-9, then 9 digits) or a landline (0 and a 2-3 "
      "digit area code, '-', 7-8 digits)");
}

}  // namespace linli::pii
