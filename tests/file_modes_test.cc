// What the binaries create is theirs alone (issue 18, finding 10): the SQLite databases, the -wal
// and -shm files beside them (SQLite gives those the database's mode), and any file the `linli`
// CLI writes are 0600, any directory 0700, even when a binary is started under a permissive
// umask. They set umask 077 in linli::ParseFlags, the start-up every service and the CLI go
// through. Here the four real binaries start under umask 022 with their SQLite files in a fresh
// directory; after the migrations, a few writes and a CLI command writing a file, every file in
// that directory is checked while the services run and again after they stop.
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/auth/jwt.h"
#include "common/client.h"
#include "common/pii/field_cipher.h"
#include "gtest/gtest.h"
#include "linli/registry/v1/registry.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "tests/support/backends.h"
#include "tests/support/platform_pki.h"
#include "tests/support/test_env.h"

namespace linli {
namespace {

namespace fs = std::filesystem;

// Every file or directory under `dir` (not `dir` itself) whose permission bits are not 0600 for a
// file or 0700 for a directory, as "path mode". Also lists what it found, for the failure message.
std::vector<std::string> LooseModes(const std::string& dir, std::vector<std::string>* found) {
  std::vector<std::string> loose;
  std::error_code error;
  for (const fs::directory_entry& entry : fs::recursive_directory_iterator(dir, error)) {
    struct stat st;
    // A -shm or -wal file can vanish between listing and stat when SQLite closes the database.
    if (lstat(entry.path().c_str(), &st) != 0) continue;
    const mode_t mode = st.st_mode & 07777;
    const std::string line = absl::StrFormat("%s %04o", entry.path().string(), mode);
    found->push_back(line);
    const mode_t want = S_ISDIR(st.st_mode) ? 0700 : 0600;
    if (mode != want) loose.push_back(line);
  }
  if (error) loose.push_back(absl::StrCat(dir, ": ", error.message()));
  return loose;
}

class FileModesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The usual login umask: the binaries inherit it, and must not rely on the test's own.
    previous_umask_ = umask(022);
    dir_ = testing::MakeTempDir("file_modes");
    data_ = dir_ + "/data";  // only what the binaries create goes here
    ASSERT_EQ(mkdir(data_.c_str(), 0755), 0);
    key_file_ = dir_ + "/pii.key";
    std::ofstream(key_file_) << pii::FieldCipher::GenerateKeySpec("k1") << "\n";
    jwt_keys_ = dir_ + "/jwt-keys.json";
    token_ = testing::WriteDevKeysAndAdminToken(jwt_keys_, "ops/file-modes");
  }

  void TearDown() override { umask(previous_umask_); }

  static std::string Address() { return absl::StrCat("127.0.0.1:", testing::FreePort()); }

  // Starts build/bin/linli-`name` with `args`; its log goes to dir_ (not data_).
  void Start(const std::string& name, const std::string& address, const std::string& api,
             std::vector<std::string> args) {
    args.insert(args.begin(), {"--listen=" + address, "--shutdown_deadline=5s"});
    auto child = testing::ChildProcess::Start(absl::StrCat(LINLI_BIN_DIR, "/linli-", name), args,
                                              absl::StrCat(dir_, "/", name, ".log"));
    ASSERT_TRUE(child.ok()) << child.status();
    children_.push_back(std::move(*child));
    ASSERT_TRUE(testing::WaitServing(address, api, absl::Seconds(30)))
        << name << " never became SERVING; see " << dir_;
  }

  mode_t previous_umask_ = 0;
  std::string dir_, data_, key_file_, jwt_keys_, token_;
  std::vector<testing::ChildProcess> children_;
};

