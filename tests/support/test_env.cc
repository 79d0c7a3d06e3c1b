#include "tests/support/test_env.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>

#include "absl/random/random.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

extern char** environ;

namespace linli::testing {
namespace {

std::string RandomSuffix() {
  thread_local absl::BitGen gen;
  return absl::StrFormat("%08x", absl::Uniform<uint32_t>(gen));
}

}  // namespace

std::vector<std::string> Backends() { return {"sqlite", "mysql"}; }

absl::StatusOr<std::string> FreshDatabaseUrl(const std::string& backend, const std::string& label) {
  if (backend == "sqlite") {
    return absl::StrCat("sqlite:", MakeTempDir(label), "/", label, ".db");
  }
  if (backend == "mysql") {
    const char* base = std::getenv("LINLI_TEST_MYSQL_URL");
    if (base == nullptr || *base == '\0') {
      return absl::FailedPreconditionError(
          "LINLI_TEST_MYSQL_URL is not set: run the tests with `make test`, which starts a "
          "private MariaDB (a MySQL test never skips)");
    }
    std::string url = base;
    size_t slash = url.rfind('/');
    if (slash == std::string::npos || slash < url.find("://") + 3) {
      return absl::InvalidArgumentError("LINLI_TEST_MYSQL_URL has no /DATABASE part: " + url);
    }
    std::string name = label;
    for (char& c : name) {
      if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    }
    return absl::StrCat(url.substr(0, slash + 1), "t_", name.substr(0, 40), "_", RandomSuffix());
  }
  return absl::InvalidArgumentError("unknown backend " + backend);
}

std::string MakeTempDir(const std::string& label) {
  std::string pattern = (std::filesystem::temp_directory_path() / ("linli-" + label + "-XXXXXX"));
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  const char* dir = mkdtemp(buffer.data());
  return dir == nullptr ? std::string("/tmp") : std::string(dir);
}

namespace {

// Binds `port` on loopback (0: any) and returns the port bound, 0 when it is taken.
int BindLoopback(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  int bound = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    socklen_t len = sizeof(addr);
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    bound = ntohs(addr.sin_port);
  }
  close(fd);
  return bound;
}

// The first port of the kernel's ephemeral range (the local ports of outgoing connections).
int EphemeralLow() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 0;
  return (in >> low) ? low : 32768;
}

}  // namespace

int FreePort() {
  // A random free port below the ephemeral range: a port the kernel picks for bind(0) comes from
  // that range, and so do the local ports of every connection the tests open (MariaDB clients,
  // gRPC channels), which can take it between this check and the server's own bind.
  constexpr int kLowest = 10000;
  const int high = EphemeralLow();
  if (high - kLowest >= 1000) {
    absl::BitGen random;
    for (int attempt = 0; attempt < 100; ++attempt) {
      const int port = absl::Uniform(random, kLowest, high);
      if (BindLoopback(port) == port) return port;
    }
  }
  return BindLoopback(0);
}

namespace {
std::function<std::vector<std::string>(const std::string&)>& ExtraFlagsProvider() {
  static auto* provider = new std::function<std::vector<std::string>(const std::string&)>();
  return *provider;
}
}  // namespace

void SetChildFlagsProvider(std::function<std::vector<std::string>(const std::string&)> provider) {
  ExtraFlagsProvider() = std::move(provider);
}

absl::StatusOr<ChildProcess> ChildProcess::Start(const std::string& binary,
                                                 const std::vector<std::string>& args,
                                                 const std::string& log_path) {
  std::vector<std::string> storage = {binary};
  storage.insert(storage.end(), args.begin(), args.end());
  const bool chose_identity = std::any_of(args.begin(), args.end(), [](const std::string& arg) {
    return absl::StartsWith(arg, "--internal_") || absl::StartsWith(arg, "--insecure_internal");
  });
  if (ExtraFlagsProvider() && !chose_identity) {
    const std::string base = binary.substr(binary.find_last_of('/') + 1);
    for (std::string& flag : ExtraFlagsProvider()(base)) storage.push_back(std::move(flag));
  }
  std::vector<char*> argv;
  for (std::string& s : storage) argv.push_back(s.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_path.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  // The child starts with default signal dispositions and an empty mask even if the test
  // process blocked signals.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t empty;
  sigemptyset(&empty);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, binary.c_str(), &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return absl::InternalError(absl::StrCat("posix_spawn ", binary, ": ", rc));
  return ChildProcess(pid);
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept : pid_(other.pid_) { other.pid_ = -1; }

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  std::swap(pid_, other.pid_);
  return *this;
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

bool ChildProcess::Signal(int signal) const { return pid_ > 0 && kill(pid_, signal) == 0; }

absl::StatusOr<int> ChildProcess::Wait(absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (pid_ > 0) {
    int status = 0;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      return status;
    }
    if (absl::Now() > deadline) return absl::DeadlineExceededError("child still running");
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::FailedPreconditionError("no child");
}

}  // namespace linli::testing
