#include "common/pii/masking.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace linli::pii {
namespace {

// The day the ID numbers below are checked on (the caller passes its clock's Shanghai date).
constexpr absl::CivilDay kToday(2026, 12, 4);

// Strict UTF-8 check written independently of masking.cc's decoder.
bool IsValidUtf8(absl::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n;
    unsigned int cp;
    if (c < 0x80) {
      n = 1;
      cp = c;
    } else if ((c >> 5) == 0x6) {
      n = 2;
      cp = c & 0x1F;
    } else if ((c >> 4) == 0xE) {
      n = 3;
      cp = c & 0x0F;
    } else if ((c >> 3) == 0x1E) {
      n = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc >> 6) != 0x2) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    const unsigned int min_cp[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n;
  }
  return true;
}

size_t CountUnmasked(absl::string_view masked) {
  size_t n = 0;
  for (char c : masked) n += c != '*';
  return n;
}

// Independent ISO 7064 MOD 11-2: weights 2^(17-i) mod 11, check value (12 - sum mod 11) mod 11,
// where 10 is written 'X'.
char CheckCharacter(absl::string_view first17) {
  int sum = 0;
  int weight = 1;
  for (int i = 16; i >= 0; --i) {
    weight = weight * 2 % 11;  // 2^(17-i) mod 11
    sum += (first17[i] - '0') * weight;
  }
  const int value = (12 - sum % 11) % 11;
  return value == 10 ? 'X' : static_cast<char>('0' + value);
}

std::string WithCheck(absl::string_view first17) {
  return absl::StrCat(first17, std::string(1, CheckCharacter(first17)));
}

TEST(MaskIdNumberTest, KeepsFirstThreeAndLastFour) {
  EXPECT_EQ(MaskIdNumber("310101194501011234"), "310***********1234");
  EXPECT_EQ(MaskIdNumber("11010519491231002X"), "110***********002X");
}

TEST(MaskIdNumberTest, OddInputsRevealAtMostTwoAndNeverMoreThanHalf) {
  EXPECT_EQ(MaskIdNumber(""), "");
  EXPECT_EQ(MaskIdNumber("1"), "*");
  EXPECT_EQ(MaskIdNumber("12"), "*2");
  EXPECT_EQ(MaskIdNumber("1234"), "**34");
  EXPECT_EQ(MaskIdNumber("310101450101123"), "*************23");  // legacy 15-digit
  EXPECT_EQ(MaskIdNumber("3101011945010112345"), "*****************45");
  for (size_t n = 0; n <= 40; ++n) {
    const std::string masked = MaskIdNumber(std::string(n, '7'));
    EXPECT_EQ(masked.size(), n);
    EXPECT_LE(CountUnmasked(masked), 7u) << n;
    EXPECT_LE(CountUnmasked(masked), n / 2) << n;
  }
}

TEST(MaskIdNumberTest, MultibyteInputIsMaskedByCharacter) {
  // 18 characters, three bytes each: masking counts characters, not bytes.
  const std::string chinese = "一二三四五六七八九十甲乙丙丁戊己庚辛";
  EXPECT_EQ(MaskIdNumber(chinese), "一二三***********戊己庚辛");
  const std::string masked = MaskIdNumber("３１０１０１");  // full-width digits
  EXPECT_EQ(masked, "****０１");
  EXPECT_TRUE(IsValidUtf8(masked));
}

TEST(MaskPhoneTest, MobileAndLandline) {
  EXPECT_EQ(MaskPhone("13812345678"), "138****5678");
  EXPECT_EQ(MaskPhone("138 1234 5678"), "138****5678");
  EXPECT_EQ(MaskPhone("+86 138-1234-5678"), "138****5678");
  EXPECT_EQ(MaskPhone("021-64181234"), "021-****1234");
  EXPECT_EQ(MaskPhone("0571-8123456"), "0571-***3456");
  EXPECT_EQ(MaskPhone("010 12345678"), "010-****5678");
}

TEST(MaskPhoneTest, OtherFormatsKeepOnlyTheLastFour) {
  EXPECT_EQ(MaskPhone(""), "");
  EXPECT_EQ(MaskPhone("02164181234"), "*******1234");
  EXPECT_EQ(MaskPhone("(021)64181234"), "*********1234");
  EXPECT_EQ(MaskPhone("12812345678"), "*******5678");  // not a valid mobile prefix
  EXPECT_EQ(MaskPhone("12345"), "***45");
  EXPECT_EQ(MaskPhone("110"), "**0");
  EXPECT_EQ(MaskPhone("电话一二三四五六七八"), "******五六七八");
  for (size_t n = 0; n <= 30; ++n) {
    const std::string masked = MaskPhone(std::string(n, '9'));
    EXPECT_LE(CountUnmasked(masked), n / 2 + (n == 11 ? 2 : 0))
        << n;  // 99999999999 is a mobile: 7 shown
  }
}