TEST_F(FileModesTest, DatabasesTheirWalAndCliOutputAreOwnerOnlyUnderAPermissiveUmask) {
  const std::string registry = Address(), scheduling = Address(), feedback = Address(),
                    gateway = Address();
  ASSERT_NO_FATAL_FAILURE(
      Start("registry", registry, "linli.registry.v1.RegistryService",
            {"--db=sqlite:" + data_ + "/registry.db", "--pii_key_file=" + key_file_}));
  ASSERT_NO_FATAL_FAILURE(Start("scheduling", scheduling, "linli.scheduling.v1.SchedulingService",
                                {"--db=sqlite:" + data_ + "/scheduling.db",
                                 "--pii_key_file=" + key_file_, "--registry_address=" + registry}));
  ASSERT_NO_FATAL_FAILURE(
      Start("feedback", feedback, "linli.feedback.v1.FeedbackService",
            {"--db=sqlite:" + data_ + "/feedback.db", "--registry_address=" + registry,
             "--scheduling_address=" + scheduling, "--pii_key_file=" + key_file_}));
  ASSERT_NO_FATAL_FAILURE(
      Start("gateway", gateway, "linli.gateway.v1.ConsoleService",
            {absl::StrCat("--http_listen=127.0.0.1:", testing::FreePort()),
             "--registry_address=" + registry, "--scheduling_address=" + scheduling,
             "--feedback_address=" + feedback, "--jwt_keys_file=" + jwt_keys_}));

  // Writes beyond the migrations: a street, an organisation, a service type and two elders.
  auto stub = registry::v1::RegistryService::NewStub(
      testing::PlatformPki::Shared().Channel(registry, "linli-registry"));
  ASSERT_TRUE(testing::SeedVisitingStreet(*stub).ok());
  ASSERT_TRUE(testing::SeedElders(*stub, 2, "file-modes").ok());

  // The CLI writes a file: the street's map through the gateway.
  const std::string map_file = data_ + "/map.json";
  ASSERT_EQ(setenv("LINLI_TOKEN", token_.c_str(), 1), 0);
  auto cli =
      testing::ChildProcess::Start(absl::StrCat(LINLI_BIN_DIR, "/linli"),
                                   {"--gateway=" + gateway, "--format=json", "--out=" + map_file,
                                    "--region=regions/310101020", "map"},
                                   dir_ + "/cli.log");
  unsetenv("LINLI_TOKEN");
  ASSERT_TRUE(cli.ok()) << cli.status();
  absl::StatusOr<int> cli_status = cli->Wait(absl::Seconds(30));
  ASSERT_TRUE(cli_status.ok()) << "linli map did not finish; see " << dir_ << "/cli.log";
  ASSERT_TRUE(WIFEXITED(*cli_status) && WEXITSTATUS(*cli_status) == 0)
      << "linli map failed; see " << dir_ << "/cli.log";

  // While the services run: the databases and their WAL exist (so the check is not vacuous)...
  for (const char* file : {"registry.db", "registry.db-wal", "scheduling.db", "scheduling.db-wal",
                           "feedback.db", "feedback.db-wal", "map.json"}) {
    EXPECT_TRUE(fs::exists(data_ + "/" + file)) << file;
  }
  // ...and every file is 0600.
  std::vector<std::string> found;
  std::vector<std::string> loose = LooseModes(data_, &found);
  EXPECT_TRUE(loose.empty()) << "readable by others: " << absl::StrJoin(loose, ", ")
                             << "\nall: " << absl::StrJoin(found, ", ");

  // After a clean stop (SQLite checkpoints and removes the -wal and -shm) the same holds.
  for (testing::ChildProcess& child : children_) ASSERT_TRUE(child.Signal(SIGTERM));
  for (testing::ChildProcess& child : children_) {
    absl::StatusOr<int> status = child.Wait(absl::Seconds(15));
    ASSERT_TRUE(status.ok()) << "a service did not stop; see " << dir_;
  }
  found.clear();
  loose = LooseModes(data_, &found);
  EXPECT_TRUE(loose.empty()) << "readable by others after stop: " << absl::StrJoin(loose, ", ");
  EXPECT_FALSE(found.empty());
}

}  // namespace
}  // namespace linli
