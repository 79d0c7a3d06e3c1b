#include "common/pii/masking.h"

#include <algorithm>
#include <cstddef>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
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

// ---- Addresses ----------------------------------------------------------------------------

// A province-level division (省级行政区) as written in full, and the short form also in use.
struct Province {
  absl::string_view full;
  absl::string_view short_form;
  bool municipality;  // 直辖市: the city too, so districts come right after it
};

constexpr Province kProvinces[] = {
    {"北京市", "北京", true},          {"天津市", "天津", true},
    {"上海市", "上海", true},          {"重庆市", "重庆", true},
    {"河北省", "河北", false},         {"山西省", "山西", false},
    {"辽宁省", "辽宁", false},         {"吉林省", "吉林", false},
    {"黑龙江省", "黑龙江", false},     {"江苏省", "江苏", false},
    {"浙江省", "浙江", false},         {"安徽省", "安徽", false},
    {"福建省", "福建", false},         {"江西省", "江西", false},
    {"山东省", "山东", false},         {"河南省", "河南", false},
    {"湖北省", "湖北", false},         {"湖南省", "湖南", false},
    {"广东省", "广东", false},         {"海南省", "海南", false},
    {"四川省", "四川", false},         {"贵州省", "贵州", false},
    {"云南省", "云南", false},         {"陕西省", "陕西", false},
    {"甘肃省", "甘肃", false},         {"青海省", "青海", false},
    {"台湾省", "台湾", false},         {"内蒙古自治区", "内蒙古", false},
    {"广西壮族自治区", "广西", false}, {"西藏自治区", "西藏", false},
    {"宁夏回族自治区", "宁夏", false}, {"新疆维吾尔自治区", "新疆", false},
    {"香港特别行政区", "香港", false}, {"澳门特别行政区", "澳门", false},
};

enum class Level { kCity, kCounty, kTown };

