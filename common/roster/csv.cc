#include "common/roster/csv.h"

#include <errno.h>
#include <iconv.h>

#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/errors.h"

namespace linli::roster {
namespace {

constexpr absl::string_view kUtf8Bom = "\xEF\xBB\xBF";

bool ValidUtf8(absl::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    int extra;
    unsigned int min;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      extra = 1;
      min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
      min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3;
      min = 0x10000;
    } else {
      return false;
    }
    if (i + extra >= s.size()) return false;  // cut off at the end
    unsigned int code = c & (0x3F >> extra);
    for (int k = 1; k <= extra; ++k) {
      const unsigned char next = static_cast<unsigned char>(s[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      code = (code << 6) | (next & 0x3F);
    }
    if (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return false;
    i += extra + 1;
  }
  return true;
}

absl::StatusOr<std::string> FromGb18030(absl::string_view bytes) {
  iconv_t cd = iconv_open("UTF-8", "GB18030");
  if (cd == reinterpret_cast<iconv_t>(-1)) {
    return absl::InternalError("this system's iconv cannot convert GB18030");
  }
  std::unique_ptr<void, int (*)(iconv_t)> closer(cd, iconv_close);
  std::string in(bytes);
  std::string out(in.size() * 2 + 16, '\0');
  char* in_ptr = in.data();
  size_t in_left = in.size();
  char* out_ptr = out.data();
  size_t out_left = out.size();
  while (in_left > 0) {
    if (iconv(cd, &in_ptr, &in_left, &out_ptr, &out_left) != static_cast<size_t>(-1)) continue;
    if (errno == E2BIG) {
      const size_t used = out.size() - out_left;
      out.resize(out.size() * 2);
      out_ptr = out.data() + used;
      out_left = out.size() - used;
      continue;
    }
    return InvalidField("csv", absl::StrCat("is neither UTF-8 nor GB18030 (byte ",
                                            in.size() - in_left + 1, " cannot be read)"));
  }
  out.resize(out.size() - out_left);
  return out;
}

}  // namespace

const char* EncodingName(Encoding encoding) {
  switch (encoding) {
    case Encoding::kUtf8:
      return "UTF-8";
    case Encoding::kUtf8WithBom:
      return "UTF-8 with BOM";
    case Encoding::kGb18030:
      return "GB18030";
  }
  return "UTF-8";
}

absl::StatusOr<std::string> DecodeText(absl::string_view bytes, Encoding* encoding) {
  if (absl::StartsWith(bytes, kUtf8Bom)) {
    bytes.remove_prefix(kUtf8Bom.size());
    if (!ValidUtf8(bytes)) {
      return InvalidField("csv", "starts with a UTF-8 BOM but is not UTF-8");
    }
    *encoding = Encoding::kUtf8WithBom;
    return std::string(bytes);
  }
  if (ValidUtf8(bytes)) {
    *encoding = Encoding::kUtf8;
    return std::string(bytes);
  }
  *encoding = Encoding::kGb18030;
  return FromGb18030(bytes);
}

absl::StatusOr<std::vector<CsvRecord>> ParseCsv(absl::string_view text) {
  std::vector<CsvRecord> records;
  size_t i = 0;
  int line = 1;
  while (i < text.size()) {
    // Blank lines between records are skipped.
    if (text[i] == '\n' || text[i] == '\r') {
      if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      ++i;
      ++line;
      continue;
    }
    CsvRecord record;
    record.line = line;
    record.begin = i;
    std::string field;
    bool done = false;
    while (!done) {
      field.clear();
      if (i < text.size() && text[i] == '"') {
        const int opened = line;
        ++i;
        for (;;) {
          if (i >= text.size()) {
            return InvalidField("csv",
                                absl::StrCat("line ", opened, ": a quoted field is never closed"));
          }
          if (text[i] == '"') {
            if (i + 1 < text.size() && text[i + 1] == '"') {
              field += '"';
              i += 2;
              continue;
            }
            ++i;
            break;
          }
          if (text[i] == '\n') ++line;
          field += text[i++];
        }
        if (i < text.size() && text[i] != ',' && text[i] != '\n' && text[i] != '\r') {
          return InvalidField(
              "csv", absl::StrCat("line ", line, ": text after a quoted field's closing quote"));
        }
      } else {
        while (i < text.size() && text[i] != ',' && text[i] != '\n' && text[i] != '\r') {
          if (text[i] == '"') {
            return InvalidField(
                "csv", absl::StrCat("line ", line,
                                    ": a quote inside a field that does not start with one"));
          }
          field += text[i++];
        }
      }
      record.fields.push_back(field);
      if (i < text.size() && text[i] == ',') {
        ++i;
      } else {
        done = true;
      }
    }
    record.end = i;
    records.push_back(std::move(record));
    if (i < text.size()) {
      if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      ++i;
      ++line;
    }
  }
  return records;
}

std::string CsvField(absl::string_view value) {
  if (value.find_first_of(",\"\r\n") == absl::string_view::npos) return std::string(value);
  std::string out = "\"";
  for (char c : value) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

}  // namespace linli::roster
