#include "common/flags.h"
#include "absl/strings/string_view.h"

#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace linli {

std::string FlagEnvName(absl::string_view flag_name) {
  return absl::StrCat("LINLI_", absl::AsciiStrToUpper(flag_name));
}

std::vector<char*> ParseFlags(int argc, char** argv, absl::string_view usage) {
  // Before anything is created: databases (and SQLite's -wal and -shm, which take the database's
  // mode), logs and the CLI's output hold personal data. 0600 files, 0700 directories.
  umask(077);
  absl::SetProgramUsageMessage(usage);
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    std::string env_name = FlagEnvName(name);
    const char* value = std::getenv(env_name.c_str());
    if (value == nullptr) continue;
    std::string error;
    if (!flag->ParseFrom(value, &error)) {
      std::fprintf(stderr, "invalid value for environment variable %s: %s\n", env_name.c_str(),
                   error.c_str());
      std::exit(2);
    }
  }
  return absl::ParseCommandLine(argc, argv);
}

}  // namespace linli
