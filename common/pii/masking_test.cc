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

// Characters of valid UTF-8 (bytes that do not continue a character).
size_t CountChars(absl::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
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

// Issue 18, finding 7: the mask kept everything up to the first road character, so a 小区 name,
// building and room (and whatever came before a landmark's 路) were shown.
TEST(MaskAddressTest, KeepsOnlyTheAdministrativeDivisionsNeverBuildingOrRoom) {
  EXPECT_EQ(MaskAddress("上海市黄浦区丽园小区12号楼302室(近鲁班路)"), "上海市黄浦区****");
  EXPECT_EQ(MaskAddress("上海市黄浦区丽园小区12号楼302室（近鲁班路）"), "上海市黄浦区****");
  EXPECT_EQ(MaskAddress("上海市黄浦区（近鲁班路）丽园路501弄12号302室"), "上海市黄浦区****");
  EXPECT_EQ(MaskAddress("上海市黄浦区丽园路501弄12号302室"), "上海市黄浦区****");
  EXPECT_EQ(MaskAddress("上海市黄浦区12号302室丽园路501弄"), "上海市黄浦区****");
  EXPECT_EQ(MaskAddress("上海市黄浦区瞿溪路1111弄5号301室"), "上海市黄浦区****");
  EXPECT_EQ(MaskAddress("上海市徐汇区漕溪北路398号5号楼301室"), "上海市徐汇区****");
  EXPECT_EQ(MaskAddress("上海市长宁区愚园路1088弄3号"), "上海市长宁区****");
  EXPECT_EQ(MaskAddress("上海市黄浦区局门路 100 弄 3 号 502 室"), "上海市黄浦区****");
  EXPECT_EQ(MaskAddress("上海市 黄浦区 丽园路501弄"), "上海市 黄浦区****");
  EXPECT_EQ(MaskAddress("北京市东城区王府井大街1号"), "北京市东城区****");
  EXPECT_EQ(MaskAddress("北京市朝阳区望京SOHO塔3-1201"), "北京市朝阳区****");
}

TEST(MaskAddressTest, TheRestIsOneFixedMaskWhateverItsLength) {
  EXPECT_EQ(MaskAddress("上海市黄浦区丽园路501弄12号302室"),
            MaskAddress("上海市黄浦区丽园路1弄1号"));
  EXPECT_EQ(MaskAddress("上海市黄浦区丽园路501弄12号302室"),
            MaskAddress("上海市黄浦区五里桥街道丽园路501弄12号楼3单元302室(近鲁班路地铁站)"));
}

// 上海市 is a 直辖市: province and city at once, the district comes next. Without it the
// address starts at the district.
TEST(MaskAddressTest, MunicipalityAndAddressesWithoutProvince) {
  EXPECT_EQ(MaskAddress("黄浦区丽园路501弄12号302室"), "黄浦区****");
  EXPECT_EQ(MaskAddress("黄浦区丽园小区12号楼302室"), "黄浦区****");
  EXPECT_EQ(MaskAddress("浦东新区川沙新镇某某村5组12号"), "浦东新区****");
  EXPECT_EQ(MaskAddress("上海浦东新区川沙新镇某某村5组12号"), "上海浦东新区****");
  EXPECT_EQ(MaskAddress("黄浦区菜市路12号302室"), "黄浦区****");  // 菜市 is not a city
  EXPECT_EQ(MaskAddress("重庆市渝中区解放碑民族路12号5楼"), "重庆市渝中区****");
}

TEST(MaskAddressTest, WithoutADivisionFirstNothingIsKept) {
  EXPECT_EQ(MaskAddress("丽园路501弄12号302室"), "****");
  EXPECT_EQ(MaskAddress("12号楼302室"), "****");
  EXPECT_EQ(MaskAddress("302室12号丽园路501弄"), "****");
  EXPECT_EQ(MaskAddress("丽园小区12号楼302室"), "****");
  EXPECT_EQ(MaskAddress("阳光花园东区12号楼302室"), "****");
  EXPECT_EQ(MaskAddress("康城一区5号"), "****");
  EXPECT_EQ(MaskAddress("古北新区荣华东道100弄"), "****");
  EXPECT_EQ(MaskAddress("丽园超市楼上302室"), "****");
  EXPECT_EQ(MaskAddress("阳光城市花园12号楼302室"), "****");
  EXPECT_EQ(MaskAddress("泰晤士小镇12号"), "****");
  EXPECT_EQ(MaskAddress("(近鲁班路)丽园路501弄"), "****");
  EXPECT_EQ(MaskAddress("上海路12号"), "****");  // a road named after a province
  EXPECT_EQ(MaskAddress("西藏中路12号"), "****");
  EXPECT_EQ(MaskAddress("镇坪路12号"), "****");  // 镇 is not a town without a name before it
  EXPECT_EQ(MaskAddress("幸福小区"), "****");
  EXPECT_EQ(MaskAddress("丽园路"), "****");
  EXPECT_EQ(MaskAddress("Flat 3, 12 High Street"), "****");
  EXPECT_EQ(MaskAddress("Room 302, No. 12, Lane 501, Liyuan Road, Huangpu District, Shanghai"),
            "****");
  EXPECT_EQ(MaskAddress("a"), "****");
  EXPECT_EQ(MaskAddress(""), "");
  EXPECT_EQ(MaskAddress("   "), "");
}

// A compound's name after the district is not a division: nothing after the district is kept.
TEST(MaskAddressTest, CompoundsRoadsAndVillagesAfterTheDistrictAreMasked) {
  EXPECT_EQ(MaskAddress("上海市丽园小区12号楼302室"), "上海市****");
  EXPECT_EQ(MaskAddress("上海市黄浦区丽园小区东区12号楼"), "上海市黄浦区****");
  EXPECT_EQ(MaskAddress("上海市黄浦区南京东弄12号"), "上海市黄浦区****");
  EXPECT_EQ(MaskAddress("浙江省杭州市余杭区良渚镇安溪村123号"), "浙江省杭州市余杭区****");
}

// With AddressLevel::kStreet the street (街道) or town (镇, 乡) is kept too, never a village.
TEST(MaskAddressTest, StreetLevelKeepsTheStreetOrTown) {
  EXPECT_EQ(MaskAddress("浦东新区川沙新镇某某村5组12号", AddressLevel::kStreet),
            "浦东新区川沙新镇****");
  EXPECT_EQ(MaskAddress("上海市浦东新区川沙新镇某某村5组12号302室", AddressLevel::kStreet),
            "上海市浦东新区川沙新镇****");
  EXPECT_EQ(MaskAddress("上海市黄浦区五里桥街道丽园路501弄12号302室", AddressLevel::kStreet),
            "上海市黄浦区五里桥街道****");
  EXPECT_EQ(MaskAddress("上海市黄浦区五里桥街道丽园路501弄12号302室"), "上海市黄浦区****");
  EXPECT_EQ(MaskAddress("上海市普陀区镇坪路街道镇坪路100弄5号302室", AddressLevel::kStreet),
            "上海市普陀区镇坪路街道****");
  EXPECT_EQ(MaskAddress("上海市普陀区镇坪路100弄5号", AddressLevel::kStreet), "上海市普陀区****");
  EXPECT_EQ(MaskAddress("上海市黄浦区丽园路501弄12号302室", AddressLevel::kStreet),
            "上海市黄浦区****");  // no street in the address: the district
  EXPECT_EQ(MaskAddress("上海市松江区泰晤士小镇12号楼", AddressLevel::kStreet), "上海市松江区****");
  EXPECT_EQ(MaskAddress("川沙新镇某某村5组12号3室", AddressLevel::kStreet), "川沙新镇****");
  EXPECT_EQ(MaskAddress("川沙新镇某某村5组12号3室"), "****");  // no district above it
  EXPECT_EQ(MaskAddress("浙江省杭州市余杭区良渚镇安溪村123号5幢302室", AddressLevel::kStreet),
            "浙江省杭州市余杭区良渚镇****");
}

TEST(MaskAddressTest, ProvincesPrefecturesAndAutonomousDivisionsElsewhere) {
  EXPECT_EQ(MaskAddress("新疆维吾尔自治区乌鲁木齐市天山区解放南路街道幸福社区12号楼3单元302室"),
            "新疆维吾尔自治区乌鲁木齐市天山区****");
  EXPECT_EQ(MaskAddress("新疆乌鲁木齐市天山区解放南路12号3单元302室"), "新疆乌鲁木齐市天山区****");
  EXPECT_EQ(MaskAddress("四川省凉山彝族自治州昭觉县新城镇解放路12号3单元302室"),
            "四川省凉山彝族自治州昭觉县****");
  EXPECT_EQ(MaskAddress("吉林省延边朝鲜族自治州延吉市河南街道光明社区12号楼302室"),
            "吉林省延边朝鲜族自治州延吉市****");
  EXPECT_EQ(MaskAddress("内蒙古自治区锡林郭勒盟正蓝旗上都镇某某嘎查3组12号院3室"),
            "内蒙古自治区锡林郭勒盟正蓝旗****");
  EXPECT_EQ(MaskAddress("内蒙古自治区锡林郭勒盟正蓝旗上都镇某某嘎查3组12号院302室(近供销社)",
                        AddressLevel::kStreet),
            "内蒙古自治区锡林郭勒盟正蓝旗上都镇****");
  EXPECT_EQ(MaskAddress("新疆维吾尔自治区阿克苏地区阿克苏市英巴扎街道幸福社区12号楼3单元302室"),
            "新疆维吾尔自治区阿克苏地区阿克苏市****");
  EXPECT_EQ(MaskAddress("河南省新乡市红旗区人民路12号院3号楼302室"), "河南省新乡市红旗区****");
  EXPECT_EQ(MaskAddress("江苏苏州市昆山市玉山镇人民路12号3室"), "江苏苏州市昆山市****");
  EXPECT_EQ(MaskAddress("广东省广州市天河区天河北道88号3栋1201房"), "广东省广州市天河区****");
  EXPECT_EQ(MaskAddress("杭州市西湖区文三路12号3幢302室"), "杭州市西湖区****");
  EXPECT_EQ(MaskAddress("吉林市船营区解放路12号3单元302室"), "吉林市船营区****");
}

// A short value is never shown whole or nearly so: whole divisions are dropped from the end until
// at most half of the characters are kept.
TEST(MaskAddressTest, NeverKeepsMoreThanHalf) {
  EXPECT_EQ(MaskAddress("上海市黄浦区"), "上海市****");
  EXPECT_EQ(MaskAddress("黄浦区"), "****");
  EXPECT_EQ(MaskAddress("黄浦区1号"), "****");
  EXPECT_EQ(MaskAddress("黄浦区12号"), "黄浦区****");  // exactly half
  EXPECT_EQ(MaskAddress("黄浦区丽园路"), "黄浦区****");
  EXPECT_EQ(MaskAddress("河北省保定市涞水县张家村5组"), "河北省保定市****");
  EXPECT_EQ(MaskAddress("  成都市武侯区玉林街道 ", AddressLevel::kStreet), "成都市****");
  EXPECT_EQ(MaskAddress("新疆维吾尔自治区乌鲁木齐市天山区解放南路12号"), "新疆维吾尔自治区****");
  const std::vector<std::string> inputs = {
      "上海市黄浦区",       "上海市黄浦区五里桥街道", "浦东新区川沙新镇",  "上海市丽园路",
      "上海市黄浦区丽园路", "新疆维吾尔自治区",       "黄浦区五里桥街道1",
  };
  for (const std::string& input : inputs) {
    for (AddressLevel level : {AddressLevel::kDistrict, AddressLevel::kStreet}) {
      const std::string masked = MaskAddress(input, level);
      ASSERT_TRUE(absl::EndsWith(masked, "****")) << masked;
      EXPECT_LE(CountChars(masked) - 4, CountChars(input) / 2) << input << " -> " << masked;
    }
  }
  // Every prefix and every suffix (cut at any byte) of a long address: valid UTF-8, at most half
  // kept, and never a digit, bracket or anything after the divisions.
  const std::string address = "上海市黄浦区五里桥街道丽园小区12号楼302室（近鲁班路）";
  for (size_t n = 0; n <= address.size(); ++n) {
    for (const std::string& input : {address.substr(0, n), address.substr(n)}) {
      for (AddressLevel level : {AddressLevel::kDistrict, AddressLevel::kStreet}) {
        const std::string masked = MaskAddress(input, level);
        ASSERT_TRUE(IsValidUtf8(masked)) << n;
        if (masked.empty()) continue;
        const std::string kept = masked.substr(0, masked.size() - 4);
        if (IsValidUtf8(input)) {  // (an invalid byte counts as a character, see masking.h)
          EXPECT_LE(CountChars(kept), CountChars(input) / 2) << input << " -> " << masked;
        }
        EXPECT_TRUE(absl::StartsWith(input, kept)) << input << " -> " << masked;
        EXPECT_EQ(kept.find_first_of("0123456789(*"), std::string::npos) << masked;
        EXPECT_EQ(kept.find("丽"), std::string::npos) << masked;
        EXPECT_EQ(kept.find("（"), std::string::npos) << masked;
      }
    }
  }
}

TEST(MaskAddressTest, NeverCutsInsideACharacterAndRepairsInvalidBytes) {
  const std::vector<std::string> inputs = {
      "上海市徐汇区漕溪北路398号",
      "新疆维吾尔自治区乌鲁木齐市天山区",
      "𠀀𠀁𠀂𠀃𠀄𠀅𠀆𠀇路9号",
      "上海\xe5\xbe市徐汇区漕溪北路",  // truncated 3-byte sequence
      "上海市徐汇区\xe5\xbe漕溪北路398号",
      "\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8",
  };
  for (const std::string& input : inputs) {
    const std::string masked = MaskAddress(input);
    EXPECT_TRUE(IsValidUtf8(masked)) << input;
    EXPECT_TRUE(absl::EndsWith(masked, "****")) << masked;
  }
  EXPECT_EQ(MaskAddress("𠀀𠀁𠀂区𠀃𠀄𠀅𠀆𠀇路9号"),
            "𠀀𠀁𠀂区****");  // a district named outside the BMP
  EXPECT_EQ(MaskAddress("𠀀𠀁𠀂𠀃𠀄𠀅𠀆𠀇路9号"), "****");
  // An invalid byte ends the divisions: nothing at or after it is kept.
  EXPECT_EQ(MaskAddress("上海\xe5\xbe市徐汇区漕溪北路"), "****");
  EXPECT_EQ(MaskAddress("上海市\xff徐汇区漕溪北路398号"), "上海市****");
  EXPECT_EQ(MaskAddress("上海市徐汇区\xe5\xbe漕溪北路398号"), "上海市徐汇区****");
  EXPECT_EQ(MaskAddress("\xff\xfe上海市徐汇区漕溪北路398号"), "****");
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
