// What tests need from their environment: fresh databases on every backend, free ports, temp
// directories, and child processes.
//
// MySQL tests read LINLI_TEST_MYSQL_URL (set by `make test`, which starts a private MariaDB). When
// it is missing they FAIL: a MySQL test that silently skips would make a red build look green.
#ifndef LINLI_TESTS_SUPPORT_TEST_ENV_H_
#define LINLI_TESTS_SUPPORT_TEST_ENV_H_

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace linli::testing {

// The storage backends every storage-backed suite is instantiated for.
std::vector<std::string> Backends();

// URL of a new, empty database on `backend` ("sqlite" or "mysql"). `label` makes names readable.
absl::StatusOr<std::string> FreshDatabaseUrl(const std::string& backend, const std::string& label);

// A new temporary directory (removed by the OS's tmp cleaning; tests write little).
std::string MakeTempDir(const std::string& label);

// A TCP port on 127.0.0.1 that was free a moment ago.
int FreePort();

// Flags every child process gets unless its arguments already name an --internal_* identity or
// --insecure_internal: `provider` maps the binary's file name ("linli-registry", "linli") to
// them. tests/support/platform_pki.cc installs one, so each service binary and CLI a test starts
// carries its platform identity without every test spelling it out.
void SetChildFlagsProvider(std::function<std::vector<std::string>(const std::string&)> provider);

// A child process started with posix_spawn; stderr and stdout go to `log_path`.
class ChildProcess {
 public:
  static absl::StatusOr<ChildProcess> Start(const std::string& binary,
                                            const std::vector<std::string>& args,
                                            const std::string& log_path);
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ~ChildProcess();  // SIGKILLs and reaps a child still running

  pid_t pid() const { return pid_; }
  bool Signal(int signal) const;
  // Waits up to `timeout` for the child to exit; its wait status, or DEADLINE_EXCEEDED.
  absl::StatusOr<int> Wait(absl::Duration timeout);

 private:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  pid_t pid_ = -1;
};

}  // namespace linli::testing

#endif  // LINLI_TESTS_SUPPORT_TEST_ENV_H_