TEST(MaskAddressTest, KeepsTheAdministrativePartUpToTheFirstStreetMarker) {
  EXPECT_EQ(MaskAddress("上海市徐汇区漕溪北路398号5号楼301室"), "上海市徐汇区漕溪北路****");
  EXPECT_EQ(MaskAddress("北京市东城区王府井大街1号"), "北京市东城区王府井大街****");
  EXPECT_EQ(MaskAddress("上海市长宁区愚园路1088弄3号"), "上海市长宁区愚园路****");  // 路 first
  EXPECT_EQ(MaskAddress("上海市黄浦区南京东弄12号"), "上海市黄浦区南京东弄****");
  EXPECT_EQ(MaskAddress("河北省保定市涞水县张家村5组"), "河北省保定市涞水县张家村****");
  EXPECT_EQ(MaskAddress("浙江省杭州市余杭区良渚镇安溪123号"), "浙江省杭州市余杭区良渚镇****");
  EXPECT_EQ(MaskAddress("广东省广州市天河区天河北道88号"), "广东省广州市天河区天河北道****");
  EXPECT_EQ(MaskAddress("  成都市武侯区玉林街道 "), "成都市武侯区玉林街****");
}

TEST(MaskAddressTest, WithoutMarkerKeepsAtMostSixCharacters) {
  EXPECT_EQ(MaskAddress("北京市朝阳区望京SOHO塔3-1201"), "北京市朝阳区****");
  EXPECT_EQ(MaskAddress("幸福小区"), "幸福****");  // short: never shown whole
  EXPECT_EQ(MaskAddress("Flat 3, 12 High Street"), "Flat 3****");
  EXPECT_EQ(MaskAddress(""), "");
  EXPECT_EQ(MaskAddress("   "), "");
}

TEST(MaskAddressTest, NeverCutsInsideACharacterAndRepairsInvalidBytes) {
  const std::vector<std::string> inputs = {
      "上海市徐汇区漕溪北路398号",
      "新疆维吾尔自治区乌鲁木齐市天山区",
      "𠀀𠀁𠀂𠀃𠀄𠀅𠀆𠀇路9号",
      "上海\xe5\xbe市徐汇区漕溪北路",  // truncated 3-byte sequence in the kept part
      "\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8",
  };
  for (const std::string& input : inputs) {
    const std::string masked = MaskAddress(input);
    EXPECT_TRUE(IsValidUtf8(masked)) << input;
    EXPECT_TRUE(absl::EndsWith(masked, "****")) << masked;
  }
  EXPECT_EQ(MaskAddress("𠀀𠀁𠀂𠀃𠀄𠀅𠀆𠀇路9号"), "𠀀𠀁𠀂𠀃𠀄𠀅𠀆𠀇路****");
  EXPECT_EQ(MaskAddress("上海\xe5\xbe市徐汇区漕溪北路"),
            "上海\xEF\xBF\xBD\xEF\xBF\xBD市徐汇区漕溪北路****");
  // Every prefix of a valid address (including cuts inside a character) masks to valid UTF-8.
  const std::string address = "上海市徐汇区漕溪北路398号";
  for (size_t n = 0; n <= address.size(); ++n) {
    EXPECT_TRUE(IsValidUtf8(MaskAddress(address.substr(0, n)))) << n;
    EXPECT_TRUE(IsValidUtf8(MaskIdNumber(address.substr(0, n)))) << n;
    EXPECT_TRUE(IsValidUtf8(MaskPhone(address.substr(0, n)))) << n;
    EXPECT_TRUE(IsValidUtf8(MaskName(address.substr(0, n)))) << n;
  }
}

TEST(MaskNameTest, KeepsTheFirstCharacter) {
  EXPECT_EQ(MaskName("王秀英"), "王**");
  EXPECT_EQ(MaskName("李四"), "李*");
  EXPECT_EQ(MaskName("欧阳娜娜"), "欧***");
  EXPECT_EQ(MaskName(" 张三 "), "张*");
  EXPECT_EQ(MaskName("Alice"), "A****");
  EXPECT_EQ(MaskName("王"), "*");
  EXPECT_EQ(MaskName(""), "");
}

TEST(ValidateIdNumberTest, AcceptsValidNumbers) {
  // The example from GB 11643-1999 itself, and numbers whose check character is computed by the
  // independent implementation above (covering a leap day and both century boundaries).
  EXPECT_TRUE(ValidateIdNumber("11010519491231002X", kToday).ok());
  EXPECT_EQ(WithCheck("11010519491231002"), "11010519491231002X");
  for (absl::string_view first17 :
       {"31010119450101123", "44030419350615201", "51010719480229301", "65010220000101777",
        "11010119000101000", "32058219330707888"}) {
    const std::string id = WithCheck(first17);
    EXPECT_TRUE(ValidateIdNumber(id, kToday).ok()) << id << ": " << ValidateIdNumber(id, kToday);
  }
}

