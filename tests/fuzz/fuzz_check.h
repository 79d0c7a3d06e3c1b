// What every fuzz body (fuzz_bodies.cc, service_bodies.cc) reports a broken invariant with.
#ifndef LINLI_TESTS_FUZZ_FUZZ_CHECK_H_
#define LINLI_TESTS_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/stubs/logging.h"

// Aborts with "fuzz invariant broken" when `condition` is false; `message` (a std::string,
// evaluated only on failure) says what broke and on which input.
#define LINLI_FUZZ_CHECK(condition, message)                                        \
  do {                                                                              \
    if (!(condition)) ::linli::fuzz::Fail(__FILE__, __LINE__, #condition, message); \
  } while (0)

namespace linli::fuzz {

[[noreturn]] inline void Fail(const char* file, int line, const char* condition,
                              const std::string& message) {
  std::fprintf(stderr, "fuzz invariant broken at %s:%d: %s\n  %s\n", file, line, condition,
               message.c_str());
  std::fflush(stderr);
  std::abort();
}

// The input, C-escaped and cut to a readable length, for failure messages.
inline std::string Show(absl::string_view input) {
  constexpr size_t kMaxShown = 300;
  std::string shown = absl::CHexEscape(input.substr(0, kMaxShown));
  if (input.size() > kMaxShown) absl::StrAppend(&shown, "... (", input.size(), " bytes)");
  return absl::StrCat("\"", shown, "\"");
}

// libprotobuf logs every rejected string that is not UTF-8; at fuzzing rates that is noise.
inline void IgnoreProtobufLog(google::protobuf::LogLevel, const char*, int, const std::string&) {}

}  // namespace linli::fuzz

#endif  // LINLI_TESTS_FUZZ_FUZZ_CHECK_H_