// Characters in a valid UTF-8 constant.
constexpr size_t CharCount(absl::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

// Below the province, a unit is a name of Han characters followed by its level's suffix.
struct Suffix {
  Level level;
  absl::string_view text;
  size_t min_name_chars;  // before the suffix: 2 for 旗, so that 红旗区 is a district, not a banner
  size_t max_chars;  // of the whole unit: 克孜勒苏柯尔克孜自治州 has 11, 双江…自治县 15
};

constexpr Suffix kSuffixes[] = {
    // 地级: 自治州, 地区, 盟, 市.
    {Level::kCity, "自治州", 1, 12},
    {Level::kCity, "地区", 1, 7},
    {Level::kCity, "盟", 2, 6},
    {Level::kCity, "市", 1, 6},
    // 县级: 区 (新区, 林区, 特区 too), 县 (自治县), 旗 (自治旗), 市 (a county-level city).
    {Level::kCounty, "区", 1, 7},
    {Level::kCounty, "县", 1, 15},
    {Level::kCounty, "旗", 2, 12},
    {Level::kCounty, "市", 1, 6},
    // 乡级: 街道, 镇, 乡 (民族乡 too), 苏木.
    {Level::kTown, "街道", 1, 10},
    {Level::kTown, "镇", 1, 8},
    {Level::kTown, "乡", 1, 12},
    {Level::kTown, "苏木", 1, 8},
};

// Endings that look like a suffix but name a place inside a district: a market, a residential
// compound or a zone.
constexpr absl::string_view kMarkets[] = {"超市", "菜市", "夜市", "集市",
                                          "门市", "早市", "花市", "股市"};
constexpr absl::string_view kZones[] = {"小区",   "社区",   "园区",   "校区",   "景区",   "厂区",
                                        "片区",   "街区",   "开发区", "工业区", "商业区", "产业区",
                                        "保税区", "住宅区", "生活区", "宿舍区", "中心区", "示范区",
                                        "试验区", "功能区", "管理区"};
// Only these 新区 are county-level divisions; others are development zones or housing estates
// (古北新区).
constexpr absl::string_view kNewDistricts[] = {"浦东新区", "滨海新区", "沈北新区"};
// Before 区, the phase of a compound (康城一区, 阳光花园东区); real districts of that shape have
// three characters (河东区, 市北区, 城中区).
constexpr absl::string_view kPhases[] = {"东", "西", "南", "北", "中", "一", "二", "三",
                                         "四", "五", "六", "七", "八", "九", "十"};

template <size_t N>
bool EndsWithAny(absl::string_view unit, const absl::string_view (&endings)[N]) {
  return std::any_of(std::begin(endings), std::end(endings),
                     [&](absl::string_view e) { return absl::EndsWith(unit, e); });
}

// A candidate that is not a division: it ends the parse, since what follows is not administrative
// either.
bool IsRefused(absl::string_view unit, size_t chars, Level level) {
  switch (level) {
    case Level::kCity:
      if (EndsWithAny(unit, kMarkets) || absl::EndsWith(unit, "联盟")) return true;
      break;
    case Level::kCounty:
      if (EndsWithAny(unit, kMarkets) || EndsWithAny(unit, kZones)) return true;
      if (absl::EndsWith(unit, "新区")) {
        return std::find(std::begin(kNewDistricts), std::end(kNewDistricts), unit) ==
               std::end(kNewDistricts);
      }
      if (chars >= 4 && absl::EndsWith(unit, "区") &&
          EndsWithAny(unit.substr(0, unit.size() - absl::string_view("区").size()), kPhases)) {
        return true;
      }
      break;
    case Level::kTown:
      return absl::EndsWith(unit, "小镇");
  }
  // 城市 and 都市 end real cities of three characters (晋城市, 成都市), and compounds' names
  // (阳光城市花园).
  return chars >= 4 && (absl::EndsWith(unit, "城市") || absl::EndsWith(unit, "都市"));
}

// Code point of one well-formed UTF-8 character.
char32_t CodePoint(absl::string_view c) {
  const auto b = [&](size_t i) { return static_cast<char32_t>(static_cast<unsigned char>(c[i])); };
  switch (c.size()) {
    case 1:
      return b(0);
    case 2:
      return ((b(0) & 0x1F) << 6) | (b(1) & 0x3F);
    case 3:
      return ((b(0) & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F);
    default:
      return ((b(0) & 0x07) << 18) | ((b(1) & 0x3F) << 12) | ((b(2) & 0x3F) << 6) | (b(3) & 0x3F);
  }
}

// CJK unified ideographs (with extensions A-H) and compatibility ideographs.
bool IsHan(absl::string_view c) {
  if (Utf8CharLength(c) != c.size() || c.size() < 3) return false;
  const char32_t cp = CodePoint(c);
  return (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x4E00 && cp <= 0x9FFF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x20000 && cp <= 0x323AF);
}

// What may stand between two units: "上海市 黄浦区".
bool IsSeparator(absl::string_view c) { return c == " " || c == "\t" || c == "\u3000"; }

// The trimmed address as characters, with byte offsets to cut it at character boundaries.
class AddressText {
 public:
  explicit AddressText(absl::string_view text) : text_(text), chars_(Utf8Chars(text)) {
    offsets_.reserve(chars_.size() + 1);
    size_t offset = 0;
    for (absl::string_view c : chars_) {
      offsets_.push_back(offset);
      offset += c.size();
    }
    offsets_.push_back(offset);
  }

  size_t size() const { return chars_.size(); }
  absl::string_view operator[](size_t i) const { return chars_[i]; }
  // Characters [begin, end).
  absl::string_view Sub(size_t begin, size_t end) const {
    return text_.substr(offsets_[begin], offsets_[end] - offsets_[begin]);
  }
  size_t SkipSeparators(size_t i) const {
    while (i < size() && IsSeparator(chars_[i])) ++i;
    return i;
  }

 private:
  absl::string_view text_;
  std::vector<absl::string_view> chars_;
  std::vector<size_t> offsets_;
};

struct Candidate {
  size_t end = 0;  // one past the unit's last character
  bool refused = false;
};

// The shortest unit of `level` starting at character `begin`: Han characters, a name of at least
// the suffix's minimum before it, within the suffix's length.
std::optional<Candidate> FindUnit(const AddressText& text, size_t begin, Level level) {
  constexpr size_t kMaxUnitChars = 15;  // the longest max_chars
  for (size_t end = begin + 1;
       end <= text.size() && end - begin <= kMaxUnitChars && IsHan(text[end - 1]); ++end) {
    const absl::string_view unit = text.Sub(begin, end);
    const size_t chars = end - begin;
    for (const Suffix& suffix : kSuffixes) {
      // Compare characters, not bytes: a Han character has 3 or 4.
      if (suffix.level == level && chars <= suffix.max_chars && absl::EndsWith(unit, suffix.text) &&
          chars >= CharCount(suffix.text) + suffix.min_name_chars) {
        return Candidate{end, IsRefused(unit, chars, level)};
      }
    }
  }
  return std::nullopt;
}

// The next unit at `begin` of level `from` or below: a city or county first (the one that ends
// first; on a tie the city), a town only when there is neither (新乡市 is a city, not the town
// 新乡).
std::optional<std::pair<Level, Candidate>> NextUnit(const AddressText& text, size_t begin,
                                                    Level from) {
  std::optional<std::pair<Level, Candidate>> best;
  for (Level level : {Level::kCity, Level::kCounty}) {
    if (level < from) continue;
    std::optional<Candidate> found = FindUnit(text, begin, level);
    if (found && (!best || found->end < best->second.end)) best.emplace(level, *found);
  }
  if (!best) {
    if (std::optional<Candidate> town = FindUnit(text, begin, Level::kTown)) {
      best.emplace(Level::kTown, *town);
    }
  }
  return best;
}

// Where each administrative unit at the start of the address ends, and its level (nullopt for the
// province), in order.
std::vector<std::pair<size_t, std::optional<Level>>> AdministrativeUnits(const AddressText& text) {
  std::vector<std::pair<size_t, std::optional<Level>>> units;
  const size_t start = text.SkipSeparators(0);  // a leading U+3000
  size_t pos = start;
  Level next = Level::kCity;
  const absl::string_view all = text.Sub(start, text.size());
  for (const Province& province : kProvinces) {
    if (absl::StartsWith(all, province.full)) {
      pos = start + CharCount(province.full);
    } else if (absl::StartsWith(all, province.short_form)) {
      // The short form only before a city or county: 上海黄浦区, but not 上海路 or 西藏中路.
      const size_t after = start + CharCount(province.short_form);
      std::optional<std::pair<Level, Candidate>> unit =
          NextUnit(text, text.SkipSeparators(after), Level::kCity);
      if (!unit || unit->first == Level::kTown || unit->second.refused) continue;
      pos = after;
    } else {
      continue;
    }
    units.emplace_back(pos, std::nullopt);
    if (province.municipality) next = Level::kCounty;
    break;
  }
  while (true) {
    const size_t begin = text.SkipSeparators(pos);
    std::optional<std::pair<Level, Candidate>> unit = NextUnit(text, begin, next);
    if (!unit || unit->second.refused) break;
    pos = unit->second.end;
    units.emplace_back(pos, unit->first);
    if (unit->first == Level::kTown) break;
    next = static_cast<Level>(static_cast<int>(unit->first) + 1);
  }
  return units;
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

std::string MaskAddress(absl::string_view address, AddressLevel keep) {
  const AddressText text(absl::StripAsciiWhitespace(address));
  if (text.size() == 0) return "";
  std::vector<std::pair<size_t, std::optional<Level>>> units = AdministrativeUnits(text);
  if (keep == AddressLevel::kDistrict) {
    while (!units.empty() && units.back().second == Level::kTown) units.pop_back();
  }
  // Never more than half of the address: a short one is not shown whole, or nearly so.
  while (!units.empty() && units.back().first * 2 > text.size()) units.pop_back();
  std::string out;
  if (!units.empty()) out = std::string(text.Sub(0, units.back().first));  // Han and separators
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