TEST(ValidateIdNumberTest, RejectsWrongCheckCharacterAndShapes) {
  const std::string valid = WithCheck("31010119450101123");
  for (char c : std::string("0123456789X")) {
    if (c == valid[17]) continue;
    std::string wrong = valid;
    wrong[17] = c;
    absl::Status status = ValidateIdNumber(wrong, kToday);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << wrong;
    EXPECT_TRUE(absl::StrContains(status.message(), "check character")) << status;
  }
  // A single changed digit is always caught by MOD 11-2.
  for (size_t i = 0; i < 17; ++i) {
    std::string wrong = valid;
    wrong[i] = wrong[i] == '9' ? '8' : static_cast<char>(wrong[i] + 1);
    EXPECT_FALSE(ValidateIdNumber(wrong, kToday).ok()) << wrong;
  }
  const std::string lower_x = "11010519491231002x";
  EXPECT_FALSE(ValidateIdNumber(lower_x, kToday).ok());
  EXPECT_TRUE(ValidateIdNumber(NormalizeIdNumber(" 11010519491231002x\n"), kToday).ok());
  for (const std::string& bad :
       {std::string(""), valid.substr(0, 17), valid + "1", std::string("3101011945010A1234"),
        std::string("X10101194501011234"), std::string("31010119450101123Y"),
        std::string("３１０１０１１９４５０１０１１２")}) {
    EXPECT_EQ(ValidateIdNumber(bad, kToday).code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(ValidateIdNumberTest, BirthDateIsCheckedAgainstTheGivenDay) {
  // Born on the given day is plausible, born the day after is not: "today" is the caller's clock.
  const std::string born_today = WithCheck("31010120261204123");
  EXPECT_TRUE(ValidateIdNumber(born_today, kToday).ok());
  EXPECT_FALSE(ValidateIdNumber(born_today, kToday - 1).ok());
  const std::string born_2030 = WithCheck("31010120300101123");
  EXPECT_FALSE(ValidateIdNumber(born_2030, kToday).ok());
  EXPECT_TRUE(ValidateIdNumber(born_2030, absl::CivilDay(2030, 1, 1)).ok());
}

TEST(ValidateIdNumberTest, RejectsImplausibleBirthDatesWithoutEchoingTheValue) {
  for (absl::string_view first17 :
       {"31010119451301123", "31010119450230123", "31010119490229123", "31010119450100123",
        "31010118991231123", "31010129990101123", "31010100000101123"}) {
    const std::string id = WithCheck(first17);
    absl::Status status = ValidateIdNumber(id, kToday);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << id;
    EXPECT_TRUE(absl::StrContains(status.message(), "birth date")) << status;
    EXPECT_FALSE(absl::StrContains(status.message(), id.substr(6, 8))) << status;
    EXPECT_FALSE(absl::StrContains(status.message(), id)) << status;
  }
}

TEST(PhoneTest, ValidatePhoneAcceptsTheDisplayForms) {
  for (absl::string_view ok : {"13812345678", "19912345678", "15000000000", "021-64181234",
                               "010-12345678", "0571-8123456", "0755-88889999"}) {
    EXPECT_TRUE(ValidatePhone(ok).ok()) << ok;
  }
  for (absl::string_view bad :
       {"", "12812345678", "1381234567", "138123456789", "1381234567a", "+8613812345678",
        "021 64181234", "21-64181234", "021-123456", "021-123456789", "02164181234",
        "00571-8123456", "021-6418-1234", "１３８１２３４５６７８"}) {
    absl::Status status = ValidatePhone(bad);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad;
    if (!bad.empty()) {
      EXPECT_FALSE(absl::StrContains(status.message(), bad)) << status;
    }
  }
}

TEST(PhoneTest, NormalizePhoneGivesDialedDigits) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"13812345678", "13812345678"},     {"138 1234 5678", "13812345678"},
      {"138-1234-5678", "13812345678"},   {"+86 138 1234 5678", "13812345678"},
      {"008613812345678", "13812345678"}, {" 13812345678\t", "13812345678"},
      {"021-64181234", "02164181234"},    {"021 6418 1234", "02164181234"},
      {"0571-8123456", "05718123456"},    {"+86 021-64181234", "02164181234"},
  };
  for (const auto& [input, expected] : cases) {
    absl::StatusOr<std::string> normalized = NormalizePhone(input);
    ASSERT_TRUE(normalized.ok()) << input << ": " << normalized.status();
    EXPECT_EQ(*normalized, expected) << input;
  }
  for (absl::string_view bad : {"", "12812345678", "1381234567", "abc", "021-123", "110",
                                "(021)64181234", "0212345678901234"}) {
    absl::StatusOr<std::string> normalized = NormalizePhone(bad);
    EXPECT_EQ(normalized.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  // Everything ValidatePhone accepts normalizes.
  for (absl::string_view ok : {"13812345678", "021-64181234", "0571-8123456"}) {
    EXPECT_TRUE(NormalizePhone(ok).ok()) << ok;
  }
}

}  // namespace
}  // namespace linli::pii
