// Masking, validation and normalization of personal data (PIPL). Responses show masked values by
// default, so a leaked response, log line or screenshot does not reveal an elder's full ID
// number, phone or address; only an explicitly authorized read decrypts the stored token.
//
//   MaskIdNumber("310101194501011234")   // "310***********1234"
//   MaskPhone("13812345678")             // "138****5678"
//   MaskPhone("021-64181234")            // "021-****1234"
//   MaskAddress("上海市黄浦区丽园小区12号楼302室(近鲁班路)")  // "上海市黄浦区****"
//   MaskAddress("浦东新区川沙新镇某某村5组12号", AddressLevel::kStreet)
//                                        // "浦东新区川沙新镇****"
//   MaskName("王秀英")                    // "王**"
//
//   RETURN_IF_ERROR(ValidateIdNumber(request.id_number(), today));
//   ASSIGN_OR_RETURN(std::string phone_key, NormalizePhone(request.phone()));
//   std::string phone_index = cipher.BlindIndex(phone_key);  // see field_cipher.h
//
// All functions are pure (no crypto, no I/O) and thread-safe. Masking works on UTF-8 characters,
// never bytes, so a multi-byte character is either kept whole or replaced by one '*'; bytes that
// are not valid UTF-8 count as one character each and, if kept, come out as U+FFFD so the result
// is always valid UTF-8 (protobuf string fields reject anything else). Masks never reveal more
// than half of a short value. Validation errors are INVALID_ARGUMENT and never echo the value,
// so they are safe to return to clients and to log.
#ifndef LINLI_COMMON_PII_MASKING_H_
#define LINLI_COMMON_PII_MASKING_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"

namespace linli::pii {

// 18-character ID: first 3 (province/city) and last 4, one '*' for each of the 11 in between.
// Any other length (15-digit legacy IDs, junk): only the last min(2, n/2) characters stay.
// Empty stays empty. Never reveals more than 7 characters.
std::string MaskIdNumber(absl::string_view id_number);

// Mobile (11 digits, 1[3-9]..., spaces/dashes/"+86" tolerated): "138****5678".
// Landline "0AA(A)-LLLLLLL(L)" (dash or space after the area code): area code kept, local number
// keeps its last 4 digits: "021-****1234", "0571-***3456".
// Anything else: only the last min(4, n/2) characters stay. Empty stays empty.
std::string MaskPhone(absl::string_view phone);

// How much of an address MaskAddress keeps: the administrative divisions down to this level.
enum class AddressLevel {
  kDistrict,  // province, city, district or county (区, 县, 旗, county-level 市): the default
  kStreet,    // and the street or town below it (街道, 镇, 乡, 苏木), for roles that need it
};

// Masks an address by its structure, not by its first road character. Keeps the leading
// administrative divisions — province (省, 自治区, or a 直辖市 such as 上海市, which is its own
// city), city (市, 自治州, 地区, 盟), district or county, and with AddressLevel::kStreet the street
// or town — and replaces everything after them (road, 弄, 号, 小区, building, room, landmarks in
// brackets) with one fixed "****", whatever its length:
//   "上海市黄浦区丽园路501弄12号302室"              -> "上海市黄浦区****"
//   "黄浦区丽园小区12号楼302室"                     -> "黄浦区****"   (no province)
//   "新疆维吾尔自治区乌鲁木齐市天山区…"              -> "新疆维吾尔自治区乌鲁木齐市天山区****"
//   "丽园路501弄12号302室", "12号楼302室", "Flat 3" -> "****"          (no division first)
// A division is a run of Han characters ending in its level's suffix, each right after a higher
// one (spaces between are allowed, levels may be skipped); names that only look like one
// (丽园小区, 阳光花园东区, 菜市, 古北新区) and invalid UTF-8 end the parse, so a misread errs
// towards showing less. The kept part is at most
// half of the address's characters (whole divisions are dropped from the end until it is), so a
// short value is never shown whole: "上海市黄浦区" -> "上海市****". English or other unstructured
// addresses keep nothing. Surrounding whitespace is dropped; empty stays empty.
std::string MaskAddress(absl::string_view address, AddressLevel keep = AddressLevel::kDistrict);

// Keeps the first character, one '*' per remaining character: "王秀英" -> "王**",
// "Alice" -> "A****". A one-character name becomes "*". Empty stays empty.
std::string MaskName(absl::string_view name);

// Resident identity card number (居民身份证号码, GB 11643-1999): exactly 18 characters, 17 digits
// then a digit or uppercase 'X' (run NormalizeIdNumber first to accept 'x' and spaces); positions
// 7-14 a real date YYYYMMDD between 1900-01-01 and `today` (the caller's clock, Shanghai date);
// last character the ISO 7064 MOD 11-2 check character.
absl::Status ValidateIdNumber(absl::string_view id_number, absl::CivilDay today);

// Trims ASCII whitespace and uppercases a trailing 'x': the canonical form to validate, encrypt
// and blind-index. Does not validate.
std::string NormalizeIdNumber(absl::string_view id_number);

// Accepts exactly the two display forms: mobile "1[3-9]" + 9 digits, or landline "0" + 2-3 digit
// area code, '-', 7-8 digit local number. Use NormalizePhone for lenient input handling.
absl::Status ValidatePhone(absl::string_view phone);

// Canonical form for the blind index and equality: the digits dialed within China. Drops spaces,
// tabs, dashes and a leading "+86"/"0086", then requires a mobile number (11 digits, 1[3-9]...)
// or a landline (0 + 9-11 digits, i.e. area code and local number). "138 1234 5678",
// "+86 13812345678" -> "13812345678"; "021-64181234" -> "02164181234".
absl::StatusOr<std::string> NormalizePhone(absl::string_view phone);

}  // namespace linli::pii

#endif  // LINLI_COMMON_PII_MASKING_H_
