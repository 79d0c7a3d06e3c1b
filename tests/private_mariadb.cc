#include "tests/private_mariadb.h"

#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace linli::testing {

bool Alive(pid_t pid) {
  std::ifstream stat(absl::StrCat("/proc/", pid, "/stat"));
  std::string line;
  if (!std::getline(stat, line)) return false;
  size_t close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() && line[close + 2] != 'Z';
}

absl::Status PrivateMariaDb::Start() {
  FILE* out = popen(LINLI_SOURCE_DIR "/scripts/mariadb.sh start", "r");
  if (out == nullptr) return absl::InternalError("popen failed");
  std::string text;
  char buffer[512];
  while (fgets(buffer, sizeof(buffer), out) != nullptr) text += buffer;
  if (pclose(out) != 0) return absl::UnavailableError("mariadb.sh start failed: " + text);
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    auto value = [&](const std::string& key) -> std::optional<std::string> {
      const std::string prefix = "export " + key + "='";
      if (line.rfind(prefix, 0) != 0) return std::nullopt;
      return line.substr(prefix.size(), line.size() - prefix.size() - 1);
    };
    if (auto v = value("LINLI_TEST_MYSQL_DIR")) dir_ = *v;
    if (auto v = value("LINLI_TEST_MYSQL_PORT")) port_ = *v;
    if (auto v = value("LINLI_TEST_MYSQL_URL")) url_ = *v;
  }
  if (dir_.empty() || port_.empty() || url_.empty()) {
    return absl::UnavailableError("mariadb.sh start printed no exports: " + text);
  }
  return absl::OkStatus();
}

std::string PrivateMariaDb::Url(const std::string& database) const {
  return url_.substr(0, url_.rfind('/') + 1) + database;
}

bool PrivateMariaDb::Kill() {
  pid_t pid = ReadPid();
  if (pid <= 0 || kill(pid, SIGKILL) != 0) return false;
  for (int i = 0; i < 200 && Alive(pid); ++i) absl::SleepFor(absl::Milliseconds(50));
  if (restarted_.has_value()) (void)restarted_->Wait(absl::Seconds(10));
  return !Alive(pid);
}

absl::Status PrivateMariaDb::Restart() {
  const passwd* user = getpwuid(getuid());
  const std::string binary =
      access("/usr/sbin/mariadbd", X_OK) == 0 ? "/usr/sbin/mariadbd" : "/usr/bin/mariadbd";
  auto child = ChildProcess::Start(
      binary,
      {"--no-defaults", std::string("--user=") + (user != nullptr ? user->pw_name : "root"),
       "--datadir=" + dir_ + "/data", "--socket=" + dir_ + "/sock", "--port=" + port_,
       "--bind-address=127.0.0.1", "--pid-file=" + dir_ + "/mariadbd.pid",
       "--tmpdir=" + dir_ + "/tmp", "--character-set-server=utf8mb4",
       "--collation-server=utf8mb4_unicode_ci", "--innodb-flush-log-at-trx-commit=1",
       "--max-connections=500", "--log-error=" + dir_ + "/error-restart.log"},
      dir_ + "/restart.out");
  if (!child.ok()) return child.status();
  restarted_.emplace(std::move(*child));
  return absl::OkStatus();
}

bool PrivateMariaDb::WaitReady(absl::Duration timeout) const {
  const std::string command = absl::StrCat("mariadb-admin --no-defaults --socket='", dir_,
                                           "/sock' -uroot ping >/dev/null 2>&1");
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (std::system(command.c_str()) == 0) return true;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return false;
}

void PrivateMariaDb::Stop() {
  if (dir_.empty()) return;
  std::string command = absl::StrCat(LINLI_SOURCE_DIR "/scripts/mariadb.sh stop '", dir_, "'");
  if (std::system(command.c_str()) != 0) std::fprintf(stderr, "mariadb.sh stop failed\n");
  if (restarted_.has_value()) (void)restarted_->Wait(absl::Seconds(10));
  restarted_.reset();
  dir_.clear();
}

pid_t PrivateMariaDb::ReadPid() const {
  std::ifstream in(dir_ + "/mariadbd.pid");
  pid_t pid = -1;
  in >> pid;
  return pid;
}

}  // namespace linli::testing
