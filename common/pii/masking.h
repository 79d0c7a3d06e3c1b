// Masking, validation and normalization of personal data (PIPL). Responses show masked values by
// default, so a leaked response, log line or screenshot does not reveal an elder's full ID
// number, phone or address; only an explicitly authorized read decrypts the stored token.
//
//   MaskIdNumber("310101194501011234")   // "310***********1234"
//   MaskPhone("13812345678")             // "138****5678"
//   MaskPhone("021-64181234")            // "021-****1234"
//   MaskAddress("上海市徐汇区漕溪北路398号")  // "上海市徐汇区漕溪北路****"
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

// Keeps the administrative prefix up to and including the first 路, 街, 弄, 村, 镇 or 道
// (whichever comes first) and replaces the rest (house number, building, room) with "****".
// Without any of those, keeps the first min(6, n/2) characters + "****" so a short address is
// never shown whole. Surrounding whitespace is dropped; empty stays empty.
std::string MaskAddress(absl::string_view address);

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
