// A private MariaDB server for the fault suites (tests/fault_test.cc, tests/kill_loop_test.cc)
// that kill their database: started with scripts/mariadb.sh (its own datadir, loopback, a free
// port, utf8mb4, innodb_flush_log_at_trx_commit=1), SIGKILLed and started again on the same port
// and datadir as often as a test likes, and stopped (datadir removed) at the end.
//
//   PrivateMariaDb db;
//   ASSERT_TRUE(db.Start().ok());
//   std::string url = db.Url("my_scheduling");   // mysql://linli:linli@127.0.0.1:PORT/...
//   ASSERT_TRUE(db.Kill());                       // SIGKILL, waits until the process is gone
//   ASSERT_TRUE(db.Restart().ok());               // same port, socket and datadir
#ifndef LINLI_TESTS_PRIVATE_MARIADB_H_
#define LINLI_TESTS_PRIVATE_MARIADB_H_

#include <sys/types.h>

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "tests/support/test_env.h"

namespace linli::testing {

// Whether `pid` is a live process (a zombie counts as dead).
bool Alive(pid_t pid);

class PrivateMariaDb {
 public:
  PrivateMariaDb() = default;
  PrivateMariaDb(const PrivateMariaDb&) = delete;
  PrivateMariaDb& operator=(const PrivateMariaDb&) = delete;
  ~PrivateMariaDb() { Stop(); }

  // Starts a new server with scripts/mariadb.sh.
  absl::Status Start();

  // A database URL on this server.
  std::string Url(const std::string& database) const;

  // SIGKILLs the server and waits until it is gone.
  bool Kill();

  // Starts mariadbd again on the same port, socket and datadir (the flags of scripts/mariadb.sh).
  absl::Status Restart();

  // Waits until the server answers a ping on its socket.
  bool WaitReady(absl::Duration timeout) const;

  // Stops the server and removes its directory.
  void Stop();

  const std::string& dir() const { return dir_; }

 private:
  pid_t ReadPid() const;

  std::string dir_;
  std::string port_;
  std::string url_;
  std::optional<ChildProcess> restarted_;
};

}  // namespace linli::testing

#endif  // LINLI_TESTS_PRIVATE_MARIADB_H_
