// Command-line flags with environment overrides.
//
// Every Abseil flag `--some_flag` can also be set by the environment variable LINLI_SOME_FLAG.
// Precedence: command line > environment > default. A malformed environment value is an error
// at start-up, not a silent default.
//
//   int main(int argc, char** argv) {
//     std::vector<char*> args = linli::ParseFlags(argc, argv, "linli-registry: ...");
#ifndef LINLI_COMMON_FLAGS_H_
#define LINLI_COMMON_FLAGS_H_

#include <string>

#include <string_view>
#include <vector>
#include "absl/strings/string_view.h"

namespace linli {

// The environment variable that overrides `flag_name` ("listen" -> "LINLI_LISTEN").
std::string FlagEnvName(absl::string_view flag_name);

// Applies environment overrides, then parses the command line (exits with a message on bad
// flags, as absl::ParseCommandLine does). Returns the positional arguments (argv[0] first).
// Every service's main() and the `linli` CLI start here, so it also sets the process umask to
// 077: every file the process creates is 0600 and every directory 0700, whatever umask it was
// started with (tests/file_modes_test.cc).
std::vector<char*> ParseFlags(int argc, char** argv, absl::string_view usage);

}  // namespace linli

#endif  // LINLI_COMMON_FLAGS_H_
